"""Retention: review what is due, approve or extend it, destroy what was approved without a
trace, and prove it with a destruction log and a certificate that hold no personal data.

Admins run all of it. What they see is references, dates, the rule that set each date and what
blocks it: never case content, never names (the admin role includes no case records). The
DPO may read the destruction log and print its certificate. The rules and their reasons are in
app/models/retention.py.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import secrets
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import sqlcipher3

from app.crypto.connection import Connection
from app.crypto.files import atomic_write
from app.errors import InvalidInput
from app.models import cases as case_model
from app.models import retention as model
from app.models import rights as rights_model
from app.models import settings
from app.models import team_retention as team_model
from app.models.db import transaction
from app.models.retention import (
    Block,
    Check,
    Decision,
    DecisionRecord,
    LogEntry,
    Policy,
    Rule,
    RunSummary,
    Schedule,
    Status,
)
from app.models.users import Role
from app.services import access, accounts, audit, pdf_text, team_purge
from app.services import backup as backup_service
from app.services.backup import BackupChoice, BackupsHandled
from app.services.session import Session
from app.sync import ops

log = logging.getLogger("safecase.retention")

Progress = Callable[[int, int], None]
LOG_READERS = (Role.ADMIN, Role.DPO)
MIN_REASON = 10
CHECKPOINT_PAGES = 1_000  # SQLite's default
RUN_CHECKPOINT_PAGES = 10_000  # about 40 MiB of log between checkpoints during a purge

# One line for each block and check, for lists and the command line.
BLOCK_TEXT = {
    Block.LEGAL_HOLD: "legal hold",
    Block.RIGHTS_REQUEST: "open rights request",
}
CHECK_TEXT = {Check.CHILD_BIRTH_DATE_UNKNOWN: "a child's date of birth is not recorded"}


def today(session: Session) -> dt.date:
    """The session's date (UTC), from its clock, so tests can move it."""
    return session.today()


