"""Crypto-shredding that holds against device keys too: grant envelopes only their recipient's
key opens, and device encryption keys that rotate after a purge (core only, no Qt).

Why. A team purge destroys a case's keys in every laptop's ``team_keys``, but those keys
reached each laptop inside grant envelopes, sealed to the laptop's X25519 device key. Were that
key to live for ever, someone holding a live laptop's store and a copy of the folder or server
taken before compaction (or any backup of it) could open the old grant again, take the purged
case's key out of it and read the case. So the device key has to go too.

Grant envelopes (sealed by ``grant_key``, opened by ``opening_key``). Each grant envelope has
its own key, from an ephemeral X25519 agreement with the recipient's present device key
(HKDF-SHA256, salted with both public keys, the sender and the recipient bound in). The key id
names it: ``grant:<recipient>#<sender>.<fingerprint>.<ephemeral public key, hex>``; the
fingerprint (first 8 bytes of SHA-256, hex) says which of the recipient's keys it was sealed
to. The sender forgets the ephemeral key at once; it keeps the envelope key beside the sealed,
unpublished envelope (``team_outgoing.grant_key``, so a crash or a put-back store sends the
same bytes) and drops it with the row on publishing. So only the recipient's private key opens
a grant, and once that key is destroyed nobody's does: no static-static secret is left for the
sender's side to rebuild. Grant envelopes of the former kind (``grant:<recipient>#<sender>``,
static-static) are still read with the present keys of both ends, so none opens once either
has rotated. The case keys inside are still each sealed to the recipient's key
(app/crypto/team.py).

Rotation (``rotate_if_due``, after each sync's purges are carried out). A laptop makes a new
X25519 key when a team purge was carried out (or ordered) on it since its last rotation, when
it destroyed a case re-allocated away from its user, or when its key is older than
``ROTATE_EVERY_DAYS``. (A laptop that joins a team with purges behind it reads their orders
and so rotates once soon after joining.) The founding admin laptop, which signs the directory,
lists its own new key at once (``Directory.with_encryption_key``). Any other laptop keeps the
new key ``pending`` and announces it in a grant envelope to that admin laptop (``{"rekey":
<public key>}``; the envelope's Ed25519 signature by the device is the proof), which lists it
in a new signed directory that travels to everyone as usual. When a laptop adopts a directory
listing its pending key (``adopted``), that key becomes its device key and the old one is
``retired``. The pending key opens grants too: the directory naming it comes sealed to it.

When the old key is destroyed (``destroy_retired``). A retired key is destroyed right after the
first complete read that follows its retirement (every envelope the transport holds offered,
every grant sealed to it opened), and the store's log is checkpointed. A laptop that retired
its key while reading destroys it at the end of that read; the admin laptop, which retires its
own key after reading, at its next read. We chose this over waiting until every live laptop
has sent something under the new key: that rule lets one laptop left in a drawer keep every
other laptop's old key alive, and it still needs the fallback below (a store put back from an
old copy seals to old keys again).

The fallback. A grant sealed to a key this laptop has destroyed (its sender sealed it before
it adopted the new directory) is logged (``lost_grant``), and this laptop asks that sender, in
its next grant envelope to it, to send its keys again (``{"resend": <the directory version
this laptop holds>}``). The sender, once it holds a directory at least that new (so it seals
to a key the asker still has), forgets that the asker holds any of its keys (``take_resend``);
the ordinary grant step then seals to it again every key it may hold (and the directory, from
the admin laptop), with the answer (``{"resent": true}``). A request goes again whenever the
key it was sealed to is replaced, until answered, and so does the announcement of a pending
key whenever the signer's key is replaced: either may have been destroyed unread.

Cost. A rotation re-sends no keys (each laptop's keys are in its own ``team_keys``): one
envelope to the admin laptop and one directory version, which travels in the grant envelopes
the admin laptop sends anyway. Keys are re-sent only when a grant crossed a rotation, and then
only between that pair of laptops: one X25519 agreement and a small JSON entry per key the
sender holds that the asker may hold (a manager's laptop with 20,000 case keys: some 20,000
agreements, a second or two, and one envelope of a few megabytes). Each grant envelope costs
one more X25519 agreement at each end.

What stays readable by whom. After a purge and two rounds of syncing by every laptop, no key
held anywhere (``team_keys``, device keys, retired keys, the keyring's device secrets) opens
the purged case's envelopes or any grant that carried its key. A laptop that has not synced
since still holds its old key (and the case, if it held it); the purge certificate names each
laptop whose device key the directory has not replaced since the purge (``rotated_since``).
Not covered: a copy of a laptop's own store taken before the purge holds the case itself and
the old key; and a team must run this version on every laptop at once (a laptop of an older
version cannot open the new grant envelopes).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import replace
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from app.crypto.connection import Connection
from app.crypto.envelopes import EnvelopeRejected, Skipped, _parse
from app.crypto.kdf import hkdf
from app.crypto.team import KEY_BYTES, DeviceKeys, Directory, sign_directory
from app.models import settings as settings_model
from app.sync import revocation

if TYPE_CHECKING:
    from app.sync.engine import State

ROTATE_EVERY_DAYS = 90
ROTATED_PURGES = "sync.rotated_purges"
ROTATED_AT = "sync.device_key_at"
ROTATE_AGAIN = "sync.device_key_due"
GRANT = "grant"
LOST_GRANT = (
    "A key grant was sealed to a key this laptop has since destroyed; the device that sent it "
    "was asked to send its keys again."
)


def fingerprint(public: bytes) -> str:
    """Which X25519 key: the first 8 bytes of its SHA-256, in hex."""
    return hashlib.sha256(public).hexdigest()[:16]


def _public(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes_raw()


def _envelope_key(shared: bytes, ephemeral: bytes, recipient: bytes, sender: str, to: str) -> bytes:
    info = f"safecase grant envelope v2|{sender}|{to}".encode()
    return hkdf(shared, salt=ephemeral + recipient, info=info)


# -- grant envelopes --------------------------------------------------------------------------


def grant_key(directory: Directory, sender: str, recipient: str) -> tuple[str, bytes]:
    """The key id and key of a new grant envelope from ``sender`` to ``recipient``: only the
    recipient's present X25519 key opens it."""
    device = directory.device(recipient)
    if device is None:
        raise KeyError(recipient)
    ephemeral = X25519PrivateKey.generate()
    eph = _public(ephemeral)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(device.encryption_public))
    key = _envelope_key(shared, eph, device.encryption_public, sender, recipient)
    fp = fingerprint(device.encryption_public)
    return f"{GRANT}:{recipient}#{sender}.{fp}.{eph.hex()}", key


