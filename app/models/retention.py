"""Retention: each closed case's destruction date, review decisions, destroying a case without a
trace, and the destruction log (which holds no personal data).

A case is due ``retention_years`` after it closed (7 by default, seeds/002), or on the
``child_until_age`` birthday (25) of the youngest person on it who was a child (under 18) at some
time while the service supported them, whatever their role (the client herself, a child, another
household member), when that is later; or on the review date of the latest extension when that
is later still. Adding years lands on the same date, or on the last day of
the month when there is no such date (29 February plus a year is 28 February).
A legal hold, or an open rights request for anyone on the case, blocks destruction.

Decisions are bound to the closure and due date they were made for: reopening and closing a case
again, or a change that moves its date, needs a fresh review.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass

from app.crypto.connection import Connection
from app.errors import SafecaseError
from app.models import merges, rights, settings
from app.models.convert import date_text, parse_date
from app.models.db import limit as sql_limit
from app.models.db import read

RETENTION_YEARS = "retention_years"
CHILD_UNTIL_AGE = "child_until_age"
DEFAULT_YEARS = 7
DEFAULT_CHILD_AGE = 25
ADULT_AGE = 18  # a person under 18 is a child (Children Act 1989, s.105)


def add_years(day: dt.date, years: int) -> dt.date:
    """The same date ``years`` later, or the month's last day when there is no such date."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


# -- the policy ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    years: int = DEFAULT_YEARS
    child_until_age: int = DEFAULT_CHILD_AGE


def _setting(conn: Connection, key: str, default: int) -> int:
    value = settings.get(conn, key)
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def policy(conn: Connection) -> Policy:
    return Policy(
        years=_setting(conn, RETENTION_YEARS, DEFAULT_YEARS),
        child_until_age=_setting(conn, CHILD_UNTIL_AGE, DEFAULT_CHILD_AGE),
    )


def put_policy(conn: Connection, rules: Policy) -> None:
    settings.put(conn, RETENTION_YEARS, str(rules.years))
    settings.put(conn, CHILD_UNTIL_AGE, str(rules.child_until_age))


# -- schedules ----------------------------------------------------------------------------------


class Rule(enum.StrEnum):
    """What set a case's destruction date."""

    CLOSURE = "closure"  # the retention period after closure
    CHILD = "child"  # someone who was a child while supported reaching child_until_age
    EXTENSION = "extension"  # the review date of an extension
    ERASURE = "erasure"  # destroyed early to carry out a granted erasure request


class Block(enum.StrEnum):
    """What stops a due case being destroyed."""

    LEGAL_HOLD = "legal_hold"
    RIGHTS_REQUEST = "rights_request"


class Check(enum.StrEnum):
    """Something the reviewer should check before approving (it does not block)."""

    CHILD_BIRTH_DATE_UNKNOWN = "child_birth_date_unknown"


class Status(enum.StrEnum):
    """Where a due case stands in review."""

    AWAITING_REVIEW = "awaiting_review"
    APPROVED = "approved"
    BLOCKED = "blocked"


class Decision(enum.StrEnum):
    APPROVE = "approve"
    EXTEND = "extend"


@dataclass(frozen=True)
class DecisionRecord:
    id: int
    decision: Decision
    review_date: dt.date | None
    decided_by: int
    decided_by_name: str
    decided_at: str
    due_date: dt.date | None


@dataclass(frozen=True)
class Schedule:
    """One closed case's place in the retention schedule: references, dates, rule and flags,
    never case content."""

    case_id: int
    reference: str
    closed_date: dt.date
    due_date: dt.date
    rule: Rule
    blocks: tuple[Block, ...]
    hold_review: dt.date | None
    checks: tuple[Check, ...]
    approval: DecisionRecord | None  # the approval in force, if any
    extension: DecisionRecord | None  # the latest extension for this closure, if any
    gid: str = ""  # set for a team's case this laptop does not hold (case_id is then 0)

    def is_due(self, as_of: dt.date) -> bool:
        return self.due_date <= as_of

    @property
    def approved(self) -> bool:
        return self.approval is not None

    @property
    def blocked(self) -> bool:
        return bool(self.blocks)

    @property
    def status(self) -> Status:
        if self.blocks:
            return Status.BLOCKED
        return Status.APPROVED if self.approval else Status.AWAITING_REVIEW


