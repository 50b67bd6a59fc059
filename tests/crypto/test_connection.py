"""Database errors are sorted by SQLite's result code, tested with real errors."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import sqlcipher3

from app.crypto.connection import classify, connect
from app.errors import DamagedStore, StoreLocked, StoreReadOnly, StoreUnreadable


def _error(run: object) -> sqlcipher3.DatabaseError:
    with pytest.raises(sqlcipher3.DatabaseError) as caught:
        run()  # type: ignore[operator]
    return caught.value


def test_a_message_that_only_reads_like_a_known_error_is_a_bug() -> None:
    """The text says "disk is full"; the code says a missing table (a bug, not a full disk)."""
    conn = sqlcipher3.connect(":memory:")
    error = _error(lambda: conn.execute('SELECT * FROM "database disk is full or locked"'))
    assert "disk is full" in str(error)
    assert classify(error) is None


def test_a_store_opened_read_only_is_read_only(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    path = tmp_path / "s.safecase"
    connect(path, key, create=True).close()
    conn = sqlcipher3.connect(f"file:{path}?mode=ro", uri=True)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    assert isinstance(classify(_error(lambda: conn.execute("CREATE TABLE t (x)"))), StoreReadOnly)


def test_a_store_another_connection_is_writing_is_locked(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    path = tmp_path / "s.safecase"
    first = connect(path, key, create=True)
    first.execute("BEGIN IMMEDIATE")
    second = connect(path, key)
    second.execute("PRAGMA busy_timeout = 0")
    assert isinstance(classify(_error(lambda: second.execute("BEGIN IMMEDIATE"))), StoreLocked)


def test_a_missing_store_is_never_created_by_opening_it(tmp_path: Path) -> None:
    path = tmp_path / "gone.safecase"
    with pytest.raises(StoreUnreadable):
        connect(path, secrets.token_bytes(32))
    assert not path.exists()


@pytest.mark.parametrize("keep", [0, 100, 5000])
def test_a_store_file_cut_short_is_damaged_and_left_as_it_was(tmp_path: Path, keep: int) -> None:
    key = secrets.token_bytes(32)
    path = tmp_path / "s.safecase"
    conn = connect(path, key, create=True)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (randomblob(20000))")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(DamagedStore):
        connect(path, key).execute("SELECT count(*) FROM t").fetchall()
    assert path.stat().st_size == keep
