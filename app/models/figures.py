"""Aggregate counts over the whole service for a period, for commissioners' figures.

Every function is one or a few GROUP BY queries: counts by category, never a row per case or
person, and never a name, reference or id. The period runs from ``start`` to ``end``
inclusive (dates as ISO text). Suppression of small numbers happens above this layer
(app/services/suppression.py); these are the true counts.
"""

from __future__ import annotations

import datetime as dt

from app.crypto.connection import Connection
from app.models.categories import CATEGORY_FIELDS, count_by
from app.models.db import read
from app.models.risk import REASON_REPEAT

NOT_RECORDED = "not_recorded"
NOT_ASSESSED = "not_assessed"
CONTACT_KINDS = ("call", "visit", "meeting", "message")
OUTCOME_FIELDS = (
    "reason",
    "risk_at_exit",
    "abuse",
    "feeling_safer",
    "quality_of_life",
    "engagement",
)
# Ages at the end of the period: (key, lowest age, highest age).
AGE_BANDS = (
    ("under_18", 0, 17),
    ("18_24", 18, 24),
    ("25_34", 25, 34),
    ("35_44", 35, 44),
    ("45_54", 45, 54),
    ("55_64", 55, 64),
    ("65_over", 65, 200),
)

Counts = dict[tuple[str, ...], int]


def _counts(rows: list[tuple[object, ...]]) -> Counts:
    return {tuple(str(v) for v in row[:-1]): int(str(row[-1])) for row in rows}


def _in_period(column: str) -> str:
    return f"{column} >= ? AND {column} <= ?"


def referrals_by_source_and_risk(conn: Connection, start: dt.date, end: dt.date) -> Counts:
    """Cases referred in the period by the kind of agency that referred them and the case's
    risk level: {(source, level): count}."""
    return _counts(
        read(
            conn,
            f"SELECT COALESCE(rs.agency_type, '{NOT_RECORDED}'), "
            f"COALESCE(c.risk_level, '{NOT_ASSESSED}'), COUNT(*) FROM cases c "
            "LEFT JOIN case_referral_sources rs ON rs.case_id = c.id "
            f"WHERE {_in_period('c.referral_date')} GROUP BY 1, 2",
            (start.isoformat(), end.isoformat()),
        )
    )


def caseload(conn: Connection, start: dt.date, end: dt.date) -> dict[str, int]:
    """Cases open at the end of the period and cases closed during it."""
    rows = read(
        conn,
        "SELECT "
        "SUM(c.opened_date IS NOT NULL AND c.opened_date <= ? "
        "    AND (c.closed_date IS NULL OR c.closed_date > ?)), "
        f"SUM(c.closed_date IS NOT NULL AND {_in_period('c.closed_date')}) "
        "FROM cases c",
        (end.isoformat(), end.isoformat(), start.isoformat(), end.isoformat()),
    )
    open_at_end, closed = rows[0]
    return {"open_at_end": int(str(open_at_end or 0)), "closed": int(str(closed or 0))}


# Another case of the same client referred (or referred to MARAC) in the 12 months before.
_EARLIER_CASE = (
    "EXISTS (SELECT 1 FROM case_people me "
    "JOIN case_people other ON other.person_id = me.person_id AND other.role = 'client' "
    "JOIN cases o ON o.id = other.case_id "
    "WHERE me.case_id = c.id AND me.role = 'client' AND o.id != c.id "
    "AND o.{column} >= date(c.{column}, '-12 months') "
    "AND (o.{column} < c.{column} OR (o.{column} = c.{column} AND o.id < c.id)))"
)


def repeats(conn: Connection, start: dt.date, end: dt.date) -> Counts:
    """Referrals and MARAC referrals in the period, each a repeat (within 12 months of the
    client's last) or not: {(kind, "repeat" | "not_repeat"): count}. A case counts once, by its
    latest MARAC referral; that is a repeat when another case of the client was referred to
    MARAC in the 12 months before, when the checklist gave the repeat reason, or when the form
    was issued as a repeat or followed an earlier form on the case within 12 months."""
    period = (start.isoformat(), end.isoformat())
    referral_rows = read(
        conn,
        f"SELECT {_EARLIER_CASE.format(column='referral_date')}, COUNT(*) FROM cases c "
        f"WHERE {_in_period('c.referral_date')} GROUP BY 1",
        period,
    )
    marac_rows = read(
        conn,
        f"SELECT {_EARLIER_CASE.format(column='marac_referral_date')} OR EXISTS ("
        "SELECT 1 FROM dash_assessments d WHERE d.case_id = c.id "
        "AND d.completed_on <= c.marac_referral_date "
        "AND d.completed_on >= date(c.marac_referral_date, '-12 months') "
        "AND instr(d.marac_reasons, ?) > 0) OR EXISTS ("
        # A referral form issued as a repeat, or an earlier form on the case within 12 months.
        "SELECT 1 FROM marac_referrals m WHERE m.case_id = c.id AND ("
        "(m.referred_on = c.marac_referral_date AND m.reason = 'repeat') OR "
        "(m.referred_on < c.marac_referral_date "
        "AND m.referred_on >= date(c.marac_referral_date, '-12 months')))), COUNT(*) FROM cases c "
        f"WHERE {_in_period('c.marac_referral_date')} GROUP BY 1",
        (REASON_REPEAT, *period),
    )
    found: Counts = {}
    for kind, rows in (("referrals", referral_rows), ("marac", marac_rows)):
        for repeat, count in rows:
            key = (kind, "repeat" if int(str(repeat)) else "not_repeat")
            found[key] = int(str(count))
    return found


