"""The 3-laptop journey through the desktop app: three main windows in one process.

The team is set up through the services (the admin-manager's store from the template, two
caseworkers joining with new stores, as tests/sync/test_team_journey.py does); everything after
that is done in the windows with keys, clicks and dialogs, and checked by what each window
shows: the first caseworker, offline, adds a note and a share and changes the safe number; the
manager re-allocates the case and changes the safe number too; Ctrl+Shift+S on each laptop once
the folder is back; the conflict in the manager's safe-contact banner and case list; the
manager resolves it on the Conflicts page; the second caseworker sees the chosen number, the
note and the share; the first caseworker's window no longer lists the case, and no page of
their store holds its text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu, QWidget
from pytestqt.qtbot import QtBot

from app.crypto.device import DeviceSecrets
from app.models.records import LawfulBasis, NoteKind, RecipientCategory, SafeContact
from app.models.users import Role
from app.services import accounts, cases, notes
from app.services import team as team_service
from app.ui.app import SafecaseApp
from app.ui.case_dialogs import AllocateDialog, NoteDialog, SafeContactDialog
from app.ui.case_list import CaseListPage
from app.ui.case_view import CasePage
from app.ui.conflicts_page import ResolveDialog
from app.ui.contact_banner import ContactBanner
from app.ui.forms import FormDialog, checked_data
from app.ui.main_window import MainWindow
from app.ui.share_dialog import ShareDialog
from tests.helpers import ADMIN, ADMIN_PW, CASEWORKER, CASEWORKER2, MemoryKeyring, StoreCopy
from tests.services import forensics
from tests.services.casework import new_case, person, signed_in, user_id
from tests.sync.team_world import give_roles, join_laptop
from tests.ui.conftest import WAIT_MS, MakeApp, answer, open_main, wait_calls, widget_texts

CLIENT_GIVEN, CLIENT_FAMILY = "Qzwindowgiven", "Qzwindowfamily"
FIRST_NOTE = "Qzwindowfirst note before the team."
OFFLINE_NOTE = "Qzwindowoffline note written in the field."
SHARED_WITH = "Northshire Qzwindowhomes"
NEEDS = "Housing advice and a safety plan review"
NUMBERS = ("07700 900411", "07700 900522", "07700 900633")  # before; the worker's; the manager's
W1_PW, W2_PW = "birch-canyon-ember-58", "saffron-glacier-quill-36"
SYNC_KEYS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@dataclasses.dataclass
class Laptop:
    name: str
    app: SafecaseApp
    main: MainWindow


@dataclasses.dataclass
class Team:
    shared: Path  # the team folder
    reference: str  # the case's
    stores: dict[str, Path]  # each caseworker's laptop's store, by username


def _team(store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path) -> Team:
    """Set-up through the services: the admin-manager's case allocated to the first
    caseworker, the team on a tmp folder, both caseworkers joined and synced twice (the case
    reaches the first caseworker's laptop)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    with signed_in(store, ADMIN) as s:
        give_roles(s, frozenset({Role.ADMIN, Role.MANAGER}))
    with signed_in(store, ADMIN) as admin:
        admin.roles = frozenset({Role.ADMIN, Role.MANAGER})
        case_id, client = new_case(admin, person(CLIENT_GIVEN, CLIENT_FAMILY))
        cases.open_referral(admin, case_id, admin.today())
        cases.allocate(admin, case_id, user_id(admin, CASEWORKER))
        cases.set_safe_contact(
            admin, case_id, SafeContact(person_id=client, safe_number=NUMBERS[0])
        )
        notes.add_note(admin, case_id, NoteKind.CALL, FIRST_NOTE, dt.datetime.now(dt.UTC))
        reference = cases.open_case(admin, case_id, record_view=False).case.reference
        team_service.create_team(admin, shared)
        workers = [
            join_laptop(admin, name, tmp_path / "laptops", keyring, password)
            for name, password in ((CASEWORKER, W1_PW), (CASEWORKER2, W2_PW))
        ]
        try:
            for _ in range(2):
                for laptop in (admin, *workers):
                    team_service.sync(laptop)
        finally:
            for worker in workers:
                accounts.sign_out(worker)
    return Team(shared, reference, {w.username: w.vault.path for w in workers})


def _open(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, username: str, password: str
) -> Laptop:
    """Start the app on a laptop's store, sign in as the user would, and wait for the sync
    at sign-in to end."""
    app, main = open_main(qtbot, make_app, store, username, password)
    qtbot.waitUntil(lambda: main.team_sync.in_team, timeout=WAIT_MS)
    _settle(qtbot, main)
    return Laptop(username, app, main)


def _settle(qtbot: QtBot, main: MainWindow) -> None:
    qtbot.waitUntil(lambda: not main.team_sync.running, timeout=WAIT_MS)
    wait_calls(qtbot, main)


def _status(laptop: Laptop) -> str:
    return laptop.main.team_sync.label.text()


def _focus(qtbot: QtBot, window: QWidget) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)


