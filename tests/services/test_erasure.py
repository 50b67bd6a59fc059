"""A granted erasure request carried out as a reviewed early destruction: the person's own cases
go whole, the cases they were only a party to keep everything but their link, and the run is in
the destruction log with its certificate, like a purge's."""

from __future__ import annotations

import datetime as dt

import pytest

from app.errors import InvalidInput
from app.models import cases as case_model
from app.models.records import CaseRole, NoteKind
from app.models.rights import Outcome, RightKind
from app.services import cases, notes, retention, rights
from app.services.session import Session
from tests.helpers import ADMIN, MANAGER, StoreCopy
from tests.services import forensics
from tests.services.casework import new_case, person, signed_in
from tests.services.closed_cases import reference_of
from tests.services.test_retention import pdf_text

RECEIVED = dt.date(2019, 1, 7)
SUBJECT = ("Xanthorpe", "Vellacourt-Ibbs")
OTHER = ("Marigoldine", "Ashbury-Quenneville")
SOLE = "The only admin; the DPO agreed by phone."


def granted_erasure(session: Session, subject: int) -> int:
    request = rights.create_request(
        session,
        rights.RequestDraft(
            kind=RightKind.ERASURE,
            requester="the subject",
            received_on=session.today(),
            subject_person_id=subject,
            identity_confirmed_on=session.today(),
        ),
    )
    rights.close_request(session, request.id, Outcome.COMPLIED, session.today())
    return request.id


def two_cases(session: Session) -> tuple[int, int, int, int]:
    """The subject's own case with a note, and another person's case with the subject on it as
    a household member; returns (own case, other case, subject id, request id)."""
    own, subject = new_case(session, person(*SUBJECT))
    notes.add_note(
        session, own, NoteKind.NOTE, "Xanthorpe moved to Pellingbrook Row", session.moment()
    )
    other, _client = new_case(session, person(*OTHER))
    notes.add_note(session, other, NoteKind.NOTE, "Marigoldine kept her tenancy", session.moment())
    cases.link_person(session, other, subject, CaseRole.HOUSEHOLD_MEMBER)
    return own, other, subject, granted_erasure(session, subject)


def test_a_granted_erasure_destroys_the_persons_case_and_only_their_link_elsewhere(
    store: StoreCopy,
) -> None:
    with signed_in(store, MANAGER) as session:
        own, other, _subject, request_id = two_cases(session)
        own_ref = reference_of(session, own)
        other_ref = reference_of(session, other)
        plan = retention.propose_erasure(session, request_id)
        assert plan.client_cases == (own_ref,) and plan.party_cases == (other_ref,)
        assert plan.blocked == "" and plan.proposed_by == session.user_id
        reference = plan.reference
        key = forensics.data_key(session)
    secrets = ("Vellacourt-Ibbs", "Pellingbrook Row")
    assert set(forensics.found(forensics.read_pages(store.path, key), secrets)) == set(secrets)

    with signed_in(store, ADMIN) as session:
        result = retention.carry_out_erasure(session, request_id)
        assert [e.reference for e in result.destroyed] == [own_ref, other_ref, reference]
        assert {e.reason for e in result.destroyed} == {f"erasure request {reference}"}
        [run] = retention.runs(session)
        assert run.run_id == result.run_id
        text = retention.certificate_pdf(
            retention.log_entries(session, run.run_id), "Service", "now", compress=False
        )
        assert f"erasure request {reference}".encode() in text
        assert b"Cases destroyed: 1" in text
        with pytest.raises(InvalidInput, match="no one on record left to erase"):
            retention.carry_out_erasure(session, request_id)
        key = forensics.data_key(session)
    pages = forensics.read_pages(store.path, key)
    assert forensics.found(pages, secrets) == {}
    assert set(forensics.found(pages, ("Ashbury-Quenneville", "kept her tenancy"))) == {
        "Ashbury-Quenneville",
        "kept her tenancy",
    }

    with signed_in(store, MANAGER) as session:
        assert case_model.get(session.conn, own) is None
        assert case_model.get(session.conn, other) is not None
        view = cases.open_case(session, other)
        assert [m.person.id for m in view.members] == [_client(session, other)]
        assert [n.body for n in notes.timeline(session, other)] == ["Marigoldine kept her tenancy"]


def _client(session: Session, case_id: int) -> int:
    found = case_model.client_id(session.conn, case_id)
    assert found is not None
    return found


def test_the_erasure_is_reviewed_by_someone_else_or_the_sole_admin_says_why(
    store: StoreCopy,
) -> None:
    with signed_in(store, ADMIN) as session, pytest.raises(InvalidInput):
        retention.carry_out_erasure(session, 1_000_000)
    with signed_in(store, MANAGER) as session:
        _own, _other, _subject, request_id = two_cases(session)
    with signed_in(store, ADMIN) as session:
        with pytest.raises(InvalidInput, match="propose the erasure first"):
            retention.carry_out_erasure(session, request_id)
        retention.propose_erasure(session, request_id)
        with pytest.raises(InvalidInput, match="another admin must carry it out"):
            retention.carry_out_erasure(session, request_id)
        result = retention.carry_out_erasure(session, request_id, sole_admin_reason=SOLE)
        assert len(result.destroyed) == 3
        printed = pdf_text(retention.certificate(session, result.run_id))
        assert SOLE.encode() in printed
        assert b"Destroyed early, before the retention date" in printed


def test_a_legal_hold_or_another_open_request_refuses_the_erasure(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        own, _other, subject, request_id = two_cases(session)
        own_ref = reference_of(session, own)
        cases.place_legal_hold(session, own, "Family court proceedings", dt.date(2030, 1, 1))
        with pytest.raises(InvalidInput, match=f"Case {own_ref} has a legal hold"):
            retention.propose_erasure(session, request_id)
        cases.lift_legal_hold(session, own)
        waiting = rights.create_request(
            session,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="the subject",
                received_on=session.today(),
                subject_person_id=subject,
            ),
        )
        with pytest.raises(InvalidInput, match=f"Rights request {waiting.reference} is still open"):
            retention.propose_erasure(session, request_id)
        assert case_model.get(session.conn, own) is not None
