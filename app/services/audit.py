"""Recording and checking the audit trail."""

from __future__ import annotations

import csv
import datetime as dt
import hmac
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.crypto import anchor, sealing
from app.crypto.anchor import Anchor
from app.crypto.connection import Connection
from app.crypto.files import atomic_write
from app.errors import InvalidInput, TrailTampered
from app.models import audit as audit_model
from app.models import users as user_model
from app.models.db import read, transaction
from app.models.users import Role
from app.services.membership import joined
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
SEALING_STARTED = "audit_sealing_started"
CHECKPOINT_MADE = "audit_checkpoint_made"
LOSS_ACCEPTED = "audit_loss_accepted"
CASE_CREATED = "case_created"
CASE_VIEWED = "case_viewed"
CASE_CHANGED = "case_changed"
AGENCY_CHANGED = "agency_changed"
AGENCY_REMOVED = "agency_removed"
LEGAL_CHANGED = "legal_changed"
LEGAL_REMOVED = "legal_removed"
CASE_ALLOCATED = "case_allocated"
CASE_OPENED = "case_opened"
CASE_CLOSED = "case_closed"
CASE_REOPENED = "case_reopened"
LEGAL_HOLD_PLACED = "legal_hold_placed"
LEGAL_HOLD_LIFTED = "legal_hold_lifted"
PERSON_ADDED = "person_added"
PERSON_CHANGED = "person_changed"
PERSON_REMOVED = "person_removed_from_case"
PEOPLE_MERGED = "people_merged"
MERGE_UNDONE = "merge_undone"
MERGE_CONFIRMED = "merge_confirmed"
RESTRICTION_PLACED = "restriction_placed"
RESTRICTION_LIFTED = "restriction_lifted"
SAFE_CONTACT_CHANGED = "safe_contact_changed"
CONSENT_RECORDED = "consent_recorded"
SHARE_RECORDED = "share_recorded"
SHARE_REVIEWED = "share_reviewed"
NOTE_ADDED = "note_added"
NOTE_CORRECTED = "note_corrected"
NOTE_DISPUTED = "note_disputed"
CONFLICT_RESOLVED = "conflict_resolved"
CONFLICTS_VIEWED = "conflicts_viewed"
DRAFT_SAVED = "draft_saved"
DRAFT_TAKEN = "draft_taken"
DRAFT_DISCARDED = "draft_discarded"
DASH_RECORDED = "dash_recorded"
MARAC_REFERRED = "marac_referred"
MARAC_MEETING_SET = "marac_meeting_set"
MARAC_ACTION_ADDED = "marac_action_added"
MARAC_ACTION_DONE = "marac_action_done"
MARAC_FORM_ISSUED = "marac_form_issued"
MARAC_FORM_PRINTED = "marac_form_printed"
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
ERASURE_PROPOSED = "erasure_proposed"
ERASURE_CARRIED_OUT = "erasure_carried_out"
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
LETTER_PRODUCED = "letter_produced"
TEXT_PREPARED = "text_prepared"
CONTACT_RULE_OVERRIDDEN = "contact_rule_overridden"
BREACH_RECORDED = "breach_recorded"
BREACH_CHANGED = "breach_changed"
BREACH_CLOSED = "breach_closed"

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
    """What checking the trail found. ``problems`` are sentences naming what was changed, cut
    off or rolled back; ``notes`` say what could not be checked (entries not sealed yet, seals
    checked without the verification key)."""

    checked: int
    first_broken: int | None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.first_broken is None and not self.problems


def _walk(conn: Connection) -> tuple[int, int | None, str]:
    """Entries that check out from the first, the first that does not, and the last hash."""
    expected_id, prev = 1, audit_model.GENESIS
    checked = 0
    for entry in audit_model.walk(conn):
        if entry.id != expected_id:
            return checked, expected_id, prev
        digest = audit_model.entry_hash(
            entry.id, entry.at, entry.user_id, entry.action, entry.record, entry.detail, prev
        )
        if entry.prev_hash != prev or entry.hash != digest:
            return checked, entry.id, prev
        checked += 1
        expected_id, prev = entry.id + 1, entry.hash
    return checked, None, prev


def _hash_at(conn: Connection, entry_id: int) -> str | None:
    rows = read(conn, "SELECT hash FROM audit WHERE id = ?", (entry_id,))
    return str(rows[0][0]) if rows else None


