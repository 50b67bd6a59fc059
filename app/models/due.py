"""What falls due on the cases a user may open: case reviews, MARAC meetings and consent
reviews, up to a date (the "This week" page gathers these with the legal dates, shares and
rights requests)."""

from __future__ import annotations

import datetime as dt

from app.crypto.connection import Connection
from app.models.convert import parse_date
from app.models.db import read


def _dated(rows: list[tuple[object, ...]]) -> list[tuple[int, str, dt.date, str]]:
    out = []
    for r in rows:
        day = parse_date(r[2])
        assert day is not None
        out.append((int(str(r[0])), str(r[1]), day, str(r[3])))
    return out


def case_reviews(
    conn: Connection, until: dt.date, where: str, params: tuple[object, ...]
) -> list[tuple[int, str, dt.date, str]]:
    """Cases still being worked whose next review is on or before ``until``:
    (case id, reference, review date, "")."""
    return _dated(
        read(
            conn,
            "SELECT c.id, c.reference, c.next_review, '' FROM cases c WHERE c.status != 'closed' "
            f"AND c.next_review IS NOT NULL AND c.next_review <= ? AND ({where})",
            (until.isoformat(), *params),
        )
    )


def marac_meetings(
    conn: Connection, first: dt.date, until: dt.date, where: str, params: tuple[object, ...]
) -> list[tuple[int, str, dt.date, str]]:
    """Cases listed for a MARAC meeting between ``first`` and ``until``."""
    return _dated(
        read(
            conn,
            "SELECT c.id, c.reference, c.marac_meeting_date, '' FROM cases c "
            "WHERE c.status != 'closed' AND c.marac_meeting_date >= ? "
            f"AND c.marac_meeting_date <= ? AND ({where})",
            (first.isoformat(), until.isoformat(), *params),
        )
    )


def consent_reviews(
    conn: Connection, until: dt.date, where: str, params: tuple[object, ...]
) -> list[tuple[int, str, dt.date, str]]:
    """Consent decisions in force with a review date on or before ``until``, for people on
    cases still being worked: (case id, reference, review date, purpose)."""
    return _dated(
        read(
            conn,
            "SELECT min(c.id), min(c.reference), k.review_date, k.purpose FROM consents k "
            "JOIN case_people cp ON cp.person_id = k.person_id "
            "JOIN cases c ON c.id = cp.case_id "
            "WHERE k.id IN (SELECT max(id) FROM consents GROUP BY person_id, purpose, target) "
            "AND k.review_date IS NOT NULL AND k.review_date <= ? AND c.status != 'closed' "
            f"AND ({where}) GROUP BY k.id",
            (until.isoformat(), *params),
        )
    )


def marac_actions(
    conn: Connection, until: dt.date, where: str, params: tuple[object, ...]
) -> list[tuple[int, str, dt.date, str]]:
    """Actions agreed at MARAC, not yet done, due on or before ``until``: (case id, reference,
    due date, "")."""
    return _dated(
        read(
            conn,
            "SELECT c.id, c.reference, a.due_on, '' FROM marac_actions a "
            "JOIN cases c ON c.id = a.case_id WHERE a.done_on IS NULL AND a.due_on <= ? "
            f"AND c.status != 'closed' AND ({where})",
            (until.isoformat(), *params),
        )
    )
