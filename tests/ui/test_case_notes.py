"""The notes tab says how many notes a case has and pages back through all of them: the case
opens with the newest, and older ones come a page at a time (a button, or scrolling to the end)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.models.records import NoteKind
from app.services import notes
from app.ui.case_view import CasePage
from app.ui.main_window import MainWindow
from tests.helpers import CASEWORKER, CASEWORKER_PW, StoreCopy
from tests.services.casework import new_case, signed_in
from tests.ui.conftest import MakeApp, open_main, wait_calls

NOTES = 250  # more than the 200 the case screen used to stop at
START = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)


def case_with_many_notes(store: StoreCopy) -> int:
    """A case whose notes are "Visit 1" (the oldest) to "Visit 250", some at the same minute."""
    with signed_in(store, CASEWORKER) as session:
        case_id, _ = new_case(session)
        for i in range(1, NOTES + 1):
            when = START + dt.timedelta(minutes=i - i % 3)  # ties in time, split by id
            notes.add_note(session, case_id, NoteKind.VISIT, f"Visit {i}", when)
    return case_id


def open_notes(qtbot: QtBot, make_app: MakeApp, store: StoreCopy) -> tuple[MainWindow, CasePage]:
    case_id = case_with_many_notes(store)
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    main.open_case(case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    page = main.case_page
    assert page is not None
    page.tabs.setCurrentWidget(page.notes_tab)
    return main, page


def bodies(page: CasePage) -> list[str]:
    return [n.body for n in page.note_model.records]


def test_the_notes_tab_shows_the_total_and_loads_older_notes_by_button(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    main, page = open_notes(qtbot, make_app, store)
    ModelTester(None).check(page.note_model)
    assert page.note_model.rowCount() == 100
    assert page.notes_shown_label.text() == "Showing 100 of 250 notes, newest first."
    assert page.older_notes_button.isVisible()
    assert bodies(page)[0] == "Visit 250"

    for shown in (200, 250):
        qtbot.mouseClick(page.older_notes_button, Qt.MouseButton.LeftButton)
        wait_calls(qtbot, main)
        assert page.note_model.rowCount() == shown
    assert page.notes_shown_label.text() == "All 250 notes shown."
    assert not page.older_notes_button.isVisible()
    # Every note once, newest first, down to the very first one written.
    assert sorted(bodies(page)) == sorted(f"Visit {i}" for i in range(1, NOTES + 1))
    assert bodies(page)[-1] == "Visit 1"
    times = [(n.occurred_at, n.id) for n in page.note_model.records]
    assert times == sorted(times, reverse=True)


def test_scrolling_to_the_end_of_the_notes_loads_the_older_ones(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    main, page = open_notes(qtbot, make_app, store)
    table = page.note_table
    table.setFocus()
    page.select_note(0)
    while page.note_model.rowCount() < NOTES:
        held = page.note_model.rowCount()
        qtbot.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
        wait_calls(qtbot, main)
        assert page.note_model.rowCount() > held
    assert bodies(page)[-1] == "Visit 1"
    assert page.notes_shown_label.text() == "All 250 notes shown."
