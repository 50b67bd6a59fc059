"""The History tab (managers): this case's own entries from the audit trail."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QLabel,
)

from app.models.audit import Entry
from app.ui import labels
from app.ui.case_view.base import HISTORY_ENTRIES, CasePageBase
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable
from app.ui.widgets import fit_columns, table_view


class HistoryTab(CasePageBase):
    def _build_history_tab(self) -> None:
        t = translate
        self.history_model: RecordTable[Entry] = RecordTable(
            [
                Column(t("CasePage", "When"), lambda e: labels.moment(e.at)),
                Column(t("CasePage", "Who"), lambda e: labels.user(self.names, e.user_id)),
                Column(t("CasePage", "What"), lambda e: e.action.replace("_", " ")),
                Column(t("CasePage", "Detail"), lambda e: e.detail),
            ],
            self,
        )
        self.history_table = table_view(t("CasePage", "Case history"), self.history_model)
        self.history_note = QLabel(
            t(
                "CasePage",
                "Every view and change of this case in the audit trail, newest first (at most "
                "the latest {n}).",
            ).format(n=HISTORY_ENTRIES)
        )
        self.history_note.setWordWrap(True)
        self.history_tab = self._tab_page(self.history_note, self.history_table)
        if self.may_read_history:
            self._add_tab(self.history_tab, t("CasePage", "History"))
        else:
            self.history_tab.setParent(self)
            self.history_tab.hide()

    def _history_arrived(self, entries: list[Entry]) -> None:
        self.history_model.set_records(entries)  # newest first, as the service gives them
        fit_columns(self.history_table)
