"""Columns fit what they hold; text too long for its column shows in full as a tooltip."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QTableView, QToolTip
from pytestqt.qtbot import QtBot

from app.models.users import Role
from app.services import accounts
from app.ui.main_window import MainWindow
from tests.helpers import ADMIN, ADMIN_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import new_referral, person, signed_in, user_id
from tests.ui.conftest import MakeApp, open_main, wait_calls

LONG_NAME = "demo-caseworker-17"
LONG_FAMILY = "Featherstonehaugh-Wolstenholme-Cholmondeley-Montgomery"


def _tip_at(qtbot: QtBot, view: QTableView, row: int, column: int) -> str:
    """Point at a cell as a user would and read the tooltip that shows."""
    QToolTip.hideText()
    rect = view.visualRect(view.model().index(row, column))
    pos = rect.center()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)
    return QToolTip.text() if QToolTip.isVisible() else ""


def _row_of(view: QTableView, column: int, text: str) -> int:
    model = view.model()
    for row in range(model.rowCount()):
        if model.index(row, column).data() == text:
            return row
    raise AssertionError(f"{text!r} is not in the list")


def test_the_users_list_fits_a_long_username(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, ADMIN) as s:
        accounts.add_user(s, LONG_NAME, "sorrel-quartz-harbour-81", frozenset({Role.CASEWORKER}))
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    main.show_area(main.users_page)
    wait_calls(qtbot, main)
    view = main.users_page.table
    row = _row_of(view, 0, LONG_NAME)
    needed = view.fontMetrics().horizontalAdvance(LONG_NAME)
    assert view.columnWidth(0) > needed  # shown whole, not "demo-cas…"
    assert _tip_at(qtbot, view, row, 0) == ""  # it fits, so no tooltip repeats it


def _team_cases(qtbot: QtBot, make_app: MakeApp, store: StoreCopy) -> tuple[MainWindow, int]:
    with signed_in(store, MANAGER) as s:
        new_referral(s, person("Pat", LONG_FAMILY), allocate_to=user_id(s, MANAGER))
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.team_cases
    main.show_area(page)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0)
    wait_calls(qtbot, main)
    return main, _row_of(page.table, 1, f"Pat {LONG_FAMILY}")


# Showing a tooltip raises its window, which the offscreen platform says it cannot do.
@pytest.mark.qt_log_ignore(r"This plugin does not support raise\(\)")
def test_a_name_too_long_for_its_column_shows_whole_as_a_tooltip(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    main, row = _team_cases(qtbot, make_app, store)
    view = main.team_cases.table
    full = f"Pat {LONG_FAMILY}"
    limit = view.fontMetrics().horizontalAdvance("M") * 24
    assert view.columnWidth(1) <= limit  # fitted within the most a column takes
    assert view.fontMetrics().horizontalAdvance(full) > view.columnWidth(1)  # so it is cut
    assert view.model().index(row, 1).data(Qt.ItemDataRole.ToolTipRole) == full
    assert _tip_at(qtbot, view, row, 1) == full
    # The reference fits: pointing at it does not repeat it (the list's own hint shows).
    reference = view.model().index(row, 0).data()
    assert _tip_at(qtbot, view, row, 0) == "Enter or double-click opens the case."
    assert reference and view.fontMetrics().horizontalAdvance(reference) < view.columnWidth(0)
