"""Errors: a SafecaseError's own sentence, and nothing from a bug's message or traceback."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
import sqlcipher3
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app.errors import StoreLocked, WrongPassword
from app.ui.errors import CrashHandler, error_sentence, show_error

PERSONAL = "Jane Example of 1 Sample Street"


def close(box: QMessageBox) -> None:
    box.done(0)


def test_a_safecase_error_shows_its_own_sentence(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    box = show_error(parent, WrongPassword())
    try:
        assert box.isVisible()
        assert box.text() == str(WrongPassword())
        assert box.detailedText() == ""
        assert "Traceback" not in box.text()
    finally:
        close(box)


def test_a_bug_shows_its_type_only_and_logs_no_message(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        raise ValueError(PERSONAL)
    except ValueError as exc:
        error = exc
    with caplog.at_level(logging.ERROR, logger="safecase.ui"):
        box = show_error(None, error)
    try:
        assert "ValueError" in box.text()
        assert PERSONAL not in box.text()
        assert "Traceback" not in box.text() and box.detailedText() == ""
        assert "ValueError" in caplog.text
        assert PERSONAL not in caplog.text
    finally:
        close(box)


def test_error_sentence_names_the_problem() -> None:
    assert error_sentence(StoreLocked()) == str(StoreLocked())
    sentence = error_sentence(KeyError(PERSONAL))
    assert "KeyError" in sentence and PERSONAL not in sentence


def test_the_crash_dialog_shows_the_type_name_only(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    handler = CrashHandler()
    try:
        raise RuntimeError(PERSONAL)
    except RuntimeError:
        kind, value, tb = sys.exc_info()
    assert kind is not None and value is not None
    with caplog.at_level(logging.ERROR, logger="safecase.ui"):
        handler(kind, value, tb)
        handler(kind, value, tb)  # a second crash while the dialog is up is only logged
    box = handler.dialog
    assert box is not None and box.isVisible()
    try:
        assert "RuntimeError" in box.text()
        assert PERSONAL not in box.text() and "Traceback" not in box.text()
        assert box.detailedText() == ""
        assert caplog.text.count("unexpected RuntimeError") == 2
        assert PERSONAL not in caplog.text
    finally:
        close(box)
    assert handler.dialog is None


def test_a_database_error_a_user_can_act_on_gets_its_sentence(tmp_path: Path) -> None:
    """A real SQLite error that reached the window unsorted (here: a store another copy is
    writing) shows what to do, not "an unexpected problem"."""
    first = sqlcipher3.connect(str(tmp_path / "s.db"), isolation_level=None)
    first.execute("CREATE TABLE t (x)")
    first.execute("BEGIN IMMEDIATE")
    second = sqlcipher3.connect(str(tmp_path / "s.db"), isolation_level=None, timeout=0)
    with pytest.raises(sqlcipher3.DatabaseError) as caught:
        second.execute("BEGIN IMMEDIATE")
    assert error_sentence(caught.value) == str(StoreLocked())
