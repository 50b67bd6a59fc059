"""Letters and texts for a person on the case, produced only when the safe-contact rules allow.

Choose the person and what to produce; the rules decide at once (``letters.check``) and a
refusal shows its one sentence. A manager sees, under a refusal a manager may override, a
field for the reason (kept for the DPO). A letter is printed (system print dialog) or saved as
a PDF to a folder the user picks, after the warning that the file is not encrypted; a text is
prepared for copying into the work phone: Safecase sends nothing. Every letter and text is
audited by the service.

A letter to another agency is a disclosure, recorded in the sharing log with the letter: the
dialog shows the consent state for that agency (as the share dialog does, with its words) and
asks for the purpose, the lawful basis and, without consent, the reason, whether the client was
told and, for a caseworker, the manager it was decided with. Data whose processing is
restricted goes only on a manager's Article 18(2) ground.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.crypto.files import atomic_write
from app.errors import InvalidInput
from app.models.records import CaseView, LawfulBasis
from app.models.users import User
from app.services import letters
from app.services.contact_rules import Decision, Output, RestrictionGround, Rule
from app.services.session import Session
from app.ui import labels, printing
from app.ui.forms import ChoiceBox, button, check_box, client_first
from app.ui.i18n import translate
from app.ui.share_dialog import consent_text, show_consent_state
from app.ui.store_calls import StoreCalls
from app.ui.widgets import add_row, message_label, set_message


def output_label(output: Output) -> str:
    return {
        Output.APPOINTMENT: translate("LettersDialog", "Appointment letter"),
        Output.CLOSURE: translate("LettersDialog", "Case closure letter"),
        Output.CONSENT_SHEET: translate("LettersDialog", "Consent and information sheet"),
        Output.AGENCY_LETTER: translate("LettersDialog", "Letter to another agency"),
        Output.TEXT: translate("LettersDialog", "Text message (to copy)"),
        Output.SAR_COVER: translate("LettersDialog", "Subject access pack"),
    }[output]


def rule_label(rule: str) -> str:
    """A rule's name as a person reads it (the audit trail and the DPO's list hold its key)."""
    return {
        Rule.NO_DETAILS.value: translate("LettersDialog", "No safe-contact details"),
        Rule.DO_NOT_CONTACT.value: translate("LettersDialog", "Do not contact"),
        Rule.NO_LETTERS.value: translate("LettersDialog", "Letters not safe"),
        Rule.NO_SAFE_ADDRESS.value: translate("LettersDialog", "No safe address for letters"),
        Rule.RESTRICTED.value: translate("LettersDialog", "Processing restricted"),
    }.get(rule, rule.replace("_", " "))


GROUNDS = (  # in the order a manager meets them: a safeguarding disclosure first
    RestrictionGround.PROTECT_ANOTHER,
    RestrictionGround.CONSENT,
    RestrictionGround.LEGAL_CLAIMS,
    RestrictionGround.PUBLIC_INTEREST,
)


def ground_label(ground: RestrictionGround) -> str:
    """An Article 18(2) ground as a manager chooses it."""
    return {
        RestrictionGround.PROTECT_ANOTHER: translate(
            "LettersDialog", "To protect the rights of another person (safeguarding)"
        ),
        RestrictionGround.CONSENT: translate("LettersDialog", "With the person's consent"),
        RestrictionGround.LEGAL_CLAIMS: translate("LettersDialog", "For legal claims"),
        RestrictionGround.PUBLIC_INTEREST: translate(
            "LettersDialog", "For reasons of important public interest"
        ),
    }[ground]


class LettersDialog(QDialog):
    """Produce a letter or prepare a text for one person on the case."""

    def __init__(
        self,
        calls: StoreCalls,
        view: CaseView,
        is_manager: bool,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
        managers: Sequence[User] = (),
    ) -> None:
        super().__init__(parent)
        t = translate
        self.calls = calls
        self.view = view
        self.is_manager = is_manager
        self.sharing: letters.AgencySharing | None = None  # a letter to an agency, as shared
        self._names = {m.person.id: m.person.name for m in view.members}
        self.lock_action = lock_action
        self.decision: Decision | None = None
        self.warning_box: QMessageBox | None = None
        self.ask_printer: printing.AskPrinter = printing.ask_with_dialog
        self.choose_folder: Callable[[], str] = self._ask_folder
        self._asked = 0  # the newest check asked; older answers are dropped
        self._copied = ""  # the text put on the clipboard, taken off again on closing
        self.setWindowTitle(
            t("LettersDialog", "Letters and texts for {reference}").format(
                reference=view.case.reference
            )
        )
        self.setAccessibleName(t("LettersDialog", "Letters and texts"))
        self.setModal(True)
        self.setMinimumWidth(520)
        if lock_action is not None:
            self.addAction(lock_action)

        self.person_field = ChoiceBox(t("LettersDialog", "Person"))
        for member in client_first(view.members):
            self.person_field.add_choice(
                t("LettersDialog", "{name} ({role})").format(
                    name=member.person.name, role=labels.case_role(member.role)
                ),
                (member.person.id, member.role),
            )
        self.kind_field = ChoiceBox(t("LettersDialog", "What to produce"))
        for output in letters.TEMPLATE_KINDS:
            self.kind_field.add_choice(output_label(output), output)
        self.appointment_field = QLineEdit()
        self.appointment_field.setAccessibleName(t("LettersDialog", "Appointment"))
        self.appointment_field.setPlaceholderText(
            t("LettersDialog", "When and where, e.g. Tuesday 10 March at 10:30, at our office")
        )
        self.verdict_label = QLabel()
        self.verdict_label.setObjectName("letterVerdict")
        self.verdict_label.setAccessibleName(t("LettersDialog", "What the safe-contact rules say"))
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setTextFormat(Qt.TextFormat.PlainText)
        self.hint_label = QLabel()
        self.hint_label.setAccessibleName(t("LettersDialog", "What you can do"))
        self.hint_label.setWordWrap(True)
        self.hint_label.setTextFormat(Qt.TextFormat.PlainText)
        self.override_field = QLineEdit()
        self.override_field.setAccessibleName(t("LettersDialog", "Reason to override the rule"))
        self.override_field.setPlaceholderText(
            t("LettersDialog", "Why it is safe (the DPO reads this)")
        )
        self.confirm_time_field = check_box(
            t("LettersDialog", "I have checked: it is a safe &time to text now")
        )
        self._share_fields(managers)
        self.text_field = QPlainTextEdit()
        self.text_field.setAccessibleName(t("LettersDialog", "The text to copy"))
        self.text_field.setReadOnly(True)
        self.text_field.setMaximumHeight(90)
        self.status_label = message_label(t("LettersDialog", "Status"), "status")

        form = QFormLayout()
        add_row(form, t("LettersDialog", "&Person"), self.person_field)
        add_row(form, t("LettersDialog", "&What"), self.kind_field)
        self.appointment_label = add_row(
            form, t("LettersDialog", "&Appointment"), self.appointment_field
        )
        self.override_label = add_row(
            form, t("LettersDialog", "&Reason to override"), self.override_field
        )
        self.ground_label = add_row(
            form, t("LettersDialog", "Article 18(2) &ground"), self.ground_field
        )
        add_row(form, "", self.confirm_time_field)
        form.addRow(self.share_state_label)
        self.purpose_label = add_row(form, t("LettersDialog", "P&urpose"), self.purpose_field)
        self.basis_label = add_row(form, t("LettersDialog", "&Lawful basis"), self.basis_field)
        self.court_label = add_row(
            form, t("LettersDialog", "Court order re&ference"), self.court_field
        )
        self.without_label = add_row(
            form, t("LettersDialog", "Reason wit&hout consent"), self.without_field
        )
        add_row(form, "", self.told_field)
        self.not_told_label = add_row(
            form, t("LettersDialog", "Why not tol&d"), self.not_told_field
        )
        self.manager_label = add_row(
            form, t("LettersDialog", "Decided with (&manager)"), self.manager_field
        )
        self.text_label = add_row(form, t("LettersDialog", "Te&xt"), self.text_field)

        self.print_button = button(t("LettersDialog", "Pri&nt…"))
        self.save_button = button(t("LettersDialog", "&Save as PDF…"))
        self.copy_button = button(t("LettersDialog", "&Copy the text"))
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        row = QHBoxLayout()
        for widget in (self.print_button, self.save_button, self.copy_button):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.verdict_label)
        layout.addWidget(self.hint_label)
        layout.addWidget(self.status_label)
        layout.addLayout(row)

        self.person_field.currentIndexChanged.connect(self.recheck)
        self.kind_field.currentIndexChanged.connect(self.recheck)
        self.override_field.textChanged.connect(self._update)
        self.confirm_time_field.toggled.connect(self._update)
        self.basis_field.currentIndexChanged.connect(self._update)
        self.told_field.toggled.connect(self._update)
        self.print_button.clicked.connect(self.print_letter)
        self.save_button.clicked.connect(self.save_pdf)
        self.copy_button.clicked.connect(self.copy_text)
        self.recheck()

    def _share_fields(self, managers: Sequence[User]) -> None:
        """What the sharing log needs about a letter to another agency."""
        t = translate
        self.share_state_label = QLabel()
        self.share_state_label.setObjectName("consentState")
        self.share_state_label.setAccessibleName(t("LettersDialog", "Consent for this letter"))
        self.share_state_label.setWordWrap(True)
        self.share_state_label.setTextFormat(Qt.TextFormat.PlainText)
        self.purpose_field = QLineEdit()
        self.purpose_field.setAccessibleName(t("LettersDialog", "Purpose of the letter"))
        self.purpose_field.setPlaceholderText(
            t("LettersDialog", "What the agency needs it for (recorded in the sharing log)")
        )
        self.basis_field = ChoiceBox(t("LettersDialog", "Lawful basis"))
        self.court_field = QLineEdit()
        self.court_field.setAccessibleName(t("LettersDialog", "Court order reference"))
        self.without_field = QLineEdit()
        self.without_field.setAccessibleName(
            t("LettersDialog", "Reason for sharing without consent")
        )
        self.told_field = check_box(t("LettersDialog", "The client has been t&old"), True)
        self.not_told_field = QLineEdit()
        self.not_told_field.setAccessibleName(t("LettersDialog", "Why the client was not told"))
        self.manager_field = ChoiceBox(t("LettersDialog", "Decided with"))
        self.manager_field.add_choice(
            t("LettersDialog", "No manager available: flag it for review within 48 hours"), None
        )
        for manager in managers:
            self.manager_field.add_choice(manager.username, manager.id)
        self.ground_field = ChoiceBox(t("LettersDialog", "Article 18(2) ground"))
        self.ground_field.add_choice(t("LettersDialog", "Choose the ground…"), None)
        for ground in GROUNDS:
            self.ground_field.add_choice(ground_label(ground), ground)

    def _sharing_arrived(self, asked: int, found: letters.AgencySharing) -> None:
        if asked != self._asked:
            return
        self.sharing = found
        chosen = self.basis_field.value()
        self.basis_field.blockSignals(True)
        self.basis_field.clear_choices()
        self.basis_field.add_choice(translate("LettersDialog", "Choose the lawful basis…"), None)
        for basis in found.bases:
            self.basis_field.add_choice(labels.lawful_basis(basis), basis)
        if not found.gaps and chosen is None:
            chosen = LawfulBasis.CONSENT  # everyone's consent is given: the usual basis
        self.basis_field.set_value(chosen if chosen in found.bases else None)
        self.basis_field.blockSignals(False)
        text, state = consent_text(labels.recipient(found.recipient), found.gaps, self._names)
        show_consent_state(self.share_state_label, text, state)
        self._update()

    def share(self) -> letters.AgencyShare | None:
        """What the sharing log records about the letter (None: no lawful basis chosen, which
        the service refuses in one sentence)."""
        basis = self.basis_field.value()
        if self.output is not Output.AGENCY_LETTER or basis is None:
            return None
        without = bool(self.sharing and self.sharing.gaps)
        told = self.told_field.isChecked()
        return letters.AgencyShare(
            purpose=self.purpose_field.text(),
            lawful_basis=basis,
            reason=self.without_field.text() if without else "",
            person_told=told,
            not_told_reason="" if told else self.not_told_field.text(),
            consulted_manager_id=self.manager_field.value()
            if without and not self.is_manager
            else None,
            court_reference=self.court_field.text() if basis is LawfulBasis.COURT_ORDER else "",
        )

    # -- the rules ----------------------------------------------------------------------------

    @property
    def output(self) -> Output:
        return Output(self.kind_field.value())

    @property
    def person_id(self) -> int:
        person_id, _role = self.person_field.value()
        return int(person_id)

    def recheck(self, *_args: object) -> None:
        """Ask the rules about the person and output now chosen."""
        self.decision = None
        self.text_field.clear()
        set_message(self.status_label, None)
        self._asked += 1
        asked, case_id = self._asked, self.view.case.id
        person_id, output = self.person_id, self.output
        self._update()

        def arrived(decision: Decision) -> None:
            if asked == self._asked:
                self.decision = decision
                self._update()

        self.calls.run(
            lambda s: letters.check(s, case_id, person_id, output),
            arrived,
            receiver=self,
            label=translate("LettersDialog", "Checking the safe-contact rules…"),
        )
        self.sharing = None
        if output is Output.AGENCY_LETTER:
            show_consent_state(
                self.share_state_label, translate("ShareDialog", "Checking consent…"), "checking"
            )
            self.calls.run(
                lambda s: letters.agency_sharing(s, case_id, person_id),
                lambda found: self._sharing_arrived(asked, found),
                lambda _error: None,  # not a professional: the rules' refusal says so
                receiver=self,
                label=translate("ShareDialog", "Checking consent…"),
            )

    def _update(self, *_args: object) -> None:
        t = translate
        decision, output = self.decision, self.output
        is_text = output is Output.TEXT
        self.appointment_field.setVisible(output in (Output.APPOINTMENT, Output.TEXT))
        self.appointment_label.setVisible(self.appointment_field.isVisibleTo(self))
        may_override = bool(decision and decision.overridable and self.is_manager)
        self.override_field.setVisible(may_override)
        self.override_label.setVisible(may_override)
        unread = bool(decision and decision.needs_confirmation)
        self.confirm_time_field.setVisible(unread)
        self.text_field.setVisible(is_text)
        restricted = bool(decision and decision.rule is Rule.RESTRICTED and may_override)
        self.ground_field.setVisible(restricted)
        self.ground_label.setVisible(restricted)
        agency = output is Output.AGENCY_LETTER
        without = agency and bool(self.sharing and self.sharing.gaps)
        court = agency and self.basis_field.value() is LawfulBasis.COURT_ORDER
        not_told = agency and not self.told_field.isChecked()
        for shown, widgets in (
            (agency, (self.share_state_label, self.purpose_field, self.purpose_label)),
            (agency, (self.basis_field, self.basis_label, self.told_field)),
            (court, (self.court_field, self.court_label)),
            (without, (self.without_field, self.without_label)),
            (not_told, (self.not_told_field, self.not_told_label)),
            (without and not self.is_manager, (self.manager_field, self.manager_label)),
        ):
            for part in widgets:
                part.setVisible(shown)
        self.text_label.setVisible(is_text)
        self.copy_button.setVisible(is_text)
        self.print_button.setVisible(not is_text)
        self.save_button.setVisible(not is_text)
        hint = ""
        if decision is None:
            self.verdict_label.setText(t("LettersDialog", "Checking the safe-contact rules…"))
            ready = False
        elif decision.allowed:
            if is_text:
                text = t("LettersDialog", "Allowed: the text goes to the safe number {number}.")
                self.verdict_label.setText(text.format(number=decision.number))
            elif decision.address:
                self.verdict_label.setText(
                    t("LettersDialog", "Allowed: addressed to {address}.").format(
                        address=", ".join(decision.address)
                    )
                )
            else:
                self.verdict_label.setText(t("LettersDialog", "Allowed."))
            ready = True
        else:
            self.verdict_label.setText(
                t("LettersDialog", "Refused: {reason}").format(reason=decision.reason)
            )
            if decision.rule is Rule.RESTRICTED and self.is_manager:
                hint = t(
                    "LettersDialog",
                    "As a manager you may send it on an Article 18(2) ground: choose the ground "
                    "and give the reason.",
                )
            elif decision.overridable and self.is_manager:
                hint = t(
                    "LettersDialog",
                    "As a manager you may go ahead: give the reason. A letter is then handed "
                    "over, never posted.",
                )
            elif decision.overridable:
                hint = t("LettersDialog", "Only a manager may override this rule.")
            else:
                hint = t("LettersDialog", "This rule cannot be overridden.")
            ready = (may_override and len(self.override_field.text().strip()) >= 10) or (
                unread and self.confirm_time_field.isChecked()
            )
        refused = decision is not None and not decision.allowed
        if not refused:
            hint = ""
        self.hint_label.setText(hint)
        self.hint_label.setVisible(bool(hint))
        self.verdict_label.setStyleSheet(
            "QLabel { color: #b00020; font-weight: bold; }" if refused else ""
        )
        for widget in (self.print_button, self.save_button, self.copy_button):
            widget.setEnabled(ready)

    def done(self, result: int) -> None:
        """Closing (or a lock) takes the text off the clipboard if it is still there."""
        clipboard = QGuiApplication.clipboard()
        if self._copied and clipboard.text() == self._copied:
            clipboard.clear()
        self._copied = ""
        super().done(result)

    # -- producing ----------------------------------------------------------------------------

    def _pdf_call(self) -> Callable[[Session], bytes]:
        case_id, person_id, output = self.view.case.id, self.person_id, self.output
        appointment = self.appointment_field.text()
        reason = self.override_field.text() if self.override_field.isVisibleTo(self) else ""
        share = self.share()
        ground = self.ground_field.value() if self.ground_field.isVisibleTo(self) else None
        return lambda s: letters.letter_pdf(
            s,
            case_id,
            person_id,
            output,
            appointment=appointment,
            override_reason=reason,
            share=share,
            restriction_ground=ground,
        )

    def _failed(self, error: BaseException) -> None:
        set_message(self.status_label, str(error))

    def print_letter(self) -> None:
        def printed(pages: int) -> None:
            set_message(
                self.status_label,
                translate("LettersDialog", "Sent to the printer. Pages: {n}.").format(n=pages),
            )

        printing.print_from_store(
            self.calls,
            self,
            self.ask_printer,
            f"{self.view.case.reference}-{self.output.value}",
            self._pdf_call(),
            printed,
            self._failed,
            label=translate("LettersDialog", "Laying out the letter…"),
        )

    def save_pdf(self) -> None:
        self.warning_box = printing.warn_not_encrypted(
            self,
            translate("LettersDialog", "Save the letter as a PDF"),
            self._save_to_chosen_folder,
            lock_action=self.lock_action,
        )

    def _ask_folder(self) -> str:
        return QFileDialog.getExistingDirectory(
            self, translate("LettersDialog", "Choose a folder for the letter (not encrypted)")
        )

    def _save_to_chosen_folder(self) -> None:
        chosen = self.choose_folder()
        if not chosen:
            return
        # Named by the case reference and the kind of letter: never by a person's name.
        out = Path(chosen) / f"{self.view.case.reference}-{self.output.value}.pdf"
        build = self._pdf_call()

        def call(s: Session) -> Path:
            if not out.parent.is_dir():
                raise InvalidInput("Choose a folder that exists for the letter.")
            atomic_write(out, build(s))
            return out

        self.calls.run(
            call,
            lambda path: set_message(
                self.status_label,
                translate("LettersDialog", "PDF saved, not encrypted: {name}.").format(
                    name=path.name
                ),
            ),
            self._failed,
            receiver=self,
            label=translate("LettersDialog", "Laying out the letter…"),
        )

    def copy_text(self) -> None:
        case_id, person_id = self.view.case.id, self.person_id
        appointment = self.appointment_field.text()
        confirmed = self.confirm_time_field.isVisibleTo(self) and (
            self.confirm_time_field.isChecked()
        )
        reason = self.override_field.text() if self.override_field.isVisibleTo(self) else ""

        def copied(text: letters.PreparedText) -> None:
            self.text_field.setPlainText(text.body)
            QGuiApplication.clipboard().setText(text.body)
            self._copied = text.body
            set_message(
                self.status_label,
                translate(
                    "LettersDialog",
                    "Copied. Send it from your work phone to the safe number {number}; "
                    "Safecase sends nothing.",
                ).format(number=text.number),
            )

        self.calls.run(
            lambda s: letters.prepare_text(
                s,
                case_id,
                person_id,
                appointment=appointment,
                safe_time_confirmed=confirmed,
                override_reason=reason,
            ),
            copied,
            self._failed,
            receiver=self,
            label=translate("LettersDialog", "Preparing the text…"),
        )
