"""Consent and the sharing log: no outgoing share without consent unless a lawful basis and a
reason are given, and a caseworker's such share goes to a manager."""

from __future__ import annotations

import datetime as dt

import pytest

from app.errors import InvalidInput, PermissionDenied
from app.models.records import (
    CaseRole,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    Direction,
    GivenBy,
    LawfulBasis,
    RecipientCategory,
    ShareApproval,
    ShareRecord,
)
from app.models.users import Role
from app.services import accounts, consent, sharing
from tests.helpers import ADMIN, CASEWORKER, MANAGER, StoreCopy
from tests.services.casework import TODAY, new_case, person, signed_in

NOW = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M")


def share_to_police(case_id: int, people: tuple[int, ...], **kw: object) -> ShareRecord:
    base: dict[str, object] = {
        "case_id": case_id,
        "direction": Direction.OUT,
        "shared_at": NOW,
        "organisation": "Northfield Police",
        "recipient_category": RecipientCategory.POLICE,
        "person_ids": people,
        "data_categories": ("risk", "incident"),
        "purpose": "safety planning",
        "method": "secure email",
        "lawful_basis": LawfulBasis.CONSENT,
    }
    base.update(kw)
    return ShareRecord(**base)  # type: ignore[arg-type]


def decide(s: object, case_id: int, person_id: int, state: ConsentState) -> None:
    consent.record_consent(
        s,  # type: ignore[arg-type]
        case_id,
        person_id,
        ConsentPurpose.SHARING,
        RecipientCategory.POLICE.value,
        state,
        decided_on=TODAY,
        how=None if state is ConsentState.NOT_ASKED else ConsentHow.VERBAL,
    )


@pytest.mark.parametrize(
    "state", [None, ConsentState.REFUSED, ConsentState.WITHDRAWN, ConsentState.NOT_ASKED]
)
def test_without_consent_a_share_needs_another_basis_and_a_reason(
    store: StoreCopy, state: ConsentState | None
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        if state is ConsentState.WITHDRAWN:
            decide(s, case_id, client, ConsentState.GIVEN)
        if state is not None:  # None: never asked, nothing recorded
            decide(s, case_id, client, state)
        with pytest.raises(InvalidInput, match="another lawful basis"):
            sharing.record_share(s, share_to_police(case_id, (client,)))
        with pytest.raises(InvalidInput, match="reason"):
            sharing.record_share(
                s, share_to_police(case_id, (client,), lawful_basis=LawfulBasis.SAFEGUARDING)
            )
        assert sharing.shares(s, case_id) == []
        share = sharing.record_share(
            s,
            share_to_police(
                case_id,
                (client,),
                lawful_basis=LawfulBasis.SAFEGUARDING,
                reason="Threat to life disclosed; police must act today.",
                person_told=False,
                not_told_reason="Telling her now would raise the risk.",
            ),
        )
        assert share.approval is ShareApproval.AWAITING_REVIEW
        due = dt.datetime.fromisoformat(share.review_due)
        assert dt.timedelta(hours=47) < due - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=48)


