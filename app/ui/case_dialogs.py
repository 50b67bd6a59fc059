"""The forms a case is changed through: people, safe contact, notes, consent, lifecycle, holds,
allocation and break-glass. Each one saves through a single service call.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Sequence

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFormLayout, QLineEdit, QPlainTextEdit, QWidget

from app.errors import InvalidInput
from app.models.records import (
    AbuseChange,
    Case,
    CaseMember,
    CaseOutcome,
    CaseRole,
    ClosureReason,
    Consent,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    ContactMethod,
    Engagement,
    ExitRisk,
    FeelingSafer,
    GivenBy,
    Note,
    NoteKind,
    Person,
    PersonDetails,
    QualityOfLife,
    RecipientCategory,
    SafeContact,
)
from app.models.users import User
from app.services import access, cases, consent, merges, notes, risk
from app.services.session import Session
from app.ui import labels
from app.ui.forms import (
    ChoiceBox,
    FieldInvalid,
    FormDialog,
    OptionalDate,
    check_box,
    choose,
    client_first,
    date_edit,
    date_of,
    datetime_edit,
    datetime_of,
    enum_combo,
    text_box,
)
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls

Call = Callable[[Session], object]


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _required(field: QLineEdit | QPlainTextEdit, sentence: str) -> str:
    text = field.toPlainText() if isinstance(field, QPlainTextEdit) else field.text()
    if not text.strip():
        raise FieldInvalid(field, sentence)
    return text.strip()


# -- people -------------------------------------------------------------------------------------


class _FindPersonDialog(FormDialog):
    """A form that first finds a person already on record by name (people on cases the user may
    open), lists them in ``found_field``, then saves with the one chosen."""

    def __init__(
        self,
        calls: StoreCalls,
        title: str,
        intro: str,
        parent: QWidget | None,
        lock_action: QAction | None,
        *,
        name: tuple[str, str] = ("", ""),
        found_label: str,
        leave_out: int | None = None,
    ) -> None:
        t = translate
        super().__init__(
            calls,
            title,
            parent,
            intro=intro,
            save_text=t("FindPerson", "&Find"),
            lock_action=lock_action,
        )
        self.leave_out = leave_out
        self.given_field = self.line(t("FindPerson", "&First name"), name[0])
        self.family_field = self.line(t("FindPerson", "&Last name"), name[1])
        self.found_field = ChoiceBox(found_label.replace("&", ""))
        self.add_field(found_label, self.found_field)
        for field in (self.given_field, self.family_field):
            field.textEdited.connect(self._name_changed)
        self.given_field.setFocus()

    def _name_changed(self, *_args: object) -> None:
        self.found_field.clear_choices()
        self.save_button.setText(translate("FindPerson", "&Find"))

    def chosen_call(self, person_id: int) -> Call:
        """The call that saves the form with the person chosen."""
        raise NotImplementedError

    def chosen_text(self) -> str:
        """Save's text once someone has been found."""
        raise NotImplementedError

    def make_call(self) -> Call:
        chosen = self.found_field.value()
        if chosen is not None:
            return self.chosen_call(int(chosen))
        wanted = PersonDetails(self.given_field.text().strip(), self.family_field.text().strip())
        if not wanted.given_name and not wanted.family_name:
            raise FieldInvalid(self.given_field, translate("FindPerson", "Type a name to find."))
        return lambda s: cases.find_matches(s, wanted)

    def _succeeded(self, value: object) -> None:
        if not isinstance(value, cases.MatchReport):
            super()._succeeded(value)
            return
        self._set_busy(False)
        found = [m for m in value.people if m.person_id != self.leave_out]
        for match in found:
            self.found_field.add_choice(
                translate("FindPerson", "{name} ({role} on {reference})").format(
                    name=match.name,
                    role=labels.case_role(match.role).lower(),
                    reference=match.reference,
                ),
                match.person_id,
            )
        if found:
            self.save_button.setText(self.chosen_text())
            self.found_field.setFocus()
        else:
            self.show_problem(
                translate("FindPerson", "Nobody else by that name on a case you may open.")
            )


