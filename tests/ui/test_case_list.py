"""The case lists: a lazy model over keyset pages, filters, type-ahead search."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.crypto.device import DeviceSecrets
from app.models.cases import sort_key
from app.models.records import Answer, CaseDetails, CaseStatus, CaseSummary, RiskLevel
from app.services import accounts, cases, risk
from app.services.search import SearchHit
from app.services.session import Session, uk_today
from app.ui.case_list import (
    PAGE_SIZE,
    SORT_ORDERS,
    CaseFilter,
    CaseListModel,
    CaseListPage,
    SearchResultsModel,
)
from app.ui.main_window import MainWindow
from app.ui.store_calls import StoreCalls
from tests.helpers import (
    CASEWORKER,
    CASEWORKER2,
    CASEWORKER_PW,
    MANAGER,
    MANAGER_PW,
    StoreCopy,
)
from tests.services.casework import TODAY, new_case, person, referral, signed_in, user_id
from tests.ui.conftest import LARGE_CASES, MakeApp, open_main, wait_calls


@pytest.fixture
def caseworker_calls(store: StoreCopy) -> Iterator[tuple[Session, StoreCalls]]:
    """Seven cases for the caseworker; their session behind a queue of store calls."""
    with signed_in(store, CASEWORKER) as session:
        for i in range(7):
            new_case(session, person("Robin", f"Tester{i}"))
    session = accounts.sign_in(
        store.path, CASEWORKER, CASEWORKER_PW, device=DeviceSecrets(store.keyring)
    )
    calls = StoreCalls(session)
    yield session, calls
    calls.close()
    accounts.sign_out(session)


def test_the_case_list_model_passes_the_model_tester(
    qtbot: QtBot, qtmodeltester: ModelTester, caseworker_calls: tuple[Session, StoreCalls]
) -> None:
    _session, calls = caseworker_calls
    model = CaseListModel(calls, page_size=3)
    qtmodeltester.check(model)  # the tester itself asks for more after every insert
    qtbot.waitUntil(lambda: model.rowCount() >= 3 and not calls.busy)
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda: not calls.busy)
    assert model.rowCount() == 7 and model.exhausted
    assert model.pages_fetched == 3  # 3 + 3 + 1: the short page says there is no more
    references = [model.summary(r).reference for r in range(7)]  # type: ignore[union-attr]
    assert references == sorted(references)
    assert model.index(0, 1).data() == "Robin Tester0"
    model.set_filter(CaseFilter(status=CaseStatus.CLOSED))
    qtbot.waitUntil(lambda: not calls.busy)
    assert model.rowCount() == 0 and model.exhausted
    model.set_filter(CaseFilter(status=CaseStatus.REFERRAL))
    qtbot.waitUntil(lambda: model.rowCount() == 3)
    model.sort(1, Qt.SortOrder.DescendingOrder)  # a new order starts again from the first page
    qtbot.waitUntil(lambda: model.rowCount() == 3 and not calls.busy)
    assert model.order_by == "client" and model.descending
    assert model.index(0, 1).data() == "Robin Tester6"
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda: not calls.busy)
    assert [model.index(r, 1).data() for r in range(7)] == [
        f"Robin Tester{i}" for i in range(6, -1, -1)
    ]
    model.clear()
    assert model.rowCount() == 0 and not model.canFetchMore(QModelIndex())


def test_fetch_more_never_asks_twice_at_once(
    qtbot: QtBot, caseworker_calls: tuple[Session, StoreCalls]
) -> None:
    _session, calls = caseworker_calls
    model = CaseListModel(calls, page_size=3)
    before = calls.calls_started
    model.fetchMore(QModelIndex())
    assert model.loading and not model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())  # the view asks again before the page is back
    model.fetchMore(QModelIndex())
    assert calls.calls_started == before + 1
    qtbot.waitUntil(lambda: model.rowCount() == 3)
    assert model.canFetchMore(QModelIndex())


def test_a_page_for_an_old_filter_is_dropped(
    qtbot: QtBot, caseworker_calls: tuple[Session, StoreCalls]
) -> None:
    _session, calls = caseworker_calls
    model = CaseListModel(calls, page_size=3)
    model.fetchMore(QModelIndex())
    model.set_filter(CaseFilter(status=CaseStatus.CLOSED))  # before the first page is back
    qtbot.waitUntil(lambda: not calls.busy)
    assert model.rowCount() == 0 and model.case_filter.status is CaseStatus.CLOSED


def test_the_search_results_model_passes_the_model_tester(
    qtmodeltester: ModelTester, caseworker_calls: tuple[Session, StoreCalls]
) -> None:
    session, _calls = caseworker_calls
    summaries = cases.list_cases(session, limit=3)
    model = SearchResultsModel()
    qtmodeltester.check(model)
    model.set_records([SearchHit(s, ("person", "note")) for s in summaries])
    assert model.rowCount() == 3
    assert model.index(0, 6).data() == "a person, a note"
    model.set_records([])
    assert model.rowCount() == 0


# -- a large store --------------------------------------------------------------------------------


def test_a_large_store_shows_its_first_rows_without_loading_them_all(
    qtbot: QtBot, make_app: MakeApp, large_store: StoreCopy
) -> None:
    _app, main = open_main(qtbot, make_app, large_store, MANAGER, MANAGER_PW)
    main.show_area(main.team_cases)
    page = main.team_cases
    model = page.model
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    wait_calls(qtbot, main)
    assert model.rows_fetched == PAGE_SIZE  # one page of 100, out of 2,000
    assert model.pages_fetched == 1
    assert model.canFetchMore(QModelIndex())
    # Team cases start on the cases still being worked, newest activity first, and say so.
    assert page.count_label.text() == "100 cases loaded, newest activity first; scroll for more."
    assert page.sort_choice.currentText() == "Sorted newest activity first"
    page.sort_choice.set_value(("reference", False))
    wait_calls(qtbot, main)
    assert page.count_label.text() == "100 cases loaded, in reference order; scroll for more."

    # Scrolling to the end asks for the next page, and only that.
    fetched = model.pages_fetched
    page.table.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE_SIZE)
    wait_calls(qtbot, main)
    assert model.pages_fetched == fetched + 1
    assert model.rows_fetched < LARGE_CASES

    # Keyset paging carries on from the last reference and ends exactly at the last case.
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
        wait_calls(qtbot, main)
    assert model.rowCount() == LARGE_CASES
    references = [model.summary(r).reference for r in range(model.rowCount())]  # type: ignore[union-attr]
    assert references == sorted(set(references))
    assert page.count_label.text() == f"{LARGE_CASES} cases."

    # A new order starts again from one page, and scrolling pages on in that order.
    header = page.table.horizontalHeader()
    for _ in range(2):  # Client, then Client again: Z to A
        spot = QPoint(header.sectionViewportPosition(1) + 5, header.height() // 2)
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=spot)
        # Back at the top at once, before the first page arrives: left scrolled down, the view
        # would show that page's last row and ask for a second page, or not, by timing.
        assert page.table.verticalScrollBar().value() == 0
        wait_calls(qtbot, main)
        assert model.rowCount() == PAGE_SIZE
    assert header.sortIndicatorSection() == 1
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert model.rowCount() == PAGE_SIZE
    assert page.count_label.text() == "100 cases loaded, by client, Z to A; scroll for more."
    assert model.index(0, 1).data() == f"Given{LARGE_CASES - 1:05d} Family{LARGE_CASES - 1:05d}"
    page.table.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE_SIZE)
    wait_calls(qtbot, main)
    names = [model.index(r, 1).data() for r in range(model.rowCount())]
    assert names == [f"Given{i:05d} Family{i:05d}" for i in range(LARGE_CASES - 1, 1799, -1)]


def test_filters_query_again_and_search_finds_as_you_type(
    qtbot: QtBot, make_app: MakeApp, large_store: StoreCopy
) -> None:
    _app, main = open_main(qtbot, make_app, large_store, MANAGER, MANAGER_PW)
    page = main.team_cases
    main.show_area(page)
    qtbot.waitUntil(lambda: page.model.rowCount() == PAGE_SIZE)
    wait_calls(qtbot, main)
    assert page.worker_filter.count() >= 3  # any worker, then the team

    page.status_filter.set_value(CaseStatus.CLOSED)
    wait_calls(qtbot, main)
    assert page.model.case_filter.status is CaseStatus.CLOSED
    assert page.model.rowCount() == 0 and page.count_label.text() == "0 cases."
    page.status_filter.set_value(None)
    page.risk_filter.set_value(RiskLevel.HIGH)
    wait_calls(qtbot, main)
    assert page.model.rowCount() == 0  # nothing assessed yet
    page.risk_filter.set_value(None)
    wait_calls(qtbot, main)
    assert page.model.rowCount() == PAGE_SIZE

    # Ctrl+F puts the cursor in the search box of the list in view.
    main.activateWindow()
    qtbot.waitUntil(lambda: main.isActiveWindow())
    main.find_action.trigger()
    assert page.search_field.hasFocus()
    qtbot.keyClicks(page.search_field, "Family01234")
    qtbot.waitUntil(lambda: page.search_model.rowCount() == 1)
    wait_calls(qtbot, main)
    assert page.table.model() is page.search_model
    assert [h.case.client_name for h in page.search_model.records] == ["Given01234 Family01234"]
    assert page.count_label.text() == "1 case found."
    page.search_field.clear()
    assert page.table.model() is page.model


def test_a_caseworkers_list_holds_only_their_cases(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, MANAGER) as manager:
        mine = user_id(manager, CASEWORKER)
        cases.create_referral(
            manager, person("Ada", "Mine"), new_referral_details(), allocate_to=mine
        )
        cases.create_referral(manager, person("Bo", "Theirs"), new_referral_details())
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    page = main.my_cases
    qtbot.waitUntil(lambda: page.model.exhausted)
    assert [page.model.summary(r).client_name for r in range(page.model.rowCount())] == [  # type: ignore[union-attr]
        "Ada Mine"
    ]
    assert not page.worker_filter.isVisibleTo(page)


def new_referral_details() -> CaseDetails:
    return CaseDetails(referral_date=uk_today(), referral_source="police")


def test_opening_a_case_from_the_list(
    qtbot: QtBot, make_app: MakeApp, large_store: StoreCopy
) -> None:
    _app, main = open_main(qtbot, make_app, large_store, CASEWORKER, CASEWORKER_PW)
    page: CaseListPage = main.my_cases
    qtbot.waitUntil(lambda: page.model.rowCount() == PAGE_SIZE)
    index = page.model.index(5, 0)
    page.table.setCurrentIndex(index)
    page.table.activated.emit(index)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    assert isinstance(main, MainWindow) and main.case_page is not None
    assert main.case_page.view.case.reference == page.model.summary(5).reference  # type: ignore[union-attr]
    assert main.pages.currentWidget() is main.case_page


def test_ctrl_f_away_from_a_list_goes_to_search(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, CASEWORKER) as session:
        case_id, _ = new_case(session, person("Robin", "Ashdown", phones=("07700 900111",)))
        new_case(session, person("Alex", "Other"))
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    main.open_case(case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    main.activateWindow()
    qtbot.waitUntil(lambda: main.isActiveWindow())
    qtbot.keyClick(main, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    page = main.search_page
    assert main.pages.currentWidget() is page and page.search_field.hasFocus()
    qtbot.keyClicks(page.search_field, "07700 900111")
    qtbot.waitUntil(lambda: page.search_model.rowCount() == 1)
    assert page.search_model.records[0].case.id == case_id
    assert page.search_model.index(0, 6).data() == "a person"
    qtbot.keyClick(page.table, Qt.Key.Key_Down)
    page.table.activated.emit(page.table.currentIndex())
    qtbot.waitUntil(lambda: main.pages.currentWidget() is main.case_page)


# -- sorting and the MARAC filter --------------------------------------------------------------

# Clients in reference order; sorted by name, each of the three-row pages ends inside a run of
# one name, in both directions (A A B | B C C | C D and D C C | C B B | A A).
CLIENTS = [
    ("Cara", "Lane"),
    ("Abi", "Moss"),
    ("Dot", "King"),
    ("Bea", "Hart"),
    ("Cara", "Lane"),
    ("Abi", "Moss"),
    ("Bea", "Hart"),
    ("Cara", "Lane"),
]


def expected_order(rows: list[CaseSummary], order_by: str, descending: bool) -> list[str]:
    """The references in the order the list must show, worked out here rather than in SQL."""
    ordered = sorted(rows, key=lambda s: (sort_key(s, order_by), s.reference), reverse=descending)
    return [s.reference for s in ordered]


def fetch_all(qtbot: QtBot, model: CaseListModel, calls: StoreCalls) -> None:
    qtbot.waitUntil(lambda: not calls.busy)
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda: not calls.busy)


def references(model: CaseListModel) -> list[str]:
    return [model.summary(r).reference for r in range(model.rowCount())]  # type: ignore[union-attr]


def click_heading(qtbot: QtBot, page: CaseListPage, column: int) -> None:
    header = page.table.horizontalHeader()
    spot = QPoint(
        header.sectionViewportPosition(column) + header.sectionSize(column) // 2,
        header.height() // 2,
    )
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=spot)


@pytest.fixture
def named_calls(store: StoreCopy) -> Iterator[tuple[Session, StoreCalls]]:
    """The caseworker's cases for CLIENTS; their session behind a queue of store calls."""
    with signed_in(store, CASEWORKER) as session:
        for given, family in CLIENTS:
            new_case(session, person(given, family))
    session = accounts.sign_in(
        store.path, CASEWORKER, CASEWORKER_PW, device=DeviceSecrets(store.keyring)
    )
    calls = StoreCalls(session)
    yield session, calls
    calls.close()
    accounts.sign_out(session)


