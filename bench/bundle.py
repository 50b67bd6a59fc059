"""The Linux bundle's figures: size on disk, cold start to the sign-in window (against the same
from the virtual environment) and peak memory to that window.

``python -m bench.bundle dist/safecase/safecase`` (``make bench-bundle`` builds it first).
Goals: 120 MB unpacked, 1.0 s to the sign-in window, 150 MB peak memory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZE_GOAL_MB = 120.0
COLD_START_GOAL_S = 1.0
MEMORY_GOAL_MB = 150.0


def size_mb(folder: Path) -> float:
    """Bytes on disk under ``folder`` (as ``du`` counts them), in MB."""
    blocks = sum(p.lstat().st_blocks for p in folder.rglob("*"))
    return blocks * 512 / 1_000_000


def _env(home: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
    }


def start_to_sign_in(command: list[str], store: Path, runs: int = 5) -> tuple[list[float], float]:
    """Wall times of whole processes that stop once the sign-in window shows, and the largest
    peak resident memory of any of them (MB)."""
    times = []
    peak = 0.0
    for _ in range(runs):
        started = time.perf_counter()
        child = subprocess.Popen(
            [*command, "--store", str(store), "--exit-when-shown"],
            env=_env(store.parent),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(child.pid, 0)
        times.append(time.perf_counter() - started)
        out = child.stdout.read().decode() if child.stdout else ""
        if status != 0 or "sign-in" not in out:
            raise SystemExit(f"{command[0]} did not show the sign-in window ({out.strip()!r})")
        peak = max(peak, usage.ru_maxrss / 1024)
    return times, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bundle", description=__doc__)
    parser.add_argument("bundle", type=Path, help="the bundle's executable")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="safecase-bench-") as folder:
        store = Path(folder) / "cases.safecase"
        store.write_bytes(os.urandom(4096))  # any existing file: the sign-in window shows
        bundled, bundled_peak = start_to_sign_in([str(args.bundle.resolve())], store)
        venv, venv_peak = start_to_sign_in([sys.executable, "-m", "app"], store)
    print(
        f"bundle size on disk: {size_mb(args.bundle.resolve().parent):.0f} MB "
        f"(goal {SIZE_GOAL_MB:.0f} MB)"
    )
    print(
        f"cold start to the sign-in window: bundle median {statistics.median(bundled):.2f} s, "
        f"max {max(bundled):.2f} s; virtual environment median {statistics.median(venv):.2f} s, "
        f"max {max(venv):.2f} s (goal {COLD_START_GOAL_S:.1f} s)"
    )
    print(
        f"peak memory to the sign-in window: bundle {bundled_peak:.0f} MB, virtual environment "
        f"{venv_peak:.0f} MB (goal {MEMORY_GOAL_MB:.0f} MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
