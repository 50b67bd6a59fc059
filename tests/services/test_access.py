"""Who may open which case: allocation, break-glass, and the case list for each role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.errors import InvalidInput, PermissionDenied
from app.models.records import (
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    Direction,
    LawfulBasis,
    NoteKind,
    RecipientCategory,
    ShareRecord,
)
from app.services import access, audit, cases, consent, notes, search, sharing
from app.services.session import Session
from tests.helpers import ADMIN, CASEWORKER, CASEWORKER2, DPO, MANAGER, StoreCopy
from tests.services.casework import (
    TODAY,
    audit_head,
    audit_since,
    new_referral,
    person,
    signed_in,
)

REASON = "Client rang the duty line in crisis and her worker is on leave"


@dataclass(frozen=True)
class Pair:
    """A case allocated to CASEWORKER, and one allocated to CASEWORKER2."""

    mine: int
    theirs: int
    their_client: int
    their_reference: str
    their_note: int


def _hour_ago() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)


@pytest.fixture
def pair(store: StoreCopy) -> Pair:
    with signed_in(store, CASEWORKER) as s:
        mine = new_referral(s, person("Jo", "Thornbury", phones=("07700 900123",)))
    with signed_in(store, CASEWORKER2) as s:
        theirs = new_referral(
            s, person("Sam", "Redfern", phones=("07700 900999",), postcode="LS6 3AB")
        )
        view = cases.open_case(s, theirs)
        note = notes.add_note(
            s, theirs, NoteKind.VISIT, "Talked about the refuge in Harrogate", _hour_ago()
        )
        client = view.contact.client_id
        assert client is not None
    return Pair(mine, theirs, client, view.case.reference, note)


def _share(p: Pair) -> ShareRecord:
    return ShareRecord(
        case_id=p.theirs,
        direction=Direction.IN,
        shared_at=_hour_ago().isoformat(),
        organisation="Hillside Surgery",
        recipient_category=RecipientCategory.GP,
        person_ids=(p.their_client,),
        data_categories=("health",),
        purpose="Referral background",
        method="secure email",
        lawful_basis=LawfulBasis.PUBLIC_TASK,
    )


REFUSED: dict[str, Callable[[Session, Pair], Any]] = {
    "open_case": lambda s, p: cases.open_case(s, p.theirs),
    "contact_rules": lambda s, p: cases.contact_rules(s, p.theirs),
    "get_person": lambda s, p: cases.get_person(s, p.their_client),
    "timeline": lambda s, p: notes.timeline(s, p.theirs),
    "add_note": lambda s, p: notes.add_note(
        s, p.theirs, NoteKind.NOTE, "Checked in with her", _hour_ago()
    ),
    "record_consent": lambda s, p: consent.record_consent(
        s,
        p.theirs,
        p.their_client,
        ConsentPurpose.SHARING,
        RecipientCategory.POLICE.value,
        ConsentState.GIVEN,
        decided_on=TODAY,
        how=ConsentHow.VERBAL,
    ),
    "consent_current": lambda s, p: consent.current(s, p.theirs, p.their_client),
    "record_share": lambda s, p: sharing.record_share(s, _share(p)),
    "shares": lambda s, p: sharing.shares(s, p.theirs),
    # The consent states of the people on someone else's case are case content too.
    "consent_gaps": lambda s, p: sharing.consent_gaps(
        s, ShareRecord(**{**_share(p).__dict__, "direction": Direction.OUT})
    ),
}


@pytest.mark.parametrize("action", sorted(REFUSED))
def test_caseworker_is_refused_a_case_allocated_to_someone_else(
    store: StoreCopy, pair: Pair, action: str
) -> None:
    with signed_in(store, CASEWORKER) as s:
        before = audit_head(s)
        try:
            result = REFUSED[action](s, pair)
        except PermissionDenied:
            pass
        else:
            pytest.fail(
                f"{action} on a case allocated to another caseworker was allowed and returned "
                f"{result!r:.120}"
            )
        assert audit_head(s) == before, f"the refused {action} still wrote to the audit trail"


def test_refused_changes_leave_the_other_workers_case_untouched(
    store: StoreCopy, pair: Pair
) -> None:
    with signed_in(store, CASEWORKER) as s:
        for action in ("add_note", "record_consent", "record_share"):
            with pytest.raises(PermissionDenied):
                REFUSED[action](s, pair)
    with signed_in(store, CASEWORKER2) as s:
        view = cases.open_case(s, pair.theirs)
    assert [n.id for n in view.notes] == [pair.their_note]
    assert view.consents == ()
    assert view.shares == ()


@pytest.mark.parametrize("text", ["Redfern", "Sam", "07700 900999", "ls6 3ab", "Harrogate"])
def test_search_never_returns_a_case_allocated_to_someone_else(
    store: StoreCopy, pair: Pair, text: str
) -> None:
    with signed_in(store, CASEWORKER) as s:
        assert search.search(s, text) == []
        assert search.search(s, pair.their_reference) == []
        # The search itself works: the caseworker's own case is found by its client's name.
        assert [h.case.id for h in search.search(s, "Thornbury")] == [pair.mine]
    with signed_in(store, CASEWORKER2) as s:
        assert [h.case.id for h in search.search(s, text)] == [pair.theirs]


def test_break_glass_opens_the_case_for_the_rest_of_the_session(
    store: StoreCopy, pair: Pair
) -> None:
    with signed_in(store, CASEWORKER) as s:
        worker_id = s.user_id
        with pytest.raises(PermissionDenied):
            cases.open_case(s, pair.theirs)
        head = audit_head(s)
        access.break_glass(s, pair.theirs, REASON)
        written = audit_since(s, head)
        assert [(e.action, e.record, e.user_id) for e in written] == [
            (audit.BREAK_GLASS, f"case:{pair.theirs}", worker_id)
        ]
        view = cases.open_case(s, pair.theirs)
        assert view.case.id == pair.theirs
        assert view.break_glass, "the case screen must show it was opened by break-glass"
        assert cases.contact_rules(s, pair.theirs).client_name == "Sam Redfern"
        assert [h.case.id for h in search.search(s, "Redfern")] == [pair.theirs]
        # Opening it again later in the session needs no second reason.
        assert cases.open_case(s, pair.theirs).case.id == pair.theirs
        trail = audit_since(s, 0)
        assert not [e for e in trail if "crisis" in e.detail or "crisis" in e.record], (
            "the break-glass reason is free text and must stay out of the audit trail"
        )
    with signed_in(store, CASEWORKER) as s:
        with pytest.raises(PermissionDenied):
            cases.open_case(s, pair.theirs)
        assert search.search(s, "Redfern") == []
    with signed_in(store, MANAGER) as s:
        log = access.break_glass_log(s)
    assert [(e.user_id, e.username, e.case_id, e.reference, e.reason) for e in log] == [
        (worker_id, CASEWORKER, pair.theirs, pair.their_reference, REASON)
    ]


@pytest.mark.parametrize("reason", ["", "urgent", "   too short   "])
def test_break_glass_without_a_real_reason_is_refused(
    store: StoreCopy, pair: Pair, reason: str
) -> None:
    with signed_in(store, CASEWORKER) as s:
        head = audit_head(s)
        with pytest.raises(InvalidInput):
            access.break_glass(s, pair.theirs, reason)
        with pytest.raises(PermissionDenied):
            cases.open_case(s, pair.theirs)
        assert audit_since(s, head) == []
    with signed_in(store, MANAGER) as s:
        assert access.break_glass_log(s) == []


def test_manager_lists_every_case_in_the_team(store: StoreCopy, pair: Pair) -> None:
    with signed_in(store, MANAGER) as s:
        unallocated = new_referral(s, person("Ali", "Moss"))
        listed = cases.list_cases(s)
    assert {(c.id, c.worker) for c in listed} == {
        (pair.mine, CASEWORKER),
        (pair.theirs, CASEWORKER2),
        (unallocated, ""),
    }
    assert [c.reference for c in listed] == sorted(c.reference for c in listed)


def test_caseworker_lists_only_their_own_cases(store: StoreCopy, pair: Pair) -> None:
    with signed_in(store, MANAGER) as s:
        new_referral(s, person("Ali", "Moss"))
    with signed_in(store, CASEWORKER) as s:
        assert [c.id for c in cases.list_cases(s)] == [pair.mine]
    with signed_in(store, CASEWORKER2) as s:
        assert [c.id for c in cases.list_cases(s)] == [pair.theirs]


@pytest.mark.parametrize("user", [ADMIN, DPO])
def test_admin_and_dpo_cannot_list_cases(store: StoreCopy, pair: Pair, user: str) -> None:
    with signed_in(store, user) as s, pytest.raises(PermissionDenied):
        cases.list_cases(s)
