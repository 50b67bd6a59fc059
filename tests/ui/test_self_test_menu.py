"""Help > Self-test in the main window: the same checks as ``safecase --self-test``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.services.session import Session
from app.ui.main_window import MainWindow


@pytest.fixture
def main(qtbot: QtBot, admin_session: Session) -> Iterator[MainWindow]:
    window = MainWindow(admin_session)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.clear()


def test_help_self_test_shows_one_line_per_check(main: MainWindow) -> None:
    menus = {action.text().replace("&", ""): action.menu() for action in main.menuBar().actions()}
    help_actions = [a.text().replace("&", "") for a in menus["Help"].actions()]
    assert help_actions == ["Self-test…"]
    main.self_test_action.trigger()
    box = main.self_test_box
    assert box.isVisible()
    assert box.text() == "Every check passed."
    lines = box.informativeText().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ok   store",
        "ok   keyring",
        "ok   PDF",
        "ok   server",
        "ok   text",
        "ok   windows",
    ]
    assert "offscreen platform plugin" in lines[5]
    box.close()
