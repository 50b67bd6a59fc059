"""Records that create: a case made on one laptop arrives whole on another through operations
alone, in any order; references made offline never collide; two referrals for one person made
offline meet the duplicate check; an incoming DASH flags a MARAC referral as due; a person's
own operations outlive a purged case while the person stays on another."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from app.errors import InvalidInput
from app.models import cases as case_model
from app.models import people as people_model
from app.models import settings as settings_model
from app.models.db import transaction
from app.models.records import CaseDetails, CaseRole, NoteKind
from app.services import cases, notes, retention, risk
from app.services.session import Session
from app.sync import ops
from tests.helpers import ADMIN, MANAGER, StoreCopy
from tests.models.test_risk import answers
from tests.services import forensics
from tests.services.casework import new_case, person, signed_in, user_id
from tests.services.closed_cases import make_closed_case, reference_of
from tests.sync.test_apply import _send_all, team

NOON = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


def _made(s: Session) -> list[ops.Operation]:
    return [op for _, op in ops.outbox(s.conn)]


def _referral(s: Session, given: str, family: str, **details: object) -> int:
    return cases.create_referral(
        s,
        person(given, family, **details),
        CaseDetails(referral_date=s.today(), referral_source="Police"),
        allocate_to=user_id(s, MANAGER),
    )


def _whole_case(s: Session, reference: str) -> tuple[object, ...]:
    """What a person reading the case sees of it: details, allocation, who is on it."""
    case = case_model.by_reference(s.conn, reference)
    assert case is not None, reference
    members = sorted(
        (
            m.role.value,
            m.person.name,
            m.person.details.address,
            m.person.details.address_confidential,
            m.person.details.phones,
        )
        for m in case_model.members(s.conn, case.id)
    )
    summary = cases.list_cases(s, limit=1000)
    [row] = [r for r in summary if r.reference == reference]
    return (case.status, case.details.referral_source, row.client_name, row.worker, members)


def test_a_case_made_on_one_laptop_arrives_whole_through_operations_alone(
    store: StoreCopy, tmp_path: Path
) -> None:
    with team(store, tmp_path) as (_, laptops):
        maker, other = laptops[0], laptops[1]
        case_id = _referral(
            maker,
            "Qzarrival",
            "Synthetic",
            address="1 Synthetic Row",
            address_confidential=True,
            phones=("07700 900123",),
        )
        child = cases.add_person(maker, case_id, person("Qzchild", "Synthetic"), CaseRole.CHILD)
        neighbour = person("Qzneighbour", "Synthetic")
        cases.add_person(maker, case_id, neighbour, CaseRole.HOUSEHOLD_MEMBER)
        cases.link_person(maker, case_id, child, CaseRole.HOUSEHOLD_MEMBER)
        cases.remove_person(maker, case_id, child, CaseRole.CHILD)
        notes.add_note(maker, case_id, NoteKind.CALL, "Synthetic first call.", NOON)
        reference = reference_of(maker, case_id)
        made = _made(maker)
        # The note alone arrives first: it waits for its case, and nothing half-arrives.
        [note] = [op for op in made if op.kind == "note.added"]
        with transaction(other.conn):
            assert ops.apply_all(other.conn, [note]) == [note]
        assert case_model.by_reference(other.conn, reference) is None
        # Then everything, newest first.
        with transaction(other.conn):
            assert ops.apply_all(other.conn, list(reversed(made))) == []
        assert _whole_case(other, reference) == _whole_case(maker, reference)
        arrived = case_model.by_reference(other.conn, reference)
        assert arrived is not None
        assert [n.body for n in notes.timeline(other, arrived.id)] == ["Synthetic first call."]
        # Arriving twice changes nothing.
        with transaction(other.conn):
            assert ops.apply_all(other.conn, made) == []
        assert _whole_case(other, reference) == _whole_case(maker, reference)


def test_laptops_making_cases_offline_never_make_the_same_reference(
    store: StoreCopy, tmp_path: Path
) -> None:
    with team(store, tmp_path) as (base, laptops):
        with signed_in(store, MANAGER) as s:
            existing = reference_of(s, base.case_id)
        made = [[_referral(s, f"Qzref{n}", "Synthetic") for n in range(2)] for s in laptops]
        references = {reference_of(s, c) for s, ids in zip(laptops, made, strict=True) for c in ids}
        assert len(references) == 6
        _send_all(laptops)
        for s in laptops:
            held = {c.reference for c in cases.list_cases(s, limit=1000)}
            assert references | {existing} <= held
            assert reference_of(s, base.case_id) == existing  # shown before: never changes
        year = laptops[1].today().year
        assert reference_of(laptops[1], made[1][0]).startswith(f"SC-{year}-B-")
        with transaction(laptops[1].conn):
            ops.set_reference_tag(laptops[1].conn, "B")  # given again: nothing changes
            with pytest.raises(InvalidInput, match="cannot change"):
                ops.set_reference_tag(laptops[1].conn, "A")
            with pytest.raises(InvalidInput, match="capital letters"):
                ops.set_reference_tag(laptops[1].conn, "b-2")


def test_a_laptop_alone_keeps_making_references_as_before(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as s:
        first, _ = new_case(s)
        second, _ = new_case(s)
        assert settings_model.get(s.conn, settings_model.REFERENCE_TAG) is None
        a, b = reference_of(s, first), reference_of(s, second)
        assert len(a) == len("SC-2026-000001") and int(b[-6:]) == int(a[-6:]) + 1


def test_two_referrals_for_one_person_made_offline_meet_the_duplicate_check(
    store: StoreCopy, tmp_path: Path
) -> None:
    with team(store, tmp_path) as (_, laptops):
        for s in laptops[:2]:
            assert not cases.find_matches(s, person("Qzdup", "Synthetic")).any
            _referral(s, "Qzdup", "Synthetic", phones=("07700 900555",))
        _send_all(laptops)
        for s in laptops:
            report = cases.find_matches(s, person("Qzdup", "Synthetic"))
            assert len(report.visible) == 2
            assert {p.name for p in report.people} == {"Qzdup Synthetic"}
            by_phone = cases.find_matches(s, person("Other", "Name", phones=("07700900555",)))
            assert len(by_phone.visible) == 2


def test_an_incoming_dash_flags_a_marac_referral_as_due(store: StoreCopy, tmp_path: Path) -> None:
    with team(store, tmp_path) as (base, laptops):
        risk.record_dash(
            laptops[0], base.case_id, base.client, answers(15), completed_on=laptops[0].today()
        )
        _send_all(laptops)
        for s in laptops:
            assert [c.id for c in cases.list_cases(s, marac_due=True)] == [base.case_id]


def test_a_persons_name_change_outlives_a_purged_case_and_goes_with_the_person(
    store: StoreCopy,
) -> None:
    with signed_in(store, MANAGER) as s:
        client = person("Qzpurgename", "Synthetic")
        first = make_closed_case(s, client)
        [person_id] = case_model.client_ids(s.conn, first)
        second = make_closed_case(
            s,
            person("Other", "Synthetic"),
            fill=lambda c: cases.link_person(s, c, person_id, CaseRole.HOUSEHOLD_MEMBER),
        )
        cases.update_person(s, person_id, person("Qzrenamed", "Synthetic"))
        target = ops.gid_of(s.conn, "people", person_id)
        references = [reference_of(s, first), reference_of(s, second)]
    with signed_in(store, ADMIN) as s:
        retention.approve(s, references[:1], "Reviewed")
        retention.purge(s)
        kinds = {
            str(r[0])
            for r in s.conn.execute("SELECT kind FROM operations WHERE target = ?", (target,))
        }
        assert {"person.added", "person.field_set"} <= kinds
        assert people_model.get(s.conn, person_id) is not None
        retention.approve(s, references[1:], "Reviewed")
        retention.purge(s)
        assert s.conn.execute("SELECT count(*) FROM operations").fetchone()[0] == 0
        key = forensics.data_key(s)
    pages = forensics.read_pages(store.path, key)
    assert forensics.found(pages, ["Qzpurgename", "Qzrenamed"]) == {}


def test_a_legal_hold_and_a_restriction_travel_to_the_other_laptops(
    store: StoreCopy, tmp_path: Path
) -> None:
    with team(store, tmp_path) as (base, laptops):
        manager = laptops[0]
        review = manager.today() + dt.timedelta(days=90)
        cases.place_legal_hold(manager, base.case_id, "Synthetic proceedings", review)
        cases.restrict_person(manager, base.client, "Synthetic objection")
        _send_all(laptops)
        for s in laptops[1:]:
            case = case_model.get(s.conn, base.case_id)
            assert case is not None
            assert (case.legal_hold_reason, case.legal_hold_review) == (
                "Synthetic proceedings",
                review,
            )
            client = people_model.get(s.conn, base.client)
            assert client is not None and client.restricted
        cases.lift_legal_hold(laptops[1], base.case_id)
        _send_all(laptops)
        assert {case_model.get(s.conn, base.case_id).legal_hold_reason for s in laptops} == {""}  # type: ignore[union-attr]


def test_a_change_to_a_persons_address_and_its_confidentiality_travels(
    store: StoreCopy, tmp_path: Path
) -> None:
    with team(store, tmp_path) as (base, laptops):
        a = laptops[0]
        moved = dataclasses.replace(
            cases.get_person(a, base.client).details,
            address="2 Synthetic Close",
            postcode="ZZ9 9ZZ",
            address_confidential=True,
            phones=("07700 900777",),
        )
        cases.update_person(a, base.client, moved)
        _send_all(laptops)
        for s in laptops[1:]:
            assert (
                cases.get_person(s, base.client).details == cases.get_person(a, base.client).details
            )
            found = cases.find_matches(s, person("Other", "Name", phones=("07700900777",)))
            assert [c.id for c in found.visible] == [base.case_id]
