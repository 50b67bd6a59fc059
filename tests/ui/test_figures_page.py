"""The Figures page (managers and the DPO): choose a year or a quarter, see each table with
its chart, and export the PDF and CSV to a folder after the not-encrypted warning."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.models import cases as case_model
from app.models import categories as category_model
from app.models.categories import AgencyType, ReferralSource
from app.models.db import transaction
from app.models.records import CaseDetails
from app.services import audit, cases, figures
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER_PW,
    DPO,
    DPO_PW,
    MANAGER,
    MANAGER_PW,
    StoreCopy,
)
from tests.services.casework import person, signed_in
from tests.ui.conftest import MakeApp, answer, open_main, wait_calls
from tests.ui.test_case_view import mnemonic_keys

YEAR = 2025
NAMES = ("Ottoline", "Brackenbury")


REFERRALS = (
    # (month, source, risk, how many): March is in the first quarter, August the third.
    (3, AgencyType.POLICE, "high", 7),
    (3, AgencyType.SELF, "high", 6),
    (3, AgencyType.HOUSING, "standard", 10),
    (8, AgencyType.POLICE, "medium", 2),
    (8, AgencyType.SELF, "medium", 3),
)


@pytest.fixture
def referred(store: StoreCopy) -> StoreCopy:
    with signed_in(store, MANAGER) as s:
        for month, source, risk, count in REFERRALS:
            for number in range(count):
                day = dt.date(YEAR, month, 1 + number)
                case_id = cases.create_referral(
                    s, person(*NAMES), CaseDetails(referral_date=day, referral_source="police")
                )
                with transaction(s.conn):
                    category_model.put_referral_source(
                        s.conn, case_id, ReferralSource(source), 1, s.now()
                    )
                    case_model.set_fields(s.conn, case_id, s.now(), risk_level=risk)
    return dataclasses.replace(store)


def _cell(page: object, row_label: str, column: int) -> str:
    model = page.model  # type: ignore[attr-defined]
    for row in range(model.rowCount()):
        if model.item(row, 0).text() == row_label:
            return str(model.item(row, column).text())
    raise AssertionError(f"no row {row_label!r}")


def test_a_manager_chooses_a_year_then_a_quarter_and_sees_a_chart(
    qtbot: QtBot, make_app: MakeApp, referred: StoreCopy
) -> None:
    _app, main = open_main(qtbot, make_app, referred, MANAGER, MANAGER_PW)
    assert "Figures" in main.area_titles()
    page = main.figures_page
    main.show_area(page)
    wait_calls(qtbot, main)
    page.year_field.selectAll()
    qtbot.keyClicks(page.year_field, str(YEAR))
    qtbot.mouseClick(page.show_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert page.period_label.text().startswith("Figures for 2025:")
    assert page.tables_list.currentText() == "Referrals by source and risk level"
    # Police 7 high and 2 medium, self-referrals 6 and 3: the 7 and the 6 are withheld, or
    # the row totals (9 and 9) would give the 2 and the 3 away.
    assert _cell(page, "Police", 1) == "withheld"
    assert _cell(page, "Police", 2) == "fewer than 5"
    assert _cell(page, "Police", 5) == "9"
    assert _cell(page, "Housing", 3) == "10"
    assert _cell(page, "Total", 5) == "28"
    assert page.chart_shown()

    # The third quarter holds only the medium-risk 2 and 3: nothing shown to draw.
    page.kind_field.setFocus()
    qtbot.keyClick(page.kind_field, Qt.Key.Key_Down)  # Year -> Quarter
    assert page.quarter_field.isEnabled()
    page.quarter_field.setFocus()
    qtbot.keyClick(page.quarter_field, Qt.Key.Key_Home)
    for _ in range(2):
        qtbot.keyClick(page.quarter_field, Qt.Key.Key_Down)
    assert page.quarter_field.currentText().startswith("Q3")
    qtbot.mouseClick(page.show_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert page.period_label.text().startswith("Figures for 2025-Q3:")
    assert _cell(page, "Police", 1) == "0"
    assert _cell(page, "Police", 2) == "fewer than 5"
    assert _cell(page, "Self-referral", 2) == "fewer than 5"
    assert _cell(page, "Total", 2) == "5"
    assert not page.chart_shown()

    page.tables_list.setFocus()
    while page.tables_list.currentText() != "Time from referral to first contact":
        qtbot.keyClick(page.tables_list, Qt.Key.Key_Down)
    assert _cell(page, "No contact recorded yet", 1) == "5"
    assert "not shown" in page.median_label.text()

    keys = mnemonic_keys(main)
    assert sorted({k for k in keys if keys.count(k) > 1}) == []


def test_the_dpo_exports_the_pdf_and_csv_after_the_warning(
    qtbot: QtBot, make_app: MakeApp, referred: StoreCopy, tmp_path: Path
) -> None:
    folder = tmp_path / "for-the-commissioner"
    folder.mkdir()
    _app, main = open_main(qtbot, make_app, referred, DPO, DPO_PW)
    page = main.figures_page
    main.show_area(page)
    wait_calls(qtbot, main)
    page.year_field.setValue(YEAR)
    qtbot.mouseClick(page.show_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    page.choose_folder = lambda: str(folder)

    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert "not encrypted" in answer(qtbot, yes=False)
    assert list(folder.iterdir()) == []

    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert sorted(p.name for p in folder.iterdir()) == ["figures-2025.csv", "figures-2025.pdf"]
    assert page.status_label.text() == ("Saved, not encrypted: figures-2025.csv, figures-2025.pdf.")
    text = (folder / "figures-2025.csv").read_text(encoding="utf-8-sig")
    assert "Housing,0,0,10,0,10" in text
    assert not any(name in text for name in NAMES)

    # Again into the same folder: the files there are kept, and the page says why.
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert "already there" in page.problem_label.text()

    found: list[list[str]] = []
    main.calls.run(
        lambda s: [e.detail for e in audit.recent(s) if e.action == figures.FIGURES_EXPORTED],
        found.append,
    )
    wait_calls(qtbot, main)
    assert found[0] and found[0][0].startswith("period=2025 formats=csv,pdf")


@pytest.mark.parametrize(("user", "password"), [(CASEWORKER, CASEWORKER_PW), (ADMIN, ADMIN_PW)])
def test_caseworkers_and_admins_have_no_figures(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, user: str, password: str
) -> None:
    _app, main = open_main(qtbot, make_app, store, user, password)
    assert "Figures" not in main.area_titles()
    assert not hasattr(main, "figures_page")
