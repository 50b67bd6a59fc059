"""Managers' overrides of the safe-contact rules, each with its reason (for the DPO to read).

The reason is free text and may name people, so it lives here, in the encrypted store beside
the person it is about, never in the audit trail (whose entry names the override by id).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.crypto.connection import Connection
from app.models.db import read


@dataclass(frozen=True)
class Override:
    id: int
    case_id: int
    person_id: int
    output: str
    rule: str
    reason: str
    decided_by: int
    decided_at: str
    reference: str = ""  # the case's, for the DPO's list
    username: str = ""  # who decided


_COLUMNS = "id, case_id, person_id, output, rule, reason, decided_by, decided_at"


def _row(r: tuple[object, ...]) -> Override:
    return Override(
        id=int(str(r[0])),
        case_id=int(str(r[1])),
        person_id=int(str(r[2])),
        output=str(r[3]),
        rule=str(r[4]),
        reason=str(r[5]),
        decided_by=int(str(r[6])),
        decided_at=str(r[7]),
    )


def add_override(
    conn: Connection,
    *,
    case_id: int,
    person_id: int,
    output: str,
    rule: str,
    reason: str,
    user_id: int,
    now: str,
) -> int:
    cur = conn.execute(
        "INSERT INTO contact_overrides (case_id, person_id, output, rule, reason, decided_by, "
        "decided_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (case_id, person_id, output, rule, reason, user_id, now),
    )
    return int(cur.lastrowid or 0)


def overrides(conn: Connection, limit: int = 500) -> list[Override]:
    """The newest overrides first, with the case's reference and who decided."""
    columns = ", ".join(f"o.{c.strip()}" for c in _COLUMNS.split(","))
    rows = read(
        conn,
        f"SELECT {columns}, c.reference, u.username FROM contact_overrides o "
        "JOIN cases c ON c.id = o.case_id LEFT JOIN users u ON u.id = o.decided_by "
        "ORDER BY o.id DESC LIMIT ?",
        (limit,),
    )
    return [replace(_row(r), reference=str(r[8]), username=str(r[9] or "")) for r in rows]


def for_case_person(conn: Connection, case_id: int, person_id: int) -> list[Override]:
    rows = read(
        conn,
        f"SELECT {_COLUMNS} FROM contact_overrides WHERE case_id = ? AND person_id = ? ORDER BY id",
        (case_id, person_id),
    )
    return [_row(r) for r in rows]