def _sync(qtbot: QtBot, laptop: Laptop) -> str:
    """Ctrl+Shift+S, and the status line once the sync is over."""
    main = laptop.main
    _focus(qtbot, main)
    started = main.calls.calls_started
    qtbot.keyClick(main, Qt.Key.Key_S, SYNC_KEYS)
    assert main.calls.calls_started > started, laptop.name
    _settle(qtbot, main)
    return _status(laptop)


def _go(qtbot: QtBot, laptop: Laptop, page: QWidget) -> None:
    """Click the area's title in the navigation list."""
    main = laptop.main
    item = main.navigation.item(main.pages.indexOf(page))
    spot = main.navigation.visualItemRect(item).center()
    qtbot.mouseClick(main.navigation.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    assert main.pages.currentWidget() is page
    wait_calls(qtbot, main)


def _rows(page: CaseListPage) -> list[str]:
    model = page.table.model()
    return [str(model.index(r, 0).data()) for r in range(model.rowCount())]


def _open_from_list(qtbot: QtBot, laptop: Laptop, page: CaseListPage, reference: str) -> CasePage:
    """Click the case's row in a list and press Enter, as a user opens a case."""
    main = laptop.main
    _go(qtbot, laptop, page)
    [row] = [r for r, text in enumerate(_rows(page)) if text.startswith(reference)]
    table = page.table
    cell = table.visualRect(table.model().index(row, 0)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    qtbot.keyClick(table, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: main.case_page is not None and main.case_page.view is not None, timeout=WAIT_MS
    )
    wait_calls(qtbot, main)
    assert main.pages.currentWidget() is main.case_page
    return main.case_page


def _menu_item(qtbot: QtBot, laptop: Laptop, menu_key: Qt.Key, item_key: Qt.Key) -> None:
    """Alt and a menu's key on the window, then the item's key in the menu that opens."""
    main = laptop.main
    _focus(qtbot, main)
    qtbot.keyClick(main, menu_key, Qt.KeyboardModifier.AltModifier)
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu), laptop.name
    qtbot.keyClick(menu, item_key)


def _dialog(qtbot: QtBot, page: CasePage, kind: type[FormDialog]) -> FormDialog:
    qtbot.waitUntil(lambda: isinstance(page.dialog, kind) and page.dialog.isVisible())
    dialog = page.dialog
    assert isinstance(dialog, kind)
    return dialog


def _save(qtbot: QtBot, laptop: Laptop, dialog: FormDialog) -> None:
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, laptop.main)
    qtbot.waitUntil(lambda: _gone(dialog), timeout=WAIT_MS)
    wait_calls(qtbot, laptop.main)


def _gone(dialog: QWidget) -> bool:
    return not shiboken6.isValid(dialog) or not dialog.isVisible()


def _retype(qtbot: QtBot, field: QWidget, text: str) -> None:
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field, text)


def _change_number(qtbot: QtBot, laptop: Laptop, page: CasePage, number: str) -> None:
    _menu_item(qtbot, laptop, Qt.Key.Key_A, Qt.Key.Key_T)  # Case > Edit safe con&tact…
    dialog = _dialog(qtbot, page, SafeContactDialog)
    assert isinstance(dialog, SafeContactDialog)
    _retype(qtbot, dialog.number_field, number)
    _save(qtbot, laptop, dialog)
    assert number in page.banner.number_line.text()


