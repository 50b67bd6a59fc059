"""The sign-in window: username and password, checked in the background."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.crypto.device import DeviceSecrets
from app.errors import SafecaseError
from app.services import accounts
from app.services.session import Session
from app.ui.errors import error_sentence, log_unexpected
from app.ui.i18n import translate
from app.ui.tasks import Task, run_in_background
from app.ui.widgets import add_row, heading, line_edit, message_label, set_message

log = logging.getLogger("safecase.ui")


class SignInWindow(QWidget):
    """Opens the store as one user. Every refusal is one sentence under the form."""

    signed_in = Signal(object)  # the new Session; the receiver owns it

    def __init__(
        self,
        store_path: Path,
        *,
        device_factory: Callable[[], DeviceSecrets] = DeviceSecrets,
        username: str = "",
        message: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._store_path = store_path
        self._device_factory = device_factory
        self._task: Task | None = None

        self.setWindowTitle(translate("SignInWindow", "Safecase"))
        self.username_field = line_edit(translate("SignInWindow", "Username"))
        self.username_field.setText(username)
        self.password_field = line_edit(translate("SignInWindow", "Password"), password=True)
        self.problem_label = message_label(translate("SignInWindow", "Sign-in problem"))
        self.status_label = message_label(translate("SignInWindow", "Status"), "status")
        self.sign_in_button = QPushButton(translate("SignInWindow", "&Sign in"))
        self.sign_in_button.setAccessibleName(translate("SignInWindow", "Sign in"))
        self.sign_in_button.setDefault(True)

        form = QFormLayout()
        add_row(form, translate("SignInWindow", "&Username"), self.username_field)
        add_row(form, translate("SignInWindow", "&Password"), self.password_field)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label)
        buttons.addStretch(1)
        buttons.addWidget(self.sign_in_button)

        layout = QVBoxLayout(self)
        layout.addWidget(heading(translate("SignInWindow", "Sign in to Safecase")))
        layout.addLayout(form)
        layout.addWidget(self.problem_label)
        layout.addStretch(1)
        layout.addLayout(buttons)

        QWidget.setTabOrder(self.username_field, self.password_field)
        QWidget.setTabOrder(self.password_field, self.sign_in_button)

        self.username_field.returnPressed.connect(self.submit)
        self.password_field.returnPressed.connect(self.submit)
        self.sign_in_button.clicked.connect(self.submit)
        set_message(self.problem_label, message)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.username_field.text():
            self.password_field.setFocus()
        else:
            self.username_field.setFocus()

    @property
    def busy(self) -> bool:
        return self._task is not None

    def submit(self) -> None:
        """Check the password in the background (Argon2id takes about half a second)."""
        if self._task is not None:
            return
        username = self.username_field.text().strip()
        password = self.password_field.text()
        if not username:
            self._refuse(translate("SignInWindow", "Enter your username."), self.username_field)
            return
        if not password:
            self._refuse(translate("SignInWindow", "Enter your password."), self.password_field)
            return
        path, device_factory = self._store_path, self._device_factory

        def sign_in() -> Session:
            return accounts.sign_in(path, username, password, device=device_factory())

        self._set_busy(True)
        self._task = run_in_background(sign_in, on_success=self._succeeded, on_failure=self._failed)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.username_field, self.password_field, self.sign_in_button):
            widget.setEnabled(not busy)
        set_message(
            self.status_label,
            translate("SignInWindow", "Opening the store…") if busy else None,
        )
        if busy:
            set_message(self.problem_label, None)

    def _refuse(self, sentence: str, focus: QWidget) -> None:
        set_message(self.problem_label, sentence)
        self.password_field.clear()
        focus.setFocus()

    def _failed(self, error: object) -> None:
        self._task = None
        self._set_busy(False)
        if not isinstance(error, BaseException):
            error = RuntimeError("task failed without an exception")
        if not isinstance(error, SafecaseError):
            log_unexpected(error)
        self._refuse(error_sentence(error), self.password_field)

    def _succeeded(self, session: object) -> None:
        self._task = None
        self._set_busy(False)
        self.password_field.clear()
        assert isinstance(session, Session)
        if not self.isVisible():
            # The window went away while the store was opening: close it again.
            accounts.sign_out(session)
            return
        self.signed_in.emit(session)
