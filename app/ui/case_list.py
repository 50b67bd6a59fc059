"""The case lists (My cases, Team cases) and Search.

:class:`CaseListModel` is lazy: it asks ``cases.list_cases`` for one page at a time, only when
the view scrolls near the end, and never twice at once. A 100,000-case store shows its first page
as quickly as a ten-case one. Clicking a column's header sorts by that column (again: the other
way round); the list then starts again from its first page in the new order. Paging is keyset
paging on (sort key, reference): the next page starts after the last row held, so it works the
same for every order and direction.
Typing in the search box replaces the list with ``search.search`` hits while there is text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.models.cases import sort_key
from app.models.records import CaseStatus, CaseSummary, RiskLevel
from app.models.users import User
from app.services import cases, search
from app.services.search import SearchHit
from app.services.session import Session
from app.ui import labels
from app.ui.errors import error_sentence
from app.ui.forms import ChoiceBox, enum_combo
from app.ui.i18n import translate
from app.ui.record_table import OVERDUE_RED, RECORD_ROLE, Column, RecordTable
from app.ui.store_calls import StoreCalls
from app.ui.widgets import (
    fit_columns,
    heading,
    message_label,
    paragraph,
    set_message,
    show_cut_text,
)

PAGE_SIZE = 100
SEARCH_DELAY_MS = 300
SEARCH_MIN_CHARS = 2
SEARCH_LIMIT = 50

Index = QModelIndex | QPersistentModelIndex

# What each column of the case list sorts by (``order_by`` for ``cases.list_cases``), in
# column order.
SORT_ORDERS = ("reference", "client", "worker", "status", "risk", "next_review", "activity")
# Where My cases and Team cases start: the cases still being worked, newest activity first.
NOT_CLOSED = "not_closed"  # the status filter's choice for referrals and open cases together
STARTING_ORDER = ("activity", True)


@dataclass(frozen=True)
class CaseFilter:
    """What ``cases.list_cases`` is asked for."""

    status: CaseStatus | None = None
    risk: RiskLevel | None = None
    worker_id: int | None = None
    marac_due: bool | None = None
    not_closed: bool = False  # referrals and open cases, not closed ones


def risk_text(summary: CaseSummary) -> str:
    """The risk level, and whether a MARAC referral is due."""
    level = labels.risk(summary.risk_level)
    if summary.marac_due:
        return translate("CaseList", "{risk}, MARAC referral due").format(risk=level)
    return level


def conflicts_text(n: int) -> str:
    """The badge a case carries while two laptops disagree: 1 conflict, 2 conflicts."""
    if n == 1:
        return translate("CaseList", "1 conflict")
    return translate("CaseList", "{n} conflicts").format(n=n)


def reference_text(summary: CaseSummary) -> str:
    """The reference, with the case's conflict badge in words when it has any."""
    if summary.conflicts:
        return translate("CaseList", "{reference} ⚠ {conflicts}").format(
            reference=summary.reference, conflicts=conflicts_text(summary.conflicts)
        )
    return summary.reference


def case_columns() -> list[Column[CaseSummary]]:
    """The case list's columns, in the order of :data:`SORT_ORDERS`."""
    return [
        Column(translate("CaseList", "Reference"), reference_text),
        Column(translate("CaseList", "Client"), lambda c: c.client_name),
        Column(translate("CaseList", "Worker"), lambda c: c.worker),
        Column(translate("CaseList", "Status"), lambda c: labels.status(c.status)),
        Column(translate("CaseList", "Risk"), risk_text),
        Column(translate("CaseList", "Next review"), lambda c: labels.date(c.next_review)),
        Column(translate("CaseList", "Last activity"), lambda c: labels.moment(c.last_activity)),
    ]


def order_text(order_by: str, descending: bool) -> str:
    """How the list is sorted, for the count under it."""
    t = translate
    phrases = {
        ("reference", False): t("CaseList", "in reference order"),
        ("reference", True): t("CaseList", "in reverse reference order"),
        ("client", False): t("CaseList", "by client, A to Z"),
        ("client", True): t("CaseList", "by client, Z to A"),
        ("worker", False): t("CaseList", "by worker, A to Z"),
        ("worker", True): t("CaseList", "by worker, Z to A"),
        ("status", False): t("CaseList", "by status, A to Z"),
        ("status", True): t("CaseList", "by status, Z to A"),
        ("risk", False): t("CaseList", "by risk, lowest first"),
        ("risk", True): t("CaseList", "by risk, highest first"),
        ("next_review", False): t("CaseList", "by next review, soonest first"),
        ("next_review", True): t("CaseList", "by next review, latest first"),
        ("activity", False): t("CaseList", "by last activity, oldest first"),
        ("activity", True): t("CaseList", "newest activity first"),
    }
    return phrases[(order_by, descending)]


