"""The shared-folder benchmark runs end to end on a small team and reports every figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import folder as folder_bench


def test_the_folder_benchmark_reports_every_figure(tmp_path: Path) -> None:
    result = folder_bench.time_folder(tmp_path, devices=3, envelopes=4, size=100, runs=2)
    assert result.received == 2 * 4  # the other two devices' envelopes
    assert len(result.publish_ms) == 3 * 4
    assert len(result.noop_ms) == len(result.catch_up_baseline_s) == 2
    text = "\n".join(folder_bench.format_folder(result))
    assert "sync with nothing new" in text and "goal <= 100 ms" in text
    assert "catch-up, 8 envelopes" in text and "plain os.scandir + read" in text


def test_run_from_args_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "folder.json"
    result = folder_bench.run_from_args(["--devices", "2", "--envelopes", "3", "--runs", "1"], out)
    saved = json.loads(out.read_text())
    assert saved["received"] == result.received == 3
    assert saved["noop_goal_ms"] == 100.0 and saved["catch_up_goal_seconds"] == 5.0


def test_a_team_of_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        folder_bench.parse_args(["--devices", "1"])
    assert caught.value.code == 2
    assert "at least 2 devices" in capsys.readouterr().err
