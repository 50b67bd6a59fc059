"""Merging two records of one person: what moves, undo putting it back exactly, confirmation
destroying the merged record, the audit (ids only) and who may do it."""

from __future__ import annotations

import datetime as dt

import pytest

from app.errors import InvalidInput, PermissionDenied
from app.models import retention as retention_model
from app.models.records import (
    CaseRole,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    Direction,
    LawfulBasis,
    RecipientCategory,
    ShareRecord,
)
from app.services import cases, consent, merges, search, sharing
from app.services.session import Session
from tests.helpers import CASEWORKER, MANAGER, StoreCopy
from tests.services.casework import TODAY, audit_head, audit_since, new_case, person, signed_in

LINK_QUERIES = (
    "SELECT case_id, person_id, role FROM case_people ORDER BY 1, 2, 3",
    "SELECT id, person_id FROM consents ORDER BY 1",
    "SELECT share_id, person_id FROM share_people ORDER BY 1, 2",
    "SELECT id, person_id FROM dash_assessments ORDER BY 1",
    "SELECT id, client_name FROM cases ORDER BY 1",
)


def links(session: Session) -> list[list[tuple[object, ...]]]:
    return [session.conn.execute(sql).fetchall() for sql in LINK_QUERIES]


def two_records(store: StoreCopy) -> tuple[int, int, int, int]:
    """One person recorded twice: as the client of one case, and again as the client of a
    second case who is also on the first case as a household member. Returns (first case,
    second case, first record, second record)."""
    with signed_in(store, CASEWORKER) as s:
        first, kept = new_case(s, person("Robin", "Ashdown", phones=("07700 900111",)))
        second, other = new_case(s, person("Robyn", "Ashdown"))
        cases.link_person(s, first, other, CaseRole.HOUSEHOLD_MEMBER)
        cases.link_person(s, second, kept, CaseRole.CLIENT)  # the duplicate role on case 2
        consent.record_consent(
            s,
            second,
            other,
            ConsentPurpose.SHARING,
            "police",
            ConsentState.GIVEN,
            decided_on=TODAY,
            how=ConsentHow.VERBAL,
        )
        sharing.record_share(
            s,
            ShareRecord(
                case_id=second,
                direction=Direction.IN,
                shared_at=(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
                organisation="Northshire Police",
                recipient_category=RecipientCategory.POLICE,
                person_ids=(other, kept),
                data_categories=("risks",),
                purpose="Safety planning",
                method="secure e-mail",
                lawful_basis=LawfulBasis.CONSENT,
            ),
        )
    return first, second, kept, other


def test_a_merge_moves_every_link_and_undo_puts_each_back_exactly(store: StoreCopy) -> None:
    first, second, kept, other = two_records(store)
    with signed_in(store, MANAGER) as s:
        before = links(s)
        head = audit_head(s)
        merge_id = merges.merge_people(s, kept, other)
        after = links(s)
        # The merged record is on no case; the kept one is on both, once per role.
        parties = after[0]
        assert {p for _c, p, _r in parties} == {kept}
        assert (first, kept, "household_member") in parties
        assert (second, kept, "client") in parties
        assert [p for _i, p in after[1]] == [kept]  # the consent moved, same id
        assert after[1][0][0] == before[1][0][0]
        assert [p for _s, p in after[2]] == [kept]  # one subject, not two
        assert [m.id for m in merges.pending_merges(s, first)] == [merge_id]
        found = search.search(s, "Robyn")
        assert found == [] or all(r.id in (first, second) for r in found)

        merges.undo_merge(s, merge_id)
        assert links(s) == before
        assert merges.pending_merges(s, first) == []
        entries = [e for e in audit_since(s, head) if "merge" in e.action]
    assert [e.action for e in entries] == ["people_merged", "merge_undone"]
    for entry in entries:  # ids only
        assert "Robin" not in entry.record + entry.detail
        assert entry.record.startswith(f"merge:{merge_id} kept=person:{kept}")


def test_a_confirmed_merge_destroys_the_merged_record(store: StoreCopy) -> None:
    first, _second, kept, other = two_records(store)
    with signed_in(store, MANAGER) as s:
        merge_id = merges.merge_people(s, kept, other)
        merges.confirm_merge(s, merge_id)
        assert s.conn.execute("SELECT count(*) FROM people WHERE id = ?", (other,)).fetchone() == (
            0,
        )
        with pytest.raises(InvalidInput, match="no longer waiting"):
            merges.undo_merge(s, merge_id)
        view = cases.open_case(s, first)
    assert {m.person.id for m in view.members} == {kept}


def test_only_a_manager_merges_and_a_record_cannot_merge_twice(store: StoreCopy) -> None:
    _first, _second, kept, other = two_records(store)
    with signed_in(store, CASEWORKER) as s, pytest.raises(PermissionDenied):
        merges.merge_people(s, kept, other)
    with signed_in(store, MANAGER) as s:
        with pytest.raises(InvalidInput, match="two different"):
            merges.merge_people(s, kept, kept)
        merges.merge_people(s, kept, other)
        with pytest.raises(InvalidInput, match="pending merge"):
            merges.merge_people(s, other, kept)


def test_destroying_the_kept_persons_cases_takes_a_pending_merged_record_too(
    store: StoreCopy,
) -> None:
    first, second, kept, other = two_records(store)
    with signed_in(store, MANAGER) as s:
        merges.merge_people(s, kept, other)
        for case_id in (first, second):
            counts = retention_model.destroy_case(s.conn, case_id)
        left = s.conn.execute(
            "SELECT count(*) FROM people WHERE id IN (?, ?)", (kept, other)
        ).fetchone()[0]
        merges_left = s.conn.execute("SELECT count(*) FROM person_merges").fetchone()[0]
    assert counts["person_merges"] == 1
    assert (left, merges_left) == (0, 0)
