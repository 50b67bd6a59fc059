"""The shared-folder transport benchmark (``python -m bench.folder``).

A team of 10 devices has each published 500 envelopes of 2 KiB (random bytes, as sealed
envelopes look) into a shared folder in a temporary directory. Timed, each beside a plain
baseline in the same run:

- a sync with nothing new (every envelope already held): ``incoming`` lists the folders and
  reads no file; the baseline is ``os.scandir`` of each device folder;
- catch-up: one device receives the other 9 devices' 4,500 envelopes; the baseline is
  ``os.scandir`` plus ``open().read()`` of the same files;
- publishing: each envelope written atomically (temporary file, fsync, link, fsync of the
  folder), per envelope.

Goals for the whole sync later (transport, opening envelopes and applying them): catch-up of
4,500 operations in 5 s or less, a sync with nothing new in 100 ms or less. The files are
read from the page cache (they were just written); a network share or a sync client's
on-demand download is slower, which the figures here do not show. Reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from app.sync.folder import FolderTransport
from app.sync.transport import Transport

OUT = Path(__file__).resolve().parent / "out" / "folder.json"
DEVICES = 10
ENVELOPES = 500
SIZE = 2048
RUNS = 5
NOOP_GOAL_MS = 100.0
CATCH_UP_GOAL_S = 5.0


@dataclass(frozen=True)
class FolderBench:
    devices: int
    envelopes: int  # per device
    size: int  # bytes per envelope
    publish_ms: tuple[float, ...]  # per envelope, every envelope published
    noop_ms: tuple[float, ...]  # incoming() with everything held, each run
    noop_baseline_ms: tuple[float, ...]  # os.scandir of each device folder, each run
    catch_up_s: tuple[float, ...]  # incoming() of the other devices' envelopes, each run
    catch_up_baseline_s: tuple[float, ...]  # os.scandir + read of the same files, each run
    received: int  # envelopes handed over by one catch-up

    def to_json(self) -> dict[str, object]:
        return {
            "devices": self.devices,
            "envelopes_per_device": self.envelopes,
            "envelope_bytes": self.size,
            "received": self.received,
            "publish_ms_median": round(statistics.median(self.publish_ms), 3),
            "noop_ms_best": round(min(self.noop_ms), 3),
            "noop_ms_median": round(statistics.median(self.noop_ms), 3),
            "noop_baseline_ms_best": round(min(self.noop_baseline_ms), 3),
            "catch_up_seconds_best": round(min(self.catch_up_s), 4),
            "catch_up_seconds_median": round(statistics.median(self.catch_up_s), 4),
            "catch_up_baseline_seconds_best": round(min(self.catch_up_baseline_s), 4),
            "noop_goal_ms": NOOP_GOAL_MS,
            "catch_up_goal_seconds": CATCH_UP_GOAL_S,
        }


def device_id(n: int) -> str:
    return f"0192f0{n:02x}-0000-7000-8000-{n:012x}"


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _scan(folders: list[str]) -> list[str]:
    names: list[str] = []
    for folder in folders:
        with os.scandir(folder) as entries:
            names.extend(entry.path for entry in entries)
    return names


def _scan_and_read(folders: list[str]) -> int:
    total = 0
    for path in _scan(folders):
        with open(path, "rb") as handle:
            total += len(handle.read())
    return total


def time_folder(
    root: Path,
    devices: int = DEVICES,
    envelopes: int = ENVELOPES,
    size: int = SIZE,
    runs: int = RUNS,
) -> FolderBench:
    """Fill ``root`` (an empty folder) with the team's envelopes, then time the syncs."""
    transport = FolderTransport(root)
    transport.prepare()
    team = [device_id(n) for n in range(devices)]
    publish: list[float] = []
    for device in team:
        for seq in range(envelopes):
            data = os.urandom(size)
            publish.append(_timed(partial(transport.publish, device, seq, data)) * 1000)

    everything = {device: frozenset(range(envelopes)) for device in team}
    own = {team[0]: everything[team[0]]}
    foreign = [str(root / "devices" / device) for device in team[1:]]
    reader: Transport = transport  # the benchmark reads through the interface alone
    received = len(list(reader.incoming(own)))
    noop, noop_base, catch_up, catch_up_base = [], [], [], []
    for _ in range(runs):
        noop.append(_timed(lambda: list(reader.incoming(everything))) * 1000)
        noop_base.append(_timed(lambda: _scan([str(root / "devices" / d) for d in team])) * 1000)
        catch_up.append(_timed(lambda: list(reader.incoming(own))))
        catch_up_base.append(_timed(lambda: _scan_and_read(foreign)))
    return FolderBench(
        devices=devices,
        envelopes=envelopes,
        size=size,
        publish_ms=tuple(publish),
        noop_ms=tuple(noop),
        noop_baseline_ms=tuple(noop_base),
        catch_up_s=tuple(catch_up),
        catch_up_baseline_s=tuple(catch_up_base),
        received=received,
    )


def format_folder(result: FolderBench) -> list[str]:
    total = result.devices * result.envelopes
    return [
        f"Shared folder ({result.devices} devices x {result.envelopes} envelopes of "
        f"{result.size} bytes = {total:,} files)",
        f"  publish, per envelope (fsync)   median {statistics.median(result.publish_ms):8.2f} ms",
        f"  sync with nothing new           best {min(result.noop_ms):8.2f} ms   "
        f"median {statistics.median(result.noop_ms):8.2f} ms   goal <= {NOOP_GOAL_MS:.0f} ms "
        "(whole sync)",
        f"    plain os.scandir              best {min(result.noop_baseline_ms):8.2f} ms",
        f"  catch-up, {result.received:,} envelopes       best {min(result.catch_up_s):8.3f} s    "
        f"median {statistics.median(result.catch_up_s):8.3f} s    goal <= {CATCH_UP_GOAL_S:.0f} s "
        "(whole sync)",
        f"    plain os.scandir + read       best {min(result.catch_up_baseline_s):8.3f} s",
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.folder",
        description="Time the shared-folder transport: a sync with nothing new and a "
        "catch-up, beside plain os.scandir and read.",
    )
    parser.add_argument("--devices", type=int, default=DEVICES, help="devices (default 10)")
    parser.add_argument(
        "--envelopes", type=int, default=ENVELOPES, help="envelopes per device (default 500)"
    )
    parser.add_argument("--size", type=int, default=SIZE, help="bytes per envelope (2048)")
    parser.add_argument("--runs", type=int, default=RUNS, help="timed runs (default 5)")
    args = parser.parse_args(argv)
    if args.devices < 2 or args.envelopes < 1 or args.size < 0 or args.runs < 1:
        parser.error("at least 2 devices, 1 envelope each, a size of 0 or more and 1 run")
    return args


def run_from_args(argv: list[str] | None, out: Path = OUT) -> FolderBench:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="safecase-bench-folder-") as name:
        result = time_folder(Path(name), args.devices, args.envelopes, args.size, args.runs)
    print("\n".join(format_folder(result)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    print(f"\nWrote {out}")
    return result


if __name__ == "__main__":
    import sys

    run_from_args(sys.argv[1:])
