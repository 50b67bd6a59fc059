"""What carries envelopes between a team's laptops: one interface, several transports.

A transport moves opaque envelopes (bytes sealed and signed by app/crypto; a transport never
holds a key and never looks inside one). Each device numbers the envelopes it sends 0, 1, 2, ...
(its ``seq``), and (sender, seq) names one envelope for ever: once published it is never
replaced, so a receiver that holds it never needs it again.

- ``publish(sender, seq, data)`` makes one envelope available to every other device, whole or
  not at all. Publishing the same bytes again is a no-op (a retry after a crash);
  publishing different bytes under a number already used raises ``EnvelopeNumberTaken``.
- ``incoming(have)`` yields every envelope whose (sender, seq) is not in ``have``, in any
  order, and skips the rest without reading them (a sync with nothing new stays cheap). A
  gap in a sender's numbers is normal: the caller keeps the set of numbers it holds, and
  whatever is missing arrives on a later call. Anything it could not hand over (a copy
  still being written, two different envelopes under one number, a file it may not read) is
  told to ``problems``, if given, and logged, never raised: one bad envelope never stops a
  sync. ``TransportUnavailable`` is raised when the transport cannot be reached, at the call or
  part way through; what was yielded before stays valid, and nothing is half-handed-over.
- ``status()`` says whether the transport is reachable and how many envelopes each device has
  published there, without reading them.
- ``compact(scopes)`` (the admin's laptop only) deletes every envelope whose header names one
  of ``scopes`` (``case:<gid>`` of purged cases, whose keys are destroyed everywhere, so what it
  deletes could no longer be read anyway) and returns how many it deleted. The scope is read
  from the envelope's plaintext header (``app.crypto.envelopes.envelope_scope``); nothing is
  decrypted. A receiver that never held a deleted number sees a gap, which is normal.
- ``post_order(device, data)`` leaves a signed order for one device (the admin's "destroy your
  store" to a revoked laptop), replacing any earlier order for it; ``order_for(device)`` returns
  the order left for that device, or None. An order is signed by an admin device and checked by
  the receiver against the directory it trusts; the transport only carries it. A device the
  server refuses (revoked) may still read its own order, and nothing else.
- ``post_receipt(device, data)`` is that device's signed answer to its order ("store
  destroyed"), the one thing a refused device may still write; ``receipt_for(device)`` reads
  it back (None if there is none yet).
- ``refuse_device(device)`` (the admin's laptop, on revoking a device) makes the transport
  refuse that device's new envelopes where it can: a server does; a shared folder cannot, and
  does nothing (every receiver ignores what a revoked device signs after its revocation).

``app/sync/folder.py`` implements this over a shared folder; a PostgreSQL server (an
append-only table keyed by (sender, seq)) can offer the same interface.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from typing import Protocol

from app.errors import SafecaseError


class TransportUnavailable(SafecaseError):
    """The shared folder or server cannot be reached now; nothing was changed."""

    default_message = (
        "The team's shared folder cannot be reached. Check that it is connected, then sync again."
    )


class EnvelopeNumberTaken(SafecaseError):
    """This device already published different content under that number.

    It happens when a laptop is restored from an old copy and numbers its envelopes again:
    the earlier envelope stays, the new one is refused, and an admin must re-enrol the laptop.
    """

    default_message = (
        "The shared folder already holds a different envelope with this laptop's next number: "
        "this laptop may have been restored from an old copy. Ask your admin to re-enrol it."
    )


@dataclass(frozen=True)
class Incoming:
    """One envelope from the transport, exactly as its sender published it."""

    sender: str
    seq: int
    data: bytes


class ProblemKind(enum.Enum):
    INCOMPLETE = "incomplete"  # cut short, still being written, or damaged: tried again later
    CONFLICT = "conflict"  # different envelopes under one number: none of them handed over
    UNREADABLE = "unreadable"  # the system refused to read it (permissions, a disk error)


@dataclass(frozen=True)
class Problem:
    """An envelope a transport saw but could not hand over this time, for the sync log.

    It names the device, the number and the transport's own names for the copies (file
    names such as ``00000012 (1).env``), never anything inside an envelope. A sync client may
    put a computer's or a person's name into a copy's name ("... conflicted copy ..."), so
    ``names`` is for showing to an admin and stays out of ``sentence`` and the logs.
    """

    kind: ProblemKind
    sender: str
    seq: int | None  # None: the device's whole folder
    names: tuple[str, ...] = ()

    @property
    def sentence(self) -> str:
        if self.seq is None:
            return (
                f"Safecase may not read the folder of device {self.sender} in the shared "
                "folder; check the folder's permissions."
            )
        if self.kind is ProblemKind.INCOMPLETE:
            return (
                f"Envelope {self.seq} from device {self.sender} is incomplete or damaged "
                "(still being copied?); it will be tried again on the next sync."
            )
        if self.kind is ProblemKind.CONFLICT:
            return (
                f"Device {self.sender} has {len(self.names)} different envelopes numbered "
                f"{self.seq} in the shared folder; none of them was read. Ask your admin to "
                "check that device."
            )
        return (
            f"Safecase could not read envelope {self.seq} from device {self.sender} in the "
            "shared folder (its permissions, or another program holding it) and will try "
            "again on the next sync."
        )


ProblemSink = Callable[[Problem], None]


@dataclass(frozen=True)
class TransportStatus:
    """Whether the transport answers, and how many envelopes each device has published."""

    reachable: bool
    published: Mapping[str, int] = field(default_factory=dict)


class Transport(Protocol):
    def publish(self, sender: str, seq: int, data: bytes) -> None: ...

    def incoming(
        self, have: Mapping[str, Set[int]], *, problems: ProblemSink | None = None
    ) -> Iterator[Incoming]: ...

    def status(self) -> TransportStatus: ...

    def compact(self, scopes: Set[str]) -> int: ...

    def post_order(self, device: str, data: bytes) -> None: ...

    def order_for(self, device: str) -> bytes | None: ...

    def post_receipt(self, device: str, data: bytes) -> None: ...

    def receipt_for(self, device: str) -> bytes | None: ...

    def refuse_device(self, device: str) -> None: ...
