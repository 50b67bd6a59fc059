"""The main window: navigation for the areas later versions add, Lock, Sign out, idle lock.

The title is only ever "Safecase": a title shows in task bars, window lists and shared screens,
so it never names the user or anything in a record.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.services import accounts
from app.services.session import Session
from app.ui.i18n import translate
from app.ui.idle import IdleWatcher
from app.ui.widgets import heading, paragraph

log = logging.getLogger("safecase.ui")

LOCK_SHORTCUT = "Ctrl+L"


class MainWindow(QMainWindow):
    """The signed-in window. It reports what the user asked for; the app does the locking."""

    lock_requested = Signal()  # Lock, Ctrl+L, idle time-out or the system suspending
    sign_out_requested = Signal()
    closed = Signal()  # the user closed the window

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session: Session | None = session
        self.setWindowTitle(translate("MainWindow", "Safecase"))

        self.lock_action = QAction(translate("MainWindow", "&Lock"), self)
        self.lock_action.setShortcut(QKeySequence(LOCK_SHORTCUT))
        # Any Safecase window that has focus (a later dialog too) can be locked at once.
        self.lock_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.lock_action.setToolTip(
            translate("MainWindow", "Lock Safecase now (Ctrl+L); your password opens it again")
        )
        self.sign_out_action = QAction(translate("MainWindow", "Sign &out"), self)
        self.sign_out_action.setToolTip(translate("MainWindow", "Sign out of Safecase"))

        menu = self.menuBar().addMenu(translate("MainWindow", "&Safecase"))
        menu.addAction(self.lock_action)
        menu.addAction(self.sign_out_action)

        self.toolbar = QToolBar(translate("MainWindow", "Main tools"))
        self.toolbar.setObjectName("mainTools")
        self.toolbar.setAccessibleName(translate("MainWindow", "Main tools"))
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.addAction(self.lock_action)
        self.toolbar.addAction(self.sign_out_action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.lock_button = self._tool_button(self.lock_action, translate("MainWindow", "Lock"))
        self.lock_button.setObjectName("lockButton")
        self._tool_button(self.sign_out_action, translate("MainWindow", "Sign out"))

        self.banner = QLabel(
            translate(
                "MainWindow",
                "Warning: this store is not tied to this computer's keyring, so its "
                "protection rests on passwords alone.",
            )
        )
        self.banner.setObjectName("warningBanner")
        self.banner.setAccessibleName(translate("MainWindow", "Warning"))
        self.banner.setWordWrap(True)
        self.banner.setVisible(session.password_only)

        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setAccessibleName(translate("MainWindow", "Areas"))
        self.pages = QStackedWidget()
        self.pages.setAccessibleName(translate("MainWindow", "Current area"))
        self.navigation.currentRowChanged.connect(self.pages.setCurrentIndex)

        body = QHBoxLayout()
        body.addWidget(self.navigation)
        body.addWidget(self.pages, 1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)
        self.setCentralWidget(central)
        self.add_area(translate("MainWindow", "Home"), self._home_page(session))
        QWidget.setTabOrder(self.navigation, self.pages)

        self.lock_action.triggered.connect(self.lock_requested)
        self.sign_out_action.triggered.connect(self.sign_out_requested)

        self.idle_watcher = IdleWatcher(accounts.idle_lock_minutes(session), self)
        self.idle_watcher.idle.connect(self._idle)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.applicationStateChanged.connect(self.application_state_changed)
        self.idle_watcher.start()

    def _tool_button(self, action: QAction, name: str) -> QToolButton:
        button = self.toolbar.widgetForAction(action)
        assert isinstance(button, QToolButton)
        button.setAccessibleName(name)
        return button

    def _home_page(self, session: Session) -> QWidget:
        page = QWidget()
        page.setAccessibleName(translate("MainWindow", "Home"))
        layout = QVBoxLayout(page)
        layout.addWidget(
            heading(accounts.service_name(session) or translate("MainWindow", "Safecase"))
        )
        layout.addWidget(
            paragraph(translate("MainWindow", "Signed in as {name}.").format(name=session.username))
        )
        layout.addWidget(
            paragraph(
                translate(
                    "MainWindow",
                    "Press Lock or Ctrl+L whenever you step away; Safecase also locks itself "
                    "after a few minutes without use.",
                )
            )
        )
        layout.addStretch(1)
        return page

    @property
    def idle_timer(self) -> QTimer:
        return self.idle_watcher.timer

    def add_area(self, title: str, page: QWidget) -> None:
        """Add an area to the navigation list, with the page it shows."""
        self.navigation.addItem(title)
        self.pages.addWidget(page)
        if self.navigation.currentRow() < 0:
            self.navigation.setCurrentRow(0)

    def _idle(self) -> None:
        log.info("idle lock")
        self.lock_requested.emit()

    def application_state_changed(self, state: Qt.ApplicationState) -> None:
        """Lock when the system suspends the application (sleep, some screen locks)."""
        if state == Qt.ApplicationState.ApplicationSuspended and self._session is not None:
            log.info("lock on suspend")
            self.lock_requested.emit()

    def clear(self) -> None:
        """Forget the session and everything shown from it; stop watching for idle time."""
        self.idle_watcher.stop()
        if self._session is None:
            return
        self._session = None
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.applicationStateChanged.disconnect(self.application_state_changed)
        self.navigation.clear()
        while (page := self.pages.widget(0)) is not None:
            self.pages.removeWidget(page)
            page.deleteLater()

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        if self._session is not None:
            self.closed.emit()
