"""A purge and the rights register: a closed request about a destroyed person keeps its
accountability (reference, kind, dates, outcome, who handled it) and no personal data."""

from __future__ import annotations

import datetime as dt

from app.models import cases as case_model
from app.models import rights as rights_model
from app.models.db import transaction
from app.models.rights import Action, Outcome, RequestStatus, RightKind
from app.services import retention, rights
from app.services.session import uk_today
from tests.helpers import ADMIN, MANAGER, StoreCopy
from tests.services import forensics
from tests.services.casework import person, signed_in
from tests.services.closed_cases import make_closed_case, reference_of
from tests.services.test_retention import approve_all

RECEIVED = dt.date(2019, 1, 7)
PERSONAL = ("Quillonby", "Zephyrine", "Hartsease Mews", "Quillonby-Fenwick")


def test_a_closed_request_about_a_destroyed_person_keeps_no_personal_data(
    store: StoreCopy,
) -> None:
    with signed_in(store, MANAGER) as session:
        case_id = make_closed_case(session, person("Zephyrine", "Quillonby"))
        reference = reference_of(session, case_id)
        subject = case_model.client_id(session.conn, case_id)
        request = rights.create_request(
            session,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="Zephyrine Quillonby-Fenwick, 4 Hartsease Mews",
                received_on=RECEIVED,
                subject_person_id=subject,
                identity_confirmed_on=RECEIVED,
            ),
        )
        rights.pause_clock(session, request.id, dt.date(2019, 1, 9), "Asked Quillonby which years")
        rights.resume_clock(session, request.id, dt.date(2019, 1, 12))
        with transaction(session.conn):
            rights_model.add_decision(
                session.conn,
                request.id,
                "note:1:body@x",
                0,
                4,
                Action.REDACT,
                "3P",
                "Names Quillonby's neighbour",
                session.user_id,
                session.now(),
            )
            rights_model.add_signoff(
                session.conn,
                request.id,
                session.user_id,
                session.now(),
                "Checked with Zephyrine by phone",
                "ab" * 32,
            )
        rights.close_request(
            session,
            request.id,
            Outcome.PARTLY_REFUSED,
            dt.date(2019, 2, 20),
            "Quillonby's former partner's details withheld",
        )
        key = forensics.data_key(session)
    before = forensics.found(forensics.read_pages(store.path, key), PERSONAL)
    assert set(before) == set(PERSONAL)  # the scan sees them before the purge

    with signed_in(store, ADMIN) as session:
        approve_all(session)
        result = retention.purge(session)
        assert [e.reference for e in result.destroyed] == [reference]
        assert result.destroyed[0].counts["rights_request_links"] == 1

    with signed_in(store, MANAGER) as session:
        [kept] = rights.register(session, RequestStatus.CLOSED)
        assert kept.reference == request.reference
        assert kept.kind is RightKind.ACCESS
        assert (kept.received_on, kept.responded_on) == (RECEIVED, dt.date(2019, 2, 20))
        assert kept.outcome == Outcome.PARTLY_REFUSED
        assert kept.created_by == request.created_by
        assert kept.requester == f"(destroyed {uk_today().isoformat()}, run {result.run_id})"
        assert kept.subject_person_id is None and kept.refusal_reason == ""
        assert [p.reason for p in kept.pauses] == [""]
        [signoff] = rights_model.signoffs(session.conn, request.id)
        assert signoff.note == "" and signoff.pack_sha256 == "ab" * 32
        [decision] = rights_model.decisions(session.conn, request.id)
        assert decision.reason == "" and decision.code == "3P"
        # The purge ended by giving the store a new data key: read it with that one.
        key = forensics.data_key(session)
    pages = forensics.read_pages(store.path, key)
    assert forensics.found(pages, PERSONAL) == {}
    assert request.reference.encode() in b"".join(pages.all)
