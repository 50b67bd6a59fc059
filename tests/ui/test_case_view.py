"""The case screen: header, banner, tabs and their models, the forms, and managers' steps."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.models.records import (
    Answer,
    CaseDetails,
    CaseRole,
    CaseStatus,
    ClosureReason,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    Direction,
    LawfulBasis,
    NoteKind,
    RecipientCategory,
    RiskLevel,
    SafeContact,
    ShareApproval,
    ShareRecord,
)
from app.services import access, cases, consent, notes, risk, sharing
from app.services.session import uk_today
from app.ui.app import load_style
from app.ui.case_dialogs import (
    AllocateDialog,
    BreakGlassByReferenceDialog,
    BreakGlassDialog,
    ConsentDialog,
    LegalHoldDialog,
    NoteDialog,
    PersonDialog,
    SafeContactDialog,
)
from app.ui.case_view import CasePage
from app.ui.contact_banner import ContactBanner
from app.ui.forms import FormDialog, choose
from app.ui.main_window import MainWindow
from app.ui.referral_dialog import NewReferralDialog
from app.ui.share_dialog import ShareDialog
from tests.helpers import (
    CASEWORKER,
    CASEWORKER2,
    CASEWORKER_PW,
    MANAGER,
    MANAGER_PW,
    StoreCopy,
)
from tests.services.casework import new_case, person, signed_in, user_id
from tests.ui.conftest import MakeApp, answer, confirmation, open_main, wait_calls

TODAY = uk_today()


@dataclass
class RichCase:
    case_id: int
    client_id: int
    child_id: int
    reference: str


def make_rich_case(store: StoreCopy) -> RichCase:
    """A caseworker's case with people, safe contact, consent, a share, notes and a DASH."""
    with signed_in(store, CASEWORKER) as s:
        client = person(
            "Robin",
            "Ashdown",
            date_of_birth=dt.date(1990, 5, 1),
            phones=("07700 900111",),
            address="Flat 2, 1 Example Row",
            postcode="ZZ1 1AA",
            address_confidential=True,
        )
        case_id, client_id = new_case(s, client)
        cases.add_person(s, case_id, person("Dale", "Ashdown"), CaseRole.ALLEGED_PERPETRATOR)
        child_id = cases.add_person(
            s,
            case_id,
            person("Sky", "Ashdown", date_of_birth=TODAY.replace(year=TODAY.year - 6)),
            CaseRole.CHILD,
        )
        cases.set_safe_contact(
            s,
            case_id,
            SafeContact(
                person_id=client_id,
                safe_number="07700 900111",
                safe_times="Mornings",
                text_ok=True,
                code_word="bluebell",
            ),
        )
        consent.record_consent(
            s,
            case_id,
            client_id,
            ConsentPurpose.SHARING,
            "police",
            ConsentState.GIVEN,
            decided_on=TODAY,
            how=ConsentHow.VERBAL,
        )
        sharing.record_share(
            s,
            ShareRecord(
                case_id=case_id,
                direction=Direction.OUT,
                shared_at=(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
                organisation="Northshire Police",
                recipient_category=RecipientCategory.POLICE,
                person_ids=(client_id,),
                data_categories=("risks",),
                purpose="Safety planning",
                method="secure e-mail",
                lawful_basis=LawfulBasis.CONSENT,
            ),
        )
        first = notes.add_note(
            s, case_id, NoteKind.CALL, "First call", dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
        )
        notes.add_note(s, case_id, NoteKind.VISIT, "Home visit", dt.datetime.now(dt.UTC))
        notes.correct_note(s, first, "First call, by text", "It was a text")
        answers = {n: Answer.YES if n <= 10 else Answer.NO for n in range(1, 25)}
        risk.record_dash(s, case_id, client_id, answers, completed_on=TODAY)
        reference = cases.open_case(s, case_id).case.reference
    return RichCase(case_id, client_id, child_id, reference)


@pytest.fixture
def rich(store: StoreCopy) -> RichCase:
    return make_rich_case(store)


def open_case_as(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, case_id: int, user: str, password: str
) -> tuple[MainWindow, CasePage]:
    _app, main = open_main(qtbot, make_app, store, user, password)
    main.open_case(case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    wait_calls(qtbot, main)
    assert main.case_page is not None
    return main, main.case_page


def gone(widget: QWidget) -> bool:
    return not shiboken6.isValid(widget) or not widget.isVisible()


def unnamed_controls(root: QWidget) -> list[str]:
    """Focusable controls a screen reader could not name (inner parts of composite widgets,
    which their outer widget names, are left out)."""
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        if widget.focusPolicy() == Qt.FocusPolicy.NoFocus or not widget.isVisibleTo(root):
            continue
        if widget.focusProxy() is not None or widget.objectName() == "qt_spinbox_lineedit":
            continue
        if not widget.accessibleName():
            found.append(f"{type(widget).__name__} {widget.objectName()}")
    return found


# -- what the screen shows ------------------------------------------------------------------------


def test_every_model_on_the_case_screen_passes_the_model_tester(
    qtbot: QtBot, qtmodeltester: ModelTester, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, MANAGER, MANAGER_PW)
    for model in (
        page.people_model,
        page.consent_model,
        page.share_model,
        page.note_model,
        page.history_model,
    ):
        qtmodeltester.check(model)
    assert page.history_model.rowCount() > 0
    page.reload()  # every model is reset and filled again under the testers' eyes
    wait_calls(qtbot, main)
    assert page.note_model.rowCount() == 2


def test_the_header_banner_and_tabs_show_the_case(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    _main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    assert page.reference_label.text() == rich.reference
    assert page.client_label.text() == f"Client: Robin Ashdown · Worker: {CASEWORKER}"
    assert page.risk_label.text() == "Risk: Medium"
    assert page.marac_label.text() == "No MARAC referral"
    assert page.state_label.text() == "Status: Referral"
    assert not page.restriction_label.isVisible() and not page.hold_label.isVisible()

    banner = page.banner
    assert banner.state == ContactBanner.SAFE and banner.isVisible()
    assert "Safe number: 07700 900111" in banner.number_line.text()
    assert "Safe times: Mornings" in banner.number_line.text()
    assert banner.ways_line.text().startswith("Voicemail: NO · Text: OK · Letters: NO")
    assert "bluebell" not in banner.code_word_label.text()

    people = {(m.person.name, m.role) for m in page.people_model.records}
    assert people == {
        ("Robin Ashdown", CaseRole.CLIENT),
        ("Dale Ashdown", CaseRole.ALLEGED_PERPETRATOR),
        ("Sky Ashdown", CaseRole.CHILD),
    }
    assert page.consent_model.index(0, 3).data() == "Given"
    assert page.consent_model.index(0, 2).data() == "Police"
    assert page.share_model.index(0, 2).data() == "Northshire Police"
    assert page.share_model.index(0, 6).data() == "Consent"
    assert [n.body for n in page.note_model.records] == ["Home visit", "First call, by text"]
    assert page.note_model.index(1, 3).data() == "corrected"
    assert "CONFIDENTIAL ADDRESS" in page.contact_details.text()
    assert "07700 900111" in page.contact_details.text()
    assert "Last checklist" in page.dash_form.latest_label.text()
    assert "10 yes, Medium risk" in page.dash_form.latest_label.text()


def test_the_banner_says_do_not_contact_in_red_words(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client_id = new_case(s)
        cases.set_safe_contact(
            s, case_id, SafeContact(person_id=client_id, do_not_contact=True, safe_people="IDVA")
        )
        other_id, _ = new_case(s, person("Alex", "Other"))
    main, page = open_case_as(qtbot, make_app, store, case_id, CASEWORKER, CASEWORKER_PW)
    banner = page.banner
    assert banner.state == ContactBanner.DO_NOT_CONTACT
    assert banner.objectName() == "doNotContact"  # the style sheet's red frame
    assert banner.title.text().startswith("DO NOT CONTACT")
    assert not banner.number_line.isVisible()
    assert "Safe to speak to: IDVA" in banner.people_line.text()
    assert "DO NOT CONTACT" in banner.accessibleDescription()

    main.open_case(other_id)
    qtbot.waitUntil(lambda: page.view is not None and page.view.case.id == other_id)
    assert banner.state == ContactBanner.UNKNOWN
    assert "No safe contact details are recorded" in banner.title.text()


def test_a_restricted_client_makes_the_case_read_only(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    with signed_in(store, MANAGER) as s:
        cases.restrict_person(s, rich.client_id, "Objection under article 21 being considered")
    _main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    assert page.restriction_label.isVisible()
    assert page.restriction_label.text().startswith("Restricted: Robin Ashdown.")
    for action in (
        page.new_note_action,
        page.record_share_action,
        page.record_consent_action,
        page.safe_contact_action,
    ):
        assert not action.isEnabled()
    assert not page.dash_form.save_button.isEnabled()
    assert page.plan_field.isReadOnly()


def test_managers_see_this_cases_history_only(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    with signed_in(store, CASEWORKER) as s:
        other_id, _ = new_case(s, person("Alex", "Other"))
        cases.open_case(s, other_id)
    app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    main.open_case(rich.case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    wait_calls(qtbot, main)
    page = main.case_page
    assert page is not None
    entries = page.history_model.records
    mark = f"case:{rich.case_id}"
    assert entries and all(e.record == mark or mark in e.detail.split() for e in entries)
    actions = [e.action for e in entries]
    assert {"case_created", "note_corrected", "share_recorded", "dash_recorded"} <= set(actions)
    assert "person_added" in actions  # the people put on the case count too
    assert [e.id for e in entries] == sorted((e.id for e in entries), reverse=True)  # newest first
    assert page.history_model.index(0, 1).data() == MANAGER  # the manager's own view
    assert page.history_model.index(0, 2).data() == "case viewed"
    tabs = [page.tabs.tabText(i).replace("&", "") for i in range(page.tabs.count())]
    assert tabs[-1] == "History"

    # A note saved here shows in the history at once, with no second view of the case.
    page.new_note_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, NoteDialog)
    qtbot.keyClicks(dialog.body_field, "Manager's check-in call")
    dialog.save_button.click()
    wait_calls(qtbot, main)
    entries = page.history_model.records
    assert entries[0].action == "note_added" and entries[0].user_id == user_id_of(main, MANAGER)
    assert [e.action for e in entries[1:]] == actions
    shown = [e.id for e in entries]

    # The tab holds what the service holds for this case, in the same order.
    app.sign_out()
    with signed_in(store, MANAGER) as s:
        assert [e.id for e in cases.history(s, rich.case_id)] == shown


# -- the DASH tab ---------------------------------------------------------------------------------


def test_the_dash_score_and_marac_criteria_follow_the_answers(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    _main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    form = page.dash_form
    page.tabs.setCurrentWidget(form)
    for n in (1, 2, 3):
        form.set_answer(n, Answer.YES)
    assert form.score_label.text() == "3 of 24 answered yes: Standard risk. 21 not answered yet."
    assert form.criteria_label.text().startswith("MARAC referral: not indicated")
    form.callouts_field.setValue(3)
    assert form.criteria_label.text().startswith("MARAC referral: due.")
    assert "✔ Potential escalation" in form.criteria_label.text()
    form.judgement_field.set_value(RiskLevel.HIGH)
    assert form.problem_label.text() == "Give the reason for your professional judgement."
    form.judgement_reason_field.setText("Stalking after separation")
    form.judgement_reason_field.textEdited.emit("Stalking after separation")
    assert form.problem_label.text() == ""
    assert form.live_level is RiskLevel.HIGH
    assert "✔ Professional judgement" in form.criteria_label.text()
    form.save_button.click()
    assert form.problem_label.text() == "Answer every question (21 not answered yet)."
    assert form.dirty and page.unsaved_changes() == ["the DASH checklist"]

    form.copy_latest()  # start from the last checklist: 10 yes
    assert form.live_yes == 10


# -- leaving with unsaved work --------------------------------------------------------------------


def test_unsaved_work_is_asked_about_before_it_is_lost(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    with signed_in(store, CASEWORKER) as s:
        other_id, _ = new_case(s, person("Alex", "Other"))
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    page.tabs.setCurrentWidget(page.plan_tab)
    qtbot.keyClicks(page.plan_field, "Keep a bag packed at a neighbour's.")
    assert page.unsaved_changes() == ["the safety plan"]

    main.open_case(other_id)
    assert "Discard your changes to the safety plan" in answer(qtbot, yes=False)
    assert page.view is not None and page.view.case.id == rich.case_id

    main.close()
    assert "sign out" in answer(qtbot, yes=False)
    assert main.isVisible()
    main.sign_out_action.trigger()
    assert "sign out" in answer(qtbot, yes=False)
    assert main.active

    page.plan_save_button.click()
    wait_calls(qtbot, main)
    assert page.unsaved_changes() == []
    assert page.view is not None
    assert page.view.case.details.safety_plan == "Keep a bag packed at a neighbour's."
    main.open_case(other_id)
    qtbot.waitUntil(lambda: page.view is not None and page.view.case.id == other_id)
    assert confirmation() is None


def test_a_form_with_changes_asks_before_it_is_cancelled(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    _main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    page.new_note_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, NoteDialog)
    qtbot.keyClicks(dialog.body_field, "Half a note")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert answer(qtbot, yes=False) == "Discard what you typed in this form?"
    assert dialog.isVisible()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    answer(qtbot, yes=True)
    assert gone(dialog)
    assert [n.body for n in page.note_model.records] == ["Home visit", "First call, by text"]


# -- forms ----------------------------------------------------------------------------------------


def test_a_referral_warns_of_a_matching_record_and_counts_hidden_ones(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, CASEWORKER) as s:
        mine, _ = new_case(s, person("Robin", "Ashdown", phones=("07700 900111",)))
        my_reference = cases.open_case(s, mine).case.reference
    with signed_in(store, MANAGER) as s:
        elsewhere = cases.create_referral(
            s,
            person("Robin", "Ashdown"),
            CaseDetails(referral_date=TODAY, referral_source="GP"),
            allocate_to=user_id(s, CASEWORKER2),
        )
        hidden_reference = cases.open_case(s, elsewhere).case.reference
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    main.new_referral_action.trigger()
    dialog = main.dialog
    assert isinstance(dialog, NewReferralDialog)
    qtbot.keyClicks(dialog.given_field, "Robin")
    qtbot.keyClicks(dialog.family_field, "Ashdown")
    qtbot.keyClicks(dialog.source_field, "self-referral")
    dialog.save_button.click()
    wait_calls(qtbot, main)
    assert dialog.isVisible() and dialog.match_label.isVisible()
    text = dialog.match_label.text()
    assert text.startswith("A matching record exists.")
    assert my_reference in text
    assert "1 more match is on a case you may not open" in text
    assert hidden_reference not in text
    assert dialog.save_button.text() == "&Create the referral anyway"

    dialog.save_button.click()
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    view = main.case_page.view  # type: ignore[union-attr]
    assert view is not None and view.case.reference not in (my_reference, hidden_reference)


def test_a_caseworkers_share_without_consent_goes_to_a_manager(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)

    def share_to_housing(manager: str | None) -> ShareDialog:
        page.record_share_action.trigger()
        dialog = page.dialog
        assert isinstance(dialog, ShareDialog)
        dialog.recipient_field.set_value(RecipientCategory.HOUSING)
        qtbot.waitUntil(lambda: dialog.gaps is not None)
        assert dialog.gaps == {rich.client_id: ConsentState.NOT_ASKED}
        assert dialog.manager_field.isVisible()  # a caseworker names the manager, or none
        dialog.organisation_field.setText("Northshire Homes")
        dialog.categories_field.item(1).setCheckState(Qt.CheckState.Checked)
        dialog.purpose_field.setText("Emergency rehousing")
        dialog.basis_field.set_value(LawfulBasis.VITAL_INTERESTS)
        dialog.reason_field.setPlainText("Immediate risk at the current address")
        dialog.not_told_field.setChecked(True)
        dialog.not_told_reason_field.setText("Telling her now would raise the risk")
        if manager is not None:
            assert dialog.manager_field.set_value(user_id_of(main, manager))
        dialog.save_button.click()
        answer(qtbot, yes=True)
        wait_calls(qtbot, main)
        return dialog

    share_to_housing(None)
    assert page.status_message.text() == (
        "Share recorded without consent. A manager must review it within 48 hours."
    )
    assert page.share_model.records[0].approval is ShareApproval.AWAITING_REVIEW
    assert not page.share_model.records[0].record.person_told
    assert page.share_model.index(0, 7).data() == "Awaiting a manager's review"

    share_to_housing(MANAGER)
    assert page.status_message.text() == "Share recorded in the sharing log."
    assert page.share_model.records[0].approval is ShareApproval.APPROVED


def user_id_of(main: MainWindow, username: str) -> int:
    return next(i for i, name in main.names.items() if name == username)


def test_consent_is_withdrawn_from_the_chosen_decision(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    page.tabs.setCurrentWidget(page.consent_tab)
    page.consent_table.selectRow(0)
    page.withdraw_consent_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, ConsentDialog)
    assert dialog.person_field.value() == rich.client_id
    assert dialog.recipient_field.value() is RecipientCategory.POLICE
    assert dialog.state_field.value() is ConsentState.WITHDRAWN
    dialog.save_button.click()
    wait_calls(qtbot, main)
    assert [c.state for c in page.consent_model.records] == [ConsentState.WITHDRAWN]


def test_a_child_under_13_cannot_consent_alone_and_the_form_says_so(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    page.record_consent_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, ConsentDialog)
    dialog.person_field.set_value(rich.child_id)
    dialog.purpose_field.set_value(ConsentPurpose.PHOTOS)
    assert not dialog.recipient_field.isVisible()
    dialog.save_button.click()
    wait_calls(qtbot, main)
    assert dialog.problem_label.text().startswith("A child under 13 cannot give this consent")
    assert dialog.isVisible()


def test_people_and_safe_contact_forms_change_the_case(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    page.tabs.setCurrentWidget(page.people_tab)
    row = next(
        i for i, m in enumerate(page.people_model.records) if m.person.name == "Dale Ashdown"
    )
    page.people_table.selectRow(row)
    page.edit_person_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, PersonDialog) and dialog.role_field is None
    assert dialog.given_field.text() == "Dale"
    dialog.family_field.setText("")
    dialog.given_field.setText("")
    dialog.save_button.click()
    assert dialog.problem_label.text() == "Give the person's name (a first or last name at least)."
    dialog.given_field.setText("Dale")
    dialog.family_field.setText("Ashdown-Smith")
    dialog.aliases_field.setText("D, Big D")
    dialog.save_button.click()
    wait_calls(qtbot, main)
    renamed = [m.person for m in page.people_model.records if m.person.id == dialog.person.id]  # type: ignore[union-attr]
    assert renamed[0].name == "Dale Ashdown-Smith"
    assert renamed[0].details.aliases == ("D", "Big D")

    page.safe_contact_action.trigger()
    rules = page.dialog
    assert isinstance(rules, SafeContactDialog)
    assert rules.number_field.text() == "07700 900111"  # starts from what is recorded
    rules.do_not_contact_field.setChecked(True)
    rules.save_button.click()
    wait_calls(qtbot, main)
    assert page.banner.state == ContactBanner.DO_NOT_CONTACT


def test_a_manager_holds_allocates_closes_and_reopens(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, MANAGER, MANAGER_PW)
    page.hold_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, LegalHoldDialog)
    dialog.save_button.click()
    assert dialog.message_for(dialog.reason_field).text() == "Give the reason for the legal hold."
    dialog.reason_field.setText("Domestic homicide review")
    dialog.save_button.click()
    wait_calls(qtbot, main)
    assert page.hold_label.isVisible() and "Domestic homicide review" in page.hold_label.text()
    assert page.lift_hold_action.isVisible() and not page.hold_action.isVisible()
    page.lift_hold_action.trigger()
    assert "Lift the legal hold?" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert not page.hold_label.isVisible()

    page.allocate_action.trigger()
    allocate = page.dialog
    assert isinstance(allocate, AllocateDialog)
    assert allocate.worker_field.set_value(user_id_of(main, CASEWORKER2))
    allocate.save_button.click()
    wait_calls(qtbot, main)
    assert page.view is not None and page.view.allocated_worker == CASEWORKER2

    page.open_work_action.trigger()
    opened = page.dialog
    assert isinstance(opened, FormDialog)
    opened.save_button.click()
    wait_calls(qtbot, main)
    assert page.view is not None and page.view.case.status is CaseStatus.OPEN

    page.close_action.trigger()
    closing = page.dialog
    assert isinstance(closing, FormDialog)
    choose(closing.reason_choice, ClosureReason.MOVED_AWAY)  # type: ignore[attr-defined]
    closing.save_button.click()
    answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert page.view is not None and page.view.case.status is CaseStatus.CLOSED
    page.reopen_action.trigger()
    assert "Reopen this case?" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert page.view is not None and page.view.case.status is CaseStatus.OPEN


def test_break_glass_opens_a_case_that_is_not_yours_with_a_reason(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, MANAGER) as s:
        theirs = cases.create_referral(
            s,
            person("Alex", "Elsewhere"),
            CaseDetails(referral_date=TODAY, referral_source="GP"),
            allocate_to=user_id(s, CASEWORKER2),
        )
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    main.open_case(theirs)
    wait_calls(qtbot, main)
    page = main.case_page
    assert page is not None and page.view is None
    dialog = page.dialog
    assert isinstance(dialog, BreakGlassDialog) and dialog.isVisible()
    dialog.reason_field.setPlainText("")
    dialog.save_button.click()
    said = dialog.message_for(dialog.reason_field).text()
    assert said.startswith("Say why you need to open this case")
    dialog.reason_field.setPlainText("Client rang in crisis; her worker is on leave today")
    dialog.save_button.click()
    assert "stay in the audit trail" in answer(qtbot, yes=True)
    qtbot.waitUntil(lambda: page.view is not None)
    wait_calls(qtbot, main)
    assert page.view is not None and page.view.break_glass
    assert "opened by break-glass" in page.state_label.text()
    assert page.client_label.text().startswith("Client: Alex Elsewhere")


def test_break_glass_by_reference_records_the_reason_and_opens_the_case(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, MANAGER) as s:
        theirs = cases.create_referral(
            s,
            person("Alex", "Elsewhere"),
            CaseDetails(referral_date=TODAY, referral_source="GP"),
            allocate_to=user_id(s, CASEWORKER2),
        )
        reference = cases.open_case(s, theirs).case.reference
    app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    assert main.my_cases.model.rowCount() == 0  # not the caseworker's case
    assert main.break_glass_action.isVisible() and main.break_glass_action.isEnabled()
    main.break_glass_action.trigger()
    dialog = main.dialog
    assert isinstance(dialog, BreakGlassByReferenceDialog) and dialog.isVisible()
    assert unnamed_controls(dialog) == []

    # The keyboard reaches both fields, in order.
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.reference_field)
    qtbot.keyClicks(dialog.reference_field, "SC-1999-000001")
    qtbot.keyClick(dialog.reference_field, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is dialog.reason_field
    qtbot.keyClicks(dialog.reason_field, "Client rang in crisis; her worker is on leave today")
    dialog.save_button.click()
    answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert dialog.isVisible()
    assert dialog.problem_label.text() == "There is no case with that reference."

    dialog.reference_field.setText(f"  {reference.lower()} ")  # as it might be typed
    dialog.save_button.click()
    assert "stay in the audit trail" in answer(qtbot, yes=True)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    wait_calls(qtbot, main)
    page = main.case_page
    assert page is not None and page.view is not None
    assert page.view.case.id == theirs and page.view.break_glass
    assert main.pages.currentWidget() is page
    assert "opened by break-glass" in page.state_label.text()
    assert gone(dialog)
    listed = main.my_cases.model
    assert [listed.summary(r).id for r in range(listed.rowCount())] == [theirs]  # type: ignore[union-attr]

    app.sign_out()
    with signed_in(store, MANAGER) as s:
        log = access.break_glass_log(s)
        assert [(e.case_id, e.reason) for e in log] == [
            (theirs, "Client rang in crisis; her worker is on leave today")
        ]
        worker = user_id(s, CASEWORKER)
        mine = [e.action for e in cases.history(s, theirs) if e.user_id == worker]
        assert mine == ["case_viewed", "break_glass"]  # newest first: one view, after the reason


def test_saving_changes_reads_the_case_again_without_another_view(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    with signed_in(store, MANAGER) as s:
        before = cases.history(s, rich.case_id)[0].id
    app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    main.open_case(rich.case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    wait_calls(qtbot, main)
    page = main.case_page
    assert page is not None
    page.new_note_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, NoteDialog)
    qtbot.keyClicks(dialog.body_field, "Rang the client back")
    dialog.save_button.click()
    wait_calls(qtbot, main)
    assert "Rang the client back" in [n.body for n in page.note_model.records]  # read again
    page.tabs.setCurrentWidget(page.plan_tab)
    qtbot.keyClicks(page.plan_field, "Keep a bag packed at a neighbour's.")
    page.plan_save_button.click()
    wait_calls(qtbot, main)
    assert page.view is not None
    assert page.view.case.details.safety_plan == "Keep a bag packed at a neighbour's."

    def since_opening() -> list[str]:
        app.sign_out()
        with signed_in(store, MANAGER) as s:
            return [e.action for e in cases.history(s, rich.case_id) if e.id > before]

    # Newest first: the two changes, then the one view of the opening.
    assert since_opening() == ["case_changed", "note_added", "case_viewed"]


def test_refresh_is_a_new_view_of_the_case(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    """Refresh (F5) reads what others may have changed too: it is recorded as a view."""
    with signed_in(store, MANAGER) as s:
        before = cases.history(s, rich.case_id)[0].id
    app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    main.open_case(rich.case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    wait_calls(qtbot, main)
    main.refresh_action.trigger()
    wait_calls(qtbot, main)
    app.sign_out()
    with signed_in(store, MANAGER) as s:
        actions = [e.action for e in cases.history(s, rich.case_id) if e.id > before]
    assert actions == ["case_viewed", "case_viewed"]


# -- keyboard, names and size ----------------------------------------------------------------------


def test_every_control_on_the_case_screen_and_its_forms_has_a_name(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, MANAGER, MANAGER_PW)
    for index in range(page.tabs.count()):
        page.tabs.setCurrentIndex(index)
        assert unnamed_controls(main) == [], page.tabs.tabText(index)
    for action in (
        page.new_note_action,
        page.record_share_action,
        page.record_consent_action,
        page.add_person_action,
        page.safe_contact_action,
        page.hold_action,
        page.allocate_action,
        page.close_action,
    ):
        action.trigger()
        dialog = page.dialog
        assert isinstance(dialog, FormDialog)
        assert unnamed_controls(dialog) == [], type(dialog).__name__
        dialog.discard()
    main.new_referral_action.trigger()
    assert isinstance(main.dialog, FormDialog)
    assert unnamed_controls(main.dialog) == []
    main.dialog.discard()


@pytest.fixture
def styled(qapp: QApplication) -> Iterator[None]:
    """The product's style sheet (its padding and point sizes count towards every size)."""
    assert load_style(qapp)
    yield
    qapp.setStyleSheet("")


def fits(widget: QWidget, width: int = 960, height: int = 540) -> bool:
    hint = widget.minimumSizeHint()
    return hint.width() <= width and hint.height() <= height


@pytest.mark.usefixtures("styled")
def test_the_case_screen_fits_a_200_percent_screen(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    """At 200% a 1920x1080 screen is 960x540 device-independent pixels: the window, with a case
    open, must fit in that (its lists and checklist scroll), and so must its largest form."""
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, MANAGER, MANAGER_PW)
    for index in range(page.tabs.count()):
        page.tabs.setCurrentIndex(index)
        assert fits(main), (page.tabs.tabText(index), main.minimumSizeHint())
    main.resize(960, 540)
    assert main.width() == 960 and main.height() == 540
    assert page.banner.isVisible() and page.banner.visibleRegion().boundingRect().height() > 0
    page.record_share_action.trigger()
    assert isinstance(page.dialog, ShareDialog)
    assert fits(page.dialog), page.dialog.minimumSizeHint()
    page.dialog.discard()


def test_the_keyboard_reaches_the_case_list_in_reading_order(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.team_cases
    main.show_area(page)
    main.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is main)
    page.search_field.setFocus()
    order = [
        page.search_field,
        page.status_filter,
        page.risk_filter,
        page.marac_filter,
        page.worker_filter,
        page.table,
        page.sort_choice,  # under the list, beside the count
    ]
    for before, after in itertools.pairwise(order):
        assert QApplication.focusWidget() is before
        qtbot.keyClick(before, Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is after, type(QApplication.focusWidget()).__name__


def mnemonic_keys(main: MainWindow) -> list[str]:
    """The Alt+letter keys on screen: menu titles, buttons, and labels that focus a field."""
    texts = [a.text() for a in main.menuBar().actions() if a.isVisible()]
    for widget in main.findChildren(QWidget):
        if not widget.isVisibleTo(main):
            continue
        if isinstance(widget, QAbstractButton) or (
            isinstance(widget, QLabel) and widget.buddy() is not None
        ):
            texts.append(widget.text())
    return [m.lower() for text in texts for m in re.findall(r"&([^&\s])", text)]


def test_alt_keys_on_the_case_screen_never_clash(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, MANAGER, MANAGER_PW)
    for index in range(page.tabs.count()):
        page.tabs.setCurrentIndex(index)
        keys = mnemonic_keys(main)
        clashes = sorted({k for k in keys if keys.count(k) > 1})
        assert clashes == [], (page.tabs.tabText(index), clashes)
    for area in (main.team_cases, main.reviews_page, main.audit_page, main.sar_page):
        main.show_area(area)
        keys = mnemonic_keys(main)
        assert sorted({k for k in keys if keys.count(k) > 1}) == [], area.accessibleName()
