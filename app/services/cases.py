"""Cases and the people on them: referral, the case screen, lifecycle, holds and restriction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from app.errors import InvalidInput, PermissionDenied
from app.models import audit as audit_model
from app.models import cases as case_model
from app.models import consent as consent_model
from app.models import merges as merge_model
from app.models import notes as note_model
from app.models import outcomes as outcome_model
from app.models import people as people_model
from app.models import risk as risk_model
from app.models import search as search_model
from app.models import sharing as share_model
from app.models import users as user_model
from app.models.db import transaction
from app.models.records import (
    CaseDetails,
    CaseMember,
    CaseOutcome,
    CaseRole,
    CaseStatus,
    CaseSummary,
    CaseView,
    ContactRules,
    Person,
    PersonDetails,
    RiskLevel,
    SafeContact,
)
from app.models.users import Role
from app.services import access, audit
from app.services.session import Session
from app.sync import ops

# -- checks on what was typed --------------------------------------------------------------------


def check_person(details: PersonDetails, today: dt.date) -> None:
    if not details.given_name.strip() and not details.family_name.strip():
        raise InvalidInput("Give the person's name (a first or last name at least).")
    if details.date_of_birth is not None:
        if details.date_of_birth > today:
            raise InvalidInput("The date of birth is in the future; check it.")
        if details.date_of_birth.year < today.year - 120:
            raise InvalidInput("The date of birth is more than 120 years ago; check it.")


def _check_dates(details: CaseDetails, today: dt.date) -> None:
    if details.referral_date > today:
        raise InvalidInput("The referral date is in the future; check it.")


def _person_line(person_id: int) -> str:
    return f"person:{person_id}"


def _case_line(case_id: int) -> str:
    return f"case:{case_id}"


def _refresh_client_name(session: Session, case_id: int) -> None:
    client = case_model.client_id(session.conn, case_id)
    person = people_model.get(session.conn, client) if client else None
    case_model.set_fields(
        session.conn, case_id, session.now(), client_name=person.name if person else ""
    )


# -- referral -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonMatch:
    """A person on record who looks like the one being entered, on a case the user may open."""

    person_id: int
    name: str
    date_of_birth: dt.date | None
    reference: str  # a case they are on (one the user may open)
    role: CaseRole


@dataclass(frozen=True)
class MatchReport:
    """Existing records that look like a new referral's client."""

    visible: tuple[CaseSummary, ...]
    hidden: int  # matches on cases this user may not open: counted, never shown
    people: tuple[PersonMatch, ...] = ()  # the people on the visible cases who match

    @property
    def any(self) -> bool:
        return bool(self.visible) or self.hidden > 0


def find_matches(session: Session, details: PersonDetails) -> MatchReport:
    """Say whether a person like this is already on record, so duplicates are not created.

    Matches on cases the user may open are listed; others are only counted.
    """
    session.require(*access.CASE_ROLES)
    found: set[int] = set()
    name = f"{details.given_name} {details.family_name}".strip()
    probes = [name] if name else []
    probes += [p for p in details.phones if p.strip()]
    if details.postcode.strip() and details.family_name.strip():
        # A postcode alone would match the neighbours: pair it with the family name.
        probes.append(f"{details.family_name} {details.postcode}")
    for probe in probes:
        found |= search_model.count_matching_cases(session.conn, probe)
    if not found:
        return MatchReport((), 0)
    where, params = access.condition(session)
    marks = ", ".join("?" * len(found))
    visible = case_model.summaries(
        session.conn,
        where=f"({where}) AND c.id IN ({marks})",
        params=(*params, *sorted(found)),
        limit=len(found),
    )
    with transaction(session.conn):
        audit.record(
            session.conn,
            session.user_id,
            audit.SEARCHED,
            "",
            f"duplicate check: {len(found)} match(es), {len(visible)} visible",
        )
    return MatchReport(
        tuple(visible), len(found) - len(visible), _matching_people(session, details, visible)
    )


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _looks_like(person: Person, details: PersonDetails) -> bool:
    """Same name, a shared phone number, or the same family name at the same postcode."""
    d = person.details
    wanted = f"{details.given_name.strip()} {details.family_name.strip()}".strip().casefold()
    if wanted and f"{d.given_name} {d.family_name}".strip().casefold() == wanted:
        return True
    phones = {_digits(p) for p in d.phones} - {""}
    if phones & {_digits(p) for p in details.phones}:
        return True
    family, postcode = details.family_name.strip().casefold(), details.postcode.strip().upper()
    return bool(family and postcode) and (
        d.family_name.casefold() == family and d.postcode.upper() == postcode
    )


