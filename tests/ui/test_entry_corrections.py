"""Correcting or removing a mistaken court date or agency on the case screen, driven through
the real Legal and Agencies and needs tabs: the chosen row fills the add form, saving puts
the correction in the table, and Remove asks first, then takes the row away."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from app.models.categories import Agency, AgencyType, LegalItem, LegalKind
from app.services import categories
from tests.helpers import CASEWORKER, StoreCopy
from tests.services.casework import new_case, signed_in
from tests.ui.conftest import MakeApp, answer, wait_calls
from tests.ui.test_categories_and_this_week import _open_case

COURT = "Wrongbury Magistrates"
FIXED_COURT = "Northshire Family Court"
CONTACT = "Duty officer, 01632 960001"
FIXED_CONTACT = "Duty desk, 01632 960002"


def _click_row(qtbot: QtBot, table: QTableView, row: int) -> None:
    model = table.model()
    assert model is not None
    rect = table.visualRect(model.index(row, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _shown(table: QTableView) -> list[list[str]]:
    """The table's rows as the user reads them."""
    model = table.model()
    assert model is not None
    return [
        [str(model.index(r, c).data()) for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def _case(store: StoreCopy) -> int:
    with signed_in(store, CASEWORKER) as s:
        case_id, _client = new_case(s)
        categories.add_legal_item(
            s,
            case_id,
            LegalItem(LegalKind.COURT_DATE, s.today() + dt.timedelta(days=7), court=COURT),
        )
        categories.add_agency(s, case_id, Agency(AgencyType.HOUSING, "Housing options", CONTACT))
    return case_id


def test_a_wrong_court_is_corrected_and_a_mistaken_entry_removed_on_the_legal_tab(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    case_id = _case(store)
    main, page = _open_case(qtbot, make_app, store, case_id)
    page.tabs.setCurrentWidget(page.legal_tab)
    _click_row(qtbot, page.legal_table, 0)
    qtbot.mouseClick(page.legal_edit_button, Qt.MouseButton.LeftButton)
    assert page.court_field.text() == COURT  # the add form, filled in with the entry
    page.court_field.clear()
    qtbot.keyClicks(page.court_field, FIXED_COURT)
    qtbot.mouseClick(page.legal_add_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert page.status_message.text() == "The legal entry is corrected."
    [row] = _shown(page.legal_table)
    assert FIXED_COURT in row and COURT not in row
    assert page.legal_add_button.text() == "Add to the le&gal record"

    _click_row(qtbot, page.legal_table, 0)
    qtbot.mouseClick(page.legal_remove_button, Qt.MouseButton.LeftButton)
    assert "from the legal record" in answer(qtbot, yes=False)
    wait_calls(qtbot, main)
    assert len(_shown(page.legal_table)) == 1  # Cancel keeps it
    qtbot.mouseClick(page.legal_remove_button, Qt.MouseButton.LeftButton)
    answer(qtbot)
    wait_calls(qtbot, main)
    assert _shown(page.legal_table) == []


def test_a_wrong_contact_is_corrected_and_the_agency_removed_on_the_agencies_tab(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    case_id = _case(store)
    main, page = _open_case(qtbot, make_app, store, case_id)
    page.tabs.setCurrentWidget(page.agencies_tab)
    _click_row(qtbot, page.agency_table, 0)
    qtbot.mouseClick(page.agency_edit_button, Qt.MouseButton.LeftButton)
    assert page.agency_contact_field.text() == CONTACT
    page.agency_contact_field.clear()
    qtbot.keyClicks(page.agency_contact_field, FIXED_CONTACT)
    qtbot.mouseClick(page.agency_add_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert page.status_message.text() == "The agency is corrected."
    assert _shown(page.agency_table) == [["Housing", "Housing options", FIXED_CONTACT]]

    _click_row(qtbot, page.agency_table, 0)
    qtbot.mouseClick(page.agency_remove_button, Qt.MouseButton.LeftButton)
    assert "Housing options" in answer(qtbot)
    wait_calls(qtbot, main)
    assert _shown(page.agency_table) == []
