"""New referral: the client, the referral, and a check that the client is not already on record.

Before a referral is created, ``cases.find_matches`` looks for the client by name, phone, and
family name with postcode. Matches on cases the user may open are listed; matches elsewhere
are only counted. The user can then stop, use a matching person they may open as the client
("Use this person"), or create the referral anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.errors import InvalidInput
from app.models.records import CaseDetails, PersonDetails
from app.models.users import User
from app.services import cases
from app.services.cases import MatchReport
from app.services.session import Session
from app.ui import labels
from app.ui.forms import (
    ChoiceBox,
    FormDialog,
    OptionalDate,
    button,
    choose,
    date_edit,
    date_of,
)
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls


class NewReferralDialog(FormDialog):
    def __init__(
        self,
        calls: StoreCalls,
        *,
        user_id: int,
        is_manager: bool,
        team: Sequence[User],
        parent: QWidget | None = None,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("NewReferralDialog", "New referral"),
            parent,
            intro=translate(
                "NewReferralDialog",
                "Give the client's details and the referral. Safecase checks for an existing "
                "record first.",
            ),
            save_text=translate("NewReferralDialog", "&Create the referral"),
            lock_action=lock_action,
            scroll=True,
        )
        self.match_report: MatchReport | None = None
        self._create_anyway = False
        self.given_field = self.line(translate("NewReferralDialog", "Client's &first name"))
        self.family_field = self.line(translate("NewReferralDialog", "Client's &last name"))
        self.birth_field = OptionalDate(
            translate("NewReferralDialog", "Client's date of birth"),
            translate("NewReferralDialog", "Known"),
            None,
            self.calls.today(),
        )
        self.add_field(translate("NewReferralDialog", "Date of &birth"), self.birth_field)
        self.phone_field = self.line(translate("NewReferralDialog", "&Phone number"))
        self.postcode_field = self.line(translate("NewReferralDialog", "P&ostcode"))
        self.referral_date_field = date_edit(
            translate("NewReferralDialog", "Referral date"), self.calls.today()
        )
        self.add_field(translate("NewReferralDialog", "&Referral date"), self.referral_date_field)
        self.source_field = self.line(translate("NewReferralDialog", "Referred &by (e.g. police)"))
        self.worker_field: ChoiceBox | None = None
        if is_manager:
            self.worker_field = ChoiceBox()
            self.worker_field.setAccessibleName(translate("NewReferralDialog", "Allocate to"))
            self.worker_field.add_choice(translate("NewReferralDialog", "Unallocated"), None)
            for user in team:
                self.worker_field.add_choice(user.username, user.id)
            choose(self.worker_field, user_id)
            self.add_field(translate("NewReferralDialog", "&Allocate to"), self.worker_field)

        self.match_label = QLabel()
        self.match_label.setObjectName("matchWarning")
        self.match_label.setAccessibleName(translate("NewReferralDialog", "Matching records"))
        self.match_label.setWordWrap(True)
        self.match_label.setTextFormat(Qt.TextFormat.PlainText)
        self.match_label.setVisible(False)
        self.body.addWidget(self.match_label)
        # A match the user may open can be used as the client instead of a second record.
        self.person_choice = ChoiceBox(translate("NewReferralDialog", "Matching person"))
        self.use_button = button(
            translate("NewReferralDialog", "&Use this person"),
            translate("NewReferralDialog", "Use this person as the client"),
        )
        self.use_button.clicked.connect(self.use_person)
        self._use_person: int | None = None
        use_row = QHBoxLayout()
        use_row.addWidget(self.person_choice, 1)
        use_row.addWidget(self.use_button)
        self.body.addLayout(use_row)
        self.person_choice.setVisible(False)
        self.use_button.setVisible(False)
        for field in (self.given_field, self.family_field, self.phone_field, self.postcode_field):
            field.textEdited.connect(self._details_changed)
        self.given_field.setFocus()

    def _details_changed(self, *_args: object) -> None:
        if self._create_anyway:
            self._create_anyway = False
            self.match_label.setVisible(False)
            self.person_choice.setVisible(False)
            self.use_button.setVisible(False)
            self.save_button.setText(translate("NewReferralDialog", "&Create the referral"))

    def client(self) -> PersonDetails:
        phone = self.phone_field.text().strip()
        return PersonDetails(
            given_name=self.given_field.text().strip(),
            family_name=self.family_field.text().strip(),
            date_of_birth=self.birth_field.value(),
            phones=(phone,) if phone else (),
            postcode=self.postcode_field.text().strip().upper(),
        )

    def make_call(self) -> Callable[[Session], object]:
        client = self.client()
        cases.check_person(client, self.calls.today())
        source = self.source_field.text().strip()
        if not source:
            self.source_field.setFocus()
            raise InvalidInput("Say who made the referral.")
        details = CaseDetails(
            referral_date=date_of(self.referral_date_field), referral_source=source
        )
        worker = self.worker_field.value() if self.worker_field is not None else None
        anyway, existing = self._create_anyway, self._use_person
        self._use_person = None

        def create(session: Session) -> MatchReport | int:
            if existing is not None:
                return cases.create_referral(
                    session, client, details, allocate_to=worker, existing_client_id=existing
                )
            if not anyway:
                report = cases.find_matches(session, client)
                if report.any:
                    return report
            return cases.create_referral(session, client, details, allocate_to=worker)

        return create

    def use_person(self) -> None:
        """Create the referral with the chosen match as its client, not a new record."""
        chosen = self.person_choice.value()
        if chosen is None:
            return
        self._use_person = int(chosen)
        self.submit()

    def busy_text(self) -> str:
        return translate("NewReferralDialog", "Checking for an existing record…")

    def _succeeded(self, value: object) -> None:
        if isinstance(value, MatchReport):
            self._set_busy(False)
            self.show_matches(value)
            return
        super()._succeeded(value)

    def show_matches(self, report: MatchReport) -> None:
        self.match_report = report
        lines = [
            translate(
                "NewReferralDialog",
                "A matching record exists. Check it is not the same person before creating "
                "another record.",
            )
        ]
        for summary in report.visible:
            lines.append(
                translate(
                    "NewReferralDialog", "{reference}: {client}, {status}, worker {worker}"
                ).format(
                    reference=summary.reference,
                    client=summary.client_name,
                    status=labels.status(summary.status).lower(),
                    worker=summary.worker or translate("NewReferralDialog", "none"),
                )
            )
        if report.hidden == 1:
            lines.append(
                translate(
                    "NewReferralDialog",
                    "1 more match is on a case you may not open; ask a manager.",
                )
            )
        elif report.hidden > 1:
            lines.append(
                translate(
                    "NewReferralDialog",
                    "{count} more matches are on cases you may not open; ask a manager.",
                ).format(count=report.hidden)
            )
        self.person_choice.clear_choices()
        for match in report.people:
            born = labels.date(match.date_of_birth) if match.date_of_birth else ""
            self.person_choice.add_choice(
                translate("NewReferralDialog", "{name} {born} ({role} on {reference})").format(
                    name=match.name,
                    born=born,
                    role=labels.case_role(match.role).lower(),
                    reference=match.reference,
                ),
                match.person_id,
            )
        self.person_choice.setVisible(bool(report.people))
        self.use_button.setVisible(bool(report.people))
        text = "\n".join(lines)
        self.match_label.setText(text)
        self.match_label.setAccessibleDescription(text)
        self.match_label.setVisible(True)
        self._create_anyway = True
        self.save_button.setText(translate("NewReferralDialog", "&Create the referral anyway"))
        self.save_button.setAccessibleName(
            translate("NewReferralDialog", "Create the referral anyway")
        )
