"""The retention benchmark: approve up to 10,000 due cases on a demo store of 100,000 and time
the purge, each case in its own transaction, including the index merge and the closing rekey
that leave no trace (goals: 60 s or less and a peak of 300 MiB or less, reported, never
asserted); then time one plain key rotation of the same store.

The purge and the rotation run in a child process of their own, as the desktop app would run
them, so that its peak resident memory (SQLite and SQLCipher allocate in C, where tracemalloc
cannot see) is the purge's and not the benchmark's.

``time_purge`` works on any open admin Session, given the admin's password and the keyring
that holds the store's device secret; ``run_purge`` builds the demo store first, in a folder the
caller made, with its device secret in a ``MemoryKeyring`` and a small Argon2id cost (unlocking
is measured elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
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
GOAL_PEAK_MIB = 300.0
STORE_CASES = 100_000
PURGE_CASES = 10_000
QUICK_STORE_CASES = 2_000
QUICK_PURGE_CASES = 200
APPROVE_BATCH = 1_000
PURGE_KDF = Argon2Params(memory_kib=1024, time_cost=1, parallelism=1)
OUT = Path(__file__).resolve().parent / "out" / "retention.json"
ROOT = Path(__file__).resolve().parent.parent
SERVICE_NAME = "Bench Retention Service"
ADMIN_NAME = "bench-admin"


@dataclass(frozen=True)
class PurgeBench:
    store_cases: int
    due: int  # due for destruction today, before approval
    approved: int
    destroyed: int
    approve_seconds: float  # not part of the goal: review happens before the run
    purge_seconds: float  # retention.purge: destroying, then the index merge and the rekey
    purge_cpu_seconds: float  # the child's CPU time for it (a busy machine inflates wall)
    scrub_seconds: float  # of which the index merge and the closing rekey
    size_before_mib: float
    size_after_mib: float
    start_rss_mib: float  # the child process once signed in, before the purge
    purge_peak_mib: float  # the child's peak resident memory up to the end of the purge
    rotate_seconds: float  # then one plain key rotation of the purged store
    rotate_peak_mib: float  # the child's peak up to the end of that rotation
    generate_seconds: float = 0.0

    @property
    def destroy_seconds(self) -> float:
        return self.purge_seconds - self.scrub_seconds

    @property
    def within_goal(self) -> bool:
        return self.purge_seconds <= GOAL_SECONDS

    @property
    def within_memory_goal(self) -> bool:
        return self.purge_peak_mib <= GOAL_PEAK_MIB

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
            "start_rss_mib": round(self.start_rss_mib, 1),
            "purge_peak_mib": round(self.purge_peak_mib, 1),
            "rotate_seconds": round(self.rotate_seconds, 3),
            "rotate_peak_mib": round(self.rotate_peak_mib, 1),
            "generate_seconds": round(self.generate_seconds, 1),
            "goal_seconds": GOAL_SECONDS,
            "goal_peak_mib": GOAL_PEAK_MIB,
        }


def _mib(path: Path) -> float:
    return path.stat().st_size / (1024 * 1024)


def time_purge(session: Session, limit: int, password: str, keyring: MemoryKeyring) -> PurgeBench:
    """Approve up to ``limit`` due cases on the admin ``session``'s store, sign it out, then
    time one purge run (destroying them, the index merge and the closing rekey) and one plain
    rotation in a child process that signs in as the same admin with ``password``, the store's
    device secret read from ``keyring``."""
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
    accounts.sign_out(session)
    size_before = _mib(path)
    figures = _in_child(path, session.username, password, keyring)
    return PurgeBench(
        store_cases=store_cases,
        due=len(due),
        approved=already + len(chosen),
        destroyed=int(figures["destroyed"]),
        approve_seconds=approve_seconds,
        purge_seconds=figures["purge_seconds"],
        purge_cpu_seconds=figures["purge_cpu_seconds"],
        scrub_seconds=figures["scrub_seconds"],
        size_before_mib=size_before,
        size_after_mib=figures["size_after_mib"],
        start_rss_mib=figures["start_rss_mib"],
        purge_peak_mib=figures["purge_peak_mib"],
        rotate_seconds=figures["rotate_seconds"],
        rotate_peak_mib=figures["rotate_peak_mib"],
    )


def _in_child(path: Path, username: str, password: str, keyring: MemoryKeyring) -> dict[str, float]:
    """Run ``_child`` in a new Python process; its figures come back as JSON."""
    order = {
        "store": str(path),
        "username": username,
        "password": password,
        "keyring": [[s, u, v] for (s, u), v in keyring.values.items()],
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.retention"],
        input=json.dumps(order),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the purge child failed:\n{done.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _peak_mib() -> float:
    """This process's peak resident memory so far.

    On Linux from ``VmHWM``: ``ru_maxrss`` would not do, since it starts from the peak of the
    parent that started this process (the benchmark, after building its store). Elsewhere
    ``ru_maxrss`` (macOS reports bytes), or 0 on Windows, which has neither."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _rss_mib() -> float:
    """This process's resident memory now (Linux), or its peak where that is not available."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return _peak_mib()
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def _child() -> int:
    """The child process: sign in, purge what was approved, rotate once, print the figures."""
    order = json.loads(sys.stdin.read())
    keyring = MemoryKeyring()
    keyring.values = {(s, u): v for s, u, v in order["keyring"]}
    path = Path(order["store"])
    session = accounts.sign_in(
        path, order["username"], order["password"], device=DeviceSecrets(keyring)
    )
    try:
        start_rss = _rss_mib()
        started, cpu = time.perf_counter(), time.process_time()
        result = retention.purge(session)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        purge_peak = _peak_mib()
        size_after = _mib(path)
        started = time.perf_counter()
        accounts.rotate_keys(session)
        rotate_seconds = time.perf_counter() - started
        rotate_peak = _peak_mib()
    finally:
        accounts.sign_out(session)
    figures = {
        "destroyed": len(result.destroyed),
        "purge_seconds": seconds,
        "purge_cpu_seconds": cpu,
        "scrub_seconds": result.scrub_seconds,
        "size_after_mib": size_after,
        "start_rss_mib": start_rss,
        "purge_peak_mib": purge_peak,
        "rotate_seconds": rotate_seconds,
        "rotate_peak_mib": rotate_peak,
    }
    print(json.dumps(figures))
    return 0


def run_purge(
    folder: Path,
    cases: int = STORE_CASES,
    limit: int = PURGE_CASES,
    seed: int = 1,
    stream: TextIO | None = None,
) -> PurgeBench:
    """Build a demo store of ``cases`` in ``folder`` and time purging up to ``limit`` of them."""
    path = folder / "retention.safecase"
    keyring = MemoryKeyring()
    password = "bench-" + secrets.token_urlsafe(18)
    session, _recovery = accounts.create_store(
        path,
        service_name=SERVICE_NAME,
        admin_name=ADMIN_NAME,
        password=password,
        device=DeviceSecrets(keyring),
        kdf=PURGE_KDF,
        training=True,  # synthetic records only
    )
    try:
        progress = None
        if stream is not None:
            progress = _progress(stream)
        summary = demo.generate_cases(session, cases, seed, progress)
        result = time_purge(session, limit, password, keyring)
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
    memory_mark = "" if result.within_memory_goal else "  over"
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
        f"    index merge + closing rekey{'':<6}{result.scrub_seconds:>10.1f} s",
        f"    CPU time of the purge{'':<12}{result.purge_cpu_seconds:>10.1f} s",
        f"  peak memory of the purge process{'':<3}{result.purge_peak_mib:>10.1f} MiB"
        f" (goal <= {GOAL_PEAK_MIB:.0f} MiB; {result.start_rss_mib:,.1f} MiB signed in)"
        + memory_mark,
        f"  store {result.size_before_mib:,.1f} MiB before, {result.size_after_mib:,.1f} MiB after",
        f"  then a plain key rotation{'':<10}{result.rotate_seconds:>10.1f} s"
        f"   (peak {result.rotate_peak_mib:,.1f} MiB)",
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


if __name__ == "__main__":
    raise SystemExit(_child())
