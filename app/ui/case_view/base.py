"""What every tab of the case screen shares: the open case, the call queue, buttons that follow
actions, tab pages in scroll areas, and opening a dialog whose save reads the case again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.models.records import CaseStatus, CaseView
from app.models.users import User
from app.services.session import Session
from app.ui.forms import FormDialog, button, confirm, let_draft_go
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls
from app.ui.widgets import keep_left_to_right, set_message

HISTORY_ENTRIES = 500  # the most of a case's audit entries the History tab shows


class CasePageBase(QWidget):
    """The state and helpers the case screen's tabs share; :class:`CasePage` puts them together."""

    case_changed = Signal(int)  # something was saved: lists showing the case refresh
    case_loaded = Signal(int)
    break_glass_opened = Signal(int)
    case_gone = Signal(int)  # a sync took the case on screen off this laptop

    # Set as CasePage builds itself: the call queue, the open case, the tabs and the actions.
    calls: StoreCalls
    names: dict[int, str]
    team: list[User]
    lock_action: QAction | None
    is_manager: bool
    is_caseworker: bool
    may_read_history: bool
    view: CaseView | None
    case_id: int | None
    dialog: FormDialog | None
    question: QMessageBox | None  # the last confirmation box opened here
    tabs: QTabWidget
    status_message: QLabel
    action_buttons: dict[QAction, QPushButton]
    new_note_action: QAction
    correct_note_action: QAction
    dispute_note_action: QAction
    refused_request_action: QAction
    record_share_action: QAction
    record_consent_action: QAction
    withdraw_consent_action: QAction
    add_person_action: QAction
    edit_person_action: QAction
    safe_contact_action: QAction
    marac_form_action: QAction

    # Drafts of the screen's own work (safety plan, DASH) put back after a lock, by kind: each
    # goes once that work is saved or discarded.
    screen_drafts: dict[str, int]

    if TYPE_CHECKING:

        def refresh_after_change(self) -> None: ...

    def _action(self, text: str, slot: Callable[[], None], tip: str = "") -> QAction:
        action = QAction(text, self)
        if tip:
            action.setToolTip(tip)
        action.triggered.connect(slot)
        return action

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

    @staticmethod
    def _set_state(label: QLabel, state: str) -> None:
        label.setProperty("state", state)
        label.style().unpolish(label)
        label.style().polish(label)

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

    def _open(
        self,
        dialog: FormDialog,
        done: Callable[[object], None] | None = None,
        *,
        kind: str = "",
        target: int | None = None,
    ) -> None:
        """Open a form about the case; ``kind`` (the method that opens it) and ``target`` (the
        record it is about) let it be kept as a draft at a lock and opened again after."""
        self.dialog = dialog
        dialog.draft_kind = kind
        dialog.draft_case = self.case_id
        dialog.draft_target = target
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(done or self._saved)
        dialog.open()

    def drop_screen_draft(self, kind: str) -> None:
        draft_id = self.screen_drafts.pop(kind, None)
        if draft_id is not None:
            let_draft_go(self.calls, draft_id)

    def _saved(self, _value: object = None) -> None:
        if self.case_id is not None:
            self.case_changed.emit(self.case_id)
        self.refresh_after_change()

    def say(self, text: str) -> None:
        set_message(self.status_message, text)

    def _ask(self, title: str, text: str, yes: str, call: Callable[[Session], object]) -> None:
        def run() -> None:
            self.calls.run(call, lambda _v: self._saved(), receiver=self)

        self.question = confirm(self, title, text, yes, run, lock_action=self.lock_action)
