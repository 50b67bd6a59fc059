"""Conflicts: fields two laptops set without seeing each other's change, shown to a person with
every value and who set it when, until someone who may change the case chooses one. The choice
is itself an operation (it travels like any change) and is audited.

The desktop app asks :func:`open_conflicts` for its Conflicts page (every open conflict on the
cases the user may open, oldest first; the look is audited as a view), :func:`count` for the
navigation, and the case lists carry each case's count (``CaseSummary.conflicts``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from app.errors import InvalidInput
from app.models import conflicts as conflict_model
from app.models.db import transaction
from app.services import access, audit
from app.services.session import Session
from app.sync import ops
from app.sync.clock import Hlc


@dataclass(frozen=True)
class Candidate:
    """One value a conflict holds: which change set it, who, on which device, and when."""

    op_id: str
    value: object
    username: str
    device: str
    at_ms: int
    user_value: str = ""  # for the allocated worker: the username the value names


@dataclass(frozen=True)
class Conflict:
    id: int
    case_id: int
    field: str  # ``table.column``, e.g. ``safe_contacts.safe_number``
    open: bool
    candidates: tuple[Candidate, ...]
    reference: str = ""  # the case's reference, on the Conflicts page

    @property
    def since_ms(self) -> int:
        """When the earliest of its values was set."""
        return min((c.at_ms for c in self.candidates), default=0)


# Safe contact details: a conflict on one of these shows in the safe contact banner itself.
SAFETY_PREFIX = "safe_contacts."
_USER_FIELDS = ("cases.allocated_user_id",)


def _names(session: Session) -> dict[str, str]:
    """Usernames by global id."""
    return {str(g): str(u) for g, u in session.conn.execute("SELECT gid, username FROM users")}


def _conflict(
    session: Session,
    row: tuple[object, ...],
    reference: str = "",
    names: dict[str, str] | None = None,
) -> Conflict:
    names = _names(session) if names is None else names
    candidates = tuple(
        Candidate(
            op_id=str(c["op_id"]),
            value=c["value"],
            username=names.get(str(c["user"]), ""),
            device=str(c["device"]),
            at_ms=Hlc.decode(str(c["hlc"])).wall_ms,
            user_value=names.get(str(c["value"]), "") if row[2] in _USER_FIELDS else "",
        )
        for c in json.loads(str(row[4]))
    )
    return Conflict(
        int(str(row[0])), int(str(row[1])), str(row[2]), row[3] == "open", candidates, reference
    )


_SELECT = "SELECT id, case_id, field, state, candidates, target FROM conflicts"


def on_case(session: Session, case_id: int) -> list[Conflict]:
    """The case's conflicts, open and resolved, by field."""
    access.require_case(session, case_id)
    rows = session.conn.execute(f"{_SELECT} WHERE case_id = ? ORDER BY field", (case_id,))
    return [_conflict(session, tuple(r)) for r in rows.fetchall()]


def may_see_conflicts(session: Session) -> bool:
    """Whether the user has a Conflicts page: whoever works on cases, for the cases they may
    open (a caseworker their own, a manager the team's)."""
    return access.may_work_on_cases(session)


def _open_rows(session: Session) -> list[tuple[object, ...]]:
    session.require(*access.CASE_ROLES)
    where, params = access.condition(session)
    return conflict_model.open_on_cases(session.conn, where, params)


def open_conflicts(session: Session) -> list[Conflict]:
    """Every open conflict on the cases the user may open, the longest waiting first. Showing
    them (values included) is a view of those cases, so it is audited, by count."""
    rows, names = _open_rows(session), _names(session)
    found = sorted(
        (_conflict(session, row, str(row[6]), names) for row in rows),
        key=lambda k: (k.since_ms, k.reference, k.field),
    )
    with transaction(session.conn):
        audit.record(
            session.conn, session.user_id, audit.CONFLICTS_VIEWED, "", f"conflicts={len(found)}"
        )
    return found


def count(session: Session) -> int:
    """How many conflicts are open on the cases the user may open (for the navigation)."""
    return len(_open_rows(session))


def resolve(session: Session, conflict_id: int, chosen_op_id: str) -> None:
    """Keep the value the change ``chosen_op_id`` set, on every laptop once they sync."""
    row = session.conn.execute(f"{_SELECT} WHERE id = ?", (conflict_id,)).fetchone()
    if row is None:
        raise InvalidInput("That conflict is no longer on this laptop.")
    conflict = _conflict(session, tuple(row))
    access.require_open_case(session, conflict.case_id)
    if not conflict.open:
        raise InvalidInput("That conflict has already been resolved.")
    chosen = [c for c in conflict.candidates if c.op_id == chosen_op_id]
    if not chosen:
        raise InvalidInput("Choose one of the values the conflict holds.")
    with transaction(session.conn):
        ops.resolve(
            session.conn,
            conflict.case_id,
            str(row[5]),
            conflict.field,
            chosen[0].value,
            session.user_id,
            session.now(),
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.CONFLICT_RESOLVED,
            f"case:{conflict.case_id}",
            f"field={conflict.field}",
        )
