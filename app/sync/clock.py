"""Global ids and the hybrid logical clock that orders every laptop's changes.

A global id is a UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids made
on different laptops without a connection never collide and sort roughly by creation.

The hybrid logical clock (HLC) stamps each operation with the wall time in milliseconds, a
counter and the device, and keeps those stamps after everything the laptop has seen: a laptop
whose wall clock is hours behind still stamps its next change after a change it received.
Stamps are totally ordered (wall, counter, device) and encode to a fixed-width string whose
text order is the same order, so the store can sort and compare them as text.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

_MAX_MS = (1 << 48) - 1
_WALL_DIGITS = 15  # milliseconds since 1970 up to the year 33658
_COUNTER_DIGITS = 6


def new_uuid7(now_ms: int, rand: bytes | None = None) -> str:
    """A UUIDv7 in text form for the time ``now_ms`` (Unix milliseconds); ``rand`` gives the 10
    random bytes (74 bits are used), for tests."""
    if not 0 <= now_ms <= _MAX_MS:
        raise ValueError("the time is outside what a UUIDv7 can hold")
    rand = os.urandom(10) if rand is None else rand
    if len(rand) != 10:
        raise ValueError("a UUIDv7 takes ten random bytes")
    tail = int.from_bytes(rand, "big")
    rand_a = tail >> 68  # 12 bits
    rand_b = tail & ((1 << 62) - 1)  # 62 bits
    value = (now_ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def uuid7_ms(uuid: str) -> int:
    """The Unix milliseconds held in a UUIDv7."""
    return int(uuid.replace("-", "")[:12], 16)


# The same id made inside SQLite, for rows inserted by a statement (a migration filling the ids
# of existing rows, an insert trigger): Unix milliseconds from the statement's clock, version 7,
# variant 0b10, the rest random.
UUID7_SQL = (
    "printf('%08x-%04x-%04x-%04x-%012x', "
    "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) >> 16, "
    "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) & 65535, "
    "28672 | (random() & 4095), 32768 | (random() & 16383), random() & 281474976710655)"
)


@dataclass(frozen=True, order=True)
class Hlc:
    """One stamp: compared by wall time, then counter, then device."""

    wall_ms: int
    counter: int
    device: str

    def encode(self) -> str:
        """Fixed-width text whose order is the stamps' order."""
        if not 0 <= self.wall_ms < 10**_WALL_DIGITS or not 0 <= self.counter < 10**_COUNTER_DIGITS:
            raise ValueError("the clock stamp is out of range")
        if ":" in self.device:
            raise ValueError("a device id cannot contain a colon")
        return f"{self.wall_ms:0{_WALL_DIGITS}d}:{self.counter:0{_COUNTER_DIGITS}d}:{self.device}"

    @classmethod
    def decode(cls, text: str) -> Hlc:
        wall, counter, device = text.split(":", 2)
        if len(wall) != _WALL_DIGITS or len(counter) != _COUNTER_DIGITS or not device:
            raise ValueError("not a clock stamp")
        if not (wall.isdigit() and counter.isdigit()):
            raise ValueError("not a clock stamp")
        return cls(int(wall), int(counter), device)


class HlcClock:
    """The clock of one device: ``tick`` for a local change, ``receive`` for a foreign stamp."""

    def __init__(self, device: str, last: Hlc | None = None) -> None:
        if not device or ":" in device:
            raise ValueError("a device id is needed, without a colon")
        self.device = device
        self._wall = 0 if last is None else last.wall_ms
        self._counter = 0 if last is None else last.counter

    @property
    def last(self) -> Hlc:
        return Hlc(self._wall, self._counter, self.device)

    def tick(self, now_ms: int) -> Hlc:
        """A stamp for a local change, after every stamp this clock gave or saw."""
        if now_ms > self._wall:
            self._wall, self._counter = now_ms, 0
        else:
            self._counter += 1
        return self._carried()

    def receive(self, remote: Hlc, now_ms: int) -> Hlc:
        """Take in a foreign stamp: the stamp returned, and every later tick, is after it."""
        wall = max(self._wall, remote.wall_ms, now_ms)
        if wall == self._wall and wall == remote.wall_ms:
            counter = max(self._counter, remote.counter) + 1
        elif wall == self._wall:
            counter = self._counter + 1
        elif wall == remote.wall_ms:
            counter = remote.counter + 1
        else:
            counter = 0
        self._wall, self._counter = wall, counter
        return self._carried()

    def _carried(self) -> Hlc:
        """A counter that ran out of digits (a million stamps in one millisecond, as when a
        store's every record gets its operation at once) carries into the next millisecond."""
        if self._counter >= 10**_COUNTER_DIGITS:
            self._wall, self._counter = self._wall + 1, 0
        return self.last


def new_gid() -> str:
    """A new global id for a record made on this laptop. Its time part only orders ids and keeps
    them unique across laptops; the times a person reads come from the session's clock."""
    return new_uuid7(time.time_ns() // 1_000_000)
