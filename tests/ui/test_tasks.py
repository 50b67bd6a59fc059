"""Background tasks report on the main thread, with the result or the exception."""

from __future__ import annotations

import threading

from pytestqt.qtbot import QtBot

from app.errors import WrongPassword
from app.ui.tasks import Task, run_in_background


def test_a_result_arrives_on_the_main_thread(qtbot: QtBot) -> None:
    worker_threads: list[threading.Thread] = []
    delivered_on: list[threading.Thread] = []

    def work() -> int:
        worker_threads.append(threading.current_thread())
        return 42

    def done(value: object) -> None:
        delivered_on.append(threading.current_thread())

    task = Task(work)
    task.succeeded.connect(done)
    with qtbot.waitSignal(task.succeeded, timeout=2000) as blocker:
        task.start()
    assert blocker.args == [42]
    assert worker_threads[0] is not threading.main_thread()
    assert delivered_on == [threading.main_thread()]
    assert not task.running


def test_an_exception_arrives_as_failed(qtbot: QtBot) -> None:
    def work() -> None:
        raise WrongPassword()

    failures: list[BaseException] = []
    task = run_in_background(work, on_success=lambda _: None, on_failure=failures.append)
    with qtbot.waitSignal(task.failed, timeout=2000):
        pass
    assert len(failures) == 1 and isinstance(failures[0], WrongPassword)
