"""Revoking a device or disabling a user across the team, and the lost laptop's end.

On the team's founding admin laptop (the one that signs the directory; ``signing_state``
refuses any other with one sentence naming it) an admin revokes a device (``team.revoke``
calls ``revoke_device``) or disables a user (``accounts.set_disabled`` calls
``disable_in_team`` in its own transaction): a new directory version, signed there, cuts each
device off after the last envelope this laptop accepted from it and travels with the next sync;
for each device a signed order to destroy its store is kept and posted to the transport, which
is also told to refuse the device (``post_orders``: at once, and again at each sync until it
went).

Every sync first reads the order left for this laptop (``obey_order``). A valid one makes the
laptop destroy its store: every case and person destroyed as a purge does, the team's keys and
this device's keys deleted, then the store's files overwritten and deleted and this install's
device secret taken out of the keyring (``Vault.destroy``); a signed receipt is posted and
``StoreDestroyed`` (one sentence) ends the sync. A refused order is logged in the sync log and
the sync goes on. After each sync a laptop reads the receipts of revoked devices it has not
seen confirmed (``check_receipts``) and audits each one found. ``device_states`` gives the
Devices page each device's revocation state and last seen.

The device secret is one per install: another store on the same computer then opens only with
its recovery key. Backups the laptop's user wrote elsewhere, and copies taken of its disk
before the order came, are beyond an order's reach.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from app.crypto.connection import Connection
from app.crypto.team import Directory, sign_directory
from app.crypto.vault import Vault
from app.errors import InvalidInput
from app.models import retention as retention_model
from app.models.db import transaction
from app.services import audit
from app.sync import engine, revocation
from app.sync.revocation import StoreDestroyed
from app.sync.transport import Transport, TransportUnavailable

DEVICE_REVOKED = "team_device_revoked"
ORDER_POSTED = "team_destroy_order_posted"
DEVICE_DESTROYED = "team_device_destroyed"

__all__ = [
    "DeviceState",
    "StoreDestroyed",
    "check_receipts",
    "device_states",
    "disable_in_team",
    "obey_order",
    "post_orders",
    "revoke_device",
    "signing_state",
]


@dataclass(frozen=True)
class DeviceState:
    """What this laptop knows of one device's revocation and when it last heard from it."""

    revoked_at: str | None
    order_sent: str | None
    confirmed: str | None
    last_seen: str | None


def signing_state(conn: Connection) -> engine.State:
    """This laptop's team state, if it signs the team's directory; NotDirectorySigner (one
    sentence naming the laptop that does) otherwise, before anything changes."""
    state = engine.load(conn)
    revocation.require_directory_signer(state.directory, state.signed_dir, state.device.device_id)
    return state


def _cut_off(
    conn: Connection,
    state: engine.State,
    directory: Directory,
    devices: list[str],
    user_id: int,
    now: str,
) -> None:
    """Adopt ``directory`` (signed here), keep an order for each of ``devices`` and audit
    each; call inside a transaction."""
    signed = sign_directory(directory, state.device)
    engine.adopt(conn, state, directory, signed, now)
    for device in devices:
        order = revocation.make_order(
            team=state.team_id,
            device=device,
            at=now,
            directory=directory,
            signed_dir=signed,
            admin=state.device,
        )
        conn.execute(
            "INSERT INTO team_revocations (device_id, revoked_at, version, order_data) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET "
            "revoked_at = excluded.revoked_at, version = excluded.version, "
            "order_data = excluded.order_data, order_sent = NULL",
            (device, now, directory.version, order),
        )
        audit.record(conn, user_id, DEVICE_REVOKED, f"device:{device}", at=now)
    engine.save(conn, state)


def revoke_device(conn: Connection, device_id: str, user_id: int, now: str) -> None:
    """Revoke ``device_id`` on the laptop that signs the team's directory (the caller checked
    the admin role): what it signs after the last envelope this laptop accepted from it is
    ignored everywhere, and an order to destroy its store waits to be posted."""
    state = signing_state(conn)
    device = state.directory.device(device_id)
    if device is None:
        raise InvalidInput("There is no device with that id in the team.")
    if device_id == state.device.device_id:
        raise InvalidInput("This laptop cannot revoke itself.")
    if device.revoked:
        raise InvalidInput("That device is revoked already.")
    directory = state.directory.with_device_revoked(
        device_id, last=state.guard.last_from(device_id), at=now
    )
    with transaction(conn):
        _cut_off(conn, state, directory, [device_id], user_id, now)


