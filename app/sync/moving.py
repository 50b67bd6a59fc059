"""Which transport a team's laptop syncs through, and a team moving from its folder to a server.

A team starts on its shared folder (``FolderTransport``) or on a PostgreSQL server
(``PostgresTransport``, app/sync/server.py). Which one is a setting of the team held in the
encrypted store (schema step ``_v12_server``: the server's address with its pinned certificate,
and this device's login password there); nothing about the server is written anywhere else.

Moving a folder team (app/services/team_server.py, on the admin's laptop): the admin makes a
login role for every live device, copies every envelope of the folder to the server, and sends
each device its server address and password in a grant envelope sealed to that device alone
(``NOTICE`` in the grant's body; signed by the admin's device like every envelope). Each laptop
then, on its next folder sync:

1. takes the notice (``take_notice``: only from an admin's device of the directory it trusts)
   and records the server as ``moving``;
2. copies to the server every envelope of its own in the folder (``move_own``): it may have
   published there after the admin's copy; the server keeps what it holds already;
3. syncs through the server from then on, and still reads the old folder after the server
   (``ServerAndOldFolder``) for what a laptop that has not moved yet published there late,
   so nothing is lost whichever laptop moves first. What it publishes goes to the server only.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.crypto.connection import Connection
from app.sync.folder import FolderTransport
from app.sync.server import PostgresTransport, ServerAddress
from app.sync.transport import (
    Incoming,
    ProblemSink,
    Transport,
    TransportStatus,
    TransportUnavailable,
)

if TYPE_CHECKING:
    from app.crypto.team import Directory

NOTICE = "server"
MOVING, MOVED = "moving", "moved"


@dataclass(frozen=True)
class ServerSetting:
    """The team's server as this laptop keeps it."""

    address: ServerAddress
    password: str = field(repr=False)
    state: str
    since: str
    old_folder: str | None


def server_setting(conn: Connection) -> ServerSetting | None:
    row = conn.execute(
        "SELECT address, password, state, since, old_folder FROM team_server WHERE id = 1"
    ).fetchone()
    if row is None:
        return None
    return ServerSetting(
        ServerAddress.from_json(json.loads(str(row[0]))),
        str(row[1]),
        str(row[2]),
        str(row[3]),
        None if row[4] is None else str(row[4]),
    )


def set_server(
    conn: Connection,
    address: ServerAddress,
    password: str,
    state: str,
    now: str,
    old_folder: str | None,
) -> None:
    """Keep the team's server (call inside a transaction)."""
    conn.execute(
        "INSERT OR REPLACE INTO team_server (id, address, password, state, since, old_folder) "
        "VALUES (1, ?, ?, ?, ?, ?)",
        (json.dumps(address.to_json(), sort_keys=True), password, state, now, old_folder or None),
    )


def notice(address: ServerAddress, password: str) -> dict[str, object]:
    """What a grant envelope carries to move a device to the server."""
    return {"address": address.to_json(), "password": password}


def take_notice(
    conn: Connection,
    directory: Directory,
    sender: str,
    folder: str,
    body: Mapping[str, Any],
    now: str,
) -> str | None:
    """Record the server a notice names (``moving``); a sentence for the sync log if it is
    refused. A laptop already on a server keeps it; a new password for it is taken."""
    if not directory.is_admin_device(sender):
        return (
            "A notice to move to a team server came from a device that is not an admin's; "
            "it was ignored."
        )
    try:
        address = ServerAddress.from_json(body["address"])
        password = str(body["password"])
    except (KeyError, TypeError, ValueError):
        return "A notice to move to a team server could not be read; it was ignored."
    held = server_setting(conn)
    if held is not None and held.address == address:
        set_server(conn, address, password, held.state, held.since, held.old_folder)
    elif held is None:
        set_server(conn, address, password, MOVING, now, folder)
    return None


def transport_for(conn: Connection, device: str, folder: str) -> Transport:
    """The transport this laptop syncs through now."""
    setting = server_setting(conn)
    if setting is None or setting.state != MOVED:
        return FolderTransport(folder)
    server = PostgresTransport(setting.address, device, setting.password)
    if setting.old_folder:
        return ServerAndOldFolder(server, FolderTransport(setting.old_folder))
    return server


def close(transport: Transport) -> None:
    """Close a transport's connections, if it holds any."""
    closer = getattr(transport, "close", None)
    if closer is not None:
        closer()


class _Everything(Set[int]):
    def __contains__(self, item: object) -> bool:
        return True

    def __iter__(self) -> Iterator[int]:
        return iter(())

    def __len__(self) -> int:
        return 0


class _OnlyFrom(Mapping[str, Set[int]]):
    """``have`` for a transport's ``incoming``: every number of every device but one."""

    def __init__(self, device: str) -> None:
        self.device = device

    def __getitem__(self, sender: str) -> Set[int]:
        return frozenset() if sender == self.device else _Everything()

    def __iter__(self) -> Iterator[str]:
        return iter((self.device,))

    def __len__(self) -> int:
        return 1


def move_own(conn: Connection, device: str, folder: FolderTransport, server: Transport) -> int:
    """Copy every envelope of this device's in the folder to the server (the same bytes under
    the same numbers: the server keeps what it holds), then sync through the server. Returns
    how many envelopes were copied or found there."""
    copied = 0
    for inc in folder.incoming(_OnlyFrom(device)):
        if inc.sender == device:
            server.publish(device, inc.seq, inc.data)
            copied += 1
    conn.execute("UPDATE team_server SET state = ? WHERE id = 1", (MOVED,))
    return copied


@dataclass
class ServerAndOldFolder:
    """The server, and after it the old folder, read for what was published there late;
    everything else goes to the server alone."""

    server: PostgresTransport
    folder: FolderTransport

    def publish(self, sender: str, seq: int, data: bytes) -> None:
        self.server.publish(sender, seq, data)

    def incoming(
        self, have: Mapping[str, Set[int]], *, problems: ProblemSink | None = None
    ) -> Iterator[Incoming]:
        got: dict[str, set[int]] = {}
        for inc in self.server.incoming(have, problems=problems):
            got.setdefault(inc.sender, set()).add(inc.seq)
            yield inc
        held = {s: set(have.get(s, ())) | got.get(s, set()) for s in {*have, *got}}
        # The old folder may be gone (unmounted, emptied by IT): the server is what counts.
        with contextlib.suppress(TransportUnavailable):
            yield from self.folder.incoming(held, problems=problems)

    def status(self) -> TransportStatus:
        return self.server.status()

    def compact(self, scopes: Set[str]) -> int:
        deleted = self.server.compact(scopes)
        with contextlib.suppress(TransportUnavailable):
            deleted += self.folder.compact(scopes)
        return deleted

    def post_order(self, device: str, data: bytes) -> None:
        self.server.post_order(device, data)

    def order_for(self, device: str) -> bytes | None:
        return self.server.order_for(device)

    def post_receipt(self, device: str, data: bytes) -> None:
        self.server.post_receipt(device, data)

    def receipt_for(self, device: str) -> bytes | None:
        return self.server.receipt_for(device)

    def refuse_device(self, device: str) -> None:
        self.server.refuse_device(device)

    def close(self) -> None:
        self.server.close()
