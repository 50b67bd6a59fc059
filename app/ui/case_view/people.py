"""The People tab: everyone on the case and their role in it."""

from __future__ import annotations

from app.models.records import (
    CaseMember,
    CaseRole,
)
from app.ui import labels
from app.ui.case_dialogs import (
    PersonDialog,
)
from app.ui.case_view.base import CasePageBase
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable
from app.ui.widgets import table_view


class PeopleTab(CasePageBase):
    def _build_people_tab(self) -> None:
        t = translate
        self.people_model: RecordTable[CaseMember] = RecordTable(
            [
                Column(t("CasePage", "Name"), lambda m: m.person.name),
                Column(t("CasePage", "Role"), lambda m: labels.case_role(m.role)),
                Column(
                    t("CasePage", "Date of birth"),
                    lambda m: labels.date(m.person.details.date_of_birth),
                ),
                Column(
                    t("CasePage", "Restricted"),
                    lambda m: t("CasePage", "Restricted") if m.person.restricted else "",
                ),
            ],
            self,
        )
        self.people_table = table_view(t("CasePage", "People on the case"), self.people_model)
        self.people_tab = self._tab_page(
            self.people_table,
            buttons=(
                (self.add_person_action, t("CasePage", "Add a &person…")),
                (self.edit_person_action, t("CasePage", "&Edit the person…")),
            ),
        )
        self._add_tab(self.people_tab, t("CasePage", "People"))

    def add_person(self, role: CaseRole | None = None) -> None:
        if self.view is None or self.closed:
            return
        self.tabs.setCurrentWidget(self.people_tab)
        chosen = role if isinstance(role, CaseRole) else None  # a triggered signal passes False
        self._open(
            PersonDialog(
                self.calls, self.view.case.id, None, self, lock_action=self.lock_action, role=chosen
            ),
            kind="add_person",
        )

    def edit_person(self) -> None:
        if self.view is None or self.closed:
            return
        index = self.people_table.currentIndex()
        member = self.people_model.record(index.row()) if index.isValid() else None
        if member is None:
            self.say(translate("CasePage", "Choose a person in the list first."))
            return
        self._open(
            PersonDialog(
                self.calls, self.view.case.id, member.person, self, lock_action=self.lock_action
            ),
            kind="edit_person",
            target=member.person.id,
        )