def _matching_people(
    session: Session, details: PersonDetails, visible: list[CaseSummary]
) -> tuple[PersonMatch, ...]:
    found: dict[int, PersonMatch] = {}
    for summary in visible:
        for m in case_model.members(session.conn, summary.id):
            if m.person.id not in found and _looks_like(m.person, details):
                found[m.person.id] = PersonMatch(
                    m.person.id,
                    m.person.name,
                    m.person.details.date_of_birth,
                    summary.reference,
                    m.role,
                )
    return tuple(found.values())


def create_referral(
    session: Session,
    client: PersonDetails,
    details: CaseDetails,
    *,
    allocate_to: int | None = None,
    existing_client_id: int | None = None,
) -> int:
    """Open a new case at referral stage with its client; returns the case id.

    A caseworker's referral is allocated to them; a manager may allocate it to anyone in the
    team, or leave it unallocated. ``existing_client_id`` reuses a person already on a case the
    user may open (after a duplicate warning) instead of creating a new one.
    """
    session.require(*access.CASE_ROLES)
    _check_dates(details, session.today())
    if Role.MANAGER in session.roles:
        worker = allocate_to
    else:
        if allocate_to not in (None, session.user_id):
            raise PermissionDenied("Only a manager can allocate a case to someone else.")
        worker = session.user_id
    if worker is not None:
        _require_team_worker(session, worker)
    if existing_client_id is not None:
        access.require_person(session, existing_client_id)
    else:
        check_person(client, session.today())
    now = session.now()
    with transaction(session.conn):
        reference = case_model.next_reference(session.conn, details.referral_date.year)
        case_id = case_model.insert(session.conn, reference, details, worker, session.team_id, now)
        person_id = existing_client_id or people_model.insert(session.conn, client, now)
        case_model.add_member(session.conn, case_id, person_id, CaseRole.CLIENT)
        person = people_model.get(session.conn, person_id)
        assert person is not None
        case_model.set_fields(session.conn, case_id, now, client_name=person.name)
        search_model.index_case(session.conn, case_id, reference)
        search_model.index_person(session.conn, case_id, person, new=True)
        audit.record(session.conn, session.user_id, audit.CASE_CREATED, _case_line(case_id))
        ops.emit_case_created(session.conn, case_id, session.user_id, now)
        ops.emit_person_on_case(session.conn, person_id, case_id, session.user_id, now)
        ops.emit_member(
            session.conn, "case.person_linked", case_id, person_id, "client", session.user_id, now
        )
        if existing_client_id is None:
            audit.record(
                session.conn,
                session.user_id,
                audit.PERSON_ADDED,
                _person_line(person_id),
                f"case:{case_id} role=client",
            )
    return case_id


def team(session: Session) -> list[user_model.User]:
    """The enabled caseworkers and managers of the user's team (to allocate a case to, or to
    name the manager a share was decided with)."""
    session.require(*access.CASE_ROLES)
    return [
        u
        for u in user_model.all_users(session.conn)
        if u.team_id == session.team_id
        and not u.disabled
        and u.roles & {Role.CASEWORKER, Role.MANAGER}
    ]


def _require_team_worker(session: Session, user_id: int) -> None:
    user = user_model.by_id(session.conn, user_id)
    if user is None or user.disabled or user.team_id != session.team_id:
        raise InvalidInput("Allocate the case to an enabled member of your team.")
    if not user.roles & {Role.CASEWORKER, Role.MANAGER}:
        raise InvalidInput("Allocate the case to a caseworker or a manager.")


# -- the case screen ----------------------------------------------------------------------------


