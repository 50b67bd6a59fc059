"""The MARAC referral form: pre-filled from the case, edited, issued, then printed or saved.

The form arrives pre-filled from ``marac_form.prefill`` (the person at risk, safe contact,
the alleged perpetrator, children and household, the latest DASH, agencies and consent); the
referrer chooses the reason for referral (professional judgement needs its reason), edits
the free-text fields and, when someone's consent to share with the MARAC is not given, the
lawful basis and the reason. "Issue the form" makes one service call that checks it, records
the share to the MARAC in the sharing log and keeps the form as issued; the dialog then stays
open to print the form or save it as a PDF (after the not-encrypted warning). A refusal is one
sentence under the form and nothing typed is lost.

What was typed and not issued is kept as a draft when the store locks, and comes back with the
case after sign-in: the draft waits for the pre-fill and goes in over it, and the draft goes
in the same transaction as the form it was issued as.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QRadioButton,
    QSizePolicy,
    QWidget,
)

from app.crypto.files import atomic_write
from app.errors import InvalidInput
from app.models.records import ConsentState, LawfulBasis, ShareApproval
from app.models.users import User
from app.services import marac_form
from app.services.drafts import NewDraft
from app.services.marac_form import Issued, MaracEdits, Prefilled, ReferralReason
from app.services.session import Session
from app.ui import labels, printing
from app.ui.errors import show_error
from app.ui.forms import (
    ChoiceBox,
    FieldInvalid,
    FormDialog,
    button,
    check_box,
    enum_combo,
    spin_box,
    text_box,
)
from app.ui.i18n import translate
from app.ui.letters_dialog import GROUNDS, ground_label
from app.ui.store_calls import StoreCalls
from app.ui.widgets import set_message

COMBO_CHARACTERS = 16
REASON_CHARACTERS = 26  # "Visible high risk (DASH 14+)" in full


def reason_label(reason: ReferralReason) -> str:
    return {
        ReferralReason.VISIBLE_HIGH_RISK: translate("MaracDialog", "Visible high risk (DASH 14+)"),
        ReferralReason.PROFESSIONAL_JUDGEMENT: translate("MaracDialog", "Professional judgement"),
        ReferralReason.POTENTIAL_ESCALATION: translate("MaracDialog", "Potential escalation"),
        ReferralReason.REPEAT: translate("MaracDialog", "Repeat (within 12 months)"),
    }[reason]


class MaracFormDialog(FormDialog):
    """Refer the case to MARAC on the SafeLives referral form."""

    def __init__(
        self,
        calls: StoreCalls,
        case_id: int,
        managers: Sequence[User],
        *,
        is_manager: bool,
        parent: QWidget | None = None,
        lock_action: QAction | None = None,
    ) -> None:
        t = translate
        super().__init__(
            calls,
            t("MaracDialog", "MARAC referral form"),
            parent,
            intro=t(
                "MaracDialog",
                "Filled in from the case: check it, add what the MARAC needs to know, then "
                "issue it. A confidential address and the code word are never printed.",
            ),
            save_text=t("MaracDialog", "&Issue the form"),
            lock_action=lock_action,
        )
        self.case_id = case_id
        self.is_manager = is_manager
        self.prefilled: Prefilled | None = None
        self.issued: Issued | None = None
        # A draft's values put back after a lock, waiting for the pre-fill to arrive.
        self._waiting_draft: dict[str, Any] | None = None
        self.output = FormOutput(
            calls, self, lambda text: set_message(self.status_label, text), lock_action
        )

        self.summary_label = QLabel(t("MaracDialog", "Reading the case…"))
        self.summary_label.setObjectName("maracSummary")
        self.summary_label.setAccessibleName(t("MaracDialog", "From the case"))
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        self.form.addRow(self.summary_label)
        self.marac_field = self.line(t("MaracDialog", "&MARAC it goes to"))
        self.reason_field = enum_combo(
            t("MaracDialog", "Reason for referral"), ReferralReason, reason_label
        )
        self.add_field(t("MaracDialog", "&Reason for referral"), self.reason_field)
        self.judgement_field = text_box(t("MaracDialog", "Reason for the judgement"), lines=2)
        self.judgement_label = self.add_field(
            t("MaracDialog", "Reason for the &judgement"), self.judgement_field
        )
        self.callouts_field = spin_box(t("MaracDialog", "Police call-outs in 12 months"), 0, 99, 0)
        self.add_field(t("MaracDialog", "Police &call-outs in 12 months"), self.callouts_field)
        self.summary_field = text_box(t("MaracDialog", "Summary of the risk"), lines=3)
        self.add_field(t("MaracDialog", "Summary of the ris&k"), self.summary_field)
        self.safe_number_field = self.line(t("MaracDialog", "Safe &number"))
        self.safe_times_field = self.line(t("MaracDialog", "Sa&fe times to call"))
        self.voicemail_field = check_box(t("MaracDialog", "&Voicemail is safe"))
        self.add_field("", self.voicemail_field)
        self.text_field = check_box(t("MaracDialog", "Te&xts are safe"))
        self.add_field("", self.text_field)
        self.arrangements_field = self.line(t("MaracDialog", "Other &arrangements"))

        self.start_column()
        self.perpetrator_field = text_box(
            t("MaracDialog", "Alleged perpetrator: history and notes"), lines=2
        )
        self.add_field(t("MaracDialog", "Alleged perpetrator: &history"), self.perpetrator_field)
        self.agencies_field = text_box(t("MaracDialog", "Agencies involved"), lines=3)
        self.add_field(t("MaracDialog", "A&gencies involved"), self.agencies_field)
        self.consent_label = QLabel()
        self.consent_label.setObjectName("consentState")
        self.consent_label.setAccessibleName(t("MaracDialog", "Consent to share with MARAC"))
        self.consent_label.setWordWrap(True)
        self.consent_label.setTextFormat(Qt.TextFormat.PlainText)
        self.form.addRow(self.consent_label)
        self.basis_field = ChoiceBox(t("MaracDialog", "Lawful basis"))
        self.basis_label = self.add_field(t("MaracDialog", "&Lawful basis"), self.basis_field)
        self.without_field = text_box(
            t("MaracDialog", "Reason for sharing without consent"), lines=2
        )
        self.without_label = self.add_field(
            t("MaracDialog", "Reason without cons&ent"), self.without_field
        )
        self.told_field = QRadioButton(t("MaracDialog", "The person at risk was &told"))
        self.told_field.setAccessibleName(t("MaracDialog", "The person at risk was told"))
        self.not_told_field = QRadioButton(t("MaracDialog", "The person at risk was n&ot told"))
        self.not_told_field.setAccessibleName(t("MaracDialog", "The person at risk was not told"))
        self.told_field.setChecked(True)
        self.add_field("", self.told_field)
        self.add_field("", self.not_told_field)
        self.not_told_reason_field = self.line(t("MaracDialog", "&Why they were not told"))
        self.not_told_label = self.form.labelForField(self.not_told_reason_field)
        self.manager_field = ChoiceBox(t("MaracDialog", "Decided with"))
        self.manager_field.add_choice(
            t("MaracDialog", "No manager available: flag it for review within 48 hours"), None
        )
        for manager in managers:
            self.manager_field.add_choice(manager.username, manager.id)
        self.manager_label = self.add_field(t("MaracDialog", "&Decided with"), self.manager_field)
        # Someone on the form has their processing restricted: a manager names the ground.
        self.restriction_label = QLabel()
        self.restriction_label.setObjectName("restrictionState")
        self.restriction_label.setWordWrap(True)
        self.restriction_label.setTextFormat(Qt.TextFormat.PlainText)
        self.restriction_label.setAccessibleName(t("MaracDialog", "Processing restricted"))
        self.form.addRow(self.restriction_label)
        self.ground_field = ChoiceBox(t("MaracDialog", "Article 18(2) ground"))
        self.ground_field.add_choice(t("LettersDialog", "Choose the ground…"), None)
        for ground in GROUNDS:
            self.ground_field.add_choice(ground_label(ground), ground)
        self.ground_label = self.add_field(
            t("MaracDialog", "Art. 18(2) gro&und"), self.ground_field
        )
        self.override_field = self.line(t("MaracDialog", "Why it ma&y go despite the restriction"))
        self.override_label = self.form.labelForField(self.override_field)

        self.print_button = button(t("MaracDialog", "&Print…"))
        self.save_pdf_button = button(t("MaracDialog", "&Save as PDF…"))
        # Drop-downs as wide as a short choice (a long one shows in full when opened), so the
        # two columns fit a laptop's width.
        for combo in (self.reason_field, self.basis_field, self.manager_field, self.ground_field):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(COMBO_CHARACTERS)
        self.reason_field.setMinimumContentsLength(REASON_CHARACTERS)
        for label in (self.summary_label, self.consent_label, self.restriction_label):
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        # Beside Close once the form is issued (before that, Issue and Cancel).
        row = self._buttons_row()
        for place, extra in enumerate((self.print_button, self.save_pdf_button), start=2):
            extra.setVisible(False)
            row.insertWidget(place, extra)
        self.print_button.clicked.connect(self.print_form)
        self.save_pdf_button.clicked.connect(self.save_pdf)

        self.reason_field.currentIndexChanged.connect(self._update_sections)
        self.basis_field.currentIndexChanged.connect(self._update_sections)
        self.told_field.toggled.connect(self._update_sections)
        self.ground_field.currentIndexChanged.connect(self._update_sections)
        self.confirm_before_saving(
            t(
                "MaracDialog",
                "The form goes in the sharing log as a share to the MARAC, which cannot be "
                "changed afterwards. Issue it?",
            ),
            t("MaracDialog", "&Issue the form"),
        )
        self._set_enabled(False)
        self._update_sections()
        self.calls.run(
            lambda s: marac_form.prefill(s, case_id),
            self._arrived,
            self._not_read,
            receiver=self,
            label=t("MaracDialog", "Reading the case…"),
        )

    # -- filling in -------------------------------------------------------------------------------

    def _buttons_row(self) -> QHBoxLayout:
        outer = self.layout()
        assert outer is not None
        item = outer.itemAt(outer.count() - 1)
        row = item.layout() if item is not None else None
        assert isinstance(row, QHBoxLayout)
        return row

    def _set_enabled(self, on: bool) -> None:
        for field in self._fields:
            field.setEnabled(on)

    def _not_read(self, error: BaseException) -> None:
        self.summary_label.setText(translate("MaracDialog", "The case could not be read."))
        self._failed(error)

    def _arrived(self, prefilled: Prefilled) -> None:
        self.prefilled = prefilled
        form = prefilled.form
        t = translate
        self.marac_field.setText(form.marac)
        self.reason_field.set_value(ReferralReason(form.reason))
        self.judgement_field.setPlainText(form.judgement_reason)
        self.callouts_field.setValue(form.police_callouts_12m)
        self.summary_field.setPlainText(form.risk_summary)
        self.safe_number_field.setText(form.safe_number)
        self.safe_times_field.setText(form.safe_times)
        self.voicemail_field.setChecked(form.voicemail_ok)
        self.text_field.setChecked(form.text_ok)
        self.arrangements_field.setText(form.contact_notes)
        self.perpetrator_field.setPlainText(form.perpetrator_notes)
        self.agencies_field.setPlainText(form.agencies)
        self.basis_field.clear_choices()
        for basis in prefilled.bases:
            self.basis_field.add_choice(labels.lawful_basis(basis), basis)
        self.basis_field.set_value(LawfulBasis(form.lawful_basis))
        dash = (
            t("MaracDialog", "DASH {score} of 24 on {date}").format(
                score=form.dash_score, date=form.dash_date
            )
            if form.dash_score is not None
            else t("MaracDialog", "No DASH checklist yet")
        )
        address = (
            t("MaracDialog", "address confidential: not printed")
            if form.address_confidential
            else form.address or t("MaracDialog", "no address recorded")
        )
        repeat = (
            t("MaracDialog", "repeat: referred on {date}").format(date=form.previous_referral)
            if form.repeat
            else t("MaracDialog", "not a repeat")
        )
        people = t(
            "MaracDialog",
            "Alleged perpetrator(s): {perps} · children: {kids} · household: {others}",
        ).format(
            perps=", ".join(p.name for p in form.perpetrators) or "-",
            kids=len(form.children),
            others=len(form.household),
        )
        self.summary_label.setText(f"{form.victim_name} · {address}\n{dash} · {repeat}\n{people}")
        self._show_consent()
        self._set_enabled(True)
        self._dirty = False
        kept, self._waiting_draft = self._waiting_draft, None
        if kept is not None and self.draft_id is not None:
            super().restore_draft(self.draft_id, kept)  # over the pre-fill, never under it
        self._update_sections()
        self.marac_field.setFocus()

    def _show_consent(self) -> None:
        prefilled = self.prefilled
        if prefilled is None:
            return
        state = ConsentState(prefilled.form.consent)
        own = translate("MaracDialog", "Consent of the person at risk: {state}.").format(
            state=labels.consent_state(state).lower()
        )
        if prefilled.gaps:
            own += " " + translate(
                "MaracDialog",
                "Not everyone on the form has consented to sharing with MARAC ({count}): "
                "choose the lawful basis and give the reason.",
            ).format(count=len(prefilled.gaps))
        self.consent_label.setText(own)

    @property
    def without_consent(self) -> bool:
        return bool(self.prefilled and self.prefilled.gaps)

    def _update_sections(self, *_args: object) -> None:
        judgement = self.reason_field.value() is ReferralReason.PROFESSIONAL_JUDGEMENT
        self.judgement_field.setVisible(judgement)
        self.judgement_label.setVisible(judgement)
        without = self.without_consent
        for widget in (self.without_field, self.without_label, self.basis_field, self.basis_label):
            widget.setVisible(without)
        manager = without and not self.is_manager
        self.manager_field.setVisible(manager)
        self.manager_label.setVisible(manager)
        not_told = self.not_told_field.isChecked()
        self.not_told_reason_field.setVisible(not_told)
        if self.not_told_label is not None:
            self.not_told_label.setVisible(not_told)
        restricted = bool(self.prefilled and self.prefilled.restricted)
        self.restriction_label.setVisible(restricted)
        if restricted and self.prefilled is not None:
            names = ", ".join(self.prefilled.restricted)
            self.restriction_label.setText(
                translate(
                    "MaracDialog",
                    "Processing is restricted for {names}: the form goes only if a manager "
                    "names the Article 18(2) ground and gives the reason.",
                ).format(names=names)
            )
        overriding: tuple[QWidget | None, ...] = (
            self.ground_field,
            self.ground_label,
            self.override_field,
            self.override_label,
        )
        for part in overriding:
            if part is not None:
                part.setVisible(self.overriding)
        self.recheck()

    @property
    def overriding(self) -> bool:
        """A manager issuing a form that carries restricted data (with the ground)."""
        return bool(self.prefilled and self.prefilled.restricted and self.is_manager)

    # -- checking -------------------------------------------------------------------------------

    def live_problem(self) -> FieldInvalid | None:
        t = translate
        checks: list[tuple[bool, QWidget, str]] = [
            (
                self.prefilled is None,
                self.marac_field,
                t("MaracDialog", "Wait a moment while the case is read."),
            ),
            (
                not self.marac_field.text().strip(),
                self.marac_field,
                t("MaracDialog", "Name the MARAC the referral goes to."),
            ),
            (
                self.reason_field.value() is ReferralReason.PROFESSIONAL_JUDGEMENT
                and len(self.judgement_field.toPlainText().strip())
                < marac_form.MIN_JUDGEMENT_REASON,
                self.judgement_field,
                t("MaracDialog", "Give the reason for your professional judgement."),
            ),
            (
                self.without_consent and len(self.without_field.toPlainText().strip()) < 10,
                self.without_field,
                t("MaracDialog", "Give the reason for sharing without consent (a short sentence)."),
            ),
            (
                self.overriding and self.ground_field.value() is None,
                self.ground_field,
                t("MaracDialog", "Choose the Article 18(2) ground for the restricted data."),
            ),
            (
                self.overriding and len(self.override_field.text().strip()) < 10,
                self.override_field,
                t("MaracDialog", "Say in a sentence why it may go despite the restriction."),
            ),
            (
                self.not_told_field.isChecked() and not self.not_told_reason_field.text().strip(),
                self.not_told_reason_field,
                t("MaracDialog", "Say why the person at risk was not told."),
            ),
        ]
        for wrong, field, sentence in checks:
            if wrong and self.issued is None:
                return FieldInvalid(field, sentence)
        return None

    def edits(self) -> MaracEdits:
        """What the form says now, for the service (which reads everything else itself)."""
        without = self.without_consent
        basis = self.basis_field.value() if without else LawfulBasis.CONSENT
        return MaracEdits(
            marac=self.marac_field.text(),
            reason=self.reason_field.value(),
            judgement_reason=self.judgement_field.toPlainText(),
            police_callouts_12m=self.callouts_field.value(),
            risk_summary=self.summary_field.toPlainText(),
            safe_number=self.safe_number_field.text(),
            safe_times=self.safe_times_field.text(),
            voicemail_ok=self.voicemail_field.isChecked(),
            text_ok=self.text_field.isChecked(),
            contact_notes=self.arrangements_field.text(),
            perpetrator_notes=self.perpetrator_field.toPlainText(),
            agencies=self.agencies_field.toPlainText(),
            lawful_basis=basis or LawfulBasis.PUBLIC_TASK,
            reason_without_consent=self.without_field.toPlainText() if without else "",
            person_told=self.told_field.isChecked(),
            not_told_reason=self.not_told_reason_field.text(),
            consulted_manager_id=self.manager_field.value()
            if without and not self.is_manager
            else None,
            override_reason=self.override_field.text() if self.overriding else "",
            restriction_ground=self.ground_field.value() if self.overriding else None,
        )

    def make_call(self) -> Callable[[Session], object]:
        edits, case_id, draft_id = self.edits(), self.case_id, self.draft_id
        return lambda s: marac_form.issue(s, case_id, edits, draft_id=draft_id)

    def busy_text(self) -> str:
        return translate("MaracDialog", "Issuing the form…")

    # -- kept at a lock --------------------------------------------------------------------------

    def restore_draft(self, draft_id: int, values: dict[str, Any]) -> None:
        """Put back what was typed before a lock. The pre-fill is read from the store after the
        form opens, so until it arrives the draft waits, and then goes in over it."""
        if self.prefilled is not None:
            super().restore_draft(draft_id, values)
            return
        self._waiting_draft = values
        self.draft_id = draft_id
        self._dirty = True

    def unsaved_draft(self) -> NewDraft | None:
        """What was typed; a draft still waiting for the pre-fill (locked again at once) is
        kept as it came."""
        kept = self._waiting_draft
        if kept is not None and self.draft_kind:
            return NewDraft(self.draft_kind, kept, self.draft_case, self.draft_target)
        return super().unsaved_draft()

    # -- issued ---------------------------------------------------------------------------------

    def _succeeded(self, value: object) -> None:
        """Issued: the form stays open, read-only, to print or save."""
        self._set_busy(False)
        assert isinstance(value, Issued)
        self.issued = value
        self.result_value = value
        self._dirty = False
        self.draft_id = None  # its draft went with it
        self._set_enabled(False)
        self.save_button.setVisible(False)
        self.cancel_button.setText(translate("MaracDialog", "Close"))
        self.cancel_button.setAccessibleName(translate("MaracDialog", "Close"))
        self.print_button.setVisible(True)
        self.save_pdf_button.setVisible(True)
        if value.share.approval is ShareApproval.AWAITING_REVIEW:
            text = translate(
                "MaracDialog",
                "Issued and recorded in the sharing log without everyone's consent: a manager "
                "must review it within 48 hours. Print it or save it as a PDF to send.",
            )
        else:
            text = translate(
                "MaracDialog",
                "Issued and recorded in the sharing log. Print it or save it as a PDF to send.",
            )
        set_message(self.status_label, text)
        self.saved.emit(value)
        self.print_button.setFocus()

    def print_form(self) -> None:
        """Print the issued form through the system print dialog; the print is audited."""
        if self.issued is not None:
            self.output.print_form(self.issued.form_id, self.issued.form.reference)

    def save_pdf(self) -> None:
        """Save the issued form as a PDF where the user chooses, after the warning that the
        file is not encrypted."""
        if self.issued is not None:
            self.output.save_pdf(self.issued.form_id, self.issued.form.reference)


class FormOutput:
    """An issued form on paper, or saved as a PDF after the not-encrypted warning: from the
    referral form once issued, and from the case's list of the forms it sent. Each is built
    again from what was kept, by the service, which audits it."""

    def __init__(
        self,
        calls: StoreCalls,
        parent: QWidget,
        say: Callable[[str], None],
        lock_action: QAction | None,
    ) -> None:
        self.calls = calls
        self.parent = parent
        self.say = say
        self.lock_action = lock_action
        self.ask_printer: printing.AskPrinter = printing.ask_with_dialog
        self.choose_pdf_file: Callable[[str], str] = self._ask_pdf_file
        self.warning_box: QMessageBox | None = None

    def print_form(self, form_id: int, reference: str) -> None:
        printing.print_from_store(
            self.calls,
            self.parent,
            self.ask_printer,
            f"MARAC-referral-{reference}",
            lambda s: marac_form.form_pdf(s, form_id),
            lambda pages: self.say(
                translate("MaracDialog", "Sent to the printer. Pages: {n}.").format(n=pages)
            ),
            self._show_error,
            label=translate("MaracDialog", "Laying out the form…"),
        )

    def save_pdf(self, form_id: int, reference: str) -> None:
        self.warning_box = printing.warn_not_encrypted(
            self.parent,
            translate("MaracDialog", "Save the form as a PDF"),
            lambda: self._save_to_chosen_file(form_id, reference),
            lock_action=self.lock_action,
        )

    def _save_to_chosen_file(self, form_id: int, reference: str) -> None:
        chosen = self.choose_pdf_file(f"MARAC-referral-{reference}.pdf")
        if not chosen:
            return
        out = Path(chosen)
        if out.suffix.lower() != ".pdf":
            out = out.with_name(out.name + ".pdf")

        def call(s: Session) -> Path:
            if out.is_dir() or not out.parent.is_dir():
                raise InvalidInput("Choose a PDF file in a folder that exists for the form.")
            atomic_write(out, marac_form.form_pdf(s, form_id))
            return out

        self.calls.run(
            call,
            lambda path: self.say(
                translate("MaracDialog", "PDF saved, not encrypted: {name}.").format(name=path.name)
            ),
            self._show_error,
            receiver=self.parent,
            label=translate("MaracDialog", "Laying out the form…"),
        )

    def _show_error(self, error: BaseException) -> None:
        show_error(self.parent, error)

    def _ask_pdf_file(self, suggested: str) -> str:
        path, _filter = QFileDialog.getSaveFileName(
            self.parent,
            translate("MaracDialog", "Save the MARAC referral form (not encrypted)"),
            suggested,
            translate("MaracDialog", "PDF files (*.pdf)"),
        )
        return path
