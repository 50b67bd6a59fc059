"""The sign-in window: username and password, checked in the background."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.crypto.device import DeviceSecrets
from app.errors import SafecaseError, SignInDelayed
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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self._store_path = store_path
        self._device_factory = device_factory
        self._task: Task | None = None
        self._clock = clock
        self._may_try_at: float | None = None  # after too many wrong passwords
        self._waiting_name = ""  # the wait is for this username; another may sign in
        # Once a second while the user must wait: the sentence counts down, Sign in stays off.
        self.wait_timer = QTimer(self)
        self.wait_timer.setInterval(1000)
        self.wait_timer.timeout.connect(self._count_down)

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

        self.username_field.textChanged.connect(self._username_changed)
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

    @property
    def waiting(self) -> bool:
        """Whether the user must wait before trying again (too many wrong passwords)."""
        return self._may_try_at is not None

    def submit(self) -> None:
        """Check the password in the background (Argon2id takes about half a second)."""
        if self._task is not None or self.waiting:
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
        self.sign_in_button.setEnabled(not busy and not self.waiting)
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
        if isinstance(error, SignInDelayed):
            self._wait(error.seconds)

    def _wait(self, seconds: int) -> None:
        self._waiting_name = self.username_field.text().strip()
        self._may_try_at = self._clock() + seconds
        self.sign_in_button.setEnabled(False)
        self.wait_timer.start()
        self._count_down()

    def _count_down(self) -> None:
        if self._may_try_at is None:
            self.wait_timer.stop()
            return
        left = math.ceil(self._may_try_at - self._clock())
        if left > 0:
            text = (
                translate(
                    "SignInWindow", "Too many wrong passwords. Wait 1 second before trying again."
                )
                if left == 1
                else translate(
                    "SignInWindow",
                    "Too many wrong passwords. Wait {seconds} seconds before trying again.",
                ).format(seconds=left)
            )
            set_message(self.problem_label, text)
            return
        self._stop_waiting()
        set_message(self.problem_label, translate("SignInWindow", "You can try again now."))

    def _stop_waiting(self) -> None:
        self._may_try_at = None
        self.wait_timer.stop()
        self.sign_in_button.setEnabled(self._task is None)

    def _username_changed(self, text: str) -> None:
        """The wait holds for the name that was refused; someone else may sign in meanwhile."""
        if self.waiting and text.strip() != self._waiting_name:
            self._stop_waiting()
            set_message(self.problem_label, None)

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
