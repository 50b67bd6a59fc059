"""Subject access (managers; the DPO reads the register): the register's deadline marks, new
requests, and preparing, signing off and exporting an access pack."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from app.models.redaction import code_label
from app.models.rights import Outcome, RequestStatus, RightKind
from app.services import audit, rights
from app.ui.app import SafecaseApp
from app.ui.forms import CONFIRMATION, FormDialog, choose
from app.ui.main_window import MainWindow
from app.ui.rights_dialogs import (
    CloseRequestDialog,
    ConfirmIdentityDialog,
    ExtendDialog,
    PauseClockDialog,
    ResumeClockDialog,
)
from app.ui.sar_pack import PackDialog, SignOffDialog
from app.ui.sar_register import NewRequestDialog
from tests.helpers import DPO, DPO_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import TODAY, signed_in
from tests.services.sar_world import SarWorld, build_world, new_request
from tests.ui.conftest import MakeApp, answer, open_main, wait_calls

LONG_AGO = TODAY - dt.timedelta(days=120)
Step = TypeVar("Step", bound=FormDialog)


def _requests(store: StoreCopy) -> tuple[SarWorld, str, str]:
    """The synthetic world, an overdue request about the survivor and a fresh one from the
    alleged perpetrator (identity confirmed)."""
    world = build_world(store)
    with signed_in(store, MANAGER) as s:
        overdue = rights.create_request(
            s,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="The data subject",
                received_on=LONG_AGO,
                subject_person_id=world.jane,
                identity_confirmed_on=LONG_AGO,
            ),
        )
        fresh = rights.create_request(
            s,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="The data subject",
                received_on=TODAY - dt.timedelta(days=3),
                subject_person_id=world.darren,
                identity_confirmed_on=TODAY - dt.timedelta(days=2),
            ),
        )
    return world, overdue.reference, fresh.reference


def _error_box() -> QMessageBox | None:
    for widget in QApplication.topLevelWidgets():
        if (
            isinstance(widget, QMessageBox)
            and widget.isVisible()
            and widget.objectName() != CONFIRMATION
        ):
            return widget
    return None


def test_a_manager_sees_deadlines_and_a_perpetrators_pack_waits_for_sign_off(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    _world, overdue, fresh = _requests(store)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.sar_page
    main.show_area(page)
    wait_calls(qtbot, main)
    marks = {r.reference: page.mark(r) for r in page.model.records}
    assert marks[overdue] == "OVERDUE"
    assert marks[fresh] == ""
    assert page.new_button.isVisible()

    # A new request, from the dialog.
    page.new_button.click()
    new = page.dialog
    assert isinstance(new, NewRequestDialog)
    new.save_button.click()
    assert new.problem_label.text() == "Say who made the request."
    qtbot.keyClicks(new.requester_field, "A solicitor")
    qtbot.keyClicks(new.subject_note_field, "Someone not on record")
    new.save_button.click()
    wait_calls(qtbot, main)
    assert len(page.model.records) == 3

    # The perpetrator's pack: the warning shows and export is refused until sign-off.
    out = tmp_path / "pack"
    page.choose_folder = lambda: str(out)
    assert page.select_reference(fresh)
    assert page.prepare_button.isEnabled()
    page.prepare_button.click()
    dialog = page.dialog
    assert isinstance(dialog, PackDialog)
    wait_calls(qtbot, main)
    assert dialog.pack is not None and dialog.pack.perpetrator
    assert dialog.warning_label.isVisible()
    assert "ALLEGED PERPETRATOR" in dialog.warning_label.text()
    assert dialog.tree.topLevelItemCount() == len(dialog.pack.sections)

    # Redacted runs show as black boxes labelled with their code.
    item = next(i for i in dialog.pack.items() if i.spans)
    assert dialog.select_item(item.key)
    # The same words as the PDF's boxes: "third party", not the stored "third_party".
    assert f"REDACTED: {code_label(item.spans[0].code)}" in dialog.sent_view.toPlainText()
    assert dialog.spans_list.count() == len(item.spans)
    first = dialog.spans_list.item(0)
    assert first is not None and first.text().startswith(f"{code_label(item.spans[0].code)}: ")
    # Each run says which identifier and which rule matched it, so an over-redaction shows.
    span = item.spans[0]
    assert span.why and first.text().endswith(f"({span.why})")

    dialog.export_button.click()
    wait_calls(qtbot, main)
    assert dialog.status_label.text().startswith("Needs sign-off")
    assert not out.exists() or not any(out.iterdir())

    # The manager who built the pack signs it only with the reason no other could.
    dialog.sign_off_button.click()
    wait_calls(qtbot, main)
    signing = dialog.dialog
    assert isinstance(signing, SignOffDialog) and signing.facts.you_prepared
    qtbot.keyClicks(signing.note_field, "Checked every redaction against the cases")
    qtbot.keyClicks(signing.reason_field, "The only other manager is on leave this month")
    signing.save_button.click()
    wait_calls(qtbot, main)
    assert dialog.pack is not None and dialog.pack.signed_off and dialog.pack.ready
    with qtbot.waitSignal(dialog.exported, timeout=10_000):
        dialog.export_button.click()
    wait_calls(qtbot, main)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"{fresh}.pdf", f"{fresh}.json", f"{fresh}-manifest.json"])

    # Save as PDF writes the pack's PDF where the manager chooses, after the warning.
    dialog.choose_pdf_file = lambda _suggested: str(tmp_path / "to-print.pdf")
    dialog.save_pdf_button.click()
    answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    assert (tmp_path / "to-print.pdf").read_bytes().startswith(b"%PDF")
    dialog.reject()


def test_the_dpo_reads_the_register_only(qtbot: QtBot, make_app: MakeApp, store: StoreCopy) -> None:
    _world, overdue, _fresh = _requests(store)
    _app, main = open_main(qtbot, make_app, store, DPO, DPO_PW)
    page = main.sar_page
    main.show_area(page)
    wait_calls(qtbot, main)
    assert overdue in {r.reference for r in page.model.records}
    assert not page.new_button.isVisible() and not page.prepare_button.isVisible()
    assert page.select_reference(overdue)
    assert not page.prepare_button.isEnabled()
    page.prepare_pack()  # does nothing for a reader
    assert page.dialog is None


def test_a_reviewer_redacts_a_selected_span_with_a_code_and_reason(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    from app.models.redaction import Exemption, Source
    from app.services import sar
    from app.ui.sar_pack import RedactDialog

    _world, overdue, _fresh = _requests(store)  # ``overdue`` is the survivor's own request
    app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.sar_page
    main.show_area(page)
    wait_calls(qtbot, main)
    assert page.select_reference(overdue)
    page.prepare_button.click()
    dialog = page.dialog
    assert isinstance(dialog, PackDialog)
    wait_calls(qtbot, main)
    assert dialog.pack is not None
    item = next(i for i in dialog.pack.items() if not i.spans and len(i.text) >= 8)
    assert dialog.select_item(item.key)
    dialog.select_text(0, 5)
    dialog.redact_button.click()
    redact = dialog.dialog
    assert isinstance(redact, RedactDialog)
    choose(redact.code_field, Exemption.SERIOUS_HARM)
    qtbot.keyClicks(redact.reason_field, "Would reveal where she is staying.")
    redact.save_button.click()
    wait_calls(qtbot, main)

    assert dialog.pack is not None
    redone = next(i for i in dialog.pack.items() if i.key == item.key)
    assert [(s.start, s.end, s.code, s.source) for s in redone.spans] == [
        (0, 5, Exemption.SERIOUS_HARM.value, Source.REVIEWER)
    ]
    assert dialog.select_item(item.key)
    assert "REDACTED: serious harm" in dialog.sent_view.toPlainText()
    # The redaction log records it, read through the window's own session (the store is open).
    assert app.session is not None
    log = sar.redaction_log(app.session, dialog.request.id)
    assert [(d.start, d.end, d.code, d.reason) for d in log] == [
        (0, 5, "serious_harm", "Would reveal where she is staying.")
    ]
    dialog.reject()


def _register_with_a_new_request(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> tuple[SafecaseApp, MainWindow, str]:
    """A manager's register, showing a request about Jane received two days ago, selected."""
    world = build_world(store)
    reference = new_request(store, world.jane, TODAY - dt.timedelta(days=2))
    app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    main.show_area(main.sar_page)
    wait_calls(qtbot, main)
    assert main.sar_page.select_reference(reference)
    return app, main, reference


