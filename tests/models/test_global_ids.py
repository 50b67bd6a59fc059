"""Global ids: a single-laptop store becomes the first laptop of a team without losing anything,
and every record that travels carries a UUIDv7 beside its local id."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

import pytest

from app.crypto.connection import Connection, connect
from app.crypto.device import DeviceSecrets
from app.models import people as people_model
from app.models.records import PersonDetails
from app.models.schema import MIGRATIONS, SCHEMA_VERSION, TRAVELLING, _v11_global_ids, migrate
from app.services import accounts, demo
from tests.helpers import ADMIN, ADMIN_PW, StoreCopy
from tests.services import forensics

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
BEFORE = MIGRATIONS[: MIGRATIONS.index(_v11_global_ids)]
LOCAL = {"sqlite_sequence", "search_index", "search_rows"}


def _tables(conn: Connection) -> list[str]:
    names = conn.execute(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'search_index_%' "
        "ORDER BY name"
    ).fetchall()
    return [str(n[0]) for n in names if str(n[0]) not in LOCAL]


def _columns(conn: Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})").fetchall()]


def _rows(conn: Connection, table: str, columns: list[str]) -> list[tuple[object, ...]]:
    return sorted(
        (tuple(r) for r in conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()),
        key=repr,
    )


def _fill_every_table(
    source: Connection, target: Connection
) -> dict[str, list[tuple[object, ...]]]:
    """Copy the demo store's rows into the old store, table by table; returns what was copied."""
    copied = {}
    target.execute("PRAGMA foreign_keys = OFF")
    for table in _tables(target):
        columns = _columns(target, table)
        rows = _rows(source, table, columns)
        marks = ", ".join("?" * len(columns))
        target.executemany(
            f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )
        copied[table] = _rows(target, table, columns)
    target.execute("PRAGMA foreign_keys = ON")
    return copied


@pytest.fixture
def demo_rows(training_store: StoreCopy) -> Connection:
    session = accounts.sign_in(
        training_store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(training_store.keyring)
    )
    demo.generate_cases(session, 72, 3, today=dt.date(2025, 3, 14))
    key = forensics.data_key(session)
    accounts.sign_out(session)
    return connect(training_store.path, key)


def test_a_single_laptop_store_migrates_with_a_global_id_on_every_travelling_row(
    demo_rows: Connection, tmp_path: Path
) -> None:
    old = connect(tmp_path / "old.safecase", bytes(range(32)), create=True)
    try:
        migrate(old, BEFORE)
        copied = _fill_every_table(demo_rows, old)
        empty = [t for t in TRAVELLING if not copied[t]]
        for table in empty:  # what the demo leaves empty gets one row by hand
            _one_row(old, table)
            copied[table] = _rows(old, table, _columns(old, table))
        had = {table: _columns(old, table) for table in copied}
        assert migrate(old) == SCHEMA_VERSION
        for table, before in copied.items():
            # Nothing lost or changed: every row is still there with the same values.
            assert _rows(old, table, had[table]) == before, table
        for table in TRAVELLING:
            ids = [str(r[0]) for r in old.execute(f"SELECT gid FROM {table}").fetchall()]
            assert ids, table
            assert all(UUID7.match(i) for i in ids), table
            assert len(set(ids)) == len(ids), table
    finally:
        old.close()
        demo_rows.close()


# Values the schema's checks accept, for the columns that have a check.
CHECKED = {
    "share_reviews.outcome": "approved",
    "note_revisions.kind": "correction",
    "retention_decisions.decision": "approve",
    "rights_requests.kind": "access",
    "rights_requests.status": "open",
    "redactions.action": "redact",
    "person_merges.state": "pending",
}


def _one_row(conn: Connection, table: str) -> None:
    """A row with every required column set (to 1, or synthetic text)."""
    info = conn.execute(f"PRAGMA table_info({table})").fetchall()
    columns = [str(r[1]) for r in info if r[3] and not r[5]]
    values = [
        CHECKED.get(f"{table}.{r[1]}", 1 if str(r[2]) == "INTEGER" else "synthetic")
        for r in info
        if r[3] and not r[5]
    ]
    marks = ", ".join("?" * len(columns))
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)
    conn.execute("PRAGMA foreign_keys = ON")


def test_every_record_written_today_carries_a_global_id(demo_rows: Connection) -> None:
    try:
        for table in TRAVELLING:
            missing = demo_rows.execute(f"SELECT count(*) FROM {table} WHERE gid IS NULL")
            assert missing.fetchone()[0] == 0, table
    finally:
        demo_rows.close()


def test_a_new_record_gets_its_own_id_and_a_received_one_keeps_the_id_it_came_with(
    tmp_path: Path,
) -> None:
    conn = connect(tmp_path / "new.safecase", bytes(range(32)), create=True)
    try:
        migrate(conn)
        now = "2026-01-05T10:00:00.000000Z"
        received = str(uuid.UUID(int=(7 << 76) | (1 << 63)))
        details = PersonDetails(given_name="Test", family_name="Person")
        made = [people_model.insert(conn, details, now) for _ in range(2)]
        made.append(people_model.insert(conn, details, now, gid=received))
        ids = [str(r[0]) for r in conn.execute("SELECT gid FROM people ORDER BY id").fetchall()]
        assert ids[2] == received
        assert UUID7.match(ids[0]) and UUID7.match(ids[1]) and ids[0] != ids[1]
        conn.execute(
            "INSERT INTO users (username, roles, created_at) VALUES ('author', 'caseworker', ?)",
            (now,),
        )
        conn.execute(
            "INSERT INTO cases (reference, status, referral_date, created_at, updated_at) "
            "VALUES ('SC-2026-000001', 'open', '2026-01-05', ?, ?)",
            (now, now),
        )
        # A record written by plain SQL gets its id from the insert trigger.
        conn.execute(
            "INSERT INTO marac_actions (case_id, action, owner, due_on, recorded_at) "
            "VALUES (1, 'Synthetic action', 'Police', '2026-02-01', ?)",
            (now,),
        )
        action = conn.execute("SELECT gid FROM marac_actions").fetchone()[0]
        assert UUID7.match(str(action))
        conn.execute(
            "INSERT INTO break_glass (user_id, case_id, reason, at) VALUES (1, 1, 'Synthetic', ?)",
            (now,),
        )
        # An append-only record takes its id inside its insert, then refuses every change.
        for change in ("gid = ?", "reason = ?"):
            with pytest.raises(Exception, match="append-only"):
                conn.execute(f"UPDATE break_glass SET {change}", (received,))
    finally:
        conn.close()
