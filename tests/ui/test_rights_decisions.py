"""Rights decisions carried out on the case screen: restriction of processing placed, and
lifted only once the person has been told (when and how, in the audit trail); a note marked
disputed; a refused rectification recorded as a note."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.models import audit as audit_model
from app.models.records import NoteKind
from app.models.redaction import Exemption
from app.models.rights import RightKind
from app.services import audit, cases, rights, sar
from app.ui.note_rights import DisputeNoteDialog, RefusedRequestDialog
from app.ui.redaction_log import RedactionLogDialog
from app.ui.restriction_dialogs import LiftRestrictionDialog, RestrictDialog
from app.ui.sar_register import NewRequestDialog
from tests.helpers import (
    CASEWORKER,
    CASEWORKER_PW,
    DPO,
    DPO_PW,
    MANAGER,
    MANAGER_PW,
    StoreCopy,
)
from tests.services.casework import TODAY, signed_in
from tests.services.sar_world import build_world
from tests.ui.conftest import MakeApp, open_main, wait_calls
from tests.ui.test_case_view import RichCase, make_rich_case, open_case_as
from tests.ui.test_sar_page import _register_with_a_new_request


@pytest.fixture
def rich(store: StoreCopy) -> RichCase:
    return make_rich_case(store)


def test_a_manager_restricts_the_client_and_lifts_it_only_once_the_person_was_told(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, MANAGER, MANAGER_PW)
    assert page.restrict_action.isVisible() and not page.lift_restriction_action.isVisible()

    page.restrict_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, RestrictDialog)
    dialog.save_button.click()
    assert "Give the reason for the restriction." in texts(dialog)
    qtbot.keyClicks(dialog.reason_field, "Accuracy of the record contested")
    dialog.save_button.click()
    wait_calls(qtbot, main)
    qtbot.waitUntil(lambda: page.view is not None and page.view.contact.restricted)
    wait_calls(qtbot, main)
    assert page.restriction_label.text().startswith("Restricted: Robin Ashdown.")
    assert page.lift_restriction_action.isVisible() and not page.restrict_action.isVisible()

    page.lift_restriction_action.trigger()
    lift = page.dialog
    assert isinstance(lift, LiftRestrictionDialog)
    lift.save_button.click()  # "Not told yet": refused, the restriction stays
    wait_calls(qtbot, main)
    assert "Tell the person before the restriction is lifted" in texts(lift)
    assert page.view is not None and page.view.contact.restricted
    lift.told_by_field.set_value(cases.ToldBy.LETTER)
    lift.save_button.click()
    wait_calls(qtbot, main)
    qtbot.waitUntil(lambda: page.view is not None and not page.view.contact.restricted)
    assert not page.restriction_label.isVisible()

    found: list[list[audit_model.Entry]] = []
    main.calls.run(lambda s: audit.recent(s), found.append)
    wait_calls(qtbot, main)
    placed = [e for e in found[0] if e.action == audit.RESTRICTION_PLACED]
    lifted = [e for e in found[0] if e.action == audit.RESTRICTION_LIFTED]
    assert len(placed) == 1 and len(lifted) == 1
    today = main.calls.today().isoformat()
    assert lifted[0].detail == f"person told on {today} by letter"


def texts(dialog: QWidget) -> str:
    """The problems the form shows, under the fields and at the foot."""
    return " ".join(label.text() for label in dialog.findChildren(QLabel) if label.isVisible())


def test_a_note_is_marked_disputed_and_a_refused_rectification_is_recorded_as_a_note(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    assert not page.dispute_note_action.isEnabled()  # no note chosen yet
    page.select_note(0)
    note = page.selected_note()
    assert note is not None and not note.disputed
    page.dispute_note_action.trigger()
    dispute = page.dialog
    assert isinstance(dispute, DisputeNoteDialog)
    dispute.save_button.click()
    assert "Say what the person disputes." in texts(dispute)
    qtbot.keyClicks(dispute.reason_field, "She says the visit was cancelled by the service")
    dispute.save_button.click()
    wait_calls(qtbot, main)
    qtbot.waitUntil(lambda: any(n.disputed for n in page.note_model.records))
    wait_calls(qtbot, main)
    disputed = next(n for n in page.note_model.records if n.id == note.id)
    assert disputed.disputed
    assert disputed.body == note.body  # the note itself is unchanged

    page.refused_request_action.trigger()
    refused = page.dialog
    assert isinstance(refused, RefusedRequestDialog)
    refused.kind_field.set_value(NoteKind.RECTIFICATION_REFUSED)
    qtbot.keyClicks(refused.body_field, "Asked to change the date of the incident; records agree")
    refused.save_button.click()
    wait_calls(qtbot, main)
    qtbot.waitUntil(
        lambda: any(n.kind is NoteKind.RECTIFICATION_REFUSED for n in page.note_model.records)
    )
    assert "Rectification refused" in {
        page.note_model.index(row, 1).data() for row in range(page.note_model.rowCount())
    }


def test_the_dpo_reads_who_redacted_what_when_and_under_which_exemption(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    world = build_world(store)
    with signed_in(store, MANAGER) as s:
        request = rights.create_request(
            s,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="The data subject",
                received_on=TODAY,
                subject_person_id=world.jane,
                identity_confirmed_on=TODAY,
            ),
        )
        item = next(i for i in sar.preview(s, request.id).items() if len(i.text) >= 8)
        sar.redact(s, request.id, item.key, 0, 5, Exemption.SERIOUS_HARM, "Reveals the refuge")
    _app, main = open_main(qtbot, make_app, store, DPO, DPO_PW)
    page = main.sar_page
    main.show_area(page)
    wait_calls(qtbot, main)
    assert page.select_reference(request.reference)
    assert page.log_button.isVisible() and page.log_button.isEnabled()
    page.log_button.click()
    wait_calls(qtbot, main)
    log = page.dialog
    assert isinstance(log, RedactionLogDialog)
    rows = [
        [log.model.index(r, c).data() for c in range(log.model.columnCount())]
        for r in range(log.model.rowCount())
    ]
    assert len(rows) == 1
    _when, who, decision, exemption, part, characters, reason = rows[0]
    assert (who, decision, exemption, characters, reason) == (
        MANAGER,
        "Redacted",
        "serious harm",
        "0–5",
        "Reveals the refuge",
    )
    assert part == item.key.split("@")[0]
    log.accept()


def test_a_caseworker_has_no_redaction_log(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    assert not hasattr(main, "sar_page") or not main.sar_page.log_button.isVisible()


def test_a_manager_changes_an_open_request_in_the_register(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    _app, main, reference = _register_with_a_new_request(qtbot, make_app, store)
    page = main.sar_page
    assert page.edit_button.isEnabled()
    page.edit_button.click()
    dialog = page.dialog
    assert isinstance(dialog, NewRequestDialog) and dialog.request is not None
    assert dialog.requester_field.text() == dialog.request.requester
    dialog.requester_field.clear()
    qtbot.keyClicks(dialog.requester_field, "Her solicitor")
    dialog.agent_field.setChecked(True)
    dialog.save_button.click()
    wait_calls(qtbot, main)
    assert page.status_label.text() == f"Request {reference} changed."
    changed = next(r for r in page.model.records if r.reference == reference)
    assert changed.requester == "Her solicitor" and changed.by_agent
    assert changed.subject_person_id == dialog.request.subject_person_id  # still about her
