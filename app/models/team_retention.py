"""Retention of the team's cases this laptop does not hold: the schedule from the facts that
travelled (app/sync/purge.py keeps them in ``team_retention``: references and dates only) and
the admin's review decisions about them, bound to the closure and due date as for a case held
here (app/models/retention.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from app.crypto.connection import Connection
from app.models.convert import date_text, parse_date
from app.models.db import read
from app.models.retention import (
    Decision,
    DecisionRecord,
    Policy,
    Schedule,
    _schedule,
)

# The team's cases known by their facts alone: not held here, not destroyed.
_REMOTE = (
    "SELECT r.case_gid, r.reference, r.facts FROM team_retention r "
    "WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.gid = r.case_gid) "
    "AND NOT EXISTS (SELECT 1 FROM team_purged p WHERE p.case_gid = r.case_gid)"
)


def _decisions(conn: Connection, case_gid: str, closed: str) -> list[DecisionRecord]:
    rows = read(
        conn,
        "SELECT d.id, d.decision, d.review_date, d.decided_by, COALESCE(u.username, ''), "
        "d.decided_at, d.due_date FROM team_retention_decisions d "
        "LEFT JOIN users u ON u.id = d.decided_by WHERE d.case_gid = ? AND d.closed_date = ? "
        "ORDER BY d.id",
        (case_gid, closed),
    )
    return [
        DecisionRecord(
            id=int(str(r[0])),
            decision=Decision(str(r[1])),
            review_date=parse_date(r[2]),
            decided_by=int(str(r[3])),
            decided_by_name=str(r[4]),
            decided_at=str(r[5]),
            due_date=parse_date(r[6]),
        )
        for r in rows
    ]


def _from_facts(conn: Connection, row: tuple[object, ...], rules: Policy) -> Schedule | None:
    case_gid, reference = str(row[0]), str(row[1])
    facts = json.loads(str(row[2]))
    closed = facts.get("closed_date")
    if not closed:
        return None
    youngest = facts.get("youngest_child_born")
    # In the shape app/models/retention.py reads a held case's row: the youngest child's birth
    # date was chosen already, so support is taken to start on it.
    shaped = (
        0,
        reference,
        closed,
        bool(facts.get("hold")),
        facts.get("hold_review"),
        youngest or "",
        bool(facts.get("child_unknown")),
        bool(facts.get("open_request")),
        youngest or closed,
    )
    item = _schedule(shaped, _decisions(conn, case_gid, str(closed)), rules)
    return dataclasses.replace(item, gid=case_gid)


def due(conn: Connection, as_of: dt.date, rules: Policy) -> list[Schedule]:
    """The team's cases not held here that are due on ``as_of``, from their facts."""
    found = [_from_facts(conn, r, rules) for r in read(conn, _REMOTE, ())]
    return sorted(
        (s for s in found if s is not None and s.is_due(as_of)),
        key=lambda s: (s.due_date, s.reference),
    )


def by_reference(conn: Connection, reference: str, rules: Policy) -> tuple[bool, Schedule | None]:
    """Whether the team has a case with ``reference`` not held here, and its schedule (None
    while it is not closed)."""
    rows = read(conn, f"{_REMOTE} AND r.reference = ?", (reference,))
    return (True, _from_facts(conn, rows[0], rules)) if rows else (False, None)


def by_gid(conn: Connection, case_gid: str, rules: Policy) -> Schedule | None:
    rows = read(conn, f"{_REMOTE} AND r.case_gid = ?", (case_gid,))
    return _from_facts(conn, rows[0], rules) if rows else None


def add_decision(
    conn: Connection,
    schedule: Schedule,
    decision: Decision,
    reason: str,
    review_date: dt.date | None,
    user_id: int,
    now: str,
) -> int:
    cur = conn.execute(
        "INSERT INTO team_retention_decisions (case_gid, decision, reason, review_date, "
        "decided_by, decided_at, closed_date, due_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            schedule.gid,
            decision.value,
            reason,
            date_text(review_date),
            user_id,
            now,
            schedule.closed_date.isoformat(),
            schedule.due_date.isoformat(),
        ),
    )
    return int(cur.lastrowid or 0)