def open_case(
    session: Session, case_id: int, *, note_limit: int = 100, record_view: bool = True
) -> CaseView:
    """Everything the case screen shows, in one call; the view is recorded in the audit.

    ``record_view`` False is for refreshing a case already open on screen after the user's
    own change (the change itself is audited), so one view is not recorded many times.
    """
    case = access.require_case(session, case_id)
    conn = session.conn
    members = tuple(case_model.members(conn, case_id))
    people_ids = sorted({m.person.id for m in members})
    consents = tuple(c for pid in people_ids for c in consent_model.current(conn, pid))
    worker = user_model.by_id(conn, case.allocated_user_id) if case.allocated_user_id else None
    view = CaseView(
        case=case,
        members=members,
        contact=_contact_rules(session, case_id, members),
        consents=consents,
        shares=tuple(share_model.for_case(conn, case_id)),
        notes=tuple(note_model.timeline(conn, case_id, limit=note_limit)),
        note_count=note_model.count(conn, case_id),
        latest_dash=risk_model.latest(conn, case_id),
        dash_history=tuple(risk_model.history(conn, case_id)),
        marac_actions=tuple(risk_model.actions(conn, case_id)),
        outcome=outcome_model.get(conn, case_id),
        pending_merges=tuple((m.id, m.kept_id) for m in merge_model.pending_for(conn, people_ids))
        if Role.MANAGER in session.roles
        else (),
        allocated_worker=worker.username if worker else "",
        break_glass=case_id in session.break_glass,
    )
    if record_view:
        with transaction(conn):
            audit.record(conn, session.user_id, audit.CASE_VIEWED, _case_line(case_id))
    return view


def _contact_rules(session: Session, case_id: int, members: tuple[CaseMember, ...]) -> ContactRules:
    clients = [m for m in members if m.role is CaseRole.CLIENT]
    if not clients:
        return ContactRules(case_id, None, "", None, False)
    client = clients[0].person
    rules = case_model.safe_contact(session.conn, case_id, client.id)
    return ContactRules(case_id, client.id, client.name, rules, client.restricted)


def history(session: Session, case_id: int, limit: int = 500) -> list[audit_model.Entry]:
    """This case's audit entries, newest first, for its managers (the History tab)."""
    session.require(Role.MANAGER)
    access.require_case(session, case_id)
    return audit_model.for_case(session.conn, case_id, limit)


def contact_rules(session: Session, case_id: int) -> ContactRules:
    """How it is safe to contact this case's client, for the banner on the case."""
    access.require_case(session, case_id)
    return _contact_rules(session, case_id, tuple(case_model.members(session.conn, case_id)))


def list_cases(
    session: Session,
    *,
    status: CaseStatus | None = None,
    risk: RiskLevel | None = None,
    worker_id: int | None = None,
    marac_due: bool | None = None,
    not_closed: bool = False,
    order_by: str = "reference",
    descending: bool = False,
    after_reference: str = "",
    after_key: object = None,
    limit: int = 100,
) -> list[CaseSummary]:
    """The cases this user may open, a page at a time, sorted by ``order_by`` (one of
    ``case_model.SORT_KEYS``). For the next page pass the last row's reference and
    ``case_model.sort_key(row, order_by)``."""
    if order_by not in case_model.SORT_KEYS:
        raise InvalidInput(
            "Cases can be sorted by reference, client, worker, status, risk, next review or "
            "last activity."
        )
    session.require(*access.CASE_ROLES)
    where, params = access.condition(session)
    clauses, extra = [f"({where})"], list(params)
    if status is not None:
        clauses.append("c.status = ?")
        extra.append(status.value)
    if risk is not None:
        clauses.append("c.risk_level = ?")
        extra.append(risk.value)
    if worker_id is not None:
        clauses.append("c.allocated_user_id = ?")
        extra.append(worker_id)
    if marac_due is not None:
        clauses.append("c.marac_due = ?")
        extra.append(int(marac_due))
    if not_closed:
        clauses.append("c.status != ?")
        extra.append(CaseStatus.CLOSED.value)
    return case_model.summaries(
        session.conn,
        where=" AND ".join(clauses),
        params=tuple(extra),
        after_reference=after_reference,
        after_key=after_key,
        order_by=order_by,
        descending=descending,
        limit=limit,
    )


