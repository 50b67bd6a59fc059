"""Team operation: making a team, inviting and joining laptops, syncing, and what it shows.

Every call takes the signed-in session (``join`` makes the new laptop's store and returns its
session), checks the role and audits by id. The work is done by app/sync/engine.py over the
team's transport (``transport_of``: its shared folder, or its PostgreSQL server once it moved
there or started there; app/sync/moving.py and app/services/team_server.py). Nothing here is
imported when the app or the command line starts: only when a team command runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.crypto.connection import Connection
from app.crypto.device import DeviceSecrets
from app.crypto.files import atomic_write
from app.crypto.invitation import (
    InvitationRefused,
    make_enrolment_request,
    make_invitation,
    read_invitation,
)
from app.crypto.kdf import Argon2Params
from app.crypto.team import DeviceKeys, sign_directory
from app.errors import InvalidInput, SafecaseError
from app.models import settings as settings_model
from app.models import users as user_model
from app.models.db import transaction
from app.models.users import Role
from app.services import accounts, audit, revocation
from app.services.session import Session
from app.sync import engine, moving, ops
from app.sync.clock import new_gid
from app.sync.engine import SyncReport
from app.sync.folder import FolderTransport
from app.sync.transport import Transport, TransportUnavailable

TEAM_CREATED = "team_created"
TEAM_INVITED = "team_invited"
TEAM_JOINED = "team_joined"
TEAM_SYNCED = "team_synced"
TEAM_MOVED = "team_moved_to_server"

__all__ = [
    "SyncReport",
    "create_team",
    "devices",
    "invite",
    "join",
    "revoke",
    "status",
    "sync",
    "transport_of",
]


class AlreadyInTeam(SafecaseError):
    default_message = "This laptop is in a team already."


@dataclass(frozen=True)
class Status:
    joined: bool
    reachable: bool
    last_synced: str | None
    waiting: int
    conflicts: int
    problems: tuple[str, ...] = ()
    server: bool = False  # the team syncs through its server, not a shared folder

    def line(self) -> str:
        if not self.joined:
            return "Not in a team."
        when = self.last_synced or "never"
        where = "team server" if self.server else "shared folder"
        folder = f"{where} reachable" if self.reachable else f"{where} not reachable"
        return (
            f"Last synced {when} · {self.waiting} change(s) waiting · "
            f"{self.conflicts} conflict(s) · {folder}"
        )


@dataclass(frozen=True)
class DeviceLine:
    device_id: str
    username: str
    added: str
    revoked: bool
    this_laptop: bool
    order_sent: str | None = None  # when the order to destroy its store reached the transport
    confirmed: str | None = None  # when its signed receipt said its store was destroyed
    last_seen: str | None = None  # the newest time this laptop accepted an envelope from it

    @property
    def state(self) -> str:
        """ "active", "revoked", "revoked, order sent" or "revoked, destruction confirmed"."""
        if self.confirmed is not None:
            return "revoked, destruction confirmed"
        if self.order_sent is not None:
            return "revoked, order sent"
        return "revoked" if self.revoked else "active"


# How many reference tags this (admin's) laptop has given out, its own first: tag n is the
# n-th of A..Z, AA..ZZ, AAA..ZZZ, so references made offline on two laptops never collide.
TAGS_GIVEN = "sync.reference_tags_given"


def _tag(n: int) -> str:
    """The ``n``-th reference tag, from 1: "A", ... "Z", "AA", ... (bijective base 26)."""
    letters = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _next_tag(conn: Connection) -> str:
    """The next free reference tag of the team (call inside a transaction)."""
    given = int(settings_model.get(conn, TAGS_GIVEN) or 0) + 1
    if given > 26 + 26**2 + 26**3:
        raise SafecaseError("This team has given out every laptop reference tag.")
    settings_model.put(conn, TAGS_GIVEN, str(given))
    return _tag(given)


def _transport(folder: str) -> FolderTransport:
    return FolderTransport(folder)


def transport_of(conn: Connection, state: engine.State) -> Transport:
    """The transport the team syncs through now: its folder or its server (close it after)."""
    return moving.transport_for(conn, state.device.device_id, state.folder)


def _require_member(session: Session) -> engine.State:
    if not session.active:
        raise SafecaseError("The store is locked. Sign in again to go on.")
    return engine.load(session.conn)


def create_team(session: Session, folder: Path) -> str:
    """Make this store the first laptop of a new team sharing ``folder``; returns the team id.
    The directory (version 1) lists this store's users and this device, signed by it; every
    record the store holds gets the operations that carry it (one transaction), so each
    laptop that joins receives the cases allocated to it by syncing."""
    session.require(Role.ADMIN)
    if engine.joined(session.conn):
        raise AlreadyInTeam()
    transport = _transport(str(folder))
    transport.prepare()
    with transaction(session.conn):
        team_id, _device = _found(session, str(folder))
    return team_id


def _found(session: Session, folder: str) -> tuple[str, str]:
    """The new team's directory, reference tag and first operations, audited (call inside a
    transaction, as an admin); returns the team id and this device's id."""
    conn = session.conn
    team_id, device_id = engine.found_team(conn, session.user_id, folder, session.now())
    ops.set_reference_tag(conn, _next_tag(conn))
    # What the store held before the team travels too: a joining laptop syncs its cases.
    ops.emit_existing(conn, session.user_id, session.now())
    audit.record(conn, session.user_id, TEAM_CREATED, f"device:{device_id}")
    return team_id, device_id


