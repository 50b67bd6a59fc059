"""Three tabs of the case screen: the client's categories (each may stay "not asked" or be
"declined"), the legal side (court dates, protective orders, bail conditions) and the other
agencies involved with the needs assessment and other services."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QVBoxLayout, QWidget

from app.models.categories import (
    Agency,
    AgencyType,
    Answer,
    ChildDetails,
    ChildProtection,
    DisabilityType,
    Ethnicity,
    GenderIdentity,
    ImmigrationStatus,
    LegalItem,
    LegalKind,
    LivesWith,
    OrderType,
    PersonCategories,
    ReferralSource,
    Religion,
    Sex,
    SexualOrientation,
)
from app.models.records import CaseRole, CaseView
from app.services import cases, categories
from app.services.session import Session
from app.ui import category_labels as cl
from app.ui import labels
from app.ui.case_view.base import CasePageBase
from app.ui.forms import (
    ChoiceBox,
    FieldInvalid,
    OptionalDate,
    button,
    date_edit,
    date_of,
    enum_combo,
    text_box,
)
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable
from app.ui.widgets import fit_columns, line_edit, table_view

# Each category's field on the form: (name, its label, its values, their display text).
_Choices = tuple[str, str, Iterable[Any], Callable[[Any], str]]


def _category_rows() -> list[_Choices]:
    t = translate
    return [
        ("sex", t("CasePage", "Sex"), Sex, cl.sex),
        ("gender_identity", t("CasePage", "Gender identity"), GenderIdentity, cl.gender_identity),
        (
            "sexual_orientation",
            t("CasePage", "Sexual orientation"),
            SexualOrientation,
            cl.sexual_orientation,
        ),
        ("ethnicity", t("CasePage", "Ethnicity (ONS 2021)"), Ethnicity, cl.ethnicity),
        ("religion", t("CasePage", "Religion or belief"), Religion, cl.religion),
        ("disability", t("CasePage", "Disability"), Answer, cl.answer),
        (
            "disability_type",
            t("CasePage", "Type of disability"),
            DisabilityType,
            cl.disability_type,
        ),
        ("interpreter_needed", t("CasePage", "Interpreter needed"), Answer, cl.answer),
        (
            "immigration_status",
            t("CasePage", "Immigration status"),
            ImmigrationStatus,
            cl.immigration_status,
        ),
        (
            "no_recourse_to_public_funds",
            t("CasePage", "No recourse to public funds"),
            Answer,
            cl.answer,
        ),
        ("pregnant", t("CasePage", "Pregnant"), Answer, cl.answer),
    ]


@dataclasses.dataclass(frozen=True)
class _Profile:
    """What the three tabs show, read in one call."""

    case_id: int
    categories: PersonCategories | None
    legal: list[LegalItem]
    agencies: list[Agency]
    source: ReferralSource | None
    children: list[ChildDetails]


class ProfileTabs(CasePageBase):
    def _build_profile_tabs(self) -> None:
        t = translate
        # -- the client's categories
        self.category_fields: dict[str, ChoiceBox] = {}
        form = QFormLayout()
        for name, label, values, text in _category_rows():
            combo = enum_combo(label, values, text)
            self.category_fields[name] = combo
            form.addRow(label, combo)
        self.language_field = line_edit(t("CasePage", "First language"))
        form.addRow(t("CasePage", "First language"), self.language_field)
        self.categories_save_button = button(t("CasePage", "Save the client's cate&gories"))
        self.categories_save_button.clicked.connect(self.save_categories)
        holder = QWidget()
        holder.setLayout(form)
        self.child_field = ChoiceBox(t("CasePage", "Child"))
        self.child_field.currentIndexChanged.connect(self._child_chosen)
        self.school_field = line_edit(t("CasePage", "School"))
        self.protection_field = enum_combo(
            t("CasePage", "Child-protection status"), ChildProtection, cl.child_protection
        )
        self.lives_with_field = enum_combo(t("CasePage", "Lives with"), LivesWith, cl.lives_with)
        self.child_save_button = button(t("CasePage", "Save the child's deta&ils"))
        self.child_save_button.clicked.connect(self.save_child)
        child_form = QFormLayout()
        child_form.addRow(t("CasePage", "Child"), self.child_field)
        child_form.addRow(t("CasePage", "School"), self.school_field)
        child_form.addRow(t("CasePage", "Child-protection status"), self.protection_field)
        child_form.addRow(t("CasePage", "Lives with"), self.lives_with_field)
        child_form.addRow("", self.child_save_button)
        self.children_box = QGroupBox(t("CasePage", "The household's children"))
        self.children_box.setLayout(child_form)
        self._children: dict[int, ChildDetails] = {}
        self.categories_tab = self._tab_page(
            holder, self.categories_save_button, self.children_box, stretch_end=True
        )
        self._add_tab(self.categories_tab, t("CasePage", "Categories"))
        self._client_id: int | None = None

        # -- court dates, orders and bail
        self.legal_model: RecordTable[LegalItem] = RecordTable(
            [
                Column(t("CasePage", "Kind"), lambda i: cl.legal_kind(i.kind)),
                Column(t("CasePage", "Order"), lambda i: cl.order_type(i.order_type)),
                Column(t("CasePage", "Date"), lambda i: labels.date(i.starts_on)),
                Column(t("CasePage", "Ends"), lambda i: labels.date(i.ends_on)),
                Column(t("CasePage", "Court"), lambda i: i.court),
                Column(t("CasePage", "Conditions"), lambda i: i.conditions),
            ],
            self,
        )
        self.legal_table = table_view(
            t("CasePage", "Court dates, orders and bail"), self.legal_model
        )
        today = self.calls.today()
        self.legal_kind_field = enum_combo(t("CasePage", "Kind"), LegalKind, cl.legal_kind)
        self.order_type_field = enum_combo(t("CasePage", "Order"), OrderType, cl.order_type)
        self.legal_start_field = date_edit(t("CasePage", "Date or start"), today)
        self.legal_end_field = OptionalDate(
            t("CasePage", "Ends on"), t("CasePage", "Ends on a date"), None, today
        )
        self.court_field = line_edit(t("CasePage", "Court"))
        self.conditions_field = text_box(t("CasePage", "Conditions"), lines=3)
        self.legal_add_button = button(t("CasePage", "Add to the le&gal record"))
        self.legal_add_button.clicked.connect(self.add_legal_item)
        legal_form = QFormLayout()
        legal_form.addRow(t("CasePage", "Kind"), self.legal_kind_field)
        legal_form.addRow(t("CasePage", "Order"), self.order_type_field)
        legal_form.addRow(t("CasePage", "Date or start"), self.legal_start_field)
        legal_form.addRow(t("CasePage", "Ends on"), self.legal_end_field)
        legal_form.addRow(t("CasePage", "Court"), self.court_field)
        legal_form.addRow(t("CasePage", "Conditions"), self.conditions_field)
        legal_form.addRow("", self.legal_add_button)
        legal_holder = QWidget()
        legal_holder.setLayout(legal_form)
        self.legal_tab = self._tab_page(self.legal_table, legal_holder)
        self._add_tab(self.legal_tab, t("CasePage", "Legal"))

        # -- other agencies, the needs assessment and other services
        self.agency_model: RecordTable[Agency] = RecordTable(
            [
                Column(t("CasePage", "Agency"), lambda a: cl.agency_type(a.agency_type)),
                Column(t("CasePage", "Name"), lambda a: a.name),
                Column(t("CasePage", "Contact"), lambda a: a.contact),
            ],
            self,
        )
        self.agency_table = table_view(t("CasePage", "Other agencies involved"), self.agency_model)
        self.agency_type_field = enum_combo(t("CasePage", "Agency"), AgencyType, cl.agency_type)
        self.agency_name_field = line_edit(t("CasePage", "Agency name"))
        self.agency_contact_field = line_edit(t("CasePage", "Contact there"))
        self.agency_add_button = button(t("CasePage", "Add the a&gency"))
        self.agency_add_button.clicked.connect(self.add_agency)
        agency_row = QHBoxLayout()
        for widget in (
            self.agency_type_field,
            self.agency_name_field,
            self.agency_contact_field,
            self.agency_add_button,
        ):
            agency_row.addWidget(widget)
        self.source_type_field = enum_combo(
            t("CasePage", "Referred by (kind of agency)"), AgencyType, cl.agency_type
        )
        self.referrer_field = line_edit(t("CasePage", "Referrer"))
        self.source_save_button = button(t("CasePage", "Save the referral so&urce"))
        self.source_save_button.clicked.connect(self.save_referral_source)
        source_row = QHBoxLayout()
        for widget in (self.source_type_field, self.referrer_field, self.source_save_button):
            source_row.addWidget(widget)
        self.needs_field = text_box(t("CasePage", "Needs assessment"), lines=4)
        self.services_field = text_box(t("CasePage", "Other services"), lines=3)
        self.needs_save_button = button(t("CasePage", "Save the needs and ser&vices"))
        self.needs_save_button.clicked.connect(self.save_needs)
        needs_form = QFormLayout()
        needs_form.addRow(t("CasePage", "Referred by"), source_row)
        needs_form.addRow(t("CasePage", "Needs assessment"), self.needs_field)
        needs_form.addRow(t("CasePage", "Other services"), self.services_field)
        needs_form.addRow("", self.needs_save_button)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(agency_row)
        lower_layout.addLayout(needs_form)
        self.agencies_tab = self._tab_page(self.agency_table, lower)
        self._add_tab(self.agencies_tab, t("CasePage", "Agencies and needs"))

    # -- loading --------------------------------------------------------------------------------

    def _load_profile(self, view: CaseView) -> None:
        case_id = view.case.id
        client = next((m.person.id for m in view.members if m.role is CaseRole.CLIENT), None)
        self._client_id = client

        def read(
            session: Session,
        ) -> _Profile:
            recorded = categories.person_categories(session, client) if client else None
            return _Profile(
                case_id,
                recorded,
                categories.legal_items(session, case_id),
                categories.agencies(session, case_id),
                categories.referral_source(session, case_id),
                categories.children(session, case_id),
            )

        self.calls.run(read, self._profile_arrived, receiver=self)
        self.needs_field.setPlainText(view.case.details.needs_assessment)
        self.services_field.setPlainText(view.case.details.other_services)
        self.child_field.blockSignals(True)
        self.child_field.clear_choices()
        for member in view.members:
            if member.role is CaseRole.CHILD:
                self.child_field.add_choice(member.person.name, member.person.id)
        self.child_field.blockSignals(False)
        writable = self.writable
        self.children_box.setEnabled(self.child_field.count() > 0)
        for widget in (
            self.child_save_button,
            self.source_save_button,
            self.categories_save_button,
            self.legal_add_button,
            self.agency_add_button,
            self.needs_save_button,
        ):
            widget.setEnabled(writable)
        self.categories_save_button.setEnabled(writable and client is not None)

    def _profile_arrived(self, result: _Profile) -> None:
        if result.case_id != self.case_id:
            return
        self._show_categories(result.categories or PersonCategories())
        self.legal_model.set_records(result.legal)
        self.agency_model.set_records(result.agencies)
        source = result.source or ReferralSource(AgencyType.OTHER)
        self.source_type_field.set_value(source.agency_type)
        self.referrer_field.setText(source.referrer)
        self._children = {c.person_id: c for c in result.children}
        self._child_chosen()
        fit_columns(self.legal_table)
        fit_columns(self.agency_table)

    def _show_categories(self, recorded: PersonCategories) -> None:
        for name, combo in self.category_fields.items():
            combo.set_value(getattr(recorded, name))
        self.language_field.setText(recorded.first_language)

    def _child_chosen(self, *_args: object) -> None:
        person_id = self.child_field.value()
        child = self._children.get(person_id) if isinstance(person_id, int) else None
        child = child or ChildDetails(0)
        self.school_field.setText(child.school)
        self.protection_field.set_value(child.protection)
        self.lives_with_field.set_value(child.lives_with)

    def _clear_profile(self) -> None:
        self._client_id = None
        self._children = {}
        self.child_field.clear_choices()
        self.school_field.clear()
        self.referrer_field.clear()
        self._show_categories(PersonCategories())
        self.legal_model.clear()
        self.agency_model.clear()
        for field in (self.needs_field, self.services_field, self.conditions_field):
            field.clear()
        for line in (self.court_field, self.agency_name_field, self.agency_contact_field):
            line.clear()

    # -- saving ---------------------------------------------------------------------------------

    def save_categories(self) -> None:
        client = self._client_id
        if self.view is None or not self.writable or client is None:
            return
        chosen: dict[str, Any] = {n: c.value() for n, c in self.category_fields.items()}
        values = PersonCategories(**chosen, first_language=self.language_field.text().strip())

        def saved(_value: object) -> None:
            self.say(translate("CasePage", "The client's categories are saved."))
            self._saved()

        self.calls.run(
            lambda s: categories.set_person_categories(s, client, values), saved, receiver=self
        )

    def add_legal_item(self) -> None:
        view = self.view
        if view is None or not self.writable:
            return
        try:
            starts = date_of(self.legal_start_field)
            ends = self.legal_end_field.value()
        except FieldInvalid:
            return  # the field says what is wrong under itself
        item = LegalItem(
            self.legal_kind_field.value(),
            starts,
            ends,
            self.order_type_field.value(),
            self.court_field.text().strip(),
            self.conditions_field.toPlainText().strip(),
        )
        case_id = view.case.id

        def saved(_value: object) -> None:
            self.court_field.clear()
            self.conditions_field.clear()
            self.legal_end_field.set_value(None)
            self.say(translate("CasePage", "Added to the legal record."))
            self._saved()

        self.calls.run(lambda s: categories.add_legal_item(s, case_id, item), saved, receiver=self)

    def add_agency(self) -> None:
        view = self.view
        if view is None or not self.writable:
            return
        agency = Agency(
            self.agency_type_field.value(),
            self.agency_name_field.text().strip(),
            self.agency_contact_field.text().strip(),
        )
        case_id = view.case.id

        def saved(_value: object) -> None:
            self.agency_name_field.clear()
            self.agency_contact_field.clear()
            self.say(translate("CasePage", "The agency is added."))
            self._saved()

        self.calls.run(lambda s: categories.add_agency(s, case_id, agency), saved, receiver=self)

    def save_child(self) -> None:
        view = self.view
        person_id = self.child_field.value()
        if view is None or not self.writable or not isinstance(person_id, int):
            return
        child = ChildDetails(
            person_id,
            self.school_field.text().strip(),
            self.protection_field.value(),
            self.lives_with_field.value(),
        )
        case_id = view.case.id

        def saved(_value: object) -> None:
            self.say(translate("CasePage", "The child's details are saved."))
            self._saved()

        self.calls.run(lambda s: categories.set_child(s, case_id, child), saved, receiver=self)

    def save_referral_source(self) -> None:
        view = self.view
        if view is None or not self.writable:
            return
        source = ReferralSource(self.source_type_field.value(), self.referrer_field.text().strip())
        case_id = view.case.id

        def saved(_value: object) -> None:
            self.say(translate("CasePage", "The referral source is saved."))
            self._saved()

        self.calls.run(
            lambda s: categories.set_referral_source(s, case_id, source), saved, receiver=self
        )

    def save_needs(self) -> None:
        view = self.view
        if view is None or not self.writable:
            return
        details = dataclasses.replace(
            view.case.details,
            needs_assessment=self.needs_field.toPlainText().strip(),
            other_services=self.services_field.toPlainText().strip(),
        )
        case_id = view.case.id

        def saved(_value: object) -> None:
            self.say(translate("CasePage", "The needs assessment and other services are saved."))
            self._saved()

        self.calls.run(lambda s: cases.update_case(s, case_id, details), saved, receiver=self)
