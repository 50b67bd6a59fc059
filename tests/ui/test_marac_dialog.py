"""The MARAC referral form on the case screen: opened from the keyboard, pre-filled, checked
as it is filled in, refused in one sentence with nothing lost, issued, printed and saved."""

from __future__ import annotations

import io
import re
from pathlib import Path

from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.models.drafts import Draft
from app.models.records import RecipientCategory, Share, ShareApproval
from app.services import cases, drafts, marac_form, sharing
from app.services.contact_rules import RestrictionGround
from app.services.marac_form import ReferralReason
from app.ui.app import SafecaseApp
from app.ui.case_view.page import CasePage
from app.ui.main_window import MainWindow
from app.ui.marac_dialog import MaracFormDialog
from tests.helpers import CASEWORKER, CASEWORKER_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import signed_in
from tests.services.test_marac_form import (
    CODE_WORD,
    REFUGE_POSTCODE,
    REFUGE_STREET,
    Referral,
    make_case,
)
from tests.ui.conftest import MakeApp, answer, open_main, texts_on_screen, wait_calls
from tests.ui.test_drafts import lock_with_ctrl_l, sign_in_again
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


def _the_case_open(
    qtbot: QtBot,
    make_app: MakeApp,
    store: StoreCopy,
    *,
    restricted: bool = False,
) -> tuple[SafecaseApp, MainWindow, CasePage, Referral]:
    """A caseworker signed in, with the case to refer open on screen (a manager, when the
    alleged perpetrator's processing is ``restricted``)."""
    with signed_in(store, CASEWORKER) as s:
        referral = make_case(s)
    user, password = CASEWORKER, CASEWORKER_PW
    if restricted:
        with signed_in(store, MANAGER) as s:
            cases.restrict_person(s, referral.perpetrator, "He disputes what the record says")
        user, password = MANAGER, MANAGER_PW
    app, main = open_main(qtbot, make_app, store, user, password)
    main.open_case(referral.case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    wait_calls(qtbot, main)
    page = main.case_page
    assert page is not None
    return app, main, page, referral


def test_a_caseworker_issues_the_form_from_the_case_then_prints_and_saves_it(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    _app, main, page, referral = _the_case_open(qtbot, make_app, store)
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


def _drafts_now(qtbot: QtBot, main: MainWindow) -> list[Draft]:
    found: list[list[Draft]] = []
    main.calls.run(drafts.list_drafts, found.append)
    wait_calls(qtbot, main)
    return found[0]


def _marac_form_back(qtbot: QtBot, main: MainWindow) -> MaracFormDialog:
    """The referral form opened again after sign-in, once its pre-fill has arrived."""

    def back() -> bool:
        page = main.case_page
        dialog = page.dialog if page is not None else None
        return isinstance(dialog, MaracFormDialog) and dialog.isVisible()

    qtbot.waitUntil(back, timeout=5000)
    assert main.case_page is not None
    dialog = main.case_page.dialog
    assert isinstance(dialog, MaracFormDialog)
    wait_calls(qtbot, main)
    assert dialog.prefilled is not None
    return dialog


def test_a_half_typed_referral_form_survives_a_lock_and_is_issued_once(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    app, main, page, referral = _the_case_open(qtbot, make_app, store)
    page.tabs.setCurrentWidget(page.marac_tab)
    qtbot.mouseClick(page.action_buttons[page.marac_form_action], Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, MaracFormDialog)
    wait_calls(qtbot, main)
    assert dialog.prefilled is not None

    # Typed as a referrer would: the reason by keyboard, then every free-text field.
    qtbot.keyClicks(dialog.marac_field, "Northfield MARAC coordinator")
    dialog.reason_field.setFocus()
    qtbot.keyClick(dialog.reason_field, Qt.Key.Key_Down)
    assert dialog.reason_field.value() is ReferralReason.PROFESSIONAL_JUDGEMENT
    typed_text = {
        dialog.judgement_field: "He bought a knife after the hearing and asked where she lives.",
        dialog.summary_field: "Threats to kill since the hearing.",
        dialog.perpetrator_field: "Bail conditions end on Friday.",
        dialog.agencies_field: "Probation - Westcombe office",
        dialog.without_field: "Risk to life: the MARAC must plan for her and Pip together.",
    }
    for field, text in typed_text.items():
        field.setFocus()
        field.moveCursor(QTextCursor.MoveOperation.End)
        if field.toPlainText():
            qtbot.keyClick(field, Qt.Key.Key_Return)  # a line of its own
        qtbot.keyClicks(field, text)
    qtbot.keyClicks(dialog.safe_times_field, " or after 6 pm")
    typed = {field: field.toPlainText() for field in typed_text}
    safe_times = dialog.safe_times_field.text()
    assert "Probation" in typed[dialog.agencies_field]
    assert "Northfield Police" in typed[dialog.agencies_field]  # pre-filled, then added to

    lock_with_ctrl_l(qtbot, app)
    assert "Bail conditions end on Friday." not in texts_on_screen()

    main = sign_in_again(qtbot, app, CASEWORKER, CASEWORKER_PW)
    back = _marac_form_back(qtbot, main)
    assert back is not dialog and back.case_id == referral.case_id
    # Exactly as typed: the pre-fill that ran as the form opened again did not write over it.
    assert back.marac_field.text() == "Northfield MARAC coordinator"
    assert back.reason_field.value() is ReferralReason.PROFESSIONAL_JUDGEMENT
    assert back.judgement_field.isVisible()
    assert back.judgement_field.toPlainText() == typed[dialog.judgement_field]
    assert back.summary_field.toPlainText() == typed[dialog.summary_field]
    assert back.perpetrator_field.toPlainText() == typed[dialog.perpetrator_field]
    assert back.agencies_field.toPlainText() == typed[dialog.agencies_field]
    assert back.without_field.toPlainText() == typed[dialog.without_field]
    assert back.safe_times_field.text() == safe_times
    assert back.dirty and back.save_button.isEnabled()
    assert [d.kind for d in _drafts_now(qtbot, main)] == ["open_marac_form"]

    # Issued: its draft goes with it, so the next lock brings back no form to issue twice.
    qtbot.mouseClick(back.save_button, Qt.MouseButton.LeftButton)
    assert "sharing log" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert back.issued is not None and back.isVisible()
    assert back.issued.form.perpetrator_notes == "Bail conditions end on Friday."
    assert _drafts_now(qtbot, main) == []
    lock_with_ctrl_l(qtbot, app)
    main = sign_in_again(qtbot, app, CASEWORKER, CASEWORKER_PW)
    page = main.case_page
    assert page is not None and page.case_id == referral.case_id
    qtbot.waitUntil(lambda: page.marac_forms_model.rowCount() == 1)
    assert page.open_form() is None and main.waiting_drafts == []
    assert _drafts_now(qtbot, main) == []
    app.shutdown()


def test_a_form_carrying_a_restricted_persons_data_is_issued_only_on_a_managers_ground(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    _app, main, page, referral = _the_case_open(qtbot, make_app, store, restricted=True)
    page.marac_form_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, MaracFormDialog)
    wait_calls(qtbot, main)
    assert dialog.restriction_label.isVisible()
    assert "Processing is restricted for" in dialog.restriction_label.text()
    assert dialog.ground_field.isVisible() and dialog.override_field.isVisible()
    keys = _alt_keys(dialog)
    assert sorted({k for k in keys if keys.count(k) > 1}) == []
    qtbot.keyClicks(dialog.marac_field, "Northfield MARAC coordinator")
    qtbot.keyClicks(dialog.without_field, "Crime prevention: safety planning for her and Pip.")
    message = dialog.message_for(dialog.ground_field)
    assert message is not None
    assert message.text() == "Choose the Article 18(2) ground for the restricted data."
    assert not dialog.save_button.isEnabled()
    dialog.ground_field.set_value(RestrictionGround.PROTECT_ANOTHER)
    qtbot.keyClicks(dialog.override_field, "The MARAC must know of his threats to her")
    assert dialog.save_button.isEnabled()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert dialog.issued is not None, dialog.problem_label.text()
    assert referral.perpetrator in dialog.issued.share.record.person_ids
