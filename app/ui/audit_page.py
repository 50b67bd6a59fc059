"""Audit: the whole trail with filters, checking the chain, exporting it to CSV (the DPO),
(for managers) break-glass, and on a laptop in a team every laptop's trail (app/ui/team_audit.py).

Entries name records by id and never hold personal data; the page shows case and request
references and usernames for those ids, looked up as it reads them (app/ui/audit_trail.py).
The CSV file an export writes is not encrypted: the DPO is told so before choosing where it goes,
and the folder is never remembered.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.models.break_glass import BreakGlassEntry
from app.models.letters import Override
from app.services import access, audit, letters
from app.services.audit import Verification
from app.services.contact_rules import Output
from app.services.session import Session
from app.ui import labels
from app.ui.audit_trail import AuditFilters, AuditTrailModel
from app.ui.errors import error_sentence
from app.ui.forms import button, confirm
from app.ui.i18n import translate
from app.ui.letters_dialog import output_label, rule_label
from app.ui.record_table import Column, RecordTable
from app.ui.store_calls import StoreCalls
from app.ui.team_audit import TeamTrailTab
from app.ui.widgets import (
    fit_columns,
    heading,
    message_label,
    paragraph,
    set_message,
    tab_widget,
    table_view,
)

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
        self.can_export = audit.may_export(session)
        self.verification: Verification | None = None
        # Where an export goes: a save dialog, replaceable in tests. Never remembered.
        self.choose_csv_file: Callable[[str], str] = self._ask_csv_file
        self.setAccessibleName(translate("AuditPage", "Audit"))

        self.model = AuditTrailModel(calls, names, self)
        self.table = table_view(translate("AuditPage", "Audit entries"), self.model)
        self.filters = AuditFilters(calls.today())
        self.count_label = QLabel()
        self.count_label.setAccessibleName(translate("AuditPage", "How many entries are shown"))
        self.export_button = button(translate("AuditPage", "E&xport to CSV…"))
        self.export_button.setVisible(self.can_export)
        entries_tab = QWidget()
        entries_layout = QVBoxLayout(entries_tab)
        entries_layout.addWidget(self.filters)
        entries_layout.addWidget(self.table, 1)
        footer = QHBoxLayout()
        footer.addWidget(self.count_label, 1)
        footer.addWidget(self.export_button)
        entries_layout.addLayout(footer)
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
        # Managers' overrides of the safe-contact rules, with their reasons (managers, the DPO).
        self.may_read_overrides = letters.may_read_overrides(session)
        self.override_model: RecordTable[Override] = RecordTable(
            [
                Column(translate("AuditPage", "When"), lambda o: labels.moment(o.decided_at)),
                Column(translate("AuditPage", "Who"), lambda o: o.username),
                Column(translate("AuditPage", "Case"), lambda o: o.reference),
                Column(translate("AuditPage", "What"), lambda o: output_label(Output(o.output))),
                Column(translate("AuditPage", "Rule overridden"), lambda o: rule_label(o.rule)),
                Column(translate("AuditPage", "Reason"), lambda o: o.reason),
            ],
            self,
        )
        self.override_table = table_view(
            translate("AuditPage", "Overrides of the safe-contact rules"), self.override_model
        )

        self.refresh_button = button(translate("AuditPage", "Refres&h"))
        self.verify_button = button(translate("AuditPage", "Check the &whole trail"))
        self.result_label = QLabel()
        self.result_label.setObjectName("verifyResult")
        self.result_label.setAccessibleName(translate("AuditPage", "Check result"))
        self.result_label.setWordWrap(True)
        self.problem_label = message_label(translate("AuditPage", "Problem"))
        self.status_label = message_label(translate("AuditPage", "Status"), "status")

        row = QHBoxLayout()
        row.addWidget(self.refresh_button)
        row.addWidget(self.verify_button)
        row.addWidget(self.result_label, 1)
        self.tabs = tab_widget(translate("AuditPage", "Audit sections"))
        self.tabs.addTab(entries_tab, translate("AuditPage", "Entries"))
        if self.is_manager:
            self.tabs.addTab(self.glass_table, translate("AuditPage", "Break-glass openings"))
        else:
            self.glass_table.setParent(self)
            self.glass_table.hide()
        if self.may_read_overrides:
            self.tabs.addTab(self.override_table, translate("AuditPage", "Safe-contact overrides"))
        else:
            self.override_table.setParent(self)
            self.override_table.hide()
        # The team's trail: a tab of its own once the laptop is known to be in a team.
        self.team_tab = TeamTrailTab(calls, self)
        self.team_tab.hide()
        self.team_tab.in_team.connect(self._in_team)

        layout = QVBoxLayout(self)
        layout.addWidget(heading(translate("AuditPage", "Audit trail")))
        layout.addWidget(
            paragraph(
                translate(
                    "AuditPage",
                    "Every entry, newest first; more load as you scroll. Each entry holds the "
                    "hash of the one before, so a change, removal or reordering shows when the "
                    "trail is checked.",
                )
            )
        )
        layout.addLayout(row)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.tabs, 1)

        self.refresh_button.clicked.connect(self.refresh)
        self.verify_button.clicked.connect(self.verify)
        self.filters.applied.connect(self.model.set_filter)
        self.model.page_loaded.connect(self._page_loaded)
        self.model.load_failed.connect(self._failed)
        self.export_button.clicked.connect(self.export)

    def _overrides_arrived(self, found: list[Override]) -> None:
        self.override_model.set_records(found)
        fit_columns(self.override_table)

    def start(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.calls.run(audit.usernames, self._users_arrived, self._failed, receiver=self)
        self.calls.run(audit.actions, self.filters.set_actions, self._failed, receiver=self)
        self.model.reload()  # with the filter last applied
        self.team_tab.refresh()
        if self.may_read_overrides:
            self.calls.run(letters.overrides, self._overrides_arrived, self._failed, receiver=self)
        if self.is_manager:
            self.calls.run(
                lambda s: access.break_glass_log(s, BREAK_GLASS_ENTRIES),
                self.glass_model.set_records,
                self._failed,
                receiver=self,
            )

    def _in_team(self, joined: bool) -> None:
        index = self.tabs.indexOf(self.team_tab)
        if joined and index < 0:
            self.tabs.addTab(self.team_tab, translate("AuditPage", "Team"))
        elif not joined and index >= 0:
            self.tabs.removeTab(index)
            self.team_tab.hide()

    def _users_arrived(self, users: dict[int, str]) -> None:
        self.filters.set_users(users)
        self.names.update(users)
        self.model.texts_changed()

    def _page_loaded(self, rows: int) -> None:
        if rows <= self.model.page_size:
            fit_columns(self.table)
        set_message(self.problem_label, None)
        if self.model.exhausted:
            text = translate("AuditPage", "Entries that match: {count}.").format(count=f"{rows:,}")
        else:
            text = translate(
                "AuditPage", "The newest {count} entries that match; more load as you scroll."
            ).format(count=f"{rows:,}")
        self.count_label.setText(text)
        self.count_label.setAccessibleDescription(text)

    # -- exporting ------------------------------------------------------------------------------

    def export(self) -> None:
        """Warn that the file is not encrypted, ask where it goes, then write it."""
        if not self.can_export:
            return
        confirm(
            self,
            translate("AuditPage", "Export the audit trail"),
            translate(
                "AuditPage",
                "The CSV file is not encrypted: anyone who can open it can read who did what, "
                "and when, to which case. Save it only somewhere safe, and delete it when it is "
                "no longer needed.",
            ),
            translate("AuditPage", "&Choose where to save it"),
            self._export_to_chosen_file,
        )

    def _export_to_chosen_file(self) -> None:
        chosen = self.choose_csv_file(f"audit-{self.calls.today().isoformat()}.csv")
        if not chosen:
            return
        out = Path(chosen)
        if out.suffix.lower() != ".csv":
            out = out.with_name(out.name + ".csv")
        wanted = self.model.entry_filter  # what the list shows
        self.calls.run(
            lambda s: audit.export_csv(s, wanted, out),
            lambda count: self._exported(out, count),
            self._failed,
            receiver=self,
            label=translate("AuditPage", "Writing the audit trail to a CSV file…"),
        )

    def _exported(self, out: Path, count: int) -> None:
        text = translate(
            "AuditPage", "{count} entries saved to {name}. The file is not encrypted."
        ).format(count=f"{count:,}", name=out.name)
        set_message(self.status_label, text)

    def _ask_csv_file(self, suggested: str) -> str:
        path, _filter = QFileDialog.getSaveFileName(
            self,
            translate("AuditPage", "Save the audit trail as CSV"),
            suggested,
            translate("AuditPage", "CSV files (*.csv)"),
        )
        return path

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
        self.team_tab.clear()