# -- changes to a case --------------------------------------------------------------------------


def update_case(session: Session, case_id: int, details: CaseDetails) -> None:
    access.require_open_case(session, case_id)
    access.refuse_if_client_restricted(session, case_id)
    _check_dates(details, session.today())
    with transaction(session.conn):
        before = case_model.get(session.conn, case_id)
        case_model.update_details(session.conn, case_id, details, session.now())
        if before is not None:
            ops.emit_case(session.conn, "case.field_set", before, session.user_id, session.now())
        audit.record(session.conn, session.user_id, audit.CASE_CHANGED, _case_line(case_id))


def add_person(session: Session, case_id: int, details: PersonDetails, role: CaseRole) -> int:
    """Add a new person to a case in ``role``; returns their id."""
    access.require_open_case(session, case_id)
    check_person(details, session.today())
    now = session.now()
    with transaction(session.conn):
        person_id = people_model.insert(session.conn, details, now)
        ops.emit_person_added(session.conn, person_id, case_id, session.user_id, now)
        _link(session, case_id, person_id, role)
    return person_id


def link_person(session: Session, case_id: int, person_id: int, role: CaseRole) -> None:
    """Put a person already on record (on a case you may open) on this case too."""
    access.require_open_case(session, case_id)
    access.require_person(session, person_id)
    access.refuse_if_restricted(session, [person_id])
    with transaction(session.conn):
        _link(session, case_id, person_id, role)


def _link(session: Session, case_id: int, person_id: int, role: CaseRole) -> None:
    person = people_model.get(session.conn, person_id)
    if person is None:
        raise InvalidInput("There is no such person.")
    case_model.add_member(session.conn, case_id, person_id, role)
    ops.emit_person_on_case(session.conn, person_id, case_id, session.user_id, session.now())
    ops.emit_member(
        session.conn,
        "case.person_linked",
        case_id,
        person_id,
        role.value,
        session.user_id,
        session.now(),
    )
    search_model.index_person(session.conn, case_id, person)
    if role is CaseRole.CLIENT:
        _refresh_client_name(session, case_id)
    audit.record(
        session.conn,
        session.user_id,
        audit.PERSON_ADDED,
        _person_line(person_id),
        f"case:{case_id} role={role.value}",
    )


def remove_person(session: Session, case_id: int, person_id: int, role: CaseRole) -> None:
    access.require_open_case(session, case_id)
    access.refuse_if_restricted(session, [person_id])
    with transaction(session.conn):
        case_model.remove_member(session.conn, case_id, person_id, role)
        ops.emit_member(
            session.conn,
            "case.person_removed",
            case_id,
            person_id,
            role.value,
            session.user_id,
            session.now(),
        )
        if not case_model.is_member(session.conn, case_id, person_id):
            search_model.unindex_person(session.conn, case_id, person_id)
        if role is CaseRole.CLIENT:
            _refresh_client_name(session, case_id)
        audit.record(
            session.conn,
            session.user_id,
            audit.PERSON_REMOVED,
            _person_line(person_id),
            f"case:{case_id} role={role.value}",
        )


def get_person(session: Session, person_id: int) -> Person:
    access.require_person(session, person_id)
    person = people_model.get(session.conn, person_id)
    assert person is not None
    return person


def update_person(session: Session, person_id: int, details: PersonDetails) -> None:
    access.require_person(session, person_id)
    access.refuse_if_restricted(session, [person_id])
    check_person(details, session.today())
    now = session.now()
    with transaction(session.conn):
        before = people_model.get(session.conn, person_id)
        assert before is not None
        people_model.update(session.conn, person_id, details, now)
        ops.emit_person_name(session.conn, before, session.user_id, now)
        person = people_model.get(session.conn, person_id)
        assert person is not None
        search_model.reindex_person(
            session.conn, person, people_model.case_ids(session.conn, person_id)
        )
        for case_id in case_model.cases_where_client(session.conn, person_id):
            case_model.set_fields(session.conn, case_id, now, client_name=person.name)
        audit.record(session.conn, session.user_id, audit.PERSON_CHANGED, _person_line(person_id))


