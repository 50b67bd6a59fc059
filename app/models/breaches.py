"""The breach log: personal data breaches, each a chain of versions, and the 72-hour clock.

A breach as it stands is its newest version; earlier versions are kept for ever (the tables
refuse changes and removals), so a correction shows what was said before, by whom and why.
Times are kept in UTC (``2026-10-25T01:30:00Z``): the clock counts real hours, so a night
when the clocks change in Europe/London is 23 or 25 hours long, as it was.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from app.crypto.connection import Connection
from app.models import settings as settings_model
from app.models.convert import date_text, parse_date
from app.models.db import read

# Article 33(1): without undue delay and, where feasible, not later than 72 hours after
# becoming aware of it. Calendar hours: nights, weekends and bank holidays count.
REPORT_WITHIN = dt.timedelta(hours=72)


class Risk(enum.StrEnum):
    """The DPO's assessment of the risk to people's rights and freedoms."""

    NOT_ASSESSED = "not_assessed"
    NO_RISK = "no_risk"  # unlikely to result in a risk: recorded, not reported
    RISK = "risk"  # must be reported to the ICO
    HIGH_RISK = "high_risk"  # reported, and the people affected told (Article 34)

    @property
    def must_report(self) -> bool:
        return self in (Risk.RISK, Risk.HIGH_RISK)


class PeopleTold(enum.StrEnum):
    NOT_DECIDED = "not_decided"
    TOLD = "told"
    NOT_TOLD = "not_told"  # with the reason (an Article 34(3) exception)


class Source(enum.StrEnum):
    RECORDED = "recorded"
    DEVICE_LOST = "device_lost"  # from "Report lost or stolen" on the Devices page


class ClockState(enum.StrEnum):
    RUNNING = "running"  # to report, within the 72 hours
    OVERDUE = "overdue"  # to report, and the 72 hours have passed
    REPORTED = "reported"
    NOT_REPORTABLE = "not_reportable"  # assessed as no risk, with the reason recorded


@dataclass(frozen=True)
class Clock:
    """Where a breach's 72-hour clock stands at a moment. ``minutes`` is whole minutes left
    (running) or past the deadline (overdue), rounded down; ``late`` marks a report made after
    the deadline."""

    state: ClockState
    deadline: dt.datetime
    minutes: int = 0
    late: bool = False

    @property
    def open_to_report(self) -> bool:
        return self.state in (ClockState.RUNNING, ClockState.OVERDUE)


@dataclass(frozen=True)
class Facts:
    """What one version says about a breach (every field the form holds)."""

    aware_at: dt.datetime  # aware, any zone; kept in UTC
    what_happened: str
    data_categories: str = ""
    people_affected: int | None = None  # approximate
    records_affected: int | None = None  # approximate
    consequences: str = ""
    measures: str = ""
    risk: Risk = Risk.NOT_ASSESSED
    not_reported_reason: str = ""
    reported_at: dt.datetime | None = None
    ico_reference: str = ""
    delay_reason: str = ""
    people_told: PeopleTold = PeopleTold.NOT_DECIDED
    people_told_on: dt.date | None = None
    not_told_reason: str = ""

    @property
    def deadline(self) -> dt.datetime:
        return self.aware_at.astimezone(dt.UTC) + REPORT_WITHIN


@dataclass(frozen=True)
class Version:
    id: int
    facts: Facts
    closed_at: str | None
    change_reason: str
    changed_by: int | None
    changed_at: str


@dataclass(frozen=True)
class Breach:
    """A breach as it stands: its newest version."""

    id: int
    reference: str
    source: Source
    recorded_by: int | None
    recorded_at: str
    facts: Facts
    closed_at: str | None
    changed_at: str
    versions: int

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def clock(self, now: dt.datetime) -> Clock:
        """The 72-hour clock at ``now`` (an aware datetime)."""
        facts = self.facts
        deadline = facts.deadline
        if facts.reported_at is not None:
            return Clock(ClockState.REPORTED, deadline, late=facts.reported_at > deadline)
        if facts.risk is Risk.NO_RISK:
            return Clock(ClockState.NOT_REPORTABLE, deadline)
        left = deadline - now
        if left >= dt.timedelta(0):
            return Clock(ClockState.RUNNING, deadline, int(left.total_seconds()) // 60)
        return Clock(ClockState.OVERDUE, deadline, int(-left.total_seconds()) // 60)


def utc_text(moment: dt.datetime) -> str:
    """An aware datetime as the store keeps it: UTC, to the second."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(value: object) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(dt.UTC)


# -- reading ------------------------------------------------------------------------------------

_VERSION = (
    "v.id, v.aware_at, v.what_happened, v.data_categories, v.people_affected, "
    "v.records_affected, v.consequences, v.measures, v.risk, v.not_reported_reason, "
    "v.reported_at, v.ico_reference, v.delay_reason, v.people_told, v.people_told_on, "
    "v.not_told_reason, v.closed_at, v.change_reason, v.changed_by, v.changed_at"
)


def _int(value: object) -> int | None:
    return None if value is None else int(str(value))


