"""Envelopes: how operations travel between a team's laptops, encrypted and signed.

Format (framing as in app/crypto/team.py: a magic, then fields each with a 4-byte big-endian
length)::

    SCENV2 | team | sender device id | seq (8 bytes, big-endian) | previous (32 bytes)
           | scope | key id | nonce (12 bytes) | ChaCha20Poly1305 ciphertext | Ed25519 signature

The header is the magic and the first six fields; it is the AEAD's associated data, so the
ciphertext opens only under the team, sender, number, previous digest, scope and key id it was
sealed with. The signature, by the sending device's Ed25519 key from the team directory, covers
every byte before it (header, nonce and ciphertext). An envelope's digest
(``envelope_digest``) is the SHA-256 of those signed bytes, in hex.

Each device's envelopes form a hash chain: envelope ``n`` names as ``previous`` the digest of
the same device's envelope ``n - 1``; envelope 1 names ``GENESIS``. The sender keeps the number
and digest of its last envelope and passes them on. A receiver refuses as a fork (FORKED, with
the device and number on the exception for the sync log) any envelope that contradicts what it
holds from that device: a different envelope naming the same previous one as an envelope held
under that number, an envelope whose ``previous`` is not the digest of the held envelope
before it, or one whose digest is not the ``previous`` of the held envelope after it. The key
id names its scope and generation,
``<scope>#<n>`` (``key_id_for``): an envelope whose key id is for another scope is refused, so
a member holding one case's key cannot write into another case.

What a receiver does (``open_envelope``), in order, each refusal an ``EnvelopeRejected`` with one
sentence and no personal data: bytes that end early (truncated) or do not parse (corrupted);
another team's; a sender the directory does not list (unknown); a signature that does not
verify (bad signature); from a device the directory has revoked, or of a user it has disabled
(``Directory.revocation``), one numbered above the last envelope the admin had accepted from it
(revoked, or disabled user when the device itself was never revoked: "after" is decided by that
number, never by anyone's clock); a fork (above); from such a device, one numbered at or below
that last one that is not on its chain (off chain, below); a key id for another scope; a
different envelope under a (sender, seq) already seen that names another previous one
(replayed); a ciphertext that does not open under the named key (undecryptable). Not refusals:
the very same bytes again (``Skipped``, ALREADY_HAVE, harmless); an envelope for a scope this
laptop holds no key for (``Skipped``, NOT_FOR_THIS_LAPTOP: it is remembered as waiting, and
offered again by ``ReplayGuard.have(reread=...)`` once the key arrives); and a revoked device's
envelope whose place on its chain cannot be checked yet (``Skipped``, AWAITING_CHAIN: not
recorded, so the transport offers it again on the next read).

The rule for a revoked device with recorded last envelope (L, H), for envelope ``n <= L`` with
digest ``d``: walk down from L through the envelopes this laptop holds from that device; the
one held at L must have digest H, and each held at k must have as digest the ``previous`` of
the one held at k + 1. If the walk reaches n + 1, n is accepted only if ``d`` is the
``previous`` of the envelope held at n + 1 (for n = L: only if ``d`` is H); otherwise it is off
chain and refused. If an envelope between n + 1 and L is not held yet, n waits. If one held
there does not fit (this laptop accepted it before it learnt of the revocation), n is refused.
SHA-256 being collision resistant, an envelope accepted this way is exactly the one the device
sent under that number before it was revoked. What someone holding a revoked laptop's keys can
still do: before a laptop learns of the revocation (adopts the directory that records it) it
trusts those keys like any member's, so forgeries it receives first are applied there, and the
genuine envelope they displace is refused there as a fork; make the directory travel first.
They can also leave forgeries waiting in the folder, costing a signature check per sync, never
applied. And if the keys were taken before the admin accepted envelope L, the admin's record
itself may be a forgery: revoke from what the admin's own laptop received.

The nonce is random: at most a few million envelopes per key, far below ChaCha20Poly1305's
limit for random nonces; case keys also change on re-allocation.

``ReplayGuard`` is pure data (``to_json``/``from_json``): the caller records each result
(``record``) after applying its operations and saves the guard in the same transaction, so a
laptop killed in between reads the envelope again and the guard, not the operation, decides it
is new. ``take_fresh`` hands over only what was recorded since it was last called, so a store
can write the guard a row per envelope instead of whole each time.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import struct
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from app.crypto.team import (
    GENESIS,
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

ENVELOPE_MAGIC = b"SCENV2"
NONCE_BYTES = 12
DIGEST_BYTES = 32


class RejectReason(enum.StrEnum):
    TRUNCATED = "truncated"
    CORRUPTED = "corrupted"
    FOREIGN_TEAM = "foreign_team"
    UNKNOWN_SENDER = "unknown_sender"
    BAD_SIGNATURE = "bad_signature"
    REVOKED_SENDER = "revoked_sender"
    DISABLED_USER = "disabled_user"
    OFF_CHAIN = "off_chain"
    FORKED = "forked"
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
    RejectReason.DISABLED_USER: (
        "An envelope comes from a device of a user who has been disabled; it was not applied."
    ),
    RejectReason.OFF_CHAIN: (
        "An envelope from a revoked device is not one it sent before it was revoked; "
        "it was not applied."
    ),
    RejectReason.FORKED: (
        "A device sent an envelope that contradicts one it sent before; it was not applied, "
        "and the device should be checked."
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
    """An envelope refused; ``reason`` says why, ``str()`` is the sync log's sentence.
    ``sender`` and ``seq`` name the envelope when it parsed (device ids, never people)."""

    def __init__(
        self, reason: RejectReason, *, sender: str | None = None, seq: int | None = None
    ) -> None:
        super().__init__(MESSAGES[reason])
        self.reason = reason
        self.sender = sender
        self.seq = seq


class SkipReason(enum.StrEnum):
    ALREADY_HAVE = "already_have"
    NOT_FOR_THIS_LAPTOP = "not_for_this_laptop"
    AWAITING_CHAIN = "awaiting_chain"


@dataclass(frozen=True)
class Opened:
    sender: str
    seq: int
    scope: str
    key_id: str
    digest: str
    previous: str
    plaintext: bytes = field(repr=False)


@dataclass(frozen=True)
class Skipped:
    sender: str
    seq: int
    scope: str
    digest: str
    previous: str
    why: SkipReason


def key_id_for(scope: str, generation: int) -> str:
    """The id of a scope's key: ``case:<gid>#3`` is that case's third key."""
    return f"{scope}#{generation}"


def scope_of_key(key_id: str) -> str:
    return key_id.rpartition("#")[0]


def _header(team: str, sender: str, seq: int, previous: str, scope: str, key_id: str) -> bytes:
    return pack(
        ENVELOPE_MAGIC,
        team.encode("utf-8"),
        sender.encode("utf-8"),
        struct.pack(">Q", seq),
        bytes.fromhex(previous),
        scope.encode("utf-8"),
        key_id.encode("utf-8"),
    )


def seal_envelope(
    plaintext: bytes,
    *,
    team: str,
    sender: DeviceKeys,
    seq: int,
    previous: str,
    scope: str,
    key_id: str,
    key: bytes,
) -> bytes:
    """``plaintext`` encrypted under ``key`` and signed by ``sender``, as envelope ``seq``;
    ``previous`` is the digest of the sender's envelope ``seq - 1`` (``GENESIS`` for 1)."""
    if seq < 1 or len(key) != KEY_BYTES or scope_of_key(key_id) != scope:
        raise ValueError("an envelope needs a positive number and its scope's 32-byte key")
    if (seq == 1) != (previous == GENESIS) or not _is_digest(previous):
        raise ValueError("an envelope names its sender's previous envelope, GENESIS for the first")
    header = _header(team, sender.device_id, seq, previous, scope, key_id)
    nonce = secrets.token_bytes(NONCE_BYTES)
    ciphertext = ChaCha20Poly1305(key).encrypt(nonce, plaintext, header)
    signed = header + pack(b"", nonce, ciphertext)
    return signed + pack(b"", sender.sign(signed))