def disable_in_team(
    conn: Connection, state: engine.State, disabled: int, user_id: int, now: str
) -> None:
    """The store's user ``disabled``, just disabled here, disabled in the team's directory
    too, each of their devices cut off with an order waiting to be posted. Call inside the
    transaction that disables them, with ``signing_state``'s state."""
    entry = engine.directory_user(conn, disabled)
    listed = state.directory.user(entry.id)
    if listed is None or listed.disabled:
        return
    devices = [d.id for d in state.directory.live_devices([entry.id])]
    directory = state.directory.with_user_disabled(
        entry.id, last={d: state.guard.last_from(d) for d in devices}, at=now
    )
    _cut_off(conn, state, directory, devices, user_id, now)


def post_orders(conn: Connection, user_id: int, now: str, transport: Transport) -> int:
    """Post each order not yet posted, and have the transport refuse its device; a transport
    that cannot be reached now is tried again at the next sync. Returns how many went."""
    rows = conn.execute(
        "SELECT device_id, order_data FROM team_revocations "
        "WHERE order_data IS NOT NULL AND order_sent IS NULL ORDER BY device_id"
    ).fetchall()
    sent = 0
    for device, order in rows:
        try:
            transport.refuse_device(str(device))
            transport.post_order(str(device), bytes(order))
        except TransportUnavailable:
            break
        with transaction(conn):
            conn.execute(
                "UPDATE team_revocations SET order_sent = ? WHERE device_id = ?", (now, device)
            )
            audit.record(conn, user_id, ORDER_POSTED, f"device:{device}", at=now)
        sent += 1
    return sent


def check_receipts(conn: Connection, user_id: int, now: str, transport: Transport) -> int:
    """Read the receipt of each revoked device not yet seen confirmed; audit each genuine one
    ("device X confirmed its store destroyed"). Returns how many were new."""
    row = conn.execute("SELECT team_id, device_id, directory FROM team WHERE id = 1").fetchone()
    team, me, directory = str(row[0]), str(row[1]), Directory.from_body(bytes(row[2]))
    done = {
        str(r[0])
        for r in conn.execute(
            "SELECT device_id FROM team_revocations WHERE confirmed IS NOT NULL"
        ).fetchall()
    }
    found = 0
    for device in directory.devices:
        if device.id in done or device.id == me or directory.revocation(device) is None:
            continue
        data = transport.receipt_for(device.id)
        at = None
        if data is not None:
            at = revocation.check_receipt(data, team=team, device=device.id, directory=directory)
        if at is None:
            continue
        with transaction(conn):
            conn.execute(
                "INSERT INTO team_revocations (device_id, revoked_at, version, confirmed) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET confirmed = ?",
                (device.id, device.revoked_at or at, directory.version, at, at),
            )
            audit.record(
                conn, user_id, DEVICE_DESTROYED, f"device:{device.id}", "store destroyed", at=now
            )
        found += 1
    return found


def obey_order(
    vault: Vault, state: engine.State, now: Callable[[], str], transport: Transport
) -> None:
    """Read the order left for this laptop (``state``); a valid one destroys its store
    (``vault``) and raises StoreDestroyed. A refused one is logged in the sync log, and the
    sync goes on."""
    conn = vault.conn
    data = transport.order_for(state.device.device_id)
    if data is None:
        return
    try:
        revocation.check_order(
            data, team=state.team_id, me=state.device.device_id, trusted=state.directory
        )
    except revocation.OrderRefused as exc:
        with transaction(conn):
            engine.log(conn, now(), str(exc), None, None)
        return
    keys, team = state.device, state.team_id
    _destroy_everything(conn)
    vault.destroy()
    receipt = revocation.make_receipt(keys, team=team, order=data, at=now())
    with contextlib.suppress(TransportUnavailable):
        transport.post_receipt(keys.device_id, receipt)
    raise StoreDestroyed()


def _destroy_everything(conn: Connection) -> None:
    """Every case and person destroyed as a purge does, and the team's and this device's keys
    deleted, before the store's files go."""
    with transaction(conn):
        for (case_id,) in conn.execute("SELECT id FROM cases").fetchall():
            retention_model.destroy_case(conn, int(case_id))
        people = [int(r[0]) for r in conn.execute("SELECT id FROM people").fetchall()]
        retention_model.delete_people(conn, people)
        for table in ("team_keys", "team_pending", "team_outgoing", "team"):
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        retention_model.optimize_index(conn)
    retention_model.checkpoint(conn)


def device_states(conn: Connection) -> dict[str, DeviceState]:
    """Each device's revocation state and last seen, as this laptop knows them, by device id
    (the caller checked the role)."""
    seen = revocation.last_seen(conn)
    rows = conn.execute(
        "SELECT device_id, revoked_at, order_sent, confirmed FROM team_revocations"
    ).fetchall()
    known = {
        str(r[0]): DeviceState(
            str(r[1]),
            None if r[2] is None else str(r[2]),
            None if r[3] is None else str(r[3]),
            seen.get(str(r[0])),
        )
        for r in rows
    }
    for device, at in seen.items():
        known.setdefault(device, DeviceState(None, None, None, at))
    return known
