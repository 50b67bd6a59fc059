"""The whole audit trail, a page at a time, with filters (the Audit area's first tab).

:class:`AuditTrailModel` is lazy: it asks ``audit.browse`` for one page of entries, newest first,
only when the view scrolls near the end, and never twice at once; the next page starts below
the last entry held (keyset paging on the entry id), so every entry can be reached however long
the trail. Records show as people read them (``case:244`` as its case reference, a user id as
the username), looked up as each page is read: the trail itself keeps ids only.
:class:`AuditFilters` is the row of filters above it.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QModelIndex, QObject, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.models.audit import Entry
from app.services import audit
from app.services.audit import EntryFilter, EntryPage
from app.services.session import Session
from app.ui import labels
from app.ui.forms import ChoiceBox, FieldInvalid, OptionalDate, button
from app.ui.i18n import translate
from app.ui.record_table import Column, Index, RecordTable
from app.ui.store_calls import StoreCalls
from app.ui.widgets import line_edit

PAGE_SIZE = 200
COMBO_CHARACTERS = 10


def action_text(action: str) -> str:
    return action.replace("_", " ")


class AuditTrailModel(RecordTable[Entry]):
    """The entries a filter matches, newest first, fetched a page at a time."""

    page_loaded = Signal(int)  # rows now held
    load_failed = Signal(object)

    def __init__(
        self,
        calls: StoreCalls,
        users: dict[int, str],
        parent: QObject | None = None,
        *,
        page_size: int = PAGE_SIZE,
    ) -> None:
        super().__init__(
            [
                Column(translate("AuditPage", "Entry"), lambda e: str(e.id)),
                Column(translate("AuditPage", "When"), lambda e: labels.moment(e.at)),
                Column(
                    translate("AuditPage", "Who"), lambda e: labels.user(self._users, e.user_id)
                ),
                Column(translate("AuditPage", "What"), lambda e: action_text(e.action)),
                Column(translate("AuditPage", "Record"), self.record_text),
                Column(translate("AuditPage", "Detail"), lambda e: e.detail),
            ],
            parent,
        )
        # Usernames by id: the window's, and those each page brings.
        self._users = users
        self._names: dict[str, str] = {}
        self._calls = calls
        self._page_size = page_size
        self._filter = EntryFilter()
        self._exhausted = True  # nothing is fetched until the page starts
        self._loading = False
        self._generation = 0

    # -- what the page and the tests read ---------------------------------------------------------

    @property
    def entry_filter(self) -> EntryFilter:
        return self._filter

    @property
    def page_size(self) -> int:
        return self._page_size

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    def record_text(self, entry: Entry) -> str:
        """A case's or request's reference, a username, or the kind and id of anything else."""
        if not entry.record or entry.record in self._names:
            return self._names.get(entry.record, "")
        kind, _, number = entry.record.partition(":")
        if kind == "case":
            return translate("AuditPage", "case {id}, no longer held").format(id=number)
        return f"{kind.replace('_', ' ')} {number}".strip()

    # -- starting again ---------------------------------------------------------------------------

    def set_filter(self, chosen: EntryFilter) -> None:
        """Start again from the newest entry with ``chosen`` (any page on its way is dropped)."""
        self._filter = chosen
        self._start(exhausted=False)
        self.fetchMore(QModelIndex())

    def reload(self) -> None:
        self.set_filter(self._filter)

    def clear(self) -> None:
        """Forget every row and name (the store is locking); nothing more is fetched."""
        self._names = {}
        self._start(exhausted=True)

    def _start(self, *, exhausted: bool) -> None:
        self._exhausted = exhausted
        self._loading = False
        self._generation += 1
        self.set_records([])

    # -- lazy loading -----------------------------------------------------------------------------

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index) -> None:
        if not self.canFetchMore(parent):
            return  # the guard: one page at a time
        generation, chosen, size = self._generation, self._filter, self._page_size
        before = self._records[-1].id if self._records else None

        def page(session: Session) -> EntryPage:
            return audit.browse(session, chosen, before_id=before, limit=size)

        self._loading = True
        started = self._calls.run(
            page,
            lambda found: self._arrived(generation, found),
            lambda error: self._failed(generation, error),
            receiver=self,
            label=translate("AuditPage", "Reading the audit trail…"),
        )
        if not started:
            self._loading = False
            self._exhausted = True

    def _arrived(self, generation: int, found: EntryPage) -> None:
        if generation != self._generation:
            return
        if len(found.entries) < self._page_size:
            self._exhausted = True
        self._names.update(found.names)
        for key, name in found.names.items():
            kind, _, number = key.partition(":")
            if kind == "user" and number.isdigit():
                self._users[int(number)] = name
        if found.entries:
            # Still "loading" while the rows go in, so nothing asks for the same page again.
            first = len(self._records)
            self.beginInsertRows(QModelIndex(), first, first + len(found.entries) - 1)
            self._records.extend(found.entries)
            self.endInsertRows()
        self._loading = False
        self.page_loaded.emit(len(self._records))

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._exhausted = True  # no retry loop; Refresh starts again
        self.load_failed.emit(error)


class AuditFilters(QWidget):
    """Who, what, which record and which days: ``applied`` carries the filter chosen."""

    applied = Signal(object)  # EntryFilter

    def __init__(self, today: dt.date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        t = translate
        self.user_field = ChoiceBox(t("AuditPage", "User"))
        self.action_field = ChoiceBox(t("AuditPage", "Action"))
        self.record_field = line_edit(t("AuditPage", "Record"))
        self.record_field.setPlaceholderText(
            t("AuditPage", "A case or request reference, or a username")
        )
        self.since_field = OptionalDate(
            t("AuditPage", "From"), t("AuditPage", "Fro&m"), None, today
        )
        self.until_field = OptionalDate(t("AuditPage", "To"), t("AuditPage", "&To"), None, today)
        for combo in self.user_field, self.action_field:
            # As wide as a short choice (a long one shows in full when opened): the page fits
            # a laptop at 125% and a 1920x1080 screen at 200%.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(COMBO_CHARACTERS)
        for day in self.since_field, self.until_field:
            # The style sheet's tick box draws its text a little wider than it asks for.
            box = day.known
            box.setMinimumWidth(box.sizeHint().width() + box.fontMetrics().horizontalAdvance("M"))
        self.apply_button = button(t("AuditPage", "A&pply"))
        self.clear_button = button(t("AuditPage", "Cl&ear"))
        self.set_users({})
        self.set_actions([])

        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        what = QHBoxLayout()
        for text, field, stretch in (
            (t("AuditPage", "&User"), self.user_field, 0),
            (t("AuditPage", "Actio&n"), self.action_field, 0),
            (t("AuditPage", "Recor&d"), self.record_field, 1),
        ):
            label = QLabel(text)
            label.setBuddy(field)
            what.addWidget(label)
            what.addWidget(field, stretch)
        days = QHBoxLayout()
        days.addWidget(self.since_field)
        days.addWidget(self.until_field)
        days.addWidget(self.apply_button)
        days.addWidget(self.clear_button)
        days.addStretch(1)
        rows.addLayout(what)
        rows.addLayout(days)

        self.apply_button.clicked.connect(self.apply)
        self.record_field.returnPressed.connect(self.apply)
        self.user_field.activated.connect(self.apply)
        self.action_field.activated.connect(self.apply)
        self.clear_button.clicked.connect(self.clear_filters)

    def set_users(self, users: dict[int, str]) -> None:
        """The accounts to choose from (disabled ones too: they acted once)."""
        chosen = self.user_field.value()
        self.user_field.clear_choices()
        self.user_field.add_choice(translate("AuditPage", "Anyone"), None)
        for user_id, name in sorted(users.items(), key=lambda item: item[1].lower()):
            self.user_field.add_choice(name, user_id)
        self.user_field.set_value(chosen)

    def set_actions(self, actions: list[str]) -> None:
        chosen = self.action_field.value()
        self.action_field.clear_choices()
        self.action_field.add_choice(translate("AuditPage", "Any action"), "")
        for action in actions:
            self.action_field.add_choice(action_text(action), action)
        self.action_field.set_value(chosen)

    def value(self) -> EntryFilter:
        """The filter chosen; FieldInvalid when a ticked date is not a real date."""
        return EntryFilter(
            user_id=self.user_field.value(),
            action=self.action_field.value() or "",
            record=self.record_field.text().strip(),
            since=self.since_field.value(),
            until=self.until_field.value(),
        )

    def apply(self, *_args: object) -> None:
        try:
            chosen = self.value()
        except FieldInvalid:
            return  # the date field says under itself what is wrong with the date typed
        self.applied.emit(chosen)

    def clear_filters(self) -> None:
        self.user_field.setCurrentIndex(0)
        self.action_field.setCurrentIndex(0)
        self.record_field.clear()
        self.since_field.set_value(None)
        self.until_field.set_value(None)
        self.apply()
