"""Record a share: one disclosure in or out, with the consent state shown as it is filled in.

As the recipient and the people change, ``sharing.consent_gaps`` says whose consent to that
recipient is not given; the dialog shows it at once, and then asks for a lawful basis other
than consent, the reason, and whether the person was told. A caseworker names the manager the
share was decided with, or it is flagged for a manager's review within 48 hours (the service
decides which, and the case shows the outcome).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QComboBox,
    QLabel,
    QRadioButton,
    QSizePolicy,
    QWidget,
)

from app.models.records import (
    CaseRole,
    CaseView,
    ConsentState,
    Direction,
    LawfulBasis,
    RecipientCategory,
    ShareRecord,
)
from app.models.users import User
from app.services import sharing
from app.services.session import Session
from app.ui import labels
from app.ui.errors import error_sentence
from app.ui.forms import (
    ChoiceBox,
    FieldInvalid,
    FormDialog,
    add_check_item,
    check_list,
    checked_data,
    client_first,
    datetime_edit,
    datetime_of,
    enum_combo,
    text_box,
)
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls

CHECK_DELAY_MS = 150
COMBO_CHARACTERS = 16


def consent_text(
    recipient: str, gaps: Mapping[int, ConsentState], names: Mapping[int, str]
) -> tuple[str, str]:
    """What an outgoing share's consent check says, and its state for the style sheet
    ("given" or "missing"): the share dialog and the letter to another agency show the same."""
    if not gaps:
        text = translate(
            "ShareDialog", "Consent to share with {recipient} is given for everyone ticked."
        ).format(recipient=recipient)
        return text, "given"
    who = "; ".join(
        translate("ShareDialog", "{name}: {state}").format(
            name=names.get(pid, str(pid)), state=labels.consent_state(s).lower()
        )
        for pid, s in sorted(gaps.items())
    )
    text = translate(
        "ShareDialog",
        "No consent to share with {recipient} ({who}). Choose a lawful basis other "
        "than consent and give the reason, or do not share.",
    ).format(recipient=recipient, who=who)
    return text, "missing"


def show_consent_state(label: QLabel, text: str, state: str) -> None:
    """Show a consent check's sentence in ``label`` (object name ``consentState``), styled by
    its state."""
    label.setText(text)
    label.setAccessibleDescription(text)
    label.setProperty("state", state)
    label.style().unpolish(label)
    label.style().polish(label)


class ShareDialog(FormDialog):
    def __init__(
        self,
        calls: StoreCalls,
        view: CaseView,
        managers: Sequence[User],
        *,
        is_manager: bool,
        parent: QWidget | None = None,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("ShareDialog", "Record a share"),
            parent,
            intro=translate(
                "ShareDialog",
                "Every disclosure in or out goes in the sharing log, which cannot be changed "
                "afterwards.",
            ),
            save_text=translate("ShareDialog", "&Record the share"),
            lock_action=lock_action,
            scroll=True,
        )
        self.case_id = view.case.id
        self.is_manager = is_manager
        self._names = {m.person.id: m.person.name for m in view.members}
        self.gaps: dict[int, ConsentState] | None = None  # None: not checked yet
        self._check_generation = 0

        self.direction_field = enum_combo(
            translate("ShareDialog", "Direction"),
            (Direction.OUT, Direction.IN),
            lambda d: (
                translate("ShareDialog", "Out: we shared it")
                if d is Direction.OUT
                else translate("ShareDialog", "In: it was shared with us")
            ),
        )
        self.add_field(translate("ShareDialog", "&Direction"), self.direction_field)
        self.when_field = datetime_edit(translate("ShareDialog", "When"), self.calls.moment())
        self.add_field(translate("ShareDialog", "&When"), self.when_field)
        self.recipient_field = enum_combo(
            translate("ShareDialog", "Recipient category"), RecipientCategory, labels.recipient
        )
        self.add_field(translate("ShareDialog", "Recipient &category"), self.recipient_field)
        self.organisation_field = self.line(translate("ShareDialog", "&Organisation"))
        self.people_field = check_list(translate("ShareDialog", "Whose data"))
        for member in client_first(view.members):
            add_check_item(
                self.people_field,
                f"{member.person.name} ({labels.case_role(member.role)})",
                member.person.id,
                checked=member.role is CaseRole.CLIENT,
            )
        self.add_field(translate("ShareDialog", "Whose &data"), self.people_field)
        self.categories_field = check_list(translate("ShareDialog", "Categories of data"))
        for key in labels.DATA_CATEGORIES:
            add_check_item(self.categories_field, labels.data_category(key), key)
        self.add_field(translate("ShareDialog", "Ca&tegories of data"), self.categories_field)
        self.purpose_field = self.line(translate("ShareDialog", "&Purpose"))
        self.method_field = self.line(translate("ShareDialog", "&Method (e.g. secure e-mail)"))
        # The consent state and the basis beside what was shared, so the form fits a laptop.
        self.start_column()
        self.consent_label = QLabel()
        self.consent_label.setObjectName("consentState")
        self.consent_label.setAccessibleName(translate("ShareDialog", "Consent for this share"))
        self.consent_label.setWordWrap(True)
        self.consent_label.setTextFormat(Qt.TextFormat.PlainText)
        self.form.addRow(self.consent_label)

        self.basis_field = enum_combo(
            translate("ShareDialog", "Lawful basis"),
            LawfulBasis,
            labels.lawful_basis,
            none_text=translate("ShareDialog", "Choose the lawful basis…"),
        )  # consent is offered once the check says everyone has given it
        self.basis_label = self.add_field(
            translate("ShareDialog", "&Lawful basis"), self.basis_field
        )
        self.court_field = self.line(translate("ShareDialog", "Court order re&ference"))
        self.court_label = self.form.labelForField(self.court_field)

        self.reason_field = text_box(
            translate("ShareDialog", "Reason for sharing without consent"), lines=3
        )
        self.reason_label = self.add_field(
            translate("ShareDialog", "Reason (&without consent)"), self.reason_field
        )
        self.told_field = QRadioButton(translate("ShareDialog", "The person was &told"))
        self.told_field.setAccessibleName(translate("ShareDialog", "The person was told"))
        self.not_told_field = QRadioButton(translate("ShareDialog", "The person was &not told"))
        self.not_told_field.setAccessibleName(translate("ShareDialog", "The person was not told"))
        self.told_field.setChecked(True)
        self.add_field("", self.told_field)
        self.add_field("", self.not_told_field)
        self.not_told_reason_field = self.line(translate("ShareDialog", "Why they were not t&old"))
        self.not_told_label = self.form.labelForField(self.not_told_reason_field)
        self.manager_field = ChoiceBox()
        self.manager_field.setAccessibleName(translate("ShareDialog", "Decided with"))
        self.manager_field.add_choice(
            translate("ShareDialog", "No manager available: flag it for review within 48 hours"),
            None,
        )
        for manager in managers:
            self.manager_field.add_choice(manager.username, manager.id)
        self.manager_label = self.add_field(
            translate("ShareDialog", "Decided &with"), self.manager_field
        )
        # Drop-downs as wide as a short choice (a long one shows in full when opened), so the
        # two columns fit a laptop's width.
        for combo in (
            self.direction_field,
            self.recipient_field,
            self.basis_field,
            self.manager_field,
        ):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(COMBO_CHARACTERS)
        # The lists ask to be as wide as their names, and make do with less on a small screen.
        for listing in (self.people_field, self.categories_field):
            listing.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.consent_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self.check_consent)
        self.direction_field.currentIndexChanged.connect(self._consent_inputs_changed)
        self.recipient_field.currentIndexChanged.connect(self._consent_inputs_changed)
        self.people_field.itemChanged.connect(self._consent_inputs_changed)
        self.basis_field.currentIndexChanged.connect(self._update_sections)
        self.told_field.toggled.connect(self._update_sections)
        self.confirm_before_saving(
            translate(
                "ShareDialog", "The sharing log cannot be changed afterwards. Record this share?"
            ),
            translate("ShareDialog", "&Record the share"),
        )
        self.check_consent()
        self._update_sections()
        self.organisation_field.setFocus()
        self._dirty = False

    # -- the consent state ----------------------------------------------------------------------

    @property
    def outgoing(self) -> bool:
        return self.direction_field.value() is Direction.OUT

    def _consent_inputs_changed(self, *_args: object) -> None:
        self.gaps = None
        self._check_generation += 1  # an answer for the old recipient or people is stale
        self._check_timer.start()
        self._offer_bases()
        self._update_sections()

    def _probe(self) -> ShareRecord:
        return ShareRecord(
            case_id=self.case_id,
            direction=self.direction_field.value(),
            shared_at="",
            organisation="",
            recipient_category=self.recipient_field.value(),
            person_ids=tuple(checked_data(self.people_field)),
            data_categories=(),
            purpose="",
            method="",
            lawful_basis=LawfulBasis.CONSENT,
        )

    def check_consent(self) -> None:
        """Ask whose consent to this recipient is missing (in the background)."""
        self._check_timer.stop()
        self._check_generation += 1
        generation = self._check_generation
        if not self.outgoing:
            self.gaps = {}
            self._offer_bases()
            self._show_consent()
            return
        probe = self._probe()
        if not probe.person_ids:
            self.gaps = {}
            self._offer_bases()
            self._show_consent()
            return

        def gaps(session: Session) -> dict[int, ConsentState]:
            return sharing.consent_gaps(session, probe)

        self.consent_label.setText(translate("ShareDialog", "Checking consent…"))
        self.calls.run(
            gaps,
            lambda found: self._gaps_arrived(generation, found),
            lambda error: self._gaps_failed(generation, error),
            receiver=self,
            label=translate("ShareDialog", "Checking consent…"),
        )

    def _gaps_arrived(self, generation: int, found: dict[int, ConsentState]) -> None:
        if generation != self._check_generation:
            return
        self.gaps = found
        self._offer_bases()
        self._show_consent()

    def _offer_bases(self) -> None:
        """List the bases this share may rest on: no consent while anyone's is missing."""
        allowed = sharing.lawful_bases(self.direction_field.value(), self.gaps or {})
        if self.outgoing and self.gaps is None:
            allowed = tuple(b for b in allowed if b is not LawfulBasis.CONSENT)
        chosen = self.basis_field.value()
        if chosen is None and self.gaps == {} and LawfulBasis.CONSENT in allowed:
            chosen = LawfulBasis.CONSENT  # everyone's consent is given: the usual basis
        if tuple(v for v in self.basis_field.values() if v is not None) != allowed:
            self.basis_field.blockSignals(True)
            self.basis_field.clear_choices()
            self.basis_field.add_choice(translate("ShareDialog", "Choose the lawful basis…"), None)
            for basis in allowed:
                self.basis_field.add_choice(labels.lawful_basis(basis), basis)
            self.basis_field.blockSignals(False)
        self.basis_field.set_value(chosen if chosen in allowed else None)

    def _gaps_failed(self, generation: int, error: BaseException) -> None:
        if generation == self._check_generation:
            self.consent_label.setText(error_sentence(error))

    def _show_consent(self) -> None:
        recipient = labels.recipient(self.recipient_field.value())
        if not self.outgoing:
            text = translate("ShareDialog", "Data shared with us needs no consent check.")
            state = "inbound"
        elif self.gaps is None:
            text = translate("ShareDialog", "Checking consent…")
            state = "checking"
        elif not checked_data(self.people_field):
            text = translate("ShareDialog", "Tick whose data is shared.")
            state = "checking"
        else:
            text, state = consent_text(recipient, self.gaps, self._names)
        show_consent_state(self.consent_label, text, state)
        self._update_sections()

    @property
    def without_consent(self) -> bool:
        return self.outgoing and bool(self.gaps)

    def _update_sections(self, *_args: object) -> None:
        court = self.basis_field.value() is LawfulBasis.COURT_ORDER
        self.court_field.setVisible(court)
        if self.court_label is not None:
            self.court_label.setVisible(court)
        without = self.without_consent
        self.reason_field.setVisible(without)
        self.reason_label.setVisible(without)
        manager = without and not self.is_manager
        self.manager_field.setVisible(manager)
        self.manager_label.setVisible(manager)
        not_told = self.not_told_field.isChecked()
        self.not_told_reason_field.setVisible(not_told)
        if self.not_told_label is not None:
            self.not_told_label.setVisible(not_told)
        self.recheck()

    # -- checking as it is filled in ------------------------------------------------------------

    def live_problem(self) -> FieldInvalid | None:
        """The first thing that stops this share being recorded, checked as the form is filled
        in (the service checks the same again)."""
        checks: list[tuple[bool, QWidget, str]] = [
            (
                not self.organisation_field.text().strip(),
                self.organisation_field,
                "Name the organisation the data went to or came from.",
            ),
            (
                not checked_data(self.people_field),
                self.people_field,
                "Say which people the shared data was about.",
            ),
            (
                self.outgoing and self.gaps is None,
                self.basis_field,
                "Wait a moment while consent is checked.",
            ),
            (
                self.basis_field.value() is None,
                self.basis_field,
                "Choose the lawful basis for this share.",
            ),
            (
                self.basis_field.value() is LawfulBasis.COURT_ORDER
                and not self.court_field.text().strip(),
                self.court_field,
                "Give the court order's reference.",
            ),
            (
                self.without_consent
                and len(self.reason_field.toPlainText().strip())
                < sharing.MIN_REASON_WITHOUT_CONSENT,
                self.reason_field,
                "Give the reason for sharing without consent (a short sentence).",
            ),
            (
                self.not_told_field.isChecked() and not self.not_told_reason_field.text().strip(),
                self.not_told_reason_field,
                "Say why the person was not told about the share.",
            ),
            (
                not checked_data(self.categories_field),
                self.categories_field,
                "Say which categories of data were shared.",
            ),
            (
                not self.purpose_field.text().strip(),
                self.purpose_field,
                "Say what the data was shared for.",
            ),
        ]
        for wrong, field, sentence in checks:
            if wrong:
                return FieldInvalid(field, translate("ShareDialog", sentence))
        try:
            datetime_of(self.when_field)
        except FieldInvalid as problem:
            return problem
        return None

    # -- saving ---------------------------------------------------------------------------------

    def make_call(self) -> Callable[[Session], object]:
        organisation = self.organisation_field.text().strip()
        people = tuple(checked_data(self.people_field))
        categories = tuple(checked_data(self.categories_field))
        basis = self.basis_field.value()
        without = self.without_consent
        when = datetime_of(self.when_field).astimezone(dt.UTC)
        record = ShareRecord(
            case_id=self.case_id,
            direction=self.direction_field.value(),
            shared_at=when.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            organisation=organisation,
            recipient_category=self.recipient_field.value(),
            person_ids=people,
            data_categories=categories,
            purpose=self.purpose_field.text().strip(),
            method=self.method_field.text().strip(),
            lawful_basis=basis,
            court_reference=self.court_field.text().strip(),
            reason=self.reason_field.toPlainText().strip() if without else "",
            person_told=self.told_field.isChecked(),
            not_told_reason=""
            if self.told_field.isChecked()
            else self.not_told_reason_field.text().strip(),
            consulted_manager_id=self.manager_field.value()
            if without and not self.is_manager
            else None,
        )
        return lambda s: sharing.record_share(s, record)
