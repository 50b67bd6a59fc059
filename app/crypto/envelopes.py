"""Envelopes: how operations travel between a team's laptops, encrypted and signed.

Format (framing as in app/crypto/team.py: a magic, then fields each with a 4-byte big-endian
length)::

    SCENV1 | team | sender device id | seq (8 bytes, big-endian) | scope | key id
           | nonce (12 bytes) | ChaCha20Poly1305 ciphertext | Ed25519 signature

The header is the magic and the first five fields; it is the AEAD's associated data, so the
ciphertext opens only under the team, sender, number, scope and key id it was sealed with. The
signature, by the sending device's Ed25519 key from the team directory, covers every byte
before it (header, nonce and ciphertext). The key id names its scope and generation,
``<scope>#<n>`` (``key_id_for``): an envelope whose key id is for another scope is refused, so
a member holding one case's key cannot write into another case.

What a receiver does (``open_envelope``), in order, each refusal an ``EnvelopeRejected`` with one
sentence and no personal data: bytes that end early (truncated) or do not parse (corrupted);
another team's; a sender the directory does not list (unknown); a signature that does not
verify (bad signature); a revoked sender's envelope numbered above the last one the admin had
accepted from it when revoking (revoked: "after" is decided by that number, never by anyone's
clock); a key id for another scope; a different envelope for a (sender, seq) already seen
(replayed); a ciphertext that does not open under the named key (undecryptable). Not refusals:
the very same bytes again (``Skipped``, ALREADY_HAVE, harmless) and an envelope for a scope this
laptop holds no key for (``Skipped``, NOT_FOR_THIS_LAPTOP: it is remembered as waiting, and
offered again by ``ReplayGuard.have(reread=...)`` once the key arrives).

The nonce is random: at most a few million envelopes per key, far below ChaCha20Poly1305's
limit for random nonces; case keys also change on re-allocation.

``ReplayGuard`` is pure data (``to_json``/``from_json``): the caller records each result after
applying its operations and saves the guard in the same transaction, so a laptop killed in
between reads the envelope again and the guard, not the operation, decides it is new.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import struct
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from app.crypto.team import (
    KEY_BYTES,
    SIGNATURE_BYTES,
    DeviceKeys,
    Directory,
    Malformed,
    pack,
    text,
    unpack,
    verify_signature,
)
from app.errors import SafecaseError

ENVELOPE_MAGIC = b"SCENV1"
NONCE_BYTES = 12


class RejectReason(enum.StrEnum):
    TRUNCATED = "truncated"
    CORRUPTED = "corrupted"
    FOREIGN_TEAM = "foreign_team"
    UNKNOWN_SENDER = "unknown_sender"
    BAD_SIGNATURE = "bad_signature"
    REVOKED_SENDER = "revoked_sender"
    WRONG_SCOPE = "wrong_scope"
    REPLAYED = "replayed"
    UNDECRYPTABLE = "undecryptable"


MESSAGES = {
    RejectReason.TRUNCATED: "An envelope was cut short; it was not applied.",
    RejectReason.CORRUPTED: "An envelope is damaged; it was not applied.",
    RejectReason.FOREIGN_TEAM: "An envelope belongs to another team; it was not applied.",
    RejectReason.UNKNOWN_SENDER: (
        "An envelope comes from a device the team directory does not list; it was not applied."
    ),
    RejectReason.BAD_SIGNATURE: (
        "An envelope's signature does not match the device it names; it was not applied."
    ),
    RejectReason.REVOKED_SENDER: (
        "An envelope was sent by a device after it was revoked; it was not applied."
    ),
    RejectReason.WRONG_SCOPE: (
        "An envelope names a key that belongs to something else; it was not applied."
    ),
    RejectReason.REPLAYED: (
        "A different envelope with the same number from the same device was received before; "
        "this one was not applied."
    ),
    RejectReason.UNDECRYPTABLE: (
        "An envelope does not open with the key it names; it was not applied."
    ),
}


class EnvelopeRejected(SafecaseError):
    """An envelope refused; ``reason`` says why, ``str()`` is the sync log's sentence."""

    def __init__(self, reason: RejectReason) -> None:
        super().__init__(MESSAGES[reason])
        self.reason = reason


class SkipReason(enum.StrEnum):
    ALREADY_HAVE = "already_have"
    NOT_FOR_THIS_LAPTOP = "not_for_this_laptop"


@dataclass(frozen=True)
class Opened:
    sender: str
    seq: int
    scope: str
    key_id: str
    digest: str
    plaintext: bytes = field(repr=False)


@dataclass(frozen=True)
class Skipped:
    sender: str
    seq: int
    scope: str
    digest: str
    why: SkipReason


def key_id_for(scope: str, generation: int) -> str:
    """The id of a scope's key: ``case:<gid>#3`` is that case's third key."""
    return f"{scope}#{generation}"


def scope_of_key(key_id: str) -> str:
    return key_id.rpartition("#")[0]


def _header(team: str, sender: str, seq: int, scope: str, key_id: str) -> bytes:
    return pack(
        ENVELOPE_MAGIC,
        team.encode("utf-8"),
        sender.encode("utf-8"),
        struct.pack(">Q", seq),
        scope.encode("utf-8"),
        key_id.encode("utf-8"),
    )


def seal_envelope(
    plaintext: bytes,
    *,
    team: str,
    sender: DeviceKeys,
    seq: int,
    scope: str,
    key_id: str,
    key: bytes,
) -> bytes:
    """``plaintext`` encrypted under ``key`` and signed by ``sender``, as envelope ``seq``."""
    if seq < 1 or len(key) != KEY_BYTES or scope_of_key(key_id) != scope:
        raise ValueError("an envelope needs a positive number and its scope's 32-byte key")
    header = _header(team, sender.device_id, seq, scope, key_id)
    nonce = secrets.token_bytes(NONCE_BYTES)
    ciphertext = ChaCha20Poly1305(key).encrypt(nonce, plaintext, header)
    signed = header + pack(b"", nonce, ciphertext)
    return signed + pack(b"", sender.sign(signed))


