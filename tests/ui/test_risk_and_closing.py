"""The case screen's risk over time (DASH history, MARAC meeting and actions) and the outcomes
asked for when a manager closes a case, driven through the real widgets."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.models.records import (
    AbuseChange,
    Answer,
    CaseStatus,
    ClosureReason,
    Engagement,
    ExitRisk,
    FeelingSafer,
    QualityOfLife,
)
from app.services import risk
from app.ui.case_dialogs import CloseCaseDialog, MaracActionDialog, MaracMeetingDialog
from app.ui.forms import FieldInvalid, choose
from tests.helpers import CASEWORKER, CASEWORKER_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import TODAY, new_case, signed_in
from tests.ui.conftest import MakeApp, answer, wait_calls
from tests.ui.test_case_view import open_case_as
from tests.ui.test_journey import click, current_dialog, type_into

DAY = dt.timedelta(days=1)


def yes_answers(count: int) -> dict[int, Answer]:
    return {q: Answer.YES if q <= count else Answer.NO for q in range(1, 25)}


def case_with_two_checklists(store: StoreCopy) -> int:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        risk.record_dash(s, case_id, client, yes_answers(15), completed_on=TODAY - 14 * DAY)
        risk.record_dash(s, case_id, client, yes_answers(6), completed_on=TODAY)
    return case_id


def cell(model: object, row: int, column: int) -> str:
    index = model.index(row, column)  # type: ignore[attr-defined]
    return str(model.data(index, Qt.ItemDataRole.DisplayRole))  # type: ignore[attr-defined]


def test_the_risk_history_shows_every_checklist_and_the_current_level(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    case_id = case_with_two_checklists(store)
    _main, page = open_case_as(qtbot, make_app, store, case_id, CASEWORKER, CASEWORKER_PW)
    page.tabs.setCurrentWidget(page.marac_tab)
    model = page.dash_history_model
    assert model.rowCount() == 2
    assert [cell(model, r, 1) for r in range(2)] == ["6", "15"]  # newest first
    assert [cell(model, r, 4) for r in range(2)] == ["Standard", "High"]
    assert cell(model, 1, 5) == "Referral due"
    assert "Current level: Standard" in page.risk_history_label.text()
    assert "2 checklist(s)" in page.risk_history_label.text()


def test_marac_meeting_and_actions_are_shown_until_marked_done(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    case_id = case_with_two_checklists(store)
    main, page = open_case_as(qtbot, make_app, store, case_id, CASEWORKER, CASEWORKER_PW)
    # Nothing to record against before the referral.
    assert not page.add_marac_action_action.isEnabled()
    page.marac_action.trigger()
    answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert page.add_marac_action_action.isEnabled()

    click(qtbot, page.action_buttons[page.marac_meeting_action])
    dialog = current_dialog(page, MaracMeetingDialog)
    meeting = TODAY + 10 * DAY
    dialog.meeting_field.set_date(meeting)
    click(qtbot, dialog.save_button)
    wait_calls(qtbot, main)
    assert page.view is not None and page.view.case.marac_meeting == meeting
    assert "(meeting" in page.marac_label.text()

    click(qtbot, page.action_buttons[page.add_marac_action_action])
    dialog = current_dialog(page, MaracActionDialog)
    assert isinstance(dialog, MaracActionDialog)
    type_into(qtbot, dialog.action_field, "Flag the address for urgent response")
    click(qtbot, dialog.save_button)  # no owner yet: the form says so and stays open
    assert dialog.isVisible()
    type_into(qtbot, dialog.owner_field, "Northfield Police")
    dialog.due_field.set_date(TODAY + 5 * DAY)
    click(qtbot, dialog.save_button)
    wait_calls(qtbot, main)

    model = page.marac_action_model
    assert model.rowCount() == 1
    assert cell(model, 0, 0) == "Flag the address for urgent response"
    assert cell(model, 0, 1) == "Northfield Police"

    page.marac_action_table.selectRow(0)
    click(qtbot, page.action_buttons[page.marac_done_action])
    assert "Mark this action as done" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert model.rowCount() == 0  # done: it leaves the list
    assert page.view is not None  # the case as read again through the services
    [stored] = page.view.marac_actions
    assert stored.owner == "Northfield Police" and stored.done_on == TODAY


def test_the_close_dialog_asks_for_the_outcomes_and_the_case_shows_them(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _client = new_case(s)
    main, page = open_case_as(qtbot, make_app, store, case_id, MANAGER, MANAGER_PW)
    page.close_action.trigger()
    dialog = current_dialog(page, CloseCaseDialog)
    assert isinstance(dialog, CloseCaseDialog)
    # The reason comes from a list: without one, the form stops at that field.
    try:
        dialog.make_call()
    except FieldInvalid as exc:
        assert exc.field is dialog.reason_choice
    else:
        raise AssertionError("closing without a reason was allowed")
    dialog.reason_choice.setFocus()
    qtbot.keyClick(dialog.reason_choice, Qt.Key.Key_Down)  # the first reason in the list
    assert dialog.reason_choice.value() is ClosureReason.SUPPORT_COMPLETED
    type_into(qtbot, dialog.reason_field, "Safety plan in place")
    choose(dialog.exit_risk_field, ExitRisk.STANDARD)
    choose(dialog.abuse_field, AbuseChange.STOPPED)
    choose(dialog.safer_field, FeelingSafer.SAFER)
    choose(dialog.life_field, QualityOfLife.DECLINED)
    choose(dialog.engaged_field, Engagement.ENGAGED)
    click(qtbot, dialog.save_button)
    assert "Close this case now?" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)

    assert page.view is not None and page.view.case.status is CaseStatus.CLOSED
    state = page.state_label.text()
    assert "Support completed: Safety plan in place" in state
    assert "risk at exit Standard" in state and "abuse Stopped" in state
    assert "Feels safer" in state and "quality of life Declined to say" in state
    outcome = page.view.outcome  # the case as read again through the services after saving
    assert outcome is not None
    assert (outcome.reason, outcome.abuse, outcome.quality_of_life) == (
        ClosureReason.SUPPORT_COMPLETED,
        AbuseChange.STOPPED,
        QualityOfLife.DECLINED,
    )


def test_the_close_dialog_claims_no_outcome_the_worker_did_not_choose(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    """Closing with only a reason records every outcome as not asked, not assessed or not
    recorded: a form that opened on "Stopped" or "Engaged" would put a good result in the
    commissioners' figures that nobody gave."""
    with signed_in(store, CASEWORKER) as s:
        case_id, _client = new_case(s)
    main, page = open_case_as(qtbot, make_app, store, case_id, MANAGER, MANAGER_PW)
    page.close_action.trigger()
    dialog = current_dialog(page, CloseCaseDialog)
    assert isinstance(dialog, CloseCaseDialog)
    shown = [
        f.currentText()
        for f in (
            dialog.exit_risk_field,
            dialog.abuse_field,
            dialog.safer_field,
            dialog.life_field,
            dialog.engaged_field,
        )
    ]
    assert shown == ["Not assessed", "Not asked", "Not asked", "Not asked", "Not recorded"]
    choose(dialog.reason_choice, ClosureReason.MOVED_AWAY)
    click(qtbot, dialog.save_button)
    assert "Close this case now?" in answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    outcome = page.view.outcome if page.view is not None else None
    assert outcome is not None
    assert (outcome.abuse, outcome.feeling_safer, outcome.engagement) == (
        AbuseChange.NOT_ASKED,
        FeelingSafer.NOT_ASKED,
        Engagement.NOT_RECORDED,
    )
