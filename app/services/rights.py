"""The rights-request register: subject access and the other rights, with statutory deadlines.

Managers and the DPO keep the register; caseworkers and admins may not see it. Each request
records who asked, for whom, when it arrived, when identity (or an agent's authority) was
confirmed, the due date (app/models/deadlines.py), clarification pauses, any extension, and the
outcome. An open request blocks retention destruction of its subject's cases.

Audit entries name the request by id (``rights:<id>``), never the requester or the subject.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

from app.errors import InvalidInput
from app.models import cases as case_model
from app.models import deadlines
from app.models import people as people_model
from app.models import rights as rights_model
from app.models import search as search_model
from app.models.db import transaction
from app.models.records import CaseRole
from app.models.rights import Outcome, RequestStatus, RightKind, RightsRequest
from app.models.users import Role
from app.services import access, audit, conflicts
from app.services.search import check_query
from app.services.session import Session
from app.sync import registers
from app.sync.clock import Hlc

REGISTER_ROLES = (Role.MANAGER, Role.DPO)
WEEK = dt.timedelta(days=6)


@dataclass(frozen=True)
class RequestDraft:
    """What the register form holds for a new request or an edit of an open one."""

    kind: RightKind
    requester: str
    received_on: dt.date
    subject_person_id: int | None = None  # None: nobody on record matched
    subject_note: str = ""  # who the request is about, when nobody on record matched
    by_agent: bool = False
    authority_seen: bool = False
    identity_confirmed_on: dt.date | None = None


def _line(request_id: int) -> str:
    return f"rights:{request_id}"


def _today(session: Session, today: dt.date | None) -> dt.date:
    return today or session.today()


def _check(session: Session, draft: RequestDraft) -> None:
    today = session.today()
    if not draft.requester.strip():
        raise InvalidInput("Say who made the request.")
    if draft.received_on > today:
        raise InvalidInput("The date the request arrived is in the future; check it.")
    if draft.subject_person_id is None and not draft.subject_note.strip():
        raise InvalidInput(
            "Say who the request is about: a person on record, or a note when nobody matched."
        )
    if (
        draft.subject_person_id is not None
        and people_model.get(session.conn, draft.subject_person_id) is None
    ):
        raise InvalidInput("There is no such person on record.")
    confirmed = draft.identity_confirmed_on
    if confirmed is not None:
        if confirmed < draft.received_on:
            raise InvalidInput("Identity cannot be confirmed before the request arrived.")
        if confirmed > today:
            raise InvalidInput("The date identity was confirmed is in the future; check it.")
        if draft.by_agent and not draft.authority_seen:
            raise InvalidInput(
                "The request was made by an agent: see their authority before the clock starts."
            )


def _closed_pauses(request: RightsRequest) -> list[tuple[dt.date, dt.date]]:
    return [(p.from_date, p.to_date) for p in request.pauses if p.to_date is not None]


def _schedule(
    start: dt.date | None, pauses: list[tuple[dt.date, dt.date]], extended: bool
) -> tuple[dt.date | None, dt.date | None]:
    """The due date and the extended date (when the requester was told of an extension)."""
    if start is None:
        return None, None
    due = deadlines.due_date(start, pauses)
    return due, deadlines.extended_date(start, pauses) if extended else None


def _require_open(session: Session, request_id: int) -> RightsRequest:
    request = get_request(session, request_id)
    if request.status is not RequestStatus.OPEN:
        raise InvalidInput("This request is closed.")
    return request


@contextlib.contextmanager
def _travelling(session: Session, table: str, row_id: int) -> Iterator[None]:
    """Around a write to one register row: each travelling field it changes becomes an
    operation for the team's other managers and DPO (app/sync/registers.py)."""
    before = registers.snapshot(session.conn, table, row_id)
    yield
    registers.emit_changes(session.conn, table, row_id, before, session.user_id, session.now())


def _reload(session: Session, request_id: int) -> RightsRequest:
    request = rights_model.get(session.conn, request_id)
    assert request is not None
    return request


# -- the register -------------------------------------------------------------------------------


def create_request(session: Session, draft: RequestDraft) -> RightsRequest:
    """Enter a new request in the register (it starts open; its clock starts when identity or
    an agent's authority is confirmed)."""
    with transaction(session.conn):
        request_id = insert_request(session, draft)
    return _reload(session, request_id)


