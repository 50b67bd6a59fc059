"""Migrations: an older store is brought up to date, a newer one is refused untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlcipher3

from app.crypto.connection import Connection, connect
from app.crypto.device import DeviceSecrets
from app.errors import NewerStore
from app.models.schema import SCHEMA_VERSION, migrate, version
from app.services import accounts
from tests.helpers import ADMIN, ADMIN_PW, StoreCopy

# Everything the step-5 store below holds, table by table.
CONTENTS = [
    "SELECT * FROM users ORDER BY id",
    "SELECT * FROM people ORDER BY id",
    "SELECT * FROM cases ORDER BY id",
    "SELECT * FROM case_people ORDER BY case_id",
    "SELECT * FROM notes ORDER BY id",
]


def test_an_older_store_runs_each_missing_step_once(store: StoreCopy) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    conn = session.conn
    assert version(conn) == SCHEMA_VERSION
    ran: list[int] = []

    def step(number: int):  # type: ignore[no-untyped-def]
        def run(c: Connection) -> None:
            ran.append(number)
            c.execute(f"CREATE TABLE extra_{number} (x INTEGER)")

        return run

    from app.models.schema import MIGRATIONS

    steps = [*MIGRATIONS, step(2), step(3)]
    assert migrate(conn, steps) == SCHEMA_VERSION + 2
    assert migrate(conn, steps) == SCHEMA_VERSION + 2
    assert ran == [2, 3]
    accounts.sign_out(session)


def test_a_failing_step_leaves_the_store_at_the_last_good_version(store: StoreCopy) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    from app.models.schema import MIGRATIONS

    def broken(c: Connection) -> None:
        c.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("step failed")

    with pytest.raises(RuntimeError):
        migrate(session.conn, [*MIGRATIONS, broken])
    assert version(session.conn) == SCHEMA_VERSION
    tables = {r[0] for r in session.conn.execute("SELECT name FROM sqlite_master")}
    assert "half_done" not in tables
    accounts.sign_out(session)


def test_a_newer_store_is_refused(store: StoreCopy) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    with pytest.raises(NewerStore):
        migrate(session.conn, [])
    assert version(session.conn) == SCHEMA_VERSION
    accounts.sign_out(session)


def contents_kept(conn: Connection, before: list[list[Any]]) -> bool:
    """Whether the records read before a migration are all still there, unchanged; later steps
    may add columns (the global ids) after the ones the records had."""
    after = [conn.execute(sql).fetchall() for sql in CONTENTS]
    return [[tuple(r)[: len(b[0])] for r in a] for a, b in zip(after, before, strict=True)] == [
        [tuple(r) for r in b] for b in before
    ]


def _v5_store_with_records(conn: Connection) -> None:
    """A store as the last release left it: schema step 5, a case with a client and a note."""
    from app.models.schema import MIGRATIONS

    migrate(conn, MIGRATIONS[:5])
    now = "2026-01-05T10:00:00.000000Z"
    conn.execute(
        "INSERT INTO users (id, username, roles, created_at) VALUES (1, 'worker', 'caseworker', ?)",
        (now,),
    )
    for n in (1, 2):
        conn.execute(
            "INSERT INTO people (id, given_name, family_name, created_at, updated_at) "
            "VALUES (?, 'Synthetic', ?, ?, ?)",
            (n, f"Person{n}", now, now),
        )
        conn.execute(
            "INSERT INTO cases (id, reference, status, referral_date, created_at, updated_at) "
            "VALUES (?, ?, 'open', '2026-01-05', ?, ?)",
            (n, f"SC-2026-00000{n}", now, now),
        )
        conn.execute("INSERT INTO case_people VALUES (?, ?, 'client')", (n, n))
        conn.execute(
            "INSERT INTO notes (id, case_id, kind, occurred_at, body, author_id, created_at) "
            "VALUES (?, ?, 'call', ?, 'Called at the safe time', 1, ?)",
            (n, n, now, now),
        )


def test_step_6_keeps_every_record_and_ids_are_never_given_out_again(tmp_path: Path) -> None:
    conn = connect(tmp_path / "old.safecase", bytes(range(32)), create=True)
    try:
        _v5_store_with_records(conn)
        before = [conn.execute(sql).fetchall() for sql in CONTENTS]
        assert migrate(conn) == SCHEMA_VERSION
        assert contents_kept(conn, before)
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # The note is still append-only, and its index is still used.
        with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
            conn.execute("UPDATE notes SET body = 'changed' WHERE id = 1")
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT id FROM notes WHERE case_id = 2").fetchall()
        assert "notes_case" in str(plan)
        # The newest case is destroyed; the next case gets a new id, not the destroyed one's.
        conn.execute("DELETE FROM notes WHERE case_id = 2")
        conn.execute("DELETE FROM case_people WHERE case_id = 2")
        conn.execute("DELETE FROM cases WHERE id = 2")
        cur = conn.execute(
            "INSERT INTO cases (reference, status, referral_date, created_at, updated_at) "
            "VALUES ('SC-2026-000003', 'referral', '2026-02-01', 'now', 'now')"
        )
        assert cur.lastrowid == 3
    finally:
        conn.close()