def rule_text(rule: Rule, rules: Policy) -> str:
    """Why a case was due, in words, for the log and the certificate (no personal data)."""
    if rule is Rule.CHILD:
        return (
            f"kept until the youngest person on the case who was under {ADULT_AGE} while "
            f"supported turned {rules.child_until_age}"
        )
    if rule is Rule.EXTENSION:
        return "kept until the review date of an extension"
    return f"kept {rules.years} years after the case closed"


def retention_statement(rules: Policy) -> str:
    """What a requester is told about how long records are kept (the SAR cover letter), from
    the same policy and rules the schedule applies."""
    return (
        f"We keep these records for {rules.years} years after we stop working with the person "
        "they are about, then destroy them securely. When anyone on the record was under "
        f"{ADULT_AGE} at any time while we supported them, whether the person we supported or "
        f"someone else on the record, we keep it until the youngest of them is "
        f"{rules.child_until_age}, if that is later. We keep records longer only when we must: "
        "while legal proceedings, a review or a request like this one is open."
    )


def youngest_supported_child(
    birth_dates: Iterable[dt.date], supported_from: dt.date
) -> dt.date | None:
    """The latest birth date of anyone who was still under ``ADULT_AGE`` on or after the day the
    service started supporting the case, or None when there was no such person."""
    children = [b for b in birth_dates if add_years(b, ADULT_AGE) > supported_from]
    return max(children, default=None)


# Every person on the case but the professionals (who are there in their role, not supported),
# whatever else their role: the client, a child, another household member, an alleged
# perpetrator. Their birth dates, and the day support began (referral, or opening if earlier).
_CANDIDATES = (
    "SELECT c.id, c.reference, c.closed_date, c.legal_hold_reason != '', c.legal_hold_review, "
    "(SELECT group_concat(p.date_of_birth) FROM case_people cp JOIN people p "
    " ON p.id = cp.person_id WHERE cp.case_id = c.id AND cp.role != 'professional' "
    " AND p.date_of_birth IS NOT NULL), "
    "EXISTS (SELECT 1 FROM case_people cp JOIN people p ON p.id = cp.person_id "
    " WHERE cp.case_id = c.id AND cp.role = 'child' AND p.date_of_birth IS NULL), "
    "EXISTS (SELECT 1 FROM case_people cp JOIN rights_requests r "
    " ON r.subject_person_id = cp.person_id WHERE cp.case_id = c.id AND r.status = 'open'), "
    "min(c.referral_date, COALESCE(c.opened_date, c.referral_date)) "
    "FROM cases c WHERE c.status = 'closed' AND c.closed_date IS NOT NULL AND "
)
_DECISIONS = (
    "SELECT d.case_id, d.id, d.decision, d.review_date, d.decided_by, "
    "COALESCE(u.username, ''), d.decided_at, d.due_date FROM retention_decisions d "
    "JOIN cases c ON c.id = d.case_id LEFT JOIN users u ON u.id = d.decided_by "
    "WHERE d.closed_date = c.closed_date AND c.status = 'closed' AND "
)


def _decisions(
    conn: Connection, where: str, params: tuple[object, ...]
) -> dict[int, list[DecisionRecord]]:
    found: dict[int, list[DecisionRecord]] = {}
    for r in read(conn, f"{_DECISIONS}{where} ORDER BY d.id", params):
        found.setdefault(int(str(r[0])), []).append(
            DecisionRecord(
                id=int(str(r[1])),
                decision=Decision(str(r[2])),
                review_date=parse_date(r[3]),
                decided_by=int(str(r[4])),
                decided_by_name=str(r[5]),
                decided_at=str(r[6]),
                due_date=parse_date(r[7]),
            )
        )
    return found


