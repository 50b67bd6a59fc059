"""The window decides nothing about roles itself: it offers an area or an action when the
service that owns it answers its ``may_*`` question (and that service checks the call again)."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.services import (
    access,
    accounts,
    audit,
    backup,
    cases,
    devices,
    figures,
    retention,
    rights,
    sar,
    sharing,
)
from app.services.session import Session
from tests.helpers import ADMIN, ADMIN_PW, CASEWORKER, CASEWORKER_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import new_case, signed_in
from tests.ui.conftest import MakeApp, open_main, wait_calls


def answer(monkeypatch: pytest.MonkeyPatch, module: object, name: str, value: bool) -> None:
    def question(_session: Session) -> bool:
        return value

    monkeypatch.setattr(module, name, question)


def test_a_manager_the_services_say_no_to_is_offered_no_manager_areas_or_actions(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    with signed_in(store, MANAGER) as session:
        case_id, _ = new_case(session)
    for module, name in (
        (cases, "may_manage"),
        (cases, "may_read_history"),
        (sharing, "may_review"),
        (sar, "may_prepare_packs"),
        (audit, "may_read"),
        (figures, "may_see_figures"),
    ):
        answer(monkeypatch, module, name, False)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    assert main.area_titles() == ["My cases", "Conflicts", "This week", "Search", "Subject access"]
    assert not main.sar_page.can_prepare
    main.open_case(case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    page = main.case_page
    assert page is not None
    assert not page.allocate_action.isVisible() and not page.close_action.isVisible()
    tabs = [page.tabs.tabText(i).replace("&", "") for i in range(page.tabs.count())]
    assert "History" not in tabs


def test_areas_follow_the_services_answers_for_other_roles(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer(monkeypatch, access, "may_break_glass", False)
    answer(monkeypatch, rights, "may_read_register", True)
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    assert not main.break_glass_action.isVisible()
    assert main.area_titles() == ["My cases", "Conflicts", "This week", "Search", "Subject access"]


def test_an_admin_the_services_say_no_to_sees_no_admin_areas(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer(monkeypatch, accounts, "may_manage_users", False)
    answer(monkeypatch, retention, "may_review_retention", False)
    answer(monkeypatch, backup, "may_make_backups", False)
    answer(monkeypatch, devices, "may_manage_devices", False)
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    assert main.area_titles() == ["Audit"]


def test_change_my_password_is_offered_only_when_the_service_says_so(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer(monkeypatch, accounts, "may_change_own_password", False)
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    assert not main.change_password_action.isVisible()
    main.change_password()
    wait_calls(qtbot, main)
    assert main.dialog is None  # nothing opens behind the menu's back
