"""The retention benchmark: approve up to 10,000 due cases on a demo store of 100,000 and time
the purge, each case in its own transaction, including the checkpoint and VACUUM that leave no
trace (goal: 60 s or less, reported, never asserted).

``time_purge`` works on any open admin Session; ``run_purge`` builds the demo store first, in a
folder the caller made, with its device secret in a ``MemoryKeyring`` and a small Argon2id cost
(unlocking is measured elsewhere).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from app.crypto.device import DeviceSecrets
from app.crypto.kdf import Argon2Params
from app.crypto.memory_keyring import MemoryKeyring
from app.models.retention import Status
from app.services import accounts, demo, retention
from app.services.session import Session

GOAL_SECONDS = 60.0
STORE_CASES = 100_000
PURGE_CASES = 10_000
QUICK_STORE_CASES = 2_000
QUICK_PURGE_CASES = 200
APPROVE_BATCH = 1_000
PURGE_KDF = Argon2Params(memory_kib=1024, time_cost=1, parallelism=1)
OUT = Path(__file__).resolve().parent / "out" / "retention.json"
SERVICE_NAME = "Bench Retention Service"
ADMIN_NAME = "bench-admin"


@dataclass(frozen=True)
class PurgeBench:
    store_cases: int
    due: int  # due for destruction today, before approval
    approved: int
    destroyed: int
    approve_seconds: float  # not part of the goal: review happens before the run
    purge_seconds: float  # retention.purge: destroying, then the checkpoint and VACUUM
    purge_cpu_seconds: float  # this process's CPU time for it (a busy machine inflates wall)
    scrub_seconds: float  # of which the checkpoint and VACUUM
    size_before_mib: float
    size_after_mib: float
    generate_seconds: float = 0.0

    @property
    def destroy_seconds(self) -> float:
        return self.purge_seconds - self.scrub_seconds

    @property
    def within_goal(self) -> bool:
        return self.purge_seconds <= GOAL_SECONDS

    def to_json(self) -> dict[str, object]:
        return {
            "store_cases": self.store_cases,
            "due": self.due,
            "approved": self.approved,
            "destroyed": self.destroyed,
            "approve_seconds": round(self.approve_seconds, 3),
            "purge_seconds": round(self.purge_seconds, 3),
            "purge_cpu_seconds": round(self.purge_cpu_seconds, 3),
            "destroy_seconds": round(self.destroy_seconds, 3),
            "scrub_seconds": round(self.scrub_seconds, 3),
            "size_before_mib": round(self.size_before_mib, 1),
            "size_after_mib": round(self.size_after_mib, 1),
            "generate_seconds": round(self.generate_seconds, 1),
            "goal_seconds": GOAL_SECONDS,
        }


def _mib(path: Path) -> float:
    return path.stat().st_size / (1024 * 1024)


def time_purge(session: Session, limit: int = PURGE_CASES) -> PurgeBench:
    """Approve up to ``limit`` due cases on the admin ``session``'s store, then time one purge
    run: destroying them, the write-ahead log checkpoint and the VACUUM."""
    path = session.vault.path
    conn = session.conn
    store_cases = int(conn.execute("SELECT count(*) FROM cases").fetchone()[0])
    due = retention.due_items(session)
    waiting = [i.reference for i in due if i.status is Status.AWAITING_REVIEW]
    already = sum(1 for i in due if i.status is Status.APPROVED)
    chosen = waiting[: max(0, limit - already)]
    started = time.perf_counter()
    for first in range(0, len(chosen), APPROVE_BATCH):
        retention.approve(session, chosen[first : first + APPROVE_BATCH], "Benchmark run")
    approve_seconds = time.perf_counter() - started
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    size_before = _mib(path)
    started, cpu = time.perf_counter(), time.process_time()
    result = retention.purge(session)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return PurgeBench(
        store_cases=store_cases,
        due=len(due),
        approved=already + len(chosen),
        destroyed=len(result.destroyed),
        approve_seconds=approve_seconds,
        purge_seconds=seconds,
        purge_cpu_seconds=cpu,
        scrub_seconds=result.scrub_seconds,
        size_before_mib=size_before,
        size_after_mib=_mib(path),
    )


def run_purge(
    folder: Path,
    cases: int = STORE_CASES,
    limit: int = PURGE_CASES,
    seed: int = 1,
    stream: TextIO | None = None,
) -> PurgeBench:
    """Build a demo store of ``cases`` in ``folder`` and time purging up to ``limit`` of them."""
    path = folder / "retention.safecase"
    session, _recovery = accounts.create_store(
        path,
        service_name=SERVICE_NAME,
        admin_name=ADMIN_NAME,
        password="bench-" + secrets.token_urlsafe(18),
        device=DeviceSecrets(MemoryKeyring()),
        kdf=PURGE_KDF,
        training=True,  # synthetic records only
    )
    try:
        progress = None
        if stream is not None:
            progress = _progress(stream)
        summary = demo.generate_cases(session, cases, seed, progress)
        result = time_purge(session, limit)
    finally:
        accounts.sign_out(session)
    return PurgeBench(**{**result.__dict__, "generate_seconds": summary.seconds})


def _progress(stream: TextIO) -> demo.Progress:
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.perf_counter()
        if done == total or now - last[0] > 10:
            last[0] = now
            print(f"  retention store: {done:,}/{total:,} demo cases", file=stream, flush=True)

    return report


def format_purge(result: PurgeBench) -> list[str]:
    """The retention part of the printed table."""
    mark = "" if result.within_goal else "  over"
    return [
        "",
        f"Retention purge ({result.store_cases:,} synthetic cases; {result.due:,} due, "
        f"{result.approved:,} approved)",
        (
            f"  demo generation {result.generate_seconds:,.1f} s; "
            if result.generate_seconds
            else "  on the case-records store above; "
        )
        + f"approving (not timed in the goal) {result.approve_seconds:,.1f} s",
        f"  purge of {result.destroyed:,} cases{'':<10}{result.purge_seconds:>10.1f} s"
        f"   (goal <= {GOAL_SECONDS:.0f} s){mark}",
        f"    destroying, one transaction each{result.destroy_seconds:>10.1f} s",
        f"    checkpoint + VACUUM{'':<14}{result.scrub_seconds:>10.1f} s",
        f"    CPU time of the purge{'':<12}{result.purge_cpu_seconds:>10.1f} s",
        f"  store {result.size_before_mib:,.1f} MiB before, {result.size_after_mib:,.1f} MiB after",
    ]


# -- the command line (python -m bench) --------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--purge-store",
        type=int,
        help=f"with --cases 0: demo cases in a store of its own for the purge (default "
        f"{STORE_CASES:,}; 0 skips the purge)",
    )
    parser.add_argument(
        "--purge", type=int, help=f"due cases to approve and purge (default {PURGE_CASES:,})"
    )


def sizes(argv: list[str] | None) -> tuple[int, int]:
    """(store cases, cases to purge) from the command line, --quick giving small ones."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    add_arguments(parser)
    args, _ = parser.parse_known_args(argv)
    store = QUICK_STORE_CASES if args.quick else STORE_CASES
    purge = QUICK_PURGE_CASES if args.quick else PURGE_CASES
    store = store if args.purge_store is None else max(0, args.purge_store)
    purge = purge if args.purge is None else max(0, args.purge)
    return store, purge


def run_from_args(argv: list[str] | None, seed: int = 1, out: Path = OUT) -> PurgeBench | None:
    """The retention part of ``python -m bench``: build, purge, print, save; None if skipped."""
    store, purge = sizes(argv)
    if store == 0:
        return None
    with tempfile.TemporaryDirectory(prefix="safecase-bench-purge-") as name:
        result = run_purge(Path(name), store, purge, seed, stream=sys.stderr)
    print("\n".join(format_purge(result)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    print(f"\nWrote {out}")
    return result
