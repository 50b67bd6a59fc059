"""The change-password dialog a reset user meets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.crypto.device import DeviceSecrets
from app.services import accounts
from app.services.session import Session
from app.ui.change_password import ChangePasswordDialog
from tests.helpers import ADMIN, ADMIN_PW, CASEWORKER, StoreCopy

ONE_TIME_PW = "saffron-glacier-meadow-31"
CHOSEN_PW = "ember-quartz-lagoon-64"


@pytest.fixture
def reset_session(store: StoreCopy, device: DeviceSecrets) -> Iterator[Session]:
    admin = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=device)
    accounts.reset_password(admin, CASEWORKER, ONE_TIME_PW)
    accounts.sign_out(admin)
    session = accounts.sign_in(store.path, CASEWORKER, ONE_TIME_PW, device=device)
    assert session.must_change_password
    yield session
    accounts.sign_out(session)


@pytest.fixture
def dialog(qtbot: QtBot, reset_session: Session) -> ChangePasswordDialog:
    shown = ChangePasswordDialog(reset_session)
    qtbot.addWidget(shown)
    shown.open()
    return shown


def test_a_wrong_current_password_is_named(qtbot: QtBot, dialog: ChangePasswordDialog) -> None:
    qtbot.keyClicks(dialog.current_field, "not-the-one-time-password")
    qtbot.keyClicks(dialog.new_field, CHOSEN_PW)
    qtbot.keyClicks(dialog.confirm_field, CHOSEN_PW)
    qtbot.mouseClick(dialog.change_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.change_button.isEnabled(), timeout=5000)
    assert dialog.problem_label.text() == "The current password is wrong."
    assert dialog.current_field.text() == ""
    assert dialog.isVisible()


def test_a_weak_new_password_is_named_as_it_is_typed(
    qtbot: QtBot, dialog: ChangePasswordDialog
) -> None:
    qtbot.keyClicks(dialog.new_field, "short")
    assert dialog.problem_label.text() == "Choose a password of at least 12 characters."
    qtbot.mouseClick(dialog.change_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()


def test_a_good_new_password_is_saved(
    qtbot: QtBot, dialog: ChangePasswordDialog, reset_session: Session
) -> None:
    qtbot.keyClicks(dialog.current_field, ONE_TIME_PW)
    qtbot.keyClicks(dialog.new_field, CHOSEN_PW)
    qtbot.keyClicks(dialog.confirm_field, CHOSEN_PW)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.keyClick(dialog.confirm_field, Qt.Key.Key_Return)  # Enter submits
    assert not reset_session.must_change_password
    assert not dialog.isVisible()


def test_every_control_has_an_accessible_name(dialog: ChangePasswordDialog) -> None:
    from PySide6.QtWidgets import QWidget

    for widget in dialog.findChildren(QWidget):
        if widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
            assert widget.accessibleName(), type(widget).__name__
