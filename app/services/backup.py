"""Backups of the whole store, for admins."""

from __future__ import annotations

from pathlib import Path

from app.errors import PermissionDenied
from app.models.db import transaction
from app.models.users import Role
from app.services import audit
from app.services.session import Session


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