def _parts(key_id: str) -> tuple[str, str, str, bytes] | None:
    """(recipient, sender, fingerprint, ephemeral public key) of a grant key id of this kind."""
    scope, _, rest = key_id.rpartition("#")
    sender, _, tail = rest.partition(".")
    fp, _, eph_hex = tail.partition(".")
    if not scope.startswith(f"{GRANT}:") or not fp or not eph_hex:
        return None
    try:
        eph = bytes.fromhex(eph_hex)
    except ValueError:
        return None
    if len(eph) != KEY_BYTES:
        return None
    return scope.partition(":")[2], sender, fp, eph


def my_keys(conn: Connection, device: DeviceKeys) -> dict[str, X25519PrivateKey]:
    """This laptop's X25519 private keys still held, by fingerprint: its device key, any
    retired key not yet destroyed, and a pending one (the directory that lists it comes in a
    grant sealed to it)."""
    found = {fingerprint(device.encryption_public): device.encryption}
    rows = conn.execute("SELECT private FROM team_device_keys WHERE private IS NOT NULL").fetchall()
    for (raw,) in rows:
        private = X25519PrivateKey.from_private_bytes(bytes(raw))
        found[fingerprint(_public(private))] = private
    return found


def opening_key(conn: Connection, device: DeviceKeys, data: bytes) -> dict[str, bytes]:
    """The key of ``data`` by its key id, if it is a grant envelope of the present kind to this
    laptop sealed to a key it still holds; else nothing (the envelope is then read as before)."""
    try:
        key_id = _parse(data).key_id
    except EnvelopeRejected:
        return {}
    parts = _parts(key_id)
    if parts is None or parts[0] != device.device_id:
        return {}
    private = my_keys(conn, device).get(parts[2])
    key = None if private is None else envelope_key(private, key_id)
    return {} if key is None else {key_id: key}


def envelope_key(private: X25519PrivateKey, key_id: str) -> bytes | None:
    """The key of the grant envelope named ``key_id`` (of the present kind), as the holder of
    ``private`` derives it: right only if it is the key the grant was sealed to."""
    parts = _parts(key_id)
    if parts is None:
        return None
    recipient, sender, _, eph = parts
    shared = private.exchange(X25519PublicKey.from_public_bytes(eph))
    return _envelope_key(shared, eph, _public(private), sender, recipient)


def keep_until_published(conn: Connection, seq: int, key: bytes) -> None:
    conn.execute("UPDATE team_outgoing SET grant_key = ? WHERE seq = ?", (key, seq))


