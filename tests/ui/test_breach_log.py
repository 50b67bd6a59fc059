"""The Breach log page (the DPO) with its running clocks, and the admin's Devices page, whose
"Report lost or stolen" opens a breach record with its clock started."""

from __future__ import annotations

import datetime as dt
import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel
from pytestqt.qtbot import QtBot

from app.models.breaches import ClockState, Facts, Risk, Source
from app.services import breaches
from app.services.session import UK
from app.ui.breach_log import BreachDialog, HistoryDialog
from app.ui.forms import show_date
from app.ui.main_window import MainWindow
from tests.helpers import ADMIN, ADMIN_PW, DPO, DPO_PW, MANAGER, StoreCopy
from tests.services.casework import new_referral, person, signed_in
from tests.ui.conftest import MakeApp, answer, open_main, wait_calls
from tests.ui.test_case_view import mnemonic_keys
from tests.ui.test_drafts import lock_with_ctrl_l, sign_in_again

# Friday 27 November 2026, 4 pm in the UK (GMT).
FRIDAY_4PM = dt.datetime(2026, 11, 27, 16, 0, tzinfo=UK)


def _set_clock(main: MainWindow, moment: dt.datetime) -> None:
    session = main.calls.session
    assert session is not None
    stamp = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    session.now = lambda: stamp


def _show(qtbot: QtBot, main: MainWindow, title: str) -> None:
    titles = [t.split(" (")[0] for t in main.area_titles()]
    main.navigation.setCurrentRow(titles.index(title))
    wait_calls(qtbot, main)


def _form(qtbot: QtBot, page: object) -> BreachDialog:
    qtbot.waitUntil(lambda: isinstance(getattr(page, "dialog", None), BreachDialog))
    dialog = page.dialog  # type: ignore[attr-defined]
    assert isinstance(dialog, BreachDialog) and dialog.isVisible()
    return dialog


def _clock_cell(main: MainWindow, row: int = 0) -> str:
    model = main.breach_page.model
    return str(model.index(row, 2).data())