def last_entry(conn: Connection) -> int:
    """The id of the newest entry in the trail as it stands (0 when empty)."""
    return int(str(read(conn, "SELECT coalesce(max(id), 0) FROM audit")[0][0]))


def newest(conn: Connection) -> tuple[int, str]:
    """The id and hash of the newest entry, as the store recorded them."""
    return audit_model.head(conn)


def check_chain(conn: Connection) -> Verification:
    """Walk the chain and the store's own record of its head; no seals, no anchors."""
    return check(conn)


def check(
    conn: Connection,
    *,
    verification_key: bytes | None = None,
    anchors: Sequence[Anchor] = (),
) -> Verification:
    """Check the trail without writing anything: the chain, the seals (fully when the
    verification key is given) and every record of it kept outside the store."""
    problems: list[str] = []
    notes: list[str] = []
    checked, broken, last_hash = _walk(conn)
    cut_off = False
    if broken is not None:
        problems.append(
            f"Entry {broken} was changed, removed or reordered: the chain is broken at entry "
            f"{broken}."
        )
    else:
        head_id, head_hash = audit_model.head(conn)
        if head_id > checked:
            broken, cut_off = checked + 1, True
            problems.append(
                f"The last {head_id - checked} entries were cut off: the trail ends at entry "
                f"{checked}, but the store recorded entry {head_id} as its newest."
            )
        elif head_id != checked or head_hash != last_hash:
            broken = checked + 1 if head_id < checked else head_id
            problems.append(
                "The store's record of its newest entry does not match the trail: entries "
                "were rewritten or removed."
            )
    last_id = checked if broken is None else last_entry(conn)
    _check_seals(conn, verification_key, last_id, problems, notes)
    for witness in anchors:
        problem = _against(conn, witness, last_id, cut_off)
        if problem:
            problems.append(problem)
    return Verification(checked, broken, tuple(problems), tuple(notes))


def _check_seals(
    conn: Connection,
    key: bytes | None,
    last_id: int,
    problems: list[str],
    notes: list[str],
) -> None:
    current = audit_model.seal_key(conn)
    found = audit_model.seals(conn)
    if current is None:
        if found or key is not None:
            problems.append(
                "The store's sealing key was removed"
                + (": the seals cannot go on." if found else ", and its seals with it.")
            )
        else:
            notes.append(
                "The trail is not sealed: an admin or the DPO can start sealing with "
                "'safecase audit start-sealing'."
            )
        return
    sealed_to = 0
    key = sealing.evolve(key) if key is not None else None
    for epoch, seal in enumerate(found, start=1):
        covered = f"entries {sealed_to + 1} to {seal.last_entry}"
        stored = _hash_at(conn, seal.last_entry)
        if seal.epoch != epoch or seal.last_entry <= sealed_to:
            problems.append(f"Seal {epoch} is out of order: seals were removed or rewritten.")
            return
        if stored is None:
            problems.append(
                f"Entry {seal.last_entry} is gone: the sealed {covered} were cut short after "
                "they were sealed."
            )
            return
        if stored != seal.head:
            problems.append(f"The sealed {covered} were changed after they were sealed.")
            return
        if key is not None:
            expected = sealing.seal_tag(key, seal.epoch, seal.last_entry, seal.head, seal.at)
            if not hmac.compare_digest(expected, seal.tag):
                problems.append(
                    f"The seal on {covered} does not check out against the verification key: "
                    "they were rewritten and sealed again without it (or the key given is not "
                    "this store's)."
                )
                return
            key = sealing.evolve(key)
        sealed_to = seal.last_entry
    if current.epoch != len(found) + 1:
        problems.append(
            f"The store's sealing key is for seal {current.epoch}, but {len(found)} seals "
            "are left: seals (and the entries they covered) were removed."
        )
        return
    if key is not None and not hmac.compare_digest(key, current.key):
        problems.append(
            "The store's sealing key does not follow from the verification key: it was "
            "replaced (or the key given is not this store's)."
        )
        return
    if key is None:
        notes.append(
            "The seals were compared with the trail only; give the audit verification key "
            "(--with-key) to check that nobody sealed them again."
        )
    elif sealed_to:
        notes.append(f"Entries 1 to {sealed_to} are sealed and check out.")
    if last_id > sealed_to:
        notes.append(
            f"The newest {last_id - sealed_to} entries are not sealed yet; they are sealed at "
            "the next sign-out or lock, or after 15 minutes."
        )


