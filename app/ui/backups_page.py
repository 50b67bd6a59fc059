"""Backups (admins): take a backup now into a chosen folder, keep a number of generations there,
and see when the last one was taken, with a warning when that is more than 7 days ago.

A backup is encrypted under the store's backup key: the recovery key opens it on a new laptop
(the first-run window's "Restore from a backup"). The folder is remembered inside the store,
never in QSettings or a file dialog's history.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.services import backup
from app.services.backup import BackupStatus
from app.services.session import uk_date
from app.ui import labels
from app.ui.errors import error_sentence
from app.ui.forms import button, spin_box
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls
from app.ui.widgets import heading, message_label, paragraph, set_message


class BackupsPage(QWidget):
    def __init__(self, calls: StoreCalls, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.calls = calls
        self.folder: Path | None = None
        self.last_status: BackupStatus | None = None
        # Where backups go: a folder dialog, replaceable in tests. Never remembered by Qt.
        self.choose_folder: Callable[[], str] = self._ask_folder
        t = translate
        self.setAccessibleName(t("BackupsPage", "Backups"))

        self.folder_label = QLabel()
        self.folder_label.setAccessibleName(t("BackupsPage", "Backup folder"))
        self.folder_label.setWordWrap(True)
        self.folder_button = button(t("BackupsPage", "Choose the &folder…"))
        self.keep_field = spin_box(
            t("BackupsPage", "Backups to keep"), 1, 100, backup.DEFAULT_GENERATIONS
        )
        keep_label = QLabel(t("BackupsPage", "&Keep this many backups:"))
        keep_label.setBuddy(self.keep_field)
        self.backup_button = button(t("BackupsPage", "&Back up now"))
        self.last_label = QLabel()
        self.last_label.setAccessibleName(t("BackupsPage", "Last backup"))
        self.warning_label = message_label(t("BackupsPage", "Warning"))
        self.status_label = message_label(t("BackupsPage", "Status"), "status")
        self.problem_label = message_label(t("BackupsPage", "Problem"))

        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel(t("BackupsPage", "Folder:")))
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.folder_button)
        keep_row = QHBoxLayout()
        keep_row.addWidget(keep_label)
        keep_row.addWidget(self.keep_field)
        keep_row.addStretch(1)
        keep_row.addWidget(self.backup_button)

        layout = QVBoxLayout(self)
        layout.addWidget(heading(t("BackupsPage", "Backups")))
        layout.addWidget(
            paragraph(
                t(
                    "BackupsPage",
                    "A backup is a copy of the whole store, encrypted: only the recovery key "
                    "(or an admin of this store) opens it. Keep backups on a drive or share "
                    "away from this laptop. The oldest backups in the folder are removed once "
                    "a new one is written and checked.",
                )
            )
        )
        layout.addLayout(folder_row)
        layout.addLayout(keep_row)
        layout.addWidget(self.last_label)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problem_label)
        layout.addStretch(1)

        self.folder_button.clicked.connect(self.pick_folder)
        self.backup_button.clicked.connect(self.back_up)
        self._show_folder()

    def start(self) -> None:
        self.calls.run(backup.status, self._status_arrived, self._failed, receiver=self)

    def _ask_folder(self) -> str:
        return QFileDialog.getExistingDirectory(
            self,
            translate("BackupsPage", "Choose the folder for backups"),
            "",
            QFileDialog.Option.ShowDirsOnly | QFileDialog.Option.DontUseNativeDialog,
        )

    def _show_folder(self) -> None:
        self.folder_label.setText(
            str(self.folder) if self.folder else translate("BackupsPage", "not chosen yet")
        )
        self.backup_button.setEnabled(self.folder is not None)

    def _status_arrived(self, status: BackupStatus) -> None:
        self.last_status = status
        if status.folder is not None and self.folder is None:
            self.folder = status.folder
        self.keep_field.setValue(status.keep)
        self._show_folder()
        t = translate
        if status.last_made is None:
            self.last_label.setText(t("BackupsPage", "No backup of this store has been taken."))
        else:
            local = status.last_made.astimezone()
            days = (self.calls.today() - uk_date(status.last_made)).days
            self.last_label.setText(
                t("BackupsPage", "Last backup: {when} ({days} days ago).").format(
                    when=f"{labels.date(local.date())} {local:%H:%M}", days=days
                )
                if days != 1
                else t("BackupsPage", "Last backup: {when} (yesterday).").format(
                    when=f"{labels.date(local.date())} {local:%H:%M}"
                )
            )
        set_message(
            self.warning_label,
            t(
                "BackupsPage",
                "No backup in the last 7 days: take one now, so a lost or broken laptop does "
                "not lose the records.",
            )
            if status.stale
            else None,
        )

    def pick_folder(self) -> None:
        chosen = self.choose_folder()
        if chosen:
            self.folder = Path(chosen)
            self._show_folder()

    def back_up(self) -> None:
        folder, keep = self.folder, self.keep_field.value()
        if folder is None:
            return

        def done(status: BackupStatus) -> None:
            set_message(self.problem_label, None)
            set_message(self.status_label, translate("BackupsPage", "Backup taken."))
            self._status_arrived(status)

        self.calls.run(
            lambda s: backup.back_up_now(s, folder, keep),
            done,
            self._failed,
            receiver=self,
            label=translate("BackupsPage", "Writing the backup…"),
        )

    def _failed(self, error: BaseException) -> None:
        set_message(self.status_label, None)
        set_message(self.problem_label, error_sentence(error))

    def clear(self) -> None:
        self.folder = None
        self.last_status = None
