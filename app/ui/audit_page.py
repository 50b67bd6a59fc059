"""Audit: the latest entries of the trail, checking the chain, and (for managers) break-glass.

Entries name records by id and never hold personal data, so this page shows them as they are.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.models.audit import Entry
from app.models.break_glass import BreakGlassEntry
from app.services import access, audit
from app.services.audit import Verification
from app.services.session import Session
from app.ui import labels
from app.ui.errors import error_sentence
from app.ui.forms import button
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable
from app.ui.store_calls import StoreCalls
from app.ui.widgets import (
    fit_columns,
    heading,
    message_label,
    paragraph,
    set_message,
    tab_widget,
    table_view,
)

RECENT_ENTRIES = 500
BREAK_GLASS_ENTRIES = 200


class AuditPage(QWidget):
    def __init__(
        self,
        calls: StoreCalls,
        session: Session,
        names: dict[int, str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.calls = calls
        self.names = names
        self.is_manager = access.may_read_break_glass_log(session)
        self.verification: Verification | None = None
        self.setAccessibleName(translate("AuditPage", "Audit"))

        self.model: RecordTable[Entry] = RecordTable(
            [
                Column(translate("AuditPage", "Entry"), lambda e: str(e.id)),
                Column(translate("AuditPage", "When"), lambda e: labels.moment(e.at)),
                Column(translate("AuditPage", "Who"), lambda e: labels.user(self.names, e.user_id)),
                Column(translate("AuditPage", "What"), lambda e: e.action.replace("_", " ")),
                Column(translate("AuditPage", "Record"), lambda e: e.record),
                Column(translate("AuditPage", "Detail"), lambda e: e.detail),
            ],
            self,
        )
        self.table = table_view(translate("AuditPage", "Latest audit entries"), self.model)
        self.glass_model: RecordTable[BreakGlassEntry] = RecordTable(
            [
                Column(translate("AuditPage", "When"), lambda g: labels.moment(g.at)),
                Column(translate("AuditPage", "Who"), lambda g: g.username),
                Column(translate("AuditPage", "Case"), lambda g: g.reference),
                Column(translate("AuditPage", "Reason"), lambda g: g.reason),
            ],
            self,
        )
        self.glass_table = table_view(
            translate("AuditPage", "Break-glass openings"), self.glass_model
        )

        self.refresh_button = button(translate("AuditPage", "Refres&h"))
        self.verify_button = button(translate("AuditPage", "Check the &whole trail"))
        self.result_label = QLabel()
        self.result_label.setObjectName("verifyResult")
        self.result_label.setAccessibleName(translate("AuditPage", "Check result"))
        self.result_label.setWordWrap(True)
        self.problem_label = message_label(translate("AuditPage", "Problem"))

        row = QHBoxLayout()
        row.addWidget(self.refresh_button)
        row.addWidget(self.verify_button)
        row.addWidget(self.result_label, 1)
        self.tabs = tab_widget(translate("AuditPage", "Audit sections"))
        self.tabs.addTab(self.table, translate("AuditPage", "Latest entries"))
        if self.is_manager:
            self.tabs.addTab(self.glass_table, translate("AuditPage", "Break-glass openings"))
        else:
            self.glass_table.setParent(self)
            self.glass_table.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(heading(translate("AuditPage", "Audit trail")))
        layout.addWidget(
            paragraph(
                translate(
                    "AuditPage",
                    "The latest {n} entries, newest first. Each entry holds the hash of the one "
                    "before, so a change, removal or reordering shows when the trail is checked.",
                ).format(n=RECENT_ENTRIES)
            )
        )
        layout.addLayout(row)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.tabs, 1)

        self.refresh_button.clicked.connect(self.refresh)
        self.verify_button.clicked.connect(self.verify)

    def start(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.calls.run(
            lambda s: audit.recent(s, RECENT_ENTRIES),
            self._entries_arrived,
            self._failed,
            receiver=self,
            label=translate("AuditPage", "Reading the audit trail…"),
        )
        if self.is_manager:
            self.calls.run(
                lambda s: access.break_glass_log(s, BREAK_GLASS_ENTRIES),
                self.glass_model.set_records,
                self._failed,
                receiver=self,
            )

    def _entries_arrived(self, entries: list[Entry]) -> None:
        self.model.set_records(list(reversed(entries)))
        fit_columns(self.table)

    def verify(self) -> None:
        self.verify_button.setEnabled(False)
        self.result_label.setText(translate("AuditPage", "Checking…"))
        self.calls.run(
            audit.verify,
            self._verified,
            self._verify_failed,
            receiver=self,
            label=translate("AuditPage", "Checking every entry of the audit trail…"),
        )

    def _verified(self, result: Verification) -> None:
        self.verify_button.setEnabled(True)
        self.verification = result
        if result.ok:
            text = translate(
                "AuditPage", "All {n} entries check out: nothing was changed, removed or reordered."
            ).format(n=result.checked)
            state = "ok"
        elif result.first_broken is not None:
            text = translate(
                "AuditPage",
                "The trail is broken at entry {id}: it, or an entry near it, was changed, "
                "removed or reordered. Tell your data protection officer.",
            ).format(id=result.first_broken)
            state = "broken"
        else:
            # Seals or the record beside the store disagree with the trail: say which.
            text = translate("AuditPage", "{problem} Tell your data protection officer.").format(
                problem=result.problems[0]
            )
            state = "broken"
        self.result_label.setText(text)
        self.result_label.setAccessibleDescription(text)
        self.result_label.setProperty("state", state)
        self.result_label.style().unpolish(self.result_label)
        self.result_label.style().polish(self.result_label)
        self.refresh()

    def _verify_failed(self, error: BaseException) -> None:
        self.verify_button.setEnabled(True)
        self.result_label.clear()
        self._failed(error)

    def _failed(self, error: BaseException) -> None:
        set_message(self.problem_label, error_sentence(error))

    def clear(self) -> None:
        self.model.clear()
        self.glass_model.clear()
        self.result_label.clear()
