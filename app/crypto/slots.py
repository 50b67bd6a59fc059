"""Key slots: the file beside a store that lets each user (and the recovery key) open it.

Each slot holds an X25519 key pair. Its private key is wrapped with AES-256-GCM under a key
derived from the slot's secret:

- a user slot: HKDF-SHA256(Argon2id(password) joined with the device secret);
- a password-only slot (only where the store's policy allows it): HKDF of a stronger Argon2id;
- the recovery slot: HKDF of the 256-bit recovery key.

The store's data key (and, for admin and recovery slots, the backup key) is sealed to the slot's
public key. Sealing to a public key is what lets an admin rotate the data key, or reset a
password, for every remaining slot without knowing anybody's password. The slot's own fields are
bound into both ciphertexts as associated data, so a slot edited on disk fails to open.

Slots name users by a random id; sign-in finds a slot by a keyed hash of the username.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from app.crypto.files import atomic_write
from app.crypto.kdf import Argon2Params, argon2id, hkdf
from app.errors import DamagedStore

FORMAT = 1
USER = "user"
RECOVERY = "recovery"
UNKNOWN_SLOT = "unknown"
# Failed sign-ins waiting for the audit trail, and names without a slot being slowed down:
# each kept to the newest this many, so guessing cannot grow the key file without limit.
MAX_FAILED_SIGN_INS = 1000
MAX_UNKNOWN_NAMES = 1000


class SlotLocked(Exception):
    """The secret given does not open this slot."""


@dataclass
class Payload:
    """What a slot unlocks: the data key, and the backup key for admin and recovery slots."""

    data_key: bytearray
    backup_key: bytearray | None = None

    def encode(self) -> bytes:
        return bytes(self.data_key) + (bytes(self.backup_key) if self.backup_key else b"")

    @classmethod
    def decode(cls, raw: bytes) -> Payload:
        if len(raw) not in (32, 64):
            raise DamagedStore()
        return cls(bytearray(raw[:32]), bytearray(raw[32:]) if len(raw) == 64 else None)

    def without_backup_key(self) -> Payload:
        return Payload(bytearray(self.data_key))

    def zero(self) -> None:
        for buffer in (self.data_key, self.backup_key):
            if buffer is not None:
                buffer[:] = bytes(len(buffer))


@dataclass
class Slot:
    id: str
    kind: str
    lookup: str
    salt: bytes
    kdf: Argon2Params | None
    device_bound: bool
    must_change: bool
    public_key: bytes
    wrapped_private: bytes
    sealed: bytes
    # Sign-in counters: not secret and not bound, since an offline attacker ignores them anyway.
    failures: int = 0
    last_failure: float = 0.0

    def associated_data(self, store_id: str) -> bytes:
        bound = {
            "store": store_id,
            "id": self.id,
            "kind": self.kind,
            "lookup": self.lookup,
            "salt": self.salt.hex(),
            "kdf": self.kdf.to_json() if self.kdf else None,
            "device_bound": self.device_bound,
            "must_change": self.must_change,
            "public_key": self.public_key.hex(),
        }
        return json.dumps(bound, sort_keys=True, separators=(",", ":")).encode("ascii")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "lookup": self.lookup,
            "salt": self.salt.hex(),
            "kdf": self.kdf.to_json() if self.kdf else None,
            "device_bound": self.device_bound,
            "must_change": self.must_change,
            "public_key": self.public_key.hex(),
            "wrapped_private": self.wrapped_private.hex(),
            "sealed": self.sealed.hex(),
            "failures": self.failures,
            "last_failure": self.last_failure,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Slot:
        return cls(
            id=str(data["id"]),
            kind=str(data["kind"]),
            lookup=str(data["lookup"]),
            salt=bytes.fromhex(data["salt"]),
            kdf=Argon2Params.from_json(data["kdf"]) if data["kdf"] else None,
            device_bound=bool(data["device_bound"]),
            must_change=bool(data["must_change"]),
            public_key=bytes.fromhex(data["public_key"]),
            wrapped_private=bytes.fromhex(data["wrapped_private"]),
            sealed=bytes.fromhex(data["sealed"]),
            failures=int(data.get("failures", 0)),
            last_failure=float(data.get("last_failure", 0.0)),
        )


@dataclass
class SlotFile:
    store_id: str
    lookup_salt: bytes
    generation: int = 0
    slots: list[Slot] = field(default_factory=list)
    # Failed sign-ins happen before the store can be opened; they wait here for the audit trail.
    failed_sign_ins: list[dict[str, Any]] = field(default_factory=list)
    # How many older failed sign-ins were dropped to keep the list above to its limit.
    dropped_sign_ins: int = 0
    # Names with no slot, by their lookup tag (never the name): [failures, last failure].
    unknown_names: dict[str, list[float]] = field(default_factory=dict)

    @classmethod
    def new(cls) -> SlotFile:
        return cls(store_id=secrets.token_hex(16), lookup_salt=secrets.token_bytes(32))

    def lookup_tag(self, username: str) -> str:
        name = username.strip().casefold().encode("utf-8")
        return hmac.new(self.lookup_salt, name, hashlib.sha256).hexdigest()[:32]

    def find_user(self, username: str) -> Slot | None:
        tag = self.lookup_tag(username)
        return next((s for s in self.slots if s.kind == USER and s.lookup == tag), None)

    def get(self, slot_id: str) -> Slot | None:
        return next((s for s in self.slots if s.id == slot_id), None)

    def recovery_slot(self) -> Slot:
        slot = next((s for s in self.slots if s.kind == RECOVERY), None)
        if slot is None:
            raise DamagedStore()
        return slot

    def record_failed_sign_in(self, slot_id: str, now: float) -> None:
        """Keep a failed sign-in for the audit trail, dropping (and counting) the oldest past
        the limit."""
        self.failed_sign_ins.append({"slot": slot_id, "at": round(now, 3)})
        excess = len(self.failed_sign_ins) - MAX_FAILED_SIGN_INS
        if excess > 0:
            del self.failed_sign_ins[:excess]
            self.dropped_sign_ins += excess

    def unknown_name_failures(self, tag: str) -> tuple[int, float]:
        failures, last = self.unknown_names.get(tag, [0, 0.0])
        return int(failures), float(last)

    def record_unknown_name(self, tag: str, now: float) -> None:
        """Count a failed sign-in under a name with no slot, as a slot counts its own."""
        failures, _ = self.unknown_name_failures(tag)
        self.unknown_names[tag] = [failures + 1, round(now, 3)]
        if len(self.unknown_names) > MAX_UNKNOWN_NAMES:
            oldest = sorted(self.unknown_names, key=lambda t: self.unknown_names[t][1])
            for stale in oldest[: len(self.unknown_names) - MAX_UNKNOWN_NAMES]:
                del self.unknown_names[stale]

    def typical_user_slot(self) -> Slot | None:
        """A user slot whose cost a sign-in under an unknown name pays too."""
        return next((s for s in self.slots if s.kind == USER and s.kdf is not None), None)

    def put(self, slot: Slot) -> None:
        self.slots = [s for s in self.slots if s.id != slot.id] + [slot]

    def to_bytes(self) -> bytes:
        data = {
            "format": FORMAT,
            "store_id": self.store_id,
            "lookup_salt": self.lookup_salt.hex(),
            "generation": self.generation,
            "slots": [s.to_json() for s in self.slots],
            "failed_sign_ins": self.failed_sign_ins,
            "dropped_sign_ins": self.dropped_sign_ins,
            "unknown_names": self.unknown_names,
        }
        return json.dumps(data, indent=1, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> SlotFile:
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT:
                raise DamagedStore(
                    "The key file was made by a different version of Safecase. "
                    "Update Safecase to open it."
                )
            return cls(
                store_id=str(data["store_id"]),
                lookup_salt=bytes.fromhex(data["lookup_salt"]),
                generation=int(data["generation"]),
                slots=[Slot.from_json(s) for s in data["slots"]],
                failed_sign_ins=list(data.get("failed_sign_ins", [])),
                dropped_sign_ins=int(data.get("dropped_sign_ins", 0)),
                unknown_names={
                    str(tag): [float(n), float(at)]
                    for tag, (n, at) in dict(data.get("unknown_names", {})).items()
                },
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise DamagedStore(
                "The store's key file is damaged. Restore the store from a backup."
            ) from None

    @classmethod
    def load(cls, path: Path) -> SlotFile:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise DamagedStore(
                "The store's key file is missing. Put it back beside the store, or restore "
                "from a backup."
            ) from None
        return cls.from_bytes(raw)

    def save(self, path: Path) -> None:
        atomic_write(path, self.to_bytes())

    def copy(self) -> SlotFile:
        return SlotFile.from_bytes(self.to_bytes())


def _kek_info(kind: str, device_bound: bool) -> bytes:
    if kind == RECOVERY:
        return b"safecase recovery slot v1"
    return b"safecase user slot v1" if device_bound else b"safecase password-only slot v1"


def derive_kek(
    slot: Slot,
    *,
    password: str | None = None,
    device_secret: bytes | None = None,
    recovery_key: bytes | None = None,
) -> bytes:
    """The key that wraps ``slot``'s private key, from the secret the slot was made with."""
    if slot.kind == RECOVERY:
        if recovery_key is None:
            raise ValueError("the recovery slot opens with the recovery key")
        ikm = recovery_key
    else:
        if password is None or slot.kdf is None:
            raise ValueError("a user slot opens with a password")
        ikm = argon2id(password, slot.salt, slot.kdf)
        if slot.device_bound:
            if device_secret is None:
                raise ValueError("a device-bound slot needs the device secret")
            ikm += device_secret
    return hkdf(ikm, salt=slot.salt, info=_kek_info(slot.kind, slot.device_bound))


