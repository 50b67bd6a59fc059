"""Slow service calls off the UI thread.

A :class:`Task` wraps one call. It runs on the Qt thread pool and reports back through
``succeeded(object)`` or ``failed(object)``, both delivered on the main thread, so the code that
reacts may touch widgets. The call itself must never touch widgets: give it plain values and
services, and let the success handler update the window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger("safecase.ui")

# Tasks still running, so neither Python nor Qt frees them before they report.
_running: set[Task] = set()


class _Outcome:
    """What a run produced: the one object that crosses from the worker to the main thread."""

    __slots__ = ("ok", "value")

    def __init__(self, ok: bool, value: object) -> None:
        self.ok = ok
        self.value = value


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[], Any], report: Callable[[_Outcome], None]) -> None:
        super().__init__()
        self._fn = fn
        self._report = report

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # handed to the main thread, which decides what to show
            self._report(_Outcome(False, exc))
        else:
            self._report(_Outcome(True, result))
        finally:
            self._fn = _finished


def _finished() -> None:
    """Placeholder after a run, so the runnable keeps no reference to the call's data."""


class Task(QObject):
    """One background call. Connect to the signals, then call :meth:`start`."""

    succeeded = Signal(object)
    failed = Signal(object)
    # Emitted from the worker thread; the connection to ``_deliver`` (a slot of this object,
    # which lives on the main thread) is queued, so delivery happens on the main thread.
    _done = Signal(object)

    def __init__(self, fn: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn: Callable[[], Any] | None = fn
        self.running = False
        self._done.connect(self._deliver)

    def start(self, pool: QThreadPool | None = None) -> None:
        if self._fn is None or self.running:
            raise RuntimeError("a task runs once")
        self.running = True
        _running.add(self)
        runnable = _Runnable(self._fn, self._report)
        self._fn = None
        (pool or QThreadPool.globalInstance()).start(runnable)

    def _report(self, outcome: _Outcome) -> None:
        """Called on the worker thread."""
        self._done.emit(outcome)

    @Slot(object)
    def _deliver(self, outcome: _Outcome) -> None:
        self.running = False
        _running.discard(self)
        if outcome.ok:
            self.succeeded.emit(outcome.value)
        else:
            self.failed.emit(outcome.value)


def run_in_background(
    fn: Callable[[], Any],
    *,
    on_success: Callable[[Any], None],
    on_failure: Callable[[BaseException], None],
    parent: QObject | None = None,
) -> Task:
    """Start ``fn`` on the thread pool; the callbacks run on the main thread."""
    task = Task(fn, parent)
    task.succeeded.connect(on_success)
    task.failed.connect(on_failure)
    task.start()
    return task
