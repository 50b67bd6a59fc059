"""The schema, versioned by ``PRAGMA user_version`` as an append-only list of steps.

Each step runs in one transaction with the version bump. Opening an older store migrates it;
opening a store newer than this code is refused.
"""

from __future__ import annotations

from collections.abc import Callable

from app.crypto.connection import Connection
from app.errors import NewerStore
from app.models.db import transaction


def _v1(conn: Connection) -> None:
    conn.execute(
        """CREATE TABLE settings (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE users (
            id          INTEGER PRIMARY KEY,
            username    TEXT NOT NULL UNIQUE COLLATE NOCASE,
            roles       TEXT NOT NULL,
            slot_id     TEXT UNIQUE,
            disabled    INTEGER NOT NULL DEFAULT 0,
            created_at  TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE audit (
            id        INTEGER PRIMARY KEY,
            at        TEXT NOT NULL,
            user_id   INTEGER,
            action    TEXT NOT NULL,
            record    TEXT NOT NULL DEFAULT '',
            detail    TEXT NOT NULL DEFAULT '',
            prev_hash TEXT NOT NULL,
            hash      TEXT NOT NULL
        ) STRICT"""
    )
    # The trail is append-only: no statement may change or remove an entry.
    conn.execute(
        """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
           BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"""
    )
    conn.execute(
        """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
           BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"""
    )


MIGRATIONS: list[Callable[[Connection], None]] = [_v1]
SCHEMA_VERSION = len(MIGRATIONS)


def version(conn: Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: Connection, steps: list[Callable[[Connection], None]] | None = None) -> int:
    """Bring the store up to date; returns the version it is now at."""
    steps = MIGRATIONS if steps is None else steps
    current = version(conn)
    if current > len(steps):
        raise NewerStore()
    for number in range(current + 1, len(steps) + 1):
        with transaction(conn):
            steps[number - 1](conn)
            conn.execute(f"PRAGMA user_version = {number:d}")
    return version(conn)