def insert_request(session: Session, draft: RequestDraft) -> int:
    """Enter a checked request and its audit entry, inside the caller's transaction (for a
    service that opens a request only if the rest of its work is done too)."""
    session.require(*REGISTER_ROLES)
    _check(session, draft)
    due, _ = _schedule(draft.identity_confirmed_on, [], False)
    now = session.now()
    reference = rights_model.next_reference(session.conn, session.today().year)
    request_id = rights_model.insert(
        session.conn,
        reference=reference,
        kind=draft.kind,
        requester=draft.requester.strip(),
        subject_person_id=draft.subject_person_id,
        subject_note=draft.subject_note.strip(),
        by_agent=draft.by_agent,
        authority_seen=draft.authority_seen,
        received_on=draft.received_on,
        identity_confirmed_on=draft.identity_confirmed_on,
        due_on=due,
        user_id=session.user_id,
        now=now,
    )
    registers.emit_added(session.conn, "rights_requests", request_id, session.user_id, now)
    subject = f"person:{draft.subject_person_id}" if draft.subject_person_id else "none"
    audit.record(
        session.conn,
        session.user_id,
        audit.RIGHTS_REQUEST_CREATED,
        _line(request_id),
        f"kind={draft.kind.value} subject={subject}",
    )
    return request_id


def update_request(session: Session, request_id: int, draft: RequestDraft) -> RightsRequest:
    """Change an open request's details; the due date (and any extension) is worked out again."""
    request = _require_open(session, request_id)
    _check(session, draft)
    start = draft.identity_confirmed_on
    pauses = _closed_pauses(request)
    told = request.extension_told_on
    if told is not None:
        if start is None:
            raise InvalidInput("The request has an extension: its clock must have started.")
        if told > deadlines.due_date(start, pauses):
            raise InvalidInput(
                "With that date the extension would have been given after the first month."
            )
    due, extended = _schedule(start, pauses, told is not None)
    with transaction(session.conn), _travelling(session, "rights_requests", request_id):
        rights_model.set_fields(
            session.conn,
            request_id,
            session.now(),
            kind=draft.kind,
            requester=draft.requester.strip(),
            subject_person_id=draft.subject_person_id,
            subject_note=draft.subject_note.strip(),
            by_agent=draft.by_agent,
            authority_seen=draft.authority_seen,
            received_on=draft.received_on,
            identity_confirmed_on=start,
            due_on=due,
            extended_to=extended,
        )
        audit.record(session.conn, session.user_id, audit.RIGHTS_REQUEST_CHANGED, _line(request_id))
    return _reload(session, request_id)


def _draft(request: RightsRequest) -> RequestDraft:
    return RequestDraft(
        kind=request.kind,
        requester=request.requester,
        received_on=request.received_on,
        subject_person_id=request.subject_person_id,
        subject_note=request.subject_note,
        by_agent=request.by_agent,
        authority_seen=request.authority_seen,
        identity_confirmed_on=request.identity_confirmed_on,
    )


def confirm_identity(
    session: Session, request_id: int, on: dt.date, *, authority_seen: bool = False
) -> RightsRequest:
    """Record that the requester's identity (or an agent's authority) was confirmed on ``on``:
    the clock starts that day."""
    request = _require_open(session, request_id)
    draft = _draft(request)
    return update_request(
        session,
        request_id,
        RequestDraft(
            **{
                **draft.__dict__,
                "identity_confirmed_on": on,
                "authority_seen": draft.authority_seen or authority_seen,
            }
        ),
    )


def pause_clock(session: Session, request_id: int, on: dt.date, reason: str) -> RightsRequest:
    """Stop the clock from ``on`` while waiting for the requester to clarify the request."""
    request = _require_open(session, request_id)
    if not reason.strip():
        raise InvalidInput("Say what clarification was asked for.")
    if request.paused:
        raise InvalidInput("The clock is already stopped for clarification.")
    if on < request.received_on or on > session.today():
        raise InvalidInput("The pause must start between the request's arrival and today.")
    last_end = max((p.to_date for p in request.pauses if p.to_date), default=None)
    if last_end is not None and on < last_end:
        raise InvalidInput("A pause cannot start before the previous one ended.")
    with transaction(session.conn):
        pause_id = rights_model.add_pause(session.conn, request_id, on, reason.strip())
        registers.emit_added(
            session.conn, "rights_pauses", pause_id, session.user_id, session.now()
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.RIGHTS_CLOCK_PAUSED,
            _line(request_id),
            f"pause:{pause_id}",
        )
    return _reload(session, request_id)


