"""The queue of service calls: one worker, results on the main thread, nothing after a lock."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app.errors import InvalidInput
from app.services import accounts
from app.services.session import Session
from app.ui.forms import date_of, datetime_edit, datetime_of
from app.ui.retention_page import ExtendDialog
from app.ui.store_calls import StoreCalls
from tests.services.closed_cases import clock


@pytest.fixture
def calls(qtbot: QtBot, admin_session: Session) -> Iterator[StoreCalls]:
    queue = StoreCalls(admin_session)
    yield queue
    queue.close()


def test_calls_run_in_order_on_one_worker_and_report_on_the_main_thread(
    qtbot: QtBot, calls: StoreCalls
) -> None:
    ran_on: list[threading.Thread] = []
    delivered: list[tuple[int, threading.Thread]] = []

    def call(n: int) -> object:
        def run(session: Session) -> int:
            ran_on.append(threading.current_thread())
            return n

        return run

    for n in range(5):
        calls.run(call(n), lambda value: delivered.append((value, threading.current_thread())))
    assert calls.busy
    with qtbot.waitSignal(calls.idle, timeout=5000):
        pass
    assert [n for n, _ in delivered] == [0, 1, 2, 3, 4]
    assert {t for _, t in delivered} == {threading.main_thread()}
    assert len({t.ident for t in ran_on}) == 1
    assert ran_on[0] is not threading.main_thread()
    assert not calls.busy


def test_a_real_service_call_gets_the_session(qtbot: QtBot, calls: StoreCalls) -> None:
    got: list[int] = []
    calls.run(accounts.idle_lock_minutes, got.append)
    qtbot.waitUntil(lambda: got == [5])


def test_a_refusal_goes_to_on_failure(qtbot: QtBot, calls: StoreCalls) -> None:
    failures: list[BaseException] = []

    def refuse(session: Session) -> None:
        raise InvalidInput("Give the reason for the legal hold.")

    calls.run(refuse, lambda _v: None, failures.append)
    qtbot.waitUntil(lambda: bool(failures))
    assert isinstance(failures[0], InvalidInput)


def test_without_on_failure_the_error_dialog_shows_one_sentence(
    qtbot: QtBot, admin_session: Session
) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    queue = StoreCalls(admin_session, window=window)

    def refuse(session: Session) -> None:
        raise InvalidInput("Give the reason for the legal hold.")

    try:
        queue.run(refuse, lambda _v: None)
        qtbot.waitUntil(lambda: window.findChild(QMessageBox) is not None)
        box = window.findChild(QMessageBox)
        assert isinstance(box, QMessageBox)
        assert box.text() == "Give the reason for the legal hold."
        box.done(0)
    finally:
        queue.close()


def test_nothing_reaches_a_deleted_receiver(qtbot: QtBot, calls: StoreCalls) -> None:
    receiver = QObject()
    got: list[object] = []
    calls.run(lambda s: "late", got.append, receiver=receiver)
    receiver.deleteLater()
    qtbot.waitUntil(lambda: not calls.busy)
    assert got == []


def test_closing_waits_for_the_running_call_and_drops_every_result(
    qtbot: QtBot, admin_session: Session
) -> None:
    queue = StoreCalls(admin_session)
    started = threading.Event()
    release = threading.Event()
    finished: list[str] = []
    got: list[object] = []
    failed: list[BaseException] = []

    def slow(session: Session) -> str:
        started.set()
        release.wait(5)
        finished.append("slow")
        return "held personal data"

    queue.run(slow, got.append, failed.append)
    queue.run(lambda s: "never runs", got.append, failed.append)
    assert started.wait(5)
    threading.Timer(0.05, release.set).start()
    assert queue.close()  # waits for the slow call, drops the queued one
    assert finished == ["slow"]
    qtbot.waitUntil(lambda: not queue.busy)
    assert got == [] and failed == []
    assert not queue.run(lambda s: 1, got.append)  # locked: nothing more is queued


def test_a_slow_call_puts_up_a_progress_dialog(qtbot: QtBot, admin_session: Session) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    queue = StoreCalls(admin_session, window=window)
    queue._progress_timer.setInterval(10)  # half a second in the product
    release = threading.Event()

    def slow(session: Session) -> None:
        release.wait(5)

    try:
        queue.run(slow, lambda _v: None, label="Checking every entry…")
        qtbot.waitUntil(lambda: queue.progress_dialog is not None)
        dialog = queue.progress_dialog
        assert dialog is not None and dialog.isVisible()
        assert dialog.labelText() == "Checking every entry…"
        assert dialog.accessibleName() == "Progress"
        release.set()
        qtbot.waitUntil(lambda: queue.progress_dialog is None)
    finally:
        release.set()
        queue.close()


def test_a_result_arriving_after_the_queue_is_deleted_is_dropped(
    qtbot: QtBot, admin_session: Session
) -> None:
    """A window torn down while its call still runs must not fail when the result lands
    (pytest-qt fails the test on any exception raised in the event loop)."""
    from PySide6.QtCore import QCoreApplication, QEvent

    queue = StoreCalls(admin_session)
    release = threading.Event()
    delivered: list[object] = []

    def slow(session: Session) -> int:
        release.wait(5)
        return 7

    queue.run(slow, delivered.append)
    threading.Timer(0.2, release.set).start()
    queue.deleteLater()  # its thread pool waits for the running call as it goes
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qtbot.wait(300)  # the finished call's result is delivered now, to a deleted queue
    assert release.is_set()
    assert delivered == []


def test_forms_offer_the_sessions_date_and_time_not_the_computers(
    qtbot: QtBot, admin_session: Session
) -> None:
    """The forms' default days and times come from the session's clock, the one the services
    check dates against: moved to 6 May 2031, a review date a year on is 5 May 2032."""
    admin_session.now = clock(dt.date(2031, 5, 6))
    queue = StoreCalls(admin_session)
    try:
        assert queue.today() == dt.date(2031, 5, 6)
        assert queue.moment().astimezone(dt.UTC) == dt.datetime(2031, 5, 6, 12, tzinfo=dt.UTC)
        dialog = ExtendDialog(queue, "SC-2020-000001")
        qtbot.addWidget(dialog)
        assert date_of(dialog.until_field) == dt.date(2032, 5, 5)
        when = datetime_of(datetime_edit("When", queue.moment())).timestamp()
        assert when == int(queue.moment().timestamp())
    finally:
        queue.close()
