"""A user changes their own password from the menu; a password an admin set is changed first."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.crypto.device import DeviceSecrets
from app.errors import WrongPassword
from app.models.users import Role
from app.services import accounts
from app.ui.change_password import ChangePasswordDialog
from app.ui.main_window import MainWindow
from tests.helpers import ADMIN, ADMIN_PW, CASEWORKER, CASEWORKER_PW, StoreCopy
from tests.ui.conftest import MakeApp, open_main, sign_in, texts_on_screen

CHOSEN_PW = "ember-quartz-lagoon-64"
FIRST_PW = "saffron-glacier-meadow-31"


def menu_action(main: MainWindow, text: str) -> QAction:
    for menu_action in main.menuBar().actions():
        menu = menu_action.menu()
        if menu is None:
            continue
        for action in menu.actions():
            if action.text().replace("&", "") == text:
                return action
    raise AssertionError(f"no menu item {text!r}")


def shown_dialog() -> ChangePasswordDialog | None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, ChangePasswordDialog) and widget.isVisible():
            return widget
    return None


def test_a_caseworker_changes_their_own_password_from_the_menu(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, device: DeviceSecrets
) -> None:
    app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    action = menu_action(main, "Change my password…")
    assert action.isVisible() and action.isEnabled()
    action.trigger()
    qtbot.waitUntil(lambda: shown_dialog() is not None, timeout=5000)
    dialog = shown_dialog()
    assert dialog is not None
    assert dialog.sign_out_button.text() == "Cancel"  # choosing to change is not forced

    qtbot.keyClicks(dialog.current_field, CASEWORKER_PW)
    qtbot.keyClicks(dialog.new_field, CHOSEN_PW)
    qtbot.keyClicks(dialog.confirm_field, CHOSEN_PW)
    qtbot.mouseClick(dialog.change_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shown_dialog() is None, timeout=5000)
    assert main.statusBar().currentMessage() == "Your password is changed."
    app.sign_out()

    try:
        accounts.sign_in(store.path, CASEWORKER, CASEWORKER_PW, device=device)
    except WrongPassword:
        pass
    else:  # pragma: no cover - the old password must stop working
        raise AssertionError("the old password still opens the store")
    session = accounts.sign_in(store.path, CASEWORKER, CHOSEN_PW, device=device)
    assert not session.must_change_password
    accounts.sign_out(session)


def test_cancel_leaves_the_password_as_it_was(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, device: DeviceSecrets
) -> None:
    app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    menu_action(main, "Change my password…").trigger()
    qtbot.waitUntil(lambda: shown_dialog() is not None, timeout=5000)
    dialog = shown_dialog()
    assert dialog is not None
    qtbot.keyClicks(dialog.current_field, CASEWORKER_PW)
    qtbot.mouseClick(dialog.sign_out_button, Qt.MouseButton.LeftButton)
    assert shown_dialog() is None
    assert app.main_window is main and main.isVisible()  # Cancel does not sign out
    app.sign_out()
    session = accounts.sign_in(store.path, CASEWORKER, CASEWORKER_PW, device=device)
    accounts.sign_out(session)


def test_a_new_users_first_password_must_be_changed_at_first_sign_in(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, device: DeviceSecrets
) -> None:
    admin = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=device)
    accounts.add_user(admin, "nell", FIRST_PW, frozenset({Role.CASEWORKER}))
    accounts.sign_out(admin)

    app = make_app(store.path)
    assert app.sign_in_window is not None
    sign_in(qtbot, app.sign_in_window, "nell", FIRST_PW)
    dialog = app.change_password_dialog
    assert isinstance(dialog, ChangePasswordDialog) and dialog.isVisible()
    assert app.main_window is None
    assert "An admin set your password" in texts_on_screen()
