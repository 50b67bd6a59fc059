"""Restore from a backup on a new laptop, from the first-run window: the backup file, the
recovery key shown when the store was set up, and the admin who signs in here afterwards.

The restore runs in the background with a progress bar. Cases that a purge destroyed after
the backup was taken are destroyed again before the store opens (accounts.restore_store).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.crypto.device import DeviceSecrets
from app.errors import SafecaseError
from app.services import accounts
from app.services.accounts import Restored
from app.ui.errors import error_sentence, log_unexpected
from app.ui.i18n import translate
from app.ui.tasks import Task, run_in_background
from app.ui.widgets import add_row, heading, line_edit, message_label, paragraph, set_message


class RestoreDialog(QDialog):
    """Rebuild the store at ``store_path`` from a backup with the recovery key."""

    restored = Signal(object)  # Restored; the receiver owns its session

    def __init__(
        self,
        store_path: Path,
        *,
        device_factory: Callable[[], DeviceSecrets] = DeviceSecrets,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        t = translate
        self._store_path = store_path
        self._device_factory = device_factory
        self._task: Task | None = None
        # Which backup file: a file dialog, replaceable in tests. Never remembered by Qt.
        self.choose_backup_file: Callable[[], str] = self._ask_backup_file
        self.setWindowTitle(t("RestoreDialog", "Safecase"))
        self.setAccessibleName(t("RestoreDialog", "Restore from a backup"))
        self.setModal(True)

        self.file_field = line_edit(t("RestoreDialog", "Backup file"))
        self.browse_button = QPushButton(t("RestoreDialog", "C&hoose…"))
        self.browse_button.setAccessibleName(t("RestoreDialog", "Choose the backup file"))
        self.key_field = line_edit(t("RestoreDialog", "Recovery key"))
        self.admin_field = line_edit(t("RestoreDialog", "Your username"))
        self.password_field = line_edit(t("RestoreDialog", "New password"), password=True)
        self.confirm_field = line_edit(t("RestoreDialog", "New password again"), password=True)
        self.progress = QProgressBar()
        self.progress.setAccessibleName(t("RestoreDialog", "Restore progress"))
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.status_label = message_label(t("RestoreDialog", "Status"), "status")
        self.problem_label = message_label(t("RestoreDialog", "Problem"))
        self.restore_button = QPushButton(t("RestoreDialog", "&Restore"))
        self.restore_button.setAccessibleName(t("RestoreDialog", "Restore"))
        self.cancel_button = QPushButton(t("RestoreDialog", "Cancel"))
        self.browse_button.setAutoDefault(False)
        self.cancel_button.setAutoDefault(False)
        self.restore_button.setDefault(True)

        file_row = QHBoxLayout()
        file_row.addWidget(self.file_field, 1)
        file_row.addWidget(self.browse_button)
        form = QFormLayout()
        file_row.setContentsMargins(0, 0, 0, 0)
        file_box = QWidget()
        file_box.setLayout(file_row)
        add_row(form, t("RestoreDialog", "&Backup file"), file_box).setBuddy(self.file_field)
        add_row(form, t("RestoreDialog", "Recovery &key"), self.key_field)
        add_row(form, t("RestoreDialog", "Your &username"), self.admin_field)
        add_row(form, t("RestoreDialog", "New &password"), self.password_field)
        add_row(form, t("RestoreDialog", "New password &again"), self.confirm_field)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.restore_button)

        layout = QVBoxLayout(self)
        layout.addWidget(heading(t("RestoreDialog", "Restore from a backup")))
        layout.addWidget(
            paragraph(
                t(
                    "RestoreDialog",
                    "Rebuild your service's store on this computer from a backup. You need the "
                    "recovery key that was shown when the store was set up. You become its "
                    "admin here; other users need a password reset before they sign in.",
                )
            )
        )
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.problem_label)
        layout.addLayout(buttons)

        self.browse_button.clicked.connect(self.browse)
        self.restore_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)

    @property
    def busy(self) -> bool:
        return self._task is not None

    def _ask_backup_file(self) -> str:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            translate("RestoreDialog", "Choose the backup file"),
            "",
            translate("RestoreDialog", "Safecase backups (*.backup *.scbackup);;All files (*)"),
            options=QFileDialog.Option.DontUseNativeDialog,
        )
        return path

    def browse(self) -> None:
        chosen = self.choose_backup_file()
        if chosen:
            self.file_field.setText(chosen)

    def _problem(self) -> str | None:
        t = translate
        if not self.file_field.text().strip():
            return t("RestoreDialog", "Choose the backup file.")
        if not self.key_field.text().strip():
            return t("RestoreDialog", "Type the recovery key.")
        try:
            accounts.check_username(self.admin_field.text())
        except SafecaseError as error:
            return error_sentence(error)
        password = self.password_field.text()
        problem = accounts.password_problem(password, self.admin_field.text().strip())
        if problem:
            return translate("errors", problem)
        if self.confirm_field.text() != password:
            return t("RestoreDialog", "The two passwords differ.")
        return None

    def submit(self) -> None:
        if self._task is not None:
            return
        problem = self._problem()
        if problem:
            set_message(self.problem_label, problem)
            return
        backup = Path(self.file_field.text().strip())
        key, admin = self.key_field.text().strip(), self.admin_field.text().strip()
        password, path = self.password_field.text(), self._store_path
        device_factory = self._device_factory

        def restore() -> Restored:
            return accounts.restore_store(
                backup,
                path,
                key,
                admin_name=admin,
                new_password=password,
                device=device_factory(),
            )

        self._set_busy(True)
        self._task = run_in_background(restore, on_success=self._done, on_failure=self._failed)

    def _set_busy(self, busy: bool) -> None:
        for widget in (
            self.file_field,
            self.browse_button,
            self.key_field,
            self.admin_field,
            self.password_field,
            self.confirm_field,
            self.restore_button,
            self.cancel_button,
        ):
            widget.setEnabled(not busy)
        # A restore reports no steps: the bar moves to say it is working, then fills.
        self.progress.setRange(0, 0 if busy else 1)
        set_message(
            self.status_label,
            translate("RestoreDialog", "Restoring the store…") if busy else None,
        )
        if busy:
            set_message(self.problem_label, None)

    def _failed(self, error: object) -> None:
        self._task = None
        self._set_busy(False)
        if not isinstance(error, BaseException):
            error = RuntimeError("task failed without an exception")
        if not isinstance(error, SafecaseError):
            log_unexpected(error)
        set_message(self.problem_label, error_sentence(error))

    def _done(self, result: object) -> None:
        self._task = None
        self._set_busy(False)
        self.progress.setValue(1)
        self.password_field.clear()
        self.confirm_field.clear()
        self.key_field.clear()
        self.restored.emit(cast(Restored, result))
        self.accept()
