"""One benchmark run: unlock cost, then throughput of the Safecase store against plain sqlite3."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from app.crypto.kdf import Argon2Params
from app.services import accounts
from bench.cases import CasesResult, format_cases, run_cases
from bench.data import make_workload
from bench.retention import PURGE_CASES, QUICK_PURGE_CASES, PurgeBench, format_purge, time_purge
from bench.store import UnlockResult, create_store, measure_unlock, open_plain
from bench.workload import BATCH, OpResult, Side, run_throughput

SAFECASE = "safecase"
SQLITE = "sqlite3"
OUT = Path(__file__).resolve().parent / "out" / "latest.json"


@dataclass(frozen=True)
class Config:
    rows: int = 50_000
    seed: int = 1
    rounds: int = 3
    point_lookups: int = 20_000
    range_lookups: int = 2_000
    unlock_runs: int = 5
    connect_runs: int = 20
    # None: the real, calibrated Argon2id cost the product uses (about 0.5 s).
    kdf: Argon2Params | None = None
    # The case-records part: demo cases to generate (0 skips it), then what is timed.
    cases: int = 100_000
    searches: int = 200
    case_opens: int = 300
    note_saves: int = 300
    # Then due cases approved and purged on that same store (0 skips the purge).
    purge: int = PURGE_CASES

    @classmethod
    def quick(cls, seed: int = 1) -> Config:
        return cls(
            rows=2_000,
            seed=seed,
            rounds=3,
            point_lookups=2_000,
            range_lookups=200,
            unlock_runs=2,
            connect_runs=5,
            cases=1_000,
            searches=60,
            case_opens=60,
            note_saves=60,
            purge=QUICK_PURGE_CASES,
        )


@dataclass(frozen=True)
class Result:
    config: Config
    environment: dict[str, str]
    unlock: UnlockResult
    operations: list[OpResult]
    peak_rss_mib: float | None
    cases: CasesResult | None = None

    @property
    def purge(self) -> PurgeBench | None:
        """The retention purge, timed on the case-records store after its other figures."""
        then = self.cases.then if self.cases else None
        return then if isinstance(then, PurgeBench) else None

    def to_json(self) -> dict[str, object]:
        c = self.config
        return {
            "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "config": {
                "rows": c.rows,
                "seed": c.seed,
                "rounds": c.rounds,
                "batch": BATCH,
                "point_lookups": c.point_lookups,
                "range_lookups": c.range_lookups,
                "unlock_runs": c.unlock_runs,
                "connect_runs": c.connect_runs,
                "kdf": "calibrated" if c.kdf is None else c.kdf.to_json(),
                "cases": c.cases,
                "searches": c.searches,
                "case_opens": c.case_opens,
                "note_saves": c.note_saves,
            },
            "environment": self.environment,
            "unlock": self.unlock.to_json(),
            "throughput": {
                op.key: {
                    "label": op.label,
                    "unit": op.unit,
                    "ops": op.ops,
                    "safecase_ops_per_s": round(op.rate(SAFECASE), 1),
                    "sqlite3_ops_per_s": round(op.rate(SQLITE), 1),
                    "ratio_safecase_time_over_sqlite3_time": round(op.ratio(SAFECASE, SQLITE), 3),
                    "best_seconds": {side: round(op.best(side), 6) for side in op.seconds},
                    "seconds": {
                        side: [round(s, 6) for s in runs] for side, runs in op.seconds.items()
                    },
                }
                for op in self.operations
            },
            "cases": None if self.cases is None else self.cases.to_json(),
            "purge": None if self.purge is None else self.purge.to_json(),
            "peak_rss_mib": None if self.peak_rss_mib is None else round(self.peak_rss_mib, 1),
        }


def peak_rss_mib() -> float | None:
    """This process's peak resident set size so far (Argon2id's memory included)."""
    if sys.platform == "win32":
        return None
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def filesystem_type(folder: Path) -> str:
    """The file system the temporary files live on (Linux only): tmpfs would make fsync free."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return "unknown"
    target = str(folder.resolve())
    best, kind = "", "unknown"
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1]
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, fields[2]
    return kind