def test_clicking_the_client_heading_sorts_both_ways_across_page_boundaries(
    qtbot: QtBot, named_calls: tuple[Session, StoreCalls]
) -> None:
    session, calls = named_calls
    page = CaseListPage(calls, session, CaseListPage.MINE, page_size=3)
    qtbot.addWidget(page)
    page.resize(1000, 600)
    page.show()
    page.start()
    model = page.model
    fetch_all(qtbot, model, calls)
    rows = [model.summary(r) for r in range(model.rowCount())]
    summaries = [r for r in rows if r is not None]
    assert len(summaries) == len(CLIENTS)
    assert references(model) == expected_order(summaries, "reference", False)
    header = page.table.horizontalHeader()
    assert header.isSortIndicatorShown() and header.sectionsClickable()
    assert header.sortIndicatorSection() == 0

    pages = model.pages_fetched
    click_heading(qtbot, page, 1)
    assert header.sortIndicatorSection() == 1
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    assert model.order_by == "client" and not model.descending
    assert model.rowCount() == 0 and model.loading  # from the first page again, in the new order
    fetch_all(qtbot, model, calls)  # (the view itself asks for more while it has room)
    assert model.pages_fetched == pages + 3
    assert references(model) == expected_order(summaries, "client", False)
    names = [model.index(r, 1).data() for r in range(model.rowCount())]
    assert names[2:4] == ["Bea Hart", "Bea Hart"]  # one name either side of a page boundary

    pages = model.pages_fetched
    click_heading(qtbot, page, 1)  # again: the other way round
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert model.order_by == "client" and model.descending
    fetch_all(qtbot, model, calls)
    assert model.pages_fetched == pages + 3
    assert references(model) == expected_order(summaries, "client", True)
    names = [model.index(r, 1).data() for r in range(model.rowCount())]
    assert names[2:4] == ["Cara Lane", "Cara Lane"]
    assert len(set(references(model))) == len(CLIENTS)
    assert page.count_label.text() == f"{len(CLIENTS)} cases."

    # Search hits keep their own order: the headings do not sort them.
    page.search_field.setText("Cara Lane")
    page.run_search()
    qtbot.waitUntil(lambda: page.table.model() is page.search_model and not calls.busy)
    assert not header.isSortIndicatorShown() and not header.sectionsClickable()
    page.search_field.clear()
    assert page.table.model() is model
    assert header.isSortIndicatorShown() and header.sortIndicatorSection() == 1
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert model.descending  # putting the indicator back did not sort again