def parse_day(text: str, what: str = "The date") -> dt.date:
    """A date typed as YYYY-MM-DD, or one clear sentence saying how to type it."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{what} takes a real date written YYYY-MM-DD, such as 2026-03-31."
        ) from None


def _case_line(case_id: int) -> str:
    return f"case:{case_id}"


def _due(conn: Connection, day: dt.date, rules: Policy) -> list[Schedule]:
    """Every case due on ``day``: those held here, and in a team those the team's laptops hold,
    from the retention facts they sent (references and dates only)."""
    items = model.due(conn, day, rules) + team_model.due(conn, day, rules)
    return sorted(items, key=lambda s: (s.due_date, s.reference))


def _order_team(
    conn: Connection,
    case_gid: str,
    reference: str,
    run_id: str,
    by: int,
    now: str,
    *,
    held: bool = True,
) -> None:
    """In a team, the order to every laptop to destroy the case too (app/sync/purge.py)."""
    from app.sync import purge as team_purge  # the sync engine loads late, not at start-up

    team_purge.order_destruction(conn, case_gid, reference, run_id, by, now, held=held)


def _gid(conn: Connection, case_id: int) -> str:
    return str(conn.execute("SELECT gid FROM cases WHERE id = ?", (case_id,)).fetchone()[0])


def _add_decision(
    conn: Connection,
    item: Schedule,
    decision: Decision,
    reason: str,
    review_date: dt.date | None,
    by: int,
    now: str,
) -> None:
    if item.gid:
        team_model.add_decision(conn, item, decision, reason, review_date, by, now)
        return
    made = model.add_decision(conn, item, decision, reason, review_date, by, now)
    # A decision on a case held here travels with the case to every laptop that holds it.
    ops.emit_record(conn, "retention.decided", made, item.case_id, by, now)


# -- the policy ---------------------------------------------------------------------------------


def current_policy(session: Session) -> Policy:
    session.require(Role.ADMIN, Role.DPO, Role.MANAGER)
    return model.policy(session.conn)


def set_policy(session: Session, years: int, child_until_age: int) -> None:
    """Change the retention period and the child rule (admins)."""
    session.require(Role.ADMIN)
    if not 1 <= years <= 100:
        raise InvalidInput("Keep records for between 1 and 100 years after closure.")
    if not 18 <= child_until_age <= 100:
        raise InvalidInput("Keep a child's records until an age between 18 and 100.")
    with transaction(session.conn):
        model.put_policy(session.conn, Policy(years, child_until_age))
        audit.record(
            session.conn,
            session.user_id,
            audit.SETTINGS_CHANGED,
            "",
            f"retention_years={years} child_until_age={child_until_age}",
        )


# -- review -------------------------------------------------------------------------------------


def case_schedule(session: Session, case_id: int) -> Schedule | None:
    """One case's destruction date and what blocks it, or None while it is not closed.

    Admins see any case's schedule (it holds no case content); others need access to the case.
    """
    session.require(Role.ADMIN, *access.CASE_ROLES)
    if not session.has(Role.ADMIN):
        access.require_case(session, case_id)
    return model.schedule_for(session.conn, case_id, model.policy(session.conn))


def due_items(session: Session, as_of: dt.date | None = None) -> list[Schedule]:
    """What is due for destruction on ``as_of`` (default today), each with its dates, the rule
    that set them, any block and any approval: the purge preview. No case content."""
    session.require(Role.ADMIN)
    day = as_of or today(session)
    items = _due(session.conn, day, model.policy(session.conn))
    with transaction(session.conn):
        audit.record(
            session.conn,
            session.user_id,
            audit.RETENTION_REVIEWED,
            "",
            f"as_of={day.isoformat()} due={len(items)}",
        )
    return items


def status_text(item: Schedule) -> str:
    """Where a due case stands, in a few words (no case content)."""
    if item.blocks:
        text = "blocked: " + ", ".join(BLOCK_TEXT[b] for b in item.blocks)
        if item.hold_review:
            text += f" (hold review {item.hold_review.isoformat()})"
    elif item.approval:
        text = f"approved by {item.approval.decided_by_name} {item.approval.decided_at[:10]}"
    else:
        text = "awaiting review"
    if item.checks:
        text += "; check: " + ", ".join(CHECK_TEXT[c] for c in item.checks)
    return text


def summary(items: Sequence[Schedule]) -> str:
    """'3 case(s): 1 approved, 1 awaiting review, 1 blocked'."""
    counts = {s: sum(1 for i in items if i.status is s) for s in Status}
    return (
        f"{len(items):,} case(s): {counts[Status.APPROVED]:,} approved, "
        f"{counts[Status.AWAITING_REVIEW]:,} awaiting review, {counts[Status.BLOCKED]:,} blocked"
    )


def _due_now(session: Session, reference: str) -> Schedule:
    case = case_model.by_reference(session.conn, reference.strip())
    rules = model.policy(session.conn)
    if case is None:
        known, item = team_model.by_reference(session.conn, reference.strip(), rules)
        if not known:
            raise InvalidInput(f"There is no case {reference.strip()}.")
    else:
        item = model.schedule_for(session.conn, case.id, rules)
    if item is None:
        raise InvalidInput(f"Case {reference.strip()} is not closed, so it is not due.")
    if not item.is_due(today(session)):
        raise InvalidInput(f"Case {item.reference} is not due until {item.due_date.isoformat()}.")
    return item


def approve(session: Session, references: Sequence[str], reason: str = "") -> int:
    """Approve the destruction of due cases; returns how many were newly approved.

    A case under a legal hold or with an open rights request cannot be approved; one that is
    approved already is left as it is. All or none are approved.
    """
    session.require(Role.ADMIN)
    if not references:
        raise InvalidInput("Choose at least one case to approve.")
    note = reason.strip() or "Retention period ended; reviewed and approved."
    items = [_due_now(session, r) for r in references]
    for item in items:
        if item.blocks:
            what = " and ".join(BLOCK_TEXT[b] for b in item.blocks)
            raise InvalidInput(f"Case {item.reference} has a {what}; it cannot be destroyed.")
    fresh = {i.gid or i.case_id: i for i in items if not i.approved}
    now = session.now()
    with transaction(session.conn):
        for item in fresh.values():
            _add_decision(session.conn, item, Decision.APPROVE, note, None, session.user_id, now)
            audit.record(
                session.conn,
                session.user_id,
                audit.RETENTION_APPROVED,
                _case_line(item.case_id) if not item.gid else f"team_case:{item.gid}",
                f"due={item.due_date.isoformat()} rule={item.rule.value}",
            )
    return len(fresh)


def extend(session: Session, reference: str, reason: str, until: dt.date) -> None:
    """Keep a due case until ``until``, when it comes back for review; the reason is kept with
    the decision (and destroyed with the case)."""
    extend_many(session, [reference], reason, until)


def extend_many(session: Session, references: Sequence[str], reason: str, until: dt.date) -> int:
    """Keep several due cases until ``until`` with one reason, all or none, in one
    transaction; returns how many were extended."""
    session.require(Role.ADMIN)
    if not references:
        raise InvalidInput("Choose at least one case to keep longer.")
    if len(reason.strip()) < MIN_REASON:
        raise InvalidInput("Give the reason for keeping the case longer (a short sentence).")
    if until <= today(session):
        raise InvalidInput("The new review date must be in the future.")
    items = {i.gid or i.case_id: i for i in (_due_now(session, r) for r in references)}
    now = session.now()
    with transaction(session.conn):
        for item in items.values():
            _add_decision(
                session.conn, item, Decision.EXTEND, reason.strip(), until, session.user_id, now
            )
            audit.record(
                session.conn,
                session.user_id,
                audit.RETENTION_EXTENDED,
                _case_line(item.case_id) if not item.gid else f"team_case:{item.gid}",
                f"until={until.isoformat()}",
            )
    return len(items)


# -- the purge ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    run_id: str
    as_of: dt.date
    destroyed: tuple[LogEntry, ...]
    awaiting_review: int  # due but not approved: left alone
    blocked: int  # due but held or with an open rights request: left alone
    changed: tuple[str, ...]  # approved, but no longer destroyable when reached: left alone
    seconds: float  # the whole run
    scrub_seconds: float  # the index merge and the closing rekey at the end
    backups: BackupsHandled | None = None  # what was done about backups made before the run


class BackupChoiceNeeded(InvalidInput):
    """A purge with backups made before it waits for the admin to say what happens to them."""

    def __init__(self, older: Sequence[Path]) -> None:
        folders = ", ".join(sorted({str(p.resolve().parent) for p in older}))
        super().__init__(
            f"There are {len(older)} backup(s) of this store made before this purge, in "
            f"{folders}; choose whether to rewrite, destroy or keep them before it runs."
        )
        self.older = tuple(older)


def new_run_id(now: str) -> str:
    stamp = now[:19].replace("-", "").replace(":", "").replace("T", "-")
    return f"{stamp}-{secrets.token_hex(2)}"


def _destroyable(item: Schedule | None, as_of: dt.date) -> bool:
    return item is not None and item.is_due(as_of) and item.approved and not item.blocked


def purge(
    session: Session,
    *,
    as_of: dt.date | None = None,
    progress: Progress | None = None,
    backups: BackupChoice | None = None,
) -> PurgeResult:
    """Destroy every due case that was approved, each in its own transaction with its log row
    and audit entry, then merge the search index and give the store a new data key: the store
    is copied, live rows only, into a new file under the new key, and the old file, whose
    free pages and freed disk blocks hold what was destroyed under the old key, goes with the
    old key. ``progress(done, total)`` follows the cases; the last call comes once the store
    has its new key.

    If something fails part-way, the case in hand is left wholly as it was, the cases before it
    stay destroyed (each with its log row), and the run is still closed the same way. If the
    process dies part-way, the run's journal has the next sign-in close it
    (``finish_interrupted_run``).

    ``backups`` says what happens to the backups of this store made before the run (see
    app/services/backup.py); when there are some, the choice must be made before anything is
    destroyed, and the certificate records it.
    """
    session.require(Role.ADMIN)
    started = time.perf_counter()
    now_day = today(session)
    day = as_of or now_day
    if day > now_day:
        raise InvalidInput(
            "A purge cannot run as of a future date; a dry run shows what will be due then."
        )
    conn = session.conn
    rules = model.policy(conn)
    due = _due(conn, day, rules)
    chosen = [i for i in due if i.approved and not i.blocked]
    older = backup_service.known_backups(session) if chosen else []
    if older and backups is None:
        raise BackupChoiceNeeded(older)
    run_id = new_run_id(session.now())
    total = len(chosen)
    destroyed: list[LogEntry] = []
    changed: list[str] = []
    scrub_seconds = 0.0
    log.info("purge %s: %d approved of %d due", run_id, total, len(due))
    if progress:
        progress(0, total)
    if chosen:
        _start_run(session, run_id, day)
    finished = False
    try:
        for done, item in enumerate(chosen, start=1):
            if item.gid:
                entry = _destroy_team_case(session, run_id, item.gid, day, rules)
            else:
                entry = _destroy_one(session, run_id, item.case_id, day, rules)
            if entry is None:
                changed.append(item.reference)
            else:
                destroyed.append(entry)
            if progress and done < total:
                progress(done, total)
        finished = True
    finally:
        if chosen:
            scrub_seconds = _close_run(session, run_id, day, len(destroyed), finished)
    if not chosen:
        with transaction(conn):
            _record_run(session, session.user_id, run_id, day, 0, note="")
    handled = None
    if destroyed:
        # After the closing rekey, so a fresh backup holds nothing of the destroyed cases;
        # the log is emptied again after the few rows this writes.
        handled = backup_service.after_purge(session, run_id, backups, older)
        # The closing rekey gave the session a new connection: ``conn`` is the old one.
        model.checkpoint(session.conn)
    if progress and total:
        progress(total, total)
    log.info("purge %s: destroyed %d, %d changed", run_id, len(destroyed), len(changed))
    return PurgeResult(
        run_id=run_id,
        as_of=day,
        destroyed=tuple(destroyed),
        awaiting_review=sum(1 for i in due if not i.blocked and not i.approved),
        blocked=sum(1 for i in due if i.blocked),
        changed=tuple(changed),
        seconds=time.perf_counter() - started,
        scrub_seconds=scrub_seconds,
        backups=handled,
    )


def _start_run(session: Session, run_id: str, day: dt.date) -> None:
    """Make the run's deletes fast and write its journal; ``_close_run`` makes them traceless
    and durable, or the next sign-in does if the process dies first.

    Each case is still one transaction, wholly done or wholly undone: without an fsync at
    every commit (``synchronous = NORMAL`` in WAL mode) a power cut can undo the last few
    cases, with their log rows and audit entries, never half of one. The checkpoint at the end
    syncs the lot. The log is copied into the file every ``RUN_CHECKPOINT_PAGES`` pages rather
    than every 1,000, so a page changed by many cases is copied once. The search index leaves
    deleted words in place until the one merge at the end, instead of rewriting its pages for
    every row."""
    conn = session.conn
    # Committed while every commit is still synced: the journal is on disk before any case goes.
    with transaction(conn):
        model.put_journal(conn, model.Journal(run_id, day, session.user_id, model.Stage.DESTROYING))
        model.set_index_secure_delete(conn, False)
        model.set_index_automerge(conn, False)
    conn.execute("PRAGMA synchronous = NORMAL").fetchall()
    conn.execute(f"PRAGMA wal_autocheckpoint = {RUN_CHECKPOINT_PAGES:d}").fetchall()


def _destroy_one(
    session: Session, run_id: str, case_id: int, day: dt.date, rules: Policy
) -> LogEntry | None:
    """Destroy one case in one transaction, or return None if it is no longer destroyable."""
    conn = session.conn
    with transaction(conn):
        # Checked again inside the transaction: a hold or a request may have come since.
        item = model.schedule_for(conn, case_id, rules)
        if item is None or not _destroyable(item, day):
            return None
        approval = item.approval
        assert approval is not None
        gid = _gid(conn, case_id)
        counts = model.destroy_case(conn, case_id, model.erased_line(session.now()[:10], run_id))
        _order_team(conn, gid, item.reference, run_id, session.user_id, session.now())
        entry = _log_entry(session, run_id, item, approval, rules, counts)
        model.add_log(conn, entry)
        audit.record(
            conn,
            session.user_id,
            audit.CASE_DESTROYED,
            _case_line(case_id),
            f"run={run_id} people={counts['people']} notes={counts['notes']}",
        )
    return entry


def _log_entry(
    session: Session,
    run_id: str,
    item: Schedule,
    approval: DecisionRecord,
    rules: Policy,
    counts: dict[str, int],
) -> LogEntry:
    """The purge log's row for a case destroyed now by the signed-in admin."""
    return LogEntry(
        run_id=run_id,
        reference=item.reference,
        closed_date=item.closed_date,
        due_date=item.due_date,
        rule=item.rule,
        reason=model.rule_text(item.rule, rules),
        approved_by=approval.decided_by,
        approved_by_name=approval.decided_by_name,
        approved_at=approval.decided_at,
        destroyed_by=session.user_id,
        destroyed_by_name=session.username,
        destroyed_at=session.now(),
        counts=counts,
    )


