"""The retention benchmark runs end to end on a tiny demo store and reports every figure."""

from __future__ import annotations

import json
from pathlib import Path

from bench import retention as retention_bench
from tests.helpers import MemoryKeyring


def test_the_purge_benchmark_reports_every_figure(keyring: MemoryKeyring, tmp_path: Path) -> None:
    result = retention_bench.run_purge(tmp_path, cases=60, limit=4, seed=3)
    assert result.store_cases == 60 and result.due >= 4
    assert result.approved == result.destroyed == 4
    assert result.purge_seconds >= result.scrub_seconds > 0 and result.destroy_seconds > 0
    assert result.size_after_mib <= result.size_before_mib
    assert result.generate_seconds > 0
    text = "\n".join(retention_bench.format_purge(result))
    assert "Retention purge (60 synthetic cases" in text and "closing rekey" in text
    assert 0 < result.start_rss_mib <= result.purge_peak_mib <= result.rotate_peak_mib
    assert result.rotate_seconds > 0 and "peak memory of the purge process" in text
    saved = result.to_json()
    assert saved["destroyed"] == 4 and saved["goal_seconds"] == retention_bench.GOAL_SECONDS
    # The benchmark brings its own keyring: the pinned (test) backend is never written.
    assert keyring.values == {}


def test_the_purge_benchmark_sizes_come_from_the_command_line(tmp_path: Path) -> None:
    assert retention_bench.sizes([]) == (100_000, 10_000)
    assert retention_bench.sizes(["--quick"]) == (2_000, 200)
    assert retention_bench.sizes(["--quick", "--purge-store", "0"]) == (0, 200)
    assert retention_bench.sizes(["--rows", "5", "--purge", "30"]) == (100_000, 30)
    assert retention_bench.run_from_args(["--purge-store", "0"], out=tmp_path / "r.json") is None
    assert not (tmp_path / "r.json").exists()


def test_run_from_args_writes_its_figures(keyring: MemoryKeyring, tmp_path: Path) -> None:
    out = tmp_path / "retention.json"
    result = retention_bench.run_from_args(["--purge-store", "30", "--purge", "2"], 5, out)
    assert result is not None and result.destroyed == 2
    assert json.loads(out.read_text())["destroyed"] == 2