def test_the_list_sorts_from_the_keyboard_and_the_choice_follows_the_headings(
    qtbot: QtBot, named_calls: tuple[Session, StoreCalls]
) -> None:
    session, calls = named_calls
    page = CaseListPage(calls, session, CaseListPage.MINE, page_size=3)
    qtbot.addWidget(page)
    page.resize(1000, 600)
    page.show()
    page.start()
    model = page.model
    fetch_all(qtbot, model, calls)
    summaries = [s for s in (model.summary(r) for r in range(model.rowCount())) if s is not None]
    header = page.table.horizontalHeader()
    assert page.sort_choice.currentText() == "Sorted in reference order"

    # Tab from the list reaches the choice under it; the arrow keys change the order.
    page.activateWindow()
    page.table.setFocus()
    qtbot.waitUntil(page.table.hasFocus)
    qtbot.keyClick(page.table, Qt.Key.Key_Tab)
    assert page.sort_choice.hasFocus()
    qtbot.keyClick(page.sort_choice, Qt.Key.Key_Down)
    assert (model.order_by, model.descending) == ("reference", True)
    assert header.sortIndicatorSection() == 0
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    for _ in range(2):  # client A to Z, then client Z to A
        qtbot.keyClick(page.sort_choice, Qt.Key.Key_Down)
    fetch_all(qtbot, model, calls)
    assert references(model) == expected_order(summaries, "client", True)
    assert header.sortIndicatorSection() == 1

    # A click on a heading shows in the choice.
    click_heading(qtbot, page, 5)
    assert page.sort_choice.currentText() == "Sorted by next review, soonest first"