def _against(conn: Connection, witness: Anchor, last_id: int, cut_off: bool) -> str | None:
    """The problem one record kept outside the store shows, if any."""
    if not witness.authentic:
        return f"{_capital(witness.source)} was altered or made for another store."
    if witness.count > last_id:
        if cut_off:
            return (
                f"The last {witness.count - last_id} entries were cut off: the trail ends at "
                f"entry {last_id}, but {witness.source} saw entry {witness.count}."
            )
        return (
            f"The store was rolled back to an older copy, or lost its newest changes: the "
            f"trail ends at entry {last_id}, but {witness.source} saw entry {witness.count}."
        )
    if witness.count and _hash_at(conn, witness.count) != witness.head:
        return (
            f"Entry {witness.count} is not the one {witness.source} saw: the trail up to it was "
            "rewritten, or this is another copy of the store."
        )
    return None


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def check_anchor(conn: Connection, store: Path) -> None:
    """On opening a store: refuse it when it is shorter than this computer last saw it, or
    different at that point. Cheap: two lookups, no walk."""
    witness = anchor.read(store)
    if witness is None:
        return
    last_id = last_entry(conn)
    if witness.count > last_id or (witness.count and _hash_at(conn, witness.count) != witness.head):
        raise TrailTampered(
            f"This store's audit trail ends at entry {last_id}, but this computer last saw "
            f"entry {witness.count}: its newest changes were lost (a damaged write-ahead log) "
            "or an older copy of the store was put back. Restore the newest backup (or, when "
            "none is newer, an admin can keep the store as it is with 'safecase audit "
            "accept-loss') and tell your data protection officer."
        )


def verify(
    session: Session, verification_key: bytes | None = None, *, team: bool = False
) -> Verification:
    """Check the trail on an open store (with ``team``, every device's trail as the laptops of
    the team saw it too), then record the check; when the check finds tampering nothing is
    written, so the evidence stays as it was found."""
    session.require(*READERS)
    witness = anchor.read(session.vault.path)
    result = check(
        session.conn,
        verification_key=verification_key,
        anchors=[witness] if witness else [],
    )
    if team:
        result = with_team(session.conn, result)
    if result.ok:
        record_verified(session.conn, session.user_id, result)
    return result


def record_verified(conn: Connection, user_id: int, result: Verification) -> None:
    """Record a check that found the trail intact (one that did not writes nothing)."""
    with transaction(conn):
        record(
            conn,
            user_id,
            AUDIT_VERIFIED,
            detail=f"checked={result.checked} broken={result.first_broken or 0}",
        )


def seal_now(conn: Connection) -> None:
    """Seal what was written so far and evolve the key: at sign-out and lock, inside the
    transaction that records them."""
    audit_model.seal(conn, utc_now())


def start_sealing(session: Session) -> str:
    """Start sealing the trail; returns the audit verification key, to show this once.

    For a new store at set-up, or a store made before sealing existed. The key is not kept
    anywhere: whoever holds it can check every seal (and could forge them), so it belongs with
    the DPO, away from the computer."""
    session.require(Role.ADMIN, Role.DPO)
    if audit_model.seal_key(session.conn) is not None:
        raise InvalidInput("This store's audit trail is already sealed; its key was shown once.")
    with transaction(session.conn):
        first = audit_model.start_sealing(session.conn, utc_now())
        record(session.conn, session.user_id, SEALING_STARTED)
    return sealing.format_verification_key(first)


def checkpoint(session: Session, verification_key: bytes, out: Path) -> int:
    """Write a checkpoint of the trail, signed with the verification key, to ``out`` (the
    DPO keeps it away from the computer); returns the entries it covers. Refused when the
    trail does not check out."""
    session.require(Role.DPO)
    result = verify(session, verification_key)
    if not result.ok:
        raise TrailTampered(result.problems[0])
    count, head_hash = audit_model.head(session.conn)
    sealed = [s.last_entry for s in audit_model.seals(session.conn)]
    fields = {
        "format": 1,
        "store": session.vault.slots.store_id,
        "count": count,
        "head": head_hash,
        "made": session.now(),
        "sealed_through": sealed[-1] if sealed else 0,
    }
    atomic_write(out, sealing.sign_checkpoint(verification_key, fields))
    with transaction(session.conn):
        record(session.conn, session.user_id, CHECKPOINT_MADE, detail=f"count={count}")
    return count


