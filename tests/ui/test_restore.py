"""Restore from a backup on a new laptop, from the first-run window, with the recovery key."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.crypto import vault as vaultlib
from app.crypto.device import DeviceSecrets
from app.services import accounts, backup
from app.ui.restore_dialog import RestoreDialog
from tests.helpers import ADMIN, ADMIN_PW, StoreCopy
from tests.ui.conftest import MakeApp, sign_in

NEW_PW = "new-laptop-cobalt-ridge"


def _backup(store: StoreCopy, tmp_path: Path) -> Path:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    out = tmp_path / "usb" / "safecase-20260101-120000.backup"
    out.parent.mkdir()
    backup.backup(session, out)
    accounts.sign_out(session)
    return out


def _fill(qtbot: QtBot, dialog: RestoreDialog, backup_file: Path, key: str) -> None:
    dialog.choose_backup_file = lambda: str(backup_file)
    dialog.browse_button.click()
    qtbot.keyClicks(dialog.key_field, key)
    qtbot.keyClicks(dialog.admin_field, ADMIN)
    qtbot.keyClicks(dialog.password_field, NEW_PW)
    qtbot.keyClicks(dialog.confirm_field, NEW_PW)


def _open_restore(make_app: MakeApp, laptop: Path) -> RestoreDialog:
    app = make_app(laptop)
    first_run = app.first_run_window
    assert first_run is not None
    first_run.restore_button.click()
    dialog = first_run.restore_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_a_new_laptop_restores_a_backup_with_the_recovery_key_and_signs_in(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    backup_file = _backup(store, tmp_path)
    laptop = tmp_path / "laptop" / "cases.safecase"
    laptop.parent.mkdir()
    app = make_app(laptop)
    first_run = app.first_run_window
    assert first_run is not None
    first_run.restore_button.click()
    dialog = first_run.restore_dialog
    assert dialog is not None
    dialog.restore_button.click()
    assert dialog.problem_label.text() == "Choose the backup file."
    _fill(qtbot, dialog, backup_file, store.recovery_key)
    assert dialog.file_field.text() == str(backup_file)
    dialog.restore_button.click()
    assert dialog.busy and dialog.progress.maximum() == 0  # the bar says it is working
    qtbot.waitUntil(lambda: app.sign_in_window is not None, timeout=20_000)
    assert laptop.exists()

    window = app.sign_in_window
    assert window is not None
    assert window.username_field.text() == ADMIN
    with qtbot.waitSignal(app.signed_in, timeout=10_000):
        sign_in(qtbot, window, ADMIN, NEW_PW)
    assert app.main_window is not None


def test_a_wrong_recovery_key_is_named_and_leaves_no_store(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    backup_file = _backup(store, tmp_path)
    laptop = tmp_path / "laptop" / "cases.safecase"
    laptop.parent.mkdir()
    dialog = _open_restore(make_app, laptop)
    wrong = "".join("A" if c.isalnum() else c for c in store.recovery_key)
    _fill(qtbot, dialog, backup_file, wrong)
    dialog.restore_button.click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=20_000)
    assert dialog.problem_label.text() != ""
    assert dialog.isVisible() and dialog.restore_button.isEnabled()
    assert not any(p.exists() for p in vaultlib.store_files(laptop))
