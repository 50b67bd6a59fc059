"""Starting the desktop app, and the controller that moves between its windows.

:class:`SafecaseApp` owns the signed-in Session and decides which window is on screen:
first run, then sign-in, then (when an admin reset the password) the change-password dialog,
then the main window; locking or signing out goes back to sign-in. Tests build it directly and
never start the event loop; :func:`run_app` adds what only a real run needs.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import (
    QMessageLogContext,
    QObject,
    QTimer,
    QtMsgType,
    Signal,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app import paths
from app.crypto.device import DeviceSecrets
from app.crypto.kdf import Argon2Params
from app.services import accounts
from app.services.session import Session
from app.ui import screen_fit
from app.ui.change_password import ChangePasswordDialog
from app.ui.errors import CrashHandler, show_error
from app.ui.first_run import FirstRunWindow, PrintDocument, print_with_dialog
from app.ui.i18n import install_translators
from app.ui.i18n import translate as t
from app.ui.sign_in import SignInWindow

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

# The main window and every page it holds load after the sign-in window is on screen, while
# the user types their password: start-up shows the sign-in window without them.
PRELOAD_AFTER_MS = 250


def _main_window_class() -> type[MainWindow]:
    from app.ui.main_window import MainWindow

    return MainWindow


def _is_main_window(window: QWidget | None) -> bool:
    """Whether ``window`` is the main window, without loading it if nothing has yet."""
    loaded = sys.modules.get("app.ui.main_window")
    return loaded is not None and isinstance(window, loaded.MainWindow)


log = logging.getLogger("safecase.ui")
qt_log = logging.getLogger("safecase.qt")

RESOURCES = paths.resources_dir()
STYLE_SHEET = RESOURCES / "style.qss"

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def qt_message_handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Send Qt's own messages to the ``safecase.qt`` logger."""
    category = context.category or "qt"
    qt_log.log(_QT_LEVELS.get(kind, logging.WARNING), "%s: %s", category, message)


def load_style(app: QApplication, path: Path = STYLE_SHEET) -> bool:
    """Apply the style sheet when it is there; the app works without it."""
    try:
        app.setStyleSheet(path.read_text(encoding="utf-8"))
    except OSError:
        log.info("no style sheet at %s", path.name)
        return False
    return True


