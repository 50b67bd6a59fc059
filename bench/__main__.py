"""``python -m bench``: unlock time and throughput of a Safecase store against plain sqlite3."""

from __future__ import annotations

import argparse
from dataclasses import replace

from bench.runner import Config, format_table, run, write_json


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Time unlocking a Safecase store, and its throughput against plain sqlite3.",
    )
    parser.add_argument("--rows", type=int, help="rows to insert (default 50,000)")
    parser.add_argument("--seed", type=int, default=1, help="seed for the synthetic data")
    parser.add_argument(
        "--quick", action="store_true", help="a small smoke run (2,000 rows, fewer lookups)"
    )
    args = parser.parse_args(argv)
    config = Config.quick(seed=args.seed) if args.quick else Config(seed=args.seed)
    if args.rows is not None:
        if args.rows < 1:
            parser.error("--rows must be at least 1")
        config = replace(config, rows=args.rows)
    return config


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    result = run(config)
    print(format_table(result))
    path = write_json(result)
    print(f"\nWrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
