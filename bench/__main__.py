"""``python -m bench``: unlock time and throughput of a Safecase store against plain sqlite3."""

from __future__ import annotations

import argparse
from dataclasses import replace

from app.crypto import connection
from bench import marac as marac_bench
from bench import retention as retention_bench
from bench import sar as sar_bench
from bench import team as team_bench
from bench.runner import Config, format_table, run, write_json


def memory_security_on() -> None:
    """Every connection this process opens from now on sets cipher_memory_security on."""
    connection.PRAGMAS = tuple(
        "cipher_memory_security = ON" if p.startswith("cipher_memory_security") else p
        for p in connection.PRAGMAS
    )


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Time unlocking a Safecase store, its throughput against plain sqlite3, "
        "and search, the case screen and note saving on a store of synthetic cases.",
    )
    parser.add_argument("--rows", type=int, help="rows to insert (default 50,000)")
    parser.add_argument(
        "--cases",
        type=int,
        help="synthetic demo cases for the case-records part (default 100,000; 0 skips it)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for the synthetic data")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small smoke run (2,000 rows, 1,000 cases, fewer lookups)",
    )
    parser.add_argument(
        "--memory-security",
        action="store_true",
        help="diagnostic: run with SQLCipher's cipher_memory_security on (Safecase keeps it "
        "off), to measure what it costs",
    )
    retention_bench.add_arguments(parser)
    sar_bench.add_arguments(parser)
    marac_bench.add_arguments(parser)
    team_bench.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.memory_security:
        memory_security_on()
    config = Config.quick(seed=args.seed) if args.quick else Config(seed=args.seed)
    if args.rows is not None:
        if args.rows < 1:
            parser.error("--rows must be at least 1")
        config = replace(config, rows=args.rows)
    if args.cases is not None:
        if args.cases < 0:
            parser.error("--cases must be 0 or more")
        config = replace(config, cases=args.cases)
    if args.purge is not None:
        config = replace(config, purge=max(0, args.purge))
    return config


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    result = run(config)
    print(format_table(result))
    path = write_json(result)
    print(f"\nWrote {path}")
    if config.cases == 0:
        # No case-records store to purge: the retention part builds one of its own.
        retention_bench.run_from_args(argv, config.seed)
    sar_bench.run_from_args(argv, config.seed)
    marac_bench.run_from_args(argv)
    team_bench.run_from_args(argv)  # last: stores that differ end the run with an error
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