def invite(
    session: Session, username: str, out_file: Path, *, params: Argon2Params | None = None
) -> str:
    """Write a one-time invitation for ``username`` (an account of this store) to
    ``out_file``; returns the passphrase, to be read out to them, once."""
    session.require(Role.ADMIN)
    conn = session.conn
    state = _require_member(session)
    user = user_model.by_name(conn, username)
    if user is None or user.disabled:
        raise InvalidInput("There is no such user in this store; add them first.")
    if not state.directory.is_admin_device(state.device.device_id):
        raise SafecaseError("Only an admin's laptop in the team directory can invite.")
    revocation.signing_state(conn)  # the one laptop that counts reference tags
    entry = engine.directory_user(conn, user.id)
    with transaction(conn):
        tag = _next_tag(conn)
    where: dict[str, object] = {"folder": state.folder}
    setting = moving.server_setting(conn)
    if setting is not None and setting.state == moving.MOVED:
        where = _server_login(state, setting)
    address = json.dumps(
        {
            **where,
            "username": entry.username,
            "roles": sorted(entry.roles),
            "service": accounts.service_name(session),
            "tag": tag,
        },
        sort_keys=True,
    )
    issued = make_invitation(
        state.team_id,
        address,
        state.device,
        session.moment(),
        admin_user=engine.directory_user(conn, session.user_id).id,
        user=entry.id,
        **({"params": params} if params is not None else {}),
    )
    with transaction(conn):
        if state.directory.user(entry.id) != entry:
            directory = state.directory.with_user(entry)
            engine.adopt(
                conn, state, directory, sign_directory(directory, state.device), session.now()
            )
        state.desk.issue(issued.invitation)
        engine.save(conn, state)
        atomic_write(out_file, issued.file)
        audit.record(conn, session.user_id, TEAM_INVITED, f"user:{user.id}")
    return issued.passphrase


def _server_login(state: engine.State, setting: moving.ServerSetting) -> dict[str, object]:
    """For an invitation to a team on its server: the server (address and pinned certificate)
    and the new laptop's login there, made now: its device id and a random password. The
    invitation is encrypted under its read-out passphrase, so the login travels sealed."""
    from app.sync.server import PostgresTransport, new_device_password

    device, password = new_gid(), new_device_password()
    with PostgresTransport(setting.address, state.device.device_id, setting.password) as server:
        server.add_device(device, password)
    return {
        "folder": "",
        moving.NOTICE: moving.notice(setting.address, password),
        "device": device,
    }


