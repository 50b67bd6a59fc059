"""Schema step _v11_figures: a store made at the step before keeps every record, and the
figures' counts by period read through the new indexes."""

from __future__ import annotations

from pathlib import Path

from app.crypto.connection import connect
from app.models.schema import MIGRATIONS, SCHEMA_VERSION, migrate

NOW = "2026-01-05T10:00:00.000000Z"
CONTENTS = ("SELECT * FROM cases ORDER BY id", "SELECT * FROM shares ORDER BY id")


def test_a_store_from_the_step_before_keeps_its_records_and_gains_the_indexes(
    tmp_path: Path,
) -> None:
    conn = connect(tmp_path / "old.safecase", bytes(range(32)), create=True)
    try:
        migrate(conn, MIGRATIONS[:-1])
        conn.execute(
            "INSERT INTO users (id, username, roles, created_at) VALUES (1, 'w', 'manager', ?)",
            (NOW,),
        )
        conn.execute(
            "INSERT INTO cases (id, reference, status, referral_date, closed_date, created_at, "
            "updated_at) VALUES (1, 'SC-2026-000001', 'closed', '2026-01-05', '2026-03-01', ?, ?)",
            (NOW, NOW),
        )
        conn.execute(
            "INSERT INTO shares (case_id, direction, shared_at, organisation, "
            "recipient_category, data_categories, purpose, lawful_basis, person_told, approval, "
            "recorded_by, recorded_at) VALUES (1, 'out', ?, 'Org', 'police', '[]', 'Safety', "
            "'public_task', 1, 'not_needed', 1, ?)",
            (NOW, NOW),
        )
        before = [conn.execute(sql).fetchall() for sql in CONTENTS]
        assert migrate(conn) == SCHEMA_VERSION
        assert [conn.execute(sql).fetchall() for sql in CONTENTS] == before
        for sql, index in (
            (
                "SELECT count(*) FROM cases WHERE referral_date >= '2026-01-01' "
                "AND referral_date <= '2026-12-31'",
                "cases_by_referral_date",
            ),
            (
                "SELECT count(*) FROM cases WHERE closed_date >= '2026-01-01' "
                "AND closed_date <= '2026-12-31'",
                "cases_by_closed_date",
            ),
            (
                "SELECT count(*) FROM shares WHERE direction = 'out' AND shared_at >= '2026' "
                "AND shared_at < '2027'",
                "shares_by_direction_and_time",
            ),
        ):
            plan = str(conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall())
            assert index in plan, plan
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
