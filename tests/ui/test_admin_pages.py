"""Users and settings (admins) and Audit (managers, admins, the DPO)."""

from __future__ import annotations

from typing import Any

import pytest
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.crypto import vault as vaultlib
from app.crypto.device import DeviceSecrets
from app.errors import AccountDisabled, WrongPassword
from app.models.users import Role
from app.services import accounts
from app.ui.reviews_page import ReviewDialog
from app.ui.users_page import AddUserDialog, ResetPasswordDialog
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
from tests.services.casework import new_case, share_without_consent, signed_in
from tests.ui.conftest import MakeApp, answer, confirmation, open_main, wait_calls

NEW_USER, NEW_PW = "nell", "pumice-orchid-lantern-93"
ONE_TIME_PW = "saffron-glacier-meadow-31"


def test_an_admin_adds_disables_enables_and_resets_users(
    qtbot: QtBot, qtmodeltester: ModelTester, make_app: MakeApp, store: StoreCopy
) -> None:
    app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.users_page
    main.show_area(page)
    wait_calls(qtbot, main)
    qtmodeltester.check(page.model)
    assert [u.username for u in page.model.records] == sorted(
        [ADMIN, CASEWORKER, "cara", MANAGER, DPO]
    )
    assert page.idle_field.value() == 5

    page.add_button.click()
    dialog = page.dialog
    assert isinstance(dialog, AddUserDialog)
    qtbot.keyClicks(dialog.username_field, NEW_USER)
    qtbot.keyClicks(dialog.password_field, "password1234")
    assert "too easy to guess" in dialog.problem_label.text()  # said while typing
    dialog.password_field.clear()
    qtbot.keyClicks(dialog.password_field, NEW_PW)
    qtbot.keyClicks(dialog.confirm_field, NEW_PW)
    dialog.save_button.click()
    assert dialog.problem_label.text() == "Give the user at least one role."
    dialog.role_boxes[Role.CASEWORKER].setChecked(True)
    dialog.role_boxes[Role.MANAGER].setChecked(True)
    dialog.save_button.click()
    wait_calls(qtbot, main)
    added = [u for u in page.model.records if u.username == NEW_USER]
    assert added and added[0].roles == frozenset({Role.CASEWORKER, Role.MANAGER})
    assert page.status_label.text() == "User added."

    page.select_user(NEW_USER)
    assert page.disable_button.text() == "&Disable"
    # No key rotation: their slot stays for re-enabling.
    assert f"Disable {NEW_USER}?" in _disable(qtbot, main, NEW_USER, rotate=False)
    assert page.model.index(page.table.currentIndex().row(), 2).data() == "Disabled"
    assert page.disable_button.text() == "&Enable"
    page.disable_button.click()  # enabling asks nothing
    wait_calls(qtbot, main)
    assert page.selected_user() is not None and not page.selected_user().disabled  # type: ignore[union-attr]

    page.select_user(ADMIN)
    assert not page.disable_button.isEnabled()  # nobody disables themselves

    page.select_user(CASEWORKER)
    page.reset_button.click()
    reset = page.dialog
    assert isinstance(reset, ResetPasswordDialog)
    qtbot.keyClicks(reset.password_field, ONE_TIME_PW)
    qtbot.keyClicks(reset.confirm_field, ONE_TIME_PW)
    reset.save_button.click()
    assert "current password stops working" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert page.status_label.text().startswith("Password reset")

    page.idle_field.setValue(9)
    page.idle_save_button.click()
    wait_calls(qtbot, main)
    assert main.idle_timer.interval() == 9 * 60_000

    app.sign_out()
    device = DeviceSecrets(store.keyring)
    session = accounts.sign_in(store.path, CASEWORKER, ONE_TIME_PW, device=device)
    assert session.must_change_password
    accounts.sign_out(session)
    session = accounts.sign_in(store.path, NEW_USER, NEW_PW, device=device)
    assert session.roles == frozenset({Role.CASEWORKER, Role.MANAGER})
    accounts.sign_out(session)


def _disable(
    qtbot: QtBot,
    main: Any,
    name: str,
    *,
    rotate: bool | None = None,
    offers: list[str] | None = None,
) -> str:
    """Disable ``name`` on the users page, answering the question; ``rotate`` None takes the
    rotation as offered. Returns the question; ``offers`` gets the rotation's offer."""
    page = main.users_page
    page.select_user(name)
    page.disable_button.click()
    qtbot.waitUntil(lambda: confirmation() is not None)
    box = confirmation()
    assert box is not None
    offer = box.checkBox()
    assert offer.isChecked()  # the rotation is the default
    if offers is not None:
        offers.append(offer.text().replace("&", ""))
    if rotate is not None:
        offer.setChecked(rotate)
    question = answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    return question