def _schedule(row: tuple[object, ...], decisions: list[DecisionRecord], rules: Policy) -> Schedule:
    closed = parse_date(row[2])
    assert closed is not None
    due, rule = add_years(closed, rules.years), Rule.CLOSURE
    born = [parse_date(text) for text in str(row[5] or "").split(",") if text]
    supported_from = parse_date(row[8]) or closed
    youngest = youngest_supported_child((b for b in born if b is not None), supported_from)
    if youngest is not None:
        birthday = add_years(youngest, rules.child_until_age)
        if birthday > due:
            due, rule = birthday, Rule.CHILD
    extensions = [d for d in decisions if d.decision is Decision.EXTEND]
    extension = extensions[-1] if extensions else None
    if extension is not None and extension.review_date and extension.review_date > due:
        due, rule = extension.review_date, Rule.EXTENSION
    latest = decisions[-1] if decisions else None
    approval = (
        latest
        if latest is not None and latest.decision is Decision.APPROVE and latest.due_date == due
        else None
    )
    blocks = []
    if row[3]:
        blocks.append(Block.LEGAL_HOLD)
    if row[7]:
        blocks.append(Block.RIGHTS_REQUEST)
    return Schedule(
        case_id=int(str(row[0])),
        reference=str(row[1]),
        closed_date=closed,
        due_date=due,
        rule=rule,
        blocks=tuple(blocks),
        hold_review=parse_date(row[4]) if row[3] else None,
        checks=(Check.CHILD_BIRTH_DATE_UNKNOWN,) if row[6] else (),
        approval=approval,
        extension=extension,
    )


def schedule_for(conn: Connection, case_id: int, rules: Policy) -> Schedule | None:
    """The schedule of one case, or None when it is not closed (an open case has no date)."""
    rows = read(conn, f"{_CANDIDATES}c.id = ?", (case_id,))
    if not rows:
        return None
    decisions = _decisions(conn, "c.id = ?", (case_id,))
    return _schedule(rows[0], decisions.get(case_id, []), rules)


def due(conn: Connection, as_of: dt.date, rules: Policy) -> list[Schedule]:
    """Every closed case due for destruction on ``as_of``, blocked or not, by due date.

    An extension whose review date has not come yet keeps its case off the list.
    """
    # Every due date is at least ``years`` after closure: only older closures can be due.
    # A few days' slack covers month ends (29 February plus a year is 28 February).
    latest = add_years(as_of, -rules.years) + dt.timedelta(days=3)
    where, params = "c.closed_date <= ?", (latest.isoformat(),)
    rows = read(conn, f"{_CANDIDATES}{where}", params)
    decisions = _decisions(conn, where, params)
    found = [_schedule(r, decisions.get(int(str(r[0])), []), rules) for r in rows]
    return sorted((s for s in found if s.is_due(as_of)), key=lambda s: (s.due_date, s.reference))


