"""Recording and checking the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from app.crypto.connection import Connection
from app.models import audit as audit_model
from app.models import users as user_model
from app.models.db import transaction
from app.models.users import Role
from app.services.session import Session, utc_now

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
DRAFT_SAVED = "draft_saved"
DRAFT_TAKEN = "draft_taken"
DRAFT_DISCARDED = "draft_discarded"
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


def may_read(session: Session) -> bool:
    """Whether the user reads the audit trail."""
    return session.has(*READERS)