def join(
    invitation_file: Path,
    passphrase: str,
    store: Path,
    password: str,
    *,
    device: DeviceSecrets | None,
    kdf: Argon2Params | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> tuple[Session, str]:
    """A new laptop: a new store for the invited user (as ``safecase init`` makes one, but for
    them, with their password), its device keys, and its enrolment request published to the
    team's folder (kept to publish on the next sync if the folder cannot be reached now).
    Returns the session and the new store's recovery key, to show once."""
    try:
        data = invitation_file.read_bytes()
    except OSError:
        raise InvalidInput("The invitation file cannot be read.") from None
    invitation = read_invitation(data, passphrase, now())
    try:
        address = json.loads(invitation.transport)
        folder, username = str(address.get("folder") or ""), str(address["username"])
        server = address.get(moving.NOTICE)
        device_id = str(address["device"]) if server else new_gid()
        roles = frozenset(Role(r) for r in address["roles"])
        service = str(address.get("service") or "Safecase")
        tag = str(address["tag"])
        if not tag.isascii() or not tag.isalpha() or not tag.isupper() or len(tag) > 3:
            raise ValueError(tag)
    except (ValueError, KeyError, TypeError):
        raise InvitationRefused(
            "The invitation file is damaged; ask your admin for a new one."
        ) from None
    session, recovery = accounts.create_store(
        store, service_name=service, admin_name=username, password=password, device=device, kdf=kdf
    )
    try:
        conn = session.conn
        keys = DeviceKeys.generate(device_id)
        request = make_enrolment_request(invitation, keys, now())
        with transaction(conn):
            conn.execute(
                "UPDATE users SET gid = ?, roles = ? WHERE id = ?",
                (invitation.user, user_model.encode_roles(roles), session.user_id),
            )
            engine.create(
                conn,
                team_id=invitation.team,
                device=keys,
                directory=invitation.pinned_directory(),
                signed_dir=None,
                folder=folder,
            )
            ops.set_reference_tag(conn, tag)
            if server:
                pinned, admin = invitation.pinned_directory(), invitation.admin.id
                refused = moving.take_notice(conn, pinned, admin, "", server, session.now())
                if refused:
                    raise InvitationRefused(
                        "The invitation file is damaged; ask your admin for a new one."
                    )
                conn.execute("UPDATE team_server SET state = ? WHERE id = 1", (moving.MOVED,))
            conn.execute("INSERT INTO team_outgoing (seq, data) VALUES (0, ?)", (request,))
            audit.record(conn, session.user_id, TEAM_JOINED, f"device:{keys.device_id}")
        session.roles = roles
        # Unreachable now: the request waits in the store and goes with the first sync.
        state = engine.load(conn)
        transport = transport_of(conn, state)
        try:
            with contextlib.suppress(TransportUnavailable):
                engine.publish(conn, state, transport)
        finally:
            moving.close(transport)
    except BaseException:
        accounts.sign_out_after_error(session)
        raise
    return session, recovery


def sync(session: Session, progress: engine.Progress | None = None) -> SyncReport:
    """One sync through the team's folder (see app/sync/engine.py); audited with its counts
    when anything came or went."""
    session.require(*Role)
    state = _require_member(session)
    transport = transport_of(session.conn, state)
    try:
        revocation.obey_order(session.vault, state, session.now, transport)  # a revoked one ends
        report = engine.sync(session.conn, session.user_id, session.now(), transport, progress)
        revocation.post_orders(session.conn, session.user_id, session.now(), transport)
        revocation.check_receipts(session.conn, session.user_id, session.now(), transport)
    finally:
        moving.close(transport)
    setting = moving.server_setting(session.conn)
    if setting is not None and setting.state == moving.MOVING:
        report = _move(session, state, setting, report, progress)
    if not (report.received or report.sent or report.rejected or report.destroyed):
        return report  # a sync with nothing new leaves no entry (the app syncs every few minutes)
    with transaction(session.conn):
        audit.record(
            session.conn,
            session.user_id,
            TEAM_SYNCED,
            f"device:{state.device.device_id}",
            f"received={report.received} applied={report.applied} sent={report.sent} "
            f"rejected={report.rejected} destroyed={report.destroyed}",
        )
    return report


def _move(
    session: Session,
    state: engine.State,
    setting: moving.ServerSetting,
    report: SyncReport,
    progress: engine.Progress | None,
) -> SyncReport:
    """The admin moved the team to its server (the notice came with this sync): copy this
    laptop's own envelopes from the folder to the server, then sync through the server (and
    the old folder, for what was published there late)."""
    from app.sync.server import PostgresTransport

    conn, me = session.conn, state.device.device_id
    with PostgresTransport(setting.address, me, setting.password) as server, transaction(conn):
        copied = moving.move_own(conn, me, _transport(state.folder), server)
        audit.record(
            conn, session.user_id, TEAM_MOVED, f"device:{me}", f"envelopes_copied={copied}"
        )
    transport = transport_of(conn, state)
    try:
        more = engine.sync(conn, session.user_id, session.now(), transport, progress)
    finally:
        moving.close(transport)
    for name in ("received", "applied", "sent", "rejected", "enrolled", "destroyed"):
        setattr(more, name, getattr(more, name) + getattr(report, name))
    more.problems[:0] = report.problems
    return more


def revoke(session: Session, device_id: str) -> None:
    """Revoke a device (admins, on the team's founding admin laptop): it is cut off after the
    last envelope this laptop accepted from it, the cases it held get new keys, and it is
    ordered to destroy its store (posted now, or at the next sync if the transport cannot be
    reached); see app/services/revocation.py."""
    session.require(Role.ADMIN)
    state = _require_member(session)
    revocation.revoke_device(session.conn, device_id, session.user_id, session.now())
    transport = transport_of(session.conn, state)  # the server then refuses the device
    try:
        revocation.post_orders(session.conn, session.user_id, session.now(), transport)
    finally:
        moving.close(transport)


def status(session: Session) -> Status:
    session.require(*Role)
    conn = session.conn
    if not engine.joined(conn):
        return Status(False, False, None, 0, 0)
    state = engine.load(conn)
    transport = transport_of(conn, state)
    try:
        reachable = transport.status().reachable
    finally:
        moving.close(transport)
    conflicts = int(
        conn.execute("SELECT count(*) FROM conflicts WHERE state = 'open'").fetchone()[0]
    )
    problems = tuple(s for _, s in engine.sync_log(conn, 20))
    return Status(
        True,
        reachable,
        state.last_sync,
        engine.waiting_to_send(conn),
        conflicts,
        problems,
        server=not isinstance(transport, FolderTransport),
    )


def devices(session: Session) -> list[DeviceLine]:
    """The team's devices as this laptop's directory lists them (admins and managers)."""
    session.require(Role.ADMIN, Role.MANAGER)
    state = _require_member(session)
    known = revocation.device_states(session.conn)
    lines = []
    for d in state.directory.devices:
        user = state.directory.user(d.user)
        seen = known.get(d.id)
        lines.append(
            DeviceLine(
                d.id,
                user.username if user else "",
                d.added,
                state.directory.revocation(d) is not None,
                d.id == state.device.device_id,
                seen.order_sent if seen else None,
                seen.confirmed if seen else None,
                seen.last_seen if seen else None,
            )
        )
    return sorted(lines, key=lambda line: (line.username, line.added))


def sync_log(session: Session, limit: int = 200) -> list[tuple[str, str]]:
    session.require(*Role)
    return engine.sync_log(session.conn, limit)
