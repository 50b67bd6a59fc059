"""Break-glass openings of cases not allocated to the user, with their reasons."""

from __future__ import annotations

from dataclasses import dataclass

from app.crypto.connection import Connection
from app.models.db import limit as sql_limit
from app.models.db import read


@dataclass(frozen=True)
class BreakGlassEntry:
    id: int
    user_id: int
    username: str
    case_id: int
    reference: str
    reason: str
    at: str


def insert(conn: Connection, user_id: int, case_id: int, reason: str, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO break_glass (user_id, case_id, reason, at) VALUES (?, ?, ?, ?)",
        (user_id, case_id, reason, now),
    )
    return int(cur.lastrowid or 0)


def for_team(conn: Connection, team_id: int, limit: int) -> list[BreakGlassEntry]:
    rows = read(
        conn,
        "SELECT b.id, b.user_id, u.username, b.case_id, c.reference, b.reason, b.at "
        "FROM break_glass b JOIN users u ON u.id = b.user_id JOIN cases c ON c.id = b.case_id "
        f"WHERE c.team_id = ? ORDER BY b.id DESC{sql_limit(limit)}",
        (team_id,),
    )
    return [
        BreakGlassEntry(
            int(str(r[0])),
            int(str(r[1])),
            str(r[2]),
            int(str(r[3])),
            str(r[4]),
            str(r[5]),
            str(r[6]),
        )
        for r in rows
    ]
