"""Printing the subject access pack and the certificate of destruction on paper.

A QPrinter writing a PDF file stands in for the printer, and the print dialog is replaced by
a function that points the printer at that file: no real dialog opens in a test.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.models import audit as audit_model
from app.models.rights import RightKind
from app.services import audit, retention, rights, sar
from app.ui.main_window import MainWindow
from app.ui.sar_pack import PackDialog
from tests.helpers import ADMIN, ADMIN_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import TODAY, signed_in
from tests.services.closed_cases import make_closed_case, reference_of
from tests.services.sar_world import build_world
from tests.ui.conftest import MakeApp, answer, open_main, wait_calls


class FilePrinter:
    """Stands in for the print dialog: the user 'picks' a printer that writes ``out``, or
    cancels."""

    def __init__(self, out: Path, *, accept: bool = True) -> None:
        self.out = out
        self.accept = accept
        self.asked = 0

    def __call__(self, printer: QPrinter, parent: QWidget) -> bool:
        self.asked += 1
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(self.out))
        return self.accept


def _audit(qtbot: QtBot, main: MainWindow) -> list[audit_model.Entry]:
    found: list[list[audit_model.Entry]] = []
    main.calls.run(lambda s: audit.recent(s), found.append)
    wait_calls(qtbot, main)
    return found[0]


def _pages(pdf: bytes | Path) -> int:
    return len(PdfReader(pdf if isinstance(pdf, Path) else io.BytesIO(pdf)).pages)


def _jane_request(store: StoreCopy) -> str:
    world = build_world(store)
    with signed_in(store, MANAGER) as s:
        request = rights.create_request(
            s,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="The data subject",
                received_on=TODAY - dt.timedelta(days=3),
                subject_person_id=world.jane,
                identity_confirmed_on=TODAY - dt.timedelta(days=2),
            ),
        )
    return request.reference


def _open_pack(qtbot: QtBot, main: MainWindow, reference: str) -> PackDialog:
    page = main.sar_page
    main.show_area(page)
    wait_calls(qtbot, main)
    assert page.select_reference(reference)
    page.prepare_button.click()
    dialog = page.dialog
    assert isinstance(dialog, PackDialog)
    wait_calls(qtbot, main)
    assert dialog.pack is not None and dialog.pack.ready
    return dialog


def test_the_pack_prints_every_page_through_the_print_dialog_and_is_audited(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    reference = _jane_request(store)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    dialog = _open_pack(qtbot, main, reference)

    # Cancelling the print dialog prints nothing and records nothing.
    cancelled = FilePrinter(tmp_path / "cancelled.pdf", accept=False)
    dialog.ask_printer = cancelled
    dialog.print_button.click()
    wait_calls(qtbot, main)
    assert cancelled.asked == 1 and not cancelled.out.exists()
    assert not [e for e in _audit(qtbot, main) if e.action == audit.SAR_PRINTED]

    printed = FilePrinter(tmp_path / "paper.pdf")
    dialog.ask_printer = printed
    dialog.print_button.click()
    wait_calls(qtbot, main)
    entries = [e for e in _audit(qtbot, main) if e.action == audit.SAR_PRINTED]
    assert len(entries) == 1
    request_id = dialog.request.id
    assert entries[0].record == f"rights:{request_id}"
    found: list[bytes] = []
    main.calls.run(lambda s: sar.print_pack(s, request_id), found.append)
    wait_calls(qtbot, main)
    pages = _pages(found[0])
    assert pages >= 3  # cover letter, index and the records
    assert _pages(printed.out) == pages
    assert dialog.status_label.text() == f"Sent to the printer. Pages: {pages}."
    dialog.reject()


def test_the_pack_is_saved_as_a_pdf_only_after_a_warning_that_it_is_not_encrypted(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    reference = _jane_request(store)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    dialog = _open_pack(qtbot, main, reference)
    out = tmp_path / "pack.pdf"
    asked: list[str] = []
    dialog.choose_pdf_file = lambda suggested: asked.append(suggested) or str(out)

    dialog.save_pdf_button.click()
    assert "not encrypted" in answer(qtbot, yes=False)
    assert asked == [] and not out.exists()  # no folder is asked for after "Cancel"

    dialog.save_pdf_button.click()
    assert "not encrypted" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert asked == [f"{reference}.pdf"]
    assert out.read_bytes().startswith(b"%PDF")
    assert "not encrypted" in dialog.status_label.text()
    dialog.reject()


def test_the_certificate_of_destruction_prints_through_the_print_dialog_and_is_audited(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    with signed_in(store, MANAGER) as s:
        reference = reference_of(s, make_closed_case(s))
    with signed_in(store, ADMIN) as s:
        retention.approve(s, [reference], "Seven years since closure; reviewed.")
        run_id = retention.purge(s).run_id
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.retention_page
    main.show_area(page)
    wait_calls(qtbot, main)
    assert not page.print_certificate_button.isEnabled()  # no run chosen yet
    page.runs_table.setCurrentIndex(page.runs_model.index(0, 0))
    wait_calls(qtbot, main)
    printed = FilePrinter(tmp_path / "certificate-on-paper.pdf")
    page.ask_printer = printed
    page.print_certificate_button.click()
    wait_calls(qtbot, main)

    assert _pages(printed.out) == 1
    assert page.status_label.text() == "Certificate sent to the printer. Pages: 1."
    entries = [e for e in _audit(qtbot, main) if e.action == audit.CERTIFICATE_PRINTED]
    assert [e.detail for e in entries] == [f"run={run_id} cases=1"]