def _destroy_team_case(
    session: Session, run_id: str, case_gid: str, day: dt.date, rules: Policy
) -> LogEntry | None:
    """A due, approved case of the team that this laptop does not hold: its log row and the
    order to every laptop to destroy it, in one transaction (None if no longer destroyable)."""
    conn = session.conn
    with transaction(conn):
        item = team_model.by_gid(conn, case_gid, rules)
        if item is None or not _destroyable(item, day):
            return None
        approval = item.approval
        assert approval is not None
        # Its records are destroyed on the laptops that hold it.
        entry = _log_entry(session, run_id, item, approval, rules, {"cases": 1})
        model.add_log(conn, entry)
        _order_team(
            conn, case_gid, item.reference, run_id, session.user_id, session.now(), held=False
        )
        audit.record(
            conn, session.user_id, audit.CASE_DESTROYED, f"team_case:{case_gid}", f"run={run_id}"
        )
    return entry


def _record_run(
    session: Session, by: int, run_id: str, day: dt.date, destroyed: int, *, note: str
) -> None:
    audit.record(
        session.conn,
        by,
        audit.PURGE_RUN,
        "",
        f"run={run_id} as_of={day.isoformat()} destroyed={destroyed}"
        + (f" {note}" if note else ""),
    )


def _merge_index(session: Session, journal: model.Journal, destroyed: int, note: str) -> None:
    """Record the run, drop the destroyed words from the search index and put the index's own
    settings back, in one transaction that moves the journal on to the closing rekey."""
    conn = session.conn
    with transaction(conn):
        _record_run(session, journal.by, journal.run_id, journal.as_of, destroyed, note=note)
        model.optimize_index(conn)
        model.set_index_secure_delete(conn, True)
        model.set_index_automerge(conn, True)
        model.put_journal(conn, replace(journal, stage=model.Stage.REKEYING))


