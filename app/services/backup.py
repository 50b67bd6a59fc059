"""Backups of the whole store, for admins."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from app.errors import InvalidInput, PermissionDenied
from app.models.db import transaction
from app.models.users import Role
from app.services import audit
from app.services.session import Session

GENERATION_PREFIX = "safecase-"
GENERATION_SUFFIX = ".backup"
DEFAULT_GENERATIONS = 7


def backup(session: Session, out: Path) -> int:
    """Write a backup file at ``out`` that the recovery key (or an admin) can restore.

    Returns the size of the file in bytes.
    """
    session.require(Role.ADMIN)
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
    stamp = (now or session.moment()).strftime("%Y%m%d-%H%M%S")
    out = folder / f"{GENERATION_PREFIX}{stamp}{GENERATION_SUFFIX}"
    backup(session, out)
    existing = generations(folder)
    removed = existing[: max(0, len(existing) - keep)]
    for old in removed:
        old.unlink()
    return out, removed
