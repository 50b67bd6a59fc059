"""The People tab: everyone on the case and their role in it."""

from __future__ import annotations

from app.models.records import (
    CaseMember,
    CaseRole,
)
from app.services import cases
from app.ui import labels
from app.ui.case_dialogs import (
    ExistingPersonDialog,
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
        self.link_person_action = self._action(
            t("CasePage", "Add someone already on &record…"), self.link_person
        )
        self.remove_person_action = self._action(
            t("CasePage", "Remove from the case…"), self.remove_person
        )
        self.people_tab = self._tab_page(
            self.people_table,
            buttons=(
                (self.add_person_action, t("CasePage", "Add a &person…")),
                (self.link_person_action, t("CasePage", "Someone already &known…")),
                (self.edit_person_action, t("CasePage", "&Edit the person…")),
                (self.remove_person_action, t("CasePage", "Remo&ve from the case…")),
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

    def link_person(self) -> None:
        if self.view is None or self.closed:
            return
        self.tabs.setCurrentWidget(self.people_tab)
        self._open(
            ExistingPersonDialog(self.calls, self.view.case.id, self, lock_action=self.lock_action),
            kind="link_person",
        )

    def remove_person(self) -> None:
        if self.view is None or self.closed:
            return
        index = self.people_table.currentIndex()
        member = self.people_model.record(index.row()) if index.isValid() else None
        if member is None:
            self.say(translate("CasePage", "Choose a person in the list first."))
            return
        case_id, person_id, role = self.view.case.id, member.person.id, member.role
        self._ask(
            translate("CasePage", "Remove from the case"),
            translate(
                "CasePage",
                "Take {name} off this case as {role}? Their record stays on any other case.",
            ).format(name=member.person.name, role=labels.case_role(role).lower()),
            translate("CasePage", "&Remove"),
            lambda s: cases.remove_person(s, case_id, person_id, role),
        )