def set_safe_contact(session: Session, case_id: int, rules: SafeContact) -> None:
    """Record how it is safe to contact the case's client."""
    access.require_open_case(session, case_id)
    if case_model.client_id(session.conn, case_id) != rules.person_id:
        raise InvalidInput("Safe contact details belong to the case's client.")
    access.refuse_if_restricted(session, [rules.person_id])
    if rules.last_checked and rules.last_checked > session.today():
        raise InvalidInput("The date the details were last checked is in the future.")
    with transaction(session.conn):
        before = case_model.safe_contact(session.conn, case_id, rules.person_id)
        case_model.put_safe_contact(session.conn, case_id, rules, session.user_id, session.now())
        ops.emit_safe_contact(session.conn, case_id, before, session.user_id, session.now())
        audit.record(session.conn, session.user_id, audit.SAFE_CONTACT_CHANGED, _case_line(case_id))


# -- lifecycle (managers allocate and close) ----------------------------------------------------


def allocate(session: Session, case_id: int, user_id: int | None) -> None:
    session.require(Role.MANAGER)
    case = access.require_case(session, case_id)
    if user_id is not None:
        _require_team_worker(session, user_id)
    with transaction(session.conn):
        case_model.set_fields(session.conn, case_id, session.now(), allocated_user_id=user_id)
        ops.emit_case(session.conn, "case.allocated", case, session.user_id, session.now())
        audit.record(
            session.conn,
            session.user_id,
            audit.CASE_ALLOCATED,
            _case_line(case_id),
            f"user:{user_id}" if user_id else "unallocated",
        )


def open_referral(session: Session, case_id: int, opened_on: dt.date) -> None:
    """Move a case from referral to open work."""
    case = access.require_open_case(session, case_id)
    if case.status is not CaseStatus.REFERRAL:
        raise InvalidInput("Only a case at referral stage can be opened.")
    if opened_on < case.details.referral_date or opened_on > session.today():
        raise InvalidInput("The opening date must fall between the referral and today.")
    with transaction(session.conn):
        case_model.set_fields(
            session.conn,
            case_id,
            session.now(),
            status=CaseStatus.OPEN.value,
            opened_date=opened_on,
        )
        ops.emit_case(session.conn, "case.field_set", case, session.user_id, session.now())
        audit.record(session.conn, session.user_id, audit.CASE_OPENED, _case_line(case_id))


def close_case(
    session: Session,
    case_id: int,
    closed_on: dt.date,
    reason: str,
    outcome: CaseOutcome | None = None,
) -> None:
    """Close a case; its retention clock starts from ``closed_on``. ``outcome`` holds what a
    commissioner counts (the reason from a list, risk at exit and the person's own view);
    ``reason`` is the text shown on the case (the listed reason, with any detail)."""
    session.require(Role.MANAGER)
    case = access.require_open_case(session, case_id)
    if not reason.strip():
        raise InvalidInput("Give the reason the case is closing.")
    if closed_on < case.details.referral_date or closed_on > session.today():
        raise InvalidInput("The closing date must fall between the referral and today.")
    with transaction(session.conn):
        case_model.set_fields(
            session.conn,
            case_id,
            session.now(),
            status=CaseStatus.CLOSED.value,
            closed_date=closed_on,
            closed_reason=reason.strip(),
        )
        ops.emit_case(session.conn, "case.closed", case, session.user_id, session.now())
        if outcome is not None:
            outcome_model.put(session.conn, case_id, outcome, session.user_id, session.now())
            ops.emit_row(session.conn, "case_outcomes", case_id, session.user_id, session.now())
        audit.record(
            session.conn,
            session.user_id,
            audit.CASE_CLOSED,
            _case_line(case_id),
            f"outcome={'yes' if outcome else 'no'}",
        )


def reopen_case(session: Session, case_id: int) -> None:
    """Reopen a closed case; this clears its closure date, and so its retention date."""
    session.require(Role.MANAGER)
    case = access.require_case(session, case_id)
    if case.status is not CaseStatus.CLOSED:
        raise InvalidInput("Only a closed case can be reopened.")
    with transaction(session.conn):
        case_model.set_fields(
            session.conn,
            case_id,
            session.now(),
            status=CaseStatus.OPEN.value,
            closed_date=None,
            closed_reason="",
        )
        ops.emit_case(session.conn, "case.field_set", case, session.user_id, session.now())
        if outcome_model.get(session.conn, case_id) is not None:
            ops.emit_row(
                session.conn,
                "case_outcomes",
                case_id,
                session.user_id,
                session.now(),
                removed=True,
            )
        outcome_model.remove(session.conn, case_id)
        audit.record(session.conn, session.user_id, audit.CASE_REOPENED, _case_line(case_id))


