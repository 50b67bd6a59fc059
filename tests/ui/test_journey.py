"""A day's work in the real main window, from sign-in to closing the case.

The user holds both the caseworker and manager roles (closing a case is a manager's step).
Every step goes through the window: dialogs, buttons, keys; the store is checked afterwards
through the services.
"""

from __future__ import annotations

import datetime as dt

import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QRadioButton, QWidget
from pytestqt.qtbot import QtBot

from app.crypto.device import DeviceSecrets
from app.models.records import (
    Answer,
    CaseRole,
    CaseStatus,
    ClosureReason,
    ConsentPurpose,
    ConsentState,
    ContactMethod,
    LawfulBasis,
    RecipientCategory,
    RiskLevel,
    ShareApproval,
)
from app.services import accounts, cases, notes
from app.services.session import uk_today
from app.ui.case_dialogs import (
    CloseCaseDialog,
    ConsentDialog,
    CorrectNoteDialog,
    NoteDialog,
    PersonDialog,
    SafeContactDialog,
)
from app.ui.case_view import CasePage
from app.ui.contact_banner import HIDDEN_CODE_WORD, ContactBanner
from app.ui.forms import FormDialog, choose, set_checked
from app.ui.main_window import MainWindow
from app.ui.referral_dialog import NewReferralDialog
from app.ui.share_dialog import ShareDialog
from tests.helpers import StoreCopy
from tests.ui.conftest import BOTH, BOTH_PW, MakeApp, answer, open_main, wait_calls

CLIENT = ("Robin", "Ashdown")
TODAY = uk_today()


