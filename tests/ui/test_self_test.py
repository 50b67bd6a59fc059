"""The self-test's Qt checks (app/ui/self_test.py): the text the app shows."""

from __future__ import annotations

from app.services.self_test import run_check
from app.ui.self_test import text_check


def test_names_sort_and_change_case_and_london_keeps_british_summer_time() -> None:
    assert run_check("text", text_check).line() == (
        "ok   text: names sort and change case in English (UK) and Welsh; Europe/London keeps BST"
    )
