"""Recording and checking the audit trail."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.crypto.connection import Connection
from app.crypto.files import atomic_write
from app.errors import InvalidInput
from app.models import audit as audit_model
from app.models import users as user_model
from app.models.db import transaction
from app.models.users import Role
from app.services.session import UK, Session, moment_of, utc_now

# The actions the trail records. Details name ids and counts, never personal data.
SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
SIGN_OUT = "sign_out"
LOCK = "lock"
STORE_CREATED = "store_created"
USER_ADDED = "user_added"
USER_DISABLED = "user_disabled"
USER_ENABLED = "user_enabled"
PASSWORD_CHANGED = "password_changed"
PASSWORD_RESET = "password_reset"
KEYS_ROTATED = "keys_rotated"
BACKUP_MADE = "backup_made"
STORE_RESTORED = "store_restored"
SETTINGS_CHANGED = "settings_changed"
AUDIT_VERIFIED = "audit_verified"
CASE_CREATED = "case_created"
CASE_VIEWED = "case_viewed"
CASE_CHANGED = "case_changed"
CASE_ALLOCATED = "case_allocated"
CASE_OPENED = "case_opened"
CASE_CLOSED = "case_closed"
CASE_REOPENED = "case_reopened"
LEGAL_HOLD_PLACED = "legal_hold_placed"
LEGAL_HOLD_LIFTED = "legal_hold_lifted"
PERSON_ADDED = "person_added"
PERSON_CHANGED = "person_changed"
PERSON_REMOVED = "person_removed_from_case"
RESTRICTION_PLACED = "restriction_placed"
RESTRICTION_LIFTED = "restriction_lifted"
SAFE_CONTACT_CHANGED = "safe_contact_changed"
CONSENT_RECORDED = "consent_recorded"
SHARE_RECORDED = "share_recorded"
SHARE_REVIEWED = "share_reviewed"
NOTE_ADDED = "note_added"
NOTE_CORRECTED = "note_corrected"
NOTE_DISPUTED = "note_disputed"
DASH_RECORDED = "dash_recorded"
MARAC_REFERRED = "marac_referred"
BREAK_GLASS = "break_glass"
SEARCHED = "searched"
DEMO_GENERATED = "demo_generated"
RETENTION_REVIEWED = "retention_reviewed"
RETENTION_APPROVED = "retention_approved"
RETENTION_EXTENDED = "retention_extended"
CASE_DESTROYED = "case_destroyed"
PURGE_RUN = "purge_run"
PURGE_BACKUPS = "purge_backups_handled"
CERTIFICATE_PRINTED = "destruction_certificate_printed"
RIGHTS_REQUEST_CREATED = "rights_request_created"
RIGHTS_REQUEST_CHANGED = "rights_request_changed"
RIGHTS_CLOCK_PAUSED = "rights_clock_paused"
RIGHTS_CLOCK_RESUMED = "rights_clock_resumed"
RIGHTS_REQUEST_EXTENDED = "rights_request_extended"
RIGHTS_REQUEST_CLOSED = "rights_request_closed"
SAR_PREVIEWED = "sar_previewed"
SAR_REDACTION = "sar_redaction"
SAR_SIGNED_OFF = "sar_signed_off"
SAR_EXPORTED = "sar_exported"
SAR_PRINTED = "sar_printed"

READERS = (Role.MANAGER, Role.ADMIN, Role.DPO)


def record(
    conn: Connection,
    user_id: int | None,
    action: str,
    record_id: str = "",
    detail: str = "",
    at: str | None = None,
) -> int:
    """Append one entry; call inside the transaction that does the work."""
    return audit_model.append(conn, at or utc_now(), user_id, action, record_id, detail)


@dataclass(frozen=True)
class Verification:
    checked: int
    first_broken: int | None

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def check_chain(conn: Connection) -> Verification:
    """Walk the chain; report the id of the first entry that is missing or does not match."""
    expected_id, prev = 1, audit_model.GENESIS
    checked = 0
    for entry in audit_model.walk(conn):
        if entry.id != expected_id:
            return Verification(checked, expected_id)
        digest = audit_model.entry_hash(
            entry.id, entry.at, entry.user_id, entry.action, entry.record, entry.detail, prev
        )
        if entry.prev_hash != prev or entry.hash != digest:
            return Verification(checked, entry.id)
        checked += 1
        expected_id, prev = entry.id + 1, entry.hash
    head_id, head_hash = audit_model.head(conn)
    if head_id != checked or head_hash != prev:
        # Entries after the last one found have been removed.
        return Verification(checked, checked + 1)
    return Verification(checked, None)


def verify(session: Session) -> Verification:
    session.require(*READERS)
    result = check_chain(session.conn)
    with transaction(session.conn):
        record(
            session.conn,
            session.user_id,
            AUDIT_VERIFIED,
            detail=f"checked={result.checked} broken={result.first_broken or 0}",
        )
    return result


def usernames(session: Session) -> dict[int, str]:
    """Every account's username by id, disabled accounts too, so the trail names who acted.
    Staff accounts only: the trail itself never names the people in the records."""
    session.require(*READERS)
    return {u.id: u.username for u in user_model.all_users(session.conn)}


def recent(session: Session, limit: int = 200) -> list[audit_model.Entry]:
    session.require(*READERS)
    last, _ = audit_model.head(session.conn)
    return audit_model.entries(session.conn, after_id=max(0, last - limit), limit=limit)


# -- browsing, filtering and exporting the trail -------------------------------------------------

AUDIT_EXPORTED = "audit_exported"
# Exporting takes the trail out of the encrypted store, for the DPO's own records and checks.
EXPORTERS = (Role.DPO,)
CSV_HEADER = (
    "entry",
    "when (UTC)",
    "when (UK time)",
    "user id",
    "who",
    "action",
    "record",
    "reference",
    "detail",
    "previous hash",
    "hash",
)
# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class EntryFilter:
    """What a reader of the trail asked to see. ``record`` is as typed: a case or request
    reference, a username, or a record as the trail holds it (``case:12``). The dates are UK
    calendar days, both included."""

    user_id: int | None = None
    action: str = ""
    record: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


@dataclass(frozen=True)
class EntryPage:
    """Entries newest first, and what to show for the records and users they name (looked up
    as they are read: the trail itself holds only ids)."""

    entries: list[audit_model.Entry]
    names: dict[str, str]  # "case:12" -> "SC-2026-000012", "user:3" -> "cole", ...


def _day_start(day: dt.date) -> str:
    """The stamp (``utc_now``'s form) of midnight at the start of a UK calendar day."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=UK).astimezone(dt.UTC)
    return start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _criteria(conn: Connection, chosen: EntryFilter) -> audit_model.Criteria:
    return audit_model.Criteria(
        user_id=chosen.user_id,
        action=chosen.action,
        records=audit_model.record_keys(conn, chosen.record) if chosen.record.strip() else None,
        from_at=_day_start(chosen.since) if chosen.since else "",
        to_at=_day_start(chosen.until + dt.timedelta(days=1)) if chosen.until else "",
    )


def _names(conn: Connection, entries: list[audit_model.Entry]) -> dict[str, str]:
    keys = {e.record for e in entries} | {f"user:{e.user_id}" for e in entries if e.user_id}
    return audit_model.record_names(conn, keys)


def browse(
    session: Session, chosen: EntryFilter, *, before_id: int | None = None, limit: int = 200
) -> EntryPage:
    """One page of the entries ``chosen`` matches, newest first, from below ``before_id``."""
    session.require(*READERS)
    conn = session.conn
    found = audit_model.filtered(conn, _criteria(conn, chosen), before_id=before_id, limit=limit)
    return EntryPage(found, _names(conn, found))


def actions(session: Session) -> list[str]:
    """Every action the trail holds, to filter by."""
    session.require(*READERS)
    return audit_model.actions(session.conn)


def may_export(session: Session) -> bool:
    return session.has(*EXPORTERS)


def _uk_time(stamp: str) -> str:
    try:
        return moment_of(stamp).astimezone(UK).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return ""


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _CsvFile:
    """The export's bytes, a batch of entries at a time, counting the entries written."""

    def __init__(self, conn: Connection, criteria: audit_model.Criteria) -> None:
        self.conn = conn
        self.criteria = criteria
        self.count = 0
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def __iter__(self) -> Iterator[bytes]:
        yield "\ufeff".encode()  # so a spreadsheet reads the file as UTF-8
        self._writer.writerow(CSV_HEADER)
        batch: list[audit_model.Entry] = []
        for entry in audit_model.walk_filtered(self.conn, self.criteria):
            batch.append(entry)
            if len(batch) == EXPORT_BATCH:
                yield self._rows(batch)
                batch = []
        yield self._rows(batch)

    def _rows(self, batch: list[audit_model.Entry]) -> bytes:
        names = _names(self.conn, batch)
        for e in batch:
            self._writer.writerow(
                _cell(v)
                for v in (
                    e.id,
                    e.at,
                    _uk_time(e.at),
                    e.user_id,
                    names.get(f"user:{e.user_id}", ""),
                    e.action,
                    e.record,
                    names.get(e.record, ""),
                    e.detail,
                    e.prev_hash,
                    e.hash,
                )
            )
        self.count += len(batch)
        data = self._buffer.getvalue().encode("utf-8")
        self._buffer.seek(0)
        self._buffer.truncate()
        return data


def export_csv(session: Session, chosen: EntryFilter, out: Path) -> int:
    """Write the entries ``chosen`` matches, oldest first, to the CSV file ``out``, with the
    references and usernames they name; return how many. The file is not encrypted: it is
    written only where the DPO chose, whole or not at all. The export is audited, naming the
    filter by ids only (never the text typed)."""
    session.require(*EXPORTERS)
    if out.is_dir() or not out.parent.is_dir():
        raise InvalidInput("Choose a CSV file in a folder that exists for the audit trail.")
    conn = session.conn
    criteria = _criteria(conn, chosen)
    rows = _CsvFile(conn, criteria)
    with transaction(conn):
        atomic_write(out, rows)
        record(conn, session.user_id, AUDIT_EXPORTED, "", _export_detail(criteria, rows.count))
    return rows.count


def _export_detail(criteria: audit_model.Criteria, count: int) -> str:
    parts = [f"entries={count}"]
    if criteria.user_id is not None:
        parts.append(f"user={criteria.user_id}")
    if criteria.action:
        parts.append(f"action={criteria.action}")
    if criteria.records is not None:
        parts.append("records=" + (",".join(criteria.records) or "none"))
    if criteria.from_at:
        parts.append(f"from={criteria.from_at}")
    if criteria.to_at:
        parts.append(f"to={criteria.to_at}")
    return " ".join(parts)