def add_decision(
    conn: Connection,
    schedule: Schedule,
    decision: Decision,
    reason: str,
    review_date: dt.date | None,
    user_id: int,
    now: str,
) -> int:
    """Record a review decision, bound to the closure and due date it was made for."""
    cur = conn.execute(
        "INSERT INTO retention_decisions (case_id, decision, reason, review_date, decided_by, "
        "decided_at, closed_date, due_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            schedule.case_id,
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


# -- destroying a case -------------------------------------------------------------------------

# Everything that points at a person ``p`` from a case; a person nothing points at any more goes.
_STILL_REFERENCED = (
    "EXISTS (SELECT 1 FROM case_people WHERE person_id = p.id) "
    "OR EXISTS (SELECT 1 FROM cases WHERE referrer_id = p.id) "
    "OR EXISTS (SELECT 1 FROM safe_contacts WHERE person_id = p.id) "
    "OR EXISTS (SELECT 1 FROM dash_assessments WHERE person_id = p.id) "
    "OR EXISTS (SELECT 1 FROM share_people WHERE person_id = p.id)"
)
_PEOPLE_OF_CASE = (
    "SELECT person_id FROM case_people WHERE case_id = ?1 "
    "UNION SELECT referrer_id FROM cases WHERE id = ?1 AND referrer_id IS NOT NULL "
    "UNION SELECT person_id FROM safe_contacts WHERE case_id = ?1 "
    "UNION SELECT person_id FROM dash_assessments WHERE case_id = ?1 "
    "UNION SELECT sp.person_id FROM share_people sp JOIN shares s ON s.id = sp.share_id "
    "WHERE s.case_id = ?1"
)
# In order: children before the rows they point at. Each removes one kind of record of a case.
_CASE_ROWS = (
    (
        "search_index",
        "DELETE FROM search_index WHERE rowid IN (SELECT id FROM search_rows WHERE case_id = ?)",
    ),
    ("search_entries", "DELETE FROM search_rows WHERE case_id = ?"),
    (
        "note_revisions",
        "DELETE FROM note_revisions WHERE note_id IN (SELECT id FROM notes WHERE case_id = ?)",
    ),
    ("notes", "DELETE FROM notes WHERE case_id = ?"),
    ("marac_referrals", "DELETE FROM marac_referrals WHERE case_id = ?"),
    (
        "share_reviews",
        "DELETE FROM share_reviews WHERE share_id IN (SELECT id FROM shares WHERE case_id = ?)",
    ),
    (
        "share_people",
        "DELETE FROM share_people WHERE share_id IN (SELECT id FROM shares WHERE case_id = ?)",
    ),
    ("shares", "DELETE FROM shares WHERE case_id = ?"),
    ("dash_assessments", "DELETE FROM dash_assessments WHERE case_id = ?"),
    ("case_legal", "DELETE FROM case_legal WHERE case_id = ?"),
    ("case_agencies", "DELETE FROM case_agencies WHERE case_id = ?"),
    ("case_referral_sources", "DELETE FROM case_referral_sources WHERE case_id = ?"),
    ("case_children", "DELETE FROM case_children WHERE case_id = ?"),
    ("marac_actions", "DELETE FROM marac_actions WHERE case_id = ?"),
    ("case_outcomes", "DELETE FROM case_outcomes WHERE case_id = ?"),
    ("safe_contacts", "DELETE FROM safe_contacts WHERE case_id = ?"),
    ("contact_overrides", "DELETE FROM contact_overrides WHERE case_id = ?"),
    ("break_glass", "DELETE FROM break_glass WHERE case_id = ?"),
    ("retention_decisions", "DELETE FROM retention_decisions WHERE case_id = ?"),
    ("case_people", "DELETE FROM case_people WHERE case_id = ?"),
    ("drafts", "DELETE FROM drafts WHERE case_id = ?"),
    ("operations", "DELETE FROM operations WHERE case_id = ?"),
    ("conflicts", "DELETE FROM conflicts WHERE case_id = ?"),
    ("cases", "DELETE FROM cases WHERE id = ?"),
)


def delete_case_rows(conn: Connection, case_id: int) -> dict[str, int]:
    """Delete the case and every row that belongs to it alone; returns counts by kind."""
    counts: dict[str, int] = {}
    for kind, sql in _CASE_ROWS:
        count = conn.execute(sql, (case_id,)).rowcount
        if kind != "search_index":  # FTS5 reports no count: search_entries is the same number
            counts[kind] = max(0, int(count))
    if counts["cases"] != 1:
        raise SafecaseError("The case changed while it was being destroyed; nothing was removed.")
    return counts


def delete_people(
    conn: Connection, person_ids: Iterable[int], erased: str = "destroyed"
) -> dict[str, int]:
    """Delete each person no remaining case points at, with their consents; keep the rest.

    A closed rights request about a deleted person keeps its register entry (reference, dates,
    outcome, who handled it) but loses its link to the person and every personal detail: its
    requester reads ``erased`` (an open one blocks destruction before this is reached).
    """
    counts = {
        "people": 0,
        "people_kept": 0,
        "consents": 0,
        "person_categories": 0,
        "rights_request_links": 0,
        "person_merges": 0,
    }
    ids = sorted(set(person_ids))
    if not ids:
        return counts
    marks = ", ".join("?" * len(ids))
    rows = conn.execute(
        f"SELECT p.id, {_STILL_REFERENCED} FROM people p WHERE p.id IN ({marks})", ids
    ).fetchall()
    gone = [int(r[0]) for r in rows if not r[1]]
    counts["people_kept"] = len(rows) - len(gone)
    if not gone:
        return counts
    # A record merged into a destroyed person and not yet confirmed goes with them.
    merged_in, counts["person_merges"] = merges.forget_people(conn, gone)
    gone += merged_in
    marks = ", ".join("?" * len(gone))
    # The consents and the register first: they point at the people deleted last.
    counts["consents"] = max(
        0, conn.execute(f"DELETE FROM consents WHERE person_id IN ({marks})", gone).rowcount
    )
    counts["person_categories"] = max(
        0,
        conn.execute(f"DELETE FROM person_categories WHERE person_id IN ({marks})", gone).rowcount,
    )
    # A child's details on another case (one they were taken off) go with the child.
    conn.execute(f"DELETE FROM case_children WHERE person_id IN ({marks})", gone)
    counts["rights_request_links"] = rights.erase_subjects(conn, gone, erased)
    # Their own operations (their details, their name) go with them.
    conn.execute(f"DELETE FROM operations WHERE person_id IN ({marks})", gone)
    counts["people"] = max(
        0, conn.execute(f"DELETE FROM people WHERE id IN ({marks})", gone).rowcount
    )
    return counts


def destroy_case(conn: Connection, case_id: int, erased: str = "destroyed") -> dict[str, int]:
    """Remove a case and everything that is only there because of it. Call inside a
    transaction: the caller commits the destruction and its log row together. ``erased`` is
    what a closed rights request about a destroyed person says instead of the requester."""
    people = [int(str(r[0])) for r in conn.execute(_PEOPLE_OF_CASE, (case_id,)).fetchall()]
    counts = delete_case_rows(conn, case_id)
    counts.update(delete_people(conn, people, erased))
    return counts


# -- the search index during a purge ----------------------------------------------------------


def index_deletes_securely(conn: Connection) -> bool:
    rows = read(conn, "SELECT v FROM search_index_config WHERE k = 'secure-delete'")
    return bool(rows and rows[0][0])


def set_index_secure_delete(conn: Connection, on: bool) -> None:
    """Whether the search index removes a deleted row's words at once (on) or leaves them in
    its segments, marked deleted, until a merge (off). On costs milliseconds a row, so
    a purge turns it off and merges the whole index once at the end (``optimize_index``)."""
    conn.execute(
        "INSERT INTO search_index (search_index, rank) VALUES ('secure-delete', ?)", (int(on),)
    )


def set_index_automerge(conn: Connection, on: bool) -> None:
    """Whether the search index merges its segments a little on every write (FTS5's default,
    4) or leaves it to the one merge at the end of a purge (0)."""
    conn.execute(
        "INSERT INTO search_index (search_index, rank) VALUES ('automerge', ?)", (4 if on else 0,)
    )


def optimize_index(conn: Connection) -> None:
    """Merge the search index into one segment of live rows only: the words of every row
    deleted before, securely or not, are gone from it afterwards."""
    conn.execute("INSERT INTO search_index (search_index) VALUES ('optimize')")


def checkpoint(conn: Connection) -> None:
    """Copy the write-ahead log into the store and empty it; refuse if it could not."""
    busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        raise SafecaseError(
            "The store's log could not be cleared because another copy is using the store. "
            "Close it and run the purge again."
        )


# -- the purge journal -------------------------------------------------------------------------

PURGE_JOURNAL = "purge_journal"


class Stage(enum.StrEnum):
    """How far a purge run has gone, as its journal records it."""

    DESTROYING = "destroying"  # cases may be half-way out of the index; its settings are off
    REKEYING = "rekeying"  # the index is merged and restored; the closing rekey is left


@dataclass(frozen=True)
class Journal:
    """The purge run in progress: its id, date, who ran it and how far it went. No personal
    data. Kept in the store itself, so it is written and undone with the run's own changes."""

    run_id: str
    as_of: dt.date
    by: int
    stage: Stage


def journal(conn: Connection) -> Journal | None:
    value = settings.get(conn, PURGE_JOURNAL)
    if not value:
        return None
    record = json.loads(value)
    return Journal(
        run_id=str(record["run"]),
        as_of=dt.date.fromisoformat(str(record["as_of"])),
        by=int(record["by"]),
        stage=Stage(str(record["stage"])),
    )


def put_journal(conn: Connection, entry: Journal) -> None:
    record = {
        "run": entry.run_id,
        "as_of": entry.as_of.isoformat(),
        "by": entry.by,
        "stage": entry.stage.value,
    }
    settings.put(conn, PURGE_JOURNAL, json.dumps(record, sort_keys=True))


def clear_journal(conn: Connection) -> None:
    conn.execute("DELETE FROM settings WHERE key = ?", (PURGE_JOURNAL,))


def destroyed_in_run(conn: Connection, run_id: str) -> int:
    return int(
        conn.execute("SELECT count(*) FROM destruction_log WHERE run_id = ?", (run_id,)).fetchone()[
            0
        ]
    )


# -- the destruction log -----------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    """One destroyed case, as the destruction log keeps it: no personal data."""

    run_id: str
    reference: str
    closed_date: dt.date | None
    due_date: dt.date
    rule: Rule
    reason: str
    approved_by: int | None
    approved_by_name: str
    approved_at: str
    destroyed_by: int
    destroyed_by_name: str
    destroyed_at: str
    counts: dict[str, int]


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    started: str
    finished: str
    destroyed_by_name: str
    cases: int


def add_log(conn: Connection, entry: LogEntry) -> None:
    conn.execute(
        "INSERT INTO destruction_log (run_id, reference, closed_date, due_date, rule, reason, "
        "approved_by, approved_at, destroyed_by, destroyed_at, counts) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry.run_id,
            entry.reference,
            date_text(entry.closed_date),
            entry.due_date.isoformat(),
            entry.rule.value,
            entry.reason,
            entry.approved_by,
            entry.approved_at or None,
            entry.destroyed_by,
            entry.destroyed_at,
            json.dumps(entry.counts, sort_keys=True, separators=(",", ":")),
        ),
    )


