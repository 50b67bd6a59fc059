"""Conflicts: fields two laptops set without seeing each other's change, shown to a person with
every value and who set it when, until someone who may change the case chooses one. The choice
is itself an operation (it travels like any change) and is audited."""

from __future__ import annotations

import json
from dataclasses import dataclass

from app.errors import InvalidInput
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


@dataclass(frozen=True)
class Conflict:
    id: int
    case_id: int
    field: str  # ``table.column``, e.g. ``safe_contacts.safe_number``
    open: bool
    candidates: tuple[Candidate, ...]


def _conflict(session: Session, row: tuple[object, ...]) -> Conflict:
    names = dict(
        (str(g), str(u)) for g, u in session.conn.execute("SELECT gid, username FROM users")
    )
    candidates = tuple(
        Candidate(
            op_id=str(c["op_id"]),
            value=c["value"],
            username=names.get(str(c["user"]), ""),
            device=str(c["device"]),
            at_ms=Hlc.decode(str(c["hlc"])).wall_ms,
        )
        for c in json.loads(str(row[4]))
    )
    return Conflict(int(str(row[0])), int(str(row[1])), str(row[2]), row[3] == "open", candidates)


_SELECT = "SELECT id, case_id, field, state, candidates, target FROM conflicts"


def on_case(session: Session, case_id: int) -> list[Conflict]:
    """The case's conflicts, open and resolved, by field."""
    access.require_case(session, case_id)
    rows = session.conn.execute(f"{_SELECT} WHERE case_id = ? ORDER BY field", (case_id,))
    return [_conflict(session, tuple(r)) for r in rows.fetchall()]


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