def test_a_disabled_user_cannot_sign_in(qtbot: QtBot, make_app: MakeApp, store: StoreCopy) -> None:
    app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.users_page
    main.show_area(page)
    wait_calls(qtbot, main)
    _disable(qtbot, main, CASEWORKER, rotate=False)
    assert "still opens the store" in page.status_label.text()
    app.sign_out()
    with pytest.raises(AccountDisabled):
        accounts.sign_in(store.path, CASEWORKER, CASEWORKER_PW, device=DeviceSecrets(store.keyring))
    # Without the rotation their password still unseals the data key.
    vaultlib.open_with_password(
        store.path, CASEWORKER, CASEWORKER_PW, device=DeviceSecrets(store.keyring)
    ).close()


def test_disabling_offers_the_key_rotation_with_its_cost_and_does_it(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    """The admin is asked, with the time the rotation is expected to take; agreeing (the
    rotation is ticked by default) leaves the disabled user's slot unable to open the store."""
    app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.users_page
    main.show_area(page)
    wait_calls(qtbot, main)
    offers: list[str] = []
    assert f"Disable {CASEWORKER}?" in _disable(qtbot, main, CASEWORKER, offers=offers)
    assert "new data key" in offers[0] and "about 2 s" in offers[0]
    assert "new data key" in page.status_label.text()
    app.sign_out()
    with pytest.raises(WrongPassword):
        vaultlib.open_with_password(
            store.path, CASEWORKER, CASEWORKER_PW, device=DeviceSecrets(store.keyring)
        )
    session = accounts.sign_in(store.path, MANAGER, MANAGER_PW, device=DeviceSecrets(store.keyring))
    accounts.sign_out(session)


def test_audit_shows_the_latest_entries_and_checks_the_chain(
    qtbot: QtBot, qtmodeltester: ModelTester, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, CASEWORKER) as s:
        new_case(s)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.audit_page
    main.show_area(page)
    wait_calls(qtbot, main)
    qtmodeltester.check(page.model)
    qtmodeltester.check(page.glass_model)
    actions = [e.action for e in page.model.records]
    assert actions[0] == "sign_in" and "case_created" in actions  # newest first
    # Managers also see break-glass openings, and the overrides of the safe-contact rules.
    assert [page.tabs.tabText(i) for i in range(page.tabs.count())] == [
        "Entries",
        "Break-glass openings",
        "Safe-contact overrides",
    ]

    page.verify_button.click()
    wait_calls(qtbot, main)
    assert page.verification is not None and page.verification.ok
    assert page.result_label.text().startswith(f"All {page.verification.checked} entries check out")
    assert page.model.records[0].action == "audit_verified"


def test_the_dpo_reads_the_audit_without_break_glass_details(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, CASEWORKER) as s:
        new_case(s)
    _app, main = open_main(qtbot, make_app, store, DPO, DPO_PW)
    page = main.audit_page
    assert main.pages.currentWidget() is page
    wait_calls(qtbot, main)
    assert page.model.rowCount() > 0
    # No break-glass details; the overrides of the safe-contact rules, with their reasons.
    assert [page.tabs.tabText(i) for i in range(page.tabs.count())] == [
        "Entries",
        "Safe-contact overrides",
    ]
    # "Who" names the staff account, the caseworker's too, never "user 2".
    who = {page.model.index(r, 2).data() for r in range(page.model.rowCount())}
    assert {DPO, CASEWORKER} <= who
    assert not any(name.startswith("user ") for name in who)


def test_a_manager_reviews_a_share_made_without_consent(
    qtbot: QtBot, qtmodeltester: ModelTester, make_app: MakeApp, store: StoreCopy
) -> None:
    case_id, _client_id = share_without_consent(store)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.reviews_page
    main.show_area(page)
    wait_calls(qtbot, main)
    qtmodeltester.check(page.model)
    assert page.model.rowCount() == 1
    assert page.model.index(0, 3).data() == "Northshire Homes"
    assert page.model.index(0, 1).data().startswith("SC-")  # the case's reference, not its id
    assert not page.refuse_button.isEnabled()  # nothing chosen yet

    page.table.selectRow(0)
    page.refuse_button.click()
    dialog = page.dialog
    assert isinstance(dialog, ReviewDialog)
    dialog.save_button.click()
    assert dialog.problem_label.text() == "Say what should happen now the share is not approved."
    dialog.discard()

    page.table.selectRow(0)
    page.open_button.click()
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    assert main.case_page is not None and main.case_page.view is not None
    assert main.case_page.view.case.id == case_id

    main.show_area(page)
    page.table.selectRow(0)
    page.approve_button.click()
    dialog = page.dialog
    assert isinstance(dialog, ReviewDialog)
    dialog.save_button.click()
    wait_calls(qtbot, main)
    assert page.model.rowCount() == 0
    assert page.status_label.text() == "Review recorded beside the share."
