"""Backups of the whole store, for admins, and what a purge and a restore do about them.

The store remembers every backup file it wrote (in its settings: the path and when), and the
folder it keeps generations in. A purge deals with the backups made before it, as the admin
chooses: rewrite them without the destroyed cases, delete them, or keep them (recorded on the
certificate). Every backup carries the store's destruction log in its header, sealed under the
backup key, so a restore of an older backup destroys again what a later backup says was
destroyed after it. Copies Safecase did not write, or that were moved, are beyond its reach.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from app.crypto import vault as vaultlib
from app.crypto.anchor import anchor_path
from app.crypto.connection import Connection
from app.errors import BackupTargetTaken, InvalidInput, PermissionDenied, SafecaseError
from app.models import retention as retention_model
from app.models import settings
from app.models.db import transaction
from app.models.retention import LogEntry
from app.models.schema import SCHEMA_VERSION, migrate, version
from app.models.users import Role
from app.services import audit
from app.services.session import Session, moment_of

log = logging.getLogger("safecase.backup")

GENERATION_PREFIX = "safecase-"
GENERATION_SUFFIX = ".backup"
DEFAULT_GENERATIONS = 7
# Settings: the backups this store wrote, and the folder and count of its generations.
KNOWN = "backups_written"
FOLDER = "backup_folder"
KEEP = "backup_keep"
HANDLED = "purge_backups:"  # + a purge run's id: what the run did about older backups
MAX_KNOWN = 500


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file, through symlinks and hard links."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_target(session: Session, out: Path, *, replace: bool = False) -> None:
    """Refuse a backup file that would replace the store's own files (always) or any other
    file that is there already (unless ``replace``)."""
    store = session.vault.path
    own_files = (
        *vaultlib.store_files(store),
        anchor_path(store),
        store.with_name(store.name + ".lock"),
    )
    for own in own_files:
        if _same_file(out, own):
            raise BackupTargetTaken(
                "That is one of the store's own files; a backup never replaces the store, "
                "its key file or its log. Nothing was written."
            )
    if out.is_dir():
        raise InvalidInput("Choose a file for the backup, not a folder.")
    if (out.exists() or out.is_symlink()) and not replace:
        raise BackupTargetTaken()


def backup(session: Session, out: Path, *, replace: bool = False) -> int:
    """Write a backup file at ``out`` that the recovery key (or an admin) can restore.

    A file already at ``out`` is replaced only when ``replace`` is given, and the store's own
    files never are. Returns the size of the file in bytes.
    """
    session.require(Role.ADMIN)
    check_target(session, out, replace=replace)
    if not session.vault.can_backup:
        raise PermissionDenied(
            "This account cannot make backups yet; ask an admin to reset its password."
        )
    destroyed = retention_model.log_to_json(retention_model.every_log_entry(session.conn))
    size = session.vault.write_backup(out, destroyed)
    with transaction(session.conn):
        _remember(session.conn, out, session.now())
        audit.record(session.conn, session.user_id, audit.BACKUP_MADE, "", f"bytes={size}")
    return size


def _known(conn: Connection) -> list[dict[str, str]]:
    try:
        found = json.loads(settings.get(conn, KNOWN) or "[]")
    except ValueError:
        return []
    return [d for d in found if isinstance(d, dict)] if isinstance(found, list) else []


def _put_known(conn: Connection, entries: list[dict[str, str]]) -> None:
    settings.put(conn, KNOWN, json.dumps(entries[-MAX_KNOWN:], separators=(",", ":")))


def _remember(conn: Connection, out: Path, made: str) -> None:
    path = str(out.resolve())
    entries = [d for d in _known(conn) if d.get("path") != path]
    _put_known(conn, [*entries, {"path": path, "made": made}])


def _forget(conn: Connection, paths: Sequence[Path]) -> None:
    gone = {str(p.resolve()) for p in paths}
    _put_known(conn, [d for d in _known(conn) if d.get("path") not in gone])


def generations(folder: Path) -> list[Path]:
    """The backups Safecase made in ``folder``, oldest first."""
    return sorted(folder.glob(f"{GENERATION_PREFIX}*{GENERATION_SUFFIX}"))


def backup_to_folder(
    session: Session, folder: Path, keep: int = DEFAULT_GENERATIONS, now: dt.datetime | None = None
) -> tuple[Path, list[Path]]:
    """Write a new dated backup into ``folder`` and keep only the newest ``keep`` of them.

    Older generations are removed only after the new one is written and checked. Returns the
    new file and the files removed.
    """
    if keep < 1:
        raise InvalidInput("Keep at least one backup.")
    stamp = (now or session.moment()).strftime("%Y%m%d-%H%M%S")
    out = folder / f"{GENERATION_PREFIX}{stamp}{GENERATION_SUFFIX}"
    for n in range(1, 100):  # two in one second: the second sorts after the first
        if not (out.exists() or out.is_symlink()):
            break
        out = folder / f"{GENERATION_PREFIX}{stamp}_{n}{GENERATION_SUFFIX}"
    backup(session, out)
    existing = generations(folder)
    removed = existing[: max(0, len(existing) - keep)]
    for old in removed:
        old.unlink()
    with transaction(session.conn):
        settings.put(session.conn, FOLDER, str(folder.resolve()))
        settings.put(session.conn, KEEP, str(keep))
        _forget(session.conn, removed)
    return out, removed


UPGRADE_FOLDER = "backups"
UPGRADE_PREFIX = "before-update-"


def before_update(v: vaultlib.Vault, made: str) -> Path | None:
    """Before a newer Safecase changes an older store's schema, write a backup of the store as
    that version left it, so the update can be rolled back (the previous Safecase, and
    ``safecase restore`` with this file and the recovery key). Returns the file, or None when
    the store needs no update.

    The backup goes into the store's backup folder (the generations folder when one is set,
    else ``backups/`` beside the store) under a name the generations never prune. Only an
    admin's key slot holds the backup key, so another user's sign-in is refused until an admin
    has signed in once; nothing is changed until then.
    """
    old = version(v.conn)
    if old >= SCHEMA_VERSION:
        return None
    if not v.can_backup:
        raise SafecaseError(
            "This store needs an update for this version of Safecase, and a backup is taken "
            "first, which only an admin can do. Ask an admin to sign in once; nothing was changed."
        )
    folder = Path(settings.get(v.conn, FOLDER) or v.path.parent / UPGRADE_FOLDER)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise SafecaseError(
            "The folder for the backup before the update cannot be made; nothing was changed."
        ) from exc
    stamp = made[:19].replace("-", "").replace(":", "").replace("T", "-")
    out = folder / f"{UPGRADE_PREFIX}v{old}-to-v{SCHEMA_VERSION}-{stamp}{GENERATION_SUFFIX}"
    try:  # an older schema may predate the destruction log: then it has none to carry
        destroyed: bytes | None = retention_model.log_to_json(
            retention_model.every_log_entry(v.conn)
        )
    except Exception:
        destroyed = None
    v.write_backup(out, destroyed)
    return out


def record_before_update(conn: Connection, user_id: int, out: Path, made: str) -> None:
    """Note the backup taken before an update in the audit trail and the known backups (in
    the sign-in's transaction, after the update)."""
    _remember(conn, out, made)
    audit.record(conn, user_id, audit.BACKUP_MADE, "", f"before update to v{SCHEMA_VERSION}")


def known_backups(session: Session) -> list[Path]:
    """The backups of this store that Safecase wrote and that are still where it wrote them
    (with the generations in its backup folder), oldest first. Admins."""
    session.require(Role.ADMIN)
    candidates = [Path(d["path"]) for d in _known(session.conn) if d.get("path")]
    folder = settings.get(session.conn, FOLDER)
    if folder and Path(folder).is_dir():
        candidates += generations(Path(folder))
    found: dict[str, Path] = {}
    for path in candidates:
        if session.vault.owns_backup(path):
            found.setdefault(str(path.resolve()), path)
    return sorted(found.values(), key=lambda p: (p.stat().st_mtime, str(p)))


# -- the backups screen -------------------------------------------------------------------------

# A warning shows when the last backup is older than this (or there is none).
STALE_AFTER = dt.timedelta(days=7)


@dataclass(frozen=True)
class BackupStatus:
    """What the backups screen shows: where generations go, how many are kept, and when the
    last backup of this store was taken."""

    folder: Path | None
    keep: int
    last_made: dt.datetime | None
    stale: bool


def status(session: Session) -> BackupStatus:
    """The backup folder, the number of generations and when the last backup was made (admins)."""
    session.require(Role.ADMIN)
    folder = settings.get(session.conn, FOLDER)
    try:
        keep = int(settings.get(session.conn, KEEP) or DEFAULT_GENERATIONS)
    except ValueError:
        keep = DEFAULT_GENERATIONS
    made = [d["made"] for d in _known(session.conn) if d.get("made")]
    last = moment_of(max(made)) if made else None
    stale = last is None or session.moment() - last > STALE_AFTER
    return BackupStatus(Path(folder) if folder else None, keep, last, stale)


def back_up_now(session: Session, folder: Path, keep: int) -> BackupStatus:
    """Take a backup into ``folder`` now, keeping the newest ``keep`` generations there; the
    folder and the count are remembered for next time (admins)."""
    session.require(Role.ADMIN)
    if not 1 <= keep <= 100:
        raise InvalidInput("Keep between 1 and 100 backups.")
    if not folder.is_dir():
        raise InvalidInput("Choose a folder that exists for the backups.")
    backup_to_folder(session, folder, keep)
    return status(session)


def may_make_backups(session: Session) -> bool:
    """Whether the user takes backups and sees the backups screen."""
    return session.has(Role.ADMIN)


# -- a purge and the backups made before it ----------------------------------------------------


class BackupChoice(enum.StrEnum):
    """What a purge does with the backups made before it."""

    REWRITE = "rewrite"  # write each again without the destroyed cases
    DESTROY = "destroy"  # delete them (after a fresh backup into the generations folder)
    KEEP = "keep"  # leave them: they hold the cases until rotated out (on the certificate)


@dataclass(frozen=True)
class BackupsHandled:
    """What one purge run did about the backups made before it; no personal data."""

    run_id: str
    choice: str  # a BackupChoice value, or "" when no backup was known
    at: str
    files: int
    done: int  # rewritten or deleted
    failed: int
    folders: tuple[str, ...]
    fresh: bool = False  # a new backup was written after the purge (destroy)
    until: str = ""  # keep: about when the last of them is rotated out
    rotations: int = 0  # keep: how many generations the folder keeps
    outside: int = 0  # keep: how many are outside the generations folder (never rotated)

    def lines(self) -> list[str]:
        """The certificate's sentences about backups."""
        day = self.at[:10]
        if not self.files:
            return [
                "No backup made before this run was known to Safecase.",
                "Copies made or moved outside Safecase are not covered by this certificate.",
            ]
        where = f"{self.files} made before this run, in {', '.join(self.folders)}"
        lines = []
        if self.choice == BackupChoice.REWRITE:
            lines.append(f"Backups ({where}): {self.done} rewritten without these cases on {day}.")
        elif self.choice == BackupChoice.DESTROY:
            lines.append(f"Backups ({where}): {self.done} deleted on {day}.")
            if self.fresh:
                lines.append(f"A new backup without these cases was written on {day}.")
            lines.append(
                "Deleted files are released, not overwritten: on an SSD or in a synced folder's "
                "history their encrypted blocks may survive until reused."
            )
        else:
            if self.until:
                left = (
                    f"until they are rotated out, about {self.until} ({self.rotations} generations)"
                )
            elif self.rotations:
                left = f"until they are rotated out, after {self.rotations} more backups"
            else:
                left = "until someone deletes them"
            if self.outside and left != "until someone deletes them":
                left += f"; the {self.outside} outside the backup folder until someone deletes them"
            lines.append(
                f"Backups ({where}): kept at the admin's choice; they hold these cases {left}."
            )
            lines.append(
                "Restoring one of them destroys these cases again when a later backup is beside it."
            )
        if self.failed:
            lines.append(
                f"{self.failed} backup(s) could not be changed and still hold these cases: "
                "delete them by hand."
            )
        lines.append("Copies made or moved outside Safecase are not covered by this certificate.")
        return lines


def handled(conn: Connection, run_id: str) -> BackupsHandled | None:
    """What a purge run did about older backups, as recorded when it ran."""
    text = settings.get(conn, HANDLED + run_id)
    if not text:
        return None
    try:
        data = json.loads(text)
        data["folders"] = tuple(data["folders"])
        return BackupsHandled(**data)
    except (ValueError, TypeError, KeyError):
        return None


def _rewrite(session: Session) -> Callable[[Connection], bytes]:
    """The change made to an older backup: every destruction in this store's log again."""
    entries = retention_model.every_log_entry(session.conn)

    def edit(conn: Connection) -> bytes:
        migrate(conn)
        reapply_all(conn, entries, session.user_id)
        # secure_delete has zeroed what was deleted, and the merged index holds no word of it;
        # the copy becomes a new backup file, so emptying its log is all that is left.
        retention_model.checkpoint(conn)
        return retention_model.log_to_json(retention_model.every_log_entry(conn))

    return edit


def _keep_until(session: Session, older: Sequence[Path]) -> tuple[str, int, int]:
    """About when the generations kept in the backup folder are all rotated out (after as many
    backups as the folder keeps, at the pace they have been made), how many that is, and how
    many of ``older`` lie outside the folder and are never rotated."""
    folder = settings.get(session.conn, FOLDER)
    keep = int(settings.get(session.conn, KEEP) or 0)
    in_folder = [p for p in older if folder and str(p.resolve().parent) == folder]
    outside = len(older) - len(in_folder)
    if not in_folder or not keep:
        return "", 0, outside
    stamps = sorted(p.stat().st_mtime for p in in_folder)
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        return "", keep, outside
    every = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    today = session.today()
    return (today + dt.timedelta(seconds=every * keep)).isoformat(), keep, outside


def after_purge(
    session: Session, run_id: str, choice: BackupChoice | None, older: Sequence[Path]
) -> BackupsHandled:
    """Do what the admin chose with the backups made before purge run ``run_id``, record it for
    the certificate, and audit it. A backup that cannot be changed is counted, not fatal."""
    session.require(Role.ADMIN)
    done = failed = 0
    fresh = False
    until, rotations, outside = "", 0, 0
    if older and choice is BackupChoice.REWRITE:
        edit = _rewrite(session)
        for path in older:
            try:
                session.vault.rewrite_backup(path, edit, session.now())
                done += 1
            except (SafecaseError, OSError) as exc:
                log.warning(
                    "purge %s: a backup could not be rewritten: %s", run_id, type(exc).__name__
                )
                failed += 1
    elif older and choice is BackupChoice.DESTROY:
        folder = settings.get(session.conn, FOLDER)
        if folder and Path(folder).is_dir():
            keep = int(settings.get(session.conn, KEEP) or DEFAULT_GENERATIONS)
            try:
                backup_to_folder(session, Path(folder), keep)
                fresh = True
            except SafecaseError as exc:
                # Deleting every backup with no new one in their place is not what was meant.
                log.warning("purge %s: no new backup: %s", run_id, type(exc).__name__)
                failed = len(older)
        gone: list[Path] = []
        for path in older if not failed else ():
            try:
                path.unlink(missing_ok=True)
                gone.append(path)
                done += 1
            except OSError as exc:
                log.warning(
                    "purge %s: a backup could not be deleted: %s", run_id, type(exc).__name__
                )
                failed += 1
        with transaction(session.conn):
            _forget(session.conn, gone)
    elif older:
        until, rotations, outside = _keep_until(session, older)
    result = BackupsHandled(
        run_id=run_id,
        choice=choice.value if older and choice else "",
        at=session.now(),
        files=len(older),
        done=done,
        failed=failed,
        folders=tuple(sorted({str(p.resolve().parent) for p in older})),
        fresh=fresh,
        until=until,
        rotations=rotations,
        outside=outside,
    )
    with transaction(session.conn):
        settings.put(session.conn, HANDLED + run_id, json.dumps(asdict(result)))
        audit.record(
            session.conn,
            session.user_id,
            audit.PURGE_BACKUPS,
            "",
            f"run={run_id} choice={result.choice or 'none'} files={len(older)} "
            f"done={done} failed={failed}",
        )
    return result


# -- a restore and the destructions after its backup -------------------------------------------


@dataclass(frozen=True)
class Reapplied:
    """Cases a restored backup still held that a later backup's log says were destroyed."""

    references: tuple[str, ...]
    runs: tuple[str, ...]


def reapply_after_restore(session: Session, restored_from: Path) -> Reapplied:
    """Read the destruction log sealed in every backup of this store beside ``restored_from``
    and destroy again, at once, each case the restored store still holds that one of them says
    was destroyed (with its log row and audit entry); then give the store a new data key, as a
    purge does."""
    session.require(Role.ADMIN)
    entries: dict[tuple[str, str], LogEntry] = {}
    folder = restored_from.parent
    try:
        siblings = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError:
        siblings = []
    for path in siblings:
        data = session.vault.read_destroyed(path)
        if data is None:
            continue
        try:
            for entry in retention_model.log_from_json(data):
                entries.setdefault((entry.run_id, entry.reference), entry)
        except (ValueError, KeyError, TypeError):
            log.warning("restore: a backup's destruction log could not be read")
    ordered = sorted(entries.values(), key=lambda e: (e.destroyed_at, e.run_id, e.reference))

    def destroyed_again(entry: LogEntry, case_id: int) -> None:
        audit.record(
            session.conn,
            session.user_id,
            audit.CASE_DESTROYED,
            f"case:{case_id}",
            f"run={entry.run_id} again after a restore",
        )

    again = reapply_all(session.conn, ordered, session.user_id, destroyed_again)
    runs = sorted({e.run_id for e in again})
    if again:
        with transaction(session.conn):
            audit.record(
                session.conn,
                session.user_id,
                audit.PURGE_RUN,
                "",
                f"after restore: destroyed again={len(again)} runs={len(runs)}",
            )
        # As a purge ends: a new data key, so nothing written under this one survives.
        from app.services import accounts  # accounts imports this module

        accounts.rotate_keys(session)
    return Reapplied(tuple(e.reference for e in again), tuple(runs))


def reapply_all(
    conn: Connection,
    entries: Sequence[LogEntry],
    acting_user: int,
    on_destroyed: Callable[[LogEntry, int], None] | None = None,
) -> list[LogEntry]:
    """Apply a destruction log to an older copy of the store (a backup's, or one just restored
    from it) in one transaction: nothing is kept if it fails, and the copy is then discarded.
    The search index is merged once at the end, as a purge does. Returns the entries whose case
    this copy still held."""
    again: list[LogEntry] = []
    with transaction(conn):
        retention_model.set_index_secure_delete(conn, False)
        retention_model.set_index_automerge(conn, False)
        for entry in entries:
            case_id = retention_model.reapply(conn, entry, acting_user)
            if case_id is not None:
                again.append(entry)
                if on_destroyed is not None:
                    on_destroyed(entry, case_id)
        retention_model.optimize_index(conn)
        retention_model.set_index_secure_delete(conn, True)
        retention_model.set_index_automerge(conn, True)
    return again
