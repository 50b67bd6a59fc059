"""The Retention page on the admin's laptop of a team: the laptops that have not confirmed
destroying purged cases (refreshed after each sync), and compacting the team's folder, by
keyboard, with a confirmation (the laptops of tests/sync/test_team_purge.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.crypto.device import DeviceSecrets
from app.services import accounts
from app.services import team as team_service
from tests.helpers import ADMIN, ADMIN_PW, DPO, MemoryKeyring, StoreCopy
from tests.sync.test_team_purge import PASSWORDS, case_envelopes, device, purge_on_admin, team_world
from tests.ui.conftest import MakeApp, answer, open_main, texts_on_screen, wait_calls
from tests.ui.test_case_view import mnemonic_keys


def test_the_admin_sees_who_has_not_confirmed_a_purge_and_compacts_the_folder(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    with team_world(store, keyring, tmp_path) as world:
        purge_on_admin(world)
        for laptop in (world.admin, world.cole, world.mina, world.cara, world.admin):
            team_service.sync(laptop)
        gid, shared = world.case_gid, world.shared
        late, late_store = device(world.dora), world.dora.vault.path
        assert case_envelopes(shared, gid)

    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.retention_page
    main.show_area(page)
    for index in range(page.tabs.count()):  # no Alt key clashes on any of the page's tabs
        page.tabs.setCurrentIndex(index)
        wait_calls(qtbot, main)
        keys = mnemonic_keys(main)
        assert sorted({k for k in keys if keys.count(k) > 1}) == [], page.tabs.tabText(index)
    page.tabs.setCurrentIndex(0)
    main.activateWindow()
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)  # Team laptops
    assert page.tabs.currentIndex() == 2
    wait_calls(qtbot, main)
    assert [(o.device_id, o.cases) for o in page.laptops_model.records] == [(late, 1)]
    shown = texts_on_screen()
    assert f"{DPO} (…{late[-8:]})" in shown
    assert "1 laptop(s) have not confirmed destroying purged cases." in shown

    # The late laptop syncs; the admin's next sync refreshes the list.
    dora = accounts.sign_in(late_store, DPO, PASSWORDS[DPO], device=DeviceSecrets(keyring))
    try:
        team_service.sync(dora)
    finally:
        accounts.sign_out(dora)
    with qtbot.waitSignal(main.team_sync.synced, timeout=10_000):
        assert main.team_sync.sync_now()
    wait_calls(qtbot, main)
    assert page.laptops_model.records == []
    assert "Every laptop has confirmed destroying the purged cases." in texts_on_screen()

    # Compacting, from the keyboard, asks first; nothing is deleted on Cancel.
    page.compact_button.setFocus()
    qtbot.keyClick(page.compact_button, Qt.Key.Key_Space)
    assert "cannot be undone" in answer(qtbot, yes=False)
    assert case_envelopes(shared, gid)
    qtbot.keyClick(page.compact_button, Qt.Key.Key_Space)
    answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert case_envelopes(shared, gid) == []
    assert "envelope(s) of purged cases deleted from the team's folder" in page.status_label.text()