_LOG_SELECT = (
    "SELECT l.run_id, l.reference, l.closed_date, l.due_date, l.rule, l.reason, "
    "l.approved_by, COALESCE(a.username, ''), COALESCE(l.approved_at, ''), l.destroyed_by, "
    "COALESCE(d.username, ''), l.destroyed_at, l.counts FROM destruction_log l "
    "LEFT JOIN users a ON a.id = l.approved_by LEFT JOIN users d ON d.id = l.destroyed_by "
)


def _log_entries(conn: Connection, where: str, params: tuple[object, ...]) -> list[LogEntry]:
    rows = read(conn, f"{_LOG_SELECT}{where} ORDER BY l.id", params)
    return [
        LogEntry(
            run_id=str(r[0]),
            reference=str(r[1]),
            closed_date=parse_date(r[2]),
            due_date=parse_date(r[3]) or dt.date.min,
            rule=Rule(str(r[4])),
            reason=str(r[5]),
            approved_by=None if r[6] is None else int(str(r[6])),
            approved_by_name=str(r[7]),
            approved_at=str(r[8]),
            destroyed_by=int(str(r[9])),
            destroyed_by_name=str(r[10]),
            destroyed_at=str(r[11]),
            counts={str(k): int(v) for k, v in json.loads(str(r[12])).items()},
        )
        for r in rows
    ]


