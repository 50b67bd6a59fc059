"""The Sharing log tab: every disclosure in or out, and recording a share."""

from __future__ import annotations

from app.models.records import (
    Share,
    ShareApproval,
)
from app.models.users import Role
from app.ui import labels
from app.ui.case_view.base import CasePageBase
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable
from app.ui.share_dialog import ShareDialog
from app.ui.widgets import table_view


class SharingTab(CasePageBase):
    def _build_sharing_tab(self) -> None:
        t = translate
        self.share_model: RecordTable[Share] = RecordTable(
            [
                Column(t("CasePage", "When"), lambda s: labels.moment(s.record.shared_at)),
                Column(t("CasePage", "Direction"), lambda s: labels.direction(s.record.direction)),
                Column(t("CasePage", "Organisation"), lambda s: s.record.organisation),
                Column(
                    t("CasePage", "Category"),
                    lambda s: labels.recipient(s.record.recipient_category),
                ),
                Column(
                    t("CasePage", "About"),
                    lambda s: ", ".join(self._person_name(p) for p in s.record.person_ids),
                ),
                Column(
                    t("CasePage", "Data"),
                    lambda s: ", ".join(labels.data_category(c) for c in s.record.data_categories),
                ),
                Column(
                    t("CasePage", "Lawful basis"),
                    lambda s: labels.lawful_basis(s.record.lawful_basis),
                ),
                Column(t("CasePage", "Decision"), lambda s: labels.approval(s.approval)),
                Column(t("CasePage", "Person told"), lambda s: labels.yes_no(s.record.person_told)),
            ],
            self,
        )
        self.share_table = table_view(t("CasePage", "Sharing log"), self.share_model)
        self.share_tab = self._tab_page(self.share_table, buttons=(self.record_share_action,))
        self._add_tab(self.share_tab, t("CasePage", "Sharing log"))

    def record_share(self) -> None:
        if self.view is None or not self.writable:
            return
        self.tabs.setCurrentWidget(self.share_tab)
        managers = [u for u in self.team if Role.MANAGER in u.roles]
        dialog = ShareDialog(
            self.calls,
            self.view,
            managers,
            is_manager=self.is_manager,
            parent=self,
            lock_action=self.lock_action,
        )
        self._open(dialog, self._share_saved, kind="record_share")

    def _share_saved(self, share: object) -> None:
        if isinstance(share, Share):
            if share.approval is ShareApproval.AWAITING_REVIEW:
                self.say(
                    translate(
                        "CasePage",
                        "Share recorded without consent. A manager must review it within 48 hours.",
                    )
                )
            else:
                self.say(translate("CasePage", "Share recorded in the sharing log."))
        self._saved()
