"""The audit trail: append-only, each entry holding the hash of the one before, sealed with a
forward-secure key.

Sealing works as systemd-journald's Forward Secure Sealing does (after Schneier and Kelsey's
evolving-key audit logs). The store holds one sealing key at a time, numbered by its epoch.
When an entry is written more than ``SEAL_EVERY`` after the key's epoch began, and at every
sign-out and lock, a seal row is written first: the epoch, the last entry so far and its hash,
tagged with HMAC-SHA256 under the epoch's key. Then the key is evolved
(key[i+1] = HMAC-SHA256(key[i], "evolve")) and the old one overwritten (``secure_delete`` is
on, and the write-ahead log is checkpointed and truncated straight after). Whoever reads
today's key from the store cannot work back to an earlier one, so cannot tag a changed
entry, a shorter trail or a new set of seals for an epoch that has passed. The first key is
the verification key: shown once to the DPO, never kept in the store, it derives every
epoch's key and checks every seal.

Epochs are numbered by seals, not by the clock: a seal always uses the current key and then
evolves it once, so epochs run 1, 2, 3 ... without gaps, and the key row's epoch is always
one more than the number of seals. Epoch 0's key is the verification key itself, which the
store never holds. An epoch's time limit is measured on the clock that stamps the entries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.crypto import anchor
from app.crypto.connection import Connection
from app.crypto.sealing import evolve, new_first_key, seal_tag
from app.models.db import after_commit, read
from app.models.db import limit as sql_limit

GENESIS = "0" * 64
HEAD_KEY = "audit_head"
SEAL_EVERY = dt.timedelta(minutes=15)

log = logging.getLogger("safecase.models")


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
    _seal_if_due(conn, at)
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
    after_commit(conn, "audit anchor", lambda: _write_anchor(conn, entry_id, digest))
    return entry_id


def _store_path(conn: Connection) -> Path | None:
    for row in conn.execute("PRAGMA database_list").fetchall():
        if str(row[1]) == "main" and row[2]:
            return Path(str(row[2]))
    return None


def _write_anchor(conn: Connection, count: int, head_hash: str) -> None:
    """Record the committed head beside the store, only once the commit is durable: during a
    purge run (``synchronous = NORMAL``) a power cut could undo commits the anchor had seen."""
    if int(conn.execute("PRAGMA synchronous").fetchone()[0]) < 2:
        return
    path = _store_path(conn)
    if path is not None:
        anchor.write(path, count, head_hash)


# -- sealing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seal:
    id: int
    epoch: int
    last_entry: int
    head: str
    at: str
    tag: str


@dataclass(frozen=True)
class SealKey:
    epoch: int
    key: bytes
    started: str


# The schema step that added the seals (app/models/schema.py, _v7).
SEALED_SCHEMA = 7


def _sealable(conn: Connection) -> bool:
    """Whether the store's schema has the seal tables (a store opened for a check before it
    was migrated may not). Reads the file header, not the schema, so every append can ask."""
    return int(str(read(conn, "PRAGMA user_version")[0][0])) >= SEALED_SCHEMA


def seal_key(conn: Connection) -> SealKey | None:
    """The current sealing key, or None when sealing has not started (or the store's schema
    predates it)."""
    if not _sealable(conn):
        return None
    rows = read(conn, "SELECT epoch, key, started FROM audit_seal_key WHERE id = 1")
    if not rows:
        return None
    epoch, key, started = rows[0]
    return SealKey(int(str(epoch)), bytes(key), str(started))  # type: ignore[call-overload]


def seals(conn: Connection) -> list[Seal]:
    if not _sealable(conn):
        return []
    rows = read(conn, "SELECT id, epoch, last_entry, head, at, tag FROM audit_seals ORDER BY id")
    return [
        Seal(int(str(r[0])), int(str(r[1])), int(str(r[2])), str(r[3]), str(r[4]), str(r[5]))
        for r in rows
    ]


def start_sealing(conn: Connection, at: str) -> bytes:
    """Begin sealing; returns the verification key for the DPO. The store never holds it:
    it starts at epoch 1, with the key one step on."""
    first = new_first_key()
    conn.execute(
        "INSERT INTO audit_seal_key (id, epoch, key, started) VALUES (1, 1, ?, ?)",
        (evolve(first), at),
    )
    return first


def _last(conn: Connection) -> tuple[int, str] | None:
    row = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else None


def seal(conn: Connection, at: str) -> bool:
    """Seal the entries written since the last seal and evolve the key; inside a transaction.

    Returns False when there is nothing to seal or sealing has not started."""
    current = seal_key(conn)
    last = _last(conn)
    if current is None or last is None:
        return False
    sealed_to = conn.execute("SELECT coalesce(max(last_entry), 0) FROM audit_seals").fetchone()
    if last[0] <= int(sealed_to[0]):
        return False
    tag = seal_tag(current.key, current.epoch, last[0], last[1], at)
    conn.execute(
        "INSERT INTO audit_seals (epoch, last_entry, head, at, tag) VALUES (?, ?, ?, ?, ?)",
        (current.epoch, last[0], last[1], at, tag),
    )
    conn.execute(
        "UPDATE audit_seal_key SET epoch = ?, key = ?, started = ? WHERE id = 1",
        (current.epoch + 1, evolve(current.key), at),
    )
    # The old key's page is still in the write-ahead log until it is checkpointed and cut.
    after_commit(conn, "erase the old sealing key", lambda: _truncate_log(conn))
    return True


def _truncate_log(conn: Connection) -> None:
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def _seal_if_due(conn: Connection, at: str) -> None:
    current = seal_key(conn)
    if current is None:
        return
    try:
        due = _moment(at) - _moment(current.started) >= SEAL_EVERY
    except ValueError:
        log.warning("an audit time could not be read; the seal waits for the next entry")
        return
    if due:
        seal(conn, at)


def _moment(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


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
