"""Moving a folder team to its PostgreSQL server, from the admin's Devices page.

The admin gives the server's address, its certificate (to pin, over the network) and the
server owner's address and password (who set the server up with ``safecase team server
init``); the owner's password is used once, to make each laptop's login, and kept nowhere.
The move runs through the window's StoreCalls (off the UI thread) after a confirmation.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QFormLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.services.session import Session
from app.ui.errors import error_sentence
from app.ui.forms import button, confirm
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls
from app.ui.widgets import add_row, heading, line_edit, message_label, paragraph, set_message

if TYPE_CHECKING:
    from app.services.team_server import Moved


class MoveToServerDialog(QDialog):
    """The server's address, certificate and owner's login; then the move, once confirmed."""

    moved = Signal(object)  # the Moved report

    def __init__(
        self,
        calls: StoreCalls,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(parent)
        t = translate
        self.calls = calls
        self.lock_action = lock_action
        self.setWindowTitle(t("MoveToServer", "Move the team to its server"))
        self.setAccessibleName(t("MoveToServer", "Move the team to its server"))
        self.address_field = line_edit(t("MoveToServer", "Server address"))
        self.address_field.setPlaceholderText("postgresql://db.example.org:5432/safecase")
        self.certificate_field = line_edit(t("MoveToServer", "Server certificate file"))
        self.owner_field = line_edit(t("MoveToServer", "Server owner's address"))
        self.owner_field.setPlaceholderText("postgresql://owner@db.example.org/safecase")
        self.password_field = line_edit(t("MoveToServer", "Server owner's password"), password=True)
        self.problem_label = message_label(t("MoveToServer", "Problem"))
        self.move_button = button(t("MoveToServer", "&Move the team"))
        self.move_button.setDefault(True)
        self.cancel_button = QPushButton(t("MoveToServer", "Cancel"))
        self.cancel_button.setAccessibleName(t("MoveToServer", "Cancel"))
        form = QFormLayout()
        add_row(form, t("MoveToServer", "Server &address:"), self.address_field)
        add_row(form, t("MoveToServer", "Server &certificate (PEM file):"), self.certificate_field)
        add_row(form, t("MoveToServer", "Server &owner's address:"), self.owner_field)
        add_row(form, t("MoveToServer", "Owner's pass&word:"), self.password_field)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.move_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(t("MoveToServer", "Move the team to its server")))
        layout.addWidget(
            paragraph(
                t(
                    "MoveToServer",
                    "Every laptop of the team moves to the server on its next sync; what was "
                    "published to the shared folder is copied to the server, and nothing is "
                    "lost. The server holds only sealed envelopes, never a key. The owner's "
                    "password is used once, to make each laptop's login, and is not kept. "
                    "Over the network, give the server's certificate: only a server showing "
                    "it is trusted.",
                )
            )
        )
        layout.addLayout(form)
        layout.addWidget(self.problem_label)
        layout.addLayout(buttons)
        if lock_action is not None:
            self.addAction(lock_action)
        self.move_button.clicked.connect(self.ask)
        self.cancel_button.clicked.connect(self.reject)

    def ask(self) -> None:
        t = translate
        if not self.address_field.text().strip() or not self.owner_field.text().strip():
            set_message(
                self.problem_label,
                t("MoveToServer", "Give the server's address and its owner's address."),
            )
            return
        set_message(self.problem_label, None)
        confirm(
            self,
            t("MoveToServer", "Move the team"),
            t(
                "MoveToServer",
                "Move the whole team to the server? Each laptop follows on its next sync and "
                "syncs through the server from then on.",
            ),
            t("MoveToServer", "&Move it"),
            self.start_move,
            lock_action=self.lock_action,
        )

    def start_move(self) -> None:
        address = self.address_field.text().strip()
        certificate = self.certificate_field.text().strip()
        owner, password = self.owner_field.text().strip(), self.password_field.text()

        def job(session: Session) -> Moved:
            from app.services import team_server  # only when a team moves

            where = team_server.parse_address(address, Path(certificate) if certificate else None)
            return team_server.move_to_server(session, where, owner, password or None)

        self.move_button.setEnabled(False)
        started = self.calls.run(
            job,
            self._moved,
            self._failed,
            receiver=self,
            label=translate("MoveToServer", "Moving the team to its server…"),
        )
        if not started:
            self.move_button.setEnabled(True)

    def _moved(self, moved: Moved) -> None:
        self.password_field.clear()
        self.moved.emit(moved)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self.move_button.setEnabled(True)
        set_message(self.problem_label, error_sentence(error))
