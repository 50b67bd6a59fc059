"""The benchmark runs end to end on tiny sizes and reports every figure (no timing thresholds)."""

from __future__ import annotations

import json
from pathlib import Path

from app.crypto.kdf import Argon2Params
from bench.__main__ import parse_args
from bench.cases import QUERY_KINDS, Latency, remove_plain
from bench.runner import SAFECASE, SQLITE, Config, format_table, run, write_json
from tests.helpers import MemoryKeyring

TINY_KDF = Argon2Params(memory_kib=256, time_cost=1, parallelism=1)
OPERATIONS = {"insert", "full_read", "point_lookup", "range_lookup"}


def test_benchmark_reports_every_figure(keyring: MemoryKeyring, tmp_path: Path) -> None:
    config = Config(
        rows=300,
        seed=7,
        rounds=2,
        point_lookups=50,
        range_lookups=10,
        unlock_runs=2,
        connect_runs=2,
        kdf=TINY_KDF,
        cases=40,
        searches=12,
        case_opens=6,
        note_saves=6,
        purge=3,
    )
    result = run(config)

    assert result.unlock.kdf == TINY_KDF
    for timing in (result.unlock.unlock, result.unlock.sign_in, result.unlock.argon2id):
        assert len(timing.samples_ms) == 2
        assert timing.median_ms > 0 and timing.max_ms >= timing.median_ms
    assert result.unlock.connect.median_ms > 0

    assert {op.key for op in result.operations} == OPERATIONS
    for op in result.operations:
        assert op.ops > 0
        assert op.rate(SAFECASE) > 0 and op.rate(SQLITE) > 0
        assert op.ratio(SAFECASE, SQLITE) > 0
        assert len(op.seconds[SAFECASE]) == len(op.seconds[SQLITE]) == 2
        assert op.check[SAFECASE] == op.check[SQLITE]
    assert result.peak_rss_mib is None or result.peak_rss_mib > 0

    # The benchmark brings its own keyring: the pinned (test) backend is never written.
    assert keyring.values == {}

    table = format_table(result)
    for op in result.operations:
        assert op.label in table
    assert "sign_in + sign_out" in table and "Peak RSS" in table

    cases = result.cases
    assert cases is not None and cases.summary.cases == 40
    assert cases.summary.cases_per_second > 0
    assert sum(cases.queries.values()) == 12 and set(cases.queries) == set(QUERY_KINDS)
    assert set(cases.services) == {"manager", "caseworker"}
    for ops in cases.services.values():
        assert set(ops) <= {"search", "open", "note"} and {"search", "open"} <= set(ops)
        assert all(lat.p95 >= lat.p50 > 0 for lat in ops.values())
    assert len(cases.services["manager"]["search"].samples_ms) == 12
    assert {c.key for c in cases.comparisons} == {
        "search_manager",
        "search_caseworker",
        "case_screen",
        "figures",
    }
    for comparison in cases.comparisons:
        assert comparison.ratio_p50 > 0 and comparison.ratio_p95 > 0
    assert cases.versions["stdlib_sqlite"] and cases.versions["sqlcipher"]
    assert "Case records (40 synthetic cases" in table and "save a note" in table

    saved = json.loads(write_json(result, tmp_path / "latest.json").read_text())
    assert set(saved["throughput"]) == OPERATIONS
    for figures in saved["throughput"].values():
        assert figures["safecase_ops_per_s"] > 0 and figures["sqlite3_ops_per_s"] > 0
        assert figures["ratio_safecase_time_over_sqlite3_time"] > 0
    assert saved["unlock"]["argon2id"] == {"memory_kib": 256, "time_cost": 1, "parallelism": 1}
    assert saved["cases"]["generation"]["cases"] == 40
    # The purge is timed on that same store of 40 cases, not on one of its own.
    assert result.purge is not None and result.purge.store_cases == 40
    assert saved["purge"]["destroyed"] == result.purge.destroyed == 3
    assert "Retention purge (40 synthetic cases" in format_table(result)
    assert set(saved["cases"]["model_reads"]) == {
        "search_manager",
        "search_caseworker",
        "case_screen",
        "figures",
    }
    # A year's figures through the service, with its goal.
    assert cases.figures is not None and cases.figures.referrals > 0
    assert saved["cases"]["figures"]["best_seconds"] > 0
    assert saved["cases"]["figures"]["goal_seconds"] == 2.0
    assert f"Figures for {cases.figures.year}" in table and "goal <= 2 s" in table


def test_the_plaintext_copy_is_removed(tmp_path: Path) -> None:
    copy = tmp_path / "plain-copy.db"
    for name in ("plain-copy.db", "plain-copy.db-wal", "plain-copy.db-shm"):
        (tmp_path / name).write_bytes(b"synthetic")
    remove_plain(copy)
    assert list(tmp_path.iterdir()) == []


def test_percentiles_are_nearest_rank() -> None:
    latency = Latency([float(n) for n in range(1, 101)])
    assert latency.p50 == 50.0 and latency.p95 == 95.0
    assert Latency([3.0]).p95 == 3.0


def test_options() -> None:
    assert parse_args([]) == Config()
    quick = parse_args(["--quick", "--seed", "3"])
    assert quick.rows < Config().rows and quick.seed == 3 and quick.kdf is None
    assert parse_args(["--rows", "1234"]).rows == 1234
    assert Config().cases == 100_000 and 0 < quick.cases < Config().cases
    assert parse_args(["--cases", "500"]).cases == 500
    assert parse_args(["--quick", "--cases", "0"]).cases == 0
