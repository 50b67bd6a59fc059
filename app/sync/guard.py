"""What a laptop has had from each sender, kept in rows, and envelopes read in batches.

The replay guard (``ReplayGuard``: per sender and number, the envelope's digest, the digest it
names as previous, and the scope whose key it waits for) and the envelopes refused for good
live in ``team_guard`` and ``team_refused`` (schema step ``_v12_guard``). They are read once per
sync; each envelope dealt with adds or changes one row, written in the transaction that applied
it, so saving costs what changed, not everything held (the team row once carried them as JSON,
rewritten whole for every envelope: a catch-up cost grew with the square of what was held).

Reading commits in batches (``Batches``): the envelopes a sync reads are dealt with in one
transaction per ``size`` envelopes or per ``seconds`` of work, whichever comes first (a
commit waits for the disk, 10 to 20 ms on a busy laptop: a commit per envelope was most of a
catch-up of small envelopes). Each
batch writes its envelopes' guard rows in the same transaction as their operations, so a laptop
killed part-way loses only the batch it was in: it reads those envelopes again, and applies
nothing twice, since what was committed is in the guard and what was not left no trace.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from types import TracebackType

from app.crypto.connection import Connection
from app.crypto.envelopes import Held, ReplayGuard
from app.models.db import transaction

BATCH_ENVELOPES = 1000
BATCH_SECONDS = 0.5


def load_guard(conn: Connection) -> ReplayGuard:
    seen: dict[str, dict[int, Held]] = {}
    rows = conn.execute("SELECT sender, seq, digest, previous, waiting FROM team_guard")
    for sender, seq, digest, previous, waiting in rows:
        seen.setdefault(sender, {})[seq] = Held(digest, previous, waiting)
    return ReplayGuard(seen)


def load_refused(conn: Connection) -> dict[str, list[int]]:
    refused: dict[str, list[int]] = {}
    for sender, seq in conn.execute("SELECT sender, seq FROM team_refused ORDER BY sender, seq"):
        refused.setdefault(str(sender), []).append(int(seq))
    return refused


def write(conn: Connection, guard: ReplayGuard | None, refused: list[tuple[str, int]]) -> None:
    """Write what the guard recorded since it was last written (None: it was never read, so
    nothing), and ``refused`` (emptied)."""
    fresh = [] if guard is None else guard.take_fresh()
    if fresh:
        conn.executemany(
            "INSERT INTO team_guard (sender, seq, digest, previous, waiting) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (sender, seq) DO UPDATE SET "
            "digest = excluded.digest, previous = excluded.previous, waiting = excluded.waiting",
            [(sender, seq, *held) for sender, seq, held in fresh],
        )
    if refused:
        conn.executemany(
            "INSERT INTO team_refused (sender, seq) VALUES (?, ?) ON CONFLICT DO NOTHING", refused
        )
        refused.clear()


class Batches:
    """One transaction per batch of envelopes: ``begin()`` before dealing with each envelope
    (opens a transaction when none is open), ``done()`` after it (commits when the batch is
    full or has run ``seconds``). ``save`` runs inside each transaction just before it commits.
    Leaving the block commits what is open, or rolls it back when an error escapes."""

    def __init__(
        self,
        conn: Connection,
        save: Callable[[], None],
        size: int | None = None,
        seconds: float | None = None,
    ) -> None:
        self.conn, self.save = conn, save
        self.size = BATCH_ENVELOPES if size is None else size
        self.seconds = BATCH_SECONDS if seconds is None else seconds
        self._open: contextlib.ExitStack | None = None
        self._count, self._started = 0, 0.0

    def begin(self) -> None:
        if self._open is None:
            stack = contextlib.ExitStack()
            stack.enter_context(transaction(self.conn))
            self._open, self._count, self._started = stack, 0, time.perf_counter()

    def done(self) -> None:
        self._count += 1
        if self._count >= self.size or time.perf_counter() - self._started >= self.seconds:
            self.commit()

    def commit(self) -> None:
        stack, self._open = self._open, None
        if stack is not None:
            with stack:  # an error in save() rolls the batch back
                self.save()

    def __enter__(self) -> Batches:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.commit()
            return
        stack, self._open = self._open, None
        if stack is not None:
            stack.__exit__(kind, exc, tb)  # rolls back; the error goes on