class CaseListModel(QAbstractTableModel):
    """Cases in the chosen order, fetched a page at a time as the view needs them."""

    page_loaded = Signal(int)  # rows now held
    load_failed = Signal(object)

    def __init__(
        self,
        calls: StoreCalls,
        case_filter: CaseFilter | None = None,
        parent: QObject | None = None,
        *,
        page_size: int = PAGE_SIZE,
        order: tuple[str, bool] = (SORT_ORDERS[0], False),
    ) -> None:
        super().__init__(parent)
        self._calls = calls
        self._filter = case_filter or CaseFilter()
        self._page_size = page_size
        self._columns = case_columns()
        self._rows: list[CaseSummary] = []
        self._exhausted = False
        self._loading = False
        self._generation = 0
        self._order_by, self._descending = order
        self.pages_fetched = 0

    # -- what the tests and the page read ------------------------------------------------------

    @property
    def case_filter(self) -> CaseFilter:
        return self._filter

    @property
    def order_by(self) -> str:
        return self._order_by

    @property
    def descending(self) -> bool:
        return self._descending

    @property
    def sort_column(self) -> int:
        return SORT_ORDERS.index(self._order_by)

    @property
    def sort_order(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    @property
    def rows_fetched(self) -> int:
        return len(self._rows)

    def summary(self, row: int) -> CaseSummary | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # -- filters -------------------------------------------------------------------------------

    def set_filter(self, case_filter: CaseFilter) -> None:
        """Start again from the first page with a new filter (any page on its way is dropped)."""
        self._restart(case_filter, self._order_by, self._descending)

    def _restart(self, case_filter: CaseFilter, order_by: str, descending: bool) -> None:
        self.beginResetModel()
        self._filter = case_filter
        self._order_by = order_by
        self._descending = descending
        self._rows = []
        self._exhausted = False
        self._loading = False
        self._generation += 1
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def reload(self) -> None:
        self.set_filter(self._filter)

    def clear(self) -> None:
        """Forget every row (the store is locking); nothing more is fetched."""
        self.beginResetModel()
        self._rows = []
        self._exhausted = True
        self._loading = False
        self._generation += 1
        self.endResetModel()

    # -- lazy loading --------------------------------------------------------------------------

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index) -> None:
        if parent.isValid() or self._loading or self._exhausted:
            return  # the guard: one page at a time
        generation = self._generation
        chosen, size = self._filter, self._page_size
        order_by, descending = self._order_by, self._descending
        # Keyset paging: the next page starts after the last row held, in the list's order.
        last = self._rows[-1] if self._rows else None
        after = last.reference if last is not None else ""
        after_key = sort_key(last, order_by) if last is not None else None

        def page(session: Session) -> list[CaseSummary]:
            return cases.list_cases(
                session,
                status=chosen.status,
                not_closed=chosen.not_closed,
                risk=chosen.risk,
                worker_id=chosen.worker_id,
                marac_due=chosen.marac_due,
                order_by=order_by,
                descending=descending,
                after_reference=after,
                after_key=after_key,
                limit=size,
            )

        self._loading = True
        started = self._calls.run(
            page,
            lambda rows: self._arrived(generation, rows),
            lambda error: self._failed(generation, error),
            receiver=self,
            label=translate("CaseList", "Loading cases…"),
        )
        if not started:
            self._loading = False
            self._exhausted = True

    def _arrived(self, generation: int, rows: list[CaseSummary]) -> None:
        if generation != self._generation:
            return
        self.pages_fetched += 1
        if len(rows) < self._page_size:
            self._exhausted = True
        if rows:
            # Still "loading" while the rows go in: a view (or a model tester) that asks for
            # more from inside the insert must not fetch the same page again.
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
        self._loading = False
        self.page_loaded.emit(len(self._rows))

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._exhausted = True  # no retry loop; Refresh starts again
        self.load_failed.emit(error)

    # -- the model -----------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.parent().isValid():
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < len(self._rows) and 0 <= column < len(self._columns)):
            return None
        summary = self._rows[row]
        if role in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.AccessibleTextRole,
            Qt.ItemDataRole.ToolTipRole,  # the full text, when the column is too narrow
        ):
            return self._columns[column].text(summary)
        if role == RECORD_ROLE:
            return summary
        if column == 0 and summary.conflicts and role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor(OVERDUE_RED))
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._columns):
            return self._columns[section].header
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by ``column``: the list starts again from the first page in that order (the
        store sorts; rows already held are never sorted here, as the rest are not held)."""
        if not 0 <= column < len(SORT_ORDERS):
            return
        order_by = SORT_ORDERS[column]
        descending = order == Qt.SortOrder.DescendingOrder
        if (order_by, descending) == (self._order_by, self._descending):
            return
        self._restart(self._filter, order_by, descending)


def search_columns() -> list[Column[SearchHit]]:
    """The case columns but the last activity (hits come best match first), then where the
    words were found."""
    base = case_columns()[: SORT_ORDERS.index("activity")]

    def matched(hit: SearchHit) -> str:
        names = {
            "reference": translate("CaseList", "reference"),
            "person": translate("CaseList", "a person"),
            "note": translate("CaseList", "a note"),
        }
        return ", ".join(names.get(m, m) for m in hit.matched)

    columns: list[Column[SearchHit]] = [
        Column(c.header, lambda h, c=c: c.text(h.case))  # type: ignore[misc]
        for c in base
    ]
    columns.append(Column(translate("CaseList", "Found in"), matched))
    return columns


class SearchResultsModel(RecordTable[SearchHit]):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(search_columns(), parent)


class CaseListPage(QWidget):
    """My cases, Team cases or Search: filters, the type-ahead box and the table."""

    case_chosen = Signal(int)  # the case id; the window opens it

    MINE, TEAM, SEARCH = "mine", "team", "search"

    def __init__(
        self,
        calls: StoreCalls,
        session: Session,
        mode: str,
        parent: QWidget | None = None,
        *,
        page_size: int = PAGE_SIZE,
        start_active: bool = False,
    ) -> None:
        """``start_active``: start on the cases still being worked (referrals and open),
        newest activity first, as the window's My cases and Team cases do."""
        super().__init__(parent)
        self._calls = calls
        self.mode = mode
        self._user_id = session.user_id
        self._username = session.username
        self._search_generation = 0
        self._hits: list[SearchHit] = []
        self._pending_worker: int | None = None
        titles = {
            self.MINE: translate("CaseList", "My cases"),
            self.TEAM: translate("CaseList", "Team cases"),
            self.SEARCH: translate("CaseList", "Search"),
        }
        self.setAccessibleName(titles[mode])

        # A manager's own cases are those allocated to them; a caseworker's list holds only
        # theirs (and any opened by break-glass) anyway.
        own = self._user_id if mode == self.MINE and cases.may_manage(session) else None
        self._fixed_worker = own
        start_active = start_active and mode != self.SEARCH
        self.model = CaseListModel(
            calls,
            CaseFilter(worker_id=own, not_closed=start_active),
            self,
            page_size=page_size,
            order=STARTING_ORDER if start_active else (SORT_ORDERS[0], False),
        )
        self.search_model = SearchResultsModel(self)

        self.search_field = QLineEdit()
        self.search_field.setAccessibleName(translate("CaseList", "Search cases"))
        self.search_field.setPlaceholderText(
            translate("CaseList", "Name, reference, phone, postcode or words from a note")
        )
        self.search_field.setClearButtonEnabled(True)
        self.status_filter = ChoiceBox(translate("CaseList", "Status filter"))
        self.status_filter.add_choice(translate("CaseList", "All statuses"), None)
        self.status_filter.add_choice(translate("CaseList", "Open and referrals"), NOT_CLOSED)
        for case_status in CaseStatus:
            self.status_filter.add_choice(labels.status(case_status), case_status)
        if start_active:
            self.status_filter.set_value(NOT_CLOSED)
        self.risk_filter = enum_combo(
            translate("CaseList", "Risk filter"),
            (RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.STANDARD),
            labels.risk,
            none_text=translate("CaseList", "Any risk"),
        )
        self.marac_filter = ChoiceBox(translate("CaseList", "MARAC filter"))
        self.marac_filter.add_choice(translate("CaseList", "MARAC due or not"), None)
        self.marac_filter.add_choice(translate("CaseList", "MARAC referral due"), True)
        self.marac_filter.add_choice(translate("CaseList", "No MARAC referral due"), False)
        # The same orders as the headings, for the keyboard: headings take no focus.
        self.sort_choice = ChoiceBox(translate("CaseList", "Sort the list"))
        for order_by in SORT_ORDERS:
            for descending in (False, True):
                self.sort_choice.add_choice(
                    translate("CaseList", "Sorted {order}").format(
                        order=order_text(order_by, descending)
                    ),
                    (order_by, descending),
                )
        self.worker_filter = ChoiceBox()
        self.worker_filter.setAccessibleName(translate("CaseList", "Worker filter"))
        self.worker_filter.add_choice(translate("CaseList", "Any worker"), None)
        self.count_label = QLabel()
        self.count_label.setAccessibleName(translate("CaseList", "How many cases are shown"))
        self.problem_label = message_label(translate("CaseList", "Problem"))

        self.table = QTableView()
        self.table.setAccessibleName(translate("CaseList", "Cases"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        show_cut_text(self.table)
        self.table.verticalHeader().setVisible(False)
        # Fixed row heights: the view never measures rows it has not shown.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicator(self.model.sort_column, self.model.sort_order)
        self._set_sortable(False)
        self.table.setToolTip(translate("CaseList", "Enter or double-click opens the case."))
        header.setToolTip(
            translate("CaseList", "Click a column's heading to sort by it; again to reverse.")
        )

        filters = QHBoxLayout()
        filters.addWidget(self.search_field, 2)
        filters.addWidget(self.status_filter)
        filters.addWidget(self.risk_filter)
        filters.addWidget(self.marac_filter)
        filters.addWidget(self.worker_filter)
        # Under the list, beside the count that says how it is sorted.
        footer = QHBoxLayout()
        footer.addWidget(self.count_label, 1)
        footer.addWidget(self.sort_choice)

        layout = QVBoxLayout(self)
        layout.addWidget(heading(titles[mode]))
        if mode == self.SEARCH:
            layout.addWidget(
                paragraph(
                    translate(
                        "CaseList",
                        "Search every case you may open. Results show as you type; cases you "
                        "may not open are never shown.",
                    )
                )
            )
        layout.addLayout(filters)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(footer)

        for widget in (self.status_filter, self.risk_filter, self.marac_filter, self.sort_choice):
            widget.setVisible(mode != self.SEARCH)
        self.worker_filter.setVisible(mode == self.TEAM)
        QWidget.setTabOrder(self.search_field, self.status_filter)
        QWidget.setTabOrder(self.status_filter, self.risk_filter)
        QWidget.setTabOrder(self.risk_filter, self.marac_filter)
        QWidget.setTabOrder(self.marac_filter, self.worker_filter)
        QWidget.setTabOrder(self.worker_filter, self.table)
        QWidget.setTabOrder(self.table, self.sort_choice)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.run_search)
        self.search_field.textChanged.connect(self._search_text_changed)
        self.search_field.returnPressed.connect(self.run_search)
        self.status_filter.currentIndexChanged.connect(self._filters_changed)
        self.risk_filter.currentIndexChanged.connect(self._filters_changed)
        self.marac_filter.currentIndexChanged.connect(self._filters_changed)
        self.worker_filter.currentIndexChanged.connect(self._filters_changed)
        header.sortIndicatorChanged.connect(self._sort_changed)
        self.sort_choice.currentIndexChanged.connect(self._sort_chosen)
        self.table.activated.connect(self._activated)
        # A new order or filter starts again from the top: left scrolled to the end of the old
        # rows, the view would ask for a second page before anyone scrolled.
        self.model.modelReset.connect(self.table.scrollToTop)
        self.model.page_loaded.connect(self._page_loaded)
        self.model.modelReset.connect(self._list_restarted)
        self.model.load_failed.connect(self._load_failed)
        # A new order or filter starts at the top. Left where it was (the bottom of a long list),
        # the view would ask for a second page as soon as the first arrived.
        self.model.modelReset.connect(self.table.scrollToTop)

        # The list's model goes on the table when the page is first shown (start): a view asks
        # its model for rows as soon as it has one, shown or not.
        self.table.setModel(self.search_model)
        self._update_count()

    # -- starting ------------------------------------------------------------------------------

    def start(self) -> None:
        """Ask for the first page (and the team, for the worker filter)."""
        if self.mode == self.TEAM:
            self._calls.run(cases.team, self._team_arrived, receiver=self)
        if self.mode != self.SEARCH and not self.searching:
            self._show_model(self.model)
            if self.model.rowCount() == 0:
                self.model.fetchMore(QModelIndex())
            self._update_count()

    def _team_arrived(self, team: list[User]) -> None:
        for user in team:
            self.worker_filter.add_choice(user.username, user.id)
        if self._pending_worker is not None:
            self.worker_filter.set_value(self._pending_worker)
            self._pending_worker = None

    def refresh(self) -> None:
        if self.searching:
            self.run_search()
        elif self.mode != self.SEARCH:
            self.model.reload()

    def clear(self) -> None:
        self._search_timer.stop()
        self._search_generation += 1
        self.model.clear()
        self.search_model.clear()
        self.search_field.clear()

    # -- kept at a lock ------------------------------------------------------------------------

    def layout_state(self) -> dict[str, Any]:
        """The search text, filters and order, to put back after a lock (the search text may
        name someone, so this is kept only in the encrypted store)."""
        return {
            "search": self.search_field.text(),
            "status": self.status_filter.currentIndex(),
            "risk": self.risk_filter.currentIndex(),
            "marac": self.marac_filter.currentIndex(),
            "worker": self.worker_filter.value(),
            "sort": list(self.sort_choice.value()),
        }

    def restore_layout(self, state: dict[str, Any]) -> None:
        for combo, key in (
            (self.status_filter, "status"),
            (self.risk_filter, "risk"),
            (self.marac_filter, "marac"),
        ):
            index = state.get(key)
            if isinstance(index, int) and 0 <= index < combo.count():
                combo.setCurrentIndex(index)
        sort = state.get("sort")
        if isinstance(sort, list) and len(sort) == 2:
            self.sort_choice.set_value((str(sort[0]), bool(sort[1])))
        worker = state.get("worker")
        if isinstance(worker, int) and not self.worker_filter.set_value(worker):
            self._pending_worker = worker  # chosen once the team arrives
        search = state.get("search")
        if isinstance(search, str) and search:
            self.search_field.setText(search)

    # -- filters -------------------------------------------------------------------------------

    def current_filter(self) -> CaseFilter:
        worker = self.worker_filter.value() if self.mode == self.TEAM else None
        status = self.status_filter.value()
        return CaseFilter(
            status=None if status == NOT_CLOSED else status,
            not_closed=status == NOT_CLOSED,
            risk=self.risk_filter.value(),
            worker_id=self._fixed_worker if self._fixed_worker is not None else worker,
            marac_due=self.marac_filter.value() if self.mode != self.SEARCH else None,
        )

    def _filters_changed(self) -> None:
        if self.searching:
            self._show_hits()
        else:
            self.model.set_filter(self.current_filter())
        self._update_count()

    # -- sorting -------------------------------------------------------------------------------

    def _set_sortable(self, sortable: bool) -> None:
        """Headings sort the case list; search hits keep the order search gives them (name
        matches first, newest case first)."""
        header = self.table.horizontalHeader()
        header.setSectionsClickable(sortable)
        header.setSortIndicatorShown(sortable)
        self.sort_choice.setEnabled(sortable)
        # Search hits come best match first: the choice would claim an order they are not in.
        self.sort_choice.setVisible(sortable and self.mode != self.SEARCH)

    def _show_model(self, model: CaseListModel | SearchResultsModel) -> None:
        if self.table.model() is not model:
            self.table.setModel(model)
        sortable = model is self.model
        if sortable:
            header = self.table.horizontalHeader()
            blocked = header.blockSignals(True)
            header.setSortIndicator(self.model.sort_column, self.model.sort_order)
            header.blockSignals(blocked)
            blocked = self.sort_choice.blockSignals(True)
            self.sort_choice.set_value((self.model.order_by, self.model.descending))
            self.sort_choice.blockSignals(blocked)
        self._set_sortable(sortable)

    def _sort_changed(self, column: int, order: Qt.SortOrder) -> None:
        """A heading was clicked: ask again from the first page in the new order."""
        if self.table.model() is not self.model:
            return
        self.model.sort(column, order)
        blocked = self.sort_choice.blockSignals(True)
        self.sort_choice.set_value((self.model.order_by, self.model.descending))
        self.sort_choice.blockSignals(blocked)
        self._update_count()

    def _list_restarted(self) -> None:
        """A new order or filter starts the list again from its first row: scroll back to the
        top now, before the first page arrives. (Left where it was, the view would put the
        new page's last row in sight and ask for a second page at once.)"""
        if self.table.model() is self.model:
            self.table.scrollToTop()

    def _sort_chosen(self) -> None:
        """An order was chosen from the list: the heading shows it, and the list follows."""
        order_by, descending = self.sort_choice.value()
        order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        self.table.horizontalHeader().setSortIndicator(SORT_ORDERS.index(order_by), order)

    # -- search --------------------------------------------------------------------------------

    @property
    def searching(self) -> bool:
        return len(self.search_field.text().strip()) >= SEARCH_MIN_CHARS

    def focus_search(self) -> None:
        self.search_field.setFocus()
        self.search_field.selectAll()

    def _search_text_changed(self, _text: str) -> None:
        if self.searching:
            self._search_timer.start()
            return
        self._search_timer.stop()
        self._search_generation += 1
        self._hits = []
        self.search_model.clear()
        if self.mode != self.SEARCH and self.table.model() is not self.model:
            self._show_model(self.model)
        self._update_count()

    def run_search(self) -> None:
        self._search_timer.stop()
        text = self.search_field.text().strip()
        if len(text) < SEARCH_MIN_CHARS:
            return
        self._search_generation += 1
        generation = self._search_generation

        def find(session: Session) -> list[SearchHit]:
            return search.search(session, text, limit=SEARCH_LIMIT)

        self._calls.run(
            find,
            lambda hits: self._hits_arrived(generation, hits),
            self._search_failed,
            receiver=self,
            label=translate("CaseList", "Searching…"),
        )

    def _hits_arrived(self, generation: int, hits: list[SearchHit]) -> None:
        if generation != self._search_generation or not self.searching:
            return
        self._hits = hits
        self._show_hits()

    def _show_hits(self) -> None:
        chosen = self.current_filter()
        shown = [
            h
            for h in self._hits
            if (chosen.status is None or h.case.status is chosen.status)
            and (not chosen.not_closed or h.case.status is not CaseStatus.CLOSED)
            and (chosen.risk is None or h.case.risk_level is chosen.risk)
            and (chosen.marac_due is None or h.case.marac_due is chosen.marac_due)
            and (self.mode != self.MINE or h.case.worker == self._username)
            and (chosen.worker_id is None or self._worker_matches(h, chosen.worker_id))
        ]
        self.search_model.set_records(shown)
        fit_columns(self.table)
        self._show_model(self.search_model)
        set_message(self.problem_label, None)
        self._update_count()

    def _worker_matches(self, hit: SearchHit, worker_id: int) -> bool:
        if worker_id == self._user_id:
            return hit.case.worker == self._username
        name = self.worker_filter.text_of(worker_id)
        return bool(name) and hit.case.worker == name

    def _search_failed(self, error: BaseException) -> None:
        set_message(self.problem_label, error_sentence(error))

    # -- results -------------------------------------------------------------------------------

    def _load_failed(self, error: object) -> None:
        if isinstance(error, BaseException):
            set_message(self.problem_label, error_sentence(error))

    def _page_loaded(self, _rows: int) -> None:
        if self.model.pages_fetched == 1:
            fit_columns(self.table)
        self._update_count()

    def _update_count(self, *_args: object) -> None:
        if self.table.model() is self.search_model:
            shown = self.search_model.rowCount()
            if not self.searching:
                text = translate("CaseList", "Type at least two characters to search.")
            elif shown == 1:
                text = translate("CaseList", "1 case found.")
            else:
                text = translate("CaseList", "{count} cases found, best matches first.").format(
                    count=shown
                )
            if len(self._hits) >= SEARCH_LIMIT:
                text += " " + translate(
                    "CaseList", "Only the best {limit} are shown; type more to narrow it."
                ).format(limit=SEARCH_LIMIT)
        else:
            rows = self.model.rowCount()
            if self.model.loading and rows == 0:
                text = translate("CaseList", "Loading cases…")
            elif self.model.exhausted:
                text = (
                    translate("CaseList", "1 case.")
                    if rows == 1
                    else translate("CaseList", "{count} cases.").format(count=rows)
                )
            else:
                order = order_text(self.model.order_by, self.model.descending)
                text = translate("CaseList", "{count} cases loaded, {order}; scroll for more.")
                text = text.format(count=rows, order=order)
        self.count_label.setText(text)
        self.count_label.setAccessibleDescription(text)

    def _activated(self, index: QModelIndex) -> None:
        record = index.data(RECORD_ROLE)
        if isinstance(record, SearchHit):
            self.case_chosen.emit(record.case.id)
        elif isinstance(record, CaseSummary):
            self.case_chosen.emit(record.id)
