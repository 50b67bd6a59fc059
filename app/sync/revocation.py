"""Revocation across the team (core only, no Qt): the signed order that tells a revoked laptop
to destroy its store, that laptop's signed receipt, who may pass on which key, which keys a
revocation makes stale, and when each device was last heard from (``last_seen``).

Order to destroy a store: ``SCORD1`` | body | signed directory | signer device id | Ed25519
signature over everything before it (framing as in app/crypto/team.py). The body is canonical
JSON: kind ``destroy_store``, the team, the device ordered, when, and the version of the
directory that revokes it; that signed directory travels inside the order, so the order proves
itself. A laptop obeys an order only if it is for its team and for its own device, signed by a
device that the directory it trusts lists as an admin's, and the directory carried (adopted
through ``accept_directory``, so signed by an admin it trusts and newer than its own) or the
one it trusts already shows this device revoked (``check_order``). Anything else is refused
with one sentence for the sync log: a forged order cannot make a laptop destroy its store,
and a stolen admin laptop that is not the directory's signer cannot order a laptop that is
still in the team to destroy its store.

Receipt: ``SCRCP1`` | body | Ed25519 signature by the destroyed device's own key. The body
names kind ``store_destroyed``, the team, the device, when, and the SHA-256 of the order it
obeys. The device signs it after its store is destroyed, from the key it held in memory; the
other laptops check it against the device's key in their directory (``check_receipt``). A
receipt says what the laptop's software did: someone who copied its disk before the order came
is not stopped by it.

Only the team's founding admin laptop signs the directory and makes invitations
(``directory_signer``): reference tags are counted there, and a directory signed by two
laptops could fork.

Grants (``grant_refusal``): a key is accepted only from a device entitled to pass it on: any
key from the founding admin laptop (it held every record the team started with, and signs the
directory that gives anyone any role); a case's key from a manager's device, or from a device
of that case's caseworker (as this laptop knows the case, or, for a case it does not hold yet,
the caseworker the key was made for) and then only to a manager's device; any other scope's
key from a device of a user who may hold it, or from the device whose own stream the scope is
(``audit:<its device or user id>``), to a device of a user who may hold it. A directory
travels only from an admin's device.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.crypto.connection import Connection
from app.crypto.team import (
    DIRECTORY_MAGIC,
    DeviceKeys,
    Directory,
    DirectoryRejected,
    Malformed,
    accept_directory,
    canonical_json,
    pack,
    text,
    unpack,
    verify_signature,
)
from app.errors import SafecaseError
from app.models.users import Role

ORDER_MAGIC = b"SCORD1"
RECEIPT_MAGIC = b"SCRCP1"
DESTROY = "destroy_store"
DESTROYED = "store_destroyed"
MANAGER = Role.MANAGER.value

GRANT_REFUSED = (
    "A key was offered by a device not entitled to pass it on, or to this laptop; it was not taken."
)
DIRECTORY_REFUSED = (
    "A team directory was passed on by a device that is not an admin's; it was not taken."
)


class StoreDestroyed(SafecaseError):
    """This laptop obeyed its order: its store is gone."""

    default_message = "This laptop was removed from the team; its records have been destroyed."


class OrderRefused(SafecaseError):
    """An order to destroy this laptop's store that it does not obey; the sentence says why."""


class NotDirectorySigner(SafecaseError):
    """A team change asked of an admin's laptop that does not sign the team's directory."""


@dataclass(frozen=True)
class Order:
    team: str
    device: str
    at: str
    version: int
    signer: str
    directory: Directory


# -- who signs the directory ------------------------------------------------------------------


def directory_signer(directory: Directory, signed_dir: bytes | None) -> str:
    """The device that signs the team's directory: the signer of the directory this laptop
    holds, or, before any arrived, the inviting admin's device the invitation pinned."""
    if signed_dir is not None:
        try:
            return text(unpack(signed_dir, DIRECTORY_MAGIC, 3)[1])
        except Malformed:
            pass
    return directory.devices[0].id if directory.devices else ""


def require_directory_signer(directory: Directory, signed_dir: bytes | None, me: str) -> None:
    """Refuse (one sentence naming the laptop that can) unless this laptop signs the directory."""
    signer = directory_signer(directory, signed_dir)
    if signer != me:
        raise NotDirectorySigner(
            f"Only the team's founding admin laptop (device {signer}) can invite, revoke or "
            "disable in the team; do it on that laptop."
        )