def outgoing_keys(conn: Connection) -> dict[str, bytes]:
    """The keys of grant envelopes sealed and not yet published, by key id (to seal them again
    after a put-back store's envelopes are renumbered)."""
    found = {}
    for data, key in conn.execute(
        "SELECT data, grant_key FROM team_outgoing WHERE grant_key IS NOT NULL"
    ).fetchall():
        try:
            found[_parse(bytes(data)).key_id] = bytes(key)
        except EnvelopeRejected:
            continue
    return found


def lost_grant(conn: Connection, state: State, result: Skipped) -> bool:
    """For a grant envelope to this laptop that no key it holds opens: ask its sender to send
    its keys again (``extras``). True when it was such a grant."""
    if result.scope != f"{GRANT}:{state.device.device_id}":
        return False
    _note(conn, "ask", result.sender, state.directory.version)
    return True


def _note(conn: Connection, kind: str, device: str, version: int = 0) -> None:
    conn.execute(
        "INSERT INTO team_resend (kind, device, version) VALUES (?, ?, ?) "
        "ON CONFLICT (kind, device) DO UPDATE SET version = excluded.version, sent_to = NULL",
        (kind, device, version),
    )


# -- rotation ---------------------------------------------------------------------------------


def _purges_done(conn: Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM team_purged WHERE done = 1").fetchone()[0])


def _pending(conn: Connection) -> X25519PrivateKey | None:
    row = conn.execute(
        "SELECT private FROM team_device_keys WHERE state = 'pending' ORDER BY made_at DESC"
    ).fetchone()
    return None if row is None else X25519PrivateKey.from_private_bytes(bytes(row[0]))


def _due(conn: Connection, now: str) -> bool:
    if settings_model.get(conn, ROTATE_AGAIN):
        return True
    purges = _purges_done(conn)
    if purges > int(settings_model.get(conn, ROTATED_PURGES) or 0):
        return True
    since = settings_model.get(conn, ROTATED_AT)
    if since is None:
        settings_model.put(conn, ROTATED_AT, now)
        return False
    age = _moment(now) - _moment(since)
    return age >= dt.timedelta(days=ROTATE_EVERY_DAYS)


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.rstrip("+").replace("Z", "+00:00"))


def rotate_if_due(
    conn: Connection, state: State, signer: str, now: str, *, lost_cases: bool = False
) -> bool:
    """Make a new device key if one is due (call inside a transaction, after the purges this
    sync read were carried out; ``lost_cases``: cases re-allocated away were destroyed). The
    directory's signer lists its own at once; any other laptop keeps it pending until the
    directory lists it (one more is then due if needed). True when a key was made."""
    if lost_cases:
        settings_model.put(conn, ROTATE_AGAIN, "1")
    if _pending(conn) is not None or not _due(conn, now):
        return False
    settings_model.put(conn, ROTATED_PURGES, str(_purges_done(conn)))
    settings_model.put(conn, ROTATED_AT, now)
    settings_model.put(conn, ROTATE_AGAIN, "")
    private = X25519PrivateKey.generate()
    conn.execute(
        "INSERT INTO team_device_keys (fingerprint, private, state, made_at) "
        "VALUES (?, ?, 'pending', ?)",
        (fingerprint(_public(private)), private.private_bytes_raw(), now),
    )
    me = state.device.device_id
    if signer == me and state.directory.is_admin_device(me):
        directory = state.directory.with_encryption_key(me, _public(private), at=now)
        _adopt(conn, state, directory, sign_directory(directory, state.device), now)
    return True


def adopted(conn: Connection, state: State, now: str) -> None:
    """After a directory is adopted: if it lists this laptop's pending key, that key becomes
    its device key and the one before is retired (destroyed after the next complete read)."""
    pending = _pending(conn)
    mine = state.directory.device(state.device.device_id)
    if pending is None or mine is None or mine.encryption_public != _public(pending):
        return
    old = state.device.encryption
    conn.execute(
        "UPDATE team_device_keys SET fingerprint = ?, private = ?, state = 'retired', "
        "retired_at = ? WHERE state = 'pending'",
        (fingerprint(_public(old)), old.private_bytes_raw(), now),
    )
    state.device = replace(state.device, encryption=pending)
    conn.execute("UPDATE team SET device_keys = ? WHERE id = 1", (state.device.to_bytes(),))


def destroy_retired(conn: Connection, now: str) -> int:
    """Destroy every retired key (call after a complete read); returns how many. The caller
    checkpoints the store's log when any was."""
    cur = conn.execute(
        "UPDATE team_device_keys SET private = NULL, destroyed_at = ? "
        "WHERE state = 'retired' AND private IS NOT NULL",
        (now,),
    )
    return int(cur.rowcount)


# -- what travels in grant envelopes ----------------------------------------------------------


def _fingerprint_of(directory: Directory, device_id: str) -> str:
    device = directory.device(device_id)
    return "" if device is None else fingerprint(device.encryption_public)