def log_entries(conn: Connection, run_id: str) -> list[LogEntry]:
    return _log_entries(conn, "WHERE l.run_id = ?", (run_id,))


def every_log_entry(conn: Connection) -> list[LogEntry]:
    """The whole destruction log, oldest first."""
    return _log_entries(conn, "", ())


# -- the log in a backup's header, and putting it into an older copy ---------------------------


def log_to_json(entries: Iterable[LogEntry]) -> bytes:
    """The log as a backup's header carries it (sealed): references, dates, rules and user ids."""
    return json.dumps(
        [
            {
                "run_id": e.run_id,
                "reference": e.reference,
                "closed_date": date_text(e.closed_date),
                "due_date": e.due_date.isoformat(),
                "rule": e.rule.value,
                "reason": e.reason,
                "approved_by": e.approved_by,
                "approved_at": e.approved_at,
                "destroyed_by": e.destroyed_by,
                "destroyed_at": e.destroyed_at,
                "counts": e.counts,
            }
            for e in entries
        ],
        sort_keys=True,
        separators=(",", ":"),
    ).encode("utf-8")


def log_from_json(data: bytes) -> list[LogEntry]:
    return [
        LogEntry(
            run_id=str(d["run_id"]),
            reference=str(d["reference"]),
            closed_date=parse_date(d["closed_date"]),
            due_date=parse_date(d["due_date"]) or dt.date.min,
            rule=Rule(str(d["rule"])),
            reason=str(d["reason"]),
            approved_by=None if d["approved_by"] is None else int(d["approved_by"]),
            approved_by_name="",
            approved_at=str(d["approved_at"]),
            destroyed_by=int(d["destroyed_by"]),
            destroyed_by_name="",
            destroyed_at=str(d["destroyed_at"]),
            counts={str(k): int(v) for k, v in dict(d["counts"]).items()},
        )
        for d in json.loads(data)
    ]


