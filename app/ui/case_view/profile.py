"""Three tabs of the case screen: the client's categories (each may stay "not asked" or be
"declined"), the legal side (court dates, protective orders, bail conditions) and the other
agencies involved with the needs assessment and other services."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QTableView,
    QVBoxLayout,
    QWidget,
)

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

_R = TypeVar("_R")


def _button_row(*buttons: QWidget) -> QWidget:
    """Buttons side by side, for what the table's chosen row can have done to it."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in buttons:
        layout.addWidget(widget)
    layout.addStretch(1)
    return row


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
        self._legal_editing = 0  # the id of the entry the form is correcting (0: adding)
        self.legal_edit_button = button(t("CasePage", "&Edit the entry…"))
        self.legal_edit_button.clicked.connect(self.edit_legal_item)
        self.legal_remove_button = button(t("CasePage", "&Remove the entry…"))
        self.legal_remove_button.clicked.connect(self.remove_legal_item)
        self.legal_tab = self._tab_page(
            self.legal_table,
            _button_row(self.legal_edit_button, self.legal_remove_button),
            legal_holder,
        )
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
        # Typed and not saved: reading the case again (after a sync) keeps what was typed.
        self._needs_typed = False
        for box in (self.needs_field, self.services_field):
            box.textChanged.connect(self._needs_edited)
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
        self._agency_editing = 0  # the id of the agency the fields are correcting (0: adding)
        self.agency_edit_button = button(t("CasePage", "&Edit the agency…"))
        self.agency_edit_button.clicked.connect(self.edit_agency)
        self.agency_remove_button = button(t("CasePage", "&Remove the agency…"))
        self.agency_remove_button.clicked.connect(self.remove_agency)
        self.agencies_tab = self._tab_page(
            self.agency_table,
            _button_row(self.agency_edit_button, self.agency_remove_button),
            lower,
        )
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
        if not self._needs_typed:
            self._show_needs(view.case.details.needs_assessment, view.case.details.other_services)
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
            self.legal_edit_button,
            self.legal_remove_button,
            self.agency_add_button,
            self.agency_edit_button,
            self.agency_remove_button,
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

    def _needs_edited(self) -> None:
        self._needs_typed = True

    def _show_needs(self, needs: str, services: str) -> None:
        for box, text in ((self.needs_field, needs), (self.services_field, services)):
            box.blockSignals(True)
            box.setPlainText(text)
            box.blockSignals(False)
        self._needs_typed = False

    def _clear_profile(self) -> None:
        self._client_id = None
        self._children = {}
        self.child_field.clear_choices()
        self.school_field.clear()
        self.referrer_field.clear()
        self._show_categories(PersonCategories())
        self.legal_model.clear()
        self.agency_model.clear()
        self._adding_legal()
        self._adding_agency()
        self.conditions_field.clear()
        self._show_needs("", "")
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
            id=self._legal_editing,
        )
        case_id = view.case.id
        said = (
            translate("CasePage", "The legal entry is corrected.")
            if item.id
            else translate("CasePage", "Added to the legal record.")
        )

        def saved(_value: object) -> None:
            self.court_field.clear()
            self.conditions_field.clear()
            self.legal_end_field.set_value(None)
            self._adding_legal()
            self.say(said)
            self._saved()

        def store(s: Session) -> object:
            if item.id:
                categories.update_legal_item(s, case_id, item)
                return None
            return categories.add_legal_item(s, case_id, item)

        self.calls.run(store, saved, receiver=self)

    def _chosen(self, table: QTableView, model: RecordTable[_R]) -> _R | None:
        """The entry chosen in the table (saying so when none is)."""
        index = table.currentIndex()
        record = model.record(index.row()) if index.isValid() else None
        if record is None:
            self.say(translate("CasePage", "Choose an entry in the table first."))
        return record

    def _adding_legal(self) -> None:
        self._legal_editing = 0
        self.legal_add_button.setText(translate("CasePage", "Add to the le&gal record"))

    def edit_legal_item(self) -> None:
        """Fill the form with the chosen entry; saving it then corrects that entry."""
        if self.view is None or not self.writable:
            return
        item = self._chosen(self.legal_table, self.legal_model)
        if item is None:
            return
        self.legal_kind_field.set_value(item.kind)
        self.order_type_field.set_value(item.order_type)
        self.legal_start_field.set_date(item.starts_on)
        self.legal_end_field.set_value(item.ends_on)
        self.court_field.setText(item.court)
        self.conditions_field.setPlainText(item.conditions)
        self._legal_editing = item.id
        self.legal_add_button.setText(
            translate("CasePage", "Save the correction to the le&gal record")
        )
        self.legal_kind_field.setFocus()
        self.say(translate("CasePage", "Correct the entry below, then save the correction."))

    def remove_legal_item(self) -> None:
        view = self.view
        if view is None or not self.writable:
            return
        item = self._chosen(self.legal_table, self.legal_model)
        if item is None:
            return
        case_id, item_id = view.case.id, item.id
        self._ask(
            translate("CasePage", "Remove the entry"),
            translate(
                "CasePage",
                "Remove this {kind} of {date} from the legal record? It cannot be undone.",
            ).format(kind=cl.legal_kind(item.kind).lower(), date=labels.date(item.starts_on)),
            translate("CasePage", "&Remove"),
            lambda s: categories.remove_legal_item(s, case_id, item_id),
        )

    def add_agency(self) -> None:
        view = self.view
        if view is None or not self.writable:
            return
        agency = Agency(
            self.agency_type_field.value(),
            self.agency_name_field.text().strip(),
            self.agency_contact_field.text().strip(),
            self._agency_editing,
        )
        case_id = view.case.id
        said = (
            translate("CasePage", "The agency is corrected.")
            if agency.id
            else translate("CasePage", "The agency is added.")
        )

        def saved(_value: object) -> None:
            self.agency_name_field.clear()
            self.agency_contact_field.clear()
            self._adding_agency()
            self.say(said)
            self._saved()

        def store(s: Session) -> object:
            if agency.id:
                categories.update_agency(s, case_id, agency)
                return None
            return categories.add_agency(s, case_id, agency)

        self.calls.run(store, saved, receiver=self)

    def _adding_agency(self) -> None:
        self._agency_editing = 0
        self.agency_add_button.setText(translate("CasePage", "Add the a&gency"))

    def edit_agency(self) -> None:
        """Fill the agency fields with the chosen agency; saving them then corrects it."""
        if self.view is None or not self.writable:
            return
        agency = self._chosen(self.agency_table, self.agency_model)
        if agency is None:
            return
        self.agency_type_field.set_value(agency.agency_type)
        self.agency_name_field.setText(agency.name)
        self.agency_contact_field.setText(agency.contact)
        self._agency_editing = agency.id
        self.agency_add_button.setText(translate("CasePage", "Save the a&gency"))
        self.agency_type_field.setFocus()
        self.say(translate("CasePage", "Correct the agency, then save it."))

    def remove_agency(self) -> None:
        view = self.view
        if view is None or not self.writable:
            return
        agency = self._chosen(self.agency_table, self.agency_model)
        if agency is None:
            return
        case_id, agency_id = view.case.id, agency.id
        self._ask(
            translate("CasePage", "Remove the agency"),
            translate(
                "CasePage", "Remove {agency} from the agencies on this case? It cannot be undone."
            ).format(agency=agency.name or cl.agency_type(agency.agency_type)),
            translate("CasePage", "&Remove"),
            lambda s: categories.remove_agency(s, case_id, agency_id),
        )

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
            self._needs_typed = False
            self._saved()

        self.calls.run(lambda s: cases.update_case(s, case_id, details), saved, receiver=self)
