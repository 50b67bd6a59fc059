"""The purge in the app: the confirmation says what happens to the backups made before it."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.services import backup, retention
from app.services.backup import BackupChoice
from app.ui.forms import choose
from tests.helpers import ADMIN, ADMIN_PW, MANAGER, StoreCopy
from tests.services.casework import signed_in
from tests.services.closed_cases import make_closed_case, reference_of
from tests.ui.conftest import MakeApp, answer, open_main, wait_calls


def test_the_purge_confirmation_shows_the_choice_for_older_backups(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    with signed_in(store, MANAGER) as session:
        reference = reference_of(session, make_closed_case(session))
    older = tmp_path / "usb" / "before.backup"
    older.parent.mkdir()
    with signed_in(store, ADMIN) as session:
        retention.approve(session, [reference], "Reviewed")
        backup.backup(session, older)
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.retention_page
    main.show_area(page)
    wait_calls(qtbot, main)

    choose(page.backups_choice, BackupChoice.KEEP)
    page.purge_button.click()
    question = answer(qtbot, yes=False)
    assert question.startswith("Destroy 1 case? This cannot be undone.")
    assert "Warning: 1 backup(s) made before now" in question
    assert str(older.parent.resolve()) in question
    wait_calls(qtbot, main)

    choose(page.backups_choice, BackupChoice.REWRITE)
    with qtbot.waitSignal(page.purged, timeout=10_000):
        page.purge_button.click()
        assert "will be rewritten without the destroyed cases" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    result = page.last_result
    assert result is not None and [e.reference for e in result.destroyed] == [reference]
    assert result.backups is not None and (result.backups.choice, result.backups.done) == (
        "rewrite",
        1,
    )
    assert "1 rewritten without these cases" in page.status_label.text()