def place_legal_hold(session: Session, case_id: int, reason: str, review_on: dt.date) -> None:
    """Stop the case being destroyed (proceedings, a review, an open rights request)."""
    session.require(Role.MANAGER)
    case = access.require_case(session, case_id)
    if not reason.strip():
        raise InvalidInput("Give the reason for the legal hold.")
    if review_on <= session.today():
        raise InvalidInput("The hold's review date must be in the future.")
    with transaction(session.conn):
        case_model.set_fields(
            session.conn,
            case_id,
            session.now(),
            legal_hold_reason=reason.strip(),
            legal_hold_review=review_on,
        )
        ops.emit_case(session.conn, "case.legal_hold", case, session.user_id, session.now())
        audit.record(session.conn, session.user_id, audit.LEGAL_HOLD_PLACED, _case_line(case_id))


def lift_legal_hold(session: Session, case_id: int) -> None:
    session.require(Role.MANAGER)
    case = access.require_case(session, case_id)
    if not case.legal_hold_reason:
        raise InvalidInput("This case has no legal hold.")
    with transaction(session.conn):
        case_model.set_fields(
            session.conn, case_id, session.now(), legal_hold_reason="", legal_hold_review=None
        )
        ops.emit_case(session.conn, "case.legal_hold", case, session.user_id, session.now())
        audit.record(session.conn, session.user_id, audit.LEGAL_HOLD_LIFTED, _case_line(case_id))


def restrict_person(session: Session, person_id: int, reason: str) -> None:
    """Restrict processing of a person's data: their record becomes read-only everywhere."""
    session.require(Role.MANAGER)
    access.require_person(session, person_id)
    if not reason.strip():
        raise InvalidInput("Give the reason for the restriction.")
    with transaction(session.conn):
        before = people_model.get(session.conn, person_id)
        people_model.set_restriction(session.conn, person_id, True, reason.strip())
        if before is not None:
            ops.emit_person_name(session.conn, before, session.user_id, session.now())
        audit.record(
            session.conn, session.user_id, audit.RESTRICTION_PLACED, _person_line(person_id)
        )


class ToldBy(StrEnum):
    """How a person was told that their restriction would be lifted."""

    LETTER = "letter"
    PHONE = "phone"
    EMAIL = "email"
    IN_PERSON = "in_person"


def lift_restriction(
    session: Session, person_id: int, *, told_on: dt.date | None, told_by: ToldBy | None
) -> None:
    """Lift a restriction; the person must be told before it is lifted, and the day and the
    way they were told are recorded (in the audit entry, which names no one)."""
    session.require(Role.MANAGER)
    access.require_person(session, person_id)
    if told_on is None or told_by is None:
        raise InvalidInput("Tell the person before the restriction is lifted, then record it.")
    if told_on > session.today():
        raise InvalidInput("The day the person was told cannot be in the future.")
    with transaction(session.conn):
        before = people_model.get(session.conn, person_id)
        people_model.set_restriction(session.conn, person_id, False, "")
        if before is not None:
            ops.emit_person_name(session.conn, before, session.user_id, session.now())
        audit.record(
            session.conn,
            session.user_id,
            audit.RESTRICTION_LIFTED,
            _person_line(person_id),
            f"person told on {told_on.isoformat()} by {told_by.value}",
        )


def may_manage(session: Session) -> bool:
    """Whether the user allocates, closes and reopens cases and places or lifts legal holds,
    and sees the whole team's cases (the desktop app offers those actions and lists only then;
    each call checks again)."""
    return session.has(Role.MANAGER)


def may_read_history(session: Session) -> bool:
    """Whether the user sees a case's own audit entries (:func:`history`)."""
    return session.has(Role.MANAGER)