def extras(conn: Connection, state: State, signer: str) -> dict[str, dict[str, object]]:
    """What this laptop's next grant envelopes carry besides keys, by device: its pending key,
    for the directory's signer; its requests to send keys again (``{"resend": <the directory
    version this laptop holds>}``), and its answers to such requests (``{"resent": true}``).
    Each request and the announcement go again whenever the key they were sealed to is
    replaced (it may have been destroyed before they were read), requests until answered."""
    out: dict[str, dict[str, object]] = {}
    row = conn.execute(
        "SELECT private, announced FROM team_device_keys WHERE state = 'pending'"
    ).fetchone()
    to_signer = _fingerprint_of(state.directory, signer)
    if row is not None and signer != state.device.device_id and row[1] != to_signer:
        public = _public(X25519PrivateKey.from_private_bytes(bytes(row[0])))
        out.setdefault(signer, {})["rekey"] = base64.b64encode(public).decode("ascii")
        conn.execute(
            "UPDATE team_device_keys SET announced = ? WHERE state = 'pending'", (to_signer,)
        )
    for kind, device, version, sent_to in conn.execute(
        "SELECT kind, device, version, sent_to FROM team_resend WHERE kind != 'resend'"
    ).fetchall():
        now_to = _fingerprint_of(state.directory, str(device))
        if not now_to or sent_to == now_to:
            continue
        if kind == "ask":
            out.setdefault(str(device), {})["resend"] = max(int(version), 0)
            conn.execute(
                "UPDATE team_resend SET sent_to = ? WHERE kind = 'ask' AND device = ?",
                (now_to, device),
            )
        else:
            out.setdefault(str(device), {})["resent"] = True
            conn.execute("DELETE FROM team_resend WHERE kind = 'resent' AND device = ?", (device,))
    return out


def take(conn: Connection, state: State, sender: str, body: dict[str, object], now: str) -> bool:
    """A grant's rotation fields from ``sender``: a request to send keys again, an answer to
    this laptop's, a new key to list (on the directory's signer, from a device it still
    trusts). True if the directory changed."""
    resend = body.get("resend")
    if isinstance(resend, int) and not isinstance(resend, bool):
        _note(conn, "resend", sender, resend)
    if body.get("resent") is True:
        conn.execute("DELETE FROM team_resend WHERE kind = 'ask' AND device = ?", (sender,))
    rekey = body.get("rekey")
    me = state.device.device_id
    device = state.directory.device(sender)
    if not isinstance(rekey, str) or device is None or state.directory.revocation(device):
        return False
    if not state.directory.is_admin_device(me) or _signer(state) != me:
        return False
    try:
        public = base64.b64decode(rekey, validate=True)
    except ValueError:
        return False
    if len(public) != KEY_BYTES or public == device.encryption_public:
        return False
    directory = state.directory.with_encryption_key(sender, public, at=now)
    _adopt(conn, state, directory, sign_directory(directory, state.device), now)
    return True


def take_resend(conn: Connection, state: State) -> None:
    """Before keys are granted: each device that asked for its keys again, once this laptop
    holds a directory as new as the one it asked from (so no key goes to a key of its that
    may be destroyed), is taken off every key's holders, so the grant step seals to it again
    every key it may hold, and the directory too; the answer goes with them."""
    for device_id, version in conn.execute(
        "SELECT device, version FROM team_resend WHERE kind = 'resend'"
    ).fetchall():
        if state.directory.version < int(version):
            continue
        device = str(device_id)
        rows = conn.execute(
            "SELECT key_id, holders FROM team_keys WHERE holders LIKE ?", (f"%{device}%",)
        ).fetchall()
        conn.executemany(
            "UPDATE team_keys SET holders = ? WHERE key_id = ?",
            [
                (json.dumps([h for h in json.loads(str(h_raw)) if h != device]), key_id)
                for key_id, h_raw in rows
            ],
        )
        state.dir_sent.pop(device, None)
        conn.execute("DELETE FROM team_resend WHERE kind = 'resend' AND device = ?", (device,))
        _note(conn, "resent", device)


# -- for people to read -------------------------------------------------------------------------


def rotated_since(directory: Directory, device_id: str, when: str) -> bool:
    """Whether the directory lists a key for ``device_id`` made at or after ``when``."""
    device = directory.device(device_id)
    return device is not None and device.rekeyed is not None and device.rekeyed >= when


def _signer(state: State) -> str:
    return revocation.directory_signer(state.directory, state.signed_dir)


def _adopt(conn: Connection, state: State, directory: Directory, signed: bytes, now: str) -> None:
    from app.sync import engine  # which imports this module

    engine.adopt(conn, state, directory, signed, now)
