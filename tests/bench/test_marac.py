"""The MARAC referral form benchmark runs end to end on a small store and reports every
figure, beside plain sqlite3."""

from __future__ import annotations

import json
from pathlib import Path

from bench import marac as marac_bench
from tests.helpers import MemoryKeyring


def test_the_form_benchmark_reports_every_figure(keyring: MemoryKeyring, tmp_path: Path) -> None:
    result = marac_bench.time_form(tmp_path, filler=0, runs=2)
    assert len(result.issue_seconds) == len(result.print_seconds) == 2
    assert result.issue_best == min(result.issue_seconds) > 0
    assert result.people == 7 and result.pdf_pages >= 1 and result.pdf_bytes > 0
    assert len(result.reads.safecase.samples_ms) == marac_bench.READS
    assert len(result.reads.sqlite3.samples_ms) == marac_bench.READS
    text = "\n".join(marac_bench.format_form(result))
    assert "MARAC referral form (" in text and "goal <= 0.5 s" in text
    assert "plain sqlite3 p50" in text
    assert not list(tmp_path.glob("plain-copy*"))  # the plaintext copy is gone
    assert keyring.values == {}


def test_the_filler_comes_from_the_command_line_and_can_skip_it(tmp_path: Path) -> None:
    assert marac_bench.filler([]) == marac_bench.FILLER_CASES
    assert marac_bench.filler(["--quick"]) == marac_bench.QUICK_FILLER
    assert marac_bench.filler(["--marac-cases", "30"]) == 30
    out = tmp_path / "m.json"
    assert marac_bench.run_from_args(["--marac-cases", "-1"], out=out) is None
    assert not out.exists()


def test_run_from_args_writes_its_figures(keyring: MemoryKeyring, tmp_path: Path) -> None:
    out = tmp_path / "marac.json"
    result = marac_bench.run_from_args(["--marac-cases", "0"], out)
    assert result is not None
    saved = json.loads(out.read_text())
    assert saved["issue_best_seconds"] == round(result.issue_best, 4)
    assert saved["goal_seconds"] == 0.5
