"""The main window on its own: title, Lock, Sign out, the idle timer and the warning banner."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMenu, QWidget
from pytestqt.qtbot import QtBot

from app.crypto.device import DeviceSecrets
from app.services import accounts
from app.services.session import Session
from app.ui.main_window import MainWindow
from tests.helpers import ADMIN, ADMIN_PW, StoreCopy


@pytest.fixture
def main(qtbot: QtBot, admin_session: Session) -> Iterator[MainWindow]:
    window = MainWindow(admin_session)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.clear()


def test_the_title_is_only_safecase(main: MainWindow) -> None:
    assert main.windowTitle() == "Safecase"
    assert ADMIN not in main.windowTitle()


def test_lock_is_a_visible_button_and_ctrl_l(qtbot: QtBot, main: MainWindow) -> None:
    assert main.lock_button.isVisible()
    assert main.lock_action.shortcut().toString() == "Ctrl+L"
    with qtbot.waitSignal(main.lock_requested, timeout=1000):
        qtbot.keyClick(main, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    with qtbot.waitSignal(main.lock_requested, timeout=1000):
        qtbot.mouseClick(main.lock_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(main.sign_out_requested, timeout=1000):
        main.sign_out_action.trigger()


def test_the_idle_timer_follows_the_store_setting(qtbot: QtBot, admin_session: Session) -> None:
    accounts.set_idle_lock_minutes(admin_session, 7)
    window = MainWindow(admin_session)
    qtbot.addWidget(window)
    try:
        assert window.idle_timer.interval() == 7 * 60_000
        assert window.idle_timer.isActive()
    finally:
        window.clear()


def test_input_anywhere_restarts_the_idle_timer(qtbot: QtBot, main: MainWindow) -> None:
    main.idle_timer.stop()
    qtbot.keyClick(main.navigation, Qt.Key.Key_Down)
    assert main.idle_timer.isActive()
    main.idle_timer.stop()
    qtbot.mouseMove(main.pages)
    qtbot.mouseClick(main.pages, Qt.MouseButton.LeftButton)
    assert main.idle_timer.isActive()


def test_idle_time_asks_for_a_lock(qtbot: QtBot, main: MainWindow) -> None:
    main.idle_timer.setInterval(10)
    with qtbot.waitSignal(main.lock_requested, timeout=2000):
        main.idle_timer.start()


def test_no_warning_banner_for_a_keyring_store(main: MainWindow) -> None:
    assert not main.banner.isVisible()


def test_clear_forgets_everything_shown(qtbot: QtBot, main: MainWindow) -> None:
    main.clear()
    assert main.navigation.count() == 0
    assert main.pages.count() == 0
    assert not main.idle_timer.isActive()
    main.idle_timer.setInterval(1)
    qtbot.keyClick(main.navigation, Qt.Key.Key_Down)
    assert not main.idle_timer.isActive()  # no longer watching input


def test_add_area_puts_a_page_behind_the_navigation(main: MainWindow) -> None:
    page = QLabel("Second")
    row = main.add_area("Second area", page)
    main.navigation.setCurrentRow(row)
    assert main.pages.currentWidget() is page


def controls(window: QWidget) -> list[QWidget]:
    return [
        w
        for w in window.findChildren(QWidget)
        if w.focusPolicy() != Qt.FocusPolicy.NoFocus and w.isVisibleTo(window)
    ]


def test_every_control_has_an_accessible_name(main: MainWindow) -> None:
    found = controls(main)
    assert found
    for widget in found:
        assert widget.accessibleName(), type(widget).__name__


def test_lock_and_sign_out_are_in_the_menu_for_the_keyboard(main: MainWindow) -> None:
    menus = [a.menu() for a in main.menuBar().actions()]
    assert len(menus) == 2 and isinstance(menus[0], QMenu)  # Safecase, then Help
    assert menus[0].title() == "&Safecase"
    assert main.lock_action in menus[0].actions()
    assert main.sign_out_action in menus[0].actions()


def test_a_training_store_shows_a_standing_banner_on_every_page(
    qtbot: QtBot, training_store: StoreCopy, device: DeviceSecrets
) -> None:
    session = accounts.sign_in(training_store.path, ADMIN, ADMIN_PW, device=device)
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    try:
        assert window.training_banner.text() == "Training store: synthetic records only"
        for row in range(window.navigation.count()):
            window.navigation.setCurrentRow(row)
            assert window.training_banner.isVisible()
    finally:
        window.clear()
        accounts.sign_out(session)


def test_a_store_of_real_records_has_no_training_banner(main: MainWindow) -> None:
    assert not main.training_banner.isVisible()