@dataclass
class ReplayGuard:
    """What this laptop has already had from each sender: the digest of each envelope number,
    and for those it could not open, the scope whose key would open them."""

    seen: dict[str, dict[int, tuple[str, str | None]]] = field(default_factory=dict)

    def check(self, sender: str, seq: int, digest: str) -> SkipReason | None:
        """ALREADY_HAVE for the same bytes opened before, None if it is to be opened; raises
        EnvelopeRejected(REPLAYED) for different bytes under a number already seen."""
        held = self.seen.get(sender, {}).get(seq)
        if held is None:
            return None
        if held[0] != digest:
            raise EnvelopeRejected(RejectReason.REPLAYED)
        return SkipReason.ALREADY_HAVE if held[1] is None else None

    def record(self, result: Opened | Skipped) -> None:
        """Remember an envelope once its operations are applied (or it was not for us)."""
        if isinstance(result, Skipped) and result.why is SkipReason.ALREADY_HAVE:
            return
        waiting = result.scope if isinstance(result, Skipped) else None
        self.seen.setdefault(result.sender, {})[result.seq] = (result.digest, waiting)

    def have(self, reread: Container[str] = frozenset()) -> dict[str, set[int]]:
        """Every (sender, number) already handled, for the transport to leave out; except those
        set aside for a scope in ``reread`` (its key has just arrived), which it offers again.
        Their digests stay, so a different envelope under such a number is still refused."""
        return {
            sender: {seq for seq, (_, waiting) in seqs.items() if waiting not in reread}
            for sender, seqs in self.seen.items()
        }

    def waiting(self, scope: str) -> list[tuple[str, int]]:
        """Envelopes set aside for want of ``scope``'s key, to read again once it arrives."""
        return sorted(
            (sender, seq)
            for sender, seqs in self.seen.items()
            for seq, (_, waiting) in seqs.items()
            if waiting == scope
        )

    def to_json(self) -> dict[str, Any]:
        return {
            sender: {str(seq): [digest, waiting] for seq, (digest, waiting) in seqs.items()}
            for sender, seqs in self.seen.items()
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReplayGuard:
        return cls(
            {
                str(sender): {
                    int(seq): (str(entry[0]), None if entry[1] is None else str(entry[1]))
                    for seq, entry in seqs.items()
                }
                for sender, seqs in data.items()
            }
        )


@dataclass(frozen=True)
class _Parsed:
    team: str
    sender: str
    seq: int
    scope: str
    key_id: str
    nonce: bytes
    ciphertext: bytes
    signature: bytes


def _parse(data: bytes) -> _Parsed:
    try:
        team, sender, seq_raw, scope, key_id, nonce, ciphertext, signature = unpack(
            data, ENVELOPE_MAGIC, 8
        )
        if len(seq_raw) != 8 or len(nonce) != NONCE_BYTES or len(signature) != SIGNATURE_BYTES:
            raise Malformed(truncated=False)
        (seq,) = struct.unpack(">Q", seq_raw)
        if seq < 1:
            raise Malformed(truncated=False)
        return _Parsed(
            text(team), text(sender), seq, text(scope), text(key_id), nonce, ciphertext, signature
        )
    except Malformed as exc:
        reason = RejectReason.TRUNCATED if exc.truncated else RejectReason.CORRUPTED
        raise EnvelopeRejected(reason) from None


def open_envelope(
    data: bytes,
    *,
    team: str,
    directory: Directory,
    keys: Mapping[str, bytes],
    seen: ReplayGuard,
) -> Opened | Skipped:
    """The plaintext of an envelope this laptop should apply, or why it is skipped.

    Raises EnvelopeRejected for anything that must not be applied. Records nothing: call
    ``seen.record(result)`` once the result is applied, in the same transaction.
    """
    env = _parse(data)
    if env.team != team or directory.team != team:
        raise EnvelopeRejected(RejectReason.FOREIGN_TEAM)
    device = directory.device(env.sender)
    if device is None:
        raise EnvelopeRejected(RejectReason.UNKNOWN_SENDER)
    if not verify_signature(device.signing_public, env.signature, data[: -(SIGNATURE_BYTES + 4)]):
        raise EnvelopeRejected(RejectReason.BAD_SIGNATURE)
    if not device.accepts_seq(env.seq):
        raise EnvelopeRejected(RejectReason.REVOKED_SENDER)
    if scope_of_key(env.key_id) != env.scope:
        raise EnvelopeRejected(RejectReason.WRONG_SCOPE)
    digest = hashlib.sha256(data).hexdigest()
    skip = seen.check(env.sender, env.seq, digest)
    if skip is not None:
        return Skipped(env.sender, env.seq, env.scope, digest, skip)
    key = keys.get(env.key_id)
    if key is None:
        return Skipped(env.sender, env.seq, env.scope, digest, SkipReason.NOT_FOR_THIS_LAPTOP)
    try:
        header = _header(env.team, env.sender, env.seq, env.scope, env.key_id)
        plaintext = ChaCha20Poly1305(key).decrypt(env.nonce, env.ciphertext, header)
    except (InvalidTag, ValueError):
        raise EnvelopeRejected(RejectReason.UNDECRYPTABLE) from None
    return Opened(env.sender, env.seq, env.scope, env.key_id, digest, plaintext)
