"""The signed-in Session that every service call takes, and the role check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from app.crypto.connection import Connection
from app.crypto.vault import Vault
from app.errors import PermissionDenied, SafecaseError
from app.models.users import Role

# Statutory days (deadlines, retention, "today" on every form) are UK calendar days.
UK = ZoneInfo("Europe/London")


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def uk_today() -> dt.date:
    """Today's date in the United Kingdom on the clock a new session reads, for when there is
    no session."""
    return uk_date(dt.datetime.now(dt.UTC))


def moment_of(stamp: str) -> dt.datetime:
    """A clock reading (``utc_now``'s form) as an aware UTC datetime."""
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def uk_date(moment: dt.datetime) -> dt.date:
    """The calendar date in the United Kingdom at ``moment`` (an aware datetime)."""
    return moment.astimezone(UK).date()


@dataclass
class Session:
    """One user's use of one open store, from sign-in to sign-out or lock."""

    vault: Vault
    user_id: int
    username: str
    roles: frozenset[Role]
    must_change_password: bool = False
    password_only: bool = False
    team_id: int = 1
    # Cases opened this session by break-glass (reason given, audited, listed for managers).
    break_glass: set[int] = field(default_factory=set)
    now: Callable[[], str] = field(default=utc_now)
    # The backup taken at this sign-in before a newer Safecase updated the store, if any.
    backup_before_update: Path | None = None

    def moment(self) -> dt.datetime:
        """The session's clock as an aware UTC datetime."""
        return moment_of(self.now())

    def today(self) -> dt.date:
        """The session's date in the United Kingdom, from its clock, so tests can move it: the
        one "today" every deadline, default and check uses. A statutory day is a UK calendar
        day, so between midnight and 1 am in summer time it is already tomorrow here, though
        still today in UTC."""
        return uk_date(self.moment())

    @property
    def conn(self) -> Connection:
        if self.vault.closed:
            raise SafecaseError("The store is locked. Sign in again to go on.")
        return self.vault.conn

    @property
    def active(self) -> bool:
        return not self.vault.closed

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def require(self, *roles: Role) -> None:
        """Refuse the call unless the user holds one of ``roles``."""
        if self.vault.closed:
            raise SafecaseError("The store is locked. Sign in again to go on.")
        if not self.has(*roles):
            names = " or ".join(r.value for r in roles)
            raise PermissionDenied(f"Only a user with the {names} role can do that.")
        if self.must_change_password:
            raise PermissionDenied("Change your password before doing anything else.")
