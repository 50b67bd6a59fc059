"""Fixtures for the windows: a controller on a copied store, and signed-in sessions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.crypto.device import DeviceSecrets
from app.services import accounts
from app.services.session import Session
from app.ui.app import SafecaseApp
from app.ui.sign_in import SignInWindow
from tests.helpers import ADMIN, ADMIN_PW, TEST_KDF, StoreCopy

MakeApp = Callable[..., SafecaseApp]


@pytest.fixture
def make_app(qtbot: QtBot) -> Iterator[MakeApp]:
    """Build and start a SafecaseApp on a store path (small Argon2 cost); shut it down after."""
    made: list[SafecaseApp] = []

    def make(path: Path, **kwargs: object) -> SafecaseApp:
        app = SafecaseApp(path, kdf=TEST_KDF, **kwargs)  # type: ignore[arg-type]
        made.append(app)
        app.start()
        return app

    yield make
    for app in made:
        app.shutdown()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def admin_session(store: StoreCopy, device: DeviceSecrets) -> Iterator[Session]:
    """The admin signed in to a copied store, signed out afterwards."""
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=device)
    yield session
    accounts.sign_out(session)


def visible_windows() -> list[QWidget]:
    """The top-level windows a user would see on screen."""
    return [w for w in QApplication.topLevelWidgets() if w.isVisible() and w.isWindow()]


def sign_in(qtbot: QtBot, window: SignInWindow, username: str, password: str) -> None:
    """Type a username and password the way a user would, press Enter, wait for the answer."""
    window.username_field.clear()
    qtbot.keyClicks(window.username_field, username)
    window.password_field.clear()
    qtbot.keyClicks(window.password_field, password)
    qtbot.keyClick(window.password_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.busy, timeout=5000)
