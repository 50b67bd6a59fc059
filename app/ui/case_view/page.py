"""The case screen: a header and the safe contact banner always in view, then the tabs.

Everything shown comes from one ``cases.open_case`` call (a :class:`CaseView`); every change
goes through a dialog or a button that makes one service call, then the case is read again
without recording another view (the change itself is in the audit trail). Managers also see the
History tab: this case's own entries from the audit trail (``cases.history``).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QMenu,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.errors import InvalidInput, PermissionDenied
from app.models.drafts import Draft
from app.models.records import (
    CaseStatus,
    CaseView,
)
from app.models.users import Role, User
from app.services import access, cases, conflicts, letters
from app.services.conflicts import Conflict
from app.services.drafts import NewDraft
from app.services.session import Session
from app.ui import conflict_labels, labels
from app.ui.case_dialogs import (
    AllocateDialog,
    BreakGlassDialog,
    CloseCaseDialog,
    LegalHoldDialog,
    OpenWorkDialog,
)
from app.ui.case_view.base import HISTORY_ENTRIES
from app.ui.case_view.consent import ConsentTab
from app.ui.case_view.contact import ContactTab
from app.ui.case_view.history import HistoryTab
from app.ui.case_view.notes import NOTE_PAGE, NotesTab
from app.ui.case_view.people import PeopleTab
from app.ui.case_view.plan import PLAN_DRAFT, PlanTab
from app.ui.case_view.profile import ProfileTabs
from app.ui.case_view.risk import DASH_DRAFT, RiskTab
from app.ui.case_view.sharing import SharingTab
from app.ui.conflicts_page import ResolveDialog
from app.ui.contact_banner import ContactBanner
from app.ui.errors import show_error
from app.ui.forms import FormDialog
from app.ui.i18n import translate
from app.ui.letters_dialog import LettersDialog
from app.ui.record_table import select_record
from app.ui.restriction_dialogs import LiftRestrictionDialog, RestrictDialog
from app.ui.store_calls import StoreCalls
from app.ui.widgets import fit_columns, heading, message_label, set_message, tab_widget


class CasePage(
    PeopleTab,
    ContactTab,
    ConsentTab,
    SharingTab,
    NotesTab,
    RiskTab,
    PlanTab,
    ProfileTabs,
    HistoryTab,
):
    """One open case."""

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
        self.is_manager = cases.may_manage(session)
        self.may_override_contact = letters.may_override(session)
        self.is_caseworker = access.may_break_glass(session)
        self.may_read_history = cases.may_read_history(session)
        self.view: CaseView | None = None
        self.conflicts: list[Conflict] = []  # the case's open conflicts, oldest field first
        self.case_id: int | None = None
        self.dialog: FormDialog | None = None
        self.letters_dialog: LettersDialog | None = None
        self.question: QMessageBox | None = None  # the last confirmation box opened here
        self._loading = False
        self.screen_drafts = {}
        self.setAccessibleName(translate("CasePage", "Case"))
        self._build_actions()
        self._build_header()
        self._build_tabs()

        layout = QVBoxLayout(self)
        layout.addLayout(self.header)
        layout.addWidget(self.banner)
        layout.addWidget(self.conflict_bar)
        layout.addLayout(self.action_row)
        layout.addWidget(self.status_message)
        layout.addWidget(self.tabs, 1)
        self.clear()

    # -- building -------------------------------------------------------------------------------

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
        self.letters_action = self._action(
            t("CasePage", "Letters and te&xts…"), self.letters_and_texts
        )
        self.marac_action = self._action(
            t("CasePage", "Record a &MARAC referral…"), self.record_marac_referral
        )
        self.marac_form_action = self._action(
            t("CasePage", "MARAC r&eferral form…"), self.open_marac_form
        )
        self.open_work_action = self._action(t("CasePage", "Open for &work…"), self.open_work)
        self.allocate_action = self._action(t("CasePage", "Al&locate…"), self.allocate)
        self.close_action = self._action(t("CasePage", "Close the &case…"), self.close_case)
        self.reopen_action = self._action(t("CasePage", "&Reopen the case…"), self.reopen_case)
        self.hold_action = self._action(t("CasePage", "Place a legal &hold…"), self.place_hold)
        self.lift_hold_action = self._action(t("CasePage", "L&ift the legal hold…"), self.lift_hold)
        self.refresh_action = self._action(t("CasePage", "Re&fresh"), self.reload)
        self.dispute_note_action = self._action(
            t("CasePage", "Mark the note dis&puted…"), self.dispute_note
        )
        self.refused_request_action = self._action(
            t("CasePage", "Record a refused re&quest…"), self.record_refused_request
        )
        self.restrict_action = self._action(
            t("CasePage", "Restrict &processing…"), self.restrict_client
        )
        self.lift_restriction_action = self._action(
            t("CasePage", "&Unrestrict: lift the restriction…"), self.lift_client_restriction
        )
        self.manager_actions = [
            self.allocate_action,
            self.close_action,
            self.reopen_action,
            self.hold_action,
            self.lift_hold_action,
            self.restrict_action,
            self.lift_restriction_action,
        ]
        for action in self.manager_actions:
            action.setVisible(self.is_manager)

    def actions_for_menu(self) -> list[QAction | None]:
        """The Case menu (None is a separator)."""
        return [
            self.new_note_action,
            self.correct_note_action,
            self.dispute_note_action,
            self.refused_request_action,
            self.record_share_action,
            self.record_consent_action,
            self.withdraw_consent_action,
            None,
            self.add_person_action,
            self.link_person_action,
            self.edit_person_action,
            self.remove_person_action,
            self.merge_action,
            self.undo_merge_action,
            self.confirm_merge_action,
            self.safe_contact_action,
            self.marac_form_action,
            self.letters_action,
            self.marac_action,
            self.marac_meeting_action,
            self.add_marac_action_action,
            self.marac_done_action,
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
        # The fields in conflict on this case, with the way to resolve them.
        self.conflict_bar = QFrame()
        self.conflict_bar.setObjectName("conflictBar")
        self.conflict_bar.setAccessibleName(translate("CasePage", "Conflicts on this case"))
        self.conflict_label = self._info(translate("CasePage", "Fields in conflict"), "conflicts")
        self.conflict_label.setWordWrap(True)
        self.resolve_button = QPushButton(translate("CasePage", "Res&olve conflict…"))
        self.resolve_button.setAutoDefault(False)
        self.resolve_button.clicked.connect(self.resolve_conflict)
        bar = QHBoxLayout(self.conflict_bar)
        bar.setContentsMargins(8, 2, 8, 2)
        bar.addWidget(self.conflict_label, 1)
        bar.addWidget(self.resolve_button)
        self.conflict_bar.setVisible(False)

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
            self.refused_request_action,
            self.add_person_action,
            self.safe_contact_action,
            self.marac_form_action,
            self.letters_action,
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

    def _build_tabs(self) -> None:
        self.tabs = tab_widget(translate("CasePage", "Case sections"))
        self._build_people_tab()
        self._build_contact_tab()
        self._build_consent_tab()
        self._build_sharing_tab()
        self._build_notes_tab()
        self._build_risk_tab()
        self._build_plan_tab()
        self._build_profile_tabs()
        self._build_history_tab()

    # -- loading --------------------------------------------------------------------------------

    def load(self, case_id: int, *, record_view: bool = True, after_sync: bool = False) -> None:
        """Read the case (and, for managers, its history) in the background.

        ``record_view`` False only for reading again the case already on screen after the
        user's own change or a sync: the view was recorded when the case was opened.
        ``after_sync``: a case this laptop no longer holds or may no longer open leaves the
        screen (``case_gone``) instead of asking for break-glass.
        """
        if case_id != self.case_id:
            self.clear()
            record_view = True  # a case not yet on screen is always a new view
        self.case_id = case_id
        self._loading = True

        def read(session: Session) -> CaseView:
            return cases.open_case(session, case_id, note_limit=NOTE_PAGE, record_view=record_view)

        self.calls.run(
            read,
            self._loaded,
            lambda error: self._load_failed(case_id, error, after_sync),
            receiver=self,
            label=translate("CasePage", "Opening the case…"),
        )
        self.calls.run(
            lambda s: conflicts.on_case(s, case_id),
            lambda found: self._conflicts_arrived(case_id, found),
            lambda _error: self._conflicts_arrived(case_id, []),
            receiver=self,
        )
        if self.may_read_history:
            self.calls.run(
                lambda s: cases.history(s, case_id, limit=HISTORY_ENTRIES),
                self._history_arrived,
                lambda _error: self.history_model.clear(),
                receiver=self,
            )

    def _conflicts_arrived(self, case_id: int, found: list[Conflict]) -> None:
        if case_id != self.case_id:
            return
        self.conflicts = [c for c in found if c.open]
        self.banner.set_conflicts(self.conflicts)
        n = len(self.conflicts)
        self.conflict_label.setText(
            translate(
                "CasePage",
                "Conflict on {fields}: two laptops recorded different values. Choose the one "
                "to keep.",
            ).format(fields=conflict_labels.fields_text(self.conflicts))
            if n
            else ""
        )
        self.resolve_button.setText(
            translate("CasePage", "Res&olve conflict…")
            if n < 2
            else translate("CasePage", "Res&olve conflict: {field} first…").format(
                field=conflict_labels.field_name(self.conflicts[0].field).lower()
            )
        )
        self.conflict_bar.setVisible(bool(n))

    def resolve_conflict(self) -> None:
        """Choose the value to keep for the first field in conflict."""
        if not self.conflicts or self.view is None:
            return
        self._open(
            ResolveDialog(
                self.calls,
                self.conflicts[0],
                self,
                reference=self.view.case.reference,
                lock_action=self.lock_action,
            )
        )

    def reload(self) -> None:
        """Read the case again (Refresh): a new look at the record, so a new view."""
        if self.case_id is not None:
            self.load(self.case_id)

    def refresh_after_change(self) -> None:
        """Read the case again after the user's own change, recording no second view."""
        if self.case_id is not None:
            self.load(self.case_id, record_view=self.view is None)

    def refresh_after_sync(self) -> None:
        """Read the case on screen again once a sync brought changes: what other laptops
        recorded shows, and a conflict reaches the banner at once; no second view recorded."""
        if self.case_id is not None and self.view is not None:
            self.load(self.case_id, record_view=False, after_sync=True)

    @property
    def loading(self) -> bool:
        return self._loading

    def _load_failed(self, case_id: int, error: BaseException, after_sync: bool = False) -> None:
        self._loading = False
        if after_sync and isinstance(error, InvalidInput | PermissionDenied):
            if case_id == self.case_id:
                self.clear()
                self.case_gone.emit(case_id)
            return
        if (
            isinstance(error, PermissionDenied)
            and str(error) == access.NOT_ALLOCATED
            and self.is_caseworker
        ):
            self.clear()
            self.break_glass(case_id)
            return
        show_error(self.window(), error)

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
        if case.status is CaseStatus.CLOSED and view.outcome is not None:
            o = view.outcome
            state += "\n" + translate(
                "CasePage",
                "Outcome: risk at exit {risk} · abuse {abuse} · safety {safer} · "
                "quality of life {life} · {engaged}",
            ).format(
                risk=labels.outcome(o.risk_at_exit),
                abuse=labels.outcome(o.abuse),
                safer=labels.outcome(o.feeling_safer),
                life=labels.outcome(o.quality_of_life),
                engaged=labels.outcome(o.engagement),
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
        self.show_notes(view.notes, view.note_count)
        for table in (self.people_table, self.consent_table, self.share_table, self.note_table):
            fit_columns(table)
        self._show_note(None)
        self.contact_details.setText(self._contact_text(view))
        writable = self.writable
        self.dash_form.set_case(view.latest_dash, case.marac_referral_date, writable)
        self._show_risk_history(view)
        self._show_merges(view)
        if not self._plan_dirty:
            self.plan_field.setPlainText(case.details.safety_plan)
            self.review_field.set_value(case.details.next_review)
            self._plan_dirty = False
        self.plan_field.setReadOnly(not writable)
        self.plan_save_button.setEnabled(writable)
        self._load_profile(view)
        self._update_actions()
        self.case_loaded.emit(case.id)

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
            self.marac_form_action,
        ):
            action.setEnabled(writable)
        self.correct_note_action.setEnabled(writable and self.selected_note() is not None)
        self.dispute_note_action.setEnabled(writable and self.selected_note() is not None)
        self.refused_request_action.setEnabled(writable)
        self.withdraw_consent_action.setEnabled(writable and bool(view and view.consents))
        self.add_person_action.setEnabled(open_case)
        self.edit_person_action.setEnabled(open_case)
        self.link_person_action.setEnabled(open_case)
        self.remove_person_action.setEnabled(open_case)
        self.open_work_action.setVisible(bool(view and view.case.status is CaseStatus.REFERRAL))
        self.open_work_action.setEnabled(open_case)
        self.refresh_action.setEnabled(loaded)
        self.letters_action.setEnabled(loaded)
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
            restricted = bool(view and view.contact.restricted)
            self.restrict_action.setVisible(loaded and not restricted)
            self.restrict_action.setEnabled(loaded and not restricted)
            self.lift_restriction_action.setVisible(restricted)
            self.lift_restriction_action.setEnabled(restricted)

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
        self.conflicts = []
        self.conflict_label.clear()
        self.conflict_bar.setVisible(False)
        for model in (
            self.people_model,
            self.consent_model,
            self.share_model,
            self.note_model,
            self.history_model,
        ):
            model.clear()
        self.note_text.clear()
        self.show_notes((), 0)
        self.note_history = []
        self.dash_form.reset()
        self.dash_form.set_case(None, None, False)
        self._show_risk_history(None)
        self._show_merges(None)
        self.plan_field.clear()
        self.review_field.set_value(None)
        self._plan_dirty = False
        self._clear_profile()
        set_message(self.status_message, None)
        self._update_actions()

    # -- unsaved work ---------------------------------------------------------------------------

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
        for kind in list(self.screen_drafts):
            self.drop_screen_draft(kind)

    # -- drafts kept at a lock -----------------------------------------------------------------

    def open_form(self) -> FormDialog | None:
        """The form open on the case, if one is."""
        dialog = self.dialog
        return dialog if dialog is not None and isValid(dialog) and dialog.isVisible() else None

    def unsaved_drafts(self) -> list[NewDraft]:
        """What a lock keeps of the case screen's own unsaved work (the safety plan, DASH)."""
        return [d for d in (self.unsaved_plan(), self.unsaved_dash()) if d is not None]

    def reopen_draft(self, draft: Draft) -> bool:
        """Open again the form a draft was kept from, with what was typed in it; False when the
        case is not the draft's, another form is open, or the record it was about is gone."""
        restore = {PLAN_DRAFT: self.restore_plan, DASH_DRAFT: self.restore_dash}.get(draft.kind)
        if restore is not None and self.view is not None and draft.case_id == self.case_id:
            restore(draft)
            return True
        opener = self._reopeners().get(draft.kind)
        if opener is None or self.view is None or draft.case_id != self.case_id:
            return False
        if self.open_form() is not None or not self._choose_target(draft):
            return False
        before = self.dialog
        opener()
        dialog = self.open_form()
        if dialog is None or dialog is before or dialog.draft_kind != draft.kind:
            return False
        dialog.restore_draft(draft.id, draft.fields)
        return True

    def _reopeners(self) -> dict[str, Callable[[], None]]:
        return {
            "new_note": self.new_note,
            "correct_note": self.correct_note,
            "record_share": self.record_share,
            "record_consent": self.record_consent,
            "withdraw_consent": self.withdraw_consent,
            "add_person": self.add_person,
            "edit_person": self.edit_person,
            "link_person": self.link_person,
            "merge_person": self.merge_person,
            "edit_safe_contact": self.edit_safe_contact,
            "open_work": self.open_work,
            "allocate": self.allocate,
            "close_case": self.close_case,
            "place_hold": self.place_hold,
            "open_marac_form": self.open_marac_form,
            "set_marac_meeting": self.set_marac_meeting,
            "add_marac_action": self.add_marac_action,
        }

    def _choose_target(self, draft: Draft) -> bool:
        """Select the record the draft's form was about (a note, a person, a consent)."""
        target = draft.target_id
        if draft.kind == "correct_note":
            return select_record(self.note_table, self.note_model, lambda n: n.id == target)
        if draft.kind in ("edit_person", "merge_person"):
            return select_record(
                self.people_table, self.people_model, lambda m: m.person.id == target
            )
        if draft.kind == "withdraw_consent" and target is not None:
            return select_record(self.consent_table, self.consent_model, lambda c: c.id == target)
        return True

    # -- letters and texts -----------------------------------------------------------------------

    def letters_and_texts(self) -> None:
        """Produce a letter or prepare a text for a person on the case; the safe-contact rules
        decide in the service, and a refusal shows its reason."""
        if self.view is None:
            return
        self.letters_dialog = LettersDialog(
            self.calls,
            self.view,
            self.may_override_contact,
            self,
            lock_action=self.lock_action,
            managers=[u for u in self.team if Role.MANAGER in u.roles],
        )
        self.letters_dialog.open()

    # -- the case's lifecycle -------------------------------------------------------------------

    def open_work(self) -> None:
        if self.view is not None:
            self._open(
                OpenWorkDialog(self.calls, self.view.case, self, lock_action=self.lock_action),
                kind="open_work",
            )

    def allocate(self) -> None:
        if self.view is not None and self.is_manager:
            self._open(
                AllocateDialog(
                    self.calls, self.view.case, self.team, self, lock_action=self.lock_action
                ),
                kind="allocate",
            )

    def close_case(self) -> None:
        if self.view is None or not self.is_manager or self.closed:
            return
        if self.unsaved_changes():
            self.say(translate("CasePage", "Save or discard your changes before closing the case."))
            return
        self._open(
            CloseCaseDialog(self.calls, self.view.case, self, lock_action=self.lock_action),
            kind="close_case",
        )

    def place_hold(self) -> None:
        if self.view is not None and self.is_manager:
            self._open(
                LegalHoldDialog(self.calls, self.view.case, self, lock_action=self.lock_action),
                kind="place_hold",
            )

    def restrict_client(self) -> None:
        client = self.view.contact.client_id if self.view is not None else None
        if client is not None and self.is_manager:
            self._open(RestrictDialog(self.calls, client, self, lock_action=self.lock_action))

    def lift_client_restriction(self) -> None:
        view = self.view
        client = view.contact.client_id if view is not None else None
        if view is not None and client is not None and view.contact.restricted:
            self._open(
                LiftRestrictionDialog(self.calls, client, self, lock_action=self.lock_action)
            )

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

    def break_glass(self, case_id: int) -> None:
        dialog = BreakGlassDialog(self.calls, case_id, self, lock_action=self.lock_action)
        self._open(dialog, lambda _v: self._glass_broken(case_id))

    def _glass_broken(self, case_id: int) -> None:
        self.break_glass_opened.emit(case_id)
        self.load(case_id)