def resume_clock(session: Session, request_id: int, on: dt.date) -> RightsRequest:
    """Restart the clock on ``on``, the day clarification arrived: the paused days, from the
    day it was asked for to ``on``, both included (DPA 2018 s.54(3C)), are added to the due
    date (and any extension), then the working-day roll applies again."""
    request = _require_open(session, request_id)
    pause = next((p for p in request.pauses if p.to_date is None), None)
    if pause is None:
        raise InvalidInput("The clock is not stopped.")
    if on < pause.from_date or on > session.today():
        raise InvalidInput("The clock restarts between the day it stopped and today.")
    pauses = [*_closed_pauses(request), (pause.from_date, on)]
    due, extended = _schedule(
        request.identity_confirmed_on, pauses, request.extension_told_on is not None
    )
    with transaction(session.conn):
        with _travelling(session, "rights_pauses", pause.id):
            rights_model.end_pause(session.conn, pause.id, on)
        rights_model.set_fields(
            session.conn, request_id, session.now(), due_on=due, extended_to=extended
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.RIGHTS_CLOCK_RESUMED,
            _line(request_id),
            f"pause:{pause.id}",
        )
    return _reload(session, request_id)


def extend(session: Session, request_id: int, told_on: dt.date) -> RightsRequest:
    """Extend a complex request to three months from the start. The requester must have been
    told within the first month; ``told_on`` is the day they were told."""
    request = _require_open(session, request_id)
    start = request.identity_confirmed_on
    if start is None:
        raise InvalidInput("Confirm the requester's identity first: the clock has not started.")
    if request.extension_told_on is not None:
        raise InvalidInput("This request has already been extended.")
    if told_on > session.today():
        raise InvalidInput("The day the requester was told is in the future; check it.")
    if told_on < request.received_on:
        raise InvalidInput("The requester cannot have been told before the request arrived.")
    pauses = _closed_pauses(request)
    first_month = deadlines.due_date(start, pauses)
    if told_on > first_month:
        raise InvalidInput(
            f"An extension must be given within the first month (by {first_month:%d %B %Y}); "
            "it is too late to extend this request."
        )
    due, extended = _schedule(start, pauses, True)
    with transaction(session.conn), _travelling(session, "rights_requests", request_id):
        rights_model.set_fields(
            session.conn,
            request_id,
            session.now(),
            due_on=due,
            extended_to=extended,
            extension_told_on=told_on,
        )
        audit.record(
            session.conn, session.user_id, audit.RIGHTS_REQUEST_EXTENDED, _line(request_id)
        )
    return _reload(session, request_id)


def close_request(
    session: Session,
    request_id: int,
    outcome: Outcome,
    responded_on: dt.date,
    refusal_reason: str = "",
) -> RightsRequest:
    """Record the response and close the request. A refusal (in whole or part) needs its
    reasons, which the requester is told together with their right to complain to the ICO."""
    request = _require_open(session, request_id)
    if outcome.needs_reason and not refusal_reason.strip():
        raise InvalidInput("Give the reasons for the refusal; the requester must be told them.")
    if responded_on < request.received_on or responded_on > session.today():
        raise InvalidInput("The response date must fall between the request's arrival and today.")
    if request.paused:
        raise InvalidInput("The clock is stopped for clarification: restart it first.")
    with transaction(session.conn), _travelling(session, "rights_requests", request_id):
        rights_model.set_fields(
            session.conn,
            request_id,
            session.now(),
            status=RequestStatus.CLOSED,
            outcome=outcome,
            refusal_reason=refusal_reason.strip(),
            responded_on=responded_on,
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.RIGHTS_REQUEST_CLOSED,
            _line(request_id),
            f"outcome={outcome.value}",
        )
    return _reload(session, request_id)


@dataclass(frozen=True)
class Candidate:
    """Someone on record a new request may be about, found by name, phone or postcode."""

    person_id: int
    name: str
    date_of_birth: dt.date | None
    role: CaseRole
    reference: str  # a case they are on, that this user may open


def find_subjects(session: Session, text: str, limit: int = 20) -> list[Candidate]:
    """People on the cases this user may open whose name, alias, phone or postcode matches
    ``text``: the subject of a new request, picked from a list rather than typed as an id.
    Like search, the audit entry records how many were found, never what was typed."""
    session.require(*REGISTER_ROLES)
    check_query(text)
    where, params = access.condition(session)
    found: list[Candidate] = []
    seen: set[int] = set()
    for case_id, matched in search_model.matching_cases(session.conn, text, where, params, 50):
        if "person" not in matched:
            continue
        case = case_model.get(session.conn, case_id)
        for member in case_model.members(session.conn, case_id):
            person = member.person
            if person.id in seen or not search_model.person_matches(person, text):
                continue
            seen.add(person.id)
            found.append(
                Candidate(
                    person.id,
                    person.name,
                    person.details.date_of_birth,
                    member.role,
                    case.reference if case else "",
                )
            )
    found = found[:limit]
    with transaction(session.conn):
        audit.record(session.conn, session.user_id, audit.SEARCHED, "", f"subjects={len(found)}")
    return found