def _user_or(conn: Connection, user_id: int | None, fallback: int | None) -> int | None:
    """``user_id`` when this copy of the store has that user (an older copy may not)."""
    if user_id is not None and read(conn, "SELECT 1 FROM users WHERE id = ?", (user_id,)):
        return user_id
    return fallback


def erased_line(day: str, run_id: str) -> str:
    """What a closed rights request says in place of a destroyed requester's name."""
    return f"(destroyed {day}, run {run_id})"


def reapply(conn: Connection, entry: LogEntry, acting_user: int) -> int | None:
    """Bring one destruction from a newer log into this (older) copy of the store: destroy the
    case if this copy still holds it, and copy the log row if this copy lacks it. Returns the
    id of the case destroyed here, if any. Call inside a transaction, one entry at a time."""
    case = read(conn, "SELECT id FROM cases WHERE reference = ?", (entry.reference,))
    case_id = int(str(case[0][0])) if case else None
    if case_id is not None:
        destroy_case(conn, case_id, erased_line(entry.destroyed_at[:10], entry.run_id))
    logged = read(
        conn,
        "SELECT 1 FROM destruction_log WHERE run_id = ? AND reference = ?",
        (entry.run_id, entry.reference),
    )
    if not logged:
        first_user = int(str(read(conn, "SELECT min(id) FROM users")[0][0]))
        destroyed_by = _user_or(conn, entry.destroyed_by, _user_or(conn, acting_user, first_user))
        add_log(
            conn,
            dataclasses.replace(
                entry,
                approved_by=_user_or(conn, entry.approved_by, None),
                destroyed_by=destroyed_by if destroyed_by is not None else first_user,
            ),
        )
    return case_id