class ExistingPersonDialog(_FindPersonDialog):
    """Put someone already on record (on a case the user may open) on this case too: find them
    by name, choose them and their role here, then add them."""

    def __init__(
        self,
        calls: StoreCalls,
        case_id: int,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        t = translate
        super().__init__(
            calls,
            t("ExistingPersonDialog", "Add someone already on record"),
            t(
                "ExistingPersonDialog",
                "Find the person by name. Only people on cases you may open are listed.",
            ),
            parent,
            lock_action,
            found_label=t("ExistingPersonDialog", "&Person"),
        )
        self.case_id = case_id
        self.person_field = self.found_field
        self.role_field = enum_combo(t("ExistingPersonDialog", "Role"), CaseRole, labels.case_role)
        self.add_field(t("ExistingPersonDialog", "&Role on this case"), self.role_field)

    def chosen_text(self) -> str:
        return translate("ExistingPersonDialog", "&Add to the case")

    def chosen_call(self, person_id: int) -> Call:
        case_id, role = self.case_id, self.role_field.value()
        return lambda s: cases.link_person(s, case_id, person_id, role)


class MergeDialog(_FindPersonDialog):
    """Merge two records of one person (managers): find the other record, choose which to keep.
    Everything on the other record moves to the kept one; the merge can be undone until it is
    confirmed."""

    def __init__(
        self,
        calls: StoreCalls,
        person: Person,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        t = translate
        super().__init__(
            calls,
            t("MergeDialog", "Merge two records of one person"),
            t(
                "MergeDialog",
                "Find the other record of {name}. Its cases, consents and shares move to the "
                "record you keep. You can undo the merge until you confirm it.",
            ).format(name=person.name),
            parent,
            lock_action,
            name=(person.details.given_name, person.details.family_name),
            found_label=t("MergeDialog", "The &other record"),
            leave_out=person.id,
        )
        self.person = person
        self.other_field = self.found_field
        self.keep_field = ChoiceBox(t("MergeDialog", "Keep"))
        this = t("MergeDialog", "This record ({name})").format(name=person.name)
        self.keep_field.add_choice(this, True)
        self.keep_field.add_choice(t("MergeDialog", "The other record"), False)
        self.add_field(t("MergeDialog", "&Keep"), self.keep_field)

    def submit(self) -> None:
        # The question is asked only before merging, not before finding.
        merging = self.other_field.value() is not None
        self.confirm_before_saving(
            translate("MergeDialog", "Merge these two records?") if merging else "",
            translate("MergeDialog", "&Merge"),
        )
        super().submit()

    def chosen_text(self) -> str:
        return translate("MergeDialog", "&Merge the records")

    def chosen_call(self, person_id: int) -> Call:
        keep_this = bool(self.keep_field.value())
        kept, merged = (self.person.id, person_id) if keep_this else (person_id, self.person.id)
        return lambda s: merges.merge_people(s, kept, merged)


class PersonDialog(FormDialog):
    """Add a person to a case in a role, or change what is recorded about someone."""

    def __init__(
        self,
        calls: StoreCalls,
        case_id: int,
        person: Person | None = None,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
        role: CaseRole | None = None,
    ) -> None:
        title = (
            translate("PersonDialog", "Add a person to the case")
            if person is None
            else translate("PersonDialog", "Change a person's details")
        )
        super().__init__(calls, title, parent, lock_action=lock_action, scroll=True)
        self.case_id = case_id
        self.person = person
        d = person.details if person else PersonDetails("", "")
        self.role_field: ChoiceBox | None = None
        if person is None:
            self.role_field = enum_combo(
                translate("PersonDialog", "Role on this case"),
                CaseRole,
                labels.case_role,
                none_text=translate("PersonDialog", "Choose the role…"),
            )
            choose(self.role_field, role)  # none given: the user chooses; never a default role
            self.add_field(translate("PersonDialog", "&Role on this case"), self.role_field)
        self.given_field = self.line(translate("PersonDialog", "&First name"), d.given_name)
        self.family_field = self.line(translate("PersonDialog", "&Last name"), d.family_name)
        self.aliases_field = self.line(
            translate("PersonDialog", "Other &names (commas between)"), ", ".join(d.aliases)
        )
        self.birth_field = OptionalDate(
            translate("PersonDialog", "Date of birth"),
            translate("PersonDialog", "Known"),
            d.date_of_birth,
            self.calls.today(),
        )
        self.add_field(translate("PersonDialog", "Date of &birth"), self.birth_field)
        self.gender_field = self.line(translate("PersonDialog", "&Gender"), d.gender)
        self.sexuality_field = self.line(translate("PersonDialog", "Se&xuality"), d.sexuality)
        self.ethnicity_field = self.line(translate("PersonDialog", "&Ethnicity"), d.ethnicity)
        self.language_field = self.line(translate("PersonDialog", "&Language"), d.language)
        self.interpreter_field = check_box(
            translate("PersonDialog", "Needs an &interpreter"), d.interpreter_needed
        )
        self.add_field("", self.interpreter_field)
        self.disabilities_field = self.line(
            translate("PersonDialog", "&Disabilities"), d.disabilities
        )
        # Who they are, then beside it how to reach them (labels above): fits a laptop.
        self.start_column().setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        self.address_field = text_box(translate("PersonDialog", "Address"), d.address, lines=2)
        self.add_field(translate("PersonDialog", "&Address"), self.address_field)
        self.postcode_field = self.line(translate("PersonDialog", "&Postcode"), d.postcode)
        self.confidential_field = check_box(
            translate("PersonDialog", "Confidential address (refuge): never share it"),
            d.address_confidential,
        )
        self.add_field("", self.confidential_field)
        self.phones_field = self.line(
            translate("PersonDialog", "P&hone numbers (commas between)"), ", ".join(d.phones)
        )
        self.email_field = self.line(translate("PersonDialog", "E-&mail"), d.email)
        self.health_field = text_box(translate("PersonDialog", "Health"), d.health_notes, lines=2)
        self.add_field(translate("PersonDialog", "Heal&th"), self.health_field)
        self.organisation_field = self.line(
            translate("PersonDialog", "&Organisation (professionals)"), d.organisation
        )
        self.job_field = self.line(translate("PersonDialog", "&Job title"), d.job_title)
        self.given_field.setFocus()

    def details(self) -> PersonDetails:
        return PersonDetails(
            given_name=self.given_field.text().strip(),
            family_name=self.family_field.text().strip(),
            aliases=_split(self.aliases_field.text()),
            date_of_birth=self.birth_field.value(),
            gender=self.gender_field.text().strip(),
            sexuality=self.sexuality_field.text().strip(),
            ethnicity=self.ethnicity_field.text().strip(),
            language=self.language_field.text().strip(),
            interpreter_needed=self.interpreter_field.isChecked(),
            disabilities=self.disabilities_field.text().strip(),
            address=self.address_field.toPlainText().strip(),
            postcode=self.postcode_field.text().strip().upper(),
            address_confidential=self.confidential_field.isChecked(),
            phones=_split(self.phones_field.text()),
            email=self.email_field.text().strip(),
            health_notes=self.health_field.toPlainText().strip(),
            organisation=self.organisation_field.text().strip(),
            job_title=self.job_field.text().strip(),
        )

    def make_call(self) -> Call:
        details = self.details()
        # The same check the service makes, before any waiting.
        cases.check_person(details, self.calls.today())
        case_id = self.case_id
        if self.person is None:
            assert self.role_field is not None
            role: CaseRole | None = self.role_field.value()
            if role is None:
                raise FieldInvalid(
                    self.role_field,
                    translate("PersonDialog", "Choose the person's role on this case."),
                )
            return lambda s: cases.add_person(s, case_id, details, role)
        person_id = self.person.id
        return lambda s: cases.update_person(s, person_id, details)


# -- safe contact ---------------------------------------------------------------------------------


class SafeContactDialog(FormDialog):
    """How it is safe to contact the client: what the banner on the case shows."""

    def __init__(
        self,
        calls: StoreCalls,
        case_id: int,
        client_id: int,
        rules: SafeContact | None,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("SafeContactDialog", "Safe contact"),
            parent,
            intro=translate(
                "SafeContactDialog",
                "Record only what the client has told you is safe. Everyone who opens the case "
                "sees this first.",
            ),
            lock_action=lock_action,
            scroll=True,
        )
        self.case_id = case_id
        r = rules or SafeContact(person_id=client_id)
        self.client_id = client_id
        self.do_not_contact_field = check_box(
            translate("SafeContactDialog", "Do &not contact the client at all"), r.do_not_contact
        )
        self.add_field("", self.do_not_contact_field)
        self.number_field = self.line(translate("SafeContactDialog", "Safe &number"), r.safe_number)
        self.method_field = enum_combo(
            translate("SafeContactDialog", "Safe way to make contact"),
            ContactMethod,
            labels.contact_method,
            none_text=translate("SafeContactDialog", "Not said"),
        )
        self.method_field.show_recorded(r.method)  # kept as recorded until changed
        self.add_field(translate("SafeContactDialog", "Safe &way"), self.method_field)
        self.times_field = self.line(translate("SafeContactDialog", "Safe &times"), r.safe_times)
        self.voicemail_field = check_box(
            translate("SafeContactDialog", "&Voicemail is OK"), r.voicemail_ok
        )
        self.text_field = check_box(translate("SafeContactDialog", "T&ext is OK"), r.text_ok)
        self.letters_field = check_box(
            translate("SafeContactDialog", "&Letters are OK"), r.letters_ok
        )
        for box in (self.voicemail_field, self.text_field, self.letters_field):
            self.add_field("", box)
        self.safe_address_field = self.line(
            translate("SafeContactDialog", "Safe &address for letters"), r.safe_address
        )
        self.safe_address_field.setToolTip(
            translate(
                "SafeContactDialog",
                "Where the client said post is safe. Letters go only here, never to the address "
                "on record.",
            )
        )
        self.safe_postcode_field = self.line(
            translate("SafeContactDialog", "Safe p&ostcode for letters"), r.safe_postcode
        )
        self.code_word_field = self.line(translate("SafeContactDialog", "&Code word"), r.code_word)
        self.code_word_field.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.safe_people_field = self.line(
            translate("SafeContactDialog", "Safe &people to speak to"), r.safe_people
        )
        self.unsafe_people_field = self.line(
            translate("SafeContactDialog", "&Unsafe people (never speak to)"), r.unsafe_people
        )
        self.checked_field = date_edit(
            translate("SafeContactDialog", "Last checked with the client"),
            r.last_checked or self.calls.today(),
        )
        self.add_field(
            translate("SafeContactDialog", "Last c&hecked with the client"), self.checked_field
        )

    def make_call(self) -> Call:
        method = self.method_field.value()
        rules = SafeContact(
            person_id=self.client_id,
            safe_number=self.number_field.text().strip(),
            method=str(method) if method else "",
            safe_times=self.times_field.text().strip(),
            voicemail_ok=self.voicemail_field.isChecked(),
            text_ok=self.text_field.isChecked(),
            letters_ok=self.letters_field.isChecked(),
            code_word=self.code_word_field.text().strip(),
            do_not_contact=self.do_not_contact_field.isChecked(),
            safe_people=self.safe_people_field.text().strip(),
            unsafe_people=self.unsafe_people_field.text().strip(),
            last_checked=date_of(self.checked_field),
            safe_address=self.safe_address_field.text().strip(),
            safe_postcode=self.safe_postcode_field.text().strip(),
        )
        if not rules.do_not_contact and not rules.safe_number and not rules.method:
            raise FieldInvalid(
                self.number_field,
                translate(
                    "SafeContactDialog",
                    "Give a safe number or a safe way to make contact, or tick do not contact.",
                ),
            )
        case_id = self.case_id
        return lambda s: cases.set_safe_contact(s, case_id, rules)


# -- notes ----------------------------------------------------------------------------------------

NOTE_KINDS = (NoteKind.NOTE, NoteKind.CALL, NoteKind.VISIT, NoteKind.MEETING, NoteKind.MESSAGE)


class NoteDialog(FormDialog):
    """Record a note or a contact (call, visit, meeting, message)."""

    def __init__(
        self,
        calls: StoreCalls,
        case_id: int,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("NoteDialog", "Record a note or contact"),
            parent,
            intro=translate(
                "NoteDialog",
                "Notes cannot be deleted. A mistake is corrected later, and the original stays "
                "in the note's history.",
            ),
            lock_action=lock_action,
        )
        self.case_id = case_id
        self.kind_field = enum_combo(
            translate("NoteDialog", "Kind of note"), NOTE_KINDS, labels.note_kind
        )
        self.add_field(translate("NoteDialog", "&Kind"), self.kind_field)
        self.when_field = datetime_edit(
            translate("NoteDialog", "When it happened"), self.calls.moment()
        )
        self.add_field(translate("NoteDialog", "&When"), self.when_field)
        self.body_field = text_box(translate("NoteDialog", "What happened"), lines=8)
        self.add_field(translate("NoteDialog", "What &happened"), self.body_field)
        self.body_field.setFocus()

    def make_call(self) -> Call:
        body = _required(self.body_field, "The note is empty.")
        kind: NoteKind = self.kind_field.value()
        when = datetime_of(self.when_field)
        case_id = self.case_id
        return lambda s: notes.add_note(s, case_id, kind, body, when)


class CorrectNoteDialog(FormDialog):
    """Correct a note; the reason is required and the original stays in its history."""

    def __init__(
        self,
        calls: StoreCalls,
        note: Note,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("CorrectNoteDialog", "Correct a note"),
            parent,
            intro=translate(
                "CorrectNoteDialog",
                "The note as it stands now is kept in its history, with your name, the time and "
                "your reason.",
            ),
            lock_action=lock_action,
        )
        self.note = note
        self.current_view = text_box(translate("CorrectNoteDialog", "The note now"), note.body)
        self.current_view.setReadOnly(True)
        self.add_field(translate("CorrectNoteDialog", "The note &now"), self.current_view)
        self.body_field = text_box(
            translate("CorrectNoteDialog", "Corrected text"), note.body, lines=6
        )
        self.add_field(translate("CorrectNoteDialog", "&Corrected text"), self.body_field)
        self.reason_field = self.line(translate("CorrectNoteDialog", "&Reason for the correction"))
        self.body_field.setFocus()

    def make_call(self) -> Call:
        body = _required(self.body_field, "The corrected text is empty or the same as before.")
        reason = _required(self.reason_field, "Say why the note is being corrected.")
        note_id = self.note.id
        return lambda s: notes.correct_note(s, note_id, body, reason)


# -- consent --------------------------------------------------------------------------------------


class ConsentDialog(FormDialog):
    """Record a consent decision, or its withdrawal; earlier decisions stay in the history."""

    def __init__(
        self,
        calls: StoreCalls,
        case_id: int,
        members: Sequence[CaseMember],
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
        preset: Consent | None = None,
        withdraw: bool = False,
    ) -> None:
        title = (
            translate("ConsentDialog", "Record a withdrawal of consent")
            if withdraw
            else translate("ConsentDialog", "Record consent")
        )
        super().__init__(calls, title, parent, lock_action=lock_action)
        self.case_id = case_id
        self.person_field = ChoiceBox()
        self.person_field.setAccessibleName(translate("ConsentDialog", "Whose consent"))
        seen: set[int] = set()
        for member in client_first(members):
            if member.role is CaseRole.PROFESSIONAL or member.person.id in seen:
                continue
            seen.add(member.person.id)
            self.person_field.add_choice(
                f"{member.person.name} ({labels.case_role(member.role)})", member.person.id
            )
        self.add_field(translate("ConsentDialog", "&Whose consent"), self.person_field)
        self.purpose_field = enum_combo(
            translate("ConsentDialog", "What for"), ConsentPurpose, labels.consent_purpose
        )
        choose(self.purpose_field, ConsentPurpose.SHARING)
        self.add_field(translate("ConsentDialog", "What &for"), self.purpose_field)
        self.recipient_field = enum_combo(
            translate("ConsentDialog", "Sharing with"), RecipientCategory, labels.recipient
        )
        self.recipient_label = self.add_field(
            translate("ConsentDialog", "Sharing &with"), self.recipient_field
        )
        self.method_field = enum_combo(
            translate("ConsentDialog", "Way of contact"), ContactMethod, labels.contact_method
        )
        self.method_label = self.add_field(
            translate("ConsentDialog", "Way of &contact"), self.method_field
        )
        self.state_field = enum_combo(
            translate("ConsentDialog", "Decision"), ConsentState, labels.consent_state
        )
        self.add_field(translate("ConsentDialog", "&Decision"), self.state_field)
        self.decided_field = date_edit(
            translate("ConsentDialog", "Date of the decision"), self.calls.today()
        )
        self.add_field(translate("ConsentDialog", "D&ate of the decision"), self.decided_field)
        self.how_field = enum_combo(
            translate("ConsentDialog", "How it was given"),
            ConsentHow,
            labels.consent_how,
            none_text=translate("ConsentDialog", "Not recorded"),
        )
        choose(self.how_field, ConsentHow.VERBAL)
        self.add_field(translate("ConsentDialog", "&How"), self.how_field)
        self.given_by_field = enum_combo(
            translate("ConsentDialog", "Given by"), GivenBy, labels.given_by
        )
        self.add_field(translate("ConsentDialog", "Given &by"), self.given_by_field)
        self.review_field = OptionalDate(
            translate("ConsentDialog", "Review date"),
            translate("ConsentDialog", "Review on"),
            None,
            self.calls.today(),
        )
        self.add_field(translate("ConsentDialog", "&Review"), self.review_field)
        self.note_field = self.line(translate("ConsentDialog", "&Note"))

        if preset is not None:
            choose(self.person_field, preset.person_id)
            choose(self.purpose_field, preset.purpose)
            if preset.purpose is ConsentPurpose.SHARING:
                choose(self.recipient_field, RecipientCategory(preset.target))
            elif preset.purpose is ConsentPurpose.CONTACT:
                choose(self.method_field, ContactMethod(preset.target))
        if withdraw:
            choose(self.state_field, ConsentState.WITHDRAWN)
        self.purpose_field.currentIndexChanged.connect(self._purpose_changed)
        self._purpose_changed()

    def _purpose_changed(self) -> None:
        purpose = self.purpose_field.value()
        sharing = purpose is ConsentPurpose.SHARING
        contact = purpose is ConsentPurpose.CONTACT
        for widget in (self.recipient_field, self.recipient_label):
            widget.setVisible(sharing)
        for widget in (self.method_field, self.method_label):
            widget.setVisible(contact)

    def make_call(self) -> Call:
        person_id = self.person_field.value()
        if person_id is None:
            raise InvalidInput("Add the person to the case before recording their consent.")
        purpose: ConsentPurpose = self.purpose_field.value()
        target = ""
        if purpose is ConsentPurpose.SHARING:
            target = self.recipient_field.value().value
        elif purpose is ConsentPurpose.CONTACT:
            target = self.method_field.value().value
        state: ConsentState = self.state_field.value()
        how: ConsentHow | None = self.how_field.value()
        given: GivenBy = self.given_by_field.value()
        decided = date_of(self.decided_field)
        review = self.review_field.value()
        note = self.note_field.text()
        case_id = self.case_id
        return lambda s: consent.record_consent(
            s,
            case_id,
            person_id,
            purpose,
            target,
            state,
            decided_on=decided,
            how=how,
            given_by=given,
            review_date=review,
            note=note,
        )


# -- lifecycle, holds, allocation -----------------------------------------------------------------


class OpenWorkDialog(FormDialog):
    """Move a referral to open work."""

    def __init__(
        self,
        calls: StoreCalls,
        case: Case,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("OpenWorkDialog", "Open the case for work"),
            parent,
            save_text=translate("OpenWorkDialog", "&Open the case"),
            lock_action=lock_action,
        )
        self.case_id = case.id
        self.opened_field = date_edit(translate("OpenWorkDialog", "Opened on"), self.calls.today())
        self.add_field(translate("OpenWorkDialog", "Opened &on"), self.opened_field)

    def make_call(self) -> Call:
        opened, case_id = date_of(self.opened_field), self.case_id
        return lambda s: cases.open_referral(s, case_id, opened)


class CloseCaseDialog(FormDialog):
    """Close a case (managers); its retention clock starts from the closing date."""

    def __init__(
        self,
        calls: StoreCalls,
        case: Case,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("CloseCaseDialog", "Close the case"),
            parent,
            intro=translate(
                "CloseCaseDialog",
                "A closed case takes no new notes, shares or consents until a manager reopens "
                "it. It is kept for the service's retention period from the closing date, or "
                "longer when anyone on it was under 18 while supported.",
            ),
            save_text=translate("CloseCaseDialog", "&Close the case"),
            lock_action=lock_action,
        )
        self.case_id = case.id
        self.closed_field = date_edit(translate("CloseCaseDialog", "Closed on"), self.calls.today())
        self.add_field(translate("CloseCaseDialog", "Closed &on"), self.closed_field)
        t = translate
        self.reason_choice = self._outcome_combo(
            t("CloseCaseDialog", "&Reason for closing"),
            ClosureReason,
            none_text=t("CloseCaseDialog", "Choose…"),
        )
        self.reason_field = self.line(t("CloseCaseDialog", "&Details of the reason"))
        self.exit_risk_field = self._outcome_combo(t("CloseCaseDialog", "Risk at e&xit"), ExitRisk)
        self.abuse_field = self._outcome_combo(
            t("CloseCaseDialog", "&Abuse since referral"), AbuseChange
        )
        self.safer_field = self._outcome_combo(t("CloseCaseDialog", "&Feeling safer"), FeelingSafer)
        self.life_field = self._outcome_combo(
            t("CloseCaseDialog", "&Quality of life"), QualityOfLife
        )
        self.engaged_field = self._outcome_combo(t("CloseCaseDialog", "&Engagement"), Engagement)
        # Nothing is claimed for the person until the worker picks it: each outcome opens on
        # "not asked", "not assessed" or "not recorded", never on a good result.
        unset = CaseOutcome(ClosureReason.OTHER)
        choose(self.exit_risk_field, unset.risk_at_exit)
        choose(self.abuse_field, unset.abuse)
        choose(self.safer_field, unset.feeling_safer)
        choose(self.life_field, unset.quality_of_life)
        choose(self.engaged_field, unset.engagement)
        self.reason_choice.setFocus()
        self.confirm_before_saving(
            translate("CloseCaseDialog", "Close this case now?"),
            translate("CloseCaseDialog", "&Close the case"),
        )

    def _outcome_combo(
        self, label: str, values: Iterable[enum.StrEnum], *, none_text: str | None = None
    ) -> ChoiceBox:
        combo = enum_combo(label.replace("&", ""), values, labels.outcome, none_text=none_text)
        self.add_field(label, combo)
        return combo

    def make_call(self) -> Call:
        reason = self.reason_choice.value()
        if reason is None:
            raise FieldInvalid(
                self.reason_choice,
                translate("CloseCaseDialog", "Choose the reason the case is closing."),
            )
        detail = self.reason_field.text().strip()
        text = labels.outcome(reason) + (f": {detail}" if detail else "")
        outcome = CaseOutcome(
            reason=reason,
            risk_at_exit=self.exit_risk_field.value(),
            abuse=self.abuse_field.value(),
            feeling_safer=self.safer_field.value(),
            quality_of_life=self.life_field.value(),
            engagement=self.engaged_field.value(),
        )
        closed, case_id = date_of(self.closed_field), self.case_id
        return lambda s: cases.close_case(s, case_id, closed, text, outcome)


class MaracMeetingDialog(FormDialog):
    """Record the date of the MARAC meeting the case's referral is listed for."""

    def __init__(
        self,
        calls: StoreCalls,
        case: Case,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("MaracMeetingDialog", "MARAC meeting"),
            parent,
            save_text=translate("MaracMeetingDialog", "&Save the date"),
            lock_action=lock_action,
        )
        self.case_id = case.id
        self.meeting_field = date_edit(
            translate("MaracMeetingDialog", "Meeting date"),
            case.marac_meeting or self.calls.today(),
        )
        self.add_field(translate("MaracMeetingDialog", "&Meeting date"), self.meeting_field)

    def make_call(self) -> Call:
        meeting, case_id = date_of(self.meeting_field), self.case_id
        return lambda s: risk.set_marac_meeting(s, case_id, meeting)


class MaracActionDialog(FormDialog):
    """Record an action agreed at MARAC: what, who owns it and when it is due."""

    def __init__(
        self,
        calls: StoreCalls,
        case_id: int,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("MaracActionDialog", "Action agreed at MARAC"),
            parent,
            save_text=translate("MaracActionDialog", "&Save the action"),
            lock_action=lock_action,
        )
        self.case_id = case_id
        self.action_field = self.line(translate("MaracActionDialog", "&Action"))
        self.owner_field = self.line(translate("MaracActionDialog", "&Owner (agency or person)"))
        self.due_field = date_edit(
            translate("MaracActionDialog", "Due by"), self.calls.today() + dt.timedelta(days=14)
        )
        self.add_field(translate("MaracActionDialog", "&Due by"), self.due_field)
        self.action_field.setFocus()

    def make_call(self) -> Call:
        action = _required(self.action_field, "Say what action was agreed.")
        owner = _required(self.owner_field, "Say who owns the action.")
        due, case_id = date_of(self.due_field), self.case_id
        return lambda s: risk.add_marac_action(s, case_id, action, owner, due)


class LegalHoldDialog(FormDialog):
    """Place a legal hold, which stops the case being destroyed (managers)."""

    def __init__(
        self,
        calls: StoreCalls,
        case: Case,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("LegalHoldDialog", "Place a legal hold"),
            parent,
            intro=translate(
                "LegalHoldDialog",
                "While the hold stands the case is never destroyed, whatever its retention "
                "date: for proceedings, a domestic homicide review or an open rights request.",
            ),
            lock_action=lock_action,
        )
        self.case_id = case.id
        self.reason_field = self.line(translate("LegalHoldDialog", "&Reason for the hold"))
        self.review_field = date_edit(
            translate("LegalHoldDialog", "Review the hold on"),
            self.calls.today() + dt.timedelta(days=365),
        )
        self.add_field(translate("LegalHoldDialog", "Re&view the hold on"), self.review_field)

    def make_call(self) -> Call:
        reason = _required(self.reason_field, "Give the reason for the legal hold.")
        review, case_id = date_of(self.review_field), self.case_id
        return lambda s: cases.place_legal_hold(s, case_id, reason, review)


class AllocateDialog(FormDialog):
    """Allocate the case to a member of the team, or leave it unallocated (managers)."""

    def __init__(
        self,
        calls: StoreCalls,
        case: Case,
        team: Sequence[User],
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("AllocateDialog", "Allocate the case"),
            parent,
            lock_action=lock_action,
        )
        self.case_id = case.id
        self.worker_field = ChoiceBox()
        self.worker_field.setAccessibleName(translate("AllocateDialog", "Worker"))
        self.worker_field.add_choice(translate("AllocateDialog", "Unallocated"), None)
        for user in team:
            self.worker_field.add_choice(user.username, user.id)
        choose(self.worker_field, case.allocated_user_id)
        self.add_field(translate("AllocateDialog", "&Worker"), self.worker_field)

    def make_call(self) -> Call:
        worker: int | None = self.worker_field.value()
        case_id = self.case_id
        return lambda s: cases.allocate(s, case_id, worker)


class BreakGlassDialog(FormDialog):
    """Open a case that is not allocated to you, with a reason managers will see."""

    def __init__(
        self,
        calls: StoreCalls,
        case_id: int,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("BreakGlassDialog", "Open a case not allocated to you"),
            parent,
            intro=translate(
                "BreakGlassDialog",
                "This case is not allocated to you. You can open it for this session if you "
                "must, for example to act on an emergency while its worker is away. Your reason "
                "is recorded and shown to your managers.",
            ),
            save_text=translate("BreakGlassDialog", "&Open the case"),
            lock_action=lock_action,
        )
        self.case_id = case_id
        self.reason_field = text_box(translate("BreakGlassDialog", "Reason"), lines=3)
        self.add_field(translate("BreakGlassDialog", "&Reason"), self.reason_field)
        self.reason_field.setFocus()
        self.confirm_before_saving(
            translate(
                "BreakGlassDialog",
                "Open this case? The opening and your reason stay in the audit trail.",
            ),
            translate("BreakGlassDialog", "&Open the case"),
        )

    def make_call(self) -> Call:
        reason = _required(
            self.reason_field, "Say why you need to open this case (at least a short sentence)."
        )
        case_id = self.case_id
        return lambda s: access.break_glass(s, case_id, reason)


class BreakGlassByReferenceDialog(FormDialog):
    """Open a case known only by its reference (it is in none of your lists), with a reason
    managers will see. ``saved`` carries the case id."""

    def __init__(
        self,
        calls: StoreCalls,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("BreakGlassDialog", "Open a case by reference (break-glass)"),
            parent,
            intro=translate(
                "BreakGlassDialog",
                "Open a case that is not allocated to you, for this session, if you must: for "
                "example to act on an emergency while its worker is away. Give its reference and "
                "your reason. Your reason is recorded and shown to your managers.",
            ),
            save_text=translate("BreakGlassDialog", "&Open the case"),
            lock_action=lock_action,
        )
        self.reference_field = self.line(translate("BreakGlassDialog", "&Case reference"))
        self.reference_field.setPlaceholderText(
            translate("BreakGlassDialog", "For example {reference}").format(
                reference=f"SC-{self.calls.today().year}-000042"
            )
        )
        self.reason_field = text_box(translate("BreakGlassDialog", "Reason"), lines=3)
        self.add_field(translate("BreakGlassDialog", "&Reason"), self.reason_field)
        self.reference_field.setFocus()
        self.confirm_before_saving(
            translate(
                "BreakGlassDialog",
                "Open this case? The opening and your reason stay in the audit trail.",
            ),
            translate("BreakGlassDialog", "&Open the case"),
        )

    def make_call(self) -> Call:
        reference = _required(self.reference_field, "Give the case's reference.")
        reason = _required(
            self.reason_field, "Say why you need to open this case (at least a short sentence)."
        )
        return lambda s: access.break_glass_by_reference(s, reference, reason)