def days_to_first_contact(conn: Connection, start: dt.date, end: dt.date) -> dict[int | None, int]:
    """For cases referred in the period, how many days from the referral to the first call,
    visit, meeting or message (0 for the same day or earlier): {days: cases}, None for cases
    with no contact recorded yet."""
    kinds = ", ".join(f"'{k}'" for k in CONTACT_KINDS)
    rows = read(
        conn,
        "SELECT CASE WHEN first IS NULL THEN NULL "
        "ELSE max(0, CAST(julianday(substr(first, 1, 10)) - julianday(referred) AS INTEGER)) "
        "END, COUNT(*) FROM ("
        "SELECT c.referral_date AS referred, (SELECT min(n.occurred_at) FROM notes n "
        f"WHERE n.case_id = c.id AND n.kind IN ({kinds})) AS first FROM cases c "
        f"WHERE {_in_period('c.referral_date')}) GROUP BY 1",
        (start.isoformat(), end.isoformat()),
    )
    return {None if r[0] is None else int(str(r[0])): int(str(r[1])) for r in rows}


def client_categories(
    conn: Connection, category: str, start: dt.date, end: dt.date
) -> dict[str, int]:
    """Clients of the cases referred in the period (each person once) by ``category``."""
    if category not in CATEGORY_FIELDS:
        raise ValueError(category)
    return count_by(
        conn, category, _in_period("c.referral_date"), (start.isoformat(), end.isoformat())
    )


def client_ages(conn: Connection, start: dt.date, end: dt.date) -> dict[str, int]:
    """Clients of the cases referred in the period (each person once) by age band at the end
    of the period; "not_recorded" when no date of birth is held."""
    bands = " ".join(
        f"WHEN age BETWEEN {low} AND {high} THEN '{key}'" for key, low, high in AGE_BANDS
    )
    day = end.isoformat()
    rows = read(
        conn,
        f"SELECT CASE WHEN age IS NULL THEN '{NOT_RECORDED}' {bands} ELSE '{NOT_RECORDED}' END, "
        "COUNT(*) FROM (SELECT DISTINCT p.id, CASE WHEN p.date_of_birth IS NULL "
        "OR p.date_of_birth = '' THEN NULL ELSE "
        "CAST(strftime('%Y', ?) AS INTEGER) - CAST(strftime('%Y', p.date_of_birth) AS INTEGER) "
        "- (strftime('%m-%d', ?) < strftime('%m-%d', p.date_of_birth)) END AS age "
        "FROM cases c JOIN case_people cp ON cp.case_id = c.id AND cp.role = 'client' "
        "JOIN people p ON p.id = cp.person_id "
        f"WHERE {_in_period('c.referral_date')}) GROUP BY 1",
        (day, day, start.isoformat(), end.isoformat()),
    )
    return {str(r[0]): int(str(r[1])) for r in rows}


def outcomes(conn: Connection, field: str, start: dt.date, end: dt.date) -> dict[str, int]:
    """Cases closed in the period by one field of the outcome recorded at closure;
    "not_recorded" for a closure with no outcome recorded."""
    if field not in OUTCOME_FIELDS:
        raise ValueError(field)
    rows = read(
        conn,
        f"SELECT COALESCE(o.{field}, '{NOT_RECORDED}'), COUNT(*) FROM cases c "
        "LEFT JOIN case_outcomes o ON o.case_id = c.id "
        f"WHERE c.closed_date IS NOT NULL AND {_in_period('c.closed_date')} GROUP BY 1",
        (start.isoformat(), end.isoformat()),
    )
    return {str(r[0]): int(str(r[1])) for r in rows}


def shares_out(conn: Connection, start: dt.date, end: dt.date) -> Counts:
    """Disclosures out of the service made in the period, by the recipient's category and
    the lawful basis used: {(recipient, basis): count}."""
    after = (end + dt.timedelta(days=1)).isoformat()
    return _counts(
        read(
            conn,
            "SELECT recipient_category, lawful_basis, COUNT(*) FROM shares "
            "WHERE direction = 'out' AND shared_at >= ? AND shared_at < ? GROUP BY 1, 2",
            (start.isoformat(), after),
        )
    )
