"""Purge across the team, as the admin sees it: which laptops have confirmed destroying each
purged case and which have not since the purge, and compaction of the purged cases'
envelopes on the team's transport. The work itself is app/sync/purge.py; the purge is
app/services/retention.py. Device ids and staff usernames only, never case content.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.crypto.connection import Connection
from app.errors import SafecaseError
from app.models.db import transaction
from app.models.users import Role
from app.services import audit
from app.services.session import Session

TEAM_COMPACTED = "team_compacted"
READERS = (Role.ADMIN, Role.DPO)


def device_label(username: str, device_id: str) -> str:
    """A laptop as a person reads it: its user and the end of its device id (the start of a
    device id is the time it was made, the same for laptops enrolled together)."""
    return f"{username or '?'} (…{device_id[-8:]})"


@dataclass(frozen=True)
class DeviceAck:
    """One laptop's answer about one purged case: when it confirmed (empty: not yet) and
    whether it held the case."""

    device_id: str
    username: str
    at: str = ""
    held: bool = False

    @property
    def label(self) -> str:
        return device_label(self.username, self.device_id)


@dataclass(frozen=True)
class CaseAcks:
    reference: str
    case_gid: str
    ordered_at: str
    confirmed: tuple[DeviceAck, ...]
    outstanding: tuple[DeviceAck, ...]


@dataclass(frozen=True)
class Outstanding:
    """A laptop that has not confirmed destroying some purged cases: how many, since when."""

    device_id: str
    username: str
    cases: int
    since: str

    @property
    def label(self) -> str:
        return device_label(self.username, self.device_id)


def _in_team(conn: Connection) -> bool:
    return conn.execute("SELECT 1 FROM team WHERE id = 1").fetchone() is not None


def acknowledgements_here(conn: Connection, run_id: str | None = None) -> list[CaseAcks]:
    """Per purged case (of one run), the laptops that confirmed and those that have not;
    empty when this laptop is not in a team. For the certificate (no role check here)."""
    if not _in_team(conn):
        return []
    from app.sync import engine
    from app.sync import purge as team_purge

    directory = engine.load(conn).directory

    def named(device_id: str, at: str = "", held: bool = False) -> DeviceAck:
        device = directory.device(device_id)
        user = directory.user(device.user) if device is not None else None
        return DeviceAck(device_id, user.username if user else "", at, held)

    return [
        CaseAcks(
            a.reference,
            a.case_gid,
            a.ordered_at,
            tuple(named(d, at, held) for d, at, held in a.confirmed),
            tuple(named(d) for d in a.outstanding),
        )
        for a in team_purge.acknowledgements(conn, run_id)
    ]


def case_acknowledgements(session: Session, run_id: str | None = None) -> list[CaseAcks]:
    """Per case the team's purge destroyed, who confirmed and who has not (admins, DPO)."""
    session.require(*READERS)
    return acknowledgements_here(session.conn, run_id)


def outstanding(session: Session) -> list[Outstanding]:
    """The laptops that have not confirmed destroying every purged case, each with how many
    cases and since when (the earliest purge they have not confirmed), by user (admins)."""
    session.require(Role.ADMIN)
    waiting: dict[str, tuple[DeviceAck, int, str]] = {}
    for case in acknowledgements_here(session.conn):
        for device in case.outstanding:
            _, count, since = waiting.get(device.device_id, (device, 0, case.ordered_at))
            waiting[device.device_id] = (device, count + 1, min(since, case.ordered_at))
    return sorted(
        (Outstanding(d.device_id, d.username, n, since) for d, n, since in waiting.values()),
        key=lambda o: (o.since, o.username, o.device_id),
    )


def may_compact(session: Session) -> bool:
    return session.has(Role.ADMIN)


def compact(session: Session) -> int:
    """Delete from the team's transport every envelope of every case the team's purge
    destroyed (their keys are destroyed everywhere already); audited with the count only.
    Returns how many envelopes were deleted."""
    session.require(Role.ADMIN)
    if not session.active:
        raise SafecaseError("The store is locked. Sign in again to go on.")
    from app.services import team as team_service
    from app.sync import engine, moving
    from app.sync import purge as team_purge

    conn = session.conn
    state = engine.load(conn)  # refuses a laptop not in a team
    scopes = team_purge.compaction_scopes(conn)
    transport = team_service.transport_of(conn, state)  # the folder or the server
    try:
        deleted = transport.compact(scopes) if scopes else 0
    finally:
        moving.close(transport)
    with transaction(conn):
        team_purge.mark_compacted(conn, session.now())
        audit.record(
            conn,
            session.user_id,
            TEAM_COMPACTED,
            f"device:{state.device.device_id}",
            f"cases={len(scopes)} envelopes={deleted}",
        )
    return deleted


def _when(stamp: str) -> str:
    return stamp[:16].replace("T", " ")


def certificate_lines(cases: list[CaseAcks]) -> list[str]:
    """One sentence per purged case for the certificate: the laptops that confirmed (and
    when), those that never held it, and those that have not synced since the purge."""
    lines = []
    for case in cases:
        held = [f"{d.label} {_when(d.at)}" for d in case.confirmed if d.held]
        never = [d.label for d in case.confirmed if not d.held]
        parts = [
            f"{case.reference or case.case_gid}: destroyed and confirmed by "
            + (", ".join(held) or "none")
        ]
        if never:
            parts.append("held nothing, confirmed by " + ", ".join(never))
        parts.append(
            "not confirmed, not synced since the purge: "
            + (", ".join(d.label for d in case.outstanding) or "none")
        )
        lines.append("; ".join(parts) + ".")
    return lines