def dummy_derivation(slot: Slot | None, password: str, device_secret: bytes | None = None) -> None:
    """Spend what deriving ``slot``'s key costs, for a name that has no slot of its own, so
    an unknown name takes as long to refuse as a wrong password does."""
    if slot is None or slot.kdf is None:
        return
    ikm = argon2id(password, secrets.token_bytes(len(slot.salt)), slot.kdf)
    hkdf(ikm + (device_secret or b""), salt=slot.salt, info=_kek_info(slot.kind, False))


def _seal_aad(store_id: str, slot: Slot, generation: int) -> bytes:
    return slot.associated_data(store_id) + f"|generation={generation}".encode("ascii")


def _seal_key(shared: bytes, ephemeral_public: bytes, public_key: bytes) -> bytes:
    return hkdf(shared, salt=ephemeral_public + public_key, info=b"safecase seal v1")


def seal(slot: Slot, payload: Payload, store_id: str, generation: int) -> bytes:
    """Encrypt ``payload`` so that only ``slot``'s private key opens it."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(slot.public_key))
    key = _seal_key(shared, ephemeral_public, slot.public_key)
    nonce = secrets.token_bytes(12)
    aad = _seal_aad(store_id, slot, generation)
    return ephemeral_public + nonce + AESGCM(key).encrypt(nonce, payload.encode(), aad)


def unseal(slot: Slot, private_key: X25519PrivateKey, store_id: str, generation: int) -> Payload:
    ephemeral_public, nonce, ciphertext = slot.sealed[:32], slot.sealed[32:44], slot.sealed[44:]
    try:
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        key = _seal_key(shared, ephemeral_public, slot.public_key)
        raw = AESGCM(key).decrypt(nonce, ciphertext, _seal_aad(store_id, slot, generation))
    except (InvalidTag, ValueError):
        raise DamagedStore(
            "The store's key file has been altered. Restore it from a backup."
        ) from None
    return Payload.decode(raw)


def open_private_key(slot: Slot, kek: bytes, store_id: str) -> X25519PrivateKey:
    nonce, ciphertext = slot.wrapped_private[:12], slot.wrapped_private[12:]
    try:
        raw = AESGCM(kek).decrypt(nonce, ciphertext, slot.associated_data(store_id))
    except InvalidTag:
        raise SlotLocked() from None
    return X25519PrivateKey.from_private_bytes(raw)


def make_slot(
    slots: SlotFile,
    *,
    kind: str,
    payload: Payload,
    slot_id: str | None = None,
    username: str | None = None,
    password: str | None = None,
    kdf: Argon2Params | None = None,
    device_secret: bytes | None = None,
    recovery_key: bytes | None = None,
    must_change: bool = False,
) -> Slot:
    """A new slot (fresh key pair and salt) that opens with the secret given."""
    private = X25519PrivateKey.generate()
    slot = Slot(
        id=slot_id or secrets.token_hex(16),
        kind=kind,
        lookup=slots.lookup_tag(username) if username is not None else "",
        salt=secrets.token_bytes(16),
        kdf=kdf if kind == USER else None,
        device_bound=kind == USER and device_secret is not None,
        must_change=must_change,
        public_key=private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
        wrapped_private=b"",
        sealed=b"",
    )
    kek = derive_kek(
        slot, password=password, device_secret=device_secret, recovery_key=recovery_key
    )
    raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    nonce = secrets.token_bytes(12)
    slot.wrapped_private = nonce + AESGCM(kek).encrypt(
        nonce, raw_private, slot.associated_data(slots.store_id)
    )
    slot.sealed = seal(slot, payload, slots.store_id, slots.generation)
    return slot


def resealed(slot: Slot, payload: Payload, store_id: str, generation: int) -> Slot:
    """The same slot (same secret) opening a new payload, for a new generation of the file."""
    copy = replace(slot)
    copy.sealed = seal(copy, payload, store_id, generation)
    return copy
