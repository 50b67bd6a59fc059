"""Printing a PDF that Safecase built in memory (a subject access pack, a certificate of
destruction) on paper, through the system print dialog.

The user picks the printer first; only then does the service build the PDF (and write the
audit entry that it was printed), and its pages are drawn onto the printer exactly as the PDF
lays them out. Nothing is written to disk on the way: the pages are rendered in memory.
Qt's "Print to file" is turned off in the dialog, because it would write the pages to a file
with no word that the file is not encrypted; saving a PDF is its own button with that warning.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QAction, QImage, QPainter
from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter
from PySide6.QtWidgets import QMessageBox, QWidget

from app.errors import SafecaseError
from app.services.session import Session
from app.ui.forms import confirm
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls

# Asks the user for a printer and sets ``printer`` up; False when they cancel. Tests pass one
# that points the printer at a PDF file instead of opening the system dialog.
AskPrinter = Callable[[QPrinter, QWidget], bool]

# Pages are rendered at this resolution at most: enough for print, and an A4 page stays
# about 26 MB in memory however fine the printer's own resolution is.
MAX_DPI = 300
POINTS_PER_INCH = 72


class PrintFailed(SafecaseError):
    """The printer could not be started."""


def ask_with_dialog(printer: QPrinter, parent: QWidget) -> bool:
    """The system print dialog, with printing to a file turned off."""
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(translate("Printing", "Print"))
    dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintToFile, False)
    return dialog.exec() == QPrintDialog.DialogCode.Accepted


def new_printer(name: str) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(name)
    return printer


def print_pdf(pdf: bytes, printer: QPrinter) -> int:
    """Draw every page of ``pdf`` onto ``printer``, each scaled to fit the printable area;
    returns the number of pages printed."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    painter = QPainter()
    try:
        if not painter.begin(printer):
            raise PrintFailed("The printer could not be started; check it is on and try again.")
        dpi = min(printer.resolution(), MAX_DPI)
        pages = len(document)
        for index in range(pages):
            if index:
                printer.newPage()
            page = document[index]
            bitmap = page.render(scale=dpi / POINTS_PER_INCH, rev_byteorder=True)
            image = QImage(
                bitmap.buffer,
                bitmap.width,
                bitmap.height,
                bitmap.stride,
                QImage.Format.Format_RGB888,
            )
            size = QSize(bitmap.width, bitmap.height).scaled(
                painter.viewport().size(), Qt.AspectRatioMode.KeepAspectRatio
            )
            painter.drawImage(QRect(QPoint(0, 0), size), image)
            del image
            bitmap.close()
            page.close()
        return pages
    finally:
        if painter.isActive():
            painter.end()
        document.close()


def print_from_store(
    calls: StoreCalls,
    parent: QWidget,
    ask: AskPrinter,
    name: str,
    build: Callable[[Session], bytes],
    printed: Callable[[int], None],
    failed: Callable[[BaseException], None],
    *,
    label: str,
) -> None:
    """Ask for a printer; if the user picks one, build the PDF through the service (which
    audits the print) off the UI thread, then print its pages. ``printed`` gets the page
    count."""
    printer = new_printer(name)
    if not ask(printer, parent):
        return

    def arrived(pdf: bytes) -> None:
        try:
            pages = print_pdf(pdf, printer)
        except SafecaseError as error:
            failed(error)
            return
        printed(pages)

    receiver: QObject = parent
    calls.run(build, arrived, failed, receiver=receiver, label=label)


def warn_not_encrypted(
    parent: QWidget,
    title: str,
    then: Callable[[], None],
    *,
    lock_action: QAction | None,
    text: str | None = None,
) -> QMessageBox:
    """Before a PDF (or, saying so in ``text``, other files) is saved: say that the file is
    not encrypted; ``then`` (which asks where it goes) runs only if the user goes on."""
    return confirm(
        parent,
        title,
        text
        or translate(
            "Printing",
            "The PDF file is not encrypted: anyone who opens it reads everything in it. Save "
            "it only where you must, and delete it when it has been sent.",
        ),
        translate("Printing", "&Choose where to save it…"),
        then,
        lock_action=lock_action,
    )
