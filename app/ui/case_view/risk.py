"""The Risk tab: the DASH checklist, its score and the MARAC referral."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from app.errors import SafecaseError
from app.models.drafts import Draft
from app.models.marac_forms import IssuedForm
from app.models.records import (
    CaseView,
    DashResult,
    MaracAction,
)
from app.models.users import Role
from app.services import marac_form, risk
from app.services.drafts import NewDraft
from app.services.marac_form import ReferralReason
from app.services.session import Session
from app.ui import labels
from app.ui.case_dialogs import MaracActionDialog, MaracMeetingDialog
from app.ui.case_view.base import CasePageBase
from app.ui.errors import error_sentence, show_error
from app.ui.forms import FieldInvalid, button, date_of
from app.ui.i18n import translate
from app.ui.marac_dialog import FormOutput, MaracFormDialog, reason_label
from app.ui.record_table import Column, RecordTable
from app.ui.risk_tab import DashForm
from app.ui.widgets import table_view

DASH_DRAFT = "dash"


class RiskTab(CasePageBase):
    def _build_risk_tab(self) -> None:

        self.dash_form = DashForm(self.calls.today)
        self.dash_form.save_requested.connect(self.save_dash)
        self.dash_form.marac_requested.connect(self.record_marac_referral)
        self._add_tab(self.dash_form, translate("CasePage", "Risk"))
        self._build_marac_tab()

    def _build_marac_tab(self) -> None:
        """Risk over time: every checklist with its date and score, the MARAC meeting and the
        actions agreed there, each shown until it is marked done."""
        t = translate
        self.dash_history_model: RecordTable[DashResult] = RecordTable(
            [
                Column(t("CasePage", "Completed"), lambda d: labels.date(d.completed_on)),
                Column(t("CasePage", "Yes answers"), lambda d: str(d.yes_count)),
                Column(t("CasePage", "Score level"), lambda d: labels.risk(d.score_level)),
                Column(
                    t("CasePage", "Judgement"),
                    lambda d: labels.risk(d.judgement_level) if d.judgement_level else "",
                ),
                Column(t("CasePage", "Level"), lambda d: labels.risk(d.level)),
                Column(
                    t("CasePage", "MARAC"),
                    lambda d: t("CasePage", "Referral due") if d.marac_referral_due else "",
                ),
            ],
            self,
        )
        self.dash_history_table = table_view(
            t("CasePage", "DASH checklists, newest first"), self.dash_history_model
        )
        self.marac_action_model: RecordTable[MaracAction] = RecordTable(
            [
                Column(t("CasePage", "Action"), lambda a: a.action),
                Column(t("CasePage", "Owner"), lambda a: a.owner),
                Column(t("CasePage", "Due"), lambda a: labels.date(a.due_on)),
                Column(
                    t("CasePage", "State"),
                    lambda a: t("CasePage", "Overdue") if a.due_on < self.calls.today() else "",
                ),
            ],
            self,
        )
        self.marac_action_table = table_view(
            t("CasePage", "MARAC actions still to do"), self.marac_action_model
        )
        self.marac_meeting_action = self._action(
            t("CasePage", "MARAC meetin&g date…"), self.set_marac_meeting
        )
        self.add_marac_action_action = self._action(
            t("CasePage", "Add a MARAC action with its d&ue date…"), self.add_marac_action
        )
        self.marac_done_action = self._action(
            t("CasePage", "Mar&k the MARAC action done…"), self.mark_marac_action_done
        )
        self.risk_history_label = self._info(t("CasePage", "Risk over time"), "riskHistory")
        self.marac_tab = self._tab_page(
            self.risk_history_label,
            self.dash_history_table,
            self.marac_action_table,
            self._build_forms_sent(),
            buttons=(
                (self.marac_form_action, self.marac_form_action.text()),
                (self.marac_meeting_action, self.marac_meeting_action.text()),
                (self.add_marac_action_action, self.add_marac_action_action.text()),
                (self.marac_done_action, self.marac_done_action.text()),
            ),
        )
        self._add_tab(self.marac_tab, t("CasePage", "MARAC and history"))

    def _build_forms_sent(self) -> QWidget:
        """The MARAC referral forms the case sent, each to print or save again as issued."""
        t = translate
        self.marac_forms_model: RecordTable[IssuedForm] = RecordTable(
            [
                Column(t("CasePage", "Referred"), lambda f: labels.date(f.referred_on)),
                Column(t("CasePage", "Reason"), lambda f: reason_label(ReferralReason(f.reason))),
                Column(t("CasePage", "To"), lambda f: str(f.fields.get("marac", ""))),
                Column(t("CasePage", "Sent by"), lambda f: str(f.fields.get("referrer", ""))),
            ],
            self,
        )
        self.marac_forms_table = table_view(
            t("CasePage", "MARAC referral forms sent"), self.marac_forms_model
        )
        self.form_output = FormOutput(self.calls, self, self.say, self.lock_action)
        self.print_form_button = button(t("CasePage", "&Print a form sent…"))
        self.save_form_button = button(t("CasePage", "Save a form sent as PD&F…"))
        self.print_form_button.clicked.connect(self.print_form_sent)
        self.save_form_button.clicked.connect(self.save_form_sent)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.marac_forms_table, 1)
        row = QHBoxLayout()
        row.addWidget(self.print_form_button)
        row.addWidget(self.save_form_button)
        row.addStretch(1)
        layout.addLayout(row)
        return box

    def _form_sent(self) -> IssuedForm | None:
        """The form chosen in the list, or the newest when none is."""
        index = self.marac_forms_table.currentIndex()
        return self.marac_forms_model.record(index.row() if index.isValid() else 0)

    def print_form_sent(self) -> None:
        chosen = self._form_sent()
        if chosen is not None:
            self.form_output.print_form(chosen.id, str(chosen.fields.get("reference", "")))

    def save_form_sent(self) -> None:
        chosen = self._form_sent()
        if chosen is not None:
            self.form_output.save_pdf(chosen.id, str(chosen.fields.get("reference", "")))

    def _show_forms_sent(self, forms: list[IssuedForm]) -> None:
        self.marac_forms_model.set_records(forms)
        for widget in (self.print_form_button, self.save_form_button):
            widget.setEnabled(bool(forms))

    def _show_risk_history(self, view: CaseView | None) -> None:
        """Fill the MARAC and history tab from the case (None empties it)."""
        self.dash_history_model.set_records(view.dash_history if view else ())
        open_actions = [a for a in view.marac_actions if a.done_on is None] if view else []
        self.marac_action_model.set_records(open_actions)
        if view is None:
            self.risk_history_label.clear()
        else:
            self.risk_history_label.setText(
                translate(
                    "CasePage", "Current level: {level} · {count} checklist(s) · {marac}"
                ).format(
                    level=labels.risk(view.case.risk_level),
                    count=len(view.dash_history),
                    marac=self._marac_text(view),
                )
            )
        self._show_forms_sent([])
        if view is not None:
            case_id = view.case.id
            self.calls.run(
                lambda s: marac_form.issued_forms(s, case_id),
                self._show_forms_sent,
                lambda _error: self._show_forms_sent([]),
                receiver=self,
            )
        referred = view is not None and view.case.marac_referral_date is not None
        writable = self.writable
        self.marac_meeting_action.setEnabled(writable and referred)
        self.add_marac_action_action.setEnabled(writable and referred)
        self.marac_done_action.setEnabled(writable and bool(open_actions))

    def open_marac_form(self) -> None:
        """The MARAC referral form, pre-filled from the case, to edit and issue."""
        if self.view is None or not self.writable:
            return
        self.tabs.setCurrentWidget(self.marac_tab)
        managers = [u for u in self.team if Role.MANAGER in u.roles]
        dialog = MaracFormDialog(
            self.calls,
            self.view.case.id,
            managers,
            is_manager=self.is_manager,
            parent=self,
            lock_action=self.lock_action,
        )
        self._open(dialog, lambda _issued: self._saved(), kind="open_marac_form")

    def set_marac_meeting(self) -> None:
        if self.view is None or not self.writable:
            return
        self.tabs.setCurrentWidget(self.marac_tab)
        self._open(
            MaracMeetingDialog(self.calls, self.view.case, self, lock_action=self.lock_action),
            kind="set_marac_meeting",
        )

    def add_marac_action(self) -> None:
        if self.view is None or not self.writable:
            return
        self.tabs.setCurrentWidget(self.marac_tab)
        self._open(
            MaracActionDialog(self.calls, self.view.case.id, self, lock_action=self.lock_action),
            kind="add_marac_action",
        )

    def mark_marac_action_done(self) -> None:
        if self.view is None or not self.writable:
            return
        index = self.marac_action_table.currentIndex()
        chosen = self.marac_action_model.record(index.row()) if index.isValid() else None
        if chosen is None:
            self.say(translate("CasePage", "Choose an action in the list first."))
            return
        action_id, today = chosen.id, self.calls.today()
        self._ask(
            translate("CasePage", "MARAC action done"),
            translate("CasePage", "Mark this action as done today? It leaves the list."),
            translate("CasePage", "&Mark it done"),
            lambda s: risk.mark_marac_action_done(s, action_id, today),
        )

    @staticmethod
    def _marac_due(view: CaseView) -> bool:
        dash = view.latest_dash
        if dash is None or not dash.marac_referral_due:
            return False
        referred = view.case.marac_referral_date
        return referred is None or referred < dash.completed_on

    def _marac_text(self, view: CaseView) -> str:
        case = view.case
        if self._marac_due(view):
            assert view.latest_dash is not None
            return translate("CasePage", "MARAC referral due: {reasons}").format(
                reasons="; ".join(labels.marac_reason(r) for r in view.latest_dash.marac_reasons)
            )
        if case.marac_referral_date:
            text = translate("CasePage", "Referred to MARAC on {date}").format(
                date=labels.date(case.marac_referral_date)
            )
            if case.marac_meeting:
                text += " " + translate("CasePage", "(meeting {date})").format(
                    date=labels.date(case.marac_meeting)
                )
            return text
        return translate("CasePage", "No MARAC referral")

    def record_marac_referral(self) -> None:
        view = self.view
        if view is None or not self.writable:
            return
        case_id, today = view.case.id, self.calls.today()
        self._ask(
            translate("CasePage", "MARAC referral"),
            translate("CasePage", "Record that this case was referred to MARAC today?"),
            translate("CasePage", "&Record the referral"),
            lambda s: risk.record_marac_referral(s, case_id, today),
        )

    def save_dash(self) -> None:
        view = self.view
        if view is None or not self.writable:
            return
        if view.contact.client_id is None:
            self.dash_form.show_problem(translate("CasePage", "Add the client to the case first."))
            return
        form = self.dash_form
        answers, sources = form.answers(), form.sources()
        if len(answers) < len(form.questions):
            form.show_problem(
                translate("CasePage", "Answer every question ({n} not answered yet).").format(
                    n=len(form.questions) - len(answers)
                ),
                at=form.first_unanswered(),
            )
            return
        case_id, person_id = view.case.id, view.contact.client_id
        judgement = form.judgement()
        reason = form.judgement_reason_field.text()
        callouts = form.callouts_field.value()
        try:
            completed = date_of(form.completed_field)
            incident = date_of(form.incident_field)
        except FieldInvalid as exc:
            form.show_problem(str(exc), at=exc.field)
            return

        def record(session: Session) -> DashResult:
            return risk.record_dash(
                session,
                case_id,
                person_id,
                answers,
                completed_on=completed,
                sources=sources,
                judgement=judgement,
                judgement_reason=reason,
                police_callouts_12m=callouts,
                incident_on=incident,
            )

        form.save_button.setEnabled(False)
        self.calls.run(record, self._dash_saved, self._dash_failed, receiver=self)

    def _dash_failed(self, error: BaseException) -> None:
        self.dash_form.save_button.setEnabled(self.writable)
        if not isinstance(error, SafecaseError):
            show_error(self.window(), error)
            return
        self.dash_form.show_problem(error_sentence(error))

    def _dash_saved(self, result: DashResult) -> None:
        self.dash_form.reset()
        self.drop_screen_draft(DASH_DRAFT)
        self.say(
            translate("CasePage", "DASH checklist saved: {yes} yes, {level} risk.").format(
                yes=result.yes_count, level=labels.risk(result.level)
            )
        )
        self._saved()
        if result.marac_referral_due:
            case_id, today = result.case_id, self.calls.today()
            reasons = "; ".join(labels.marac_reason(r) for r in result.marac_reasons)
            self._ask(
                translate("CasePage", "MARAC referral due"),
                translate(
                    "CasePage",
                    "This case meets the MARAC referral criteria ({reasons}). Record that it "
                    "has been referred to MARAC today?",
                ).format(reasons=reasons),
                translate("CasePage", "&Record the referral"),
                lambda s: risk.record_marac_referral(s, case_id, today),
            )

    # -- kept at a lock ------------------------------------------------------------------------

    def unsaved_dash(self) -> NewDraft | None:
        """The DASH checklist as answered and not saved, to keep while the store is locked."""
        if not self.dash_form.dirty or self.view is None:
            return None
        return NewDraft(DASH_DRAFT, self.dash_form.draft_values(), self.view.case.id)

    def restore_dash(self, draft: Draft) -> None:
        """Put the answers back; saving or discarding the checklist lets the draft go."""
        self.dash_form.restore_values(draft.fields)
        self.screen_drafts[DASH_DRAFT] = draft.id
        self.tabs.setCurrentWidget(self.dash_form)