def test_the_dpo_records_a_breach_and_watches_its_clock_run_out(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    app, main = open_main(qtbot, make_app, store, DPO, DPO_PW)
    _set_clock(main, FRIDAY_4PM)
    _show(qtbot, main, "Breach log")
    page = main.breach_page
    page.timer.setInterval(20)  # the page's own timer, ticking quickly
    assert len(set(mnemonic_keys(main))) == len(mnemonic_keys(main))

    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    form = _form(qtbot, page)
    keys = [
        k.lower()
        for w in [*form.findChildren(QAbstractButton), *form.findChildren(QLabel)]
        if w.isVisibleTo(form) and (not isinstance(w, QLabel) or w.buddy() is not None)
        for k in re.findall(r"&([^&\s])", w.text())
    ]
    assert sorted({k for k in keys if keys.count(k) > 1}) == [], "Alt keys clash in the form"
    # What happened, typed then rubbed out: Save goes off, and the form says why.
    qtbot.keyClicks(form.what_field, "A letter")
    form.what_field.selectAll()
    qtbot.keyClick(form.what_field, Qt.Key.Key_Delete)
    assert not form.save_button.isEnabled()
    assert form.message_for(form.what_field).text() == "Say what happened."
    qtbot.keyClicks(form.what_field, "A letter about one client went to an old address")
    assert form.save_button.isEnabled()
    # Assessed as no risk with no reason: one sentence under the field.
    form.risk_field.set_value(Risk.NO_RISK)
    assert not form.save_button.isEnabled()
    assert "reason for not reporting" in form.message_for(form.not_reported_field).text()
    form.risk_field.set_value(Risk.NOT_ASSESSED)
    # A time of awareness in the future: the service's sentence, and nothing typed is lost.
    form.aware.field.date_field.set_date(dt.date(2026, 11, 28))
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert form.isVisible()
    assert "in the future" in form.problem_label.text()
    assert form.what_field.toPlainText().startswith("A letter about one client")
    form.aware.field.date_field.set_date(dt.date(2026, 11, 27))
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert not form.isVisible()
    assert "runs to 30 Nov 2026 16:00" in page.status_label.text()
    assert _clock_cell(main) == "72 h left to report"

    # Sunday night: the clock has run through the weekend, and the timer shows it.
    _set_clock(main, dt.datetime(2026, 11, 29, 22, 48, tzinfo=UK))
    qtbot.waitUntil(lambda: _clock_cell(main) == "17 h 12 min left to report")
    # Monday 7 pm: three hours late, and the area says so.
    _set_clock(main, dt.datetime(2026, 11, 30, 19, 0, tzinfo=UK))
    qtbot.waitUntil(lambda: _clock_cell(main) == "Overdue by 3 h")
    qtbot.waitUntil(lambda: "Breach log (1 overdue)" in main.area_titles())

    # The report, made now, needs the reasons for the delay; then the clock stops.
    page.table.setCurrentIndex(page.model.index(0, 0))
    qtbot.mouseClick(page.update_button, Qt.MouseButton.LeftButton)
    form = _form(qtbot, page)
    form.risk_field.set_value(Risk.RISK)
    form.reported_field.setFocus()
    qtbot.keyClick(form.reported_field, Qt.Key.Key_Space)
    assert form.ico_field.isEnabled()
    qtbot.keyClicks(form.ico_field, "IC-123456-A1B2")
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert "reasons for the delay" in form.problem_label.text()
    qtbot.keyClicks(form.delay_field, "Found out only when the letter came back")
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert not form.isVisible()
    assert _clock_cell(main) == "Reported 30 Nov 19:00, ICO ref IC-123456-A1B2 (after the 72 hours)"
    qtbot.waitUntil(lambda: "Breach log" in main.area_titles())
    assert app.session is not None
    [breach] = breaches.breach_log(app.session)
    assert len(breaches.breach_history(app.session, breach.id)) == 2

    # Closing asks first, and the breach stays in the log.
    page.table.setCurrentIndex(page.model.index(0, 0))
    qtbot.mouseClick(page.close_button, Qt.MouseButton.LeftButton)
    assert "can no longer change" in answer(qtbot)
    wait_calls(qtbot, main)
    assert str(page.model.index(0, 5).data()) == "Closed"
    assert not page.update_button.isEnabled()


def test_an_admin_reports_this_laptop_lost_and_the_dpo_finds_the_clock_running(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, MANAGER) as s:
        new_referral(s, person("Kit", "Holloway"))
    app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    _set_clock(main, FRIDAY_4PM)
    _show(qtbot, main, "Devices")
    page = main.devices_page
    assert page.model.rowCount() == 1
    assert page.model.index(0, 0).data() == "This laptop"
    assert str(page.model.index(0, 1).data())  # when the store was first used
    assert "comes with team sync" in " ".join(label.text() for label in page.findChildren(QLabel))

    qtbot.mouseClick(page.lost_button, Qt.MouseButton.LeftButton)
    assert "lost or stolen" in answer(qtbot)
    wait_calls(qtbot, main)
    form = _form(qtbot, page)
    assert not form.can_decide and not hasattr(form, "risk_field")  # the DPO's decisions
    assert "reported lost or stolen" in form.what_field.toPlainText()
    assert "1 cases (1 open), 1 people" in form.what_field.toPlainText()
    assert "Holloway" not in form.what_field.toPlainText()
    assert form.people_field.value() == 1
    assert form.aware.field.date_field.line.text() == show_date(dt.date(2026, 11, 27))
    # Locked half-way: the report comes back as it was left.
    qtbot.keyClicks(form.measures_field, " Police told, crime number to follow.")
    lock_with_ctrl_l(qtbot, app)
    main = sign_in_again(qtbot, app, ADMIN, ADMIN_PW)
    _set_clock(main, FRIDAY_4PM + dt.timedelta(minutes=5))
    page = main.devices_page
    form = _form(qtbot, page)
    assert "Police told, crime number to follow." in form.measures_field.toPlainText()
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert not form.isVisible()
    assert "the 72-hour clock runs to 30 Nov 2026 16:00" in page.status_label.text()
    app.shutdown()

    with signed_in(store, DPO) as s:
        s.now = lambda: "2026-11-28T10:00:00.000000Z"
        [breach] = breaches.breach_log(s)
        assert breach.source is Source.DEVICE_LOST
        assert breach.clock(s.moment()).state is ClockState.RUNNING


def test_a_breach_form_kept_at_a_lock_comes_back_and_history_shows_each_version(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, DPO) as s:
        s.now = lambda: "2026-11-28T12:00:00.000000Z"
        breach = breaches.record_breach(
            s,
            Facts(aware_at=FRIDAY_4PM, what_happened="A fax went to the wrong number"),
        )
    app, main = open_main(qtbot, make_app, store, DPO, DPO_PW)
    _set_clock(main, dt.datetime(2026, 11, 28, 12, 0, tzinfo=UK))
    _show(qtbot, main, "Breach log")
    page = main.breach_page
    page.table.setCurrentIndex(page.model.index(0, 0))
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)  # Enter on a breach opens it
    form = _form(qtbot, page)
    qtbot.keyClicks(form.measures_field, "Asked the recipient to shred it")
    lock_with_ctrl_l(qtbot, app)

    main = sign_in_again(qtbot, app, DPO, DPO_PW)
    _set_clock(main, dt.datetime(2026, 11, 28, 12, 5, tzinfo=UK))
    page = main.breach_page
    form = _form(qtbot, page)
    assert form.breach is not None and form.breach.id == breach.id
    assert form.measures_field.toPlainText() == "Asked the recipient to shred it"
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert not form.isVisible()

    page.table.setCurrentIndex(page.model.index(0, 0))
    qtbot.mouseClick(page.history_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    history = page.dialog
    assert isinstance(history, HistoryDialog) and history.isVisible()
    text = history.text.toPlainText()
    assert "Version 1" in text and "Version 2" in text
    assert "A fax went to the wrong number" in text
    assert "Measures taken: Asked the recipient to shred it" in text
    history.accept()
