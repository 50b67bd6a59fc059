"""Retention decisions for many cases at once: one dialog, one reason, a summary first."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.services import retention
from app.ui.retention_page import ApproveDialog, ExtendDialog, RetentionPage
from tests.helpers import ADMIN, ADMIN_PW, MANAGER, StoreCopy
from tests.services.casework import signed_in
from tests.services.closed_cases import make_closed_case, reference_of
from tests.ui.conftest import MakeApp, answer, open_main, texts_on_screen, wait_calls

CASES = 5


def _closed_cases(store: StoreCopy, count: int) -> list[str]:
    with signed_in(store, MANAGER) as session:
        return [reference_of(session, make_closed_case(session)) for _ in range(count)]


def _ctrl_click(qtbot: QtBot, page: RetentionPage, reference: str) -> None:
    row = next(n for n, i in enumerate(page.model.records) if i.reference == reference)
    rect = page.table.visualRect(page.model.index(row, 0))
    qtbot.mouseClick(
        page.table.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        rect.center(),
    )


def test_an_admin_approves_every_due_case_in_one_dialog(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    references = _closed_cases(store, CASES)
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.retention_page
    main.show_area(page)
    wait_calls(qtbot, main)
    assert set(references) <= {i.reference for i in page.model.records}

    qtbot.mouseClick(page.select_all_button, Qt.MouseButton.LeftButton)
    assert len(page.selected_items()) == len(page.model.records)
    qtbot.mouseClick(page.approve_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, ApproveDialog)
    count = len(page.model.records)
    # The summary names how many and which, before anything is decided.
    shown = texts_on_screen()
    assert f"Approve {count} case(s) for destruction" in shown
    assert all(reference in shown for reference in references)
    qtbot.keyClicks(dialog.reason_field, "Seven years since closure; reviewed as a batch.")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    question = answer(qtbot, yes=True)
    assert question.startswith(f"Approve {count} cases for destruction with this one reason?")
    wait_calls(qtbot, main)
    assert page.model.records and all(i.approved for i in page.model.records)
    assert page.status_label.text() == f"{count} cases approved for destruction."


def test_an_admin_keeps_several_chosen_cases_with_one_reason(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    first, second, untouched = _closed_cases(store, 3)
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.retention_page
    main.show_area(page)
    wait_calls(qtbot, main)
    page.table.clearSelection()
    _ctrl_click(qtbot, page, first)
    _ctrl_click(qtbot, page, second)
    assert [i.reference for i in page.selected_items()] == sorted(
        [first, second], key=[i.reference for i in page.model.records].index
    )
    qtbot.mouseClick(page.extend_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, ExtendDialog)
    assert "Keep 2 cases until the review date below" in texts_on_screen()
    qtbot.keyClicks(dialog.reason_field, "Civil claim expected for both.")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert answer(qtbot, yes=True).startswith("Keep 2 cases until the review date")
    wait_calls(qtbot, main)

    found: list[object] = []
    main.calls.run(retention.due_items, found.append)
    wait_calls(qtbot, main)
    due = {i.reference for i in found[0]}  # type: ignore[attr-defined]
    assert first not in due and second not in due  # kept until the review date
    assert untouched in due