def test_a_request_goes_from_identity_to_response_through_the_register(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    app, main, waiting = _register_with_a_new_request(qtbot, make_app, store)
    page = main.sar_page
    row = page.table.currentIndex().row()
    assert page.model.index(row, 3).data() == "clock not started"
    # Before identity is confirmed only that step (and closing) is offered.
    assert page.confirm_button.isEnabled() and page.close_button.isEnabled()
    assert not page.pause_button.isEnabled() and not page.extend_button.isEnabled()

    def step(button: QPushButton, kind: type[Step]) -> Step:
        button.click()
        dialog = page.dialog
        assert isinstance(dialog, kind)
        return dialog

    confirm = step(page.confirm_button, ConfirmIdentityDialog)
    confirm.save_button.click()
    wait_calls(qtbot, main)
    assert page.select_reference(waiting)
    request = page.selected()
    assert request is not None and request.identity_confirmed_on == TODAY
    assert request.due_on is not None and request.due_on > TODAY + dt.timedelta(days=27)
    assert f"Request {waiting}: identity confirmed." in page.status_label.text()
    assert not page.confirm_button.isEnabled() and page.pause_button.isEnabled()

    # The clock stops for clarification (a reason is required), then restarts.
    pause = step(page.pause_button, PauseClockDialog)
    pause.save_button.click()
    wait_calls(qtbot, main)
    assert pause.problem_label.text() == "Say what clarification was asked for."
    qtbot.keyClicks(pause.reason_field, "Which years of records are wanted")
    pause.save_button.click()
    wait_calls(qtbot, main)
    assert page.select_reference(waiting)
    paused = page.selected()
    assert paused is not None and page.mark(paused) == "Paused"
    assert not page.close_button.isEnabled() and page.resume_button.isEnabled()
    step(page.resume_button, ResumeClockDialog).save_button.click()
    wait_calls(qtbot, main)
    assert page.select_reference(waiting)

    # Extended: the deadline moves to three months from the start.
    started = page.selected()
    assert started is not None and started.deadline is not None
    before = started.deadline
    step(page.extend_button, ExtendDialog).save_button.click()
    wait_calls(qtbot, main)
    assert page.select_reference(waiting)
    extended = page.selected()
    assert extended is not None and extended.extended_to is not None
    assert extended.extended_to > before + dt.timedelta(days=55)
    assert not page.extend_button.isEnabled()

    # Closing a refusal asks for its reasons, then for confirmation.
    close = step(page.close_button, CloseRequestDialog)
    choose(close.outcome_field, Outcome.PARTLY_REFUSED)
    close.save_button.click()
    assert "reasons for the refusal" in close.problem_label.text()
    qtbot.keyClicks(close.reasons_field, "Third-party information withheld")
    close.save_button.click()
    assert waiting in answer(qtbot)
    wait_calls(qtbot, main)
    assert page.select_reference(waiting)
    closed = page.selected()
    assert closed is not None and closed.status is RequestStatus.CLOSED
    assert closed.outcome == Outcome.PARTLY_REFUSED.value
    assert not any(
        b.isEnabled()
        for b in (page.confirm_button, page.pause_button, page.extend_button, page.close_button)
    )
    # Each step is in the audit trail.
    assert app.session is not None
    actions = [e.action for e in audit.recent(app.session, 20)]
    for done in (
        audit.RIGHTS_CLOCK_PAUSED,
        audit.RIGHTS_CLOCK_RESUMED,
        audit.RIGHTS_REQUEST_EXTENDED,
        audit.RIGHTS_REQUEST_CLOSED,
    ):
        assert done in actions


def test_a_new_request_is_about_someone_picked_from_the_people_found(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    world = build_world(store)
    app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.sar_page
    main.show_area(page)
    wait_calls(qtbot, main)
    page.new_button.click()
    new = page.dialog
    assert isinstance(new, NewRequestDialog)
    qtbot.keyClicks(new.requester_field, "The data subject")
    new.find_button.click()
    assert new.problem_label.text() == "Type a name, phone or postcode."
    qtbot.keyClicks(new.find_field, "jane wexford")
    qtbot.keyClick(new.find_field, Qt.Key.Key_Return)
    wait_calls(qtbot, main)
    choices = [new.subject_field.itemText(i) for i in range(new.subject_field.count())]
    assert choices[0] == "Nobody on record matched"
    assert len(choices) == 2 and new.subject_field.value() == world.jane  # chosen for them
    assert "client on SC-" in new.subject_field.currentText()
    new.save_button.click()
    wait_calls(qtbot, main)
    assert app.session is not None
    [request] = rights.register(app.session)
    assert request.subject_person_id == world.jane


def test_no_two_controls_in_a_register_form_share_an_alt_key(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    _app, main, _reference = _register_with_a_new_request(qtbot, make_app, store)
    page = main.sar_page
    request = page.selected()
    assert request is not None
    forms: list[FormDialog] = [NewRequestDialog(main.calls, page)]
    for kind in (
        ConfirmIdentityDialog,
        PauseClockDialog,
        ResumeClockDialog,
        ExtendDialog,
        CloseRequestDialog,
    ):
        forms.append(kind(main.calls, request, page))
    for form in forms:
        form.show()
        texts = [w.text() for w in form.findChildren(QAbstractButton) if w.isVisibleTo(form)]
        texts += [
            w.text()
            for w in form.findChildren(QLabel)
            if w.buddy() is not None and w.isVisibleTo(form)
        ]
        keys = [k.lower() for text in texts for k in re.findall(r"&([^&\s])", text)]
        assert sorted({k for k in keys if keys.count(k) > 1}) == [], type(form).__name__
        form.discard()
