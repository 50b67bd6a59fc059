"""The audit trail: append-only, each entry holding the hash of the one before."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
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


# -- reading the trail a page at a time, filtered ---------------------------------------------

RECORD_KEY = re.compile(r"^[a-z_]+:[0-9]+$")  # as the trail holds it: "case:12"


@dataclass(frozen=True)
class Criteria:
    """Which entries to read, in SQL terms. ``records`` None is any record, and an empty tuple
    none at all; a ``case:N`` key also takes the entries about people added to or removed from
    that case. The stamps bound ``at`` (from inclusive, to exclusive)."""

    user_id: int | None = None
    action: str = ""
    records: tuple[str, ...] | None = None
    from_at: str = ""
    to_at: str = ""


def _where(criteria: Criteria) -> tuple[list[str], list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if criteria.user_id is not None:
        clauses.append("user_id = ?")
        params.append(criteria.user_id)
    if criteria.action:
        clauses.append("action = ?")
        params.append(criteria.action)
    if criteria.records is not None:
        if not criteria.records:
            clauses.append("0")
        else:
            either = [f"record IN ({', '.join('?' for _ in criteria.records)})"]
            params.extend(criteria.records)
            for key in criteria.records:
                if key.startswith("case:"):
                    either.append("(record LIKE 'person:%' AND detail LIKE ?)")
                    params.append(f"{key} %")
            clauses.append("(" + " OR ".join(either) + ")")
    if criteria.from_at:
        clauses.append("at >= ?")
        params.append(criteria.from_at)
    if criteria.to_at:
        clauses.append("at < ?")
        params.append(criteria.to_at)
    return clauses, params


def filtered(
    conn: Connection, criteria: Criteria, *, before_id: int | None = None, limit: int = 200
) -> list[Entry]:
    """Up to ``limit`` matching entries, newest first, older than ``before_id`` when given
    (keyset paging on the entry id: the next page starts below the last one held)."""
    clauses, params = _where(criteria)
    if before_id is not None:
        clauses.append("id < ?")
        params.append(before_id)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = read(
        conn,
        f"SELECT {_COLUMNS} FROM audit{where} ORDER BY id DESC{sql_limit(limit)}",
        tuple(params),
    )
    return [_entry(r) for r in rows]


def walk_filtered(conn: Connection, criteria: Criteria, batch: int = 5000) -> Iterator[Entry]:
    """Every matching entry, oldest first, read in batches."""
    clauses, params = _where(criteria)
    after = 0
    while True:
        sql = " AND ".join([*clauses, "id > ?"])
        rows = read(
            conn,
            f"SELECT {_COLUMNS} FROM audit WHERE {sql} ORDER BY id{sql_limit(batch)}",
            (*params, after),
        )
        if not rows:
            return
        chunk = [_entry(r) for r in rows]
        yield from chunk
        after = chunk[-1].id


def actions(conn: Connection) -> list[str]:
    """Every action the trail holds, A to Z."""
    return [str(r[0]) for r in read(conn, "SELECT DISTINCT action FROM audit ORDER BY action")]


def record_keys(conn: Connection, text: str) -> tuple[str, ...]:
    """The record keys that ``text`` names: a record key as the trail holds it (``case:12``), a
    case or request reference, or a username. None found is an empty tuple, so nothing typed
    that names no record ever reaches the trail's own entries."""
    wanted = text.strip()
    if RECORD_KEY.match(wanted):
        return (wanted,)
    found: list[str] = []
    for kind, sql in (
        ("case", "SELECT id FROM cases WHERE reference = ? COLLATE NOCASE"),
        ("rights", "SELECT id FROM rights_requests WHERE reference = ? COLLATE NOCASE"),
        ("user", "SELECT id FROM users WHERE username = ? COLLATE NOCASE"),
    ):
        found.extend(f"{kind}:{row[0]}" for row in read(conn, sql, (wanted,)))
    return tuple(found)


def record_names(conn: Connection, keys: Iterable[str]) -> dict[str, str]:
    """What a person reads for each record key that names a case, a request or a user:
    the case's or request's reference, or the username. Keys of records no longer held (a
    destroyed case) and of other kinds are left out."""
    ids: dict[str, set[int]] = {"case": set(), "rights": set(), "user": set()}
    for key in keys:
        kind, _, number = key.partition(":")
        if kind in ids and number.isdigit():
            ids[kind].add(int(number))
    names: dict[str, str] = {}
    for kind, sql in (
        ("case", "SELECT id, reference FROM cases WHERE id IN ({})"),
        ("rights", "SELECT id, reference FROM rights_requests WHERE id IN ({})"),
        ("user", "SELECT id, username FROM users WHERE id IN ({})"),
    ):
        wanted = sorted(ids[kind])
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ", ".join("?" for _ in part)
            for row in read(conn, sql.format(marks), tuple(part)):
                names[f"{kind}:{row[0]}"] = str(row[1])
    return names
