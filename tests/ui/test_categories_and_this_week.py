"""The client's categories, the legal record and the agencies and needs on the case screen, and
the This week page, driven through the real widgets (the session clock set to fixed dates)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.models import cases as case_model
from app.models.categories import (
    AgencyType,
    Answer,
    ChildDetails,
    ChildProtection,
    Ethnicity,
    LegalKind,
    LivesWith,
    OrderType,
    PersonCategories,
    ReferralSource,
)
from app.models.records import CaseRole, ConsentHow, ConsentPurpose, ConsentState
from app.models.rights import RightKind
from app.services import cases, categories, consent, rights
from app.ui.case_view import CasePage
from app.ui.main_window import MainWindow
from tests.helpers import (
    CASEWORKER,
    CASEWORKER_PW,
    DPO,
    DPO_PW,
    MANAGER,
    StoreCopy,
)
from tests.services.casework import new_case, person, signed_in
from tests.services.closed_cases import clock
from tests.ui.conftest import MakeApp, open_main, wait_calls

D = dt.date
MONDAY = D(2026, 3, 2)


def _open_case(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, case_id: int
) -> tuple[MainWindow, CasePage]:
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    main.open_case(case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    wait_calls(qtbot, main)
    assert main.case_page is not None
    return main, main.case_page


def _down(qtbot: QtBot, widget: object, times: int) -> None:
    widget.setFocus()  # type: ignore[attr-defined]
    for _ in range(times):
        qtbot.keyClick(widget, Qt.Key.Key_Down)  # type: ignore[arg-type]


def test_the_clients_categories_are_chosen_and_saved_on_the_case_screen(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
    main, page = _open_case(qtbot, make_app, store, case_id)
    page.tabs.setCurrentWidget(page.categories_tab)
    ethnicity = page.category_fields["ethnicity"]
    assert ethnicity.currentText() == "Not asked"
    assert ethnicity.count() == 21  # the 19 ONS 2021 categories, not asked and declined
    _down(qtbot, ethnicity, 2)  # past "Declined to say" to the first category
    _down(qtbot, page.category_fields["no_recourse_to_public_funds"], 2)  # Yes
    _down(qtbot, page.category_fields["pregnant"], 1)  # Declined
    qtbot.keyClicks(page.language_field, "Bengali")
    qtbot.mouseClick(page.categories_save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert page.status_message.text() == "The client's categories are saved."
    session = main.calls.session
    assert session is not None
    assert categories.person_categories(session, client) == PersonCategories(
        ethnicity=Ethnicity.BANGLADESHI,
        first_language="Bengali",
        no_recourse_to_public_funds=Answer.YES,
        pregnant=Answer.DECLINED,
    )
    page.reload()
    wait_calls(qtbot, main)
    assert ethnicity.currentText() == "Asian or Asian British: Bangladeshi"
    assert page.language_field.text() == "Bengali"


def test_court_dates_orders_bail_agencies_and_needs_are_recorded_on_the_case_screen(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _client = new_case(s)
    main, page = _open_case(qtbot, make_app, store, case_id)
    page.tabs.setCurrentWidget(page.legal_tab)
    _down(qtbot, page.legal_kind_field, 1)  # a protective order
    _down(qtbot, page.order_type_field, 1)  # non-molestation
    qtbot.mouseClick(page.legal_end_field.known, Qt.MouseButton.LeftButton)
    page.legal_end_field.edit.line.clear()
    qtbot.keyClicks(page.legal_end_field.edit.line, "1/9/2027")
    qtbot.keyClicks(page.court_field, "Northshire Family Court")
    qtbot.keyClicks(page.conditions_field, "Not to enter the street")
    qtbot.mouseClick(page.legal_add_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert page.status_message.text() == "Added to the legal record."
    assert [(i.kind, i.order_type, i.ends_on, i.conditions) for i in page.legal_model.records] == [
        (
            LegalKind.PROTECTIVE_ORDER,
            OrderType.NON_MOLESTATION,
            D(2027, 9, 1),
            "Not to enter the street",
        )
    ]

    page.tabs.setCurrentWidget(page.agencies_tab)
    _down(qtbot, page.agency_type_field, 6)  # housing
    qtbot.keyClicks(page.agency_name_field, "Housing options")
    qtbot.keyClicks(page.agency_contact_field, "Duty officer, 01632 960001")
    qtbot.mouseClick(page.agency_add_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert [(a.agency_type, a.contact) for a in page.agency_model.records] == [
        (AgencyType.HOUSING, "Duty officer, 01632 960001")
    ]
    qtbot.keyClicks(page.needs_field, "Rehousing and a solicitor")
    qtbot.keyClicks(page.services_field, "Counselling")
    qtbot.mouseClick(page.needs_save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert page.view is not None
    details = page.view.case.details
    assert (details.needs_assessment, details.other_services) == (
        "Rehousing and a solicitor",
        "Counselling",
    )


def _week_world(store: StoreCopy) -> tuple[str, str]:
    """A caseworker's case with a consent review overdue on MONDAY, a review in two days, a
    court date in five and another in nine; and an access request due within the week.
    Returns the case's reference and the request's."""
    with signed_in(store, CASEWORKER) as s:
        s.now = clock(MONDAY - dt.timedelta(days=40))
        case_id, client = new_case(s, referral=MONDAY - dt.timedelta(days=45))
        case = case_model.get(s.conn, case_id)
        assert case is not None
        cases.update_case(
            s,
            case_id,
            dataclasses.replace(case.details, next_review=MONDAY + dt.timedelta(days=2)),
        )
        for days in (5, 9):
            categories.add_legal_item(
                s, case_id, categories.LegalItem(LegalKind.COURT_DATE, MONDAY + dt.timedelta(days))
            )
        consent.record_consent(
            s,
            case_id,
            client,
            ConsentPurpose.SUPPORT,
            "",
            ConsentState.GIVEN,
            decided_on=MONDAY - dt.timedelta(days=40),
            how=ConsentHow.VERBAL,
            review_date=MONDAY - dt.timedelta(days=1),
        )
    with signed_in(store, MANAGER) as s:
        s.now = clock(MONDAY)
        request = rights.create_request(
            s,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="The data subject",
                received_on=MONDAY - dt.timedelta(days=27),
                subject_person_id=client,
                identity_confirmed_on=MONDAY - dt.timedelta(days=27),
            ),
        )
    return case.reference, request.reference


def _rows(main: MainWindow) -> list[tuple[str, ...]]:
    model = main.this_week_page.model
    return [
        tuple(str(model.index(r, c).data()) for c in range(model.columnCount()))
        for r in range(model.rowCount())
    ]


def _show_this_week(qtbot: QtBot, main: MainWindow, day: dt.date) -> None:
    session = main.calls.session
    assert session is not None
    session.now = clock(day)
    main.navigation.setCurrentRow(main.area_titles().index("This week"))
    wait_calls(qtbot, main)


def test_this_week_lists_what_is_due_overdue_first_and_opens_the_case(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    reference, _request = _week_world(store)
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    _show_this_week(qtbot, main, MONDAY)
    assert _rows(main) == [
        ("1 Mar 2026", "Overdue", "Consent review: Support from the service", reference),
        ("4 Mar 2026", "", "Case review", reference),
        ("7 Mar 2026", "", "Court date", reference),
    ]
    assert main.this_week_page.status_label.text() == "2 due this week, 1 overdue."
    page = main.this_week_page
    page.table.setCurrentIndex(page.model.index(2, 0))
    qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    assert main.case_page is not None and main.case_page.view is not None
    assert main.case_page.view.case.reference == reference
    # Six days on: the second court date has come into the week, the first is past.
    _show_this_week(qtbot, main, MONDAY + dt.timedelta(days=6))
    main.this_week_page.refresh()
    wait_calls(qtbot, main)
    whats = [(row[0], row[2]) for row in _rows(main)]
    assert ("11 Mar 2026", "Court date") in whats and ("7 Mar 2026", "Court date") not in whats


def test_the_dpo_sees_the_registers_deadlines_and_opens_the_request(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    _reference, request = _week_world(store)
    _app, main = open_main(qtbot, make_app, store, DPO, DPO_PW)
    _show_this_week(qtbot, main, MONDAY)
    rows = _rows(main)
    assert [(r[2], r[3]) for r in rows] == [("Rights request deadline: Access", request)]
    page = main.this_week_page
    page.table.setCurrentIndex(page.model.index(0, 0))
    qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert main.pages.currentWidget() is main.sar_page
    selected = main.sar_page.selected()
    assert selected is not None and selected.reference == request


def test_a_childs_details_and_the_referral_source_are_saved_on_the_case_screen(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _client = new_case(s)
        child = cases.add_person(s, case_id, person("Kit", "Ashdown"), CaseRole.CHILD)
    main, page = _open_case(qtbot, make_app, store, case_id)
    page.tabs.setCurrentWidget(page.categories_tab)
    assert page.child_field.currentText() == "Kit Ashdown"
    qtbot.keyClicks(page.school_field, "Northshire Primary")
    _down(qtbot, page.protection_field, 5)  # a child protection plan
    _down(qtbot, page.lives_with_field, 2)  # with the client
    qtbot.mouseClick(page.child_save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert page.status_message.text() == "The child's details are saved."

    page.tabs.setCurrentWidget(page.agencies_tab)
    page.source_type_field.setFocus()
    qtbot.keyClick(page.source_type_field, Qt.Key.Key_Home)  # the police
    qtbot.keyClicks(page.referrer_field, "DC Rowe")
    qtbot.mouseClick(page.source_save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    session = main.calls.session
    assert session is not None
    assert categories.children(session, case_id) == [
        ChildDetails(
            child, "Northshire Primary", ChildProtection.CHILD_PROTECTION_PLAN, LivesWith.CLIENT
        )
    ]
    assert categories.referral_source(session, case_id) == ReferralSource(
        AgencyType.POLICE, "DC Rowe"
    )
    page.reload()
    wait_calls(qtbot, main)
    assert page.school_field.text() == "Northshire Primary"
    assert page.protection_field.currentText() == "Child protection plan"
