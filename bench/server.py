"""The team server benchmark (``python -m bench.server``, and part of ``make bench``).

One PostgreSQL server (a private cluster started from the machine's binaries, as the tests do;
skipped with a note where none is installed) holding 1,000,000 envelopes:

- 50 simulated devices of a county team, whose envelopes are bulk-loaded with COPY: random
  bytes the size of a one-operation envelope (ciphertext does not compress), each under one
  of 50,000 cases' scopes;
- the 10 real laptops of bench/team.py, after a simulated week (500 operations each), each
  piece of work sealed at once as a laptop that reaches its server syncs every few minutes
  (about one operation per envelope), published through the server by their own device roles.

Timed, each beside plain sqlite3 doing the same reading, inserting or deleting in the same run
(a ratio survives a noisy machine), on a table of the same rows with the same primary key:

- catch-up: one manager's laptop syncs (``engine.sync`` through its ``PostgresTransport``) and
  takes in the other nine laptops' operations (goal 3 s or less); the baseline reads the same
  envelopes from sqlite3 and inserts as many rows as there were operations;
- a sync with nothing new on that laptop (goal 50 ms or less);
- the transport alone for a device of the county team: catch-up of 4,500 envelopes (the newest
  90 of each of the 50 devices) while holding the other 995,500, and a read with nothing new;
- server bytes per operation (``pg_total_relation_size`` of the envelopes table, its index and
  TOAST, grown by the real laptops' publishing, per operation; and per envelope overall);
- compaction of 10,000 purged cases: the admin's device deletes their envelopes.

Goals are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.crypto.memory_keyring import MemoryKeyring
from app.services import accounts
from app.sync import engine
from app.sync.server import PostgresTransport, ServerAddress, create_device_role, missing_ranges
from bench import team as team_bench
from bench.store import open_plain

ENVELOPES = 1_000_000
DEVICES = 50
CASES = 50_000
PURGED = 10_000
TAIL = 90  # per device: 50 x 90 = 4,500 envelopes to catch up
RUNS = 5
CATCH_UP_GOAL_S = 3.0
NOOP_GOAL_MS = 50.0
HEADER_BYTES = 330  # an envelope's header, nonce, tag and signature around its operations
OUT = Path(__file__).resolve().parent / "out" / "server.json"
DATABASE = "bench"
COUNTY = "county-team"


@dataclass(frozen=True)
class ServerBench:
    envelopes: int
    devices: int
    real_operations: int  # operations the catching-up laptop took in
    real_envelopes: int
    catch_up_s: float
    catch_up_base_s: float
    noop_ms: tuple[float, ...]
    noop_base_ms: float
    transport_catch_up_s: float
    transport_catch_up_base_s: float
    transport_noop_ms: tuple[float, ...]
    transport_noop_base_ms: float
    bytes_per_operation: float
    bytes_per_envelope: float
    sqlite_bytes_per_envelope: float
    compacted_cases: int
    compacted_envelopes: int
    compact_s: float
    compact_base_s: float

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name, value in self.__dict__.items():
            if isinstance(value, tuple):
                out[f"{name}_best"] = round(min(value), 3)
                out[f"{name}_median"] = round(statistics.median(value), 3)
            else:
                out[name] = round(value, 4) if isinstance(value, float) else value
        out["catch_up_goal_seconds"] = CATCH_UP_GOAL_S
        out["noop_goal_ms"] = NOOP_GOAL_MS
        return out


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


# -- the county team's filler ------------------------------------------------------------------


def _device_name(n: int) -> str:
    return f"county-{n:02d}"


def load_filler(owner: Any, plain: sqlite3.Connection, rows: int, size: int, seed: int) -> None:
    """``rows`` envelopes from the county team's devices, numbered 1, 2, ... each, by COPY into
    the server and by executemany into the sqlite3 copy (same rows, same key)."""
    rng = random.Random(seed)
    noise = os.urandom(8 * 1024 * 1024)
    per_device = rows // DEVICES
    owner.execute(
        "INSERT INTO safecase.devices (device, team) SELECT 'county-' || lpad(n::text, 2, '0'), "
        "%s FROM generate_series(0, %s) AS n ON CONFLICT DO NOTHING",
        (COUNTY, DEVICES - 1),
    )
    owner.execute("ALTER TABLE safecase.envelopes DISABLE TRIGGER USER")
    plain.execute("BEGIN")
    with (
        owner.cursor() as cur,
        cur.copy(
            "COPY safecase.envelopes (team, sender, seq, scope, data) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(["text", "text", "int8", "text", "bytea"])
        for device in range(DEVICES):
            sender = _device_name(device)
            batch = []
            for seq in range(1, per_device + 1):
                length = max(200, int(size * rng.uniform(0.7, 1.3)))
                start = rng.randrange(0, len(noise) - length)
                row = (COUNTY, sender, seq, f"case:{rng.randrange(CASES):05d}")
                data = noise[start : start + length]
                copy.write_row((*row, data))
                batch.append((sender, seq, row[3], data))
            plain.executemany("INSERT INTO envelopes VALUES (?, ?, ?, ?)", batch)
    plain.execute("COMMIT")
    owner.execute("ALTER TABLE safecase.envelopes ENABLE TRIGGER USER")
    owner.execute("VACUUM ANALYZE safecase.envelopes")


def _plain_envelopes(path: Path) -> sqlite3.Connection:
    plain = open_plain(path)
    plain.execute(
        "CREATE TABLE envelopes (sender TEXT NOT NULL, seq INTEGER NOT NULL, scope TEXT, "
        "data BLOB NOT NULL, PRIMARY KEY (sender, seq))"
    )
    return plain


def plain_ranges(plain: sqlite3.Connection, have: dict[str, set[int]]) -> int:
    """The same ranges the server is asked for, read from sqlite3; returns rows read."""
    count = 0
    for sender, low, high in zip(*missing_ranges(have), strict=True):
        for _seq, _data in plain.execute(
            "SELECT seq, data FROM envelopes WHERE sender = ? AND seq BETWEEN ? AND ?",
            (sender, low, min(high, 2**62)),
        ):
            count += 1
    return count


def _plain_insert(plain: sqlite3.Connection, payloads: list[tuple[bytes]]) -> None:
    plain.execute("CREATE TABLE IF NOT EXISTS ops (n INTEGER PRIMARY KEY, payload BLOB)")
    plain.execute("BEGIN")
    plain.executemany("INSERT INTO ops (payload) VALUES (?)", payloads)
    plain.execute("COMMIT")


def online_week(team: list[team_bench.Laptop], operations: int) -> None:
    """As bench/team.py's week, but each piece of work is sealed at once, as a laptop that
    reaches its server syncs every few minutes: about one operation per envelope."""
    admin = team[0].session.conn
    for laptop in team:
        session = laptop.session
        state = engine.load(session.conn)
        held = [team_bench._local(session.conn, team_bench._gid(admin, c)) for c in laptop.cases]
        goal = team_bench._made(session.conn) + operations
        step = 0
        while (left := goal - team_bench._made(session.conn)) > 0:
            team_bench._work(session, held[step % len(held)], step if left > 1 else 0)
            engine.seal_outgoing(session.conn, state, session.user_id, session.now())
            step += 1


# -- the run -------------------------------------------------------------------------------------


def time_server(
    cluster: Any, folder: Path, envelopes: int, operations: int, seed: int = 1
) -> ServerBench:
    import psycopg

    from tests import pgcluster

    server = pgcluster.team_server(cluster, DATABASE, COUNTY)
    address = ServerAddress(
        host=str(cluster.folder), port=cluster.port, database=DATABASE, tls="disable"
    )
    keyring = MemoryKeyring()
    team = team_bench.build_team(folder, keyring, team_bench.LAPTOPS, team_bench.CASES_EACH)
    owner = psycopg.connect(server.owner_dsn, autocommit=True)
    transports: list[PostgresTransport] = []
    plain = _plain_envelopes(folder / "plain.sqlite3")
    try:
        online_week(team, operations)
        sealed = [
            (len(bytes(r[0])))
            for laptop in team
            for r in laptop.session.conn.execute("SELECT data FROM team_outgoing")
        ]
        op_bytes = sum(sealed) / max(1, operations * len(team))
        real_team = engine.load(team[0].session.conn).team_id
        for n, laptop in enumerate(team):
            device = engine.load(laptop.session.conn).device.device_id
            create_device_role(owner, real_team, device, f"bench-{device}", admin=n == 0)
            transports.append(PostgresTransport(address, device, f"bench-{device}"))

        filler = max(DEVICES, envelopes - len(sealed))
        load_filler(owner, plain, filler, int(op_bytes) + HEADER_BYTES, seed)

        def size() -> int:
            row = owner.execute("SELECT pg_total_relation_size('safecase.envelopes')").fetchone()
            return int(row[0]) if row else 0

        before = size()
        for laptop, transport in zip(team, transports, strict=True):
            engine.publish(laptop.session.conn, engine.load(laptop.session.conn), transport)
        owner.execute("VACUUM ANALYZE safecase.envelopes")
        after = size()
        real_rows = owner.execute(
            "SELECT sender, seq, scope, data FROM safecase.envelopes WHERE team = %s",
            (real_team,),
        ).fetchall()
        plain.execute("BEGIN")
        plain.executemany(
            "INSERT INTO envelopes VALUES (?, ?, ?, ?)",
            [(s, q, c, bytes(d)) for s, q, c, d in real_rows],
        )
        plain.execute("COMMIT")
        total_rows = filler + len(real_rows)
        plain_bytes = os.path.getsize(folder / "plain.sqlite3")

        # -- a manager's laptop catches up, then syncs with nothing new ------------------
        reader, reader_transport = team[1], transports[1]
        conn = reader.session.conn
        me = engine.load(conn).device.device_id
        ops_before = int(conn.execute("SELECT count(*) FROM operations").fetchone()[0])
        catch_up = _timed(
            lambda: engine.sync(
                conn, reader.session.user_id, reader.session.now(), reader_transport
            )
        )
        taken = int(conn.execute("SELECT count(*) FROM operations").fetchone()[0]) - ops_before
        others = {s: set[int]() for s, _q, _c, _d in real_rows if s != me}
        real_bytes = sum(len(bytes(d)) for s, _q, _c, d in real_rows if s != me)

        payloads = [(os.urandom(max(1, real_bytes // max(1, taken))),) for _ in range(taken)]

        def catch_up_base() -> None:
            plain_ranges(plain, others)
            _plain_insert(plain, payloads)

        catch_up_base_s = _timed(catch_up_base)
        noop = [
            _timed(
                lambda: engine.sync(
                    conn, reader.session.user_id, reader.session.now(), reader_transport
                )
            )
            * 1000
            for _ in range(RUNS)
        ]
        held_real = {s: {q for s2, q, _c, _d in real_rows if s2 == s} for s in others}
        noop_base = min(_timed(lambda: plain_ranges(plain, held_real)) for _ in range(RUNS)) * 1000

        # -- the transport alone, for a device of the county team ------------------------
        per_device = filler // DEVICES
        sim = _device_name(0)
        create_device_role(owner, COUNTY, sim, "bench-county", admin=True)
        county = PostgresTransport(address, sim, "bench-county")
        transports.append(county)
        behind = {_device_name(n): set(range(1, per_device - TAIL + 1)) for n in range(DEVICES)}
        full = {_device_name(n): set(range(1, per_device + 1)) for n in range(DEVICES)}
        transport_catch_up = _timed(lambda: sum(1 for _ in county.incoming(behind)))
        transport_catch_up_base = _timed(lambda: plain_ranges(plain, behind))
        transport_noop = [
            _timed(lambda: sum(1 for _ in county.incoming(full))) * 1000 for _ in range(RUNS)
        ]
        transport_noop_base = min(_timed(lambda: plain_ranges(plain, full)) for _ in range(RUNS))

        # -- compaction of 10,000 purged cases ------------------------------------------
        purged = {f"case:{n:05d}" for n in random.Random(seed).sample(range(CASES), PURGED)}
        deleted: list[int] = []
        compact_s = _timed(lambda: deleted.append(county.compact(purged)))

        def compact_base() -> None:
            plain.execute("BEGIN")
            plain.execute("CREATE TEMP TABLE purged (scope TEXT PRIMARY KEY)")
            plain.executemany("INSERT INTO purged VALUES (?)", [(s,) for s in purged])
            plain.execute("DELETE FROM envelopes WHERE scope IN (SELECT scope FROM purged)")
            plain.execute("COMMIT")

        compact_base_s = _timed(compact_base)
    finally:
        for transport in transports:
            transport.close()
        owner.close()
        plain.close()
        for laptop in team:
            if laptop.session.active:
                accounts.sign_out(laptop.session)
    return ServerBench(
        envelopes=total_rows,
        devices=DEVICES,
        real_operations=taken,
        real_envelopes=len(real_rows),
        catch_up_s=catch_up,
        catch_up_base_s=catch_up_base_s,
        noop_ms=tuple(noop),
        noop_base_ms=noop_base,
        transport_catch_up_s=transport_catch_up,
        transport_catch_up_base_s=transport_catch_up_base,
        transport_noop_ms=tuple(transport_noop),
        transport_noop_base_ms=transport_noop_base * 1000,
        bytes_per_operation=(after - before) / max(1, operations * len(team)),
        bytes_per_envelope=after / max(1, total_rows),
        sqlite_bytes_per_envelope=plain_bytes / max(1, total_rows),
        compacted_cases=PURGED,
        compacted_envelopes=deleted[0] if deleted else 0,
        compact_s=compact_s,
        compact_base_s=compact_base_s,
    )


def format_server(r: ServerBench) -> list[str]:
    def ratio(a: float, b: float) -> str:
        return f"(x{a / max(b, 1e-9):.1f})"

    noop_best = min(r.noop_ms)
    return [
        f"Team server: {r.envelopes:,} envelopes from {r.devices} simulated devices and "
        f"{team_bench.LAPTOPS} real laptops, one PostgreSQL cluster",
        f"  catch-up, {r.real_operations:,} operations in {r.real_envelopes} envelopes "
        f"{r.catch_up_s:8.3f} s   goal <= {CATCH_UP_GOAL_S:.0f} s",
        f"    plain sqlite3 read + insert          {r.catch_up_base_s:8.3f} s   "
        f"{ratio(r.catch_up_s, r.catch_up_base_s)}",
        f"  sync with nothing new            best {noop_best:8.2f} ms   median "
        f"{statistics.median(r.noop_ms):8.2f} ms   goal <= {NOOP_GOAL_MS:.0f} ms",
        f"    plain sqlite3 same ranges            {r.noop_base_ms:8.2f} ms   "
        f"{ratio(noop_best, r.noop_base_ms)}",
        f"  transport catch-up, {DEVICES * TAIL:,} of {r.envelopes:,}  "
        f"{r.transport_catch_up_s:8.3f} s   "
        f"sqlite3 {r.transport_catch_up_base_s:.3f} s "
        f"{ratio(r.transport_catch_up_s, r.transport_catch_up_base_s)}",
        f"  transport read, nothing new      best {min(r.transport_noop_ms):8.2f} ms   "
        f"sqlite3 {r.transport_noop_base_ms:.2f} ms "
        f"{ratio(min(r.transport_noop_ms), r.transport_noop_base_ms)}",
        f"  server bytes per operation       {r.bytes_per_operation:8.1f}   "
        f"(per envelope {r.bytes_per_envelope:.0f}; sqlite3 {r.sqlite_bytes_per_envelope:.0f})",
        f"  compaction, {r.compacted_cases:,} purged cases ({r.compacted_envelopes:,} envelopes) "
        f"{r.compact_s:8.3f} s   sqlite3 {r.compact_base_s:.3f} s "
        f"{ratio(r.compact_s, r.compact_base_s)}",
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server-envelopes",
        type=int,
        help=f"envelopes on the benchmark's team server (default {ENVELOPES:,}; --quick "
        "20,000; 0 skips it)",
    )


def envelopes_from(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--quick", action="store_true")
    add_arguments(parser)
    args, _ = parser.parse_known_args(argv)
    if args.server_envelopes is not None:
        return max(0, int(args.server_envelopes))
    return 20_000 if args.quick else ENVELOPES


def run_from_args(argv: list[str] | None, out: Path = OUT) -> ServerBench | None:
    """Start a cluster, build, time, print, save; None if skipped (with a note)."""
    envelopes = envelopes_from(argv)
    if envelopes == 0:
        return None
    from tests import pgcluster

    try:
        cluster = pgcluster.start()
    except pgcluster.NoPostgres as exc:
        print(f"\nTeam server benchmark skipped: {exc}")
        return None
    try:
        with tempfile.TemporaryDirectory(prefix="safecase-bench-server-") as name:
            result = time_server(cluster, Path(name), envelopes, team_bench.operations_from(argv))
    finally:
        cluster.stop()
    print("\n".join(format_server(result)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    print(f"\nWrote {out}")
    return result


if __name__ == "__main__":
    run_from_args(sys.argv[1:])
