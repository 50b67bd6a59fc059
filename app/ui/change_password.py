"""Choosing a new password: forced after any password an admin set (a new user's first
password or a reset), or asked for from the main window's "Change my password"."""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import SafecaseError
from app.services import accounts
from app.services.session import Session
from app.ui.errors import error_sentence, log_unexpected
from app.ui.i18n import translate
from app.ui.idle import IdleWatcher
from app.ui.store_calls import StoreCalls
from app.ui.tasks import Task, run_in_background
from app.ui.widgets import add_row, heading, line_edit, message_label, paragraph, set_message

log = logging.getLogger("safecase.ui")


class ChangePasswordDialog(QDialog):
    """Current, new and confirm. Accepted once the new password is in place.

    Forced (at sign-in, no ``calls``): rejecting it means the user chose to sign out instead.
    Chosen (from the main window, with its ``calls`` and the service name read through them):
    the change runs through the window's queue of store calls, and Cancel just closes."""

    password_changed = Signal()

    def __init__(
        self,
        session: Session,
        parent: QWidget | None = None,
        *,
        calls: StoreCalls | None = None,
        service_name: str | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._calls = calls
        self.forced = calls is None
        self._service_name = (
            service_name if service_name is not None else accounts.service_name(session)
        )
        self._task: Task | None = None
        self._changing = False

        self.setWindowTitle(translate("ChangePasswordDialog", "Safecase"))
        self.setModal(True)
        self.current_field = line_edit(
            translate("ChangePasswordDialog", "Current password"), password=True
        )
        self.new_field = line_edit(translate("ChangePasswordDialog", "New password"), password=True)
        self.confirm_field = line_edit(
            translate("ChangePasswordDialog", "New password again"), password=True
        )
        self.problem_label = message_label(translate("ChangePasswordDialog", "Password problem"))
        self.status_label = message_label(translate("ChangePasswordDialog", "Status"), "status")
        self.change_button = QPushButton(translate("ChangePasswordDialog", "&Change password"))
        self.change_button.setAccessibleName(translate("ChangePasswordDialog", "Change password"))
        self.change_button.setDefault(True)
        if self.forced:
            self.sign_out_button = QPushButton(translate("ChangePasswordDialog", "Sign &out"))
            self.sign_out_button.setAccessibleName(translate("ChangePasswordDialog", "Sign out"))
            intro = translate(
                "ChangePasswordDialog",
                "An admin set your password. Choose a new one of at least 12 characters, "
                "known only to you, before you go on.",
            )
        else:
            self.sign_out_button = QPushButton(translate("ChangePasswordDialog", "Cancel"))
            self.sign_out_button.setAccessibleName(translate("ChangePasswordDialog", "Cancel"))
            intro = translate(
                "ChangePasswordDialog",
                "Choose a new password of at least 12 characters. The old one stops working "
                "at once.",
            )
        self.sign_out_button.setAutoDefault(False)

        form = QFormLayout()
        add_row(form, translate("ChangePasswordDialog", "C&urrent password"), self.current_field)
        add_row(form, translate("ChangePasswordDialog", "&New password"), self.new_field)
        add_row(form, translate("ChangePasswordDialog", "New password &again"), self.confirm_field)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label)
        buttons.addStretch(1)
        buttons.addWidget(self.sign_out_button)
        buttons.addWidget(self.change_button)

        layout = QVBoxLayout(self)
        layout.addWidget(heading(translate("ChangePasswordDialog", "Choose a new password")))
        layout.addWidget(paragraph(intro))
        layout.addLayout(form)
        layout.addWidget(self.problem_label)
        layout.addLayout(buttons)

        QWidget.setTabOrder(self.current_field, self.new_field)
        QWidget.setTabOrder(self.new_field, self.confirm_field)
        QWidget.setTabOrder(self.confirm_field, self.change_button)
        QWidget.setTabOrder(self.change_button, self.sign_out_button)

        self.new_field.textChanged.connect(self._check_password)
        self.confirm_field.textChanged.connect(self._check_password)
        self.change_button.clicked.connect(self.submit)
        self.sign_out_button.clicked.connect(self.reject)
        self.current_field.setFocus()

        # The store is open behind this dialog, so walking away from it signs out too. (From
        # the main window, the window's own idle lock closes this dialog with everything else.)
        self.idle_watcher = IdleWatcher(
            accounts.idle_lock_minutes(session) if self.forced else 0, self
        )
        self.idle_watcher.idle.connect(self._idle)
        if self.forced:
            self.idle_watcher.start()

    @property
    def busy(self) -> bool:
        return self._task is not None or self._changing

    def _idle(self) -> None:
        if self.busy:
            self.idle_watcher.start()  # the password is being written; look again later
            return
        log.info("idle sign-out from the change-password dialog")
        self.reject()

    def done(self, result: int) -> None:
        self.idle_watcher.stop()
        super().done(result)

    def _password_problem(self) -> str | None:
        new = self.new_field.text()
        if not new:
            return None
        problem = accounts.password_problem(new, self._session.username, self._service_name)
        if problem:
            return translate("errors", problem)
        confirm = self.confirm_field.text()
        if confirm and confirm != new:
            return translate("ChangePasswordDialog", "The two new passwords differ.")
        return None

    def _check_password(self) -> None:
        if not self.busy:
            set_message(self.problem_label, self._password_problem())

    def submit(self) -> None:
        if self.busy:
            return
        current, new = self.current_field.text(), self.new_field.text()
        if not current:
            set_message(
                self.problem_label,
                translate("ChangePasswordDialog", "Enter your current password."),
            )
            self.current_field.setFocus()
            return
        problem = self._password_problem() or (
            None
            if new and self.confirm_field.text() == new
            else translate("ChangePasswordDialog", "Type the new password twice.")
        )
        if problem:
            set_message(self.problem_label, problem)
            self.new_field.setFocus()
            return
        self._set_busy(True)
        if self._calls is not None:
            self._changing = self._calls.run(
                lambda s: accounts.change_password(s, current, new),
                self._changed,
                self._failed,
                receiver=self,
            )
            if not self._changing:
                self._set_busy(False)
            return
        session = self._session

        def change() -> None:
            accounts.change_password(session, current, new)

        self._task = run_in_background(change, on_success=self._changed, on_failure=self._failed)

    def _set_busy(self, busy: bool) -> None:
        for widget in (
            self.current_field,
            self.new_field,
            self.confirm_field,
            self.change_button,
            self.sign_out_button,
        ):
            widget.setEnabled(not busy)
        set_message(
            self.status_label,
            translate("ChangePasswordDialog", "Changing the password…") if busy else None,
        )
        if busy:
            set_message(self.problem_label, None)

    def _changed(self, _result: object) -> None:
        self._task = None
        self._changing = False
        self._set_busy(False)
        for field in (self.current_field, self.new_field, self.confirm_field):
            field.clear()
        self.password_changed.emit()
        self.accept()

    def _failed(self, error: object) -> None:
        self._task = None
        self._changing = False
        self._set_busy(False)
        if not isinstance(error, BaseException):
            error = RuntimeError("task failed without an exception")
        if not isinstance(error, SafecaseError):
            log_unexpected(error)
        set_message(self.problem_label, error_sentence(error))
        self.current_field.clear()
        self.current_field.setFocus()

    def reject(self) -> None:
        if self.busy:
            return  # the new password is being written; let it finish
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.busy:
            event.ignore()
            return
        super().closeEvent(event)
