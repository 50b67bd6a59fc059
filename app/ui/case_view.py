"""The case screen: a header and the safe contact banner always in view, then the tabs.

Everything shown comes from one ``cases.open_case`` call (a :class:`CaseView`); every change
goes through a dialog or a button that makes one service call, then the case is read again
without recording another view (the change itself is in the audit trail). Managers also see the
History tab: this case's own entries from the audit trail (``cases.history``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import PermissionDenied, SafecaseError
from app.models.audit import Entry
from app.models.records import (
    CaseMember,
    CaseRole,
    CaseStatus,
    CaseView,
    Consent,
    DashResult,
    Note,
    NoteRevision,
    Share,
    ShareApproval,
)
from app.models.users import Role, User
from app.services import access, cases, notes, risk
from app.services.session import Session
from app.ui import labels
from app.ui.case_dialogs import (
    AllocateDialog,
    BreakGlassDialog,
    CloseCaseDialog,
    ConsentDialog,
    CorrectNoteDialog,
    LegalHoldDialog,
    NoteDialog,
    OpenWorkDialog,
    PersonDialog,
    SafeContactDialog,
)
from app.ui.contact_banner import ContactBanner
from app.ui.errors import error_sentence, show_error
from app.ui.forms import (
    FieldInvalid,
    FormDialog,
    OptionalDate,
    button,
    confirm,
    date_of,
    text_box,
)
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable
from app.ui.risk_tab import DashForm
from app.ui.share_dialog import ShareDialog
from app.ui.store_calls import StoreCalls
from app.ui.widgets import (
    fit_columns,
    heading,
    keep_left_to_right,
    message_label,
    set_message,
    tab_widget,
    table_view,
)

HISTORY_ENTRIES = 500  # the most of a case's audit entries the History tab shows


class CasePage(QWidget):
    """One open case."""

    case_changed = Signal(int)  # something was saved: lists showing the case refresh
    case_loaded = Signal(int)
    break_glass_opened = Signal(int)

    def __init__(
        self,
        calls: StoreCalls,
        session: Session,
        names: dict[int, str],
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(parent)
        self.calls = calls
        self.names = names
        self.team: list[User] = []
        self.lock_action = lock_action
        self.is_manager = Role.MANAGER in session.roles
        self.is_caseworker = Role.CASEWORKER in session.roles
        self.view: CaseView | None = None
        self.case_id: int | None = None
        self.dialog: FormDialog | None = None
        self.question: QMessageBox | None = None  # the last confirmation box opened here
        self._loading = False
        self.setAccessibleName(translate("CasePage", "Case"))
        self._build_actions()
        self._build_header()
        self._build_tabs()

        layout = QVBoxLayout(self)
        layout.addLayout(self.header)
        layout.addWidget(self.banner)
        layout.addLayout(self.action_row)
        layout.addWidget(self.status_message)
        layout.addWidget(self.tabs, 1)
        self.clear()

    # -- building -------------------------------------------------------------------------------

    def _action(self, text: str, slot: Callable[[], None], tip: str = "") -> QAction:
        action = QAction(text, self)
        if tip:
            action.setToolTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        t = translate
        self.new_note_action = self._action(t("CasePage", "New &note…"), self.new_note)
        self.correct_note_action = self._action(
            t("CasePage", "&Correct the note…"), self.correct_note
        )
        self.record_share_action = self._action(
            t("CasePage", "Record a &share…"), self.record_share
        )
        self.record_consent_action = self._action(
            t("CasePage", "Record c&onsent…"), self.record_consent
        )
        self.withdraw_consent_action = self._action(
            t("CasePage", "Record a &withdrawal…"), self.withdraw_consent
        )
        self.add_person_action = self._action(t("CasePage", "&Add a person…"), self.add_person)
        self.edit_person_action = self._action(t("CasePage", "&Edit the person…"), self.edit_person)
        self.safe_contact_action = self._action(
            t("CasePage", "Edit safe con&tact…"), self.edit_safe_contact
        )
        self.marac_action = self._action(
            t("CasePage", "Record a &MARAC referral…"), self.record_marac_referral
        )
        self.open_work_action = self._action(t("CasePage", "Open for &work…"), self.open_work)
        self.allocate_action = self._action(t("CasePage", "Al&locate…"), self.allocate)
        self.close_action = self._action(t("CasePage", "Close the &case…"), self.close_case)
        self.reopen_action = self._action(t("CasePage", "&Reopen the case…"), self.reopen_case)
        self.hold_action = self._action(t("CasePage", "Place a legal &hold…"), self.place_hold)
        self.lift_hold_action = self._action(t("CasePage", "L&ift the legal hold…"), self.lift_hold)
        self.refresh_action = self._action(t("CasePage", "Re&fresh"), self.reload)
        self.manager_actions = [
            self.allocate_action,
            self.close_action,
            self.reopen_action,
            self.hold_action,
            self.lift_hold_action,
        ]
        for action in self.manager_actions:
            action.setVisible(self.is_manager)

    def actions_for_menu(self) -> list[QAction | None]:
        """The Case menu (None is a separator)."""
        return [
            self.new_note_action,
            self.correct_note_action,
            self.record_share_action,
            self.record_consent_action,
            self.withdraw_consent_action,
            None,
            self.add_person_action,
            self.edit_person_action,
            self.safe_contact_action,
            self.marac_action,
            None,
            self.open_work_action,
            *self.manager_actions,
            None,
            self.refresh_action,
        ]

    def _build_header(self) -> None:
        self.reference_label = heading("")
        self.reference_label.setAccessibleName(translate("CasePage", "Case reference"))
        self.client_label = self._info(translate("CasePage", "Client"), "caseClient")
        self.state_label = self._info(translate("CasePage", "Case state"), "caseState")
        self.risk_label = self._info(translate("CasePage", "Risk level"), "riskLevel")
        self.marac_label = self._info(translate("CasePage", "MARAC"), "maracState")
        self.restriction_label = self._info(translate("CasePage", "Restriction"), "restricted")
        self.hold_label = self._info(translate("CasePage", "Legal hold"), "legalHold")
        top = QHBoxLayout()
        top.addWidget(self.reference_label)
        top.addWidget(self.client_label, 1)
        top.addWidget(self.risk_label)
        facts = QHBoxLayout()
        facts.setSpacing(24)
        facts.addWidget(self.state_label)
        facts.addWidget(self.marac_label, 1)
        facts.addWidget(self.hold_label)
        self.header = QVBoxLayout()
        self.header.addLayout(top)
        self.header.addLayout(facts)
        self.header.addWidget(self.restriction_label)
        self.banner = ContactBanner()

        # The everyday actions as buttons; the rest in one menu (and all in the window's Case
        # menu), so the row fits a small or 200% screen.
        self.action_row = QHBoxLayout()
        self.action_buttons: dict[QAction, QPushButton] = {}
        for action, text in (
            (self.new_note_action, translate("CasePage", "New &note…")),
            (self.record_share_action, translate("CasePage", "Record a s&hare…")),
            (self.record_consent_action, translate("CasePage", "Recor&d consent…")),
        ):
            self.action_row.addWidget(self._button_for(action, text))
        self.more_menu = QMenu(translate("CasePage", "More actions"), self)
        for action in (
            self.add_person_action,
            self.safe_contact_action,
            self.marac_action,
            self.open_work_action,
        ):
            self.more_menu.addAction(action)
        self.more_menu.addSeparator()
        for action in self.manager_actions:
            self.more_menu.addAction(action)
        self.more_menu.addSeparator()
        self.more_menu.addAction(self.refresh_action)
        self.more_button = QToolButton()
        self.more_button.setText(translate("CasePage", "&More actions"))
        self.more_button.setAccessibleName(translate("CasePage", "More actions"))
        self.more_button.setMenu(self.more_menu)
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.action_row.addWidget(self.more_button)
        self.action_row.addStretch(1)
        self.status_message = message_label(translate("CasePage", "Status"), "status")

    def _info(self, name: str, object_name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(object_name)
        label.setAccessibleName(name)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        return keep_left_to_right(label)

    def _button_for(self, action: QAction, text: str | None = None) -> QPushButton:
        """A push button that follows an action (enabled, visible). Its own ``text`` carries a
        mnemonic that is unique among what is on screen; without one it has none (Alt+letter
        keys must not clash with the menus, the tool bar or the buttons above the tabs)."""
        label = text if text is not None else action.text().replace("&", "")
        widget = button(label)
        widget.setAccessibleName(action.text().replace("&", "").rstrip("…"))
        widget.clicked.connect(action.trigger)

        def follow() -> None:
            widget.setEnabled(action.isEnabled())
            widget.setVisible(action.isVisible())

        action.changed.connect(follow)
        follow()
        self.action_buttons[action] = widget
        return widget

    def _tab_page(
        self,
        *widgets: QWidget,
        buttons: tuple[QAction | tuple[QAction, str], ...] = (),
        stretch_end: bool = False,
    ) -> QScrollArea:
        """A tab's page, in a scroll area so the window can shrink to a small screen."""
        page = QWidget()
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidget(page)
        layout = QVBoxLayout(page)
        if buttons:
            row = QHBoxLayout()
            for entry in buttons:
                action, text = entry if isinstance(entry, tuple) else (entry, None)
                row.addWidget(self._button_for(action, text))
            row.addStretch(1)
            layout.addLayout(row)
        for widget in widgets:
            layout.addWidget(widget, 1 if isinstance(widget, QTableView) else 0)
        if stretch_end:
            layout.addStretch(1)
        return area

    def _add_tab(self, page: QWidget, title: str) -> None:
        if not page.accessibleName():
            page.setAccessibleName(title.replace("&", ""))
        self.tabs.addTab(page, title)

    def _build_tabs(self) -> None:
        t = translate
        self.tabs = tab_widget(t("CasePage", "Case sections"))

        self.people_model: RecordTable[CaseMember] = RecordTable(
            [
                Column(t("CasePage", "Name"), lambda m: m.person.name),
                Column(t("CasePage", "Role"), lambda m: labels.case_role(m.role)),
                Column(
                    t("CasePage", "Date of birth"),
                    lambda m: labels.date(m.person.details.date_of_birth),
                ),
                Column(
                    t("CasePage", "Restricted"),
                    lambda m: t("CasePage", "Restricted") if m.person.restricted else "",
                ),
            ],
            self,
        )
        self.people_table = table_view(t("CasePage", "People on the case"), self.people_model)
        self.people_tab = self._tab_page(
            self.people_table,
            buttons=(
                (self.add_person_action, t("CasePage", "Add a &person…")),
                (self.edit_person_action, t("CasePage", "&Edit the person…")),
            ),
        )
        self._add_tab(self.people_tab, t("CasePage", "People"))

        self.contact_details = QLabel()
        self.contact_details.setAccessibleName(t("CasePage", "Client's contact details"))
        self.contact_details.setWordWrap(True)
        self.contact_details.setTextFormat(Qt.TextFormat.PlainText)
        self.contact_details.setAlignment(Qt.AlignmentFlag.AlignTop)
        keep_left_to_right(self.contact_details)  # the client's name may read right to left
        self.contact_tab = self._tab_page(
            self.contact_details,
            buttons=((self.safe_contact_action, t("CasePage", "Edit safe con&tact…")),),
            stretch_end=True,
        )
        self._add_tab(self.contact_tab, t("CasePage", "Contact details"))

        self.consent_model: RecordTable[Consent] = RecordTable(
            [
                Column(t("CasePage", "Person"), lambda c: self._person_name(c.person_id)),
                Column(t("CasePage", "For"), lambda c: labels.consent_purpose(c.purpose)),
                Column(t("CasePage", "With"), lambda c: labels.consent_target(c.purpose, c.target)),
                Column(t("CasePage", "Decision"), lambda c: labels.consent_state(c.state)),
                Column(t("CasePage", "Date"), lambda c: labels.date(c.decided_on)),
                Column(t("CasePage", "How"), lambda c: labels.consent_how(c.how)),
                Column(t("CasePage", "Given by"), lambda c: labels.given_by(c.given_by)),
                Column(t("CasePage", "Review"), lambda c: labels.date(c.review_date)),
                Column(
                    t("CasePage", "Recorded by"), lambda c: labels.user(self.names, c.recorded_by)
                ),
            ],
            self,
            flagged=lambda c: c.review_date is not None and c.review_date < self.calls.today(),
        )
        self.consent_table = table_view(t("CasePage", "Consent in force"), self.consent_model)
        self.consent_tab = self._tab_page(
            self.consent_table,
            buttons=(
                self.record_consent_action,
                (self.withdraw_consent_action, t("CasePage", "Record a wi&thdrawal…")),
            ),
        )
        self._add_tab(self.consent_tab, t("CasePage", "Consent"))

        self.share_model: RecordTable[Share] = RecordTable(
            [
                Column(t("CasePage", "When"), lambda s: labels.moment(s.record.shared_at)),
                Column(t("CasePage", "Direction"), lambda s: labels.direction(s.record.direction)),
                Column(t("CasePage", "Organisation"), lambda s: s.record.organisation),
                Column(
                    t("CasePage", "Category"),
                    lambda s: labels.recipient(s.record.recipient_category),
                ),
                Column(
                    t("CasePage", "About"),
                    lambda s: ", ".join(self._person_name(p) for p in s.record.person_ids),
                ),
                Column(
                    t("CasePage", "Data"),
                    lambda s: ", ".join(labels.data_category(c) for c in s.record.data_categories),
                ),
                Column(
                    t("CasePage", "Lawful basis"),
                    lambda s: labels.lawful_basis(s.record.lawful_basis),
                ),
                Column(t("CasePage", "Decision"), lambda s: labels.approval(s.approval)),
                Column(t("CasePage", "Person told"), lambda s: labels.yes_no(s.record.person_told)),
            ],
            self,
        )
        self.share_table = table_view(t("CasePage", "Sharing log"), self.share_model)
        self.share_tab = self._tab_page(self.share_table, buttons=(self.record_share_action,))
        self._add_tab(self.share_tab, t("CasePage", "Sharing log"))

        self.note_model: RecordTable[Note] = RecordTable(
            [
                Column(t("CasePage", "When"), lambda n: labels.moment(n.occurred_at)),
                Column(t("CasePage", "Kind"), lambda n: labels.note_kind(n.kind)),
                Column(t("CasePage", "By"), lambda n: labels.user(self.names, n.author_id)),
                Column(
                    t("CasePage", "Changed"),
                    lambda n: ", ".join(
                        x
                        for x in (
                            t("CasePage", "corrected") if n.corrected else "",
                            t("CasePage", "disputed") if n.disputed else "",
                        )
                        if x
                    ),
                ),
                Column(
                    t("CasePage", "Note"),
                    lambda n: n.body.splitlines()[0] if n.body else "",
                    tooltip=lambda n: n.body,
                ),
            ],
            self,
        )
        self.note_table = table_view(
            t("CasePage", "Notes and contacts, newest first"), self.note_model
        )
        self.note_text = QPlainTextEdit()
        self.note_text.setReadOnly(True)
        self.note_text.setAccessibleName(t("CasePage", "The chosen note and its history"))
        self.note_text.setTabChangesFocus(True)
        self.note_text.setMaximumHeight(self.note_text.fontMetrics().lineSpacing() * 10)
        self.note_history: list[NoteRevision] = []
        self.notes_tab = self._tab_page(
            self.note_table,
            self.note_text,
            buttons=(
                self.new_note_action,
                (self.correct_note_action, t("CasePage", "Correct the no&te…")),
            ),
        )
        self._add_tab(self.notes_tab, t("CasePage", "Notes and contacts"))
        self.note_table.selectionModel().currentRowChanged.connect(self._note_chosen)

        self.dash_form = DashForm(self.calls.today)
        self.dash_form.save_requested.connect(self.save_dash)
        self.dash_form.marac_requested.connect(self.record_marac_referral)
        self._add_tab(self.dash_form, t("CasePage", "Risk"))

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

        self.history_model: RecordTable[Entry] = RecordTable(
            [
                Column(t("CasePage", "When"), lambda e: labels.moment(e.at)),
                Column(t("CasePage", "Who"), lambda e: labels.user(self.names, e.user_id)),
                Column(t("CasePage", "What"), lambda e: e.action.replace("_", " ")),
                Column(t("CasePage", "Detail"), lambda e: e.detail),
            ],
            self,
        )
        self.history_table = table_view(t("CasePage", "Case history"), self.history_model)
        self.history_note = QLabel(
            t(
                "CasePage",
                "Every view and change of this case in the audit trail, newest first (at most "
                "the latest {n}).",
            ).format(n=HISTORY_ENTRIES)
        )
        self.history_note.setWordWrap(True)
        self.history_tab = self._tab_page(self.history_note, self.history_table)
        if self.is_manager:
            self._add_tab(self.history_tab, t("CasePage", "History"))
        else:
            self.history_tab.setParent(self)
            self.history_tab.hide()

    # -- loading --------------------------------------------------------------------------------

    def load(self, case_id: int, *, record_view: bool = True) -> None:
        """Read the case (and, for managers, its history) in the background.

        ``record_view`` False only for reading again the case already on screen after the
        user's own change: the view was recorded when the case was opened.
        """
        if case_id != self.case_id:
            self.clear()
            record_view = True  # a case not yet on screen is always a new view
        self.case_id = case_id
        self._loading = True

        def read(session: Session) -> CaseView:
            return cases.open_case(session, case_id, record_view=record_view)

        self.calls.run(
            read,
            self._loaded,
            lambda error: self._load_failed(case_id, error),
            receiver=self,
            label=translate("CasePage", "Opening the case…"),
        )
        if self.is_manager:
            self.calls.run(
                lambda s: cases.history(s, case_id, limit=HISTORY_ENTRIES),
                self._history_arrived,
                lambda _error: self.history_model.clear(),
                receiver=self,
            )

    def reload(self) -> None:
        """Read the case again (Refresh): a new look at the record, so a new view."""
        if self.case_id is not None:
            self.load(self.case_id)

    def refresh_after_change(self) -> None:
        """Read the case again after the user's own change, recording no second view."""
        if self.case_id is not None:
            self.load(self.case_id, record_view=self.view is None)

    @property
    def loading(self) -> bool:
        return self._loading

    def _load_failed(self, case_id: int, error: BaseException) -> None:
        self._loading = False
        if (
            isinstance(error, PermissionDenied)
            and str(error) == access.NOT_ALLOCATED
            and self.is_caseworker
        ):
            self.clear()
            self.break_glass(case_id)
            return
        show_error(self.window(), error)

    def _history_arrived(self, entries: list[Entry]) -> None:
        self.history_model.set_records(entries)  # newest first, as the service gives them
        fit_columns(self.history_table)

    def _loaded(self, view: CaseView) -> None:
        self._loading = False
        if view.case.id != self.case_id:
            return
        self.view = view
        case = view.case
        self.reference_label.setText(case.reference)
        self.reference_label.setAccessibleName(
            translate("CasePage", "Case reference {reference}").format(reference=case.reference)
        )
        worker = view.allocated_worker or translate("CasePage", "unallocated")
        self.client_label.setText(
            translate("CasePage", "Client: {name} · Worker: {worker}").format(
                name=view.contact.client_name or translate("CasePage", "none recorded"),
                worker=worker,
            )
        )
        state = translate("CasePage", "Status: {status}").format(status=labels.status(case.status))
        if case.status is CaseStatus.CLOSED and case.closed_date:
            state += " " + translate("CasePage", "on {date} ({reason})").format(
                date=labels.date(case.closed_date), reason=case.closed_reason
            )
        if view.break_glass:
            state += " · " + translate("CasePage", "opened by break-glass")
        self.state_label.setText(state)
        self.risk_label.setText(
            translate("CasePage", "Risk: {level}").format(level=labels.risk(case.risk_level))
        )
        self._set_state(self.risk_label, case.risk_level.value if case.risk_level else "none")
        self.marac_label.setText(self._marac_text(view))
        self._set_state(self.marac_label, "due" if self._marac_due(view) else "none")
        restricted = [m.person.name for m in view.members if m.person.restricted]
        self.restriction_label.setText(
            translate(
                "CasePage",
                "Restricted: {names}. Their records are read-only until a manager lifts the "
                "restriction.",
            ).format(names=", ".join(sorted(set(restricted))))
            if restricted
            else ""
        )
        self.restriction_label.setVisible(bool(restricted))
        if case.legal_hold_reason:
            self.hold_label.setText(
                translate("CasePage", "Legal hold: {reason} (review {date})").format(
                    reason=case.legal_hold_reason, date=labels.date(case.legal_hold_review)
                )
            )
        self.hold_label.setVisible(bool(case.legal_hold_reason))
        self.banner.set_rules(view.contact)

        self.people_model.set_records(view.members)
        self.consent_model.set_records(view.consents)
        self.share_model.set_records(view.shares)
        self.note_model.set_records(view.notes)
        for table in (self.people_table, self.consent_table, self.share_table, self.note_table):
            fit_columns(table)
        self._show_note(None)
        self.contact_details.setText(self._contact_text(view))
        writable = self.writable
        self.dash_form.set_case(view.latest_dash, case.marac_referral_date, writable)
        if not self._plan_dirty:
            self.plan_field.setPlainText(case.details.safety_plan)
            self.review_field.set_value(case.details.next_review)
            self._plan_dirty = False
        self.plan_field.setReadOnly(not writable)
        self.plan_save_button.setEnabled(writable)
        self._update_actions()
        self.case_loaded.emit(case.id)

    @staticmethod
    def _set_state(label: QLabel, state: str) -> None:
        label.setProperty("state", state)
        label.style().unpolish(label)
        label.style().polish(label)

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

    def _contact_text(self, view: CaseView) -> str:
        clients = [m.person for m in view.members if m.role is CaseRole.CLIENT]
        if not clients:
            return translate("CasePage", "There is no client on this case.")
        lines: list[str] = []
        for person in clients:
            d = person.details
            lines.append(person.name)
            if d.address_confidential:
                lines.append(
                    translate(
                        "CasePage", "CONFIDENTIAL ADDRESS (refuge): never share or write to it."
                    )
                )
            if d.address or d.postcode:
                lines.append(
                    translate("CasePage", "Address: {address} {postcode}").format(
                        address=d.address.replace("\n", ", "), postcode=d.postcode
                    )
                )
            if d.phones:
                lines.append(
                    translate("CasePage", "Phone: {phones}").format(phones=", ".join(d.phones))
                )
            if d.email:
                lines.append(translate("CasePage", "E-mail: {email}").format(email=d.email))
            if d.language:
                interpreter = (
                    translate("CasePage", " (needs an interpreter)") if d.interpreter_needed else ""
                )
                lines.append(
                    translate("CasePage", "Language: {language}{interpreter}").format(
                        language=d.language, interpreter=interpreter
                    )
                )
            lines.append("")
        lines.append(
            translate(
                "CasePage",
                "Always check the safe contact banner above before using any of these.",
            )
        )
        return "\n".join(lines)

    def _person_name(self, person_id: int) -> str:
        if self.view is not None:
            for member in self.view.members:
                if member.person.id == person_id:
                    return member.person.name
        return translate("CasePage", "person {id}").format(id=person_id)

    @property
    def closed(self) -> bool:
        return self.view is not None and self.view.case.status is CaseStatus.CLOSED

    @property
    def restricted(self) -> bool:
        return self.view is not None and self.view.contact.restricted

    @property
    def writable(self) -> bool:
        return self.view is not None and not self.closed and not self.restricted

    def _update_actions(self) -> None:
        view = self.view
        loaded = view is not None
        open_case = loaded and not self.closed
        writable = self.writable
        for action in (
            self.new_note_action,
            self.record_share_action,
            self.record_consent_action,
            self.withdraw_consent_action,
            self.safe_contact_action,
            self.marac_action,
        ):
            action.setEnabled(writable)
        self.correct_note_action.setEnabled(writable and self.selected_note() is not None)
        self.withdraw_consent_action.setEnabled(writable and bool(view and view.consents))
        self.add_person_action.setEnabled(open_case)
        self.edit_person_action.setEnabled(open_case)
        self.open_work_action.setVisible(bool(view and view.case.status is CaseStatus.REFERRAL))
        self.open_work_action.setEnabled(open_case)
        self.refresh_action.setEnabled(loaded)
        if self.is_manager:
            self.allocate_action.setEnabled(loaded)
            self.close_action.setVisible(open_case)
            self.close_action.setEnabled(open_case)
            self.reopen_action.setVisible(loaded and self.closed)
            self.reopen_action.setEnabled(loaded and self.closed)
            held = bool(view and view.case.legal_hold_reason)
            self.hold_action.setVisible(loaded and not held)
            self.hold_action.setEnabled(loaded and not held)
            self.lift_hold_action.setVisible(held)
            self.lift_hold_action.setEnabled(held)

    def clear(self) -> None:
        """Forget the case: nothing from it stays in any widget."""
        self.view = None
        self.case_id = None
        self._loading = False
        for label in (
            self.reference_label,
            self.client_label,
            self.state_label,
            self.risk_label,
            self.marac_label,
            self.restriction_label,
            self.hold_label,
            self.contact_details,
        ):
            label.clear()
        self.restriction_label.setVisible(False)
        self.hold_label.setVisible(False)
        self.banner.clear()
        for model in (
            self.people_model,
            self.consent_model,
            self.share_model,
            self.note_model,
            self.history_model,
        ):
            model.clear()
        self.note_text.clear()
        self.note_history = []
        self.dash_form.reset()
        self.dash_form.set_case(None, None, False)
        self.plan_field.clear()
        self.review_field.set_value(None)
        self._plan_dirty = False
        set_message(self.status_message, None)
        self._update_actions()

    # -- unsaved work ---------------------------------------------------------------------------

    def _plan_edited(self, *_args: object) -> None:
        if self.view is not None:
            self._plan_dirty = True

    def unsaved_changes(self) -> list[str]:
        """What would be lost by leaving the case now."""
        found = []
        if self._plan_dirty:
            found.append(translate("CasePage", "the safety plan"))
        if self.dash_form.dirty:
            found.append(translate("CasePage", "the DASH checklist"))
        return found

    def discard_changes(self) -> None:
        self._plan_dirty = False
        self.dash_form.reset()

    # -- dialogs --------------------------------------------------------------------------------

    def _open(self, dialog: FormDialog, done: Callable[[object], None] | None = None) -> None:
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(done or self._saved)
        dialog.open()

    def _saved(self, _value: object = None) -> None:
        if self.case_id is not None:
            self.case_changed.emit(self.case_id)
        self.refresh_after_change()

    def say(self, text: str) -> None:
        set_message(self.status_message, text)

    def new_note(self) -> None:
        if self.view is None or not self.new_note_action.isEnabled():
            return
        self.tabs.setCurrentWidget(self.notes_tab)
        self._open(NoteDialog(self.calls, self.view.case.id, self, lock_action=self.lock_action))

    def selected_note(self) -> Note | None:
        index = self.note_table.currentIndex()
        return self.note_model.record(index.row()) if index.isValid() else None

    def select_note(self, row: int) -> None:
        index = self.note_model.index(row, 0)
        self.note_table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )

    def correct_note(self) -> None:
        note = self.selected_note()
        if note is None or not self.writable:
            return
        self._open(CorrectNoteDialog(self.calls, note, self, lock_action=self.lock_action))

    def _note_chosen(self, *_args: object) -> None:
        note = self.selected_note()
        self.correct_note_action.setEnabled(self.writable and note is not None)
        self._show_note(note)
        if note is None:
            return
        note_id = note.id
        self.calls.run(
            lambda s: notes.history(s, note_id),
            lambda revisions: self._history_of_note(note_id, revisions),
            receiver=self,
        )

    def _show_note(self, note: Note | None, revisions: list[NoteRevision] | None = None) -> None:
        if note is None:
            self.note_text.clear()
            self.note_history = []
            return
        lines = [
            translate("CasePage", "{kind}, {when}, by {who}").format(
                kind=labels.note_kind(note.kind),
                when=labels.moment(note.occurred_at),
                who=labels.user(self.names, note.author_id),
            ),
            "",
            note.body,
        ]
        if note.disputed and note.dispute_reason:
            lines += [
                "",
                translate("CasePage", "Disputed: {reason}").format(reason=note.dispute_reason),
            ]
        if revisions and len(revisions) > 1:
            lines += ["", translate("CasePage", "History")]
            for i, rev in enumerate(revisions):
                if i == 0:
                    lines.append(
                        translate("CasePage", "Original, {when}, by {who}:").format(
                            when=labels.moment(rev.changed_at),
                            who=labels.user(self.names, rev.changed_by),
                        )
                    )
                else:
                    lines.append(
                        translate("CasePage", "Corrected {when} by {who}. Reason: {reason}").format(
                            when=labels.moment(rev.changed_at),
                            who=labels.user(self.names, rev.changed_by),
                            reason=rev.reason,
                        )
                    )
                lines.append("    " + rev.body.replace("\n", "\n    "))
        self.note_text.setPlainText("\n".join(lines))

    def _history_of_note(self, note_id: int, revisions: list[NoteRevision]) -> None:
        note = self.selected_note()
        if note is None or note.id != note_id:
            return
        self.note_history = revisions
        self._show_note(note, revisions)

    def record_share(self) -> None:
        if self.view is None or not self.writable:
            return
        self.tabs.setCurrentWidget(self.share_tab)
        managers = [u for u in self.team if Role.MANAGER in u.roles]
        dialog = ShareDialog(
            self.calls,
            self.view,
            managers,
            is_manager=self.is_manager,
            parent=self,
            lock_action=self.lock_action,
        )
        self._open(dialog, self._share_saved)

    def _share_saved(self, share: object) -> None:
        if isinstance(share, Share):
            if share.approval is ShareApproval.AWAITING_REVIEW:
                self.say(
                    translate(
                        "CasePage",
                        "Share recorded without consent. A manager must review it within 48 hours.",
                    )
                )
            else:
                self.say(translate("CasePage", "Share recorded in the sharing log."))
        self._saved()

    def record_consent(self) -> None:
        if self.view is None or not self.writable:
            return
        self.tabs.setCurrentWidget(self.consent_tab)
        self._open(
            ConsentDialog(
                self.calls, self.view.case.id, self.view.members, self, lock_action=self.lock_action
            )
        )

    def withdraw_consent(self) -> None:
        if self.view is None or not self.writable:
            return
        index = self.consent_table.currentIndex()
        chosen = self.consent_model.record(index.row()) if index.isValid() else None
        if chosen is None and self.view.consents:
            chosen = self.view.consents[0]
        self.tabs.setCurrentWidget(self.consent_tab)
        self._open(
            ConsentDialog(
                self.calls,
                self.view.case.id,
                self.view.members,
                self,
                lock_action=self.lock_action,
                preset=chosen,
                withdraw=True,
            )
        )

    def add_person(self, role: CaseRole | None = None) -> None:
        if self.view is None or self.closed:
            return
        self.tabs.setCurrentWidget(self.people_tab)
        chosen = role if isinstance(role, CaseRole) else None  # a triggered signal passes False
        self._open(
            PersonDialog(
                self.calls, self.view.case.id, None, self, lock_action=self.lock_action, role=chosen
            )
        )

    def edit_person(self) -> None:
        if self.view is None or self.closed:
            return
        index = self.people_table.currentIndex()
        member = self.people_model.record(index.row()) if index.isValid() else None
        if member is None:
            self.say(translate("CasePage", "Choose a person in the list first."))
            return
        self._open(
            PersonDialog(
                self.calls, self.view.case.id, member.person, self, lock_action=self.lock_action
            )
        )

    def edit_safe_contact(self) -> None:
        view = self.view
        if view is None or not self.writable:
            return
        if view.contact.client_id is None:
            self.say(translate("CasePage", "Add the client to the case first."))
            return
        self.tabs.setCurrentWidget(self.contact_tab)
        self._open(
            SafeContactDialog(
                self.calls,
                view.case.id,
                view.contact.client_id,
                view.contact.rules,
                self,
                lock_action=self.lock_action,
            )
        )

    def open_work(self) -> None:
        if self.view is not None:
            self._open(
                OpenWorkDialog(self.calls, self.view.case, self, lock_action=self.lock_action)
            )

    def allocate(self) -> None:
        if self.view is not None and self.is_manager:
            self._open(
                AllocateDialog(
                    self.calls, self.view.case, self.team, self, lock_action=self.lock_action
                )
            )

    def close_case(self) -> None:
        if self.view is None or not self.is_manager or self.closed:
            return
        if self.unsaved_changes():
            self.say(translate("CasePage", "Save or discard your changes before closing the case."))
            return
        self._open(CloseCaseDialog(self.calls, self.view.case, self, lock_action=self.lock_action))

    def place_hold(self) -> None:
        if self.view is not None and self.is_manager:
            self._open(
                LegalHoldDialog(self.calls, self.view.case, self, lock_action=self.lock_action)
            )

    def _ask(self, title: str, text: str, yes: str, call: Callable[[Session], object]) -> None:
        def run() -> None:
            self.calls.run(call, lambda _v: self._saved(), receiver=self)

        self.question = confirm(self, title, text, yes, run, lock_action=self.lock_action)

    def reopen_case(self) -> None:
        view = self.view
        if view is None or not self.is_manager or not self.closed:
            return
        case_id = view.case.id
        self._ask(
            translate("CasePage", "Reopen the case"),
            translate(
                "CasePage",
                "Reopen this case? Its closing date and reason are cleared, and its retention "
                "period starts again when it next closes.",
            ),
            translate("CasePage", "&Reopen"),
            lambda s: cases.reopen_case(s, case_id),
        )

    def lift_hold(self) -> None:
        view = self.view
        if view is None or not self.is_manager or not view.case.legal_hold_reason:
            return
        case_id = view.case.id
        self._ask(
            translate("CasePage", "Lift the legal hold"),
            translate(
                "CasePage",
                "Lift the legal hold? The case can then be destroyed when its retention period "
                "ends.",
            ),
            translate("CasePage", "&Lift the hold"),
            lambda s: cases.lift_legal_hold(s, case_id),
        )

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

    def break_glass(self, case_id: int) -> None:
        dialog = BreakGlassDialog(self.calls, case_id, self, lock_action=self.lock_action)
        self._open(dialog, lambda _v: self._glass_broken(case_id))

    def _glass_broken(self, case_id: int) -> None:
        self.break_glass_opened.emit(case_id)
        self.load(case_id)

    # -- risk and the safety plan ---------------------------------------------------------------

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
            self.say(translate("CasePage", "Safety plan saved."))
            self._saved()

        self.calls.run(lambda s: cases.update_case(s, case_id, details), saved, receiver=self)