def _closing_rekey(session: Session) -> None:
    """Give the store a new data key (``accounts.rotate_keys``: a checked copy of the live
    rows), then close the journal: nothing written under the old key is readable once it is
    gone, the free pages of the old file and its freed disk blocks included."""
    accounts.rotate_keys(session)
    with transaction(session.conn):
        model.clear_journal(session.conn)
    model.checkpoint(session.conn)


def _close_run(
    session: Session,
    run_id: str,
    day: dt.date,
    destroyed: int,
    finished: bool,
) -> float:
    """Record the run, drop the destroyed words from the search index, and give the store a
    new key. After a failure this must not hide the first error, so its own errors are logged."""
    conn = session.conn
    started = time.perf_counter()
    journal = model.Journal(run_id, day, session.user_id, model.Stage.DESTROYING)
    try:
        _merge_index(session, journal, destroyed, "" if finished else "interrupted")
        conn.execute("PRAGMA synchronous = FULL").fetchall()
        _closing_rekey(session)
    except Exception:
        if finished:
            raise
        log.exception("purge %s: closing an interrupted run failed", run_id)
    finally:
        _restore_settings(session.conn)
    return time.perf_counter() - started


def finish_interrupted_run(session: Session) -> bool:
    """Close a purge run the process did not live to close (a crash, a kill, a power cut),
    at the next sign-in; returns whether there was one.

    The cases it destroyed stay destroyed, the ones it did not reach wait for the next run.
    Whoever signs in, the search index is merged, so no destroyed word stays in it, its
    settings are put back and the run's audit entry is written, marked recovered. The closing
    rekey needs an admin's keys: it waits for the next admin's sign-in if this is not one.
    """
    conn = session.conn
    journal = model.journal(conn)
    if journal is None:
        return False
    log.warning("purge %s: closing a run that was interrupted", journal.run_id)
    if journal.stage is model.Stage.DESTROYING:
        _merge_index(session, journal, model.destroyed_in_run(conn, journal.run_id), "recovered")
    if session.has(Role.ADMIN) and session.vault.can_backup and not session.must_change_password:
        _closing_rekey(session)
    else:
        model.checkpoint(conn)
    return True


