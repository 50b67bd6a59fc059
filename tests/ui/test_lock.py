"""Locking, by Ctrl+L, the Lock button or idle time, hides every record at once and needs the
password to come back; nothing fetched before the lock is shown after it. What was typed and
not saved is kept, encrypted, and comes back after the same user signs in again."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.models.records import SafeContact
from app.services import cases
from app.services.session import Session
from app.ui import tasks
from app.ui.app import SafecaseApp
from app.ui.case_dialogs import NoteDialog
from app.ui.main_window import MainWindow
from app.ui.sign_in import SignInWindow
from tests.helpers import CASEWORKER, CASEWORKER_PW, StoreCopy
from tests.services.casework import new_case, person, signed_in
from tests.ui.conftest import MakeApp, open_main, sign_in, texts_on_screen, visible_windows

CLIENT = "Robin Ashdown"
CODE_WORD = "bluebell"
HALF_NOTE = "Half-typed note about Robin Ashdown"


def open_a_case(qtbot: QtBot, make_app: MakeApp, store: StoreCopy) -> tuple[SafecaseApp, str]:
    """A caseworker's window showing a case with its banner, the code word shown, and the
    note dialog open over it."""
    with signed_in(store, CASEWORKER) as session:
        case_id, client_id = new_case(session, person("Robin", "Ashdown", phones=("07700 900111",)))
        cases.set_safe_contact(
            session,
            case_id,
            SafeContact(person_id=client_id, safe_number="07700 900111", code_word=CODE_WORD),
        )
        reference = cases.open_case(session, case_id).case.reference
    app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    main.open_case(case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    page = main.case_page
    assert page is not None
    page.banner.code_word_button.click()
    page.new_note()
    assert isinstance(page.dialog, NoteDialog) and page.dialog.isVisible()
    qtbot.keyClicks(page.dialog.body_field, HALF_NOTE)
    shown = texts_on_screen()
    assert CLIENT in shown and reference in shown and CODE_WORD in shown
    return app, reference


def note_dialog_back(qtbot: QtBot, main: MainWindow) -> NoteDialog:
    """Wait for the case and its note form to come back after sign-in."""

    def back() -> bool:
        page = main.case_page
        return page is not None and isinstance(page.dialog, NoteDialog) and page.dialog.isVisible()

    qtbot.waitUntil(back, timeout=5000)
    assert main.case_page is not None and isinstance(main.case_page.dialog, NoteDialog)
    return main.case_page.dialog


def check_locked(qtbot: QtBot, app: SafecaseApp, session: Session, reference: str) -> MainWindow:
    assert not session.active
    windows = visible_windows()
    assert len(windows) == 1 and isinstance(windows[0], SignInWindow), windows
    shown = texts_on_screen()
    for secret in (CLIENT, reference, CODE_WORD, "07700 900111", "Half-typed note"):
        assert secret not in shown
    assert app.main_window is None

    window = app.sign_in_window
    assert window is not None and window.username_field.text() == CASEWORKER
    sign_in(qtbot, window, CASEWORKER, "not-the-password-at-all")
    assert app.main_window is None and app.session is None
    with qtbot.waitSignal(app.signed_in, timeout=5000):
        sign_in(qtbot, window, CASEWORKER, CASEWORKER_PW)
    main = app.main_window
    assert main is not None
    # The case comes back, with the note form and what had been typed in it.
    dialog = note_dialog_back(qtbot, main)
    assert dialog.body_field.toPlainText() == HALF_NOTE
    assert main.case_page is not None and main.case_page.reference_label.text() == reference
    return main


def lock_with_ctrl_l_from_the_dialog(qtbot: QtBot, main: MainWindow) -> None:
    page = main.case_page
    assert page is not None and page.dialog is not None
    dialog = page.dialog
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    qtbot.keyClick(dialog.body_field, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)


def lock_with_the_button(qtbot: QtBot, main: MainWindow) -> None:
    main.lock_action.trigger()


def lock_by_idle_time(qtbot: QtBot, main: MainWindow) -> None:
    main.idle_timer.setInterval(20)
    main.idle_timer.start()


@pytest.mark.parametrize(
    "lock", [lock_with_ctrl_l_from_the_dialog, lock_with_the_button, lock_by_idle_time]
)
def test_locking_hides_every_record_and_needs_the_password(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, lock: Callable[[QtBot, MainWindow], None]
) -> None:
    app, reference = open_a_case(qtbot, make_app, store)
    session, main = app.session, app.main_window
    assert session is not None and main is not None
    with qtbot.waitSignal(app.locked, timeout=5000):
        lock(qtbot, main)
    check_locked(qtbot, app, session, reference)


def test_a_lock_during_a_store_call_drops_its_result(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    session = app.session
    assert session is not None
    started, release = threading.Event(), threading.Event()
    got: list[object] = []

    def slow(s: Session) -> str:
        started.set()
        release.wait(5)
        return "a record read just before the lock"

    main.calls.run(slow, got.append)
    assert started.wait(5)
    threading.Timer(0.05, release.set).start()
    with qtbot.waitSignal(app.locked, timeout=5000):
        main.lock_action.trigger()  # waits for the call, then closes the store
    qtbot.waitUntil(lambda: not tasks._running)  # the result was delivered, and dropped
    assert got == [] and not session.active
