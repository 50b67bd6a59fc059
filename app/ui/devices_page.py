"""Devices (admins): the devices that hold this store, and "Report lost or stolen…", which opens
a breach record with its 72-hour clock started.

A store on its own lists this laptop alone, and the page says plainly that a lost laptop cannot
be revoked from here. In a team it lists the team's devices with their state (in use, revoked,
order sent, destruction confirmed) and when each was last heard from, and "Revoke…" (after a
confirmation naming the device and its user) cuts the selected device off and orders it to
destroy its store (app/services/revocation.py).
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
# Device ids are long and alike at the start (full in each cell's tooltip): their column stays
# narrow enough for "Last seen" to show beside "Revoked, destruction confirmed" on a laptop.
DEVICE_EMS = 12


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
    if device.confirmed:
        return translate("DevicesPage", "Revoked, destruction confirmed")
    if device.order_sent:
        return translate("DevicesPage", "Revoked, order sent")
    if device.revoked:
        return translate("DevicesPage", "Revoked")
    return translate("DevicesPage", "In use")


def may_revoke(device: Device | None) -> bool:
    """Whether "Revoke…" applies to ``device``: another device of the team, not revoked yet."""
    if device is None:
        return False
    return bool(device.device_id) and not device.this_device and not device.revoked


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
                Column(t("DevicesPage", "State"), device_state),
                Column(t("DevicesPage", "User"), lambda d: d.user),
                Column(
                    t("DevicesPage", "Last seen"),
                    lambda d: uk_time(d.last_seen) if d.last_seen else "",
                ),
            ],
            self,
        )
        self.table = table_view(t("DevicesPage", "Devices"), self.model)
        self.lost_button = button(t("DevicesPage", "Report lost or s&tolen…"))
        self.revoke_button = button(t("DevicesPage", "Re&voke…"))
        self.revoke_button.setEnabled(False)
        self.revoke_button.setVisible(False)
        self.status_label = message_label(t("DevicesPage", "Status"), "status")
        # The team's transport: its folder or its server, and moving a folder team there.
        self.transport_label = paragraph("")
        self.transport_label.setObjectName("teamTransport")
        self.transport_label.setAccessibleName(t("DevicesPage", "Team transport"))
        self.transport_label.setVisible(False)
        self.move_button = button(t("DevicesPage", "&Move to a team server…"))
        self.move_button.setVisible(False)
        self.move_dialog: MoveToServerDialog | None = None
        self.problem_label = message_label(t("DevicesPage", "Problem"))
        row = QHBoxLayout()
        row.addWidget(self.lost_button)
        row.addWidget(self.move_button)
        row.addWidget(self.revoke_button)
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
        self.alone_note = paragraph(
            t(
                "DevicesPage",
                "Revoking a device is not available yet: it comes with team sync. Until "
                "then a lost laptop's store stays encrypted under its users' passwords and "
                "that laptop's own keyring, and cannot be switched off from here.",
            )
        )
        self.team_note = paragraph(
            t(
                "DevicesPage",
                "Revoke a lost or stolen laptop here, on the team's founding admin laptop: the "
                "team ignores what it sends from then on, the cases it held get new keys, and "
                "the next time it syncs it destroys its store and says so.",
            )
        )
        self.team_note.setVisible(False)
        layout.addWidget(self.alone_note)
        layout.addWidget(self.team_note)
        layout.addWidget(self.transport_label)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problem_label)
        self.lost_button.clicked.connect(self.report_lost)
        self.move_button.clicked.connect(self.open_move)
        self.revoke_button.clicked.connect(self.ask_revoke)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._selection())

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
        in_team = any(d.device_id for d in found)
        self.alone_note.setVisible(not in_team)
        self.team_note.setVisible(in_team)
        self.revoke_button.setVisible(in_team)
        self.model.set_records(found)
        fit_columns(self.table)
        narrow = self.table.fontMetrics().horizontalAdvance("M") * DEVICE_EMS
        self.table.setColumnWidth(0, min(self.table.columnWidth(0), narrow))
        if found:
            self.table.setCurrentIndex(self.model.index(0, 0))
        self._selection()

    def selected(self) -> Device | None:
        row = self.table.currentIndex().row()
        return self.model.record(row) if row >= 0 else None

    def _selection(self) -> None:
        self.revoke_button.setEnabled(may_revoke(self.selected()))

    def ask_revoke(self) -> None:
        """Ask first, naming the device and its user; then revoke it."""
        device = self.selected()
        if device is None or not may_revoke(device):
            return
        t = translate
        confirm(
            self,
            t("DevicesPage", "Revoke device"),
            t(
                "DevicesPage",
                "Revoke device {device}, {user}'s laptop? The team ignores what it sends from "
                "now on, the cases it held get new keys, and the next time it syncs it destroys "
                "its store. This cannot be undone.",
            ).format(device=device.device_id, user=device.user),
            t("DevicesPage", "Re&voke it"),
            lambda: self.revoke(device),
            lock_action=self.lock_action,
        )

    def revoke(self, device: Device) -> None:
        from app.services import team  # a store in a team has the team machinery loaded

        self.calls.run(
            lambda s: team.revoke(s, device.device_id),
            lambda _done: self._revoked(device),
            self._failed,
            receiver=self,
        )

    def _revoked(self, device: Device) -> None:
        set_message(
            self.status_label,
            translate(
                "DevicesPage",
                "Device {device} revoked; it is told to destroy its store when it next syncs.",
            ).format(device=device.device_id),
        )
        self.refresh()

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