def click(qtbot: QtBot, widget: QWidget) -> None:
    """Click where a user would: on a tick box or radio button's indicator, else the middle."""
    if isinstance(widget, QCheckBox | QRadioButton):
        spot = QPoint(min(14, widget.width() // 2), widget.height() // 2)
        qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=spot)
    else:
        qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_into(qtbot: QtBot, widget: QWidget, text: str) -> None:
    qtbot.keyClicks(widget, text)


def save(qtbot: QtBot, main: MainWindow, dialog: FormDialog) -> None:
    """Press the dialog's Save and wait for the case to be read again."""
    click(qtbot, dialog.save_button)
    wait_calls(qtbot, main)


def closed(dialog: QWidget) -> bool:
    """Whether a dialog has gone (they delete themselves on closing)."""
    return not shiboken6.isValid(dialog) or not dialog.isVisible()


def page_of(main: MainWindow) -> CasePage:
    page = main.case_page
    assert page is not None and page.view is not None
    return page


def current_dialog(page: CasePage, kind: type[FormDialog]) -> FormDialog:
    dialog = page.dialog
    assert isinstance(dialog, kind) and dialog.isVisible(), type(dialog).__name__
    return dialog


def test_a_case_from_referral_to_closing(
    qtbot: QtBot, make_app: MakeApp, both_roles_store: StoreCopy
) -> None:
    app, main = open_main(qtbot, make_app, both_roles_store, BOTH, BOTH_PW)
    assert main.area_titles() == [
        "My cases",
        "Team cases",
        "Shares to review",
        "Conflicts",
        "This week",
        "Search",
        "Audit",
        "Subject access",
        "Figures",
    ]

    # -- a new referral, from the keyboard --------------------------------------------------------
    qtbot.keyClick(
        main, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    referral = main.dialog
    assert isinstance(referral, NewReferralDialog) and referral.isVisible()
    type_into(qtbot, referral.given_field, CLIENT[0])
    type_into(qtbot, referral.family_field, CLIENT[1])
    type_into(qtbot, referral.phone_field, "07700 900123")
    type_into(qtbot, referral.postcode_field, "ZZ1 1AA")
    type_into(qtbot, referral.source_field, "police")
    click(qtbot, referral.save_button)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    wait_calls(qtbot, main)
    page = page_of(main)
    assert main.pages.currentWidget() is page
    view = page.view
    assert view is not None and view.contact.client_name == "Robin Ashdown"
    assert page.reference_label.text() == view.case.reference
    assert view.case.status is CaseStatus.REFERRAL
    assert page.banner.state == ContactBanner.UNKNOWN  # nothing recorded: ask first
    case_id = view.case.id
    client_id = view.contact.client_id
    assert client_id is not None

    # -- the alleged perpetrator and a child ------------------------------------------------------
    page.add_person_action.trigger()
    dialog = current_dialog(page, PersonDialog)
    assert isinstance(dialog, PersonDialog) and dialog.role_field is not None
    dialog.role_field.set_value(CaseRole.ALLEGED_PERPETRATOR)
    type_into(qtbot, dialog.given_field, "Dale")
    type_into(qtbot, dialog.family_field, "Ashdown")
    save(qtbot, main, dialog)
    assert closed(dialog)

    page.add_person_action.trigger()
    dialog = current_dialog(page, PersonDialog)
    assert isinstance(dialog, PersonDialog) and dialog.role_field is not None
    dialog.role_field.set_value(CaseRole.CHILD)
    type_into(qtbot, dialog.given_field, "Sky")
    type_into(qtbot, dialog.family_field, "Ashdown")
    dialog.birth_field.set_value(dt.date(TODAY.year - 6, 3, 1))
    save(qtbot, main, dialog)
    roles = sorted(m.role.value for m in page_of(main).view.members)  # type: ignore[union-attr]
    assert roles == ["alleged_perpetrator", "child", "client"]
    assert page.people_model.rowCount() == 3

    # -- safe contact rules -----------------------------------------------------------------------
    page.safe_contact_action.trigger()
    dialog = current_dialog(page, SafeContactDialog)
    assert isinstance(dialog, SafeContactDialog)
    type_into(qtbot, dialog.number_field, "07700 900456")
    dialog.method_field.set_value(ContactMethod.TEXT)
    type_into(qtbot, dialog.times_field, "Weekdays 10:00 to 12:00")
    click(qtbot, dialog.text_field)
    type_into(qtbot, dialog.code_word_field, "bluebell")
    save(qtbot, main, dialog)
    banner = page.banner
    assert banner.state == ContactBanner.SAFE
    assert "07700 900456" in banner.number_line.text()
    assert "Voicemail: NO" in banner.ways_line.text() and "Text: OK" in banner.ways_line.text()
    assert "bluebell" not in banner.code_word_label.text()  # hidden until asked for
    assert HIDDEN_CODE_WORD in banner.code_word_label.text()
    click(qtbot, banner.code_word_button)
    assert "bluebell" in banner.code_word_label.text()
    click(qtbot, banner.code_word_button)
    assert "bluebell" not in banner.code_word_label.text()

    # -- DASH: 14 yes is high risk, and MARAC is offered ------------------------------------------
    page.tabs.setCurrentWidget(page.dash_form)
    form = page.dash_form
    for number in range(1, 25):
        answer_given = Answer.YES if number <= 14 else Answer.NO
        click(qtbot, form.questions[number - 1].buttons[answer_given])
    assert form.live_yes == 14 and form.live_level is RiskLevel.HIGH
    assert form.score_label.text() == "14 of 24 answered yes: High risk."
    assert form.criteria_label.text().startswith("MARAC referral: due.")
    assert "✔ Score of 14 or more" in form.criteria_label.text()
    click(qtbot, form.save_button)
    question = answer(qtbot, yes=True)
    assert "MARAC referral criteria" in question and "Score of 14 or more" in question
    wait_calls(qtbot, main)
    view = page_of(main).view
    assert view is not None and view.case.risk_level is RiskLevel.HIGH
    assert view.case.marac_referral_date == TODAY
    assert page.risk_label.text() == "Risk: High"
    assert page.marac_label.text().startswith("Referred to MARAC on")

    # -- consent refused for the police -----------------------------------------------------------
    page.record_consent_action.trigger()
    dialog = current_dialog(page, ConsentDialog)
    assert isinstance(dialog, ConsentDialog)
    dialog.person_field.set_value(client_id)
    dialog.purpose_field.set_value(ConsentPurpose.SHARING)
    dialog.recipient_field.set_value(RecipientCategory.POLICE)
    dialog.state_field.set_value(ConsentState.REFUSED)
    save(qtbot, main, dialog)
    consents = page.consent_model.records
    assert [(c.target, c.state) for c in consents] == [("police", ConsentState.REFUSED)]

    # -- a share to the police: asked for a basis, recorded on safeguarding grounds ---------------
    page.record_share_action.trigger()
    share = current_dialog(page, ShareDialog)
    assert isinstance(share, ShareDialog)
    share.recipient_field.set_value(RecipientCategory.POLICE)
    qtbot.waitUntil(lambda: share.gaps is not None, timeout=5000)
    assert share.gaps == {client_id: ConsentState.REFUSED}
    assert "No consent to share with Police" in share.consent_label.text()
    assert "refused" in share.consent_label.text()
    assert share.basis_field.value() is None  # consent will not do: the dialog asks
    assert share.reason_field.isVisible()
    type_into(qtbot, share.organisation_field, "Northshire Police")
    set_checked(share.categories_field, "risks")
    type_into(qtbot, share.purpose_field, "Threat to kill reported by the client")
    assert not share.save_button.isEnabled()  # checked as it is filled in, not after
    said = share.message_for(share.basis_field).text()
    assert said == "Choose the lawful basis for this share."
    assert share.isVisible()

    share.basis_field.set_value(LawfulBasis.SAFEGUARDING)
    type_into(qtbot, share.reason_field, "Serious risk of harm to the client and her child")
    click(qtbot, share.told_field)
    click(qtbot, share.save_button)
    assert "cannot be changed afterwards" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert closed(share)
    shares = page.share_model.records
    assert len(shares) == 1
    recorded = shares[0]
    assert recorded.record.lawful_basis is LawfulBasis.SAFEGUARDING
    assert recorded.record.person_told
    assert recorded.approval is ShareApproval.APPROVED  # decided by a manager: this user

    # -- a note (Ctrl+N), then a correction that keeps the original --------------------------------
    main.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is main)
    qtbot.keyClick(main, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = current_dialog(page, NoteDialog)
    assert isinstance(dialog, NoteDialog)
    type_into(qtbot, dialog.body_field, "Phoned the client at the agreed time; she is safe.")
    save(qtbot, main, dialog)
    assert page.note_model.rowCount() == 1

    page.tabs.setCurrentWidget(page.notes_tab)
    page.select_note(0)
    wait_calls(qtbot, main)
    page.correct_note_action.trigger()
    dialog = current_dialog(page, CorrectNoteDialog)
    assert isinstance(dialog, CorrectNoteDialog)
    dialog.body_field.setPlainText("Texted the client at the agreed time; she is safe.")
    click(qtbot, dialog.save_button)
    said = dialog.message_for(dialog.reason_field).text()
    assert said == "Say why the note is being corrected."
    type_into(qtbot, dialog.reason_field, "It was a text, not a call")
    save(qtbot, main, dialog)
    note = page.note_model.records[0]
    assert note.corrected and note.body.startswith("Texted")
    page.select_note(0)
    wait_calls(qtbot, main)
    history = page.note_text.toPlainText()
    assert "Phoned the client" in history  # the original stays visible
    assert "Reason: It was a text, not a call" in history

    # -- closing the case (a manager's step) ------------------------------------------------------
    assert page.close_action.isVisible()
    page.close_action.trigger()
    dialog = current_dialog(page, CloseCaseDialog)
    assert isinstance(dialog, CloseCaseDialog)
    choose(dialog.reason_choice, ClosureReason.SUPPORT_COMPLETED)
    type_into(qtbot, dialog.reason_field, "Client safe")
    click(qtbot, dialog.save_button)
    assert "Close this case now?" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    view = page_of(main).view
    assert view is not None and view.case.status is CaseStatus.CLOSED
    assert not page.new_note_action.isEnabled()
    assert page.reopen_action.isVisible() and not page.close_action.isVisible()
    assert "Closed" in page.state_label.text()

    # What the window did is what the store holds.
    app.sign_out()
    session = accounts.sign_in(
        both_roles_store.path, BOTH, BOTH_PW, device=DeviceSecrets(both_roles_store.keyring)
    )
    try:
        stored = cases.open_case(session, case_id)
        assert stored.case.status is CaseStatus.CLOSED
        assert stored.case.closed_reason == "Support completed: Client safe"
        assert stored.case.risk_level is RiskLevel.HIGH
        assert stored.latest_dash is not None and stored.latest_dash.yes_count == 14
        assert stored.contact.rules is not None and stored.contact.rules.code_word == "bluebell"
        assert [s.record.lawful_basis for s in stored.shares] == [LawfulBasis.SAFEGUARDING]
        revisions = notes.history(session, stored.notes[0].id)
        assert revisions[0].body.startswith("Phoned")
        assert revisions[1].reason == "It was a text, not a call"
    finally:
        accounts.sign_out(session)
