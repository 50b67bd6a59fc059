"""Who may open which case: the one place case access is decided.

Caseworkers reach the cases allocated to them; managers reach their team's cases; admins and
the DPO reach no case content. A caseworker who must open another case gives a reason
("break glass"): it is allowed for the rest of the session, audited, and listed for managers.
"""

from __future__ import annotations

from app.errors import InvalidInput, PermissionDenied
from app.models import break_glass as break_glass_model
from app.models import cases as case_model
from app.models import people as people_model
from app.models.break_glass import BreakGlassEntry
from app.models.db import transaction
from app.models.records import Case, CaseStatus
from app.models.users import Role
from app.services import audit
from app.services.session import Session
from app.sync import ops

CASE_ROLES = (Role.CASEWORKER, Role.MANAGER)
NO_CASE_ACCESS = (
    "Your role does not include case records; a caseworker or manager can open this case."
)
NOT_ALLOCATED = (
    "This case is not allocated to you. Use break-glass and give a reason if you must open it."
)


def condition(session: Session) -> tuple[str, tuple[object, ...]]:
    """An SQL condition on cases ``c`` that holds for exactly the cases ``session`` may open."""
    parts: list[str] = []
    params: list[object] = []
    if Role.MANAGER in session.roles:
        parts.append("c.team_id = ?")
        params.append(session.team_id)
    if Role.CASEWORKER in session.roles:
        parts.append("c.allocated_user_id = ?")
        params.append(session.user_id)
        if session.break_glass:
            parts.append(f"c.id IN ({', '.join('?' * len(session.break_glass))})")
            params.extend(sorted(session.break_glass))
    if not parts:
        return "0", ()
    return " OR ".join(parts), tuple(params)


def may_open(session: Session, case: Case) -> bool:
    if Role.MANAGER in session.roles and case.team_id == session.team_id:
        return True
    if Role.CASEWORKER in session.roles:
        return case.allocated_user_id == session.user_id or case.id in session.break_glass
    return False


def require_case(session: Session, case_id: int) -> Case:
    """The case, if ``session`` may open it; otherwise a permission error."""
    session.require(*CASE_ROLES)
    case = case_model.get(session.conn, case_id)
    if case is None:
        raise InvalidInput("There is no such case.")
    if not may_open(session, case):
        raise PermissionDenied(NOT_ALLOCATED)
    return case


def require_open_case(session: Session, case_id: int) -> Case:
    """As ``require_case``, for a change: a closed case must be reopened first."""
    case = require_case(session, case_id)
    if case.status is CaseStatus.CLOSED:
        raise InvalidInput("This case is closed. A manager can reopen it first.")
    return case


def require_person(session: Session, person_id: int) -> list[int]:
    """The ids of the cases through which ``session`` may reach this person (at least one)."""
    session.require(*CASE_ROLES)
    where, params = condition(session)
    reachable = case_model.reachable_cases_of(session.conn, person_id, where, params)
    if not reachable:
        raise PermissionDenied("That person is not on any case you may open.")
    return reachable


def refuse_if_restricted(session: Session, person_ids: list[int]) -> None:
    """Processing of a restricted person's data is read-only until the restriction is lifted."""
    session.require(*CASE_ROLES)
    if people_model.any_restricted(session.conn, person_ids):
        raise PermissionDenied(
            "Processing of this person's record is restricted; it is read-only until a "
            "manager lifts the restriction."
        )


def refuse_if_client_restricted(session: Session, case_id: int) -> None:
    """Changes to a case are refused while its client's record is restricted."""
    refuse_if_restricted(session, case_model.client_ids(session.conn, case_id))


# -- break glass --------------------------------------------------------------------------------


def break_glass(session: Session, case_id: int, reason: str) -> None:
    """Open a case not allocated to you, for this session, with a reason managers will see."""
    session.require(Role.CASEWORKER)
    if len(reason.strip()) < 10:
        raise InvalidInput("Say why you need to open this case (at least a short sentence).")
    case = case_model.get(session.conn, case_id)
    if case is None:
        raise InvalidInput("There is no such case.")
    with transaction(session.conn):
        row_id = break_glass_model.insert(
            session.conn, session.user_id, case_id, reason.strip(), session.now()
        )
        # The record managers review travels with the case, so they see it on their laptops.
        ops.emit_record(
            session.conn, "break_glass.recorded", row_id, case_id, session.user_id, session.now()
        )
        audit.record(session.conn, session.user_id, audit.BREAK_GLASS, f"case:{case_id}")
    session.break_glass.add(case_id)


def break_glass_by_reference(session: Session, reference: str, reason: str) -> int:
    """Break-glass for a case known only by its reference (it is not in the user's lists);
    returns the case id."""
    session.require(Role.CASEWORKER)
    case = case_model.by_reference(session.conn, reference.strip().upper())
    if case is None:
        raise InvalidInput("There is no case with that reference.")
    break_glass(session, case.id, reason)
    return case.id


def break_glass_log(session: Session, limit: int = 200) -> list[BreakGlassEntry]:
    """Recent break-glass openings, newest first, for managers."""
    session.require(Role.MANAGER)
    return break_glass_model.for_team(session.conn, session.team_id, limit)


# -- questions the desktop app asks before it offers an area or an action (every call is
# checked again by the service it makes) ------------------------------------------------------


def may_work_on_cases(session: Session) -> bool:
    """Whether the user reads and writes case records (lists, search, referrals, notes)."""
    return session.has(*CASE_ROLES)


def may_break_glass(session: Session) -> bool:
    """Whether the user may open a case not allocated to them by giving a reason."""
    return session.has(Role.CASEWORKER)


def may_read_break_glass_log(session: Session) -> bool:
    """Whether the user reads the team's break-glass openings (:func:`break_glass_log`)."""
    return session.has(Role.MANAGER)
