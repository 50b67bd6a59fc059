"""The People tab: everyone on the case and their role in it."""

from __future__ import annotations

from app.models.records import (
    CaseMember,
    CaseRole,
    CaseView,
)
from app.services import cases, merges
from app.ui import labels
from app.ui.case_dialogs import (
    ExistingPersonDialog,
    MergeDialog,
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
        self.merge_action = self._action(
            t("CasePage", "Merge with another record…"), self.merge_person
        )
        self.undo_merge_action = self._action(t("CasePage", "Undo the merge…"), self.undo_merge)
        self.confirm_merge_action = self._action(
            t("CasePage", "Confirm the merge…"), self.confirm_merge
        )
        self.merge_label = self._info(t("CasePage", "Pending merge"), "pendingMerge")
        self.people_tab = self._tab_page(
            self.merge_label,
            self.people_table,
            buttons=(
                (self.add_person_action, t("CasePage", "Add a &person…")),
                (self.link_person_action, t("CasePage", "Someone already &known…")),
                (self.edit_person_action, t("CasePage", "&Edit the person…")),
                (self.remove_person_action, t("CasePage", "Remo&ve from the case…")),
                (self.merge_action, t("CasePage", "Mer&ge…")),
                (self.undo_merge_action, t("CasePage", "&Undo the merge…")),
                (self.confirm_merge_action, t("CasePage", "Confirm the mer&ge…")),
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

    def _chosen_member(self) -> CaseMember | None:
        """The person chosen in the list (saying so when nobody is)."""
        index = self.people_table.currentIndex()
        member = self.people_model.record(index.row()) if index.isValid() else None
        if member is None:
            self.say(translate("CasePage", "Choose a person in the list first."))
        return member

    def edit_person(self) -> None:
        if self.view is None or self.closed:
            return
        member = self._chosen_member()
        if member is None:
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
        member = self._chosen_member()
        if member is None:
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

    # -- merging two records of one person (managers) ----------------------------------------

    def _show_merges(self, view: CaseView | None) -> None:
        pending = view.pending_merges if view is not None else ()
        manager = self.is_manager and view is not None and not self.closed
        self.merge_action.setVisible(manager and not pending)
        self.merge_action.setEnabled(manager and not pending)
        for action in (self.undo_merge_action, self.confirm_merge_action):
            action.setVisible(manager and bool(pending))
            action.setEnabled(manager and bool(pending))
        if pending:
            _merge_id, kept = pending[0]
            self.merge_label.setText(
                translate(
                    "CasePage",
                    "Another record was merged into {name}. Undo the merge to put everything "
                    "back, or confirm it to destroy the other record.",
                ).format(name=self._person_name(kept))
            )
        else:
            self.merge_label.clear()
        self.merge_label.setVisible(bool(pending))

    def merge_person(self) -> None:
        if self.view is None or self.closed or not self.is_manager:
            return
        member = self._chosen_member()
        if member is None:
            return
        self._open(
            MergeDialog(self.calls, member.person, self, lock_action=self.lock_action),
            kind="merge_person",
            target=member.person.id,
        )

    def _merge_step(self, title: str, text: str, yes: str, undo: bool) -> None:
        view = self.view
        if view is None or not view.pending_merges or not self.is_manager:
            return
        merge_id = view.pending_merges[0][0]
        step = merges.undo_merge if undo else merges.confirm_merge
        self._ask(title, text, yes, lambda s: step(s, merge_id))

    def undo_merge(self) -> None:
        self._merge_step(
            translate("CasePage", "Undo the merge"),
            translate("CasePage", "Put everything back on the record it came from?"),
            translate("CasePage", "&Undo the merge"),
            undo=True,
        )

    def confirm_merge(self) -> None:
        self._merge_step(
            translate("CasePage", "Confirm the merge"),
            translate(
                "CasePage",
                "Confirm the merge? The other record is destroyed and the merge can no longer "
                "be undone.",
            ),
            translate("CasePage", "&Confirm"),
            undo=False,
        )
