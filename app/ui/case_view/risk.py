"""The Risk tab: the DASH checklist, its score and the MARAC referral."""

from __future__ import annotations

from app.errors import SafecaseError
from app.models.drafts import Draft
from app.models.records import (
    CaseView,
    DashResult,
)
from app.services import risk
from app.services.drafts import NewDraft
from app.services.session import Session
from app.ui import labels
from app.ui.case_view.base import CasePageBase
from app.ui.errors import error_sentence, show_error
from app.ui.forms import FieldInvalid, date_of
from app.ui.i18n import translate
from app.ui.risk_tab import DashForm

DASH_DRAFT = "dash"


class RiskTab(CasePageBase):
    def _build_risk_tab(self) -> None:

        self.dash_form = DashForm(self.calls.today)
        self.dash_form.save_requested.connect(self.save_dash)
        self.dash_form.marac_requested.connect(self.record_marac_referral)
        self._add_tab(self.dash_form, translate("CasePage", "Risk"))

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
