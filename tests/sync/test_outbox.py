"""The outbox: every case write appends its operation in the same transaction, and a purge
destroys a case's operations with it."""

from __future__ import annotations

import datetime as dt

import pytest

from app.models import cases as case_model
from app.models.records import (
    CaseStatus,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    NoteKind,
    SafeContact,
)
from app.models.rights import RightKind
from app.services import cases, consent, notes, retention, rights, sar
from app.services import notes as notes_service
from app.sync import ops
from app.sync.ops import Operation
from tests.helpers import ADMIN, CASEWORKER, MANAGER, StoreCopy
from tests.services import forensics
from tests.services.casework import new_case, person, signed_in, user_id
from tests.services.closed_cases import make_closed_case, reference_of

NOON = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


def made(session_conn: object) -> list[Operation]:
    return [op for _, op in ops.outbox(session_conn)]  # type: ignore[arg-type]


def test_a_saved_note_appends_its_operation_and_a_failed_save_appends_none(
    store: StoreCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        before = len(made(s.conn))
        note_id = notes.add_note(s, case_id, NoteKind.CALL, "Synthetic call about housing.", NOON)
        [op] = made(s.conn)[before:]
        assert op.kind == "note.added"
        assert op.target == ops.gid_of(s.conn, "notes", note_id)
        assert op.scope == f"case:{ops.gid_of(s.conn, 'cases', case_id)}"
        assert op.user == ops.gid_of(s.conn, "users", s.user_id)
        assert op.payload["row"]["body"] == "Synthetic call about housing."
        assert ops.decode_ops(ops.encode_ops([op])) == [op]

        def fail(*_args: object, **_kw: object) -> None:
            raise RuntimeError("the audit write failed")

        with monkeypatch.context() as patched, pytest.raises(RuntimeError):
            patched.setattr(notes_service.audit, "record", fail)
            notes.add_note(s, case_id, NoteKind.CALL, "Never saved.", NOON)
        assert len(made(s.conn)) == before + 1
        bodies = s.conn.execute("SELECT payload FROM operations").fetchall()
        assert not any("Never saved." in str(b[0]) for b in bodies)


def test_safe_contact_details_travel_field_by_field_with_the_value_each_replaced(
    store: StoreCopy,
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        cases.open_referral(s, case_id, s.today())
        before = len(made(s.conn))
        cases.set_safe_contact(s, case_id, SafeContact(client, safe_number="07700 900001"))
        cases.set_safe_contact(
            s, case_id, SafeContact(client, safe_number="07700 900002", code_word="lantern")
        )
        first, *second = made(s.conn)[before:]
        assert (first.kind, first.payload["field"]) == (
            "safe_contact.field_set",
            "safe_contacts.safe_number",
        )
        assert (first.payload["was"], first.payload["value"]) == ("", "07700 900001")
        assert first.replaced is None
        by_field = {op.payload["field"]: op for op in second}
        assert set(by_field) == {"safe_contacts.safe_number", "safe_contacts.code_word"}
        number = by_field["safe_contacts.safe_number"]
        assert (number.payload["was"], number.replaced) == ("07700 900001", first.op_id)
        assert number.hlc > first.hlc


def test_case_writes_append_allocation_consent_name_and_closure(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as s:
        case_id, client = new_case(s)
        worker = user_id(s, CASEWORKER)
        before = len(made(s.conn))
        cases.allocate(s, case_id, worker)
        cases.open_referral(s, case_id, s.today())
        consent.record_consent(
            s,
            case_id,
            client,
            ConsentPurpose.SHARING,
            "police",
            ConsentState.GIVEN,
            decided_on=s.today(),
            how=ConsentHow.VERBAL,
        )
        cases.update_person(s, client, person("Rowan", "Ashdown"))
        cases.close_case(s, case_id, s.today(), "Support completed")
        kinds = [(op.kind, op.payload.get("field")) for op in made(s.conn)[before:]]
        assert kinds == [
            ("case.allocated", "cases.allocated_user_id"),
            ("case.field_set", "cases.opened_date"),
            ("case.field_set", "cases.status"),
            ("consent.recorded", None),
            ("person.field_set", "people.given_name"),
            ("case.closed", "cases.closed_date"),
            ("case.closed", "cases.closed_reason"),
            ("case.closed", "cases.status"),
        ]
        allocated = made(s.conn)[before]
        assert allocated.payload["value"] == ops.gid_of(s.conn, "users", worker)
        case = case_model.get(s.conn, case_id)
        assert case is not None and case.status is CaseStatus.CLOSED


def test_a_purge_destroys_the_cases_operations_leaving_no_trace(store: StoreCopy) -> None:
    sentinel = "Qzoutboxsentinel"

    with signed_in(store, MANAGER) as s:

        def fill(case_id: int) -> None:
            notes.add_note(s, case_id, NoteKind.CALL, f"Spoke about {sentinel}.", NOON)

        case_id = make_closed_case(s, person("Qzoutboxclient", "Synthetic"), fill=fill)
        reference = reference_of(s, case_id)
        held = s.conn.execute("SELECT count(*) FROM operations WHERE case_id = ?", (case_id,))
        assert held.fetchone()[0] >= 4
        key = forensics.data_key(s)
    assert forensics.found(forensics.read_pages(store.path, key), [sentinel])
    with signed_in(store, ADMIN) as s:
        retention.approve(s, [reference], "Reviewed")
        result = retention.purge(s)
        assert [e.reference for e in result.destroyed] == [reference]
        assert result.destroyed[0].counts["operations"] >= 4
        left = s.conn.execute("SELECT count(*) FROM operations").fetchone()[0]
        key = forensics.data_key(s)
    assert left == 0
    pages = forensics.read_pages(store.path, key)
    assert forensics.found(pages, [sentinel, "Qzoutboxclient"]) == {}


def test_a_subject_access_pack_shows_each_note_once_though_its_operation_holds_it_too(
    store: StoreCopy,
) -> None:
    body = "Qzsarsentinel talked through the safety plan."
    with signed_in(store, MANAGER) as s:
        case_id, client = new_case(s)
        cases.open_referral(s, case_id, s.today())
        notes.add_note(s, case_id, NoteKind.CALL, body, NOON)
        held = s.conn.execute(
            "SELECT count(*) FROM operations WHERE payload LIKE ?", (f"%{body}%",)
        )
        assert held.fetchone()[0] == 1
        request = rights.create_request(
            s,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="The data subject",
                received_on=s.today(),
                subject_person_id=client,
                identity_confirmed_on=s.today(),
            ),
        )
        pack = sar.preview(s, request.id)
        found = [item for item in pack.items() if body in item.text]
    assert len(found) == 1