# -- orders and receipts ----------------------------------------------------------------------


def make_order(
    *, team: str, device: str, at: str, directory: Directory, signed_dir: bytes, admin: DeviceKeys
) -> bytes:
    """The order for ``device`` to destroy its store, carrying the directory that revokes it."""
    body = canonical_json(
        {"kind": DESTROY, "team": team, "device": device, "at": at, "version": directory.version}
    )
    signer = admin.device_id.encode("utf-8")
    unsigned = pack(ORDER_MAGIC, body, signed_dir, signer)
    return pack(ORDER_MAGIC, body, signed_dir, signer, admin.sign(unsigned))


def _refused(what: str) -> OrderRefused:
    return OrderRefused(f"An order to destroy this laptop's store {what}; it was ignored.")


def check_order(data: bytes, *, team: str, me: str, trusted: Directory) -> Order:
    """The order in ``data`` if this laptop (device ``me``, trusting ``trusted``) must obey it;
    OrderRefused with the sync log's sentence otherwise."""
    try:
        body_raw, signed_dir, signer_raw, signature = unpack(data, ORDER_MAGIC, 4)
        body = json.loads(body_raw)
        signer = text(signer_raw)
        kind, version = body["kind"], body["version"]
        order_team, device, at = str(body["team"]), str(body["device"]), str(body["at"])
        if kind != DESTROY or not isinstance(version, int) or isinstance(version, bool):
            raise Malformed(truncated=False)
    except (Malformed, ValueError, KeyError, TypeError):
        raise _refused("is damaged") from None
    if order_team != team or trusted.team != team:
        raise _refused("is for another team")
    if device != me:
        raise _refused("names another device")
    admin = trusted.device(signer)
    if admin is None or not trusted.is_admin_device(signer):
        raise _refused("is not signed by an admin this laptop trusts")
    if not verify_signature(admin.signing_public, signature, data[: -(len(signature) + 4)]):
        raise _refused("has a wrong signature")
    directory = trusted
    if version > trusted.version:
        try:
            directory = accept_directory(signed_dir, trusted=trusted)
        except DirectoryRejected:
            raise _refused("carries a team directory this laptop does not trust") from None
        if directory.version != version:
            raise _refused("is damaged")
    mine = directory.device(me)
    if mine is None or directory.revocation(mine) is None:
        raise _refused("comes from a team directory in which this laptop is not revoked")
    return Order(team, device, at, version, signer, directory)


def make_receipt(keys: DeviceKeys, *, team: str, order: bytes, at: str) -> bytes:
    """This device's signed word that its store was destroyed as ``order`` said."""
    body = canonical_json(
        {
            "kind": DESTROYED,
            "team": team,
            "device": keys.device_id,
            "at": at,
            "order": hashlib.sha256(order).hexdigest(),
        }
    )
    return pack(RECEIPT_MAGIC, body, keys.sign(pack(RECEIPT_MAGIC, body)))


def check_receipt(data: bytes, *, team: str, device: str, directory: Directory) -> str | None:
    """When ``device`` says it destroyed its store, if ``data`` is its genuine receipt for
    ``team`` (signed by the key ``directory`` lists for it); None otherwise."""
    listed = directory.device(device)
    try:
        body_raw, signature = unpack(data, RECEIPT_MAGIC, 2)
        body: dict[str, Any] = json.loads(body_raw)
        if listed is None or not verify_signature(
            listed.signing_public, signature, pack(RECEIPT_MAGIC, body_raw)
        ):
            return None
        if (body["kind"], body["team"], body["device"]) != (DESTROYED, team, device):
            return None
        return str(body["at"])
    except (Malformed, ValueError, KeyError, TypeError):
        return None


# -- what a new directory revokes ---------------------------------------------------------------


