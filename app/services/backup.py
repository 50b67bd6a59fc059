"""Backups of the whole store, for admins."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from app.crypto import vault as vaultlib
from app.errors import BackupTargetTaken, InvalidInput, PermissionDenied
from app.models.db import transaction
from app.models.users import Role
from app.services import audit
from app.services.session import Session

GENERATION_PREFIX = "safecase-"
GENERATION_SUFFIX = ".backup"
DEFAULT_GENERATIONS = 7


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
    for own in (*vaultlib.store_files(store), store.with_name(store.name + ".lock")):
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
    size = session.vault.write_backup(out)
    with transaction(session.conn):
        audit.record(session.conn, session.user_id, audit.BACKUP_MADE, "", f"bytes={size}")
    return size


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
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d-%H%M%S")
    out = folder / f"{GENERATION_PREFIX}{stamp}{GENERATION_SUFFIX}"
    backup(session, out)
    existing = generations(folder)
    removed = existing[: max(0, len(existing) - keep)]
    for old in removed:
        old.unlink()
    return out, removed