def _restore_settings(conn: Connection) -> None:
    """Put back the connection's usual durability after a run, whatever happened in it."""
    for pragma in ("synchronous = FULL", f"wal_autocheckpoint = {CHECKPOINT_PAGES:d}"):
        try:
            conn.execute(f"PRAGMA {pragma}").fetchall()
        except sqlcipher3.DatabaseError as exc:
            # The store is closed at lock or sign-out, which resets every setting anyway.
            log.warning("purge: could not restore a setting: %s", type(exc).__name__)


# -- the destruction log and its certificate --------------------------------------------------


def runs(session: Session, limit: int = 200) -> list[RunSummary]:
    """Purge runs that destroyed something, newest first."""
    session.require(*LOG_READERS)
    return model.runs(session.conn, limit)


def log_entries(session: Session, run_id: str) -> list[LogEntry]:
    """What one run destroyed: references, dates, rules, who approved and who destroyed."""
    session.require(*LOG_READERS)
    return model.log_entries(session.conn, run_id.strip())


def certificate(session: Session, run_id: str) -> bytes:
    """The certificate of destruction for one run, as PDF bytes built in memory; the caller
    writes them only where the user chose. Printing it is audited."""
    session.require(*LOG_READERS)
    entries = model.log_entries(session.conn, run_id.strip())
    if not entries:
        raise InvalidInput(
            "There is no purge run with that id; 'safecase purge log' lists the runs."
        )
    service = settings.get(session.conn, settings.SERVICE_NAME) or "Safecase"
    printed = f"{session.now()[:16].replace('T', ' ')} UTC by {session.username}"
    handled = backup_service.handled(session.conn, entries[0].run_id)
    sole = settings.get(session.conn, f"{SOLE_REASON}{entries[0].run_id}")
    pdf = certificate_pdf(
        entries,
        service,
        printed,
        backups=handled.lines() if handled else (),
        notes=(f"Run alone by the admin who proposed it: {sole}",) if sole else (),
        laptops=team_purge.certificate_lines(
            team_purge.acknowledgements_here(session.conn, entries[0].run_id)
        ),
    )
    with transaction(session.conn):
        audit.record(
            session.conn,
            session.user_id,
            audit.CERTIFICATE_PRINTED,
            "",
            f"run={entries[0].run_id} cases={len(entries)}",
        )
    return pdf


def save_certificate(session: Session, run_id: str, out: Path) -> int:
    """Write the certificate to ``out``, the file the user chose; returns the number of cases."""
    if out.is_dir() or not out.parent.is_dir():
        raise InvalidInput("Choose a PDF file in a folder that exists for the certificate.")
    pdf = certificate(session, run_id)
    atomic_write(out, pdf)
    return len(model.log_entries(session.conn, run_id.strip()))


# What the counts in the log mean, in the order the certificate lists them.
COUNT_LABELS = (
    ("cases", "cases"),
    ("people", "people on no other case"),
    ("people_kept", "people kept, as they are on another case (not destroyed)"),
    (
        "rights_request_links",
        "rights-register entries kept without the destroyed person's details",
    ),
    ("consents", "consent decisions"),
    ("notes", "notes and contacts"),
    ("note_revisions", "note corrections and disputes"),
    ("shares", "sharing records"),
    ("share_people", "sharing record subjects"),
    ("share_reviews", "sharing reviews"),
    ("dash_assessments", "risk assessments"),
    ("marac_actions", "actions agreed at MARAC"),
    ("marac_referrals", "MARAC referral forms issued"),
    ("case_outcomes", "outcomes recorded at closing"),
    ("person_merges", "records of merged people"),
    ("safe_contacts", "safe-contact records"),
    ("contact_overrides", "overrides of the safe-contact rules"),
    ("break_glass", "break-glass records"),
    ("retention_decisions", "retention decisions"),
    ("search_entries", "search-index entries"),
    ("case_people", "links between people and cases"),
)