def newly_revoked(
    before: Directory, after: Directory, applied: dict[str, set[int]]
) -> list[tuple[str, str]]:
    """(device, sentence) for each device ``after`` cuts off and ``before`` did not: what it
    signs from now on is ignored; and, where this laptop applied envelopes from it numbered
    after its cut before it knew (``applied``: numbers held from each device), which ones."""
    lines = []
    for device in after.devices:
        cut = after.revocation(device)
        old = before.device(device.id)
        if cut is None or (old is not None and before.revocation(old) is not None):
            continue
        lines.append(
            (
                device.id,
                f"Device {device.id} was revoked in team directory version {after.version}: "
                f"envelopes it signs after number {cut[0]} are ignored on this laptop.",
            )
        )
        late = sorted(n for n in applied.get(device.id, set()) if n > cut[0])
        if late:
            numbers = ", ".join(str(n) for n in late)
            lines.append(
                (
                    device.id,
                    f"Before it learnt of that, this laptop applied envelope(s) {numbers} from "
                    f"device {device.id}; they stay applied: ask a manager to check what they "
                    "changed.",
                )
            )
    return lines


# -- keys a revocation makes stale ----------------------------------------------------------------


def stale_scopes(conn: Connection, directory: Directory) -> list[tuple[str, str | None]]:
    """(scope, for_user) of each scope whose newest key was sealed to a device the directory
    now cuts off (revoked, or of a disabled user): it needs a new key for what follows."""
    rows = conn.execute(
        "SELECT scope, for_user, holders FROM team_keys ORDER BY scope, made_at DESC, key_id DESC"
    ).fetchall()
    stale, seen = [], set()
    for scope, for_user, holders in rows:
        if scope in seen:
            continue
        seen.add(scope)
        for holder in json.loads(str(holders)):
            device = directory.device(str(holder))
            if device is not None and directory.revocation(device) is not None:
                stale.append((str(scope), None if for_user is None else str(for_user)))
                break
    return stale


# -- who may pass on a key ------------------------------------------------------------------------


def _case_worker(conn: Connection, case_gid: str) -> tuple[bool, str | None]:
    """Whether this laptop holds the case, and its allocated caseworker's global id."""
    row = conn.execute(
        "SELECT u.gid FROM cases c LEFT JOIN users u ON u.id = c.allocated_user_id WHERE c.gid = ?",
        (case_gid,),
    ).fetchone()
    return row is not None, None if row is None or row[0] is None else str(row[0])


def grant_refusal(
    conn: Connection,
    directory: Directory,
    *,
    me: str,
    sender: str,
    scope: str,
    for_user: object,
    may_hold: Iterable[str],
    signer: str,
) -> str | None:
    """None when ``sender`` may pass this laptop (device ``me``) the key of ``scope``; else the
    sync log's sentence. ``may_hold`` is who may hold a key of a scope other than a case's;
    ``signer`` the device that signs the directory (the founding admin laptop, which held
    every record the team started with and can change anyone's roles anyway)."""
    device, mine = directory.device(sender), directory.device(me)
    owner = None if device is None else directory.user(device.user)
    me_user = None if mine is None else directory.user(mine.user)
    if owner is None or me_user is None or device is None or owner.disabled:
        return GRANT_REFUSED
    if sender == signer and directory.is_admin_device(sender):
        return None
    if scope.startswith("case:"):
        if MANAGER in owner.roles:
            return None
        held, worker = _case_worker(conn, scope.partition(":")[2])
        entitled = worker == owner.id if held else for_user == owner.id
        return None if entitled and MANAGER in me_user.roles else GRANT_REFUSED
    users = set(may_hold)
    own = scope.partition(":")[2] in (device.id, owner.id)  # the sender's own stream
    return None if (owner.id in users or own) and me_user.id in users else GRANT_REFUSED


# -- last seen ------------------------------------------------------------------------------------
# Kept in ``team_seen.last_at`` (app/sync/registers.py's ``note_seen`` records each accepted
# envelope); an enrolment request accepted counts too.


def note_enrolled(conn: Connection, device: str, at: str) -> None:
    """``device``'s enrolment request was accepted at ``at``: it was heard from then."""
    conn.execute(
        "INSERT INTO team_seen (device, last_hlc, last_at) VALUES (?, NULL, ?) "
        "ON CONFLICT (device) DO UPDATE SET last_at = max(last_at, excluded.last_at)",
        (device, at),
    )


def last_seen(conn: Connection) -> dict[str, str]:
    """The newest time this laptop accepted an envelope from each device, by device id."""
    rows = conn.execute("SELECT device, last_at FROM team_seen").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}
