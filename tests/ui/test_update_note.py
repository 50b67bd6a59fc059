"""The first sign-in after an update says where the backup taken before it is."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.ui.main_window import MainWindow
from tests.helpers import ADMIN, ADMIN_PW, StoreCopy
from tests.services.test_update_backup import newer_code  # noqa: F401 (a fixture)
from tests.ui.conftest import MakeApp, sign_in


def test_the_main_window_says_the_store_was_updated_and_where_its_backup_is(
    qtbot: QtBot,
    make_app: MakeApp,
    store: StoreCopy,
    newer_code: None,  # noqa: F811
) -> None:
    app = make_app(store.path)
    assert app.sign_in_window is not None
    with qtbot.waitSignal(app.signed_in, timeout=5000):
        sign_in(qtbot, app.sign_in_window, ADMIN, ADMIN_PW)
    assert isinstance(app.window, MainWindow)
    note = app.update_note
    assert note.isVisible()
    assert note.text().startswith("This store was updated for this version of Safecase.")
    assert str(store.path.parent / "backups" / "before-update-") in note.text()
    note.close()