# A menu opened from the keyboard is a popup: the offscreen platform cannot raise it or give
# it the keyboard, and says so; the keys still reach it.
@pytest.mark.qt_log_ignore(
    r"This plugin does not support raise\(\)",
    r"This plugin does not support grabbing the keyboard",
)
def test_the_team_journey_through_three_windows(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    team = _team(store, keyring, tmp_path)
    reference = team.reference
    w1_store, w2_store = (StoreCopy(team.stores[n], keyring, "") for n in (CASEWORKER, CASEWORKER2))

    # -- the first caseworker, offline ------------------------------------------------------------
    away = team.shared.rename(tmp_path / "unplugged")
    w1 = _open(qtbot, make_app, w1_store, CASEWORKER, W1_PW)
    assert re.fullmatch(
        r"Team folder not reachable · Last synced \d\d:\d\d · 0 changes waiting", _status(w1)
    )
    page = _open_from_list(qtbot, w1, w1.main.my_cases, reference)
    assert page.reference_label.text() == reference
    assert NUMBERS[0] in page.banner.number_line.text()

    _focus(qtbot, w1.main)
    qtbot.keyClick(w1.main, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    note = _dialog(qtbot, page, NoteDialog)
    assert isinstance(note, NoteDialog)
    qtbot.keyClicks(note.body_field, OFFLINE_NOTE)
    _save(qtbot, w1, note)
    assert OFFLINE_NOTE in [n.body for n in page.note_model.records]

    qtbot.mouseClick(page.action_buttons[page.record_share_action], Qt.MouseButton.LeftButton)
    share = _dialog(qtbot, page, ShareDialog)
    assert isinstance(share, ShareDialog)
    share.recipient_field.setFocus()
    qtbot.keyClicks(share.recipient_field, "Housing")
    assert share.recipient_field.value() is RecipientCategory.HOUSING
    qtbot.waitUntil(lambda: share.gaps is not None, timeout=WAIT_MS)
    qtbot.keyClicks(share.organisation_field, SHARED_WITH)
    share.categories_field.setFocus()
    qtbot.keyClick(share.categories_field, Qt.Key.Key_Space)
    assert len(checked_data(share.categories_field)) == 1
    qtbot.keyClicks(share.purpose_field, "Emergency rehousing")
    qtbot.keyClicks(share.method_field, "phone")
    share.basis_field.setFocus()
    qtbot.keyClicks(share.basis_field, "Vital")
    assert share.basis_field.value() is LawfulBasis.VITAL_INTERESTS
    qtbot.keyClicks(share.reason_field, "Immediate risk at the current address")
    qtbot.mouseClick(share.save_button, Qt.MouseButton.LeftButton)
    assert "cannot be changed afterwards" in answer(qtbot)
    wait_calls(qtbot, w1.main)
    qtbot.waitUntil(lambda: _gone(share), timeout=WAIT_MS)
    assert [s.record.organisation for s in page.share_model.records] == [SHARED_WITH]

    _change_number(qtbot, w1, page, NUMBERS[1])
    waiting = re.fullmatch(
        r"Team folder not reachable · Last synced .* · (\d+) changes waiting", _status(w1)
    )
    assert waiting is not None and int(waiting[1]) >= 3  # the note, the share, the number

    # -- meanwhile the manager re-allocates the case and changes the safe number too --------------
    boss = _open(qtbot, make_app, store, ADMIN, ADMIN_PW)
    assert _status(boss).startswith("Team folder not reachable")
    page = _open_from_list(qtbot, boss, boss.main.team_cases, reference)
    assert f"Worker: {CASEWORKER}" in page.client_label.text()
    _menu_item(qtbot, boss, Qt.Key.Key_A, Qt.Key.Key_L)  # Case > Al&locate…
    allocate = _dialog(qtbot, page, AllocateDialog)
    assert isinstance(allocate, AllocateDialog)
    allocate.worker_field.setFocus()
    qtbot.keyClicks(allocate.worker_field, CASEWORKER2)
    assert allocate.worker_field.currentText() == CASEWORKER2
    _save(qtbot, boss, allocate)
    assert f"Worker: {CASEWORKER2}" in page.client_label.text()
    _change_number(qtbot, boss, page, NUMBERS[2])
    # The manager starts on the needs assessment and has not saved it when the syncs come.
    tab = next(
        i for i in range(page.tabs.count()) if page.tabs.widget(i).isAncestorOf(page.needs_field)
    )
    bar = page.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(tab).center())
    qtbot.mouseClick(page.needs_field.viewport(), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(page.needs_field, NEEDS)

    assert _status(boss).startswith("Team folder not reachable")
    assert "changes waiting" in _status(boss)

    w2 = _open(qtbot, make_app, w2_store, CASEWORKER2, W2_PW)
    assert _rows(w2.main.my_cases) == []  # not the second caseworker's case yet

    # -- the folder is back: each laptop syncs with Ctrl+Shift+S ----------------------------------
    away.rename(team.shared)
    for laptop in (w1, boss, w2, w1, boss, w2, w1):
        said = _sync(qtbot, laptop)
        assert said.startswith("Last synced"), (laptop.name, said)
        assert "0 changes waiting" in said, (laptop.name, said)

    # -- the manager's case screen shows the conflict in the safe-contact banner -----------------
    assert boss.main.pages.currentWidget() is page
    banner = page.banner
    assert banner.state == ContactBanner.CONFLICT
    assert "in conflict" in banner.title.text()
    lines = banner.conflict_line.text().splitlines()
    assert lines[0] == "Safe number, 2 values recorded:"
    assert [line.split(" (set by ")[0] for line in lines[1:]] == ["• " + n for n in NUMBERS[1:]]
    assert [line.split(" (set by ")[1].split(" on ")[0] for line in lines[1:]] == [
        CASEWORKER,
        ADMIN,
    ]
    assert not any(n in banner.number_line.text() for n in NUMBERS)  # neither offered alone
    assert page.needs_field.toPlainText() == NEEDS  # read again, and nothing typed lost
    assert page.conflict_bar.isVisible()
    assert page.conflict_label.text().startswith("Conflict on Safe number:")
    assert _status(boss).endswith(" · 1 conflict")
    _go(qtbot, boss, boss.main.team_cases)
    assert _rows(boss.main.team_cases) == [f"{reference} ⚠ 1 conflict"]
    assert "Conflicts (1)" in boss.main.area_titles()

    # -- the manager resolves it on the Conflicts page, keeping the worker's number ---------------
    conflicts_page = boss.main.conflicts_page
    _go(qtbot, boss, conflicts_page)
    model = conflicts_page.model
    assert model.rowCount() == 1
    assert [str(model.index(0, c).data()) for c in range(2)] == [reference, "Safe number"]
    _focus(qtbot, boss.main)
    qtbot.keyClick(conflicts_page, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)  # &Resolve…
    qtbot.waitUntil(lambda: conflicts_page.dialog is not None, timeout=WAIT_MS)
    resolve = conflicts_page.dialog
    assert isinstance(resolve, ResolveDialog) and resolve.isVisible()
    [keep] = [r for r in resolve.radios if NUMBERS[1] in r.text()]
    assert CASEWORKER in keep.text()
    keep.setFocus()
    qtbot.keyClick(keep, Qt.Key.Key_Space)
    qtbot.mouseClick(resolve.save_button, Qt.MouseButton.LeftButton)
    question = answer(qtbot)
    assert NUMBERS[1] in question and CASEWORKER in question
    wait_calls(qtbot, boss.main)
    assert conflicts_page.status_label.text() == f"Conflict resolved: Safe number on {reference}."
    assert model.rowCount() == 0
    assert "Conflicts" in boss.main.area_titles()
    _go(qtbot, boss, page)
    assert banner.state == ContactBanner.SAFE
    assert NUMBERS[1] in banner.number_line.text()
    assert not page.conflict_bar.isVisible()

    for laptop in (boss, w2):
        said = _sync(qtbot, laptop)
        assert "conflict" not in said, (laptop.name, said)

    # -- the second caseworker has the case: the number kept, the offline note and share ----------
    assert _rows(w2.main.my_cases) == [reference]
    page = _open_from_list(qtbot, w2, w2.main.my_cases, reference)
    assert f"Worker: {CASEWORKER2}" in page.client_label.text()
    assert page.banner.state == ContactBanner.SAFE
    assert NUMBERS[1] in page.banner.number_line.text()
    assert not page.conflict_bar.isVisible()
    assert sorted(n.body for n in page.note_model.records) == sorted([FIRST_NOTE, OFFLINE_NOTE])
    assert [s.record.organisation for s in page.share_model.records] == [SHARED_WITH]

    # -- the first caseworker's window lets the case go, and so does their store -----------------
    main = w1.main
    assert main.pages.currentWidget() is main.my_cases
    assert _rows(main.my_cases) == []
    assert (
        main.statusBar()
        .currentMessage()
        .startswith("The case that was open is no longer on this laptop")
    )
    _go(qtbot, w1, main.search_page)
    qtbot.keyClicks(main.search_page.search_field, CLIENT_FAMILY)
    qtbot.keyClick(main.search_page.search_field, Qt.Key.Key_Return)
    wait_calls(qtbot, main)
    assert _rows(main.search_page) == []
    sentinels = [CLIENT_GIVEN, CLIENT_FAMILY, reference, "Qzwindowoffline", "Qzwindowfirst"]
    sentinels += [SHARED_WITH, *NUMBERS[1:]]
    held = widget_texts([main], hidden=True)
    assert [s for s in sentinels if s in held] == [CLIENT_FAMILY]  # only what was typed in search
    w1.app.sign_out()
    again = accounts.sign_in(w1_store.path, CASEWORKER, W1_PW, device=DeviceSecrets(keyring))
    try:
        key = forensics.data_key(again)
    finally:
        accounts.sign_out(again)
    pages = forensics.read_pages(w1_store.path, key)
    assert forensics.found(pages, sentinels) == {}
