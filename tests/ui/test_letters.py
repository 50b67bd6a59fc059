"""Letters and texts on screen: the case's "Letters and texts" action shows the rules' refusal
with its reason, a manager overrides it with a reason and saves the letter after the
not-encrypted warning, a text is prepared for copying; an admin edits, previews and resets a
template."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from pathlib import Path

from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.models.categories import Agency, AgencyType
from app.models.records import (
    CaseDetails,
    CaseRole,
    LawfulBasis,
    PersonDetails,
    RecipientCategory,
    SafeContact,
    Share,
    ShareApproval,
)
from app.services import cases, categories, letters, sharing
from app.services.contact_rules import Output, RestrictionGround
from app.ui.case_view.page import CasePage
from app.ui.letter_templates import TemplatesDialog
from app.ui.letters_dialog import LettersDialog
from app.ui.main_window import MainWindow
from app.ui.sar_pack import PackDialog
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER_PW,
    MANAGER,
    MANAGER_PW,
    StoreCopy,
)
from tests.services.casework import TODAY, person, signed_in, user_id
from tests.services.sar_world import build_world, new_request
from tests.ui.conftest import MakeApp, answer, open_main, wait_calls
from tests.ui.test_marac_dialog import _alt_keys

SAFE = "c/o Sister 3 Friendly Close"
HOME = "14 Shared Road"


def _case(store: StoreCopy, rules: SafeContact) -> int:
    """A case allocated to the caseworker, its client living at the shared home."""
    with signed_in(store, MANAGER) as s:
        case_id = cases.create_referral(
            s,
            person("Kim", "Ashdown", address=HOME, postcode="ZZ1 1AA"),
            CaseDetails(referral_date=TODAY, referral_source="police"),
            allocate_to=user_id(s, CASEWORKER),
        )
        client = cases.contact_rules(s, case_id).client_id
        assert client is not None
        cases.add_person(s, case_id, person("Lee", "Ashdown"), CaseRole.ALLEGED_PERPETRATOR)
        cases.set_safe_contact(s, case_id, replace(rules, person_id=client))
    return case_id


def _rules(**changes: object) -> SafeContact:
    base = SafeContact(
        person_id=0,
        safe_number="07700 900777",
        method="phone",
        safe_times="any time",
        text_ok=True,
        letters_ok=True,
        safe_address=SAFE,
        safe_postcode="ZZ9 9SF",
        last_checked=TODAY,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _open_letters(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, case_id: int, user: str, password: str
) -> tuple[MainWindow, LettersDialog]:
    _app, main = open_main(qtbot, make_app, store, user, password)
    main.open_case(case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    wait_calls(qtbot, main)
    page = main.case_page
    assert isinstance(page, CasePage)
    assert page.letters_action.isEnabled()
    page.letters_action.trigger()
    dialog = page.letters_dialog
    assert isinstance(dialog, LettersDialog)
    wait_calls(qtbot, main)
    return main, dialog


def _choose(qtbot: QtBot, main: MainWindow, dialog: LettersDialog, output: Output) -> None:
    dialog.kind_field.set_value(output)
    wait_calls(qtbot, main)


def test_a_refused_letter_shows_its_reason_and_a_caseworker_cannot_override(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    case_id = _case(store, _rules(letters_ok=False))
    main, dialog = _open_letters(qtbot, make_app, store, case_id, CASEWORKER, CASEWORKER_PW)
    _choose(qtbot, main, dialog, Output.CLOSURE)
    shown = dialog.verdict_label.text()
    assert "Refused: The safe-contact details say letters are not safe for this person." in shown
    assert dialog.hint_label.text() == "Only a manager may override this rule."
    assert not dialog.override_field.isVisible()
    assert not dialog.print_button.isEnabled() and not dialog.save_button.isEnabled()
    # The alleged perpetrator is never written to, whoever asks.
    dialog.person_field.setCurrentIndex(1)
    wait_calls(qtbot, main)
    assert "alleged perpetrator" in dialog.verdict_label.text()
    assert not dialog.save_button.isEnabled()


def test_a_manager_overrides_with_a_reason_and_saves_the_letter_after_the_warning(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    case_id = _case(store, _rules(letters_ok=False))
    main, dialog = _open_letters(qtbot, make_app, store, case_id, MANAGER, MANAGER_PW)
    _choose(qtbot, main, dialog, Output.CONSENT_SHEET)
    assert dialog.override_field.isVisible()
    assert not dialog.save_button.isEnabled()
    reason = "Handed to her at the Friday drop-in"
    qtbot.keyClicks(dialog.override_field, reason)
    assert dialog.save_button.isEnabled()
    dialog.choose_folder = lambda: str(tmp_path)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "not encrypted" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    saved = tmp_path / f"{dialog.view.case.reference}-consent_sheet.pdf"
    assert saved.is_file(), dialog.status_label.text()
    assert "PDF saved, not encrypted" in dialog.status_label.text()
    text = " ".join(
        (p.extract_text() or "") for p in PdfReader(io.BytesIO(saved.read_bytes())).pages
    )
    assert "How we use your information" in text
    assert HOME not in text and SAFE not in text  # handed over: no address at all
    # The DPO (and the managers) read the override and its reason on the audit page.
    dialog.reject()
    main.show_area(main.audit_page)
    wait_calls(qtbot, main)
    audit_page = main.audit_page
    audit_page.tabs.setCurrentWidget(audit_page.override_table)
    model = audit_page.override_model
    assert model.rowCount() == 1
    row = [model.index(0, c).data() for c in range(model.columnCount())]
    assert row[1:] == [
        MANAGER,
        dialog.view.case.reference,
        "Consent and information sheet",
        "Letters not safe",
        reason,
    ]


def test_a_text_is_prepared_for_copying_to_the_safe_number(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    case_id = _case(store, _rules())
    main, dialog = _open_letters(qtbot, make_app, store, case_id, CASEWORKER, CASEWORKER_PW)
    _choose(qtbot, main, dialog, Output.TEXT)
    assert "safe number 07700 900777" in dialog.verdict_label.text()
    assert not dialog.print_button.isVisible()
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert QGuiApplication.clipboard().text().startswith("Hi Kim, it's")
    assert "Safecase sends nothing" in dialog.status_label.text()
    dialog.reject()
    assert QGuiApplication.clipboard().text() == ""  # taken off the clipboard on closing


def test_an_admin_edits_previews_and_resets_a_template(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.users_page
    main.show_area(page)
    wait_calls(qtbot, main)
    qtbot.mouseClick(page.templates_button, Qt.MouseButton.LeftButton)
    dialog = page.templates_dialog
    assert isinstance(dialog, TemplatesDialog)
    wait_calls(qtbot, main)
    dialog.kind_field.set_value(Output.CLOSURE)
    dialog.body_field.selectAll()
    qtbot.keyClicks(dialog.body_field, "Dear {client_nickname},")
    assert "{client_nickname}" in dialog.problem_label.text()
    assert not dialog.save_button.isEnabled()
    dialog.body_field.clear()
    qtbot.keyClicks(dialog.body_field, "Dear {client_given_name}, we have closed {case_reference}.")
    assert dialog.problem_label.text() == ""
    assert "Dear Alex, we have closed SC-2026-0001." in dialog.preview_field.toPlainText()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert dialog.status_label.text() == "Template saved."
    assert dialog.reset_button.isEnabled()
    stored: list[list[letters.Template]] = []
    main.calls.run(letters.templates, stored.append)
    wait_calls(qtbot, main)
    closure = next(t for t in stored[0] if t.kind is Output.CLOSURE)
    assert closure.custom and closure.body.startswith("Dear {client_given_name}, we have")
    qtbot.mouseClick(dialog.reset_button, Qt.MouseButton.LeftButton)
    assert "built-in" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert dialog.body_field.toPlainText() == letters.DEFAULTS[Output.CLOSURE][1]
    assert not dialog.reset_button.isEnabled()


def test_the_pack_of_a_client_whose_letters_are_not_safe_says_to_hand_it_over(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    """Jane's safe-contact details say letters are not safe: her subject access pack is owed to
    her all the same, but its covering letter is not addressed and the pack is handed over."""
    world = build_world(store)
    reference = new_request(store, world.jane, TODAY - dt.timedelta(days=2))
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.sar_page
    main.show_area(page)
    wait_calls(qtbot, main)
    assert page.select_reference(reference)
    page.prepare_button.click()
    dialog = page.dialog
    assert isinstance(dialog, PackDialog)
    wait_calls(qtbot, main)
    assert (
        "Hand the pack over; do not post it. The safe-contact details say letters are not safe "
        "for this person." in dialog.notes_label.text()
    )
    dialog.reject()


# -- a letter to another agency is a share -----------------------------------------------------


def _agency_case(store: StoreCopy, *, restricted: bool = False) -> tuple[int, int]:
    """The caseworker's case with a housing officer on it (their agency on the case)."""
    case_id = _case(store, _rules())
    with signed_in(store, MANAGER) as s:
        officer = cases.add_person(
            s,
            case_id,
            PersonDetails("Dana", "Officer", organisation="Northfield Housing"),
            CaseRole.PROFESSIONAL,
        )
        categories.add_agency(s, case_id, Agency(AgencyType.HOUSING, "Northfield Housing"))
        if restricted:
            client = cases.contact_rules(s, case_id).client_id
            assert client is not None
            cases.restrict_person(s, client, "She contests the accuracy of her record")
    return case_id, officer


