"""The team's trail (the Audit area's "Team" tab, on a laptop in a team): this laptop's entries
and those every other device sent, newest first, with the laptop and the user, filtered by
laptop; and the check that names a laptop whose trail was rewritten, cut short or rolled back
(app/sync/audit_travel.py).

Other devices' entries name records by the ids of the laptop that wrote them, so they show as
the kind and id ("case 12"): this laptop may not hold that record, or holds it under another id.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.services import audit
from app.services.audit import TeamEntry, Verification
from app.services.session import Session
from app.ui import labels
from app.ui.audit_trail import action_text
from app.ui.errors import error_sentence
from app.ui.forms import ChoiceBox, button
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable
from app.ui.store_calls import StoreCalls
from app.ui.widgets import fit_columns, message_label, paragraph, set_message, table_view

DEVICE_CHARACTERS = 8  # the end of a device id: its random part


def laptop_text(devices: dict[str, str], device: str) -> str:
    """A device as people tell laptops apart: its user and the end of its id."""
    name = devices.get(device) or translate("AuditPage", "unknown user")
    return translate("AuditPage", "{user} ({device})").format(
        user=name, device=device[-DEVICE_CHARACTERS:]
    )


def record_text(entry: TeamEntry) -> str:
    kind, _, number = entry.record.partition(":")
    return f"{kind.replace('_', ' ')} {number}".strip()


class TeamTrailTab(QWidget):
    """Every laptop's entries, filtered by laptop, and the check of every laptop's trail.
    ``in_team`` says, at each refresh, whether this laptop is in a team (the tab shows only
    then)."""

    in_team = Signal(bool)

    def __init__(self, calls: StoreCalls, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.calls = calls
        self.devices: dict[str, str] = {}
        self.setAccessibleName(translate("AuditPage", "The team's trail"))
        self.device_field = ChoiceBox(translate("AuditPage", "Laptop"))
        label = QLabel(translate("AuditPage", "Lapt&op"))
        label.setBuddy(self.device_field)
        self.check_button = button(translate("AuditPage", "Check e&very laptop's trail"))
        self.model: RecordTable[TeamEntry] = RecordTable(
            [
                Column(translate("AuditPage", "When"), lambda e: labels.moment(e.at)),
                Column(
                    translate("AuditPage", "Laptop"), lambda e: laptop_text(self.devices, e.device)
                ),
                Column(translate("AuditPage", "Entry"), lambda e: str(e.position)),
                Column(translate("AuditPage", "Who"), lambda e: e.username),
                Column(translate("AuditPage", "What"), lambda e: action_text(e.action)),
                Column(translate("AuditPage", "Record"), record_text),
                Column(translate("AuditPage", "Detail"), lambda e: e.detail),
            ],
            self,
        )
        self.table = table_view(translate("AuditPage", "The team's audit entries"), self.model)
        self.result_label = message_label(translate("AuditPage", "Check of every laptop's trail"))
        self.problem_label = message_label(translate("AuditPage", "Problem"))

        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.device_field)
        row.addWidget(self.check_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(
            paragraph(
                translate(
                    "AuditPage",
                    "The newest entries of every laptop in the team that this laptop has "
                    "received, and its own. Each laptop's trail is checked as it arrives: one "
                    "that was changed, cut short or put back to an older copy no longer "
                    "matches what it sent before.",
                )
            )
        )
        layout.addLayout(row)
        layout.addWidget(self.result_label)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.table, 1)
        self._set_devices({})

        self.device_field.activated.connect(self.reload)
        self.check_button.clicked.connect(self.check)

    def refresh(self) -> None:
        self.calls.run(audit.team_devices, self._devices_arrived, self._failed, receiver=self)

    def _devices_arrived(self, devices: dict[str, str]) -> None:
        self._set_devices(devices)
        self.in_team.emit(bool(devices))
        if devices:
            self.reload()

    def _set_devices(self, devices: dict[str, str]) -> None:
        self.devices = devices
        chosen = self.device_field.value()
        self.device_field.clear_choices()
        self.device_field.add_choice(translate("AuditPage", "Every laptop"), None)
        for device in sorted(devices, key=lambda d: laptop_text(devices, d).lower()):
            self.device_field.add_choice(laptop_text(devices, device), device)
        self.device_field.set_value(chosen)

    def reload(self, *_args: object) -> None:
        chosen = self.device_field.value()

        def read(session: Session) -> list[TeamEntry]:
            return audit.team_trail(session, chosen)

        self.calls.run(read, self._entries_arrived, self._failed, receiver=self)

    def _entries_arrived(self, entries: list[TeamEntry]) -> None:
        set_message(self.problem_label, None)
        self.model.set_records(entries)
        fit_columns(self.table)

    def check(self) -> None:
        self.check_button.setEnabled(False)
        self.calls.run(
            lambda s: audit.verify(s, team=True),
            self._checked,
            self._check_failed,
            receiver=self,
            label=translate("AuditPage", "Checking every laptop's audit trail…"),
        )

    def _checked(self, result: Verification) -> None:
        self.check_button.setEnabled(True)
        if result.ok:
            text = translate(
                "AuditPage",
                "Every laptop's trail checks out: this laptop's {n} entries, and each other "
                "laptop's entries continue what it sent before.",
            ).format(n=result.checked)
        else:
            text = "\n".join(
                [
                    *result.problems,
                    translate("AuditPage", "Tell your data protection officer."),
                ]
            )
        set_message(self.result_label, text)
        self.result_label.setProperty("state", "ok" if result.ok else "broken")
        self.reload()

    def _check_failed(self, error: BaseException) -> None:
        self.check_button.setEnabled(True)
        self._failed(error)

    def _failed(self, error: BaseException) -> None:
        set_message(self.problem_label, error_sentence(error))

    def clear(self) -> None:
        self.model.clear()
        set_message(self.result_label, None)
