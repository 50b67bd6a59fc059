"""The team benchmark runs end to end on a small team, reports every figure, and its check that
the stores end identical can fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import team as team_bench


def test_the_team_benchmark_reports_every_figure(tmp_path: Path) -> None:
    result = team_bench.time_team(tmp_path, laptops=4, operations=12, cases_each=1, runs=2)
    assert result.foreign == 3 * 12  # the other three laptops' operations
    assert result.catch_up_s > 0 and result.baseline_s > 0 and len(result.noop_ms) == 2
    assert result.envelopes > 0 and result.bytes_per_operation > 0
    assert result.identical, result.differences
    text = "\n".join(team_bench.format_team(result))
    assert "catch-up, 36 foreign operations" in text and "goal <= 5 s" in text
    assert "plain read + sqlite3 insert" in text
    assert "sync with nothing new" in text and "goal <= 100 ms" in text
    assert "envelope bytes per operation" in text
    assert "all 4 stores identical for what each may see: PASS" in text


def test_a_store_that_differs_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = team_bench.snapshot

    def one_note_lost(conn: object, gids: set[str]) -> dict[str, list[str]]:
        seen = real(conn, gids)  # type: ignore[arg-type]
        if conn is laptops[-1]:
            seen["notes"] = seen["notes"][1:]
        return seen

    laptops: list[object] = []
    real_sync_all = team_bench._sync_all

    def remember(team: list[team_bench.Laptop], rounds: int) -> int:
        laptops[:] = [laptop.session.conn for laptop in team]
        return real_sync_all(team, rounds)

    monkeypatch.setattr(team_bench, "snapshot", one_note_lost)
    monkeypatch.setattr(team_bench, "_sync_all", remember)
    monkeypatch.setattr(team_bench, "LAPTOPS", 3)
    out = tmp_path / "team.json"
    with pytest.raises(SystemExit) as caught:
        team_bench.run_from_args(["--team-operations", "6"], out)
    assert "did not end identical" in str(caught.value.code)
    printed = capsys.readouterr().out
    assert "identical for what each may see: FAIL" in printed and "notes differs" in printed
    assert json.loads(out.read_text())["identical"] is False


def test_the_size_comes_from_the_command_line_and_can_skip_it(tmp_path: Path) -> None:
    assert team_bench.operations_from([]) == team_bench.OPERATIONS == 500
    assert team_bench.operations_from(["--quick"]) == 50
    assert team_bench.operations_from(["--team-operations", "20"]) == 20
    out = tmp_path / "t.json"
    assert team_bench.run_from_args(["--team-operations", "0"], out=out) is None
    assert not out.exists()
