"""The one warning before a PDF that Safecase built in memory is saved to disk, unencrypted.

Used by the subject access pack and the letters: the user is told the file is not encrypted
before they choose where it goes, and only then is anything written.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox, QWidget

from app.ui.forms import confirm
from app.ui.i18n import translate


def warn_not_encrypted(
    parent: QWidget,
    title: str,
    what: str,
    then: Callable[[], None],
    *,
    lock_action: QAction | None = None,
) -> QMessageBox:
    """Ask before saving an unencrypted PDF of ``what`` ("the pack", "the letter"); ``then``
    runs (to choose where) only if the user goes on."""
    return confirm(
        parent,
        title,
        translate(
            "PdfSaving",
            "The PDF file is not encrypted: anyone who opens it reads everything in {what}. "
            "Save it only where you must, and delete it when it has been sent.",
        ).format(what=what),
        translate("PdfSaving", "&Choose where to save it…"),
        then,
        lock_action=lock_action,
    )
