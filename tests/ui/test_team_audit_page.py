"""The Audit area on the DPO's laptop in a team: a "Team" tab with every laptop's entries, the
laptop and the user, filtered by laptop from the keyboard, and the check that names a laptop
whose trail was cut short."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.services import accounts
from app.ui.audit_page import AuditPage
from app.ui.main_window import MainWindow
from tests.helpers import CASEWORKER, DPO, MemoryKeyring, StoreCopy
from tests.sync.test_team_audit import DORA_PW, Team, cut_sent_tail, device, insider, team_of
from tests.ui.conftest import MakeApp, open_main, wait_calls
from tests.ui.test_case_view import mnemonic_keys

WHEN, LAPTOP, ENTRY, WHO, WHAT = range(5)


@pytest.fixture
def team(store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path) -> Iterator[Team]:
    with team_of(store, keyring, tmp_path) as world:
        world.cole = world.again(world.cole)
        world.sync_all()
        yield world


def _dora_audit(qtbot: QtBot, make_app: MakeApp, world: Team) -> tuple[MainWindow, AuditPage]:
    """The DPO signs in on their laptop and opens the Audit area."""
    path = world.dora.vault.path
    accounts.sign_out(world.dora)
    _app, main = open_main(qtbot, make_app, StoreCopy(path, world.keyring, ""), DPO, DORA_PW)
    main.show_area(main.audit_page)
    wait_calls(qtbot, main)
    return main, main.audit_page


def _team_tab(qtbot: QtBot, main: MainWindow, page: AuditPage) -> None:
    titles = [page.tabs.tabText(i) for i in range(page.tabs.count())]
    assert "Team" in titles
    bar = page.tabs.tabBar()
    bar.setFocus()
    for _ in titles:
        if page.tabs.currentWidget() is page.team_tab:
            break
        qtbot.keyClick(bar, Qt.Key.Key_Right)
    assert page.tabs.currentWidget() is page.team_tab
    wait_calls(qtbot, main)


def _column(page: AuditPage, column: int) -> list[str]:
    model = page.team_tab.model
    return [str(model.index(row, column).data()) for row in range(model.rowCount())]


def test_the_dpo_reads_every_laptops_trail_and_picks_one_from_the_keyboard(
    qtbot: QtBot, make_app: MakeApp, team: Team
) -> None:
    cole_device = device(team.cole)
    main, page = _dora_audit(qtbot, make_app, team)
    _team_tab(qtbot, main, page)

    laptops = set(_column(page, LAPTOP))
    cole_laptop = f"{CASEWORKER} ({cole_device[-8:]})"
    assert cole_laptop in laptops and len(laptops) >= 2  # the DPO's own laptop too
    assert CASEWORKER in _column(page, WHO) and "sign in" in _column(page, WHAT)
    keys = mnemonic_keys(main)
    assert sorted({k for k in keys if keys.count(k) > 1}) == []

    # Alt+O reaches the laptop filter; the arrow keys pick the caseworker's laptop.
    qtbot.keyClick(page, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    field = page.team_tab.device_field
    assert QApplication.focusWidget() is field
    for _ in range(field.count()):
        if field.value() == cole_device:
            break
        qtbot.keyClick(field, Qt.Key.Key_Down)
    assert field.value() == cole_device
    wait_calls(qtbot, main)
    assert set(_column(page, LAPTOP)) == {cole_laptop}

    qtbot.keyClick(field, Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)  # clicks after a moment
    qtbot.waitUntil(lambda: bool(page.team_tab.result_label.text()))
    wait_calls(qtbot, main)
    assert "Every laptop's trail checks out" in page.team_tab.result_label.text()


def test_the_page_names_a_laptop_whose_trail_was_cut_short(
    qtbot: QtBot, make_app: MakeApp, team: Team
) -> None:
    insider(team, cut_sent_tail)
    team.sync_all()
    cole_device = device(team.cole)
    main, page = _dora_audit(qtbot, make_app, team)
    _team_tab(qtbot, main, page)

    qtbot.mouseClick(page.team_tab.check_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)

    shown = page.team_tab.result_label.text()
    assert f"Laptop {cole_device} ({CASEWORKER}): its audit trail was rewritten, cut short" in shown
    assert "now ends at entry" in shown
