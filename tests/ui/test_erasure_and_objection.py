"""Rights decisions carried out through the screens: an objection closed with its decision in
the register, and a granted erasure proposed on the register and carried out by an admin on
the Retention page, with its run in the destruction log."""

from __future__ import annotations

import datetime as dt

from pytestqt.qtbot import QtBot

from app.models.rights import Outcome, RequestStatus, RightKind
from app.services import audit, retention, rights
from app.ui.erasure import ErasureDialog
from app.ui.forms import choose
from app.ui.rights_dialogs import CloseRequestDialog
from tests.helpers import ADMIN, ADMIN_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import TODAY, signed_in
from tests.services.closed_cases import reference_of
from tests.services.sar_world import build_world
from tests.ui.conftest import MakeApp, answer, open_main, wait_calls


def _request(
    store: StoreCopy, kind: RightKind, person_id: int, outcome: Outcome | None = None
) -> int:
    with signed_in(store, MANAGER) as s:
        request = rights.create_request(
            s,
            rights.RequestDraft(
                kind=kind,
                requester="The data subject",
                received_on=TODAY - dt.timedelta(days=3),
                subject_person_id=person_id,
                identity_confirmed_on=TODAY - dt.timedelta(days=2),
            ),
        )
        if outcome is not None:
            reason = "Not held to be unlawful" if outcome.needs_reason else ""
            rights.close_request(s, request.id, outcome, TODAY, reason)
        return request.id


def test_an_objection_is_recorded_with_its_decision_through_the_register(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    world = build_world(store)
    request_id = _request(store, RightKind.OBJECTION, world.jane)
    app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.sar_page
    main.show_area(page)
    wait_calls(qtbot, main)
    assert app.session is not None
    reference = rights.get_request(app.session, request_id).reference
    assert page.select_reference(reference)
    page.close_button.click()
    close = page.dialog
    assert isinstance(close, CloseRequestDialog)
    choose(close.outcome_field, Outcome.REFUSED)
    qtbot.keyClicks(close.reasons_field, "Compelling grounds: the safety plan needs it")
    close.save_button.click()
    assert reference in answer(qtbot)
    wait_calls(qtbot, main)
    kept = rights.get_request(app.session, request_id)
    assert kept.status is RequestStatus.CLOSED and kept.outcome == Outcome.REFUSED.value
    assert kept.refusal_reason == "Compelling grounds: the safety plan needs it"
    assert page.select_reference(reference)
    row = page.table.currentIndex().row()
    shown = [page.model.index(row, c).data() for c in range(page.model.columnCount())]
    assert "Objection" in shown
    assert "Refused: Compelling grounds: the safety plan needs it" in shown


def test_a_manager_proposes_a_granted_erasure_from_the_register(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    world = build_world(store)
    request_id = _request(store, RightKind.ERASURE, world.jane, Outcome.COMPLIED)
    refused = _request(store, RightKind.ERASURE, world.darren, Outcome.REFUSED)
    with signed_in(store, MANAGER) as s:
        case_reference = reference_of(s, world.case)
    app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.sar_page
    main.show_area(page)
    wait_calls(qtbot, main)
    assert app.session is not None
    assert page.select_reference(rights.get_request(app.session, refused).reference)
    assert page.erasure_button.isVisible() and not page.erasure_button.isEnabled()
    reference = rights.get_request(app.session, request_id).reference
    assert page.select_reference(reference)
    assert page.erasure_button.isEnabled()
    page.erasure_button.click()
    wait_calls(qtbot, main)
    dialog = page.dialog
    assert isinstance(dialog, ErasureDialog)
    assert case_reference in dialog.plan_label.text()
    dialog.save_button.click()
    wait_calls(qtbot, main)
    assert "erasure proposed" in page.status_label.text()
    plan = retention.erasure_plan(app.session, request_id)
    assert plan.proposed_by == app.session.user_id


def test_an_admin_carries_out_a_proposed_erasure_from_the_retention_page(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    world = build_world(store)
    request_id = _request(store, RightKind.ERASURE, world.jane, Outcome.COMPLIED)
    with signed_in(store, MANAGER) as s:
        case_reference = reference_of(s, world.case)
        reference = retention.propose_erasure(s, request_id).reference
    app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.retention_page
    main.show_area(page)
    wait_calls(qtbot, main)
    page.erasure_button.click()
    wait_calls(qtbot, main)
    dialog = page.dialog
    assert isinstance(dialog, ErasureDialog)
    assert case_reference in dialog.plan_label.text()
    dialog.save_button.click()
    assert "cannot be undone" in answer(qtbot)
    wait_calls(qtbot, main)
    assert "Purge run" in page.status_label.text()
    assert app.session is not None
    [run] = retention.runs(app.session)
    entries = retention.log_entries(app.session, run.run_id)
    assert case_reference in [e.reference for e in entries]
    assert {e.reason for e in entries} == {f"erasure request {reference}"}
    assert [r.run_id for r in page.runs_model.records] == [run.run_id]
    actions = [e.action for e in audit.recent(app.session, 50)]
    assert audit.ERASURE_CARRIED_OUT in actions