def checkpoint_anchor(path: Path, verification_key: bytes | None, store_id: str) -> Anchor:
    """A checkpoint file as a record to check the trail against."""
    source = f"the checkpoint {path.name}"
    try:
        fields, authentic = sealing.read_checkpoint(path.read_bytes(), verification_key)
        count, head_hash = int(fields["count"]), str(fields["head"])
        mine = str(fields["store"]) == store_id
    except FileNotFoundError:
        raise InvalidInput(f"There is no checkpoint file {path.name}.") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise InvalidInput(f"{path.name} is not an audit checkpoint.") from None
    return Anchor(source, count, head_hash, authentic and mine)


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


# -- the team's trail: every device's entries, as they travelled (app/sync/audit_travel.py) ----

TEAM_ENTRIES = 500


@dataclass(frozen=True)
class TeamEntry:
    """One entry of the team's trail: this laptop's own, or one another device sent."""

    device: str
    position: int
    at: str
    username: str
    action: str
    record: str
    detail: str
    own: bool


def _directory(conn: Connection) -> tuple[str, dict[str, str]] | None:
    """This laptop's device id and every device's user's username, when in a team."""
    if not joined(conn):
        return None  # a laptop on its own never loads the team machinery
    from app.sync import audit_travel, engine

    state = engine.load(conn)
    names = {d.id: audit_travel.username_of(state.directory, d.id) for d in state.directory.devices}
    return state.device.device_id, names


def team_devices(session: Session) -> dict[str, str]:
    """The team's devices by id, each with its user's username (empty outside a team)."""
    session.require(*READERS)
    found = _directory(session.conn)
    return {} if found is None else found[1]


def team_trail(
    session: Session, device: str | None = None, limit: int = TEAM_ENTRIES
) -> list[TeamEntry]:
    """The newest ``limit`` entries of the team's trail, newest first: this laptop's own and
    those other devices sent (this laptop holds them when its user holds their audit key:
    managers and the DPO), of one device when ``device`` is given."""
    session.require(*READERS)
    conn = session.conn
    found = _directory(conn)
    if found is None:
        return []
    me, _ = found
    entries: list[TeamEntry] = []
    if device in (None, me):
        own = audit_model.filtered(conn, audit_model.Criteria(), limit=limit)
        users = audit_model.record_names(conn, {f"user:{e.user_id}" for e in own if e.user_id})
        entries += [
            TeamEntry(
                me,
                e.id,
                e.at,
                users.get(f"user:{e.user_id}", ""),
                e.action,
                e.record,
                e.detail,
                True,
            )
            for e in own
        ]
    if device != me:
        from app.sync import audit_travel

        entries += [
            TeamEntry(sender, e.position, e.at, e.username, e.action, e.record, e.detail, False)
            for sender, e in audit_travel.held(conn, device, limit)
        ]
    entries.sort(key=lambda e: (e.at, e.device, e.position), reverse=True)
    return entries[:limit]


def team_problems(conn: Connection) -> list[str]:
    """What the checks on arrival found, a sentence per finding naming the laptop (device id and
    its user), and whether this laptop's own trail still holds what it sent to the team."""
    found = _directory(conn)
    if found is None:
        return []
    me, names = found
    from app.sync import audit_travel

    problems = []
    for finding in audit_travel.findings(conn):
        who = names.get(finding.device) or "a user no longer in the directory"
        problems.append(
            f"Laptop {finding.device} ({who}): its audit trail was rewritten, cut short or "
            f"rolled back. {finding.sentence}"
        )
    position, digest = audit_travel.sent(conn)
    if position and _hash_at(conn, position) != digest:
        problems.append(
            f"Laptop {me} ({names.get(me, '')}), this one: its audit trail was rewritten, cut "
            f"short or rolled back. It no longer holds entry {position} as it sent it to the team."
        )
    return problems


def with_team(conn: Connection, result: Verification) -> Verification:
    """``result`` with the team's findings added, and a note of how many devices' trails this
    laptop holds and found matching."""
    if not joined(conn):
        note = "This laptop is not in a team: its own trail was checked, and no other."
        return Verification(
            result.checked, result.first_broken, result.problems, (*result.notes, note)
        )
    problems = team_problems(conn)
    from app.sync import audit_travel

    devices, entries = audit_travel.held_count(conn)
    note = f"This laptop holds {entries} entries from {devices} other laptops of the team" + (
        "." if problems else ", and each continues what it sent before."
    )
    return Verification(
        result.checked,
        result.first_broken,
        (*result.problems, *problems),
        (*result.notes, note),
    )
