"""A team on its PostgreSQL server: starting a team there, moving a folder team to it, and
what the app shows of it (app/sync/moving.py has how each laptop follows).

The admin's credentials for the server (``admin_dsn``: the account that ran ``safecase team
server init``, allowed to make roles) are used once, to make the login roles of the admin's
laptop and of every live device, and are kept nowhere; after that the admin's laptop makes the
login of each newly invited laptop through its own login (an admin's device may add devices to
its own team, nothing else). Every device's login password lives in its own encrypted store.
Nothing here is imported when the app or the command line starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import EXIT_USAGE, InvalidInput, SafecaseError
from app.models.db import transaction
from app.models.users import Role
from app.services import audit
from app.services import team as team_service
from app.services.session import Session
from app.sync import engine, moving
from app.sync.folder import FolderTransport
from app.sync.server import (
    BadServerAddress,
    PostgresTransport,
    ServerAddress,
    create_device_role,
    new_device_password,
    read_certificate,
)

if TYPE_CHECKING:
    import psycopg

TEAM_SERVER_CREATED = "team_created_on_server"


class CertificateNeeded(SafecaseError):
    exit_code = EXIT_USAGE
    default_message = (
        "A server reached over the network needs its certificate, to pin: give the file "
        "with --cert."
    )


class AlreadyOnServer(SafecaseError):
    default_message = "This team syncs through its server already."


@dataclass(frozen=True)
class Moved:
    """What moving the team to its server did."""

    devices: int  # login roles made (this laptop's among them)
    copied: int  # envelopes copied from the folder to the server
    held: int  # envelopes the server held already
    different: int  # envelopes the server holds differently under that number: not copied
    withdrawn: int = 0  # invitations made on the folder and not used: to be made again


@dataclass(frozen=True)
class ServerView:
    """The team's transport, as the admin's view shows it (no password)."""

    where: str
    fingerprint: str
    moved_since: str
    old_folder: str | None
    on_server: bool = True


def parse_address(text: str, certificate: Path | None = None) -> ServerAddress:
    """The server's address from a PostgreSQL DSN or URI (host, port and database; any user or
    password in it is ignored) and, over the network, its certificate file (PEM)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(text)
    except psycopg.ProgrammingError:
        raise BadServerAddress() from None
    host = str(params.get("host") or "")
    if not host or "," in host:
        raise BadServerAddress()
    pem = ""
    if not host.startswith("/"):
        if certificate is None:
            raise CertificateNeeded()
        try:
            pem = read_certificate(certificate)
        except (OSError, ValueError):
            raise InvalidInput("That certificate file is not a PEM certificate.") from None
    try:
        return ServerAddress(
            host=host,
            port=int(str(params.get("port") or 5432)),
            database=str(params.get("dbname") or "safecase"),
            tls="disable" if host.startswith("/") else "verify-full",
            certificate=pem,
        )
    except ValueError:
        raise BadServerAddress() from None


def _owner(admin_dsn: str, password: str | None) -> psycopg.Connection[Any]:
    from psycopg.conninfo import make_conninfo

    from app.sync import server

    if password:
        try:
            admin_dsn = make_conninfo(admin_dsn, password=password)
        except Exception:  # psycopg.ProgrammingError: not a DSN
            raise BadServerAddress() from None
    return server._owner_connect(admin_dsn)


def create_on_server(
    session: Session, address: ServerAddress, admin_dsn: str, admin_password: str | None = None
) -> str:
    """Make this store the first laptop of a new team syncing through ``address``; returns
    the team id. This laptop's login role is made there with ``admin_dsn`` (an admin's device:
    it may add the logins of the laptops it invites)."""
    session.require(Role.ADMIN)
    conn = session.conn
    if engine.joined(conn):
        raise team_service.AlreadyInTeam()
    password = new_device_password()
    with _owner(admin_dsn, admin_password) as owner, transaction(conn):
        team_id, device_id = team_service._found(session, "")
        create_device_role(owner, team_id, device_id, password, admin=True)
        moving.set_server(conn, address, password, moving.MOVED, session.now(), None)
        audit.record(conn, session.user_id, TEAM_SERVER_CREATED, f"device:{device_id}")
    with PostgresTransport(address, device_id, password) as server:
        engine.publish(conn, engine.load(conn), server)
    return team_id


def move_to_server(
    session: Session, address: ServerAddress, admin_dsn: str, admin_password: str | None = None
) -> Moved:
    """Move this folder team to its server (the admin's laptop): sync through the folder,
    make a login role for every live device, send each device its server login in a grant
    sealed to it alone (through the folder), copy every envelope of the folder to the server,
    and sync through the server from now on. Each laptop follows on its next sync."""
    session.require(Role.ADMIN)
    conn = session.conn
    state = team_service._require_member(session)
    me = state.device.device_id
    if not state.directory.is_admin_device(me):
        raise SafecaseError("Only an admin's laptop in the team directory can move the team.")
    if moving.server_setting(conn) is not None:
        raise AlreadyOnServer()
    team_service.sync(session)  # what this laptop holds is in the folder first
    state = engine.load(conn)
    logins: dict[str, str] = {}
    with _owner(admin_dsn, admin_password) as owner:
        for device in state.directory.live_devices():
            logins[device.id] = new_device_password()
            admin = state.directory.is_admin_device(device.id)
            create_device_role(owner, state.team_id, device.id, logins[device.id], admin=admin)
    with transaction(conn):
        # An invitation made on the folder carries no server login: it is withdrawn (its
        # request, if it comes, answers no invitation), and the admin invites again.
        open_ones = [i for i in state.desk.invitations if i not in state.desk.used]
        for invitation in open_ones:
            del state.desk.invitations[invitation]
        for device_id, password in sorted(logins.items()):
            if device_id != me:
                body = {"keys": [], moving.NOTICE: moving.notice(address, password)}
                engine.seal_grant(conn, state, device_id, body)
        engine.save(conn, state)
    folder = FolderTransport(state.folder)
    engine.publish(conn, state, folder)  # the notices, for the laptops still on the folder
    with PostgresTransport(address, me, logins[me]) as server:
        report = server.import_from(folder)
    with transaction(conn):
        moving.set_server(conn, address, logins[me], moving.MOVED, session.now(), state.folder)
        audit.record(
            conn,
            session.user_id,
            team_service.TEAM_MOVED,
            f"device:{me}",
            f"devices={len(logins)} copied={report.added} held={report.held} "
            f"different={report.different} withdrawn={len(open_ones)}",
        )
    return Moved(len(logins), report.added, report.held, report.different, len(open_ones))


def server_view(session: Session) -> ServerView | None:
    """Where the team syncs (admins): None for a laptop not in a team or a team on its shared
    folder (``ServerView.where`` is then the folder, and ``fingerprint`` empty)."""
    session.require(Role.ADMIN)
    if not engine.joined(session.conn):
        return None
    setting = moving.server_setting(session.conn)
    if setting is None or setting.state != moving.MOVED:
        return ServerView(engine.load(session.conn).folder, "", "", None, on_server=False)
    return ServerView(
        setting.address.describe(),
        setting.address.fingerprint,
        setting.since,
        setting.old_folder,
    )


def listener(session: Session) -> PostgresTransport | None:
    """A transport of its own for the app's wake-up thread (``wait``), or None for a team on
    its shared folder; the caller closes it."""
    session.require(*Role)
    if not engine.joined(session.conn):
        return None
    setting = moving.server_setting(session.conn)
    if setting is None or setting.state != moving.MOVED:
        return None
    device = engine.load(session.conn).device.device_id
    return PostgresTransport(setting.address, device, setting.password, pool_size=1)