# (client, worker, status, DASH "yes" answers, next review in days): every sort key has ties
# and gaps (unallocated, not assessed, no review date).
VARIED = [
    (("Cara", "Lane"), CASEWORKER, CaseStatus.OPEN, 14, 10),
    (("Abi", "Moss"), None, CaseStatus.REFERRAL, None, None),
    (("Dot", "King"), CASEWORKER2, CaseStatus.CLOSED, 3, 5),
    (("Bea", "Hart"), CASEWORKER, CaseStatus.REFERRAL, 10, None),
    (("Cara", "Lane"), CASEWORKER2, CaseStatus.OPEN, None, 10),
    (("Abi", "Moss"), CASEWORKER, CaseStatus.OPEN, 3, 40),
    (("Bea", "Hart"), None, CaseStatus.CLOSED, None, 5),
    (("Cara", "Lane"), CASEWORKER, CaseStatus.REFERRAL, 10, 40),
    (("Eve", "Ray"), CASEWORKER2, CaseStatus.OPEN, 15, None),
]


def make_varied_cases(store: StoreCopy) -> None:
    """The VARIED cases, made by a manager through the services. The DASH with 14 or more
    "yes" answers makes a case high risk with a MARAC referral due."""
    with signed_in(store, MANAGER) as manager:
        for (given, family), worker, status, yes, review in VARIED:
            details = referral(
                next_review=None if review is None else TODAY + dt.timedelta(days=review)
            )
            worker_id = None if worker is None else user_id(manager, worker)
            case_id = cases.create_referral(
                manager, person(given, family), details, allocate_to=worker_id
            )
            if yes is not None:
                client = cases.open_case(manager, case_id).contact.client_id
                assert client is not None
                answers = {n: Answer.YES if n <= yes else Answer.NO for n in range(1, 25)}
                risk.record_dash(manager, case_id, client, answers, completed_on=TODAY)
            if status is not CaseStatus.REFERRAL:
                cases.open_referral(manager, case_id, TODAY)
            if status is CaseStatus.CLOSED:
                cases.close_case(manager, case_id, TODAY, "Support complete")


