"""The commissioners' figures benchmark, on the case-records store (100,000 demo cases by
default): a whole year's figures through the service as a manager (every table, suppression
and the audit entry), and the same aggregate queries on the store and on its plain sqlite3
copy in the same run (goal: 2 s or less for the year's figures; reported, never asserted).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from app.crypto.connection import Connection
from app.models import figures as model
from app.services import figures
from app.services.figures import Period
from app.services.session import Session

GOAL_SECONDS = 2.0
RUNS = 5  # the service call timed this many times; the best and the median are reported


@dataclass(frozen=True)
class FiguresBench:
    year: int
    referrals: int  # cases referred in that year
    runs_seconds: tuple[float, ...]

    @property
    def best_seconds(self) -> float:
        return min(self.runs_seconds)

    @property
    def median_seconds(self) -> float:
        ordered = sorted(self.runs_seconds)
        return ordered[len(ordered) // 2]

    def to_json(self) -> dict[str, object]:
        return {
            "year": self.year,
            "referrals": self.referrals,
            "best_seconds": round(self.best_seconds, 3),
            "median_seconds": round(self.median_seconds, 3),
            "runs_seconds": [round(r, 3) for r in self.runs_seconds],
            "goal_seconds": GOAL_SECONDS,
        }


def busiest_year(conn: Connection) -> tuple[int, int]:
    """The year with the most referrals, and how many."""
    row = conn.execute(
        "SELECT CAST(substr(referral_date, 1, 4) AS INTEGER), COUNT(*) FROM cases "
        "GROUP BY 1 ORDER BY 2 DESC, 1 DESC LIMIT 1"
    ).fetchone()
    return int(row[0]), int(row[1])


def aggregate_reads(conn: Connection, period: Period) -> int:
    """Every aggregate query the figures run, on ``conn``; a checksum of the counts, so the two
    copies can be seen to agree."""
    start, end = period.start, period.end
    total = sum(model.referrals_by_source_and_risk(conn, start, end).values())
    total += sum(model.caseload(conn, start, end).values())
    total += sum(model.repeats(conn, start, end).values())
    total += sum(model.days_to_first_contact(conn, start, end).values())
    for field in ("sex", "gender_identity", "sexual_orientation", "religion", "disability"):
        total += sum(model.client_categories(conn, field, start, end).values())
    total += sum(model.client_categories(conn, "ethnicity", start, end).values())
    total += sum(model.client_ages(conn, start, end).values())
    for field in model.OUTCOME_FIELDS:
        total += sum(model.outcomes(conn, field, start, end).values())
    total += sum(model.shares_out(conn, start, end).values())
    return total


def time_figures(session: Session) -> FiguresBench:
    """A year's figures through the service, RUNS times (the first warms the page cache)."""
    year, referrals = busiest_year(session.conn)
    period = Period.year(year)
    figures.figures(session, period)
    runs = []
    for _ in range(RUNS):
        start = time.perf_counter()
        figures.figures(session, period)
        runs.append(time.perf_counter() - start)
    return FiguresBench(year, referrals, tuple(runs))


def reads(session: Session) -> list[Callable[[Connection], int]]:
    """The aggregate queries alone, as items for ``bench.cases.compare``."""
    year, _referrals = busiest_year(session.conn)
    return [partial(aggregate_reads, period=Period.year(year)) for _ in range(RUNS)]


def format_figures(result: FiguresBench) -> list[str]:
    mark = "" if result.best_seconds <= GOAL_SECONDS else "  over"
    return [
        "",
        f"  Figures for {result.year} ({result.referrals:,} referrals), through the service "
        "as a manager:",
        f"    best {result.best_seconds:.3f} s, median {result.median_seconds:.3f} s of "
        f"{len(result.runs_seconds)} (goal <= {GOAL_SECONDS:.0f} s){mark}",
    ]