class SafecaseApp(QObject):
    """Which window is showing, and the one Session behind the main window."""

    signed_in = Signal()  # the main window is showing
    locked = Signal()  # the store was closed by Lock, idle time or suspend
    signed_out = Signal()

    def __init__(
        self,
        store_path: Path,
        *,
        kdf: Argon2Params | None = None,
        device_factory: Callable[[], DeviceSecrets] = DeviceSecrets,
        print_document: PrintDocument = print_with_dialog,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store_path = store_path
        self._kdf = kdf
        self._device_factory = device_factory
        self._print_document = print_document
        self.session: Session | None = None
        self.window: QWidget | None = None
        self.change_password_dialog: ChangePasswordDialog | None = None
        app = QApplication.instance()
        if isinstance(app, QApplication):
            screen_fit.install(app)  # every window and dialog opens inside the screen

    # -- which window ----------------------------------------------------------------------------

    @property
    def first_run_window(self) -> FirstRunWindow | None:
        return self.window if isinstance(self.window, FirstRunWindow) else None

    @property
    def sign_in_window(self) -> SignInWindow | None:
        return self.window if isinstance(self.window, SignInWindow) else None

    @property
    def main_window(self) -> MainWindow | None:
        return cast("MainWindow", self.window) if _is_main_window(self.window) else None

    def start(self) -> None:
        """Show the first-run window for a new store, otherwise the sign-in window."""
        if self.store_path.exists():
            self.show_sign_in()
        else:
            self.show_first_run()

    def _switch_to(self, window: QWidget) -> None:
        """Show ``window`` first, then hide and delete the old one (so the app never has no
        window, which would end it)."""
        old, self.window = self.window, window
        window.show()
        window.activateWindow()
        if old is not None:
            if _is_main_window(old):
                cast("MainWindow", old).clear()
            old.hide()
            old.deleteLater()

    def show_first_run(self) -> None:
        window = FirstRunWindow(
            self.store_path,
            kdf=self._kdf,
            device_factory=self._device_factory,
            print_document=self._print_document,
        )
        window.resize(600, 520)
        window.store_created.connect(self._store_created)
        window.finished.connect(self._first_run_finished)
        self._switch_to(window)

    def show_sign_in(self, username: str = "") -> None:
        window = SignInWindow(
            self.store_path, device_factory=self._device_factory, username=username
        )
        window.resize(460, 280)
        window.signed_in.connect(self._signed_in)
        self._switch_to(window)
        QTimer.singleShot(PRELOAD_AFTER_MS, _main_window_class)

    def _show_main(self) -> None:
        if self.session is None:
            return
        window = _main_window_class()(self.session)
        window.resize(1280, 820)  # or as much as the screen has (screen_fit)
        window.lock_requested.connect(self.lock)
        window.sign_out_requested.connect(self.sign_out)
        window.closed.connect(self._main_closed)
        self._switch_to(window)
        if self.session.backup_before_update is not None:
            self.update_note = QMessageBox(
                QMessageBox.Icon.Information,
                t("SafecaseApp", "Store updated"),
                t(
                    "SafecaseApp",
                    "This store was updated for this version of Safecase. A backup taken just "
                    "before is at:\n{path}",
                ).format(path=self.session.backup_before_update),
                parent=window,
            )
            self.update_note.open()
        self.signed_in.emit()

    # -- what the windows report -----------------------------------------------------------------

    def _store_created(self, session: Session) -> None:
        """The store exists; close it until its admin signs in with the new password."""
        self.session = session
        problem = self._end_session(accounts.sign_out)
        if problem is not None:
            show_error(self.window, problem)

    def _first_run_finished(self, username: str) -> None:
        self.show_sign_in(username)

    def _signed_in(self, session: Session) -> None:
        self.session = session
        if not session.must_change_password:
            self._show_main()
            return
        dialog = ChangePasswordDialog(session, self.window)
        dialog.accepted.connect(self._password_changed)
        dialog.rejected.connect(self._password_not_changed)
        self.change_password_dialog = dialog
        dialog.open()

    def _password_changed(self) -> None:
        self._drop_dialog()
        self._show_main()

    def _password_not_changed(self) -> None:
        self._drop_dialog()
        problem = self._end_session(accounts.sign_out)
        if problem is not None:
            show_error(self.window, problem)

    def _drop_dialog(self) -> None:
        if self.change_password_dialog is not None:
            self.change_password_dialog.deleteLater()
            self.change_password_dialog = None

    def _end_session(
        self, end: Callable[[Session], None], *, keep_drafts: bool = False
    ) -> BaseException | None:
        """Sign out or lock; the store is closed afterwards whatever happened on the way.

        The main window lets go first: (at a lock) what was typed and not saved is kept as
        drafts, its dialogs close, its queue of store calls stops (the call running is waited
        for) and every record it showed is dropped.
        """
        main = self.main_window
        if main is not None:
            main.clear(keep_drafts=keep_drafts)
        session, self.session = self.session, None
        if session is None:
            return None
        try:
            end(session)  # closes the store even when its audit entry cannot be written
        except Exception as exc:  # shown to the user by the caller
            return exc
        return None

    def lock(self) -> None:
        """Close the store at once and ask for the password again."""
        if self.session is None or self.main_window is None:
            return
        username = self.session.username
        problem = self._end_session(accounts.lock, keep_drafts=True)
        self.show_sign_in(username)
        if problem is not None:
            show_error(self.window, problem)
        self.locked.emit()

    def sign_out(self) -> None:
        if self.session is None:
            return
        problem = self._end_session(accounts.sign_out)
        self.show_sign_in()
        if problem is not None:
            show_error(self.window, problem)
        self.signed_out.emit()

    def _main_closed(self) -> None:
        """The user closed the main window: sign out; with no window left the app ends."""
        window = self.main_window
        problem = self._end_session(accounts.sign_out)
        if problem is not None:
            log.warning("sign-out on close failed: %s", type(problem).__name__)
        if window is not None:
            self.window = None
            window.clear()
            window.deleteLater()
        self.signed_out.emit()

    def shutdown(self) -> None:
        """Sign out and take every window down (the app is quitting)."""
        problem = self._end_session(accounts.sign_out)
        if problem is not None:
            log.warning("sign-out at quit failed: %s", type(problem).__name__)
        self._drop_dialog()
        window, self.window = self.window, None
        if window is not None:
            if _is_main_window(window):
                cast("MainWindow", window).clear()
            window.hide()
            window.deleteLater()


def run_app(
    store_path: Path, *, kdf: Argon2Params | None = None, exit_when_shown: bool = False
) -> int:
    """Run the desktop app on ``store_path`` until its last window closes.

    ``kdf`` None calibrates Argon2id when a new store is created (the product); tests pass a
    small cost explicitly. ``exit_when_shown`` prints the first window's name and quits as
    soon as it is on screen (the bundle's test and its start-up benchmark).
    """
    QApplication.setApplicationName("Safecase")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    qInstallMessageHandler(qt_message_handler)
    install_translators(app, RESOURCES / "translations")
    load_style(app)
    sys.excepthook = CrashHandler()
    controller = SafecaseApp(store_path, kdf=kdf)
    app.aboutToQuit.connect(controller.shutdown)
    controller.start()
    if exit_when_shown:
        QTimer.singleShot(0, lambda: _report_shown(app, controller))
    return app.exec()


def _report_shown(app: QApplication, controller: SafecaseApp) -> None:
    window = controller.window
    shown = "sign-in" if controller.sign_in_window else "first-run" if window else "none"
    print(f"shown: {shown} window", flush=True)
    app.quit()