def _version(row: tuple[object, ...]) -> Version:
    facts = Facts(
        aware_at=parse_utc(row[1]) or dt.datetime.min.replace(tzinfo=dt.UTC),
        what_happened=str(row[2]),
        data_categories=str(row[3]),
        people_affected=_int(row[4]),
        records_affected=_int(row[5]),
        consequences=str(row[6]),
        measures=str(row[7]),
        risk=Risk(str(row[8])),
        not_reported_reason=str(row[9]),
        reported_at=parse_utc(row[10]),
        ico_reference=str(row[11]),
        delay_reason=str(row[12]),
        people_told=PeopleTold(str(row[13])),
        people_told_on=parse_date(row[14]),
        not_told_reason=str(row[15]),
    )
    return Version(
        id=int(str(row[0])),
        facts=facts,
        closed_at=None if row[16] is None else str(row[16]),
        change_reason=str(row[17]),
        changed_by=_int(row[18]),
        changed_at=str(row[19]),
    )


def _breaches(conn: Connection, where: str, params: tuple[object, ...]) -> list[Breach]:
    rows = read(
        conn,
        f"SELECT b.id, b.reference, b.source, b.recorded_by, b.recorded_at, "
        f"(SELECT count(*) FROM breach_versions c WHERE c.breach_id = b.id), {_VERSION} "
        "FROM breaches b JOIN breach_versions v ON v.id = (SELECT id FROM breach_versions "
        "WHERE breach_id = b.id ORDER BY changed_at DESC, id DESC LIMIT 1) "
        f"WHERE {where} ORDER BY v.aware_at DESC, b.id DESC",
        params,
    )
    found = []
    for row in rows:
        version = _version(row[6:])
        found.append(
            Breach(
                id=int(str(row[0])),
                reference=str(row[1]),
                source=Source(str(row[2])),
                recorded_by=_int(row[3]),
                recorded_at=str(row[4]),
                facts=version.facts,
                closed_at=version.closed_at,
                changed_at=version.changed_at,
                versions=int(str(row[5])),
            )
        )
    return found


def listing(conn: Connection, *, include_closed: bool = True) -> list[Breach]:
    """Every breach as it stands, the most recent awareness first."""
    return _breaches(conn, "1" if include_closed else "v.closed_at IS NULL", ())


def get(conn: Connection, breach_id: int) -> Breach | None:
    found = _breaches(conn, "b.id = ?", (breach_id,))
    return found[0] if found else None


def by_reference(conn: Connection, reference: str) -> Breach | None:
    found = _breaches(conn, "b.reference = ?", (reference.strip().upper(),))
    return found[0] if found else None


def history(conn: Connection, breach_id: int) -> list[Version]:
    """Every version of a breach, the first recorded first."""
    rows = read(
        conn,
        f"SELECT {_VERSION} FROM breach_versions v WHERE v.breach_id = ? "
        "ORDER BY v.changed_at, v.id",
        (breach_id,),
    )
    return [_version(row) for row in rows]


# -- writing (append only) ----------------------------------------------------------------------


def next_reference(conn: Connection, year: int) -> str:
    """The next reference of this laptop: with its team tag in a team ("BR-2026-B-0001"), so
    breaches logged offline on two laptops never share one."""
    prefix = settings_model.reference_prefix(conn, "BR", year)
    rows = read(
        conn,
        "SELECT reference FROM breaches WHERE reference >= ? AND reference < ? "
        "ORDER BY reference DESC LIMIT 1",
        (f"{prefix}0", f"{prefix}:"),
    )
    number = int(str(rows[0][0]).rsplit("-", 1)[1]) + 1 if rows else 1
    return f"{prefix}{number:04d}"


def insert(conn: Connection, reference: str, source: Source, user_id: int, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO breaches (reference, source, recorded_by, recorded_at) VALUES (?, ?, ?, ?)",
        (reference, source.value, user_id, now),
    )
    return int(cur.lastrowid or 0)


def add_version(
    conn: Connection,
    breach_id: int,
    facts: Facts,
    *,
    closed_at: str | None,
    change_reason: str,
    user_id: int,
    now: str,
) -> int:
    cur = conn.execute(
        "INSERT INTO breach_versions (breach_id, aware_at, what_happened, data_categories, "
        "people_affected, records_affected, consequences, measures, risk, not_reported_reason, "
        "reported_at, ico_reference, delay_reason, people_told, people_told_on, "
        "not_told_reason, closed_at, change_reason, changed_by, changed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            breach_id,
            utc_text(facts.aware_at),
            facts.what_happened,
            facts.data_categories,
            facts.people_affected,
            facts.records_affected,
            facts.consequences,
            facts.measures,
            facts.risk.value,
            facts.not_reported_reason,
            utc_text(facts.reported_at) if facts.reported_at else None,
            facts.ico_reference,
            facts.delay_reason,
            facts.people_told.value,
            date_text(facts.people_told_on),
            facts.not_told_reason,
            closed_at,
            change_reason,
            user_id,
            now,
        ),
    )
    return int(cur.lastrowid or 0)


# -- what the store holds, for a lost device's breach record (counts only) -----------------------


@dataclass(frozen=True)
class Holdings:
    people: int
    cases: int
    open_cases: int
    notes: int
    children: int


def holdings(conn: Connection) -> Holdings:
    row = read(
        conn,
        "SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM cases), "
        "(SELECT count(*) FROM cases WHERE status != 'closed'), (SELECT count(*) FROM notes), "
        "(SELECT count(DISTINCT person_id) FROM case_people WHERE role = 'child')",
    )[0]
    return Holdings(*(int(str(v)) for v in row))


def first_used(conn: Connection) -> str | None:
    """When this store was first used: its first audit entry (the store's creation)."""
    rows = read(conn, "SELECT at FROM audit ORDER BY id LIMIT 1")
    return str(rows[0][0]) if rows else None
