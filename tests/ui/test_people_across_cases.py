"""One person on several cases: "Use this person" from the referral's duplicate warning, adding
someone already on record from the case screen, and taking a person off a case, driven through
the real widgets."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.models.records import CaseDetails, CaseRole
from app.services import cases
from app.ui.case_dialogs import ExistingPersonDialog, MergeDialog
from app.ui.forms import choose
from app.ui.referral_dialog import NewReferralDialog
from tests.helpers import CASEWORKER, CASEWORKER2, CASEWORKER_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import TODAY, new_case, person, signed_in, user_id
from tests.ui.conftest import MakeApp, answer, open_main, wait_calls
from tests.ui.test_case_view import open_case_as
from tests.ui.test_journey import click, current_dialog, type_into


def test_use_this_person_puts_the_existing_client_on_the_new_referral(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, CASEWORKER) as s:
        first, client = new_case(s, person("Robin", "Ashdown", phones=("07700 900111",)))
        first_reference = cases.open_case(s, first).case.reference
    with signed_in(store, MANAGER) as s:  # the same name on a case this worker may not open
        cases.create_referral(
            s,
            person("Robin", "Ashdown"),
            CaseDetails(referral_date=TODAY, referral_source="GP"),
            allocate_to=user_id(s, CASEWORKER2),
        )
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    main.new_referral_action.trigger()
    dialog = main.dialog
    assert isinstance(dialog, NewReferralDialog)
    assert not dialog.use_button.isVisible()
    type_into(qtbot, dialog.given_field, "Robin")
    type_into(qtbot, dialog.family_field, "Ashdown")
    type_into(qtbot, dialog.source_field, "self-referral")
    click(qtbot, dialog.save_button)
    wait_calls(qtbot, main)
    assert dialog.use_button.isVisible()
    # Only the match this worker may open is offered, never the one on the other case.
    assert dialog.person_choice.values() == [client]
    assert first_reference in dialog.person_choice.currentText()

    click(qtbot, dialog.use_button)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    view = main.case_page.view  # type: ignore[union-attr]
    assert view is not None and view.case.reference != first_reference
    # The new case's client is the same record, not a second one.
    assert view.contact.client_id == client
    assert [m.person.id for m in view.members] == [client]


def test_someone_already_on_record_is_added_and_a_person_is_removed_from_the_case(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, CASEWORKER) as s:
        first, _client = new_case(s, person("Robin", "Ashdown"))
        partner = cases.add_person(
            s, first, person("Dale", "Fenwick"), CaseRole.ALLEGED_PERPETRATOR
        )
        second, _other = new_case(s, person("Sam", "Rowe"))
    main, page = open_case_as(qtbot, make_app, store, second, CASEWORKER, CASEWORKER_PW)
    page.tabs.setCurrentWidget(page.people_tab)
    click(qtbot, page.action_buttons[page.link_person_action])
    dialog = current_dialog(page, ExistingPersonDialog)
    assert isinstance(dialog, ExistingPersonDialog)
    type_into(qtbot, dialog.given_field, "Dale")
    type_into(qtbot, dialog.family_field, "Fenwick")
    click(qtbot, dialog.save_button)  # Find
    wait_calls(qtbot, main)
    assert dialog.person_field.values() == [partner]
    assert dialog.save_button.text() == "&Add to the case"
    choose(dialog.role_field, CaseRole.ALLEGED_PERPETRATOR)
    click(qtbot, dialog.save_button)
    wait_calls(qtbot, main)
    assert page.view is not None
    on_case = {(m.person.id, m.role) for m in page.view.members}
    assert (partner, CaseRole.ALLEGED_PERPETRATOR) in on_case

    row = next(
        r
        for r in range(page.people_model.rowCount())
        if page.people_model.record(r).person.id == partner  # type: ignore[union-attr]
    )
    page.people_table.selectRow(row)
    click(qtbot, page.action_buttons[page.remove_person_action])
    assert "Take Dale Fenwick off this case" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert page.view is not None
    assert partner not in {m.person.id for m in page.view.members}
    texts = [
        str(page.people_model.data(page.people_model.index(r, 0), Qt.ItemDataRole.DisplayRole))
        for r in range(page.people_model.rowCount())
    ]
    assert texts == ["Sam Rowe"]


def test_a_manager_merges_two_records_then_undoes_and_confirms(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, CASEWORKER) as s:
        first, kept = new_case(s, person("Robin", "Ashdown"))
        second, twin = new_case(s, person("Robin", "Ashdown"))
    main, page = open_case_as(qtbot, make_app, store, first, MANAGER, MANAGER_PW)
    page.tabs.setCurrentWidget(page.people_tab)
    assert not page.undo_merge_action.isVisible()
    page.people_table.selectRow(0)
    click(qtbot, page.action_buttons[page.merge_action])
    dialog = current_dialog(page, MergeDialog)
    assert isinstance(dialog, MergeDialog)
    click(qtbot, dialog.save_button)  # Find: the name is filled in from the chosen person
    wait_calls(qtbot, main)
    assert dialog.other_field.values() == [twin]
    choose(dialog.keep_field, True)
    click(qtbot, dialog.save_button)
    assert "Merge these two records?" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert page.view is not None and page.view.pending_merges != ()
    assert page.merge_label.isVisible() and "merged into Robin Ashdown" in page.merge_label.text()
    assert page.undo_merge_action.isVisible() and not page.merge_action.isVisible()

    click(qtbot, page.action_buttons[page.undo_merge_action])
    assert "Put everything back" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert page.view is not None and page.view.pending_merges == ()
    assert not page.merge_label.isVisible()

    # Merge again and confirm: the other case's client is now the kept record.
    page.people_table.selectRow(0)
    click(qtbot, page.action_buttons[page.merge_action])
    dialog = current_dialog(page, MergeDialog)
    click(qtbot, dialog.save_button)
    wait_calls(qtbot, main)
    click(qtbot, dialog.save_button)
    answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    click(qtbot, page.action_buttons[page.confirm_merge_action])
    assert "The other record is destroyed" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert page.view is not None and page.view.pending_merges == ()
    main.open_case(second)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    wait_calls(qtbot, main)
    other = main.case_page.view  # type: ignore[union-attr]
    assert other is not None and other.case.id == second
    assert [m.person.id for m in other.members] == [kept]
