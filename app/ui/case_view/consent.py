"""The Consent tab: the consent in force, and recording or withdrawing it."""

from __future__ import annotations

from app.models.records import (
    Consent,
)
from app.ui import labels
from app.ui.case_dialogs import (
    ConsentDialog,
)
from app.ui.case_view.base import CasePageBase
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable
from app.ui.widgets import table_view


class ConsentTab(CasePageBase):
    def _build_consent_tab(self) -> None:
        t = translate
        self.consent_model: RecordTable[Consent] = RecordTable(
            [
                Column(t("CasePage", "Person"), lambda c: self._person_name(c.person_id)),
                Column(t("CasePage", "For"), lambda c: labels.consent_purpose(c.purpose)),
                Column(t("CasePage", "With"), lambda c: labels.consent_target(c.purpose, c.target)),
                Column(t("CasePage", "Decision"), lambda c: labels.consent_state(c.state)),
                Column(t("CasePage", "Date"), lambda c: labels.date(c.decided_on)),
                Column(t("CasePage", "How"), lambda c: labels.consent_how(c.how)),
                Column(t("CasePage", "Given by"), lambda c: labels.given_by(c.given_by)),
                Column(t("CasePage", "Review"), lambda c: labels.date(c.review_date)),
                Column(
                    t("CasePage", "Recorded by"), lambda c: labels.user(self.names, c.recorded_by)
                ),
            ],
            self,
            flagged=lambda c: c.review_date is not None and c.review_date < self.calls.today(),
        )
        self.consent_table = table_view(t("CasePage", "Consent in force"), self.consent_model)
        self.consent_tab = self._tab_page(
            self.consent_table,
            buttons=(
                self.record_consent_action,
                (self.withdraw_consent_action, t("CasePage", "Record a wi&thdrawal…")),
            ),
        )
        self._add_tab(self.consent_tab, t("CasePage", "Consent"))

    def record_consent(self) -> None:
        if self.view is None or not self.writable:
            return
        self.tabs.setCurrentWidget(self.consent_tab)
        self._open(
            ConsentDialog(
                self.calls, self.view.case.id, self.view.members, self, lock_action=self.lock_action
            ),
            kind="record_consent",
        )

    def withdraw_consent(self) -> None:
        if self.view is None or not self.writable:
            return
        index = self.consent_table.currentIndex()
        chosen = self.consent_model.record(index.row()) if index.isValid() else None
        if chosen is None and self.view.consents:
            chosen = self.view.consents[0]
        self.tabs.setCurrentWidget(self.consent_tab)
        self._open(
            ConsentDialog(
                self.calls,
                self.view.case.id,
                self.view.members,
                self,
                lock_action=self.lock_action,
                preset=chosen,
                withdraw=True,
            ),
            kind="withdraw_consent",
            target=chosen.id if chosen is not None else None,
        )
