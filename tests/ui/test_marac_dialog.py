"""The MARAC referral form on the case screen: opened from the keyboard, pre-filled, checked
as it is filled in, refused in one sentence with nothing lost, issued, printed and saved."""

from __future__ import annotations

import io
import re
from pathlib import Path

from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.models.records import RecipientCategory, Share, ShareApproval
from app.services import marac_form, sharing
from app.services.marac_form import ReferralReason
from app.ui.main_window import MainWindow
from app.ui.marac_dialog import MaracFormDialog
from tests.helpers import CASEWORKER, CASEWORKER_PW, StoreCopy
from tests.services.casework import signed_in
from tests.services.test_marac_form import CODE_WORD, REFUGE_POSTCODE, REFUGE_STREET, make_case
from tests.ui.conftest import MakeApp, answer, open_main, wait_calls
from tests.ui.test_printing import FilePrinter


def _text(pdf: bytes | Path) -> str:
    source = io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf
    return " ".join(" ".join(p.extract_text() for p in PdfReader(source).pages).split())


def _alt_keys(dialog: QWidget) -> list[str]:
    texts = []
    for widget in dialog.findChildren(QWidget):
        if not widget.isVisibleTo(dialog):
            continue
        if isinstance(widget, QAbstractButton) or (
            isinstance(widget, QLabel) and widget.buddy() is not None
        ):
            texts.append(widget.text())
    return [m.lower() for text in texts for m in re.findall(r"&([^&\s])", text)]


def _shares(qtbot: QtBot, main: MainWindow, case_id: int) -> list[Share]:
    found: list[list[Share]] = []
    main.calls.run(lambda s: sharing.shares(s, case_id), found.append)
    wait_calls(qtbot, main)
    return found[0]


def test_a_caseworker_issues_the_form_from_the_case_then_prints_and_saves_it(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    with signed_in(store, CASEWORKER) as s:
        referral = make_case(s)
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    main.open_case(referral.case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    wait_calls(qtbot, main)
    page = main.case_page
    assert page is not None
    assert page.marac_form_action in page.actions_for_menu()  # in the Case menu too

    # From the keyboard: the button on the MARAC tab.
    page.tabs.setCurrentWidget(page.marac_tab)
    opener = page.action_buttons[page.marac_form_action]
    opener.setFocus()
    qtbot.keyClick(opener, Qt.Key.Key_Space)
    dialog = page.dialog
    assert isinstance(dialog, MaracFormDialog)
    wait_calls(qtbot, main)
    assert dialog.prefilled is not None
    keys = _alt_keys(dialog)
    assert sorted({k for k in keys if keys.count(k) > 1}) == []
    summary = dialog.summary_label.text()
    assert "Imogen Farrowdale" in summary and "address confidential" in summary
    assert dialog.reason_field.value() is ReferralReason.VISIBLE_HIGH_RISK
    assert dialog.safe_number_field.text() == "07700 900456"
    assert "Northfield Police" in dialog.agencies_field.toPlainText()
    # Not everyone consented: the basis and the reason are asked for.
    assert dialog.basis_field.isVisible() and dialog.without_field.isVisible()
    assert not dialog.save_button.isEnabled()  # no MARAC named yet

    qtbot.keyClicks(dialog.marac_field, "Northfield MARAC coordinator")
    dialog.reason_field.set_value(ReferralReason.PROFESSIONAL_JUDGEMENT)
    assert dialog.judgement_field.isVisible()
    message = dialog.message_for(dialog.judgement_field)
    assert message is not None
    assert message.text() == "Give the reason for your professional judgement."
    assert not dialog.save_button.isEnabled()
    dialog.reason_field.set_value(ReferralReason.VISIBLE_HIGH_RISK)
    qtbot.keyClicks(dialog.without_field, "Crime prevention: safety planning for her and Pip.")
    typed = f"He rang asking for {CODE_WORD}."
    qtbot.keyClicks(dialog.summary_field, typed)
    assert dialog.save_button.isEnabled()

    # The service refuses the code word in one sentence; what was typed stays.
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert dialog.isVisible()
    assert dialog.problem_label.text() == (
        "The form mentions the safe-contact code word; take it out before issuing."
    )
    assert dialog.summary_field.toPlainText().endswith(typed)
    assert _shares(qtbot, main, referral.case_id) == []

    dialog.summary_field.setFocus()
    dialog.summary_field.selectAll()
    qtbot.keyClicks(dialog.summary_field, "Threats to kill since the hearing.")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "sharing log" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert dialog.issued is not None
    assert "a manager must review it within 48 hours" in dialog.status_label.text()
    assert dialog.print_button.isVisible() and dialog.save_pdf_button.isVisible()
    [share] = _shares(qtbot, main, referral.case_id)
    assert share.record.recipient_category is RecipientCategory.MARAC
    assert share.approval is ShareApproval.AWAITING_REVIEW

    # Print: the pages go to the printer.
    printed = FilePrinter(tmp_path / "paper.pdf")
    dialog.output.ask_printer = printed
    qtbot.mouseClick(dialog.print_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert printed.out.exists()
    assert dialog.status_label.text().startswith("Sent to the printer. Pages: ")

    # Save as PDF: only after the warning, where the user chose.
    out = tmp_path / "chosen" / "referral.pdf"
    out.parent.mkdir()
    asked: list[str] = []
    dialog.output.choose_pdf_file = lambda suggested: asked.append(suggested) or str(out)
    qtbot.mouseClick(dialog.save_pdf_button, Qt.MouseButton.LeftButton)
    assert "not encrypted" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    reference = dialog.issued.form.reference
    assert asked == [f"MARAC-referral-{reference}.pdf"]
    text = _text(out)
    assert "Imogen Farrowdale" in text and "Threats to kill since the hearing." in text
    for secret in (CODE_WORD, REFUGE_POSTCODE, REFUGE_STREET):
        assert secret.lower() not in text.lower()
    assert "not encrypted" in dialog.status_label.text()
    found: list[list[object]] = []
    main.calls.run(lambda s: marac_form.issued_forms(s, referral.case_id), found.append)
    wait_calls(qtbot, main)
    assert len(found[0]) == 1
    dialog.reject()  # Close: nothing unsaved is left to ask about
    wait_calls(qtbot, main)
    assert not dialog.isVisible()

    # The case lists the form it sent; it prints again exactly as issued.
    assert page.marac_forms_model.rowCount() == 1
    assert page.print_form_button.isEnabled()
    again = FilePrinter(tmp_path / "again.pdf")
    page.form_output.ask_printer = again
    qtbot.mouseClick(page.print_form_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert again.out.exists()
    assert page.status_message.text().startswith("Sent to the printer. Pages: ")
