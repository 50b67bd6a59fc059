"""Drafts: what a user had typed into an open form when the store locked.

A draft belongs to one user and is keyed by the kind of form, the case and the record the form
was about; saving the same key again replaces it. ``fields`` is the form's values as JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.crypto.connection import Connection
from app.models.db import read


@dataclass(frozen=True)
class Draft:
    id: int
    kind: str
    case_id: int | None
    target_id: int | None
    fields: dict[str, Any]
    saved_at: str


def _int_or_none(value: object) -> int | None:
    return None if value is None else int(str(value))


def save(
    conn: Connection,
    user_id: int,
    kind: str,
    case_id: int | None,
    target_id: int | None,
    fields: dict[str, Any],
    saved_at: str,
) -> int:
    """Write the draft, replacing one with the same key; returns its id."""
    conn.execute(
        "DELETE FROM drafts WHERE user_id = ? AND kind = ? AND ifnull(case_id, 0) = ifnull(?, 0) "
        "AND ifnull(target_id, 0) = ifnull(?, 0)",
        (user_id, kind, case_id, target_id),
    )
    cursor = conn.execute(
        "INSERT INTO drafts (user_id, kind, case_id, target_id, fields, saved_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (user_id, kind, case_id, target_id, json.dumps(fields, sort_keys=True), saved_at),
    )
    return int(cursor.lastrowid or 0)


def of_user(conn: Connection, user_id: int) -> list[Draft]:
    """The user's drafts, oldest first."""
    rows = read(
        conn,
        "SELECT id, kind, case_id, target_id, fields, saved_at FROM drafts WHERE user_id = ? "
        "ORDER BY id",
        (user_id,),
    )
    return [
        Draft(
            id=int(str(r[0])),
            kind=str(r[1]),
            case_id=_int_or_none(r[2]),
            target_id=_int_or_none(r[3]),
            fields=json.loads(str(r[4])),
            saved_at=str(r[5]),
        )
        for r in rows
    ]


def delete(conn: Connection, user_id: int, draft_id: int) -> bool:
    """Remove one of the user's drafts; False if there was none."""
    cursor = conn.execute("DELETE FROM drafts WHERE id = ? AND user_id = ?", (draft_id, user_id))
    return cursor.rowcount > 0
