"""Devices (admins): the devices that hold this store, and "Report lost or stolen…", which opens
a breach record with its 72-hour clock started.

Today the list is this laptop alone; team sync adds the team's other devices here, with
revocation. Until then the page says plainly that a lost laptop cannot be revoked from here.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QHBoxLayout, QVBoxLayout, QWidget

from app.models.breaches import Breach, Facts, Source
from app.models.drafts import Draft
from app.services import breaches, devices, membership
from app.services.devices import Device
from app.services.session import Session
from app.ui.breach_log import BreachDialog, uk_time
from app.ui.errors import error_sentence
from app.ui.forms import button, confirm
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable
from app.ui.store_calls import StoreCalls
from app.ui.team_server_dialog import MoveToServerDialog
from app.ui.widgets import fit_columns, heading, message_label, paragraph, set_message, table_view

if TYPE_CHECKING:
    from app.services.team_server import Moved, ServerView

DRAFT_LOST = "breach_lost_device"


def transport_of(session: Session) -> ServerView | None:
    """Where the team syncs (None off a team); the team modules load only for a team."""
    if not membership.in_team(session):
        return None
    from app.services import team_server

    return team_server.server_view(session)


def device_name(device: Device) -> str:
    if device.this_device:
        return translate("DevicesPage", "This laptop")
    return device.name


def device_state(device: Device) -> str:
    if device.revoked:
        return translate("DevicesPage", "Revoked")
    return translate("DevicesPage", "In use")


class DevicesPage(QWidget):
    """The devices holding this store, and reporting one lost or stolen."""

    breach_recorded = Signal(object)  # the Breach the report opened
    team_moved = Signal()  # the team now syncs through its server: sync through it now

    def __init__(
        self,
        calls: StoreCalls,
        parent: QWidget | None = None,
        *,
        can_keep_log: bool = False,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(parent)
        self.calls = calls
        self.can_keep_log = can_keep_log
        self.lock_action = lock_action
        self.dialog: QDialog | None = None
        self._kept: Draft | None = None  # a lost-laptop report kept at a lock, to put back
        t = translate
        self.setAccessibleName(t("DevicesPage", "Devices"))
        self.model: RecordTable[Device] = RecordTable(
            [
                Column(t("DevicesPage", "Device"), device_name),
                Column(
                    t("DevicesPage", "Added"),
                    lambda d: uk_time(d.first_used) if d.first_used else "",
                ),
                Column(
                    t("DevicesPage", "State"),
                    lambda d: (
                        t("DevicesPage", "Revoked") if d.revoked else t("DevicesPage", "In use")
                    ),
                ),
                Column(t("DevicesPage", "User"), lambda d: d.user),
            ],
            self,
        )
        self.table = table_view(t("DevicesPage", "Devices"), self.model)
        self.lost_button = button(t("DevicesPage", "Report lost or &stolen…"))
        self.status_label = message_label(t("DevicesPage", "Status"), "status")
        # The team's transport: its folder or its server, and moving a folder team there.
        self.transport_label = paragraph("")
        self.transport_label.setObjectName("teamTransport")
        self.transport_label.setAccessibleName(t("DevicesPage", "Team transport"))
        self.transport_label.setVisible(False)
        self.move_button = button(t("DevicesPage", "Move to a team ser&ver…"))
        self.move_button.setVisible(False)
        self.move_dialog: MoveToServerDialog | None = None
        self.problem_label = message_label(t("DevicesPage", "Problem"))
        row = QHBoxLayout()
        row.addWidget(self.lost_button)
        row.addWidget(self.move_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(t("DevicesPage", "Devices")))
        layout.addWidget(
            paragraph(
                t(
                    "DevicesPage",
                    "The devices that hold this store. If one is lost or stolen, report it at "
                    "once: that records a personal data breach for the DPO, with its 72-hour "
                    "clock running from when you found out.",
                )
            )
        )
        layout.addWidget(
            paragraph(
                t(
                    "DevicesPage",
                    "Revoking a device is not available yet: it comes with team sync. Until "
                    "then a lost laptop's store stays encrypted under its users' passwords and "
                    "that laptop's own keyring, and cannot be switched off from here.",
                )
            )
        )
        layout.addWidget(self.transport_label)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problem_label)
        self.lost_button.clicked.connect(self.report_lost)
        self.move_button.clicked.connect(self.open_move)

    def start(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.calls.run(devices.list_devices, self._arrived, self._failed, receiver=self)
        self.calls.run(transport_of, self._transport_arrived, self._failed, receiver=self)

    def _transport_arrived(self, view: ServerView | None) -> None:
        t = translate
        if view is None:
            self.transport_label.setVisible(False)
            self.move_button.setVisible(False)
            return
        if view.on_server:
            text = t("DevicesPage", "This team syncs through {where}.").format(where=view.where)
            if view.fingerprint:
                text += " " + t(
                    "DevicesPage", "Pinned server certificate (SHA-256): {fingerprint}."
                ).format(fingerprint=view.fingerprint)
        else:
            text = t("DevicesPage", "This team syncs through its shared folder {where}.").format(
                where=view.where
            )
        self.transport_label.setText(text)
        self.transport_label.setVisible(True)
        self.move_button.setVisible(not view.on_server)

    def open_move(self) -> None:
        """The move to a server: its address, certificate and owner's login, then confirm."""
        dialog = MoveToServerDialog(self.calls, self, lock_action=self.lock_action)
        self.move_dialog = dialog
        dialog.moved.connect(self._moved)
        dialog.open()

    def _moved(self, moved: Moved) -> None:
        set_message(
            self.status_label,
            translate(
                "DevicesPage",
                "The team now syncs through its server: {devices} laptop login(s) made and "
                "{copied} envelope(s) copied. Each laptop moves on its next sync.",
            ).format(devices=moved.devices, copied=moved.copied),
        )
        self.refresh()
        self.team_moved.emit()

    def _arrived(self, found: list[Device]) -> None:
        self.model.set_records(found)
        fit_columns(self.table)
        if found:
            self.table.setCurrentIndex(self.model.index(0, 0))

    def _failed(self, error: BaseException) -> None:
        set_message(self.problem_label, error_sentence(error))

    def report_lost(self) -> None:
        """Ask first; then a breach record filled in with what the store holds."""
        t = translate
        confirm(
            self,
            t("DevicesPage", "Report lost or stolen"),
            t(
                "DevicesPage",
                "Report this laptop lost or stolen? A breach record opens for the DPO with its "
                "72-hour clock starting from when you found out (you can change that time). "
                "Revoking the laptop is not available until team sync.",
            ),
            t("DevicesPage", "&Report it"),
            self.open_lost_report,
            lock_action=self.lock_action,
        )

    def open_lost_report(self) -> None:
        """The breach record, filled in with what the store holds, its clock starting now."""
        aware = self.calls.moment().astimezone(dt.UTC)
        self.calls.run(
            lambda s: breaches.lost_device_facts(s, aware),
            self._open_record,
            self._failed,
            receiver=self,
        )

    def _open_record(self, facts: Facts) -> None:
        dialog = BreachDialog(
            self.calls,
            self,
            facts=facts,
            source=Source.DEVICE_LOST,
            can_decide=self.can_keep_log,
            lock_action=self.lock_action,
        )
        dialog.draft_kind = DRAFT_LOST
        self.dialog = dialog
        dialog.saved.connect(self._recorded)
        dialog.open()
        kept, self._kept = self._kept, None
        if kept is not None:
            dialog.restore_draft(kept.id, kept.fields)

    def _recorded(self, breach: object) -> None:
        if not isinstance(breach, Breach):
            return
        set_message(
            self.status_label,
            translate(
                "DevicesPage",
                "Breach {reference} recorded; the 72-hour clock runs to {when}. Tell the DPO now.",
            ).format(reference=breach.reference, when=uk_time(breach.facts.deadline)),
        )
        self.breach_recorded.emit(breach)

    def reopen_draft(self, draft: Draft) -> bool:
        """Open again a lost-laptop report kept at a lock, with what was typed in it (the
        counts are read again first, as when it was opened)."""
        if draft.kind != DRAFT_LOST:
            return False
        self._kept = draft
        self.open_lost_report()
        return True

    def clear(self) -> None:
        self.model.clear()
