"""Team sync in the desktop app: the status line, Ctrl+Shift+S, the timer and the Devices page,
on a team made through the service (tmp stores, a tmp shared folder)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.services import accounts
from app.services import team as team_service
from app.ui.main_window import MainWindow
from tests.helpers import ADMIN, ADMIN_PW, CASEWORKER, MemoryKeyring, StoreCopy
from tests.services.casework import new_case, person, signed_in
from tests.sync.team_world import join_laptop
from tests.ui.conftest import WAIT_MS, MakeApp, open_main, sign_in, wait_calls
from tests.ui.test_case_view import styled  # noqa: F401 (a fixture)

WORKER_PW = "saffron-glacier-pillow-31"
MARGIN = 8  # pixels each side of a progress bar's text


def _make_team(store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path) -> Path:
    """The admin's store founds a team on a tmp folder and invites a caseworker, who joins
    from a laptop of their own; returns the shared folder."""
    shared = tmp_path / "shared"
    shared.mkdir()
    with signed_in(store, ADMIN) as admin:
        team_service.create_team(admin, shared)
        worker = join_laptop(admin, CASEWORKER, tmp_path / "laptops", keyring, WORKER_PW)
        accounts.sign_out(worker)
    return shared


def _status(main: MainWindow) -> str:
    return main.team_sync.label.text()


def _device_users(qtbot: QtBot, main: MainWindow) -> list[str]:
    main.show_area(main.devices_page)
    wait_calls(qtbot, main)
    model = main.devices_page.model
    return sorted(model.data(model.index(row, 3)) for row in range(model.rowCount()))


def test_a_team_laptop_syncs_at_sign_in_and_shows_its_status_line(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    _make_team(store, keyring, tmp_path)
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    qtbot.waitUntil(lambda: _status(main).startswith("Last synced"), timeout=WAIT_MS)
    assert main.team_sync.label.isVisible()
    assert "changes waiting" in _status(main) or "1 change waiting" in _status(main)
    assert main.team_sync.timer.isActive()
    # The sync at sign-in took in the caseworker's enrolment: the Devices page lists both.
    assert _device_users(qtbot, main) == sorted([ADMIN, CASEWORKER])


def test_ctrl_shift_s_syncs_now_and_says_when_the_folder_is_not_reachable(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    shared = _make_team(store, keyring, tmp_path)
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    qtbot.waitUntil(lambda: _status(main).startswith("Last synced"), timeout=WAIT_MS)
    wait_calls(qtbot, main)
    away = shared.rename(tmp_path / "unplugged")
    main.activateWindow()
    started = main.calls.calls_started
    qtbot.keyClick(
        main, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert main.calls.calls_started > started
    qtbot.waitUntil(lambda: _status(main).startswith("Team folder not reachable"), timeout=WAIT_MS)
    away.rename(shared)
    qtbot.keyClick(
        main, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(lambda: _status(main).startswith("Last synced"), timeout=WAIT_MS)


def test_a_second_sync_is_not_queued_while_one_runs(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    _make_team(store, keyring, tmp_path)
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    qtbot.waitUntil(lambda: _status(main).startswith("Last synced"), timeout=WAIT_MS)
    wait_calls(qtbot, main)
    assert main.team_sync.sync_now()
    assert not main.team_sync.sync_now()  # the first is still running
    wait_calls(qtbot, main)
    assert main.team_sync.sync_now()


def test_a_lock_during_a_sync_loses_nothing(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    _make_team(store, keyring, tmp_path)
    app = make_app(store.path)
    assert app.sign_in_window is not None
    with qtbot.waitSignal(app.signed_in, timeout=WAIT_MS):
        sign_in(qtbot, app.sign_in_window, ADMIN, ADMIN_PW)
    main = app.main_window
    assert main is not None
    # Lock at once: the sync at sign-in is queued or running, and stops cleanly.
    app.lock()
    assert app.sign_in_window is not None
    with qtbot.waitSignal(app.signed_in, timeout=WAIT_MS):
        sign_in(qtbot, app.sign_in_window, ADMIN, ADMIN_PW)
    main = app.main_window
    assert main is not None
    qtbot.waitUntil(lambda: _status(main).startswith("Last synced"), timeout=WAIT_MS)
    assert _device_users(qtbot, main) == sorted([ADMIN, CASEWORKER])


def test_a_laptop_not_in_a_team_shows_no_sync_and_runs_no_timer(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    wait_calls(qtbot, main)
    assert not main.team_sync.label.isVisible()
    assert not main.team_sync.action.isVisible()
    assert not main.team_sync.timer.isActive()
    started = main.calls.calls_started
    qtbot.keyClick(
        main, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert main.calls.calls_started == started
    assert _device_users(qtbot, main) == [""]


COLD_START = """
import sys, tempfile, time
import os
import subprocess
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
from app.crypto.device import DeviceSecrets
from app.services import accounts
from app.ui.main_window import MainWindow
from tests.helpers import ADMIN_PW, TEST_KDF, MemoryKeyring