def run(config: Config) -> Result:
    work = make_workload(config.rows, config.seed, config.point_lookups, config.range_lookups)
    with tempfile.TemporaryDirectory(prefix="safecase-bench-") as name:
        folder = Path(name)
        store = create_store(folder, config.kdf)
        unlock = measure_unlock(store, folder, config.unlock_runs, config.connect_runs)
        session = store.sign_in()
        plain = open_plain(folder / "plain.sqlite3")
        try:
            conn = session.vault.conn
            environment = {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": str(os.cpu_count() or "unknown"),
                "sqlcipher": str(conn.execute("PRAGMA cipher_version").fetchone()[0]),
                "safecase_sqlite": str(conn.execute("SELECT sqlite_version()").fetchone()[0]),
                "stdlib_sqlite": sqlite3.sqlite_version,
                # SQLCipher answers with the text "0" or "1".
                "memory_security": "on"
                if int(conn.execute("PRAGMA cipher_memory_security").fetchone()[0])
                else "off",
                "temp_folder": str(folder.parent),
                "temp_filesystem": filesystem_type(folder),
            }
            sides = [Side(SAFECASE, conn), Side(SQLITE, plain)]
            operations = run_throughput(sides, work, config.rounds)
        finally:
            plain.close()
            accounts.sign_out(session)
        cases = None
        if config.cases > 0:
            cases_folder = folder / "cases"
            cases_folder.mkdir()
            purge = config.purge
            cases = run_cases(
                cases_folder,
                config.cases,
                config.seed,
                searches=config.searches,
                opens=config.case_opens,
                saves=config.note_saves,
                stream=sys.stderr,
                then=(
                    (lambda admin, password, keyring: time_purge(admin, purge, password, keyring))
                    if purge > 0
                    else None
                ),
            )
    return Result(config, environment, unlock, operations, peak_rss_mib(), cases)


# -- reporting -------------------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:,.0f}"


def format_table(result: Result) -> str:
    c, u, env = result.config, result.unlock, result.environment
    kdf = "calibrated" if c.kdf is None else "explicit (test)"
    lines = [
        "Safecase benchmark",
        f"  rows {c.rows:,}  seed {c.seed}  best of {c.rounds} interleaved rounds",
        f"  Python {env['python']}  {env['platform']}  {env['cpus']} CPUs",
        f"  SQLCipher {env['sqlcipher']} (SQLite {env['safecase_sqlite']})"
        f"  vs stdlib sqlite3 (SQLite {env['stdlib_sqlite']}); "
        f"cipher_memory_security {env['memory_security']}",
        f"  temp files on {env['temp_folder']} ({env['temp_filesystem']})",
        "",
        "Unlock",
        f"  Argon2id ({kdf}, from the user slot)  m={u.kdf.memory_kib:,} KiB  "
        f"t={u.kdf.time_cost}  p={u.kdf.parallelism}",
    ]
    timed = [
        (f"sign_in + sign_out ({len(u.unlock.samples_ms)} runs)", u.unlock),
        ("  of which sign_in", u.sign_in),
        ("Argon2id derivation alone", u.argon2id),
        (f"raw-key SQLCipher connect ({len(u.connect.samples_ms)} runs)", u.connect),
    ]
    lines.append(f"  {'':<44}{'median ms':>12}{'max ms':>12}")
    for label, timing in timed:
        lines.append(f"  {label:<44}{timing.median_ms:>12.2f}{timing.max_ms:>12.2f}")
    lines += [
        "",
        f"Throughput (ops/s, best of {c.rounds}; ratio = Safecase time / sqlite3 time)",
        f"  {'operation':<30}{'ops':>8}{'Safecase':>14}{'sqlite3':>14}{'ratio':>9}",
    ]
    for op in result.operations:
        lines.append(
            f"  {op.label:<30}{op.ops:>8,}{_n(op.rate(SAFECASE)):>14}{_n(op.rate(SQLITE)):>14}"
            f"{op.ratio(SAFECASE, SQLITE):>8.2f}x"
        )
    if result.cases is not None:
        lines += format_cases(result.cases)
    if result.purge is not None:
        lines += format_purge(result.purge)
    rss = "n/a" if result.peak_rss_mib is None else f"{result.peak_rss_mib:,.1f} MiB"
    lines += ["", f"Peak RSS: {rss}"]
    return "\n".join(lines)


def write_json(result: Result, path: Path = OUT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    return path
