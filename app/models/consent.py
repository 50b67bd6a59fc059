"""Consent decisions, kept as history: the newest decision for a purpose is the one in force."""

from __future__ import annotations

import datetime as dt

from app.crypto.connection import Connection
from app.models.convert import date_text, parse_date
from app.models.db import read
from app.models.records import (
    Consent,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    GivenBy,
)
from app.sync.clock import new_gid

_COLUMNS = (
    "id, person_id, purpose, target, state, decided_on, how, given_by, recorded_by, "
    "recorded_at, review_date, note"
)


def _consent(r: tuple[object, ...]) -> Consent:
    return Consent(
        id=int(str(r[0])),
        person_id=int(str(r[1])),
        purpose=ConsentPurpose(str(r[2])),
        target=str(r[3]),
        state=ConsentState(str(r[4])),
        decided_on=parse_date(r[5]),  # type: ignore[arg-type]
        how=ConsentHow(str(r[6])) if r[6] else None,
        given_by=GivenBy(str(r[7])),
        recorded_by=int(str(r[8])),
        recorded_at=str(r[9]),
        review_date=parse_date(r[10]),
        note=str(r[11]),
    )


def insert(conn: Connection, c: Consent, gid: str | None = None) -> int:
    cur = conn.execute(
        "INSERT INTO consents (person_id, purpose, target, state, decided_on, how, given_by, "
        "recorded_by, recorded_at, review_date, note, gid) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            c.person_id,
            c.purpose.value,
            c.target,
            c.state.value,
            date_text(c.decided_on),
            c.how.value if c.how else None,
            c.given_by.value,
            c.recorded_by,
            c.recorded_at,
            date_text(c.review_date),
            c.note,
            gid or new_gid(),
        ),
    )
    return int(cur.lastrowid or 0)


def current(conn: Connection, person_id: int) -> list[Consent]:
    """The decision in force for each purpose and target the person has one for."""
    rows = read(
        conn,
        f"SELECT {_COLUMNS} FROM consents WHERE id IN ("
        "SELECT max(id) FROM consents WHERE person_id = ? GROUP BY purpose, target) "
        "ORDER BY purpose, target",
        (person_id,),
    )
    return [_consent(r) for r in rows]


def state_for(
    conn: Connection, person_id: int, purpose: ConsentPurpose, target: str
) -> ConsentState:
    rows = read(
        conn,
        "SELECT state FROM consents WHERE person_id = ? AND purpose = ? AND target = ? "
        "ORDER BY id DESC LIMIT 1",
        (person_id, purpose.value, target),
    )
    return ConsentState(str(rows[0][0])) if rows else ConsentState.NOT_ASKED


def history(conn: Connection, person_id: int) -> list[Consent]:
    rows = read(
        conn, f"SELECT {_COLUMNS} FROM consents WHERE person_id = ? ORDER BY id", (person_id,)
    )
    return [_consent(r) for r in rows]


def overdue_reviews(
    conn: Connection, today: dt.date, where: str, params: tuple[object, ...]
) -> int:
    """How many consent decisions in force have a review date before ``today``, for people on
    cases still being worked that pass the access condition ``where`` on ``c``."""
    rows = read(
        conn,
        "SELECT count(*) FROM consents k WHERE k.id IN ("
        "SELECT max(id) FROM consents GROUP BY person_id, purpose, target) "
        "AND k.review_date IS NOT NULL AND k.review_date < ? AND EXISTS ("
        "SELECT 1 FROM case_people cp JOIN cases c ON c.id = cp.case_id "
        f"WHERE cp.person_id = k.person_id AND c.status != 'closed' AND ({where}))",
        (today.isoformat(), *params),
    )
    return int(str(rows[0][0])) if rows else 0