def envelope_digest(data: bytes) -> str:
    """The digest the sender's next envelope names as ``previous``: SHA-256 of the signed bytes."""
    return hashlib.sha256(data[: -(SIGNATURE_BYTES + 4)]).hexdigest()


def envelope_scope(data: bytes) -> str | None:
    """The scope an envelope's plaintext header names (``case:<gid>``, ``grant:<device>``...),
    or None if it is not a well-formed envelope. Nothing is verified or decrypted: a transport
    uses it to find a purged case's envelopes for compaction."""
    try:
        return _parse(data).scope
    except EnvelopeRejected:
        return None


def _is_digest(value: str) -> bool:
    return len(value) == 2 * DIGEST_BYTES and all(c in "0123456789abcdef" for c in value)


class Held(NamedTuple):
    """One envelope a laptop has had: its digest, the digest it names as previous, and the
    scope whose key it awaits (None once opened)."""

    digest: str
    previous: str
    waiting: str | None


@dataclass
class ReplayGuard:
    """What this laptop has already had from each sender, by envelope number."""

    seen: dict[str, dict[int, Held]] = field(default_factory=dict)
    # (sender, number) recorded since the last ``take_fresh``: what a store must write.
    fresh: set[tuple[str, int]] = field(default_factory=set, compare=False, repr=False)

    def check(self, sender: str, seq: int, digest: str, previous: str) -> SkipReason | None:
        """ALREADY_HAVE for the same envelope opened before, None if it is to be opened; raises
        EnvelopeRejected for a fork (FORKED) or a different envelope under a number already
        seen (REPLAYED)."""
        held = self.seen.get(sender, {})
        same = held.get(seq)
        if same is not None and same.digest == digest:
            return SkipReason.ALREADY_HAVE if same.waiting is None else None
        if same is not None and same.previous != previous:
            raise EnvelopeRejected(RejectReason.REPLAYED, sender=sender, seq=seq)
        before, after = held.get(seq - 1), held.get(seq + 1)
        if (
            same is not None
            or (seq == 1) != (previous == GENESIS)
            or (before is not None and before.digest != previous)
            or (after is not None and after.previous != digest)
        ):
            raise EnvelopeRejected(RejectReason.FORKED, sender=sender, seq=seq)
        return None

    def on_chain(self, sender: str, seq: int, digest: str, last: tuple[int, str]) -> bool | None:
        """Whether envelope ``seq`` with ``digest`` lies on ``sender``'s chain ending in
        ``last`` (number, digest): None while an envelope between them is not held yet."""
        held = self.seen.get(sender, {})
        number, expected = last
        while number > seq:
            link = held.get(number)
            if link is None:
                return None
            if link.digest != expected:
                return False
            number, expected = number - 1, link.previous
        return number == seq and digest == expected

    def last_from(self, sender: str) -> tuple[int, str]:
        """The number and digest of the highest envelope held from ``sender``, (0, GENESIS)
        when none: what an admin records when revoking it."""
        held = self.seen.get(sender, {})
        if not held:
            return 0, GENESIS
        top = max(held)
        return top, held[top].digest

    def record(self, result: Opened | Skipped) -> None:
        """Remember an envelope once its operations are applied (or it was not for us)."""
        if isinstance(result, Skipped) and result.why in (
            SkipReason.ALREADY_HAVE,
            SkipReason.AWAITING_CHAIN,
        ):
            return
        waiting = result.scope if isinstance(result, Skipped) else None
        self.seen.setdefault(result.sender, {})[result.seq] = Held(
            result.digest, result.previous, waiting
        )
        self.fresh.add((result.sender, result.seq))

    def take_fresh(self) -> list[tuple[str, int, Held]]:
        """What was recorded since the last call (each envelope once, as last recorded), for
        the caller to write in the transaction that applied it; forgotten here."""
        out = [(sender, seq, self.seen[sender][seq]) for sender, seq in sorted(self.fresh)]
        self.fresh.clear()
        return out

    def have(self, reread: Container[str] = frozenset()) -> dict[str, set[int]]:
        """Every (sender, number) already handled, for the transport to leave out; except those
        set aside for a scope in ``reread`` (its key has just arrived), which it offers again.
        Their digests stay, so a different envelope under such a number is still refused."""
        return {
            sender: {seq for seq, held in seqs.items() if held.waiting not in reread}
            for sender, seqs in self.seen.items()
        }

    def waiting(self, scope: str) -> list[tuple[str, int]]:
        """Envelopes set aside for want of ``scope``'s key, to read again once it arrives."""
        return sorted(
            (sender, seq)
            for sender, seqs in self.seen.items()
            for seq, held in seqs.items()
            if held.waiting == scope
        )

    def to_json(self) -> dict[str, Any]:
        return {
            sender: {str(seq): list(held) for seq, held in seqs.items()}
            for sender, seqs in self.seen.items()
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReplayGuard:
        return cls(
            {
                str(sender): {
                    int(seq): Held(
                        str(entry[0]), str(entry[1]), None if entry[2] is None else str(entry[2])
                    )
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
    previous: str
    scope: str
    key_id: str
    nonce: bytes
    ciphertext: bytes
    signature: bytes
    header_end: int  # the header is data[:header_end]


def _parse(data: bytes) -> _Parsed:
    try:
        team, sender, seq_raw, previous, scope, key_id, nonce, ciphertext, signature = unpack(
            data, ENVELOPE_MAGIC, 9
        )
        if (
            len(seq_raw) != 8
            or len(previous) != DIGEST_BYTES
            or len(nonce) != NONCE_BYTES
            or len(signature) != SIGNATURE_BYTES
        ):
            raise Malformed(truncated=False)
        (seq,) = struct.unpack(">Q", seq_raw)
        if seq < 1:
            raise Malformed(truncated=False)
        return _Parsed(
            text(team),
            text(sender),
            seq,
            previous.hex(),
            text(scope),
            text(key_id),
            nonce,
            ciphertext,
            signature,
            len(ENVELOPE_MAGIC)
            + 4 * 6
            + sum(len(f) for f in (team, sender, seq_raw, previous, scope, key_id)),
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

    def refuse(reason: RejectReason) -> EnvelopeRejected:
        return EnvelopeRejected(reason, sender=env.sender, seq=env.seq)

    if env.team != team or directory.team != team:
        raise refuse(RejectReason.FOREIGN_TEAM)
    device = directory.device(env.sender)
    if device is None or directory.user(device.user) is None:
        raise refuse(RejectReason.UNKNOWN_SENDER)
    if not verify_signature(device.signing_public, env.signature, data[: -(SIGNATURE_BYTES + 4)]):
        raise refuse(RejectReason.BAD_SIGNATURE)
    last = directory.revocation(device)
    if last is not None and env.seq > last[0]:
        raise refuse(RejectReason.REVOKED_SENDER if device.revoked else RejectReason.DISABLED_USER)
    if scope_of_key(env.key_id) != env.scope:
        raise refuse(RejectReason.WRONG_SCOPE)
    digest = envelope_digest(data)

    def skipped(why: SkipReason) -> Skipped:
        return Skipped(env.sender, env.seq, env.scope, digest, env.previous, why)

    verdict = True if last is None else seen.on_chain(env.sender, env.seq, digest, last)
    if verdict is False:
        raise refuse(RejectReason.OFF_CHAIN)
    skip = seen.check(env.sender, env.seq, digest, env.previous)
    if skip is not None:
        return skipped(skip)
    if verdict is None:
        return skipped(SkipReason.AWAITING_CHAIN)
    key = keys.get(env.key_id)
    if key is None:
        return skipped(SkipReason.NOT_FOR_THIS_LAPTOP)
    try:
        # The framing is canonical: the header's bytes are those _header() would make again.
        plaintext = ChaCha20Poly1305(key).decrypt(env.nonce, env.ciphertext, data[: env.header_end])
    except (InvalidTag, ValueError):
        raise refuse(RejectReason.UNDECRYPTABLE) from None
    return Opened(env.sender, env.seq, env.scope, env.key_id, digest, env.previous, plaintext)
