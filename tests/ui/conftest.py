"""Fixtures for the windows: a controller on a copied store, and signed-in sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from app.crypto.device import DeviceSecrets
from app.models.records import CaseDetails, PersonDetails
from app.models.users import Role
from app.services import accounts, cases
from app.services.session import Session
from app.ui.app import SafecaseApp
from app.ui.forms import CONFIRM_BUTTON, CONFIRMATION
from app.ui.main_window import MainWindow
from app.ui.sign_in import SignInWindow
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    MANAGER,
    MANAGER_PW,
    TEST_KDF,
    MemoryKeyring,
    StoreCopy,
    copy_store,
)

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


# -- signed-in windows over case records ---------------------------------------------------------

BOTH, BOTH_PW = "bea", "harvest-cobalt-meadow-58"  # a caseworker who is also a manager
LARGE_CASES = 2000  # "a few thousand": 20 pages of the case list, built once per session
WAIT_MS = 5000


def add_both_roles_user(store: StoreCopy, device: DeviceSecrets) -> None:
    admin = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=device)
    try:
        accounts.add_user(
            admin,
            BOTH,
            BOTH_PW,
            frozenset({Role.CASEWORKER, Role.MANAGER}),
            must_change=False,
        )
    finally:
        accounts.sign_out(admin)


@pytest.fixture
def both_roles_store(store: StoreCopy, device: DeviceSecrets) -> StoreCopy:
    """The test store with one more user who holds the caseworker and manager roles."""
    add_both_roles_user(store, device)
    return store


def open_main(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, username: str, password: str
) -> tuple[SafecaseApp, MainWindow]:
    """Start the app on ``store``, sign in as a user would, and wait for the first page."""
    app = make_app(store.path)
    assert app.sign_in_window is not None
    with qtbot.waitSignal(app.signed_in, timeout=WAIT_MS):
        sign_in(qtbot, app.sign_in_window, username, password)
    main = app.main_window
    assert main is not None
    main.resize(1200, 800)
    wait_calls(qtbot, main)
    return app, main


def wait_calls(qtbot: QtBot, main: MainWindow) -> None:
    """Wait until every queued service call has reported."""
    qtbot.waitUntil(lambda: not main.calls.busy, timeout=WAIT_MS)


def confirmation() -> QMessageBox | None:
    """The confirmation box on screen, if there is one."""
    for widget in QApplication.topLevelWidgets():
        if (
            isinstance(widget, QMessageBox)
            and widget.isVisible()
            and widget.objectName() == CONFIRMATION
        ):
            return widget
    return None


def answer(qtbot: QtBot, yes: bool = True) -> str:
    """Answer the confirmation on screen; returns its question."""
    qtbot.waitUntil(lambda: confirmation() is not None, timeout=WAIT_MS)
    box = confirmation()
    assert box is not None
    text = box.text()
    if yes:
        button = box.findChild(QPushButton, CONFIRM_BUTTON)
        assert isinstance(button, QPushButton)
    else:
        button = box.button(QMessageBox.StandardButton.Cancel)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return text


def texts_on_screen() -> str:
    """Every piece of text a visible window shows (labels, fields, tables, titles)."""
    return widget_texts([w for w in QApplication.topLevelWidgets() if w.isVisible()])


def widget_texts(windows: list[QWidget], *, hidden: bool = False) -> str:
    """Every piece of text the windows show (labels, fields, tables, titles); with ``hidden``,
    also what their hidden widgets hold, with descriptions and tooltips."""
    getters = ("text", "toPlainText", "placeholderText")
    if hidden:
        getters += ("accessibleDescription", "toolTip")
    found: list[str] = []
    for window in windows:
        found.append(window.windowTitle())
        for widget in [window, *window.findChildren(QWidget)]:
            if not hidden and not widget.isVisible():
                continue
            for getter in getters:
                value = getattr(widget, getter, None)
                if callable(value):
                    try:
                        found.append(str(value()))
                    except TypeError:
                        continue
            if isinstance(widget, QAbstractItemView) and widget.model() is not None:
                model = widget.model()
                root = QModelIndex()
                try:
                    columns = model.columnCount(root)
                except TypeError:  # a list model keeps columnCount to itself
                    columns = 1
                for row in range(min(model.rowCount(root), 200)):
                    for column in range(columns):
                        found.append(str(model.index(row, column, root).data() or ""))
    return "\n".join(found)


@pytest.fixture(scope="session")
def large_template(
    template_store: StoreCopy, tmp_path_factory: pytest.TempPathFactory
) -> StoreCopy:
    """A store with LARGE_CASES referrals allocated to the caseworker, made once per session
    by a manager through the services (about 7 seconds)."""
    folder = tmp_path_factory.mktemp("large")
    path = copy_store(template_store.path, folder)
    device = DeviceSecrets(template_store.keyring)
    manager = accounts.sign_in(path, MANAGER, MANAGER_PW, device=device)
    # Test set-up only: skip the fsync after each of the 2,000 small transactions. The cases
    # are still made one referral at a time through the services, as a manager.
    manager.conn.execute("PRAGMA synchronous = OFF")
    try:
        worker = next(u.id for u in cases.team(manager) if u.username == CASEWORKER)
        for i in range(LARGE_CASES):
            cases.create_referral(
                manager,
                PersonDetails(f"Given{i:05d}", f"Family{i:05d}"),
                CaseDetails(referral_date=dt.date(2026, 1, 1), referral_source="police"),
                allocate_to=worker,
            )
    finally:
        accounts.sign_out(manager)
    return StoreCopy(path, template_store.keyring, template_store.recovery_key)


@pytest.fixture
def large_store(large_template: StoreCopy, keyring: MemoryKeyring, tmp_path: Path) -> StoreCopy:
    keyring.values.update(large_template.keyring.values)
    path = copy_store(large_template.path, tmp_path / "large")
    return StoreCopy(path, keyring, large_template.recovery_key)
