"""Each role's window offers only what the role may use, and the services refuse the rest."""

from __future__ import annotations

import datetime as dt

import pytest
from pytestqt.qtbot import QtBot

from app.errors import PermissionDenied
from app.models.users import Role
from app.services import access, accounts, audit, cases, sharing
from app.services.session import uk_today
from app.ui.case_view import CasePage
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER_PW,
    DPO,
    DPO_PW,
    MANAGER,
    MANAGER_PW,
    StoreCopy,
)
from tests.services.casework import new_case, person, signed_in
from tests.ui.conftest import MakeApp, open_main, wait_calls


@pytest.mark.parametrize(
    ("username", "password", "areas"),
    [
        (CASEWORKER, CASEWORKER_PW, ["My cases", "Conflicts", "This week", "Search"]),
        (
            MANAGER,
            MANAGER_PW,
            [
                "My cases",
                "Team cases",
                "Shares to review",
                "Conflicts",
                "This week",
                "Search",
                "Audit",
                "Subject access",
                "Figures",
            ],
        ),
        (ADMIN, ADMIN_PW, ["Audit", "Users and settings", "Retention", "Backups", "Devices"]),
        (DPO, DPO_PW, ["Audit", "Subject access", "This week", "Breach log", "Figures"]),
    ],
)
def test_each_role_sees_only_its_areas(
    qtbot: QtBot,
    make_app: MakeApp,
    store: StoreCopy,
    username: str,
    password: str,
    areas: list[str],
) -> None:
    _app, main = open_main(qtbot, make_app, store, username, password)
    assert main.area_titles() == areas
    menus = [a.text() for a in main.menuBar().actions()]
    case_roles = "My cases" in areas
    assert ("&Cases" in menus) == case_roles
    assert main.new_referral_action.isVisible() == case_roles
    # Break-glass is a caseworker's step: a manager reaches the team's cases anyway.
    assert main.break_glass_action.isVisible() == (username == CASEWORKER)
    assert hasattr(main, "users_page") == ("Users and settings" in areas)
    assert hasattr(main, "audit_page") == ("Audit" in areas)
    assert hasattr(main, "retention_page") == ("Retention" in areas)
    assert hasattr(main, "backups_page") == ("Backups" in areas)
    assert hasattr(main, "sar_page") == ("Subject access" in areas)
    assert hasattr(main, "team_cases") == ("Team cases" in areas)
    assert main.windowTitle() == "Safecase"


def test_a_caseworkers_window_offers_no_manager_or_admin_screens_and_the_services_refuse(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, CASEWORKER) as session:
        case_id, _client = new_case(session, person("Robin", "Ashdown"))
    app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    main.open_case(case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    page = main.case_page
    assert isinstance(page, CasePage)
    tabs = [page.tabs.tabText(i).replace("&", "") for i in range(page.tabs.count())]
    assert "History" not in tabs
    assert tabs == [
        "People",
        "Contact details",
        "Consent",
        "Sharing log",
        "Notes and contacts",
        "Risk",
        "MARAC and history",
        "Safety plan",
        "Categories",
        "Legal",
        "Agencies and needs",
    ]
    for action in page.manager_actions:
        assert not action.isVisible()  # so neither the Case menu nor More actions shows it
        assert action in page.more_menu.actions()
    assert page.new_note_action.isEnabled()

    # Whatever the window shows, the services say no to a caseworker.
    session = app.session
    assert session is not None
    main.calls.close()  # the test uses the session directly from here on
    refused = [
        lambda: audit.recent(session),
        lambda: audit.verify(session),
        lambda: accounts.list_users(session),
        lambda: accounts.add_user(
            session, "eve", "quartz-ember-willow-71", frozenset({Role.ADMIN})
        ),
        lambda: accounts.set_idle_lock_minutes(session, 9),
        lambda: cases.close_case(session, case_id, uk_today(), "done"),
        lambda: cases.allocate(session, case_id, None),
        lambda: cases.place_legal_hold(
            session, case_id, "proceedings", uk_today() + dt.timedelta(days=30)
        ),
        lambda: access.break_glass_log(session),
        lambda: sharing.awaiting_review(session),
    ]
    for call in refused:
        with pytest.raises(PermissionDenied):
            call()


def test_an_admin_cannot_reach_case_records(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    main.open_case(1)  # nothing happens: the window has no case area for an admin
    main.new_referral()
    wait_calls(qtbot, main)
    assert main.case_page is None and main.dialog is None
    session = app.session
    assert session is not None
    main.calls.close()
    with pytest.raises(PermissionDenied):
        cases.list_cases(session)
