"""A team's keys: each device's key pairs, the signed team directory, and keys sealed to a device.

Nothing here is a cipher of our own: X25519, Ed25519, HKDF-SHA256 and ChaCha20Poly1305 all come
from ``cryptography``.

Device keys. Each laptop has an X25519 pair (keys are sealed to it) and an Ed25519 pair (it
signs what it sends). ``DeviceKeys.to_bytes()`` is meant only for the encrypted store; the raw
private bytes never appear in a ``repr``, an exception or a log line.

Framing. Every binary format in team sync is a magic (six bytes naming the format and its
version) followed by fields, each a 4-byte big-endian length and that many bytes. Parsing
refuses a field that runs past the end (truncated) and bytes left over (corrupted). Each magic
is different, so a signature over one format can never be taken for another.

Signed directory: ``SCDIR1`` | body | signer device id | Ed25519 signature over everything
before it. The body is canonical JSON (sorted keys, no spaces, ASCII): team id, version, users
(global id, username, roles, disabled) and devices (id, user, X25519 and Ed25519 public keys in
base64, added, revoked_at, last_seq, last_digest). A receiver accepts a directory only if it is
for its team, strictly newer than the one it trusts, and signed by a device that the trusted
directory lists as an admin's, not revoked, of a user not disabled (``accept_directory``). The first
trusted directory is the one pinned by the invitation: version 0, holding only the inviting
admin's device and signing key. A directory is therefore never rolled back, and no device that
the current directory does not already trust as an admin can change it. Versions arrive in
order: a laptop that missed some applies each in turn.

Revocation without trusting a clock: each device's envelopes form a hash chain (each names the
digest of the device's previous envelope, the first names ``GENESIS``; app/crypto/envelopes.py).
When an admin revokes a device, the directory records ``last_seq``, the highest envelope number
the admin had accepted from it, and ``last_digest``, that envelope's digest. Envelopes numbered
above ``last_seq`` are refused; at or below it, only those on the chain that ends in
``last_digest`` are accepted, so keys taken from a revoked laptop cannot forge an envelope "from
before" the revocation. ``revoked_at`` is only for people to read. ``revocation`` gives the cut
a receiver applies: none for a live device; for a revoked device, or any device of a disabled
user, its recorded (last_seq, last_digest), or (0, GENESIS) when none was recorded, which
refuses every envelope from it. The directory's state decides, whichever way it was made.

Disabling a user revokes each of their devices the same way (``with_user_disabled``), and
``live_devices`` leaves them out, so no new key is sealed to them (``seal_to_users``).

Sealed key (a case, register or directory key, 32 random bytes): ``SCSEA1`` | ephemeral X25519
public key | ChaCha20Poly1305 ciphertext. Key and nonce come from HKDF-SHA256 over the
ephemeral-static X25519 secret, salted with both public keys (HPKE's base mode, in spirit); the
associated data is the recipient device id and the key id, so a sealed key moved to another
device or presented as another key does not open. A sealed key says nothing of who sealed it:
it must travel inside an envelope, whose signature does, from a device entitled to grant it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import secrets
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from app.crypto.kdf import hkdf
from app.errors import SafecaseError

KEY_BYTES = 32
SIGNATURE_BYTES = 64
ADMIN_ROLE = "admin"
GENESIS = "0" * 64
"""What a device's first envelope names as its previous one's digest."""

DEVICE_MAGIC = b"SCDEV1"
DIRECTORY_MAGIC = b"SCDIR1"
SEALED_MAGIC = b"SCSEA1"


class TeamKeyError(SafecaseError):
    default_message = "A team key or file could not be read; ask your admin to check the team."


class DirectoryRejected(TeamKeyError):
    """A team directory that this laptop will not trust; the sentence says why."""


class SealedKeyRejected(TeamKeyError):
    default_message = "A key sealed for this team does not open on this laptop."


class Malformed(ValueError):
    """Bytes that do not parse; ``truncated`` when they end before their lengths say."""

    def __init__(self, truncated: bool) -> None:
        super().__init__("truncated" if truncated else "malformed")
        self.truncated = truncated


# Framing ------------------------------------------------------------------------------------


def pack(magic: bytes, *fields: bytes) -> bytes:
    return magic + b"".join(struct.pack(">I", len(f)) + f for f in fields)


def unpack(data: bytes, magic: bytes, count: int) -> list[bytes]:
    """Exactly ``count`` length-prefixed fields after ``magic``, nothing more, nothing less."""
    if len(data) < len(magic):
        raise Malformed(truncated=True)
    if data[: len(magic)] != magic:
        raise Malformed(truncated=False)
    fields: list[bytes] = []
    at = len(magic)
    for _ in range(count):
        if at + 4 > len(data):
            raise Malformed(truncated=True)
        (size,) = struct.unpack_from(">I", data, at)
        at += 4
        if at + size > len(data):
            raise Malformed(truncated=True)
        fields.append(data[at : at + size])
        at += size
    if at != len(data):
        raise Malformed(truncated=False)
    return fields


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def unb64(text: object, size: int) -> bytes:
    if not isinstance(text, str):
        raise Malformed(truncated=False)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed(truncated=False) from None
    if len(raw) != size:
        raise Malformed(truncated=False)
    return raw


def text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed(truncated=False) from None


@functools.lru_cache(maxsize=1024)
def _verifier(public: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(public)


def verify_signature(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        _verifier(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# Device keys --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceKeys:
    """One laptop's two private keys. Kept only inside the encrypted store."""

    device_id: str
    encryption: X25519PrivateKey = field(repr=False)
    signing: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls, device_id: str) -> DeviceKeys:
        return cls(device_id, X25519PrivateKey.generate(), Ed25519PrivateKey.generate())

    @property
    def encryption_public(self) -> bytes:
        return self.encryption.public_key().public_bytes_raw()

    @property
    def signing_public(self) -> bytes:
        return self.signing.public_key().public_bytes_raw()

    def sign(self, message: bytes) -> bytes:
        return self.signing.sign(message)

    def to_bytes(self) -> bytes:
        """The form kept in the encrypted store, and nowhere else."""
        return pack(
            DEVICE_MAGIC,
            self.device_id.encode("utf-8"),
            self.encryption.private_bytes_raw(),
            self.signing.private_bytes_raw(),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> DeviceKeys:
        try:
            device, enc, sig = unpack(data, DEVICE_MAGIC, 3)
            if len(enc) != KEY_BYTES or len(sig) != KEY_BYTES:
                raise Malformed(truncated=False)
            return cls(
                text(device),
                X25519PrivateKey.from_private_bytes(enc),
                Ed25519PrivateKey.from_private_bytes(sig),
            )
        except (Malformed, ValueError):
            raise TeamKeyError("This laptop's team keys are damaged; it must join again.") from None

    def __str__(self) -> str:
        return f"device {self.device_id}"


# The directory ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryUser:
    id: str
    username: str
    roles: frozenset[str]
    disabled: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "roles": sorted(self.roles),
            "disabled": self.disabled,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DirectoryUser:
        return cls(
            str(data["id"]),
            str(data["username"]),
            frozenset(str(r) for r in data["roles"]),
            bool(data["disabled"]),
        )


@dataclass(frozen=True)
class DirectoryDevice:
    id: str
    user: str
    encryption_public: bytes
    signing_public: bytes
    added: str
    revoked_at: str | None = None
    last_seq: int | None = None
    last_digest: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None or self.last_seq is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "x25519": b64(self.encryption_public),
            "ed25519": b64(self.signing_public),
            "added": self.added,
            "revoked_at": self.revoked_at,
            "last_seq": self.last_seq,
            "last_digest": self.last_digest,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DirectoryDevice:
        last_seq = data["last_seq"]
        last_digest = data["last_digest"]
        revoked_at = data["revoked_at"]
        return cls(
            str(data["id"]),
            str(data["user"]),
            unb64(data["x25519"], KEY_BYTES),
            unb64(data["ed25519"], KEY_BYTES),
            str(data["added"]),
            None if revoked_at is None else str(revoked_at),
            None if last_seq is None else int(last_seq),
            None if last_digest is None else str(last_digest),
        )


@dataclass(frozen=True)
class Directory:
    """Who is in the team, and which devices speak for them, at one version."""

    team: str
    version: int
    users: tuple[DirectoryUser, ...] = ()
    devices: tuple[DirectoryDevice, ...] = ()

    @classmethod
    def pinned(cls, team: str, admin: DirectoryDevice) -> Directory:
        """Version 0: only the inviting admin's device, trusted because the invitation said so."""
        return cls(team, 0, (DirectoryUser(admin.user, "", frozenset({ADMIN_ROLE})),), (admin,))

    def user(self, user_id: str) -> DirectoryUser | None:
        return next((u for u in self.users if u.id == user_id), None)

    def device(self, device_id: str) -> DirectoryDevice | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def revocation(self, device: DirectoryDevice) -> tuple[int, str] | None:
        """None while ``device`` speaks for its user; else the number and digest of the last
        envelope still accepted from it: what the admin recorded when revoking it, or (0,
        GENESIS), nothing at all, for a device revoked or disabled without that record."""
        owner = self.user(device.user)
        if not device.revoked and owner is not None and not owner.disabled:
            return None
        if device.last_seq is None or device.last_digest is None:
            return 0, GENESIS
        return device.last_seq, device.last_digest

    def is_admin_device(self, device_id: str) -> bool:
        device = self.device(device_id)
        if device is None or device.revoked:
            return False
        owner = self.user(device.user)
        return owner is not None and not owner.disabled and ADMIN_ROLE in owner.roles

    def live_devices(self, users: Iterable[str] | None = None) -> list[DirectoryDevice]:
        """Devices not revoked, of users not disabled (only ``users`` when given)."""
        wanted = None if users is None else set(users)
        return [
            d
            for d in self.devices
            if not d.revoked
            and (wanted is None or d.user in wanted)
            and (owner := self.user(d.user)) is not None
            and not owner.disabled
        ]

    # Changes: each gives the next version, for an admin to sign.

    def with_user(self, user: DirectoryUser) -> Directory:
        users = (*(u for u in self.users if u.id != user.id), user)
        return replace(self, version=self.version + 1, users=users)

    def with_device(self, device: DirectoryDevice) -> Directory:
        if self.device(device.id) is not None:
            raise TeamKeyError("That device is in the team already.")
        return replace(self, version=self.version + 1, devices=(*self.devices, device))

    def with_device_revoked(self, device_id: str, *, last: tuple[int, str], at: str) -> Directory:
        """``device_id`` revoked after ``last``, the number and digest of the last envelope the
        admin had accepted from it (``ReplayGuard.last_from``; (0, GENESIS) when none)."""
        devices = tuple(
            replace(d, revoked_at=at, last_seq=last[0], last_digest=last[1])
            if d.id == device_id
            else d
            for d in self.devices
        )
        return replace(self, version=self.version + 1, devices=devices)

    def with_user_disabled(
        self, user_id: str, *, last: Mapping[str, tuple[int, str]], at: str
    ) -> Directory:
        """The user disabled and each of their live devices revoked after the envelope ``last``
        gives for it, its number and digest ((0, GENESIS) when none was accepted)."""
        users = tuple(replace(u, disabled=True) if u.id == user_id else u for u in self.users)
        revoked = self
        for d in self.devices:
            if d.user == user_id and not d.revoked:
                revoked = revoked.with_device_revoked(
                    d.id, last=last.get(d.id, (0, GENESIS)), at=at
                )
        return replace(revoked, version=self.version + 1, users=users)

    def body(self) -> bytes:
        return canonical_json(
            {
                "team": self.team,
                "version": self.version,
                "users": [u.to_json() for u in sorted(self.users, key=lambda u: u.id)],
                "devices": [d.to_json() for d in sorted(self.devices, key=lambda d: d.id)],
            }
        )

    @classmethod
    def from_body(cls, body: bytes) -> Directory:
        data = json.loads(body)
        version = data["version"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise Malformed(truncated=False)
        return cls(
            str(data["team"]),
            version,
            tuple(DirectoryUser.from_json(u) for u in data["users"]),
            tuple(DirectoryDevice.from_json(d) for d in data["devices"]),
        )


def sign_directory(directory: Directory, admin: DeviceKeys) -> bytes:
    """The directory file: its body signed by an admin's device."""
    unsigned = pack(DIRECTORY_MAGIC, directory.body(), admin.device_id.encode("utf-8"))
    return pack(
        DIRECTORY_MAGIC, directory.body(), admin.device_id.encode("utf-8"), admin.sign(unsigned)
    )


def accept_directory(data: bytes, *, trusted: Directory) -> Directory:
    """The directory in ``data`` if this laptop, trusting ``trusted``, should adopt it.

    Raises DirectoryRejected (one sentence) for a damaged file, another team's, one no newer
    than ``trusted`` (a rollback or a replay), or one not signed by an admin ``trusted`` knows.
    """
    try:
        body, signer_raw, signature = unpack(data, DIRECTORY_MAGIC, 3)
        directory = Directory.from_body(body)
        signer = text(signer_raw)
    except (Malformed, ValueError, KeyError, TypeError, AttributeError):
        raise DirectoryRejected("The team directory file is damaged; it was ignored.") from None
    if directory.team != trusted.team:
        raise DirectoryRejected("The team directory is for another team; it was ignored.")
    if directory.version <= trusted.version:
        raise DirectoryRejected(
            "The team directory is not newer than the one this laptop holds; it was ignored."
        )
    device = trusted.device(signer)
    if device is None or not trusted.is_admin_device(signer):
        raise DirectoryRejected(
            "The team directory is not signed by an admin this laptop trusts; it was ignored."
        )
    if not verify_signature(device.signing_public, signature, data[: -(len(signature) + 4)]):
        raise DirectoryRejected("The team directory's signature is wrong; it was ignored.")
    return directory


# Sealed keys --------------------------------------------------------------------------------


def new_key() -> bytes:
    """A fresh random key for a case, a register or the directory."""
    return secrets.token_bytes(KEY_BYTES)


def _sealing_cipher(
    shared: bytes, ephemeral: bytes, recipient: bytes
) -> tuple[ChaCha20Poly1305, bytes]:
    okm = hkdf(shared, salt=ephemeral + recipient, info=b"safecase sealed key v1", length=44)
    return ChaCha20Poly1305(okm[:32]), okm[32:]


def _sealing_aad(device_id: str, key_id: str) -> bytes:
    return pack(SEALED_MAGIC, device_id.encode("utf-8"), key_id.encode("utf-8"))


def seal_key(key: bytes, *, key_id: str, device: DirectoryDevice) -> bytes:
    """``key`` sealed so that only ``device`` can open it, and only as ``key_id``."""
    if len(key) != KEY_BYTES:
        raise ValueError("a team key is 32 bytes")
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(device.encryption_public))
    cipher, nonce = _sealing_cipher(shared, ephemeral_public, device.encryption_public)
    sealed = cipher.encrypt(nonce, key, _sealing_aad(device.id, key_id))
    return pack(SEALED_MAGIC, ephemeral_public, sealed)


def seal_to_users(
    key: bytes, *, key_id: str, directory: Directory, users: Iterable[str]
) -> dict[str, bytes]:
    """``key`` sealed to every live device of ``users``, by device id: a case key to its
    caseworker and the managers, a register key to the managers and the DPO."""
    return {d.id: seal_key(key, key_id=key_id, device=d) for d in directory.live_devices(users)}


def open_sealed_key(sealed: bytes, *, key_id: str, device: DeviceKeys) -> bytes:
    """The key sealed to this device as ``key_id``; SealedKeyRejected if it is not that."""
    try:
        ephemeral_public, ciphertext = unpack(sealed, SEALED_MAGIC, 2)
        shared = device.encryption.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        cipher, nonce = _sealing_cipher(shared, ephemeral_public, device.encryption_public)
        key = cipher.decrypt(nonce, ciphertext, _sealing_aad(device.device_id, key_id))
    except (Malformed, ValueError, InvalidTag):
        raise SealedKeyRejected() from None
    if len(key) != KEY_BYTES:
        raise SealedKeyRejected()
    return key
