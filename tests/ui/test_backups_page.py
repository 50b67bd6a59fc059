"""Backups (admins): take one now into a chosen folder, keep N generations, and see when the
last was taken, with a warning after 7 days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.models import audit as audit_model
from app.services import audit, backup
from tests.helpers import ADMIN, ADMIN_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.ui.conftest import MakeApp, open_main, wait_calls


def test_only_admins_have_the_backups_screen(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    assert "Backups" not in main.area_titles()


def test_an_admin_takes_backups_into_a_folder_keeping_the_generations_chosen(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    folder = tmp_path / "usb-drive"
    folder.mkdir()
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.backups_page
    main.show_area(page)
    wait_calls(qtbot, main)
    assert page.last_label.text() == "No backup of this store has been taken."
    assert "No backup in the last 7 days" in page.warning_label.text()
    assert not page.backup_button.isEnabled()  # no folder chosen yet

    page.choose_folder = lambda: str(folder)
    page.folder_button.click()
    page.keep_field.setValue(2)
    for _ in range(3):
        page.backup_button.click()
        wait_calls(qtbot, main)
    assert page.status_label.text() == "Backup taken."
    assert len(backup.generations(folder)) == 2  # the oldest of three was removed
    assert page.last_label.text().startswith("Last backup: ")
    assert page.last_label.text().endswith("(0 days ago).")
    assert page.warning_label.text() == ""

    found: list[tuple[backup.BackupStatus, list[audit_model.Entry]]] = []
    main.calls.run(lambda s: (backup.status(s), audit.recent(s)), found.append)
    wait_calls(qtbot, main)
    status, entries = found[0]
    assert status.folder == folder.resolve() and status.keep == 2 and not status.stale
    assert len([e for e in entries if e.action == audit.BACKUP_MADE]) == 3

    # Eight days on, the screen warns again.
    session = main.calls.session
    assert session is not None
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=8)).isoformat()
    session.now = lambda: later
    page.start()
    wait_calls(qtbot, main)
    assert "(8 days ago)" in page.last_label.text()
    assert "No backup in the last 7 days" in page.warning_label.text()


def test_a_folder_that_is_gone_is_named_and_nothing_is_written(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.backups_page
    main.show_area(page)
    wait_calls(qtbot, main)
    page.choose_folder = lambda: str(tmp_path / "unplugged")
    page.folder_button.click()
    page.backup_button.click()
    wait_calls(qtbot, main)
    assert page.problem_label.text() == "Choose a folder that exists for the backups."
    assert not (tmp_path / "unplugged").exists()
