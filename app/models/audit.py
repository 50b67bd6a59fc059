"""The audit trail: append-only, each entry holding the hash of the one before."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from app.crypto.connection import Connection
from app.models.db import limit as sql_limit
from app.models.db import read

GENESIS = "0" * 64
HEAD_KEY = "audit_head"


@dataclass(frozen=True)
class Entry:
    id: int
    at: str
    user_id: int | None
    action: str
    record: str
    detail: str
    prev_hash: str
    hash: str


def entry_hash(
    entry_id: int,
    at: str,
    user_id: int | None,
    action: str,
    record: str,
    detail: str,
    prev_hash: str,
) -> str:
    body = json.dumps(
        [entry_id, at, user_id, action, record, detail, prev_hash],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(body.encode("ascii")).hexdigest()


def append(
    conn: Connection, at: str, user_id: int | None, action: str, record: str, detail: str
) -> int:
    """Add one entry. Call inside the transaction that does the work being recorded."""
    last = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    entry_id, prev = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
    digest = entry_hash(entry_id, at, user_id, action, record, detail, prev)
    conn.execute(
        "INSERT INTO audit (id, at, user_id, action, record, detail, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (entry_id, at, user_id, action, record, detail, prev, digest),
    )
    # The head is kept apart from the chain, so removing the newest entries shows too.
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (HEAD_KEY, f"{entry_id}:{digest}"),
    )
    return entry_id


def _entry(row: tuple[object, ...]) -> Entry:
    return Entry(
        id=int(str(row[0])),
        at=str(row[1]),
        user_id=None if row[2] is None else int(str(row[2])),
        action=str(row[3]),
        record=str(row[4]),
        detail=str(row[5]),
        prev_hash=str(row[6]),
        hash=str(row[7]),
    )


_COLUMNS = "id, at, user_id, action, record, detail, prev_hash, hash"


def entries(conn: Connection, *, after_id: int = 0, limit: int = 1000) -> list[Entry]:
    rows = read(
        conn,
        f"SELECT {_COLUMNS} FROM audit WHERE id > ? ORDER BY id{sql_limit(limit)}",
        (after_id,),
    )
    return [_entry(r) for r in rows]


def walk(conn: Connection, batch: int = 5000) -> Iterator[Entry]:
    """Every entry in id order, read in batches so a long trail never sits in memory."""
    after = 0
    while chunk := entries(conn, after_id=after, limit=batch):
        yield from chunk
        after = chunk[-1].id


def head(conn: Connection) -> tuple[int, str]:
    """The id and hash of the last entry, as recorded when it was written."""
    rows = read(conn, "SELECT value FROM settings WHERE key = ?", (HEAD_KEY,))
    if not rows:
        return 0, GENESIS
    entry_id, _, digest = str(rows[0][0]).partition(":")
    return int(entry_id), digest


def for_case(conn: Connection, case_id: int, limit: int = 500) -> list[Entry]:
    """The entries about one case, newest first: the case itself, and people added to or
    removed from it."""
    rows = read(
        conn,
        f"SELECT {_COLUMNS} FROM audit WHERE record = ? UNION "
        f"SELECT {_COLUMNS} FROM audit WHERE record LIKE 'person:%' AND detail LIKE ? "
        f"ORDER BY id DESC{sql_limit(limit)}",
        (f"case:{case_id}", f"case:{case_id} %"),
    )
    return [_entry(r) for r in rows]
