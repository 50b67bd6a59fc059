"""The one way Safecase shows an error, and the crash dialog behind the excepthook.

A :class:`~app.errors.SafecaseError` carries one clear sentence the user can act on, and that
sentence is what they see. Anything else is a bug: the user sees a short apology naming only the
exception's type, because an exception's message or traceback can hold personal data. Logs get
the type and the code locations, never the message.
"""

from __future__ import annotations

import logging
import os.path
import traceback
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app.crypto.connection import DatabaseError, classify
from app.errors import SafecaseError
from app.ui.i18n import translate

log = logging.getLogger("safecase.ui")


def error_sentence(error: BaseException) -> str:
    """The sentence to show for ``error``: its own for a SafecaseError (or a database error
    a user can act on, sorted by its code), else a generic one."""
    if isinstance(error, DatabaseError):
        error = classify(error) or error
    if isinstance(error, SafecaseError):
        return translate("errors", str(error))
    return translate(
        "errors",
        "Safecase hit an unexpected problem ({name}). Nothing was shown that could hold "
        "personal data; please report it.",
    ).format(name=type(error).__name__)


def log_unexpected(error: BaseException, tb: TracebackType | None = None) -> None:
    """Log a bug by its type and code locations only (no message, no local values)."""
    frames = traceback.extract_tb(tb if tb is not None else error.__traceback__)
    where = " <- ".join(f"{os.path.basename(f.filename)}:{f.lineno} {f.name}" for f in frames)
    log.error("unexpected %s at %s", type(error).__name__, where or "unknown place")


def _message_box(parent: QWidget | None, title: str, text: str) -> QMessageBox:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    box.setAccessibleName(title)
    box.setAccessibleDescription(text)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    # open(), not exec(): window-modal, and the caller's code (and a test) carries on.
    box.open()
    return box


def show_error(parent: QWidget | None, error: BaseException) -> QMessageBox:
    """Show ``error`` to the user in one sentence. Used for every error Safecase shows."""
    if not isinstance(error, SafecaseError):
        log_unexpected(error)
    return _message_box(parent, translate("errors", "Safecase"), error_sentence(error))


def show_crash(type_name: str, parent: QWidget | None = None) -> QMessageBox:
    """The crash dialog: what went wrong by type name only, and that the records are safe."""
    text = translate(
        "errors",
        "Safecase hit an unexpected problem ({name}) and may not work properly until it is "
        "restarted. Your records are safe in the encrypted store. Please report the problem; "
        "no personal data is shown here.",
    ).format(name=type_name)
    return _message_box(parent, translate("errors", "Safecase: unexpected problem"), text)


class CrashHandler:
    """``sys.excepthook`` for the desktop app: log the type, show the crash dialog once."""

    def __init__(self) -> None:
        self.dialog: QMessageBox | None = None
        self._showing = False

    def __call__(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        log_unexpected(exc, tb)
        if self._showing:
            return  # a second error while the first is on screen: logged, not shown
        self._showing = True
        try:
            self.dialog = show_crash(exc_type.__name__)
            self.dialog.finished.connect(self._closed)
        except Exception as inner:  # the dialog itself failed: the log is all we can do
            log.error("crash dialog failed: %s", type(inner).__name__)
            self._showing = False

    def _closed(self) -> None:
        self._showing = False
        self.dialog = None