def test_with_consent_a_share_needs_no_approval(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        decide(s, case_id, client, ConsentState.GIVEN)
        share = sharing.record_share(s, share_to_police(case_id, (client,)))
        assert share.approval is ShareApproval.NOT_NEEDED
        assert sharing.shares(s, case_id)[0].record.organisation == "Northfield Police"


def test_consent_history_is_kept_and_the_newest_decision_is_in_force(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        decide(s, case_id, client, ConsentState.GIVEN)
        decide(s, case_id, client, ConsentState.WITHDRAWN)
        states = [c.state for c in consent.history(s, case_id, client)]
        assert states == [ConsentState.GIVEN, ConsentState.WITHDRAWN]
        assert (
            consent.sharing_state(s, case_id, client, RecipientCategory.POLICE)
            is ConsentState.WITHDRAWN
        )


def test_a_child_under_13_cannot_consent_for_themself(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        child = cases_add_child(s, case_id, TODAY.replace(year=TODAY.year - 9))
        with pytest.raises(InvalidInput, match="parent or carer"):
            consent.record_consent(
                s,
                case_id,
                child,
                ConsentPurpose.PHOTOS,
                "",
                ConsentState.GIVEN,
                decided_on=TODAY,
                how=ConsentHow.WRITTEN,
            )
        consent.record_consent(
            s,
            case_id,
            child,
            ConsentPurpose.PHOTOS,
            "",
            ConsentState.GIVEN,
            decided_on=TODAY,
            how=ConsentHow.WRITTEN,
            given_by=GivenBy.PARENT_OR_CARER,
        )


def cases_add_child(s: object, case_id: int, born: dt.date) -> int:
    from app.services import cases

    return cases.add_person(
        s,
        case_id,
        person("Poppy", "Ashdown", date_of_birth=born),
        CaseRole.CHILD,  # type: ignore[arg-type]
    )


def test_a_share_naming_a_child_needs_the_childs_consent_too(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        child = cases_add_child(s, case_id, TODAY.replace(year=TODAY.year - 15))
        decide(s, case_id, client, ConsentState.GIVEN)
        with pytest.raises(InvalidInput, match="not asked"):
            sharing.record_share(s, share_to_police(case_id, (client, child)))


def test_a_caseworker_can_name_the_manager_the_share_was_decided_with(
    store: StoreCopy,
) -> None:
    with signed_in(store, ADMIN) as a:
        manager_id = next(u.id for u in accounts.list_users(a) if Role.MANAGER in u.roles)
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        share = sharing.record_share(
            s,
            share_to_police(
                case_id,
                (client,),
                lawful_basis=LawfulBasis.CRIME_PREVENTION,
                reason="Weapon mentioned; agreed with the duty manager.",
                consulted_manager_id=manager_id,
            ),
        )
        assert share.approval is ShareApproval.APPROVED
        assert share.record.consulted_manager_id == manager_id


def test_a_manager_reviews_a_flagged_share(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        flagged = sharing.record_share(
            s,
            share_to_police(
                case_id,
                (client,),
                lawful_basis=LawfulBasis.VITAL_INTERESTS,
                reason="Immediate danger reported at 2am.",
            ),
        )
        with pytest.raises(PermissionDenied):
            sharing.review_share(s, flagged.id, True, "")
    with signed_in(store, MANAGER) as m:
        [waiting] = sharing.awaiting_review(m)
        assert waiting.share.id == flagged.id
        assert waiting.reference.startswith("SC-") and waiting.recorded_by_name == CASEWORKER
        sharing.review_share(m, flagged.id, True, "Right call.")
        assert sharing.awaiting_review(m) == []
        reviewed = sharing.shares(m, case_id)[0]
        assert reviewed.approval is ShareApproval.APPROVED
        assert reviewed.record.reason == "Immediate danger reported at 2am."
        with pytest.raises(InvalidInput, match="not waiting"):
            sharing.review_share(m, flagged.id, False, "changed my mind")


def test_a_manager_sharing_without_consent_decides_it_themself(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as m:
        case_id, client = new_case(m)
        share = sharing.record_share(
            m,
            share_to_police(
                case_id,
                (client,),
                lawful_basis=LawfulBasis.COURT_ORDER,
                court_reference="NF-2026-0117",
                reason="Disclosure ordered by the family court.",
            ),
        )
        assert share.approval is ShareApproval.APPROVED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"organisation": " "}, "organisation"),
        ({"data_categories": ()}, "categories"),
        ({"lawful_basis": LawfulBasis.COURT_ORDER, "court_reference": ""}, "reference"),
        ({"person_told": False, "not_told_reason": ""}, "not told"),
        ({"shared_at": "yesterday"}, "YYYY-MM-DD"),
        ({"shared_at": "2999-01-01T10:00"}, "future"),
    ],
)
def test_incomplete_shares_are_refused(
    store: StoreCopy, change: dict[str, object], message: str
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        decide(s, case_id, client, ConsentState.GIVEN)
        with pytest.raises(InvalidInput, match=message):
            sharing.record_share(s, share_to_police(case_id, (client,), **change))
        assert sharing.shares(s, case_id) == []


def test_incoming_information_is_logged_without_a_consent_check(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        share = sharing.record_share(
            s,
            share_to_police(
                case_id,
                (client,),
                direction=Direction.IN,
                lawful_basis=LawfulBasis.PUBLIC_TASK,
            ),
        )
        assert share.approval is ShareApproval.NOT_NEEDED


def test_the_log_cannot_be_edited(store: StoreCopy) -> None:
    import sqlcipher3

    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        decide(s, case_id, client, ConsentState.GIVEN)
        sharing.record_share(s, share_to_police(case_id, (client,)))
        with pytest.raises(sqlcipher3.DatabaseError, match="append-only"):
            s.conn.execute("UPDATE shares SET organisation = 'elsewhere'")
        with pytest.raises(sqlcipher3.DatabaseError, match="append-only"):
            s.conn.execute("UPDATE consents SET state = 'given'")