def runs(conn: Connection, limit: int = 200) -> list[RunSummary]:
    """Purge runs, newest first."""
    rows = read(
        conn,
        "SELECT l.run_id, min(l.destroyed_at), max(l.destroyed_at), "
        "COALESCE(min(u.username), ''), count(*) FROM destruction_log l "
        "LEFT JOIN users u ON u.id = l.destroyed_by GROUP BY l.run_id "
        f"ORDER BY min(l.id) DESC{sql_limit(limit)}",
    )
    return [RunSummary(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(str(r[4]))) for r in rows]


# -- erasure of one person ---------------------------------------------------------------------


@dataclass(frozen=True)
class PersonCase:
    """A case a person is on, as an erasure plan lists it: reference and flags, no content."""

    case_id: int
    reference: str
    client: bool  # the person is the client: the case goes whole
    held: bool  # under a legal hold


def cases_of_person(conn: Connection, person_id: int) -> list[PersonCase]:
    """Every case the person is on (or referred), the cases they are the client of first."""
    rows = read(
        conn,
        "SELECT c.id, c.reference, max(cp.role = 'client'), c.legal_hold_reason != '' "
        "FROM cases c LEFT JOIN case_people cp ON cp.case_id = c.id AND cp.person_id = ?1 "
        "WHERE cp.person_id IS NOT NULL OR c.referrer_id = ?1 GROUP BY c.id "
        "ORDER BY 3 DESC, c.reference",
        (person_id,),
    )
    return [PersonCase(int(str(r[0])), str(r[1]), bool(r[2]), bool(r[3])) for r in rows]


def open_requests_blocking(conn: Connection, person_id: int, case_ids: list[int]) -> list[str]:
    """References of open rights requests about the person, or about anyone on ``case_ids``."""
    marks = ", ".join("?" * len(case_ids)) or "NULL"
    rows = read(
        conn,
        "SELECT DISTINCT r.reference FROM rights_requests r WHERE r.status = 'open' AND "
        "(r.subject_person_id = ? OR r.subject_person_id IN "
        f"(SELECT person_id FROM case_people WHERE case_id IN ({marks}))) ORDER BY r.reference",
        (person_id, *case_ids),
    )
    return [str(r[0]) for r in rows]


def remove_party(conn: Connection, case_id: int, person_id: int) -> dict[str, int]:
    """Take a person off a case they are not the client of: their links, their safe-contact
    record and their search entries go; the case and everything else on it stay. Call inside a
    transaction."""
    where = "case_id = ? AND person_id = ?"
    conn.execute(
        f"DELETE FROM search_index WHERE rowid IN (SELECT id FROM search_rows WHERE {where})",
        (case_id, person_id),
    )
    counts = {
        "search_entries": conn.execute(
            f"DELETE FROM search_rows WHERE {where}", (case_id, person_id)
        ).rowcount,
        "safe_contacts": conn.execute(
            f"DELETE FROM safe_contacts WHERE {where}", (case_id, person_id)
        ).rowcount,
        "contact_overrides": conn.execute(
            f"DELETE FROM contact_overrides WHERE {where}", (case_id, person_id)
        ).rowcount,
        "share_people": conn.execute(
            "DELETE FROM share_people WHERE person_id = ? AND share_id IN "
            "(SELECT id FROM shares WHERE case_id = ?)",
            (person_id, case_id),
        ).rowcount,
        "case_people": conn.execute(
            f"DELETE FROM case_people WHERE {where}", (case_id, person_id)
        ).rowcount,
    }
    conn.execute(
        "UPDATE cases SET referrer_id = NULL WHERE id = ? AND referrer_id = ?",
        (case_id, person_id),
    )
    return {k: max(0, int(v)) for k, v in counts.items()}
