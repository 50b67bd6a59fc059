"""The desktop figures run end to end on a small store (no timing thresholds)."""

from __future__ import annotations

from bench import desktop
from tests.helpers import MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import new_case, person, signed_in


def test_first_paint_and_cold_start_report_positive_times(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as m:
        for family in ("Ash", "Birch", "Cedar"):
            new_case(m, person("Sam", family))
    paint = desktop.first_paint_ms(store.path, MANAGER, MANAGER_PW, runs=2)
    assert len(paint) == 2 and all(ms > 0 for ms in paint)
    cold = desktop.cold_start_seconds(store.path, runs=1)
    assert len(cold) == 1 and cold[0] > 0