def totals(entries: Sequence[LogEntry]) -> dict[str, int]:
    result: dict[str, int] = {}
    for entry in entries:
        for key, value in entry.counts.items():
            result[key] = result.get(key, 0) + value
    return result


def _when(stamp: str) -> str:
    return stamp[:16].replace("T", " ") if stamp else "-"


def certificate_pdf(
    entries: Sequence[LogEntry],
    service: str,
    printed: str,
    *,
    compress: bool = True,
    backups: Sequence[str] = (),
    notes: Sequence[str] = (),
    laptops: Sequence[str] = (),
) -> bytes:
    """Lay out the certificate for one run's log entries. Only what the log holds goes in:
    references, dates, rules, counts and staff usernames; no personal data. ``backups`` are
    the sentences saying what remains in backups, where and until when; ``laptops`` (in a
    team) one sentence per case naming the laptops that confirmed destroying it and those
    that have not synced since."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, pageCompression=1 if compress else 0, invariant=1)
    pdf.setTitle("Certificate of destruction")
    pdf.setAuthor(service)
    width, height = A4
    left, top, bottom = 18 * mm, height - 20 * mm, 20 * mm
    page = 1
    run_id = entries[0].run_id
    y = top

    def footer() -> None:
        pdf_text.draw(pdf, left, 12 * mm, f"Run {run_id}. Printed {printed}.", "Helvetica", 8)
        pdf_text.draw(pdf, width - left, 12 * mm, f"Page {page}", "Helvetica", 8, right=True)

    def line(text: str, size: float = 10, font: str = "Helvetica", gap: float = 5.2) -> None:
        nonlocal y
        pdf_text.draw(pdf, left, y, text, font, size)
        y -= gap * mm

    line("Certificate of destruction", 18, "Helvetica-Bold", 10)
    line(service, 12, "Helvetica", 8)
    first, last = entries[0], entries[-1]
    line(f"Purge run: {run_id}")
    line(f"Destroyed: {_when(first.destroyed_at)} to {_when(last.destroyed_at)} UTC")
    line(f"Destroyed by: {first.destroyed_by_name or '-'}")
    line(f"Cases destroyed: {totals(entries).get('cases', 0):,}", gap=8)
    for text in (
        "Each case below was due under the service's retention schedule, was reviewed and",
        "approved by the person named, and was then permanently destroyed: the case with its",
        "notes and corrections, sharing records, risk assessments, safe-contact details,",
        "break-glass records, retention decisions and search-index entries, and every person",
        "on no other case with their consent decisions. Afterwards the store's write-ahead log",
        "was emptied and the file rebuilt with secure deletion on, so no deleted content",
        "remains in free pages. This certificate names cases by reference only.",
    ):
        line(text, 9.5, gap=4.6)
    if any(e.rule is Rule.ERASURE for e in entries):
        line(ERASURE_TEXT, 9.5, gap=4.6)
    for note in notes:
        for part in textwrap.wrap(note, 100):
            line(part, 9.5, gap=4.6)
    y -= 3 * mm
    line("Records destroyed in this run", 11, "Helvetica-Bold", 6)
    counted = totals(entries)
    for key, label in COUNT_LABELS:
        if counted.get(key):
            line(f"{counted[key]:>10,}  {label}", 9.5, "Courier", 4.4)
    if backups:
        y -= 3 * mm
        line("Backups", 11, "Helvetica-Bold", 6)
        for sentence in backups:
            for part in textwrap.wrap(sentence, 100):
                line(part, 9.5, gap=4.6)
    if laptops:
        y -= 3 * mm
        line("The team's laptops", 11, "Helvetica-Bold", 6)
        for text in (
            "Every laptop of the team destroys a purged case, with its keys, when it next syncs,",
            "and confirms it; a laptop that never held the case confirms that too. The case's",
            "keys are destroyed on each laptop that confirmed.",
        ):
            line(text, 9.5, gap=4.6)
        for sentence in laptops:
            for part in textwrap.wrap(sentence, 100):
                if y < bottom:
                    footer()
                    pdf.showPage()
                    page += 1
                    y = top
                line(part, 9, gap=4.4)
    y -= 4 * mm
    columns = (
        ("Reference", 0),
        ("Closed", 34),
        ("Due", 56),
        ("Rule", 78),
        ("Approved by", 98),
        ("Approved", 124),
        ("Destroyed", 152),
    )

    def header() -> None:
        nonlocal y
        pdf.setFont("Helvetica-Bold", 8.5)
        for title, x in columns:
            pdf.drawString(left + x * mm, y, title)
        y -= 5 * mm

    header()
    for entry in entries:
        if y < bottom:
            footer()
            pdf.showPage()
            page += 1
            y = top
            header()
        cells = (
            entry.reference,
            entry.closed_date.isoformat() if entry.closed_date else "-",
            entry.due_date.isoformat(),
            entry.rule.value,
            entry.approved_by_name or "-",
            _when(entry.approved_at),
            _when(entry.destroyed_at),
        )
        for (_, x), text in zip(columns, cells, strict=True):
            pdf_text.draw(pdf, left + x * mm, y, text, "Helvetica", 8.5)
        y -= 4.6 * mm
    reasons = sorted({e.reason for e in entries if e.reason})
    if reasons:
        y -= 3 * mm
        if y < bottom + 20 * mm:
            footer()
            pdf.showPage()
            page += 1
            y = top
        line("Rules", 10, "Helvetica-Bold", 5)
        for rule, text in sorted({(e.rule.value, e.reason) for e in entries}):
            line(f"{rule}: {text}", 9, gap=4.4)
    footer()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def may_review_retention(session: Session) -> bool:
    """Whether the user reviews what is due for destruction and runs purges."""
    return session.has(Role.ADMIN)


# -- carrying out a granted erasure request ----------------------------------------------------

ERASURE_TEXT = (
    "Destroyed early, before the retention date, to carry out the erasure request under Rules."
)
ERASURE_PROPOSAL = "erasure_proposal:"  # + the request id: who proposed it and when
SOLE_REASON = "erasure_sole_admin:"  # + the run id: why the proposer carried it out alone


@dataclass(frozen=True)
class ErasurePlan:
    """What carrying out a granted erasure request destroys: references and counts only."""

    request_id: int
    reference: str
    client_cases: tuple[str, ...]  # destroyed whole
    party_cases: tuple[str, ...]  # keep everything but the person's links
    blocked: str  # one sentence saying what stops it, or ""
    proposed_by: int | None
    proposed_at: str


def _granted_erasure(session: Session, request_id: int) -> rights_model.RightsRequest:
    request = rights_model.get(session.conn, request_id)
    if request is None or request.kind is not rights_model.RightKind.ERASURE:
        raise InvalidInput("Only an erasure request can be carried out as an erasure.")
    if request.status is not rights_model.RequestStatus.OPEN and request.outcome != (
        rights_model.Outcome.COMPLIED
    ):
        raise InvalidInput(f"Request {request.reference} was not granted, so nothing is erased.")
    if request.status is rights_model.RequestStatus.OPEN:
        raise InvalidInput(
            f"Request {request.reference} is still open: record it as granted first."
        )
    if request.subject_person_id is None:
        raise InvalidInput(f"Request {request.reference} has no one on record left to erase.")
    return request


def _plan(session: Session, request_id: int) -> tuple[ErasurePlan, int, list[int]]:
    request = _granted_erasure(session, request_id)
    person_id = request.subject_person_id
    assert person_id is not None
    cases = model.cases_of_person(session.conn, person_id)
    client_ids = [c.case_id for c in cases if c.client]
    held = [c.reference for c in cases if c.held]
    waiting = model.open_requests_blocking(session.conn, person_id, client_ids)
    blocked = ""
    if held:
        blocked = f"Case {held[0]} has a legal hold; it cannot be destroyed."
    elif waiting:
        blocked = f"Rights request {waiting[0]} is still open; close it before the erasure."
    proposal = settings.get(session.conn, f"{ERASURE_PROPOSAL}{request_id}")
    by, at = proposal.split(" ", 1) if proposal else ("", "")
    plan = ErasurePlan(
        request_id=request_id,
        reference=request.reference,
        client_cases=tuple(c.reference for c in cases if c.client),
        party_cases=tuple(c.reference for c in cases if not c.client),
        blocked=blocked,
        proposed_by=int(by) if by else None,
        proposed_at=at,
    )
    return plan, person_id, [c.case_id for c in cases]


def erasure_plan(session: Session, request_id: int) -> ErasurePlan:
    """What a granted erasure request would destroy, and who proposed it (managers, admins)."""
    session.require(Role.MANAGER, Role.ADMIN)
    return _plan(session, request_id)[0]


def propose_erasure(session: Session, request_id: int) -> ErasurePlan:
    """Propose carrying out a granted erasure request; an admin reviews and runs it."""
    session.require(Role.MANAGER, Role.ADMIN)
    plan = _plan(session, request_id)[0]
    if plan.blocked:
        raise InvalidInput(plan.blocked)
    with transaction(session.conn):
        settings.put(
            session.conn, f"{ERASURE_PROPOSAL}{request_id}", f"{session.user_id} {session.now()}"
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.ERASURE_PROPOSED,
            f"rights:{request_id}",
            f"cases={len(plan.client_cases)} parties={len(plan.party_cases)}",
        )
    return erasure_plan(session, request_id)


def proposed_erasures(session: Session) -> list[ErasurePlan]:
    """Erasures proposed and waiting for an admin to review and carry them out."""
    session.require(Role.ADMIN)
    plans = []
    for key in settings.keys_starting(session.conn, ERASURE_PROPOSAL):
        try:
            plans.append(_plan(session, int(key[len(ERASURE_PROPOSAL) :]))[0])
        except (InvalidInput, ValueError):
            continue  # carried out or no longer granted: nothing waits
    return plans


def may_propose_erasure(session: Session) -> bool:
    return session.has(Role.MANAGER) or session.has(Role.ADMIN)


def may_carry_out_erasure(session: Session) -> bool:
    return session.has(Role.ADMIN)


def carry_out_erasure(
    session: Session,
    request_id: int,
    *,
    backups: BackupChoice | None = None,
    sole_admin_reason: str = "",
) -> PurgeResult:
    """Destroy, early, the cases the request's person is the client of and take them off every
    other case, with their own record, consents and safe contact, through the purge's own
    steps: a log entry for each, the certificate, the closing rekey, the backups choice.

    Someone other than the admin running it must have proposed it, or the admin gives the
    reason there is no one else: kept with the run and printed on its certificate (the audit
    entry says only that it was run alone)."""
    session.require(Role.ADMIN)
    started = time.perf_counter()
    plan, person_id, _ids = _plan(session, request_id)
    if plan.proposed_by is None:
        raise InvalidInput(f"Request {plan.reference}: propose the erasure first, for review.")
    reason = sole_admin_reason.strip()
    if plan.proposed_by == session.user_id and len(reason) < MIN_REASON:
        raise InvalidInput(
            f"Request {plan.reference}: you proposed this erasure, so another admin must carry "
            "it out; if there is no other admin, say why."
        )
    if plan.blocked:
        raise InvalidInput(plan.blocked)
    older = backup_service.known_backups(session)
    if older and backups is None:
        raise BackupChoiceNeeded(older)
    day = today(session)
    run_id = new_run_id(session.now())
    cases = model.cases_of_person(session.conn, person_id)
    destroyed: list[LogEntry] = []
    _start_run(session, run_id, day)
    finished = False
    scrub_seconds = 0.0
    try:
        for case in cases:
            destroyed.append(_erase_step(session, run_id, plan, day, case, person_id))
        destroyed.append(_erase_step(session, run_id, plan, day, None, person_id, reason))
        finished = True
    finally:
        scrub_seconds = _close_run(session, run_id, day, len(destroyed), finished)
    handled = backup_service.after_purge(session, run_id, backups, older)
    model.checkpoint(session.conn)
    with transaction(session.conn):
        audit.record(
            session.conn,
            session.user_id,
            audit.ERASURE_CARRIED_OUT,
            f"rights:{request_id}",
            f"run={run_id} entries={len(destroyed)}" + (" sole_admin" if reason else ""),
        )
    model.checkpoint(session.conn)
    return PurgeResult(
        run_id=run_id,
        as_of=day,
        destroyed=tuple(destroyed),
        awaiting_review=0,
        blocked=0,
        changed=(),
        seconds=time.perf_counter() - started,
        scrub_seconds=scrub_seconds,
        backups=handled,
    )


def _erase_step(
    session: Session,
    run_id: str,
    plan: ErasurePlan,
    day: dt.date,
    case: model.PersonCase | None,
    person_id: int,
    sole_reason: str = "",
) -> LogEntry:
    """One transaction of an erasure: a case the person is the client of goes whole; another
    case loses only the person's links; ``case`` None removes the person's own record (when no
    case still points at it), named in the log by the request's reference."""
    conn = session.conn
    erased = model.erased_line(session.now()[:10], run_id)
    with transaction(conn):
        # Checked again inside the transaction: a hold may have come since the plan was read.
        if case is not None and any(
            c.held for c in model.cases_of_person(conn, person_id) if c.case_id == case.case_id
        ):
            raise InvalidInput(f"Case {case.reference} has a legal hold; it cannot be destroyed.")
        closed: dt.date | None = None
        if case is not None and case.client:
            found = case_model.get(conn, case.case_id)
            closed = found.closed_date if found is not None else None
            gid = _gid(conn, case.case_id)
            counts = model.destroy_case(conn, case.case_id, erased)
            _order_team(conn, gid, case.reference, run_id, session.user_id, session.now())
        elif case is not None:
            counts = model.remove_party(conn, case.case_id, person_id)
        else:
            counts = model.delete_people(conn, [person_id], erased)
        if case is None:
            settings.remove(conn, f"{ERASURE_PROPOSAL}{plan.request_id}")
            if sole_reason:
                settings.put(conn, f"{SOLE_REASON}{run_id}", sole_reason)
        entry = LogEntry(
            run_id=run_id,
            reference=case.reference if case is not None else plan.reference,
            closed_date=closed,
            due_date=day,
            rule=Rule.ERASURE,
            reason=f"erasure request {plan.reference}",
            approved_by=plan.proposed_by,
            approved_by_name="",
            approved_at=plan.proposed_at,
            destroyed_by=session.user_id,
            destroyed_by_name=session.username,
            destroyed_at=session.now(),
            counts=counts,
        )
        model.add_log(conn, entry)
        audit.record(
            conn,
            session.user_id,
            audit.CASE_DESTROYED if case is not None and case.client else audit.ERASURE_CARRIED_OUT,
            _case_line(case.case_id) if case is not None else f"rights:{plan.request_id}",
            f"run={run_id} rule=erasure",
        )
    return entry
