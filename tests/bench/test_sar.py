"""The subject access benchmark runs end to end on a small pack and reports every figure."""

from __future__ import annotations

import json
from pathlib import Path

from bench import sar as sar_bench
from tests.helpers import MemoryKeyring


def test_the_pack_benchmark_reports_every_figure(keyring: MemoryKeyring, tmp_path: Path) -> None:
    result = sar_bench.time_pack(tmp_path, entries=50, seed=3)
    saved = result.to_json()
    runs = saved.pop("runs_seconds")
    for name, value in saved.items():
        assert isinstance(value, int | float) and value > 0, name
    # Timed three times; the figures are the best run's, the median is beside them.
    assert isinstance(runs, list) and len(runs) == sar_bench.RUNS
    assert result.total_seconds == min(result.runs_seconds)
    assert min(runs) <= saved["median_seconds"] <= max(runs)
    assert result.cases == sar_bench.CASES and result.entries >= 40
    assert result.items > result.entries and result.pdf_pages >= 1
    assert result.total_seconds == result.preview_seconds + result.export_seconds
    text = "\n".join(sar_bench.format_pack(result))
    assert "Subject access pack (" in text and "goal <= 5 s" in text
    assert f"best of {sar_bench.RUNS} runs; median" in text
    # The benchmark brings its own keyring: the pinned (test) backend is never written.
    assert keyring.values == {}


def test_the_pack_size_comes_from_the_command_line(tmp_path: Path) -> None:
    assert sar_bench.size([]) == 2_000
    assert sar_bench.size(["--quick"]) == 200
    assert sar_bench.size(["--quick", "--sar-entries", "0"]) == 0
    assert sar_bench.size(["--rows", "5", "--sar-entries", "30"]) == 30
    assert sar_bench.run_from_args(["--sar-entries", "0"], out=tmp_path / "s.json") is None
    assert not (tmp_path / "s.json").exists()


def test_run_from_args_writes_its_figures(keyring: MemoryKeyring, tmp_path: Path) -> None:
    out = tmp_path / "sar.json"
    result = sar_bench.run_from_args(["--sar-entries", "40"], 5, out)
    assert result is not None
    assert json.loads(out.read_text())["entries"] == result.entries
