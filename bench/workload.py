"""The throughput work, written once and run against both connections alike."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bench.data import Workload

TABLE = "bench_notes"
BATCH = 1_000

CREATE = (
    f"CREATE TABLE {TABLE} ("
    "id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL, at TEXT NOT NULL, "
    "kind TEXT NOT NULL, body TEXT NOT NULL)",
    f"CREATE INDEX {TABLE}_case ON {TABLE}(case_id)",
)
INSERT = f"INSERT INTO {TABLE} (id, case_id, at, kind, body) VALUES (?, ?, ?, ?, ?)"
SELECT_ALL = f"SELECT id, case_id, at, kind, body FROM {TABLE}"
SELECT_ID = f"SELECT case_id, at, kind, body FROM {TABLE} WHERE id = ?"
SELECT_CASE = f"SELECT id, at, kind, body FROM {TABLE} WHERE case_id = ?"


class Rows(Protocol):
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Db(Protocol):
    """What the work needs of a connection: both sqlcipher3's and sqlite3's have it."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Rows: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Rows: ...


@dataclass(frozen=True)
class Side:
    name: str
    conn: Db


def checkpoint(conn: Db) -> None:
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def reset(conn: Db) -> None:
    """An empty bench table with its case_id index, and an empty WAL."""
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute("BEGIN IMMEDIATE")
    for statement in CREATE:
        conn.execute(statement)
    conn.execute("COMMIT")
    checkpoint(conn)


# -- the four operations; each returns a check value that both sides must agree on -------------


def insert(conn: Db, work: Workload) -> int:
    rows = work.rows
    for start in range(0, len(rows), BATCH):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT, rows[start : start + BATCH])
        conn.execute("COMMIT")
    return len(rows)


def full_read(conn: Db, work: Workload) -> int:
    chars = 0
    for row in conn.execute(SELECT_ALL):
        chars += len(row[4])
    return chars


def point_lookups(conn: Db, work: Workload) -> int:
    chars = 0
    for row_id in work.point_ids:
        chars += len(conn.execute(SELECT_ID, (row_id,)).fetchone()[3])
    return chars


def range_lookups(conn: Db, work: Workload) -> int:
    chars = 0
    for case_id in work.range_case_ids:
        for row in conn.execute(SELECT_CASE, (case_id,)):
            chars += len(row[3])
    return chars


@dataclass(frozen=True)
class Operation:
    key: str
    label: str
    unit: str
    run: Callable[[Db, Workload], int]
    count: Callable[[Workload], int]


OPERATIONS = (
    Operation("insert", "insert (1,000-row txns)", "rows", insert, lambda w: len(w.rows)),
    Operation("full_read", "full read (every row)", "rows", full_read, lambda w: len(w.rows)),
    Operation(
        "point_lookup",
        "point lookup (id = ?)",
        "queries",
        point_lookups,
        lambda w: len(w.point_ids),
    ),
    Operation(
        "range_lookup",
        "range lookup (case_id = ?)",
        "queries",
        range_lookups,
        lambda w: len(w.range_case_ids),
    ),
)


@dataclass
class OpResult:
    """Every round's time for one operation on each side; the best round is reported."""

    key: str
    label: str
    unit: str
    ops: int
    seconds: dict[str, list[float]] = field(default_factory=dict)
    check: dict[str, int] = field(default_factory=dict)

    def best(self, side: str) -> float:
        return min(self.seconds[side])

    def rate(self, side: str) -> float:
        return self.ops / self.best(side)

    def ratio(self, side: str, baseline: str) -> float:
        return self.best(side) / self.best(baseline)


def _timed(op: Operation, side: Side, work: Workload) -> tuple[float, int]:
    gc.collect()
    start = time.perf_counter()
    check = op.run(side.conn, work)
    return time.perf_counter() - start, check


def run_throughput(sides: Sequence[Side], work: Workload, rounds: int) -> list[OpResult]:
    """Run every operation ``rounds`` times on every side, interleaved.

    Within a round the sides take turns operation by operation, and the order of the sides
    flips each round, so a noisy machine slows both alike. Each round starts from an empty
    table; the WAL is checkpointed (untimed) after the inserts so reads start the same way.
    """
    results = {
        op.key: OpResult(op.key, op.label, op.unit, op.count(work), {s.name: [] for s in sides})
        for op in OPERATIONS
    }
    for number in range(rounds):
        order = list(sides) if number % 2 == 0 else list(reversed(sides))
        for side in order:
            reset(side.conn)
        for op in OPERATIONS:
            for side in order:
                seconds, check = _timed(op, side, work)
                result = results[op.key]
                result.seconds[side.name].append(seconds)
                if result.check.setdefault(side.name, check) != check:
                    raise RuntimeError(f"{op.key} on {side.name} changed between rounds")
            if op.key == "insert":
                for side in order:
                    checkpoint(side.conn)
        for result in results.values():
            if len(set(result.check.values())) != 1:
                raise RuntimeError(f"{result.key}: the sides did different work: {result.check}")
    return list(results.values())
