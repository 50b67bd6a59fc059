"""The Devices page in a team: each device's state and last seen, "Revoke…" with a confirmation
naming the device and its user; and a revoked laptop's app saying, in one sentence, that its
records have been destroyed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from app.crypto.device import DeviceSecrets
from app.errors import SafecaseError
from app.services import accounts
from app.services import team as team_service
from app.sync import engine
from app.ui.main_window import MainWindow
from tests.helpers import ADMIN, ADMIN_PW, CASEWORKER, MemoryKeyring, StoreCopy
from tests.services.casework import signed_in
from tests.sync.team_world import join_laptop
from tests.ui.conftest import WAIT_MS, MakeApp, answer, open_main, sign_in, wait_calls
from tests.ui.test_case_view import mnemonic_keys, styled  # noqa: F401 (a fixture)

WORKER_PW = "saffron-glacier-pillow-31"
DESTROYED = "This laptop was removed from the team; its records have been destroyed."


def _cells(main: MainWindow, column: int) -> dict[str, str]:
    model = main.devices_page.model
    return {
        str(model.index(row, 3).data()): str(model.index(row, column).data())
        for row in range(model.rowCount())
    }


@pytest.mark.usefixtures("styled")  # the product's point sizes, as on a laptop
def test_an_admin_revokes_a_laptop_from_the_devices_page_and_sees_it_confirmed(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    worker_keyring = MemoryKeyring()  # the caseworker's laptop is a computer of its own
    with signed_in(store, ADMIN) as admin:
        team_service.create_team(admin, shared)
        worker = join_laptop(admin, CASEWORKER, tmp_path / "laptops", worker_keyring, WORKER_PW)
        worker_store = worker.vault.path
        worker_device = engine.load(worker.conn).device.device_id
        accounts.sign_out(worker)
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    qtbot.waitUntil(lambda: main.team_sync.label.text().startswith("Last synced"), timeout=WAIT_MS)
    main.show_area(main.devices_page)
    wait_calls(qtbot, main)
    page = main.devices_page
    assert _cells(main, 2) == {ADMIN: "In use", CASEWORKER: "In use"}
    # Last seen: its enrolment came in at sign-in ("1 Dec 2026 10:42"); this laptop has none.
    assert re.fullmatch(r"\d{1,2} \w{3} \d{4} \d{2}:\d{2}", _cells(main, 4)[CASEWORKER])
    assert _cells(main, 4)[ADMIN] == ""
    assert page.revoke_button.isVisible()
    keys = mnemonic_keys(main)
    assert len(keys) == len(set(keys))  # no Alt key clashes on the page with the menus
    assert "founding admin laptop" in page.team_note.text() and not page.alone_note.isVisible()

    # This laptop cannot be revoked from itself; the caseworker's can, after a question naming it.
    rows = {str(page.model.index(r, 3).data()): r for r in range(page.model.rowCount())}
    page.table.setCurrentIndex(page.model.index(rows[ADMIN], 0))
    assert not page.revoke_button.isEnabled()
    page.table.setCurrentIndex(page.model.index(rows[CASEWORKER], 0))
    assert page.revoke_button.isEnabled()
    qtbot.mouseClick(page.revoke_button, Qt.MouseButton.LeftButton)
    question = answer(qtbot)
    assert f"Revoke device {worker_device}, {CASEWORKER}'s laptop?" in question
    wait_calls(qtbot, main)
    assert _cells(main, 2)[CASEWORKER] == "Revoked, order sent"
    assert worker_device in page.status_label.text()

    # The laptop syncs, destroys its store and says so; the admin's next sync sees its receipt.
    worker = accounts.sign_in(
        worker_store, CASEWORKER, WORKER_PW, device=DeviceSecrets(worker_keyring)
    )
    with pytest.raises(SafecaseError, match="its records have been destroyed"):
        team_service.sync(worker)
    assert not worker_store.exists()
    main.team_sync.sync_now()
    wait_calls(qtbot, main)
    page.refresh()
    wait_calls(qtbot, main)
    assert _cells(main, 2)[CASEWORKER] == "Revoked, destruction confirmed"
    # In the documentation's 1280x820 window, "Last seen" shows in full beside the long state
    # even for a username of 20 characters (the device id is elided, in full in its tooltip).
    table, seen = page.table, _cells(main, 4)[CASEWORKER]
    narrow = table.viewport().width()
    main.resize(1280, 820)
    qtbot.waitUntil(lambda: table.viewport().width() > narrow, timeout=WAIT_MS)
    page.refresh()
    wait_calls(qtbot, main)
    metrics = table.fontMetrics()
    needed = sum(table.columnWidth(c) for c in range(3)) + metrics.horizontalAdvance(
        "w" * 20 + seen
    )
    assert needed <= table.viewport().width()
    tip = page.model.index(rows[CASEWORKER], 0).data(Qt.ItemDataRole.ToolTipRole)
    assert worker_device in str(tip)


def test_a_revoked_laptops_app_says_its_records_were_destroyed(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    with signed_in(store, ADMIN) as admin:
        team_service.create_team(admin, shared)
        worker = join_laptop(admin, CASEWORKER, tmp_path / "laptops", keyring, WORKER_PW)
        worker_store = worker.vault.path
        worker_device = engine.load(worker.conn).device.device_id
        accounts.sign_out(worker)
        team_service.sync(admin)
        team_service.revoke(admin, worker_device)
    app = make_app(worker_store)
    assert app.sign_in_window is not None
    with qtbot.waitSignal(app.signed_in, timeout=WAIT_MS):
        sign_in(qtbot, app.sign_in_window, CASEWORKER, WORKER_PW)
    main = app.main_window
    assert main is not None

    def box() -> QMessageBox | None:
        found = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.objectName() == "storeDestroyed" and w.isVisible()
        ]
        return found[0] if found else None

    qtbot.waitUntil(lambda: box() is not None, timeout=WAIT_MS)
    shown = box()
    assert shown is not None and shown.text() == DESTROYED
    assert main.team_sync.label.text() == DESTROYED
    assert not main.team_sync.timer.isActive() and not main.team_sync.action.isEnabled()
    assert not worker_store.exists()
    shown.accept()