def _to_the_officer(qtbot: QtBot, main: MainWindow, dialog: LettersDialog, officer: int) -> None:
    index = next(i for i, v in enumerate(dialog.person_field.values()) if v[0] == officer)
    dialog.person_field.setCurrentIndex(index)
    _choose(qtbot, main, dialog, Output.AGENCY_LETTER)


def _save(qtbot: QtBot, main: MainWindow, dialog: LettersDialog, folder: Path) -> None:
    dialog.choose_folder = lambda: str(folder)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "not encrypted" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)


def _shares(qtbot: QtBot, main: MainWindow, case_id: int) -> list[Share]:
    found: list[list[Share]] = []
    main.calls.run(lambda s: sharing.shares(s, case_id), found.append)
    wait_calls(qtbot, main)
    return found[0]


def test_a_letter_to_another_agency_asks_what_the_share_needs_and_goes_in_the_sharing_log(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    case_id, officer = _agency_case(store)
    tmp_path = tmp_path / "letters"
    tmp_path.mkdir()
    main, dialog = _open_letters(qtbot, make_app, store, case_id, CASEWORKER, CASEWORKER_PW)
    _to_the_officer(qtbot, main, dialog, officer)
    consent_shown = dialog.share_state_label.text()
    assert consent_shown.startswith("No consent to share with Housing (Kim Ashdown: not asked).")
    assert dialog.purpose_field.isVisible() and dialog.manager_field.isVisible()
    keys = _alt_keys(dialog)
    assert len(keys) == len(set(keys)), keys
    qtbot.keyClicks(dialog.purpose_field, "To support her application for a safe tenancy")
    # No lawful basis chosen: refused in one sentence, nothing saved, nothing typed lost.
    _save(qtbot, main, dialog, tmp_path)
    assert dialog.status_label.text() == (
        "A letter to another agency is a disclosure: say what it is for and its lawful basis, "
        "for the sharing log."
    )
    assert list(tmp_path.iterdir()) == [] and _shares(qtbot, main, case_id) == []
    assert dialog.purpose_field.text() == "To support her application for a safe tenancy"
    dialog.basis_field.set_value(LawfulBasis.PUBLIC_TASK)
    qtbot.keyClicks(dialog.without_field, "Housing must know she is at risk to move her.")
    _save(qtbot, main, dialog, tmp_path)
    assert "PDF saved, not encrypted" in dialog.status_label.text()
    [share] = _shares(qtbot, main, case_id)
    assert share.record.recipient_category is RecipientCategory.HOUSING
    assert share.record.purpose == "To support her application for a safe tenancy"
    assert share.approval is ShareApproval.AWAITING_REVIEW  # no manager named: reviewed later


def test_a_manager_sends_a_restricted_clients_letter_only_naming_the_article_18_2_ground(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    case_id, officer = _agency_case(store, restricted=True)
    main, dialog = _open_letters(qtbot, make_app, store, case_id, MANAGER, MANAGER_PW)
    _to_the_officer(qtbot, main, dialog, officer)
    assert "restricted" in dialog.verdict_label.text()
    assert dialog.ground_field.isVisible() and dialog.override_field.isVisible()
    keys = _alt_keys(dialog)
    assert len(keys) == len(set(keys)), keys
    # Every field shown still fits the small laptop (1093x574 at 125% scaling).
    assert dialog.sizeHint().width() <= 1093 and dialog.sizeHint().height() <= 574
    qtbot.keyClicks(dialog.override_field, "She is in danger tonight and must be moved")
    qtbot.keyClicks(dialog.purpose_field, "An emergency move")
    dialog.basis_field.set_value(LawfulBasis.VITAL_INTERESTS)
    qtbot.keyClicks(dialog.without_field, "Her life is at risk tonight.")
    _save(qtbot, main, dialog, tmp_path)
    assert dialog.status_label.text() == (
        "Name the Article 18(2) ground that allows a restricted person's data to go out."
    )
    assert _shares(qtbot, main, case_id) == []
    dialog.ground_field.set_value(RestrictionGround.PROTECT_ANOTHER)
    _save(qtbot, main, dialog, tmp_path)
    assert "PDF saved, not encrypted" in dialog.status_label.text()
    assert len(_shares(qtbot, main, case_id)) == 1
