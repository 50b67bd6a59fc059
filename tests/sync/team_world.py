"""Helpers for team tests: several laptops in one process, each its own store, one tmp folder.
Cases reach the laptops that hold them by syncing only."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from app.crypto.connection import Connection
from app.crypto.device import DeviceSecrets
from app.models import users as user_model
from app.models.db import transaction
from app.models.users import Role
from app.services import team as team_service
from app.services.session import Session
from tests.helpers import TEST_KDF, MemoryKeyring


def give_roles(session: Session, roles: frozenset[Role]) -> None:
    """Test set-up: the signed-in user holds ``roles`` (an admin who also manages)."""
    with transaction(session.conn):
        session.conn.execute(
            "UPDATE users SET roles = ? WHERE id = ?",
            (user_model.encode_roles(roles), session.user_id),
        )
    session.roles = roles


def join_laptop(
    admin: Session, username: str, folder: Path, keyring: MemoryKeyring, password: str
) -> Session:
    """Invite ``username`` from the admin's laptop and join with a new store in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    invitation = folder / f"{username}.invitation"
    passphrase = team_service.invite(admin, username, invitation, params=TEST_KDF)
    store = folder / username / "cases.safecase"
    store.parent.mkdir(parents=True)
    session, recovery = team_service.join(
        invitation, passphrase, store, password, device=DeviceSecrets(keyring), kdf=TEST_KDF
    )
    assert recovery.count("-") == 12
    return session


def case_by_gid(conn: Connection, gid: str) -> int | None:
    row = conn.execute("SELECT id FROM cases WHERE gid = ?", (gid,)).fetchone()
    return None if row is None else int(row[0])


def later(session: Session, minutes: int) -> None:
    """Move the laptop's clock on (each laptop keeps its own)."""
    start = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    ticks = iter(range(10**9))

    def now() -> str:
        moment = start + dt.timedelta(milliseconds=next(ticks))
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    session.now = now


__all__ = ["case_by_gid", "dataclasses", "give_roles", "join_laptop", "later"]
