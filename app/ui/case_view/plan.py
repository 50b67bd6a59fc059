"""The Safety plan tab: the plan and its next review date."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.models.drafts import Draft
from app.services import cases
from app.services.drafts import NewDraft
from app.ui.case_view.base import CasePageBase
from app.ui.forms import (
    FieldInvalid,
    OptionalDate,
    button,
    field_value,
    set_field_value,
    text_box,
)
from app.ui.i18n import translate

PLAN_DRAFT = "safety_plan"


class PlanTab(CasePageBase):
    def _build_plan_tab(self) -> None:
        t = translate
        self.plan_field = text_box(t("CasePage", "Safety plan"), lines=10)
        self.review_field = OptionalDate(
            t("CasePage", "Next review"), t("CasePage", "Review on"), None, self.calls.today()
        )
        self.plan_save_button = button(t("CasePage", "Save the safety &plan"))
        self.plan_save_button.clicked.connect(self.save_plan)
        plan_form = QFormLayout()
        plan_form.addRow(t("CasePage", "Next review"), self.review_field)
        plan_page = QWidget()
        plan_layout = QVBoxLayout(plan_page)
        plan_layout.addWidget(self.plan_field, 1)
        plan_layout.addLayout(plan_form)
        plan_row = QHBoxLayout()
        plan_row.addStretch(1)
        plan_row.addWidget(self.plan_save_button)
        plan_layout.addLayout(plan_row)
        self.plan_tab = QScrollArea()
        self.plan_tab.setWidgetResizable(True)
        self.plan_tab.setFrameShape(QFrame.Shape.NoFrame)
        self.plan_tab.setWidget(plan_page)
        self._plan_dirty = False
        self.plan_field.textChanged.connect(self._plan_edited)
        self.review_field.known.toggled.connect(self._plan_edited)
        self.review_field.edit.changed.connect(self._plan_edited)
        self._add_tab(self.plan_tab, t("CasePage", "Safety plan"))

    def _plan_edited(self, *_args: object) -> None:
        if self.view is not None:
            self._plan_dirty = True

    def save_plan(self) -> None:
        view = self.view
        if view is None or not self.writable:
            return
        try:
            review = self.review_field.value()
        except FieldInvalid:
            return  # the field says what is wrong under itself
        details = dataclasses.replace(
            view.case.details, safety_plan=self.plan_field.toPlainText().strip(), next_review=review
        )
        case_id = view.case.id

        def saved(_value: object) -> None:
            self._plan_dirty = False
            self.drop_screen_draft(PLAN_DRAFT)
            self.say(translate("CasePage", "Safety plan saved."))
            self._saved()

        self.calls.run(lambda s: cases.update_case(s, case_id, details), saved, receiver=self)

    # -- kept at a lock ------------------------------------------------------------------------

    def unsaved_plan(self) -> NewDraft | None:
        """The safety plan as typed and not saved, to keep while the store is locked."""
        if not self._plan_dirty or self.view is None:
            return None
        values = {
            "plan": self.plan_field.toPlainText(),
            "review": field_value(self.review_field),
        }
        return NewDraft(PLAN_DRAFT, values, self.view.case.id)

    def restore_plan(self, draft: Draft) -> None:
        """Put back the safety plan as it was typed; saving or discarding it lets the draft go."""
        set_field_value(self.plan_field, draft.fields.get("plan"))
        set_field_value(self.review_field, draft.fields.get("review"))
        self._plan_dirty = True
        self.screen_drafts[PLAN_DRAFT] = draft.id
        self.tabs.setCurrentWidget(self.plan_tab)
