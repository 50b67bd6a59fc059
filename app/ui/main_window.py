"""The main window: the areas the signed-in role may use, the open case, Lock and Sign out.

Areas by role (the services check every call again, whatever the window offers):

============================  ===========================================
My cases, Search              caseworkers and managers
Open a case by reference      caseworkers (break-glass, with a reason)
Team cases, Shares to review  managers
Audit                         managers, admins and the DPO
Users and settings            admins
Retention                     admins
Subject access                managers; the DPO reads the register only
Breach log                    the DPO
Figures                       managers and the DPO
Devices                       admins (reporting a lost laptop opens a breach)
============================  ===========================================

The title is only ever "Safecase": a title shows in task bars, window lists and shared screens,
so it never names the user or anything in a record. Every service call goes through one
:class:`~app.ui.store_calls.StoreCalls` queue, which :meth:`MainWindow.clear` closes before the
store is locked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QAction, QBrush, QCloseEvent, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.models.drafts import Draft
from app.models.users import User
from app.services import (
    access,
    accounts,
    audit,
    backup,
    breaches,
    cases,
    categories,
    conflicts,
    devices,
    drafts,
    figures,
    overdue,
    retention,
    rights,
    sar,
    sharing,
)
from app.services.drafts import NewDraft
from app.services.overdue import OverdueCounts
from app.services.session import Session
from app.ui import labels
from app.ui.audit_page import AuditPage
from app.ui.backups_page import BackupsPage
from app.ui.breach_log import BreachLogPage
from app.ui.case_dialogs import BreakGlassByReferenceDialog
from app.ui.case_list import CaseListPage
from app.ui.case_view import CasePage
from app.ui.case_view.plan import PLAN_DRAFT
from app.ui.case_view.risk import DASH_DRAFT
from app.ui.change_password import ChangePasswordDialog
from app.ui.conflicts_page import ConflictsPage
from app.ui.devices_page import DevicesPage
from app.ui.figures_page import FiguresPage
from app.ui.forms import FormDialog, confirm, let_draft_go
from app.ui.i18n import translate
from app.ui.idle import IdleWatcher
from app.ui.record_table import OVERDUE_RED
from app.ui.referral_dialog import NewReferralDialog
from app.ui.retention_page import RetentionPage
from app.ui.reviews_page import ReviewsPage
from app.ui.sar_register import SarPage
from app.ui.store_calls import StoreCalls
from app.ui.team_sync import TeamSync
from app.ui.this_week_page import ThisWeekPage
from app.ui.users_page import UsersPage

if TYPE_CHECKING:
    from app.services.team import SyncReport

log = logging.getLogger("safecase.ui")

LOCK_SHORTCUT = "Ctrl+L"
FIND_SHORTCUT = "Ctrl+F"
NEW_NOTE_SHORTCUT = "Ctrl+N"
NEW_REFERRAL_SHORTCUT = "Ctrl+Shift+N"

# The draft that keeps the window's layout at a lock: the area and case on screen, the case's
# tab, the size and place of the window, each list's search text, filters and order.
WINDOW_DRAFT = "window"
NEW_REFERRAL_DRAFT = "new_referral"
SCREEN_DRAFTS = (PLAN_DRAFT, DASH_DRAFT)  # work on the case screen itself, not in a form


class MainWindow(QMainWindow):
    """The signed-in window. It reports what the user asked for; the app does the locking."""

    lock_requested = Signal()  # Lock, Ctrl+L, idle time-out or the system suspending
    sign_out_requested = Signal()
    closed = Signal()  # the user closed the window

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session: Session | None = session
        self.setWindowTitle(translate("MainWindow", "Safecase"))
        # What to offer is asked of the services (which check every call again).
        self.case_roles = access.may_work_on_cases(session)
        self.is_manager = cases.may_manage(session)
        self.is_caseworker = access.may_break_glass(session)
        self.names: dict[int, str] = {session.user_id: session.username}
        self.team: list[User] = []
        self.dialog: QDialog | None = None
        self.question: QMessageBox | None = None
        self.case_page: CasePage | None = None
        self.list_pages: list[CaseListPage] = []
        self._started: set[QWidget] = set()
        self._pending_request = ""  # a rights request to select once the register arrives
        self._titles: dict[QWidget, str] = {}  # each area's title without its overdue count
        self.waiting_drafts: list[Draft] = []  # kept at the last lock, to open again
        self._case_tab: int | None = None  # the case's tab on screen at the last lock

        # Read before the call queue starts: from then on only its worker uses the store.
        idle_minutes = accounts.idle_lock_minutes(session)
        training = accounts.is_training_store(session)
        self._build_actions()
        may_change_password = accounts.may_change_own_password(session)
        self.change_password_action.setVisible(may_change_password)
        self.change_password_action.setEnabled(may_change_password)
        self.calls = StoreCalls(session, self, window=self, lock_action=self.lock_action)

        self.banner = QLabel(
            translate(
                "MainWindow",
                "Warning: this store is not tied to this computer's keyring, so its "
                "protection rests on passwords alone.",
            )
        )
        self.banner.setObjectName("warningBanner")
        self.banner.setAccessibleName(translate("MainWindow", "Warning"))
        self.banner.setWordWrap(True)
        self.banner.setVisible(session.password_only)
        # Standing, on every page: nobody should take a training store for the live one.
        self.training_banner = QLabel(
            translate("MainWindow", "Training store: synthetic records only")
        )
        self.training_banner.setObjectName("trainingBanner")
        self.training_banner.setAccessibleName(translate("MainWindow", "Training store"))
        self.training_banner.setWordWrap(True)
        self.training_banner.setVisible(training)

        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setAccessibleName(translate("MainWindow", "Areas"))
        self.pages = QStackedWidget()
        self.pages.setAccessibleName(translate("MainWindow", "Current area"))
        self.navigation.currentRowChanged.connect(self._area_chosen)

        # A page that needs more room than the screen has scrolls inside the window, never
        # pushing the window off a small screen (1366x768 at 125%, with a banner showing).
        self.page_scroll = QScrollArea()
        self.page_scroll.setWidgetResizable(True)
        self.page_scroll.setWidget(self.pages)
        self.page_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.page_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the page's own fields take it
        body = QHBoxLayout()
        body.addWidget(self.navigation)
        body.addWidget(self.page_scroll, 1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.training_banner)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)
        self.setCentralWidget(central)
        QWidget.setTabOrder(self.navigation, self.pages)

        self.user_label = QLabel(
            translate("MainWindow", "Signed in as {name} ({roles})").format(
                name=session.username, roles=labels.roles(session.roles)
            )
        )
        self.user_label.setAccessibleName(translate("MainWindow", "Signed in as"))
        # A laptop in a team: the status line, Sync now and the timer (inert otherwise).
        self.team_sync = TeamSync(self.calls, self)
        self.team_sync.synced.connect(self._synced)
        self.safecase_menu.insertAction(self.lock_action, self.team_sync.action)
        self.statusBar().addPermanentWidget(self.team_sync.bar)
        self.statusBar().addPermanentWidget(self.team_sync.label)
        self.statusBar().addPermanentWidget(self.user_label)

        self._building = True  # no area starts loading until the starting one is chosen
        self._build_areas(session)
        self._building = False
        self._area_chosen(self.starting_row())
        self.count_overdue()

        self.idle_watcher = IdleWatcher(idle_minutes, self)
        self.idle_watcher.idle.connect(self._idle)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.applicationStateChanged.connect(self.application_state_changed)
        self.idle_watcher.start()
        self._load_people(session)
        self.calls.run(drafts.list_drafts, self._drafts_arrived, lambda _e: None, receiver=self)
        self.team_sync.start()

    # -- building -------------------------------------------------------------------------------

    def _build_actions(self) -> None:
        t = translate
        self.lock_action = QAction(t("MainWindow", "&Lock"), self)
        self.lock_action.setShortcut(QKeySequence(LOCK_SHORTCUT))
        # Any Safecase window that has focus (a later dialog too) can be locked at once.
        self.lock_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.lock_action.setToolTip(
            t("MainWindow", "Lock Safecase now (Ctrl+L); your password opens it again")
        )
        self.sign_out_action = QAction(t("MainWindow", "Sign &out"), self)
        self.sign_out_action.setToolTip(t("MainWindow", "Sign out of Safecase"))
        self.change_password_action = QAction(t("MainWindow", "Change my &password…"), self)
        self.change_password_action.setToolTip(
            t("MainWindow", "Choose a new password; the old one stops working at once")
        )
        self.new_referral_action = QAction(t("MainWindow", "New &referral…"), self)
        self.new_referral_action.setShortcut(QKeySequence(NEW_REFERRAL_SHORTCUT))
        self.new_referral_action.setToolTip(t("MainWindow", "Start a new case (Ctrl+Shift+N)"))
        self.find_action = QAction(t("MainWindow", "&Find a case"), self)
        self.find_action.setShortcut(QKeySequence(FIND_SHORTCUT))
        self.find_action.setToolTip(t("MainWindow", "Search the cases you may open (Ctrl+F)"))
        self.break_glass_action = QAction(
            t("MainWindow", "Open a case &by reference (break-glass)…"), self
        )
        self.break_glass_action.setToolTip(
            t(
                "MainWindow",
                "Open a case not allocated to you, giving a reason your managers will see",
            )
        )
        self.new_note_action = QAction(t("MainWindow", "New &note…"), self)
        self.new_note_action.setShortcut(QKeySequence(NEW_NOTE_SHORTCUT))
        self.new_note_action.setToolTip(t("MainWindow", "Record a note on the open case (Ctrl+N)"))
        self.refresh_action = QAction(t("MainWindow", "&Refresh"), self)
        self.refresh_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))

        menu = self.safecase_menu = self.menuBar().addMenu(t("MainWindow", "&Safecase"))
        menu.addAction(self.change_password_action)
        menu.addSeparator()
        menu.addAction(self.lock_action)
        menu.addAction(self.sign_out_action)

        self.toolbar = QToolBar(t("MainWindow", "Main tools"))
        self.toolbar.setObjectName("mainTools")
        self.toolbar.setAccessibleName(t("MainWindow", "Main tools"))
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.toolbar.addAction(self.lock_action)
        self.toolbar.addAction(self.sign_out_action)
        self.lock_button = self._tool_button(self.lock_action, t("MainWindow", "Lock"))
        self.lock_button.setObjectName("lockButton")
        self._tool_button(self.sign_out_action, t("MainWindow", "Sign out"))

        self.lock_action.triggered.connect(self.lock_requested)
        self.sign_out_action.triggered.connect(self.sign_out)
        self.change_password_action.triggered.connect(self.change_password)
        self.new_referral_action.triggered.connect(self.new_referral)
        self.find_action.triggered.connect(self.find_case)
        self.break_glass_action.triggered.connect(self.break_glass_by_reference)
        self.new_note_action.triggered.connect(self.new_note)
        self.refresh_action.triggered.connect(self.refresh)

    def _tool_button(self, action: QAction, name: str) -> QToolButton:
        button = self.toolbar.widgetForAction(action)
        assert isinstance(button, QToolButton)
        button.setAccessibleName(name)
        return button

    def _build_areas(self, session: Session) -> None:
        t = translate
        if self.case_roles:
            cases_menu = self.menuBar().addMenu(t("MainWindow", "&Cases"))
            for action in (
                self.new_referral_action,
                self.find_action,
                self.break_glass_action,
                self.new_note_action,
                self.refresh_action,
            ):
                cases_menu.addAction(action)
            self.toolbar.insertAction(self.lock_action, self.new_referral_action)
            self.toolbar.insertAction(self.lock_action, self.find_action)
            self.toolbar.insertSeparator(self.lock_action)
            self._tool_button(self.new_referral_action, t("MainWindow", "New referral"))
            self._tool_button(self.find_action, t("MainWindow", "Find a case"))
            self.case_menu: QMenu | None = self.menuBar().addMenu(t("MainWindow", "C&ase"))
            self.case_menu.setEnabled(False)
            self.new_note_action.setEnabled(False)

            # Both start on the cases still being worked, newest activity first.
            self.my_cases = CaseListPage(self.calls, session, CaseListPage.MINE, start_active=True)
            self.add_area(t("MainWindow", "My cases"), self.my_cases)
            if self.is_manager:
                self.team_cases = CaseListPage(
                    self.calls, session, CaseListPage.TEAM, start_active=True
                )
                self.add_area(t("MainWindow", "Team cases"), self.team_cases)
            if sharing.may_review(session):
                self.reviews_page = ReviewsPage(self.calls, lock_action=self.lock_action)
                self.reviews_page.case_chosen.connect(self.open_case)
                self.reviews_page.reviewed.connect(self.count_overdue)
                self.add_area(t("MainWindow", "Shares to review"), self.reviews_page)
            if conflicts.may_see_conflicts(session):
                self.conflicts_page = ConflictsPage(self.calls, lock_action=self.lock_action)
                self.conflicts_page.case_chosen.connect(self.open_case)
                self.conflicts_page.resolved.connect(self._conflict_resolved)
                self.add_area(t("MainWindow", "Conflicts"), self.conflicts_page)
            self._add_this_week(session)
            self.search_page = CaseListPage(self.calls, session, CaseListPage.SEARCH)
            self.add_area(t("MainWindow", "Search"), self.search_page)
            for page in self.list_pages:
                page.case_chosen.connect(self.open_case)
        else:
            self.case_menu = None
            self.addAction(self.refresh_action)
        if audit.may_read(session):
            self.audit_page = AuditPage(self.calls, session, self.names)
            self.add_area(t("MainWindow", "Audit"), self.audit_page)
        if rights.may_read_register(session):
            self.sar_page = SarPage(
                self.calls,
                can_prepare=sar.may_prepare_packs(session),
                can_read_log=sar.may_read_redaction_log(session),
                can_propose_erasure=retention.may_propose_erasure(session),
                lock_action=self.lock_action,
            )
            self.sar_page.records_loaded.connect(self.count_overdue)
            self.sar_page.records_loaded.connect(self._select_pending_request)
            self.add_area(t("MainWindow", "Subject access"), self.sar_page)
            if not self.case_roles:
                self._add_this_week(session)
        if breaches.may_keep_log(session):
            self.breach_page = BreachLogPage(self.calls, self.names, lock_action=self.lock_action)
            self.breach_page.overdue_changed.connect(self.count_overdue)
            self.add_area(t("MainWindow", "Breach log"), self.breach_page)
        if figures.may_see_figures(session):
            self.figures_page = FiguresPage(self.calls, lock_action=self.lock_action)
            self.add_area(t("MainWindow", "Figures"), self.figures_page)
        if accounts.may_manage_users(session):
            self.users_page = UsersPage(self.calls, session, lock_action=self.lock_action)
            self.users_page.idle_minutes_changed.connect(self._idle_minutes_changed)
            self.add_area(t("MainWindow", "Users and settings"), self.users_page)
        if retention.may_review_retention(session):
            self.retention_page = RetentionPage(
                self.calls,
                lock_action=self.lock_action,
                can_erase=retention.may_carry_out_erasure(session),
            )
            self.add_area(t("MainWindow", "Retention"), self.retention_page)
            self.team_sync.synced.connect(self.retention_page.refresh_team)
        if backup.may_make_backups(session):
            self.backups_page = BackupsPage(self.calls)
            self.add_area(t("MainWindow", "Backups"), self.backups_page)
        if devices.may_manage_devices(session):
            self.devices_page = DevicesPage(
                self.calls,
                can_keep_log=breaches.may_keep_log(session),
                lock_action=self.lock_action,
            )
            self.add_area(t("MainWindow", "Devices"), self.devices_page)
            self.devices_page.team_moved.connect(self.team_sync.sync_now)
        for action in (self.new_referral_action, self.find_action, self.new_note_action):
            action.setVisible(self.case_roles)
            self.addAction(action)
        self.break_glass_action.setVisible(self.is_caseworker)
        self.break_glass_action.setEnabled(self.is_caseworker)
        self.addAction(self.refresh_action)

        help_menu = self.menuBar().addMenu(t("MainWindow", "He&lp"))
        self.self_test_action = help_menu.addAction(t("MainWindow", "&Self-test…"))
        self.self_test_action.triggered.connect(self._self_test)

    def _self_test(self) -> None:
        from app.ui.self_test import show_dialog

        self.self_test_box = show_dialog(self)

    def _add_this_week(self, session: Session) -> None:
        if categories.may_see_this_week(session):
            self.this_week_page = ThisWeekPage(self.calls)
            self.this_week_page.case_chosen.connect(self.open_case)
            self.this_week_page.request_chosen.connect(self._open_request)
            self.add_area(translate("MainWindow", "This week"), self.this_week_page)

    def _open_request(self, reference: str) -> None:
        """Show a rights request in the register (from This week)."""
        page = getattr(self, "sar_page", None)
        if page is None:
            return
        started = page in self._started
        self.show_area(page)  # a first visit reads the register
        if not page.select_reference(reference):
            self._pending_request = reference
            if started:
                page.refresh()

    def _select_pending_request(self) -> None:
        reference, self._pending_request = self._pending_request, ""
        page = getattr(self, "sar_page", None)
        if reference and page is not None:
            page.select_reference(reference)

    def _load_people(self, session: Session) -> None:
        """Usernames for the ids that records hold (authors, recorders, audit entries)."""
        if self.case_roles:
            self.calls.run(cases.team, self._team_arrived, lambda _e: None, receiver=self)
        if accounts.may_manage_users(session):
            self.calls.run(accounts.list_users, self._users_arrived, lambda _e: None, receiver=self)
        elif audit.may_read(session):
            # The DPO reads the trail but holds no case role: names for its "Who" column.
            self.calls.run(audit.usernames, self._names_arrived, lambda _e: None, receiver=self)

    def _team_arrived(self, team: list[User]) -> None:
        self.team = team
        self._users_arrived(team)
        if self.case_page is not None:
            self.case_page.team = team

    def _users_arrived(self, users: list[User]) -> None:
        self.names.update({u.id: u.username for u in users})

    def _names_arrived(self, names: dict[int, str]) -> None:
        # Only readers of the trail ask for these, and each of them has the audit page.
        self.names.update(names)
        self.audit_page.model.texts_changed()

    @property
    def idle_timer(self) -> QTimer:
        return self.idle_watcher.timer

    def add_area(self, title: str, page: QWidget) -> int:
        """Add an area to the navigation list, with the page it shows; returns its row."""
        self.navigation.addItem(title)
        self._titles[page] = title
        self.pages.addWidget(page)
        loaded = getattr(page, "records_loaded", None)
        if isinstance(loaded, SignalInstance):
            loaded.connect(self._reopen_waiting)  # a form kept at a lock may open on them now
        if isinstance(page, CaseListPage):
            self.list_pages.append(page)
        if self.navigation.currentRow() < 0:
            self.navigation.setCurrentRow(0)
        return self.navigation.count() - 1

    # -- what is overdue --------------------------------------------------------------------------

    def count_overdue(self, *_args: object) -> None:
        """Ask how much is overdue; the areas that list it say how many."""
        if self._session is not None:
            self.calls.run(overdue.counts, self._overdue_arrived, lambda _e: None, receiver=self)

    def _overdue_arrived(self, counts: OverdueCounts) -> None:
        t = translate
        # Consent reviews: the manager's Team cases, a caseworker's own My cases.
        consent_page = getattr(self, "team_cases", None)
        if consent_page is None:
            consent_page = getattr(self, "my_cases", None)
        shown = {
            getattr(self, "reviews_page", None): counts.shares,
            getattr(self, "sar_page", None): counts.requests,
            getattr(self, "breach_page", None): counts.breaches,
        }
        for page, title in self._titles.items():
            row = self.pages.indexOf(page)
            item = self.navigation.item(row) if row >= 0 else None
            if item is None:
                continue
            n = counts.consent_reviews if page is consent_page else shown.get(page, 0)
            if page is getattr(self, "conflicts_page", None):
                n = counts.conflicts
                text = t("MainWindow", "{title} ({n})").format(title=title, n=n) if n else title
            elif page is consent_page and n == 1:
                text = t("MainWindow", "{title} (1 consent review overdue)").format(title=title)
            elif page is consent_page and n:
                text = t("MainWindow", "{title} ({n} consent reviews overdue)").format(
                    title=title, n=n
                )
            elif n:
                text = t("MainWindow", "{title} ({n} overdue)").format(title=title, n=n)
            else:
                text = title
            item.setText(text)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, text)
            font = item.font()
            font.setBold(bool(n))
            item.setFont(font)
            item.setForeground(QBrush(QColor(OVERDUE_RED)) if n else QBrush())
        # The titles grew or shrank: the list is as wide as its longest, so none is cut short.
        frame = 2 * self.navigation.frameWidth()
        self.navigation.setMinimumWidth(self.navigation.sizeHintForColumn(0) + frame + 8)

    def area_titles(self) -> list[str]:
        return [self.navigation.item(i).text() for i in range(self.navigation.count())]

    def show_area(self, page: QWidget) -> None:
        row = self.pages.indexOf(page)
        if row >= 0:
            self.navigation.setCurrentRow(row)

    def starting_row(self) -> int:
        """Whoever the services offer Team cases to (``cases.may_manage``: managers) starts
        there; everyone else on their first area (a caseworker's My cases)."""
        if self.is_manager and self.case_roles:
            return self.pages.indexOf(self.team_cases)
        return 0

    def _area_chosen(self, row: int) -> None:
        if self._building:
            return
        if self.navigation.currentRow() != row:
            self.navigation.setCurrentRow(row)  # comes back here through the signal
            return
        self.pages.setCurrentIndex(row)
        page = self.pages.widget(row)
        if page is None or page in self._started or self._session is None:
            return
        self._started.add(page)
        start = getattr(page, "start", None)
        if callable(start):
            start()

    # -- what the user asked for ----------------------------------------------------------------

    def find_case(self) -> None:
        """Ctrl+F: the search box of the list in view, or the Search area."""
        if not self.case_roles:
            return
        page = self.pages.currentWidget()
        if not isinstance(page, CaseListPage):
            page = self.search_page
            self.show_area(page)
        page.focus_search()

    def change_password(self) -> None:
        """Safecase > Change my password: the service name first (the strength check uses it),
        then the dialog, whose change runs through this window's queue of store calls."""
        if self._session is None or not self.change_password_action.isEnabled():
            return
        self.calls.run(accounts.service_name, self._open_change_password, receiver=self)

    def _open_change_password(self, service_name: str) -> None:
        session = self._session
        if session is None:
            return
        dialog = ChangePasswordDialog(session, self, calls=self.calls, service_name=service_name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.password_changed.connect(
            lambda: self.statusBar().showMessage(
                translate("MainWindow", "Your password is changed."), 10_000
            )
        )
        self.dialog = dialog
        dialog.open()

    def new_note(self) -> None:
        page = self.case_page
        if page is None or page.view is None:
            self.statusBar().showMessage(translate("MainWindow", "Open a case first."), 5000)
            return
        self.show_area(page)
        page.new_note()

    def new_referral(self) -> None:
        if not self.case_roles or self._session is None:
            return
        session = self._session
        dialog = NewReferralDialog(
            self.calls,
            user_id=session.user_id,
            is_manager=self.is_manager,
            team=self.team,
            parent=self,
            lock_action=self.lock_action,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._referral_created)
        dialog.draft_kind = NEW_REFERRAL_DRAFT
        self.dialog = dialog
        dialog.open()

    def _referral_created(self, case_id: object) -> None:
        if isinstance(case_id, int):
            self.refresh_lists()
            self.open_case(case_id)

    def break_glass_by_reference(self) -> None:
        """Ask for a case's reference and the reason to open it, then open it (caseworkers)."""
        if not self.is_caseworker or self._session is None:
            return
        dialog = BreakGlassByReferenceDialog(self.calls, self, lock_action=self.lock_action)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._glass_broken)
        self.dialog = dialog
        dialog.open()

    def _glass_broken(self, case_id: object) -> None:
        """The case is now open to this user for the session: it joins their lists too."""
        if isinstance(case_id, int):
            self.refresh_lists()
            self.open_case(case_id)

    def refresh(self) -> None:
        self.count_overdue()
        page = self.pages.currentWidget()
        if isinstance(page, CaseListPage):
            page.refresh()
        elif isinstance(page, CasePage):
            page.reload()
        elif isinstance(
            page, AuditPage | UsersPage | ReviewsPage | ThisWeekPage | FiguresPage | ConflictsPage
        ):
            page.refresh()

    def refresh_lists(self, *_args: object) -> None:
        self.count_overdue()
        self.team_sync.refresh_status()
        for page in self.list_pages:
            if page in self._started:
                page.refresh()
        for name in ("reviews_page", "this_week_page", "conflicts_page"):
            listing = getattr(self, name, None)
            if listing is not None and listing in self._started:
                listing.refresh()

    def _synced(self, report: SyncReport) -> None:
        """A sync ended: the lists and the status line, and the case on screen when the sync
        changed anything on this laptop."""
        self.refresh_lists()
        if (report.applied or report.destroyed) and self.case_page is not None:
            self.case_page.refresh_after_sync()

    def _conflict_resolved(self, case_id: int) -> None:
        """Resolved on the Conflicts page: the lists, and the case screen if it shows that case
        (its banner and bar no longer show the conflict)."""
        self.refresh_lists()
        page = self.case_page
        if page is not None and page.case_id == case_id:
            page.refresh_after_change()

    def _case_gone(self, _case_id: int) -> None:
        """The case on screen is no longer on this laptop: back to the lists, saying why."""
        if self.case_menu is not None:
            self.case_menu.setEnabled(False)
        self.new_note_action.setEnabled(False)
        if self.pages.currentWidget() is self.case_page:
            self._area_chosen(self.starting_row())
        self.statusBar().showMessage(
            translate(
                "MainWindow",
                "The case that was open is no longer on this laptop: it was allocated to "
                "someone else or destroyed.",
            ),
            60_000,
        )

    def _ensure_case_page(self) -> CasePage:
        if self.case_page is None:
            session = self._session
            assert session is not None
            page = CasePage(self.calls, session, self.names, lock_action=self.lock_action)
            page.team = self.team
            page.case_changed.connect(self.refresh_lists)
            page.case_loaded.connect(self._case_loaded)
            page.break_glass_opened.connect(self.refresh_lists)
            page.case_gone.connect(self._case_gone)
            self.case_page = page
            self._started.add(page)
            self.add_area(translate("MainWindow", "Open case"), page)
            if self.case_menu is not None:
                for action in page.actions_for_menu():
                    if action is None:
                        self.case_menu.addSeparator()
                    else:
                        self.case_menu.addAction(action)
        return self.case_page

    def open_case(self, case_id: int) -> None:
        """Show a case; ask first if the case already open has unsaved changes."""
        if not self.case_roles or self._session is None:
            return
        page = self._ensure_case_page()
        unsaved = page.unsaved_changes()
        if page.case_id not in (None, case_id) and unsaved:

            def discard() -> None:
                page.discard_changes()
                self.open_case(case_id)

            self.question = confirm(
                self,
                translate("MainWindow", "Unsaved changes"),
                translate(
                    "MainWindow", "Discard your changes to {what} and open the other case?"
                ).format(what=", ".join(unsaved)),
                translate("MainWindow", "&Discard and open"),
                discard,
                lock_action=self.lock_action,
            )
            return
        page.load(case_id)
        self.show_area(page)

    def _case_loaded(self, _case_id: int) -> None:
        page = self.case_page
        if self.case_menu is not None:
            self.case_menu.setEnabled(page is not None and page.view is not None)
        self.new_note_action.setEnabled(page is not None and page.new_note_action.isEnabled())
        self._reopen_waiting()

    def sign_out(self) -> None:
        """Sign out, asking first if the open case has unsaved changes (a lock never asks)."""
        page = self.case_page
        unsaved = page.unsaved_changes() if page is not None and self._session else []
        if not unsaved:
            self.sign_out_requested.emit()
            return
        self.question = confirm(
            self,
            translate("MainWindow", "Unsaved changes"),
            translate("MainWindow", "Discard your changes to {what} and sign out?").format(
                what=", ".join(unsaved)
            ),
            translate("MainWindow", "&Discard and sign out"),
            self.sign_out_requested.emit,
            lock_action=self.lock_action,
        )

    # -- locking --------------------------------------------------------------------------------

    def _idle(self) -> None:
        log.info("idle lock")
        self.lock_requested.emit()

    def _idle_minutes_changed(self, minutes: int) -> None:
        self.idle_timer.setInterval(max(1, minutes) * 60_000)
        self.idle_timer.start()

    def application_state_changed(self, state: Qt.ApplicationState) -> None:
        """Lock when the system suspends the application (sleep, some screen locks)."""
        if state == Qt.ApplicationState.ApplicationSuspended and self._session is not None:
            log.info("lock on suspend")
            self.lock_requested.emit()

    @property
    def active(self) -> bool:
        return self._session is not None

    def clear(self, *, keep_drafts: bool = False) -> None:
        """Forget the session and everything shown from it, at once; stop watching for idle time.

        This is the one place a lock or sign-out lets go. With ``keep_drafts`` (a lock), what
        was typed into open forms and not saved, and the window's layout, are handed to the
        draft service first. Then open dialogs go, then the queue of store calls is closed
        (the one running is waited for, and the drafts are written last), then every page is
        emptied and removed. Safe to call more than once.
        """
        self.idle_watcher.stop()
        if self._session is None:
            return
        kept = self.unsaved_drafts() if keep_drafts else []
        self._session = None
        for dialog in self.findChildren(QDialog):
            dialog.hide()
            dialog.deleteLater()
        self.dialog = None
        self.question = None
        self.waiting_drafts = []
        self.team_sync.stop()
        self.calls.close(last=(lambda s: drafts.save_many(s, kept)) if kept else None)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.applicationStateChanged.disconnect(self.application_state_changed)
        for index in range(self.pages.count()):
            page = self.pages.widget(index)
            clear = getattr(page, "clear", None)
            if callable(clear):
                clear()
        self.case_page = None
        self.list_pages = []
        self._titles.clear()
        self._started.clear()
        self.navigation.clear()
        while (page := self.pages.widget(0)) is not None:
            self.pages.removeWidget(page)
            page.deleteLater()
        if self.case_menu is not None:
            self.case_menu.clear()
        self.user_label.clear()
        self.names.clear()
        self.team = []

    # -- drafts: what a lock keeps, and opening it again after sign-in ----------------------------

    def unsaved_drafts(self) -> list[NewDraft]:
        """Every open form's unsaved values, and the window's layout."""
        kept = [
            draft
            for dialog in self.findChildren(FormDialog)
            if dialog.isVisible() and (draft := dialog.unsaved_draft()) is not None
        ]
        page = self.case_page
        layout: dict[str, Any] = {
            "area": self.navigation.currentRow(),
            "geometry": bytes(self.saveGeometry().toBase64().data()).decode("ascii"),
            "lists": {listed.mode: listed.layout_state() for listed in self.list_pages},
        }
        if page is not None and page.case_id is not None:
            kept += page.unsaved_drafts()
            layout["case_id"] = page.case_id
            layout["tab"] = page.tabs.currentIndex()
            layout["case_shown"] = self.pages.currentWidget() is page
        return [NewDraft(WINDOW_DRAFT, layout), *kept]

    def _drafts_arrived(self, found: list[Draft]) -> None:
        """Put back what the last lock kept: the layout, the open case, then its form."""
        layout = next((d for d in found if d.kind == WINDOW_DRAFT), None)
        self.waiting_drafts = [d for d in found if d.kind != WINDOW_DRAFT]
        case_id = None
        if layout is not None:
            let_draft_go(self.calls, layout.id)
            case_id = self._restore_layout(layout.fields)
        if case_id is None:
            case_id = next((d.case_id for d in self.waiting_drafts if d.case_id), None)
        if case_id is not None and self.case_roles:
            self.open_case(case_id)
        else:
            self._reopen_waiting()

    def _restore_layout(self, layout: dict[str, Any]) -> int | None:
        geometry = layout.get("geometry")
        if isinstance(geometry, str) and geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode("ascii")))
        lists = layout.get("lists")
        for page in self.list_pages:
            state = lists.get(page.mode) if isinstance(lists, dict) else None
            if isinstance(state, dict):
                page.restore_layout(state)
        area = layout.get("area")
        if isinstance(area, int) and 0 <= area < self.navigation.count():
            self.navigation.setCurrentRow(area)
        case_id = layout.get("case_id")
        tab = layout.get("tab")
        self._case_tab = tab if isinstance(tab, int) and layout.get("case_shown") else None
        return case_id if isinstance(case_id, int) else None

    def dialog_open(self) -> bool:
        """Whether a form is open over the window (the window's own, or an area's)."""
        areas = [self.pages.widget(i) for i in range(self.pages.count())]
        return _showing(self.dialog) or any(_showing(getattr(a, "dialog", None)) for a in areas)

    def _reopeners(self) -> list[Callable[[Draft], bool]]:
        """Each area's way of opening again the forms it keeps at a lock."""
        areas = [self.pages.widget(i) for i in range(self.pages.count())]
        found = (getattr(area, "reopen_draft", None) for area in areas)
        return [reopen for reopen in found if callable(reopen)]

    def _reopen_waiting(self) -> None:
        """Open the next kept form that belongs where the window is now (one at a time: each
        form is window-modal)."""
        if not self.waiting_drafts or self._session is None:
            return
        page = self.case_page
        if page is not None and page.view is not None and self._case_tab is not None:
            page.tabs.setCurrentIndex(self._case_tab)
            self._case_tab = None
        # Work on the case screen itself first (it opens no form), then one form.
        for draft in sorted(self.waiting_drafts, key=lambda d: d.kind not in SCREEN_DRAFTS):
            if draft.kind == NEW_REFERRAL_DRAFT:
                if self.dialog_open():
                    return
                self.new_referral()
                if isinstance(self.dialog, FormDialog):
                    self.dialog.restore_draft(draft.id, draft.fields)
                reopened = True
            else:
                reopened = any(reopen(draft) for reopen in self._reopeners())
            if reopened:
                self.waiting_drafts.remove(draft)
                if self.dialog_open():
                    return  # one form at a time: each is window-modal

    def closeEvent(self, event: QCloseEvent) -> None:
        page = self.case_page
        unsaved = page.unsaved_changes() if page is not None and self._session else []
        if unsaved:
            event.ignore()

            def discard() -> None:
                if self.case_page is not None:
                    self.case_page.discard_changes()
                self.close()

            self.question = confirm(
                self,
                translate("MainWindow", "Unsaved changes"),
                translate("MainWindow", "Discard your changes to {what} and sign out?").format(
                    what=", ".join(unsaved)
                ),
                translate("MainWindow", "&Discard and sign out"),
                discard,
                lock_action=self.lock_action,
            )
            return
        super().closeEvent(event)
        if self._session is not None:
            self.closed.emit()


def _showing(dialog: object) -> bool:
    return isinstance(dialog, QWidget) and isValid(dialog) and dialog.isVisible()
