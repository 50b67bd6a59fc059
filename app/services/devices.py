"""The devices that hold this service's records, for the admin's Devices page.

A store on its own lives on one laptop, so the list is that laptop: a name and when the store
was first used, nothing personal (no computer name, no user); a lost or stolen one is reported
as a breach (app/services/breaches.py), which starts the 72-hour clock, and cannot be revoked.
In a team the list is the team's directory: each device, whose it is, its revocation state and
when this laptop last heard from it; an admin revokes one with ``team.revoke``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.models import breaches as breach_model
from app.models.users import Role
from app.services import membership
from app.services.session import Session, moment_of

ADMINS = (Role.ADMIN,)
# Revoking a device (refusing its envelopes, ordering it to destroy its store) needs the
# team's directory of devices: a store in a team (app/services/revocation.py).
REVOCATION_AVAILABLE = True


@dataclass(frozen=True)
class Device:
    name: str
    first_used: dt.datetime | None
    this_device: bool = True
    revoked: bool = False
    user: str = ""  # in a team: whose device it is (a username)
    device_id: str = ""  # in a team: its id in the team's directory
    order_sent: bool = False  # revoked, and its order to destroy its store reached the team
    confirmed: bool = False  # its signed receipt says its store was destroyed
    last_seen: dt.datetime | None = None  # the newest envelope this laptop accepted from it


def _team_devices(session: Session) -> list[Device]:
    from app.services import team  # only a store in a team loads the team machinery

    return [
        Device(
            line.device_id,
            moment_of(line.added),
            line.this_laptop,
            line.revoked,
            line.username,
            line.device_id,
            line.order_sent is not None,
            line.confirmed is not None,
            moment_of(line.last_seen) if line.last_seen else None,
        )
        for line in team.devices(session)
    ]


def list_devices(session: Session) -> list[Device]:
    """The devices holding this store: this laptop alone, or in a team the devices of the
    team's directory (who they belong to, when added, whether revoked)."""
    session.require(*ADMINS)
    if membership.in_team(session):
        return _team_devices(session)
    first = breach_model.first_used(session.conn)
    return [Device("This laptop", moment_of(first) if first else None)]


def may_manage_devices(session: Session) -> bool:
    """Whether the user sees the Devices page (admins)."""
    return session.has(*ADMINS)