def get_request(session: Session, request_id: int) -> RightsRequest:
    session.require(*REGISTER_ROLES)
    request = rights_model.get(session.conn, request_id)
    if request is None:
        raise InvalidInput("There is no such request in the register.")
    return request


def find_request(session: Session, reference: str) -> RightsRequest:
    """A request by its reference (RR-YYYY-NNNN)."""
    session.require(*REGISTER_ROLES)
    request = rights_model.by_reference(session.conn, reference)
    if request is None:
        raise InvalidInput(f"There is no request {reference.strip()!r} in the register.")
    return request


def register(session: Session, status: RequestStatus | None = None) -> list[RightsRequest]:
    """Every request (or those with ``status``), soonest deadline first."""
    session.require(*REGISTER_ROLES)
    return rights_model.listing(session.conn, status)


def overdue(session: Session, today: dt.date | None = None) -> list[RightsRequest]:
    """Open requests past their deadline (a request waiting for clarification is not)."""
    session.require(*REGISTER_ROLES)
    day = _today(session, today)
    return rights_model.due_between(session.conn, None, day - dt.timedelta(days=1))


def due_this_week(session: Session, today: dt.date | None = None) -> list[RightsRequest]:
    """Open requests due today or in the six days after it."""
    session.require(*REGISTER_ROLES)
    day = _today(session, today)
    return rights_model.due_between(session.conn, day, day + WEEK)


def open_access_request(session: Session, person_id: int) -> RightsRequest | None:
    """The oldest open access (or portability) request about this person, if any."""
    session.require(*REGISTER_ROLES)
    found = rights_model.open_for_subject(
        session.conn, person_id, (RightKind.ACCESS, RightKind.PORTABILITY)
    )
    return found[0] if found else None


# -- conflicts on the register, in a team ---------------------------------------------------------


@dataclass(frozen=True)
class RegisterConflict:
    """A register field two laptops set without seeing each other's change: every value, who
    set it and when, until a manager or the DPO chooses one."""

    id: int
    field: str  # ``table.column``, e.g. ``rights_requests.requester``
    reference: str  # the request's
    target: str
    candidates: tuple[conflicts.Candidate, ...]


def register_conflicts(session: Session) -> list[RegisterConflict]:
    """The open conflicts on the register, oldest first (audited as a view, by count)."""
    session.require(*REGISTER_ROLES)
    names = {str(g): str(u) for g, u in session.conn.execute("SELECT gid, username FROM users")}
    found = [
        RegisterConflict(
            conflict_id,
            name,
            reference,
            target,
            tuple(
                conflicts.Candidate(
                    op_id=str(c["op_id"]),
                    value=c["value"],
                    username=names.get(str(c["user"]), ""),
                    device=str(c["device"]),
                    at_ms=Hlc.decode(str(c["hlc"])).wall_ms,
                )
                for c in json.loads(values)
            ),
        )
        for conflict_id, name, target, values, reference in registers.open_conflicts(session.conn)
    ]
    with transaction(session.conn):
        audit.record(
            session.conn, session.user_id, audit.CONFLICTS_VIEWED, "", f"conflicts={len(found)}"
        )
    return found


def conflicted_references(session: Session) -> frozenset[str]:
    """The references of the requests with an open conflict (for the register's marks; no
    values, so not audited)."""
    session.require(*REGISTER_ROLES)
    return frozenset(c[4] for c in registers.open_conflicts(session.conn))


def resolve_conflict(session: Session, conflict_id: int, chosen_op_id: str) -> None:
    """Keep the value the change ``chosen_op_id`` set, on every laptop holding the register
    once they sync."""
    session.require(*REGISTER_ROLES)
    held = [c for c in register_conflicts(session) if c.id == conflict_id]
    if not held:
        raise InvalidInput("That conflict is no longer open on this laptop.")
    chosen = [c for c in held[0].candidates if c.op_id == chosen_op_id]
    if not chosen:
        raise InvalidInput("Choose one of the values the conflict holds.")
    with transaction(session.conn):
        registers.resolve(
            session.conn,
            held[0].target,
            held[0].field,
            chosen[0].value,
            session.user_id,
            session.now(),
        )
        request = rights_model.by_reference(session.conn, held[0].reference)
        audit.record(
            session.conn,
            session.user_id,
            audit.CONFLICT_RESOLVED,
            _line(request.id if request else 0),
            f"field={held[0].field}",
        )


def may_read_register(session: Session) -> bool:
    """Whether the user reads the register of rights requests."""
    return session.has(*REGISTER_ROLES)