app = QApplication([])
with tempfile.TemporaryDirectory() as folder:
    session, _key = accounts.create_store(
        Path(folder) / "cases.safecase", service_name="Demo", admin_name="demo-admin",
        password=ADMIN_PW, device=DeviceSecrets(MemoryKeyring()), kdf=TEST_KDF,
    )
    window = MainWindow(session)
    window.show_area(window.devices_page)
    for _ in range(500):
        app.processEvents()
        if not window.calls.busy and window.devices_page.model.rowCount():
            break
        time.sleep(0.01)
    window.clear()
    accounts.sign_out(session)
team = ("app.sync.engine", "app.services.team", "app.crypto.team", "app.crypto.envelopes")
print(",".join(sorted(m for m in team if m in sys.modules)) or "none")
"""


def test_a_laptop_on_its_own_never_loads_the_team_machinery() -> None:
    """Start-up stays as fast as before for a laptop not in a team: signed in, with the
    Devices page shown, nothing of team sync has been imported."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", COLD_START], capture_output=True, text=True, env=env, cwd=root
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "none"


@pytest.mark.usefixtures("styled")  # the product's point sizes, as on a laptop
def test_a_long_sync_shows_how_many_changes_are_read_out_of_how_many_on_one_line(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    with signed_in(store, ADMIN) as admin:
        team_service.create_team(admin, shared)
        worker = join_laptop(admin, CASEWORKER, tmp_path / "laptops", keyring, WORKER_PW)
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    qtbot.waitUntil(lambda: _status(main).startswith("Last synced"), timeout=WAIT_MS)
    wait_calls(qtbot, main)  # the admin's laptop took in the enrolment and sent the directory
    team_service.sync(worker)
    for n in range(3):  # three envelopes in the folder, one sync each
        new_case(worker, person(given=f"Ash{n}", family="Merrow"))
        team_service.sync(worker)
    accounts.sign_out(worker)
    seen: list[tuple[int, int]] = []
    shown: list[bool] = []
    fits: list[bool] = []

    def record(_text: str, done: int, total: int) -> None:
        seen.append((done, total))
        bar = main.team_sync.bar
        shown.append(bar.isVisible())
        # The count reads on one line: the bar is wider than its text and a margin each side.
        fits.append(bar.fontMetrics().horizontalAdvance(bar.format()) + 2 * MARGIN <= bar.width())

    main.team_sync._progressed.connect(record)
    main.activateWindow()
    qtbot.keyClick(
        main, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(lambda: not main.team_sync.running, timeout=WAIT_MS)
    wait_calls(qtbot, main)
    assert len(seen) >= 3
    assert seen[-1][0] == seen[-1][1] == len(seen)  # the last read is "N of N"
    assert [done for done, _ in seen] == list(range(1, len(seen) + 1))
    assert all(shown)
    assert all(fits)
    assert main.team_sync.bar.format() == f"{len(seen)} of {len(seen)} changes read"
    assert not main.team_sync.bar.isVisible()  # gone once the sync ended
