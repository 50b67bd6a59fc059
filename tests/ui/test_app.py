"""The window flow a user goes through: first run, sign-in, change password, lock, sign out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypeVar

import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.crypto.device import DeviceSecrets
from app.crypto.vault import keys_path
from app.errors import WrongPassword
from app.services import accounts
from app.services.session import Session
from app.ui.app import SafecaseApp
from app.ui.change_password import ChangePasswordDialog
from app.ui.first_run import FirstRunWindow
from app.ui.main_window import MainWindow
from app.ui.sign_in import SignInWindow
from tests.helpers import ADMIN, ADMIN_PW, CASEWORKER, CASEWORKER_PW, StoreCopy
from tests.ui.conftest import MakeApp, sign_in, visible_windows

NEW_ADMIN = "demo-admin"
NEW_PW = "tidal-beacon-orchard-52"
ONE_TIME_PW = "saffron-glacier-meadow-31"
CHOSEN_PW = "ember-quartz-lagoon-64"

W = TypeVar("W", bound=QWidget)


def fill_first_run(qtbot: QtBot, window: FirstRunWindow, password: str = NEW_PW) -> None:
    qtbot.keyClicks(window.service_field, "Demo Service")
    qtbot.keyClicks(window.admin_field, NEW_ADMIN)
    qtbot.keyClicks(window.password_field, password)
    qtbot.keyClicks(window.confirm_field, password)


def only_window(kind: type[W]) -> W:
    """The one window on screen, which must be a ``kind``."""
    shown = visible_windows()
    assert len(shown) == 1, [type(w).__name__ for w in shown]
    window = shown[0]
    assert isinstance(window, kind)
    return window


def test_first_run_creates_the_store_shows_the_key_once_then_signs_in(
    qtbot: QtBot, make_app: MakeApp, tmp_path: Path, device: DeviceSecrets
) -> None:
    path = tmp_path / "new" / "cases.safecase"
    app = make_app(path)
    window = app.first_run_window
    assert window is not None
    assert only_window(FirstRunWindow) is window

    fill_first_run(qtbot, window)
    assert window.problem_label.text() == ""
    with qtbot.waitSignal(window.store_created, timeout=5000):
        qtbot.mouseClick(window.create_button, Qt.MouseButton.LeftButton)

    assert path.exists() and keys_path(path).exists()
    assert window.pages.currentIndex() == 1
    shown_key = window.key_label.text()
    assert len(re.findall(r"\b[0-9A-Z]{5}\b", shown_key)) == 13
    assert not window.finish_button.isEnabled()
    qtbot.mouseClick(window.finish_button, Qt.MouseButton.LeftButton)
    assert window.pages.currentIndex() == 1  # Finish did nothing yet

    window.stored_box.click()
    assert window.finish_button.isEnabled()
    qtbot.mouseClick(window.finish_button, Qt.MouseButton.LeftButton)
    assert window.key_label.text() == ""  # the key is gone from the window

    sign_in_window = app.sign_in_window
    assert sign_in_window is not None
    assert only_window(SignInWindow) is sign_in_window
    assert sign_in_window.username_field.text() == NEW_ADMIN

    with qtbot.waitSignal(app.signed_in, timeout=5000):
        sign_in(qtbot, sign_in_window, NEW_ADMIN, NEW_PW)
    assert only_window(MainWindow) is app.main_window
    app.sign_out()

    # The key the user copied down really opens the store.
    session = accounts.recover(
        path, shown_key, admin_name=NEW_ADMIN, new_password=CHOSEN_PW, device=device
    )
    accounts.sign_out(session)


def test_first_run_without_a_keyring_offers_a_password_only_store(
    qtbot: QtBot, make_app: MakeApp, tmp_path: Path
) -> None:
    path = tmp_path / "cases.safecase"
    app = make_app(path, device_factory=lambda: DeviceSecrets(fail.Keyring()))
    window = app.first_run_window
    assert window is not None
    window.show()
    assert not window.password_only_box.isVisible()

    fill_first_run(qtbot, window)
    qtbot.mouseClick(window.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.password_only_box.isVisible(), timeout=5000)
    assert "keyring" in window.problem_label.text()
    assert not path.exists()

    window.password_only_box.click()
    with qtbot.waitSignal(window.store_created, timeout=5000) as created:
        qtbot.mouseClick(window.create_button, Qt.MouseButton.LeftButton)
    session = created.args[0]
    assert isinstance(session, Session) and session.password_only
    window.stored_box.click()
    qtbot.mouseClick(window.finish_button, Qt.MouseButton.LeftButton)

    assert app.sign_in_window is not None
    with qtbot.waitSignal(app.signed_in, timeout=5000):
        sign_in(qtbot, app.sign_in_window, NEW_ADMIN, NEW_PW)
    main = app.main_window
    assert main is not None and main.banner.isVisible()
    assert "passwords alone" in main.banner.text()


def test_first_run_names_a_weak_password_before_create(
    qtbot: QtBot, make_app: MakeApp, tmp_path: Path
) -> None:
    path = tmp_path / "cases.safecase"
    app = make_app(path)
    window = app.first_run_window
    assert window is not None
    qtbot.keyClicks(window.password_field, "short")
    assert window.problem_label.text() == "Choose a password of at least 12 characters."
    window.password_field.clear()
    qtbot.keyClicks(window.password_field, "password1234")
    assert "too easy to guess" in window.problem_label.text()
    qtbot.mouseClick(window.create_button, Qt.MouseButton.LeftButton)
    assert not window.busy
    assert not path.exists()
    assert window.pages.currentIndex() == 0


def test_wrong_password_is_one_sentence_and_the_store_still_opens(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, device: DeviceSecrets
) -> None:
    app = make_app(store.path)
    window = app.sign_in_window
    assert window is not None and only_window(SignInWindow) is window

    sign_in(qtbot, window, ADMIN, "not-the-password-at-all")
    assert window.problem_label.text() == str(WrongPassword())
    assert window.problem_label.accessibleName()
    assert window.password_field.text() == ""
    assert window.focusWidget() is window.password_field
    assert app.session is None and app.main_window is None

    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=device)
    accounts.sign_out(session)


@pytest.mark.parametrize(("username", "password"), [(ADMIN, ADMIN_PW), (CASEWORKER, CASEWORKER_PW)])
def test_right_password_opens_the_main_window_titled_only_safecase(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, username: str, password: str
) -> None:
    app = make_app(store.path)
    assert app.sign_in_window is not None
    with qtbot.waitSignal(app.signed_in, timeout=5000):
        sign_in(qtbot, app.sign_in_window, username, password)
    main = only_window(MainWindow)
    assert main is app.main_window
    assert app.session is not None and app.session.active
    for shown in visible_windows():
        assert shown.windowTitle() == "Safecase"
        assert username not in shown.windowTitle()


def lock_and_check(qtbot: QtBot, app: SafecaseApp, store: StoreCopy) -> None:
    """After a lock: no main window, the store closed, the password needed to come back."""
    window = app.sign_in_window
    assert window is not None and only_window(SignInWindow) is window
    assert app.main_window is None and app.session is None
    assert window.username_field.text() == ADMIN
    assert window.password_field.text() == ""

    sign_in(qtbot, window, ADMIN, "wrong-guess-after-lock")
    assert app.main_window is None
    with qtbot.waitSignal(app.signed_in, timeout=5000):
        sign_in(qtbot, window, ADMIN, ADMIN_PW)
    assert only_window(MainWindow) is app.main_window


def signed_in_app(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> tuple[SafecaseApp, Session, MainWindow]:
    app = make_app(store.path)
    assert app.sign_in_window is not None
    with qtbot.waitSignal(app.signed_in, timeout=5000):
        sign_in(qtbot, app.sign_in_window, ADMIN, ADMIN_PW)
    assert app.session is not None and app.main_window is not None
    return app, app.session, app.main_window


def test_ctrl_l_locks_at_once(qtbot: QtBot, make_app: MakeApp, store: StoreCopy) -> None:
    app, session, main = signed_in_app(qtbot, make_app, store)
    with qtbot.waitSignal(app.locked, timeout=1000):
        qtbot.keyClick(main, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert not session.active
    assert not main.isVisible()
    lock_and_check(qtbot, app, store)


def test_lock_button_locks(qtbot: QtBot, make_app: MakeApp, store: StoreCopy) -> None:
    app, session, main = signed_in_app(qtbot, make_app, store)
    assert main.lock_button.isVisible() and main.lock_button.text() == "Lock"
    qtbot.mouseClick(main.lock_button, Qt.MouseButton.LeftButton)
    assert not session.active
    lock_and_check(qtbot, app, store)


def test_idle_time_locks(qtbot: QtBot, make_app: MakeApp, store: StoreCopy) -> None:
    app, session, main = signed_in_app(qtbot, make_app, store)
    assert main.idle_timer.interval() == 5 * 60_000  # the store's default setting
    main.idle_timer.setInterval(20)
    with qtbot.waitSignal(app.locked, timeout=2000):
        main.idle_timer.start()
    assert not session.active
    assert not main.isVisible()
    lock_and_check(qtbot, app, store)


def test_system_suspend_locks(qtbot: QtBot, make_app: MakeApp, store: StoreCopy) -> None:
    app, session, main = signed_in_app(qtbot, make_app, store)
    main.application_state_changed(Qt.ApplicationState.ApplicationInactive)
    assert session.active  # switching to another program is not a reason to lock
    main.application_state_changed(Qt.ApplicationState.ApplicationSuspended)
    assert not session.active
    lock_and_check(qtbot, app, store)


def test_sign_out_closes_the_store_and_forgets_the_name(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    app, session, main = signed_in_app(qtbot, make_app, store)
    with qtbot.waitSignal(app.signed_out, timeout=1000):
        main.sign_out_action.trigger()
    assert not session.active
    window = only_window(SignInWindow)
    assert isinstance(window, SignInWindow) and window.username_field.text() == ""


def test_closing_the_main_window_signs_out(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    app, session, main = signed_in_app(qtbot, make_app, store)
    with qtbot.waitSignal(app.signed_out, timeout=1000):
        main.close()
    assert not session.active
    assert visible_windows() == []


def reset_caseworker(store: StoreCopy, device: DeviceSecrets) -> None:
    admin = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=device)
    accounts.reset_password(admin, CASEWORKER, ONE_TIME_PW)
    accounts.sign_out(admin)


def test_a_reset_user_changes_their_password_before_the_main_window(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, device: DeviceSecrets
) -> None:
    reset_caseworker(store, device)
    app = make_app(store.path)
    assert app.sign_in_window is not None
    sign_in(qtbot, app.sign_in_window, CASEWORKER, ONE_TIME_PW)

    dialog = app.change_password_dialog
    assert isinstance(dialog, ChangePasswordDialog) and dialog.isVisible()
    assert app.main_window is None
    assert not any(isinstance(w, MainWindow) for w in visible_windows())

    qtbot.keyClicks(dialog.current_field, ONE_TIME_PW)
    qtbot.keyClicks(dialog.new_field, CHOSEN_PW)
    qtbot.keyClicks(dialog.confirm_field, CHOSEN_PW)
    with qtbot.waitSignal(app.signed_in, timeout=5000):
        qtbot.mouseClick(dialog.change_button, Qt.MouseButton.LeftButton)
    assert only_window(MainWindow) is app.main_window
    app.sign_out()

    session = accounts.sign_in(store.path, CASEWORKER, CHOSEN_PW, device=device)
    assert not session.must_change_password
    accounts.sign_out(session)


def test_a_reset_user_who_declines_is_signed_out(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, device: DeviceSecrets
) -> None:
    reset_caseworker(store, device)
    app = make_app(store.path)
    assert app.sign_in_window is not None
    sign_in(qtbot, app.sign_in_window, CASEWORKER, ONE_TIME_PW)
    dialog = app.change_password_dialog
    assert dialog is not None
    session = app.session
    assert session is not None
    qtbot.mouseClick(dialog.sign_out_button, Qt.MouseButton.LeftButton)
    assert not session.active
    assert app.main_window is None
    assert only_window(SignInWindow) is app.sign_in_window


def test_a_reset_user_who_walks_away_is_signed_out(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, device: DeviceSecrets
) -> None:
    reset_caseworker(store, device)
    app = make_app(store.path)
    assert app.sign_in_window is not None
    sign_in(qtbot, app.sign_in_window, CASEWORKER, ONE_TIME_PW)
    dialog = app.change_password_dialog
    session = app.session
    assert dialog is not None and session is not None
    dialog.idle_watcher.timer.setInterval(10)
    dialog.idle_watcher.start()
    qtbot.waitUntil(lambda: not session.active, timeout=2000)
    assert app.main_window is None
    assert only_window(SignInWindow) is app.sign_in_window
