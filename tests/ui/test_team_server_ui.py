"""The team server in the desktop app: the admin moves a folder team from the Devices page
(the dialog, its confirmation, the page saying where the team syncs), the status line names the
server, and a laptop on a server team hears another laptop's envelopes at once, without the
5-minute timer, until it is locked."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.services import accounts, team_server
from app.services import team as team_service
from app.services.session import Session
from app.sync import moving
from app.ui.main_window import MainWindow
from tests import pgcluster
from tests.helpers import ADMIN, ADMIN_PW, CASEWORKER, MemoryKeyring, StoreCopy
from tests.pgcluster import Cluster
from tests.services.casework import new_case, person, signed_in
from tests.sync.team_world import join_laptop
from tests.ui.conftest import WAIT_MS, MakeApp, answer, open_main, wait_calls
from tests.ui.test_case_view import mnemonic_keys
from tests.ui.test_team_sync import WORKER_PW


def _status(main: MainWindow) -> str:
    return main.team_sync.label.text()


def _alt_keys(dialog: QWidget) -> list[str]:
    """The dialog's Alt+letter keys: its buttons and the labels that focus a field."""
    texts = [b.text() for b in dialog.findChildren(QAbstractButton)]
    texts += [label.text() for label in dialog.findChildren(QLabel) if label.buddy() is not None]
    return [m.lower() for text in texts for m in re.findall(r"&([^&\s])", text)]


def _worker(
    store: StoreCopy,
    keyring: MemoryKeyring,
    tmp_path: Path,
    cluster: Cluster | None = None,
) -> Session:
    """The admin's store founds a team (on a folder, or on the server) and a caseworker joins;
    returns the caseworker's laptop, signed in."""
    with signed_in(store, ADMIN) as admin:
        if cluster is not None:
            db = pgcluster.team_server(cluster, "ui_heard", "unused")
            team_server.create_on_server(admin, db.address(), db.owner_dsn)
        else:
            shared = tmp_path / "shared"
            shared.mkdir()
            team_service.create_team(admin, shared)
        return join_laptop(admin, CASEWORKER, tmp_path / "laptops", keyring, WORKER_PW)


def test_the_admin_moves_the_team_to_its_server_from_the_devices_page(
    qtbot: QtBot,
    make_app: MakeApp,
    store: StoreCopy,
    keyring: MemoryKeyring,
    tmp_path: Path,
    pg_cluster: Cluster,
) -> None:
    worker = _worker(store, keyring, tmp_path)
    pgcluster.team_server(pg_cluster, "ui_move", "unused")
    try:
        app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
        qtbot.waitUntil(lambda: _status(main).startswith("Last synced"), timeout=WAIT_MS)
        main.show_area(main.devices_page)
        page = main.devices_page
        qtbot.waitUntil(page.move_button.isVisible, timeout=WAIT_MS)
        assert "shared folder" in page.transport_label.text()
        keys = mnemonic_keys(main)
        assert "m" in keys and len(set(keys)) == len(keys)  # Alt+M: the move; no clash
        qtbot.mouseClick(page.move_button, Qt.MouseButton.LeftButton)
        dialog = page.move_dialog
        assert dialog is not None and dialog.isVisible()
        address = f"host={pg_cluster.folder} port={pg_cluster.port} dbname=ui_move"
        qtbot.keyClicks(dialog.address_field, address)
        qtbot.keyClicks(
            dialog.owner_field,
            f"host={pg_cluster.folder} port={pg_cluster.port} dbname=ui_move "
            f"user={pgcluster.OWNER}",
        )
        qtbot.keyClicks(dialog.password_field, pgcluster.OWNER_PASSWORD)
        keys = _alt_keys(dialog)
        assert len(keys) == 5 and len(set(keys)) == len(keys)
        qtbot.mouseClick(dialog.move_button, Qt.MouseButton.LeftButton)
        assert "Move the whole team to the server?" in answer(qtbot)
        qtbot.waitUntil(
            lambda: "now syncs through its server" in page.status_label.text(), timeout=WAIT_MS
        )
        qtbot.waitUntil(lambda: "team server" in page.transport_label.text(), timeout=WAIT_MS)
        assert not page.move_button.isVisible()
        # The owner's password stays nowhere in the dialog.
        assert dialog.password_field.text() == ""
        # The window syncs through the server at once, and the status line names it.
        qtbot.waitUntil(lambda: _status(main).startswith("Team server reachable"), timeout=WAIT_MS)
        # From now on the window hears the server.
        qtbot.waitUntil(lambda: main.team_sync.listener is not None, timeout=WAIT_MS)
        # The caseworker's laptop follows on its next sync.
        team_service.sync(worker)
        setting = moving.server_setting(worker.conn)
        assert setting is not None and setting.state == moving.MOVED
        wait_calls(qtbot, main)
        app.lock()
    finally:
        if worker.active:
            accounts.sign_out(worker)


def test_a_laptop_on_a_server_team_hears_new_envelopes_at_once_until_locked(
    qtbot: QtBot,
    make_app: MakeApp,
    store: StoreCopy,
    keyring: MemoryKeyring,
    tmp_path: Path,
    pg_cluster: Cluster,
) -> None:
    worker = _worker(store, keyring, tmp_path, pg_cluster)
    try:
        app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
        qtbot.waitUntil(
            lambda: _status(main).startswith("Team server reachable · Last synced"),
            timeout=WAIT_MS,
        )
        qtbot.waitUntil(lambda: main.team_sync.listener is not None, timeout=WAIT_MS)
        listener = main.team_sync.listener
        assert listener is not None and listener.is_alive()
        wait_calls(qtbot, main)
        # The caseworker's laptop publishes; the admin's window syncs at once, though its
        # timer is minutes away.
        team_service.sync(worker)
        new_case(worker, person("Qzheardgiven", "Qzheardfamily"))
        synced_before = main.calls.calls_started
        with qtbot.waitSignal(main.team_sync.synced, timeout=WAIT_MS):
            team_service.sync(worker)
        assert main.calls.calls_started > synced_before
        assert main.team_sync.timer.remainingTime() > 60_000
        # At a lock the wake-up thread ends.
        app.lock()
        qtbot.waitUntil(lambda: not listener.is_alive(), timeout=WAIT_MS)
    finally:
        if worker.active:
            accounts.sign_out(worker)