@pytest.fixture
def varied_calls(store: StoreCopy) -> Iterator[tuple[Session, StoreCalls]]:
    """The VARIED cases; the manager's session behind a queue of store calls."""
    make_varied_cases(store)
    session = accounts.sign_in(store.path, MANAGER, MANAGER_PW, device=DeviceSecrets(store.keyring))
    calls = StoreCalls(session)
    yield session, calls
    calls.close()
    accounts.sign_out(session)


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("order_by", SORT_ORDERS)
def test_every_order_pages_through_every_case_once(
    qtbot: QtBot,
    varied_calls: tuple[Session, StoreCalls],
    order_by: str,
    descending: bool,
) -> None:
    session, calls = varied_calls
    everything = cases.list_cases(session, limit=1000)
    assert len(everything) == len(VARIED)
    model = CaseListModel(calls, page_size=2)
    model.sort(
        SORT_ORDERS.index(order_by),
        Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder,
    )
    fetch_all(qtbot, model, calls)
    assert model.exhausted and model.pages_fetched == len(VARIED) // 2 + 1
    assert references(model) == expected_order(everything, order_by, descending)


def test_the_marac_filter_and_the_risk_column(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    make_varied_cases(store)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.team_cases
    main.show_area(page)
    page.status_filter.set_value(None)  # closed cases too
    qtbot.waitUntil(lambda: page.model.exhausted)
    wait_calls(qtbot, main)
    assert page.model.rowCount() == len(VARIED)
    assert page.marac_filter.isVisibleTo(page)
    risks = {page.model.index(r, 4).data() for r in range(page.model.rowCount())}
    assert "High, MARAC referral due" in risks and "Medium" in risks and "Not assessed" in risks

    page.marac_filter.set_value(True)
    wait_calls(qtbot, main)
    assert page.model.case_filter.marac_due is True
    due = [page.model.summary(r) for r in range(page.model.rowCount())]
    assert sorted(s.client_name for s in due if s is not None) == ["Cara Lane", "Eve Ray"]
    assert all(s is not None and s.marac_due for s in due)
    assert {page.model.index(r, 4).data() for r in range(2)} == {"High, MARAC referral due"}

    page.marac_filter.set_value(False)
    wait_calls(qtbot, main)
    assert page.model.rowCount() == len(VARIED) - 2
    page.model.sort(1, Qt.SortOrder.AscendingOrder)  # a filter and an order together
    wait_calls(qtbot, main)
    assert page.model.index(0, 1).data() == "Abi Moss"
    assert page.model.case_filter.marac_due is False

    # Search hits answer to the same filter.
    page.marac_filter.set_value(True)
    wait_calls(qtbot, main)
    qtbot.keyClicks(page.search_field, "Cara Lane")
    qtbot.waitUntil(lambda: page.table.model() is page.search_model)
    wait_calls(qtbot, main)
    assert [h.case.marac_due for h in page.search_model.records] == [True]
    page.marac_filter.set_value(None)
    assert len(page.search_model.records) == 3

    # After a referral to MARAC the case is no longer due.
    case_id = next(h.case.id for h in page.search_model.records if h.case.marac_due)
    main.calls.run(lambda s: risk.record_marac_referral(s, case_id, TODAY), lambda _v: None)
    wait_calls(qtbot, main)
    page.search_field.clear()
    page.marac_filter.set_value(True)
    wait_calls(qtbot, main)
    assert [page.model.summary(r).client_name for r in range(page.model.rowCount())] == [  # type: ignore[union-attr]
        "Eve Ray"
    ]
