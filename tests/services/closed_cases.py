"""Helpers for the retention tests: closed cases made through the services, a clock that can be
moved, and a rights request put straight into the register's table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from app.models import cases as case_model
from app.models.records import CaseDetails, CaseRole, PersonDetails
from app.services import cases
from app.services.session import Session
from tests.helpers import StoreCopy
from tests.services.casework import person, signed_in

CLOSED = dt.date(2019, 3, 31)
REFERRED = dt.date(2018, 6, 1)


def clock(day: dt.date) -> Callable[[], str]:
    """A session clock that reads ``day``, noon UTC."""
    return lambda: f"{day.isoformat()}T12:00:00.000000Z"


def make_closed_case(
    session: Session,
    client: PersonDetails | None = None,
    *,
    closed: dt.date = CLOSED,
    referred: dt.date = REFERRED,
    details: CaseDetails | None = None,
    others: tuple[tuple[PersonDetails, CaseRole], ...] = (),
    fill: Callable[[int], None] | None = None,
    allocate_to: int | None = None,
    reason: str = "Support ended",
) -> int:
    """A case referred, opened and closed on the given dates (the session is a manager's);
    ``fill(case_id)`` runs while it is open."""
    if details is not None:
        referred = details.referral_date
    case_id = cases.create_referral(
        session,
        client or person(),
        details or CaseDetails(referral_date=referred, referral_source="GP"),
        allocate_to=allocate_to,
    )
    cases.open_referral(session, case_id, referred)
    for extra, role in others:
        cases.add_person(session, case_id, extra, role)
    if fill is not None:
        fill(case_id)
    cases.close_case(session, case_id, closed, reason)
    return case_id


def closed_case(store: StoreCopy, manager: str, **kw: object) -> int:
    with signed_in(store, manager) as session:
        return make_closed_case(session, **kw)  # type: ignore[arg-type]


def reference_of(session: Session, case_id: int) -> str:
    case = case_model.get(session.conn, case_id)
    assert case is not None
    return case.reference


def open_rights_request(session: Session, person_id: int, status: str = "open") -> int:
    """A request in the rights register about ``person_id`` (its services are written apart;
    retention reads the table directly)."""
    now = session.now()
    cur = session.conn.execute(
        "INSERT INTO rights_requests (reference, kind, requester, subject_person_id, "
        "received_on, status, created_by, created_at, updated_at) "
        "VALUES (?, 'access', 'the person', ?, ?, ?, ?, ?, ?)",
        (f"RR-{person_id}-{status}", person_id, now[:10], status, session.user_id, now, now),
    )
    return int(cur.lastrowid or 0)
