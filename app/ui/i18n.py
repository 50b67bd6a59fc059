"""Translation: every user-visible string goes through Qt's translate call.

English (UK) is the source language. Call ``translate("Context", "Literal text")`` with literal
strings so lupdate can find them; Qt's own strings (button captions in standard dialogs) come
from the ``qtbase`` catalogue that :func:`install_translators` loads.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger("safecase.ui")


def translate(context: str, text: str) -> str:
    """The translated form of ``text`` in ``context``, or ``text`` when there is none."""
    return QCoreApplication.translate(context, text)


def install_translators(app: QCoreApplication, own_folder: Path | None = None) -> list[QTranslator]:
    """Load Qt's own catalogue (and Safecase's, when one is built) for the user's locale.

    A locale with no catalogue (en_GB, the source language) falls back silently to English.
    """
    installed: list[QTranslator] = []
    locale = QLocale()
    sources = [("qtbase", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))]
    if own_folder is not None:
        sources.append(("safecase", str(own_folder)))
    for name, folder in sources:
        translator = QTranslator(app)
        if translator.load(locale, name, "_", folder):
            app.installTranslator(translator)
            installed.append(translator)
        else:
            translator.deleteLater()
            log.debug("no %s translation for %s", name, locale.name())
    return installed
