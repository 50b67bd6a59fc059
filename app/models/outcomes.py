"""Outcomes recorded when a case closes (one row per case, removed when it reopens)."""

from __future__ import annotations

from app.crypto.connection import Connection
from app.models.db import read
from app.models.records import (
    AbuseChange,
    CaseOutcome,
    ClosureReason,
    Engagement,
    ExitRisk,
    FeelingSafer,
    QualityOfLife,
)


def put(conn: Connection, case_id: int, outcome: CaseOutcome, user_id: int, now: str) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO case_outcomes (case_id, reason, risk_at_exit, abuse, "
        "feeling_safer, quality_of_life, engagement, recorded_by, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            case_id,
            outcome.reason.value,
            outcome.risk_at_exit.value,
            outcome.abuse.value,
            outcome.feeling_safer.value,
            outcome.quality_of_life.value,
            outcome.engagement.value,
            user_id,
            now,
        ),
    )


def get(conn: Connection, case_id: int) -> CaseOutcome | None:
    rows = read(
        conn,
        "SELECT reason, risk_at_exit, abuse, feeling_safer, quality_of_life, engagement "
        "FROM case_outcomes WHERE case_id = ?",
        (case_id,),
    )
    if not rows:
        return None
    r = [str(v) for v in rows[0]]
    return CaseOutcome(
        ClosureReason(r[0]),
        ExitRisk(r[1]),
        AbuseChange(r[2]),
        FeelingSafer(r[3]),
        QualityOfLife(r[4]),
        Engagement(r[5]),
    )


def remove(conn: Connection, case_id: int) -> None:
    conn.execute("DELETE FROM case_outcomes WHERE case_id = ?", (case_id,))
