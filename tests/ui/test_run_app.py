"""Starting the app: the right first window, the style sheet, Qt's messages in our logging."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMessageLogContext, QtMsgType
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.services.session import Session
from app.ui.app import STYLE_SHEET, load_style, qt_message_handler
from app.ui.first_run import FirstRunWindow
from app.ui.main_window import MainWindow
from app.ui.sign_in import SignInWindow
from tests.helpers import StoreCopy

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.ui.app import run_app
from tests.helpers import TEST_KDF

app = QApplication(sys.argv[:1])

def report():
    print(QApplication.applicationName())
    print(*[type(w).__name__ for w in app.topLevelWidgets() if w.isVisible()])
    QApplication.quit()

QTimer.singleShot(100, report)
sys.exit(run_app(Path(sys.argv[1]), kdf=TEST_KDF))
"""


def run_app_briefly(store: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(store)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_a_new_store_starts_with_the_first_run_window(tmp_path: Path) -> None:
    result = run_app_briefly(tmp_path / "cases.safecase")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["Safecase", "FirstRunWindow"]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "cases.safecase").exists()


def test_an_existing_store_starts_with_the_sign_in_window(store: StoreCopy) -> None:
    result = run_app_briefly(store.path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["Safecase", "SignInWindow"]


def test_the_style_sheet_applies_without_complaint(
    qtbot: QtBot, qapp: QApplication, store: StoreCopy, admin_session: Session
) -> None:
    assert STYLE_SHEET.exists()
    assert load_style(qapp)
    try:
        windows = [
            FirstRunWindow(store.path.with_name("other.safecase")),
            SignInWindow(store.path),
            MainWindow(admin_session),
        ]
        for window in windows:
            qtbot.addWidget(window)
            window.show()
            qtbot.waitExposed(window)
        windows[2].clear()  # type: ignore[attr-defined]
    finally:
        qapp.setStyleSheet("")


def test_a_missing_style_sheet_is_no_problem(qapp: QApplication, tmp_path: Path) -> None:
    assert not load_style(qapp, tmp_path / "none.qss")
    assert qapp.styleSheet() == ""


@pytest.mark.parametrize(
    ("kind", "level"),
    [(QtMsgType.QtWarningMsg, logging.WARNING), (QtMsgType.QtDebugMsg, logging.DEBUG)],
)
def test_qt_messages_go_to_the_safecase_qt_logger(
    caplog: pytest.LogCaptureFixture, kind: QtMsgType, level: int
) -> None:
    with caplog.at_level(logging.DEBUG, logger="safecase.qt"):
        qt_message_handler(kind, QMessageLogContext(), "a message from Qt")
    assert [(r.name, r.levelno) for r in caplog.records] == [("safecase.qt", level)]
    assert "a message from Qt" in caplog.text
