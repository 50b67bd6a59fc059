"""The breach log's schema step: a store from the step before keeps everything and gains an
empty, append-only log."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlcipher3

from app.crypto.connection import connect
from app.models.schema import MIGRATIONS, SCHEMA_VERSION, _v11_breaches, migrate
from tests.models.test_schema import CONTENTS, _v5_store_with_records


def test_a_store_from_the_step_before_gains_an_empty_append_only_breach_log(
    tmp_path: Path,
) -> None:
    conn = connect(tmp_path / "old.safecase", bytes(range(32)), create=True)
    try:
        _v5_store_with_records(conn)
        before_step = MIGRATIONS.index(_v11_breaches)
        assert migrate(conn, MIGRATIONS[:before_step]) == before_step
        tables = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "breaches" not in tables
        kept = [conn.execute(sql).fetchall() for sql in CONTENTS]
        assert migrate(conn) == SCHEMA_VERSION
        assert [conn.execute(sql).fetchall() for sql in CONTENTS] == kept
        assert conn.execute("SELECT count(*) FROM breaches").fetchone()[0] == 0
        conn.execute(
            "INSERT INTO breaches (reference, source, recorded_by, recorded_at) "
            "VALUES ('BR-2026-0001', 'recorded', 1, '2026-12-01T10:00:00Z')"
        )
        with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM breaches")
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
