"""Every service call a signed-in window makes, one at a time, off the UI thread.

The store has one connection, and it must be used from one thread at a time (STYLE.md 6).
:class:`StoreCalls` owns a thread pool of one worker for a Session: calls queue and run in
order, each reports back on the main thread, and the UI thread itself never runs a query.
A call still running after half a second puts up a progress dialog.

Locking closes the queue first: calls not started are dropped, the running one is waited for,
and nothing that arrives afterwards reaches a window (results can hold personal data).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QProgressDialog, QWidget

from app.errors import SafecaseError
from app.services.session import Session, moment_of, uk_today, utc_now
from app.ui.errors import show_error
from app.ui.i18n import translate
from app.ui.tasks import Task

log = logging.getLogger("safecase.ui")

T = TypeVar("T")

PROGRESS_AFTER_MS = 500
LOCK_WAIT_MS = 60_000


class Cancelled(SafecaseError):
    """A queued call that never ran because the store was locked first."""

    default_message = "The store is locked. Sign in again to go on."


def _log_failure(call: Callable[[Session], object], session: Session) -> None:
    try:
        call(session)
    except Exception as exc:  # the store is about to close: nothing can be shown now
        log.warning("the last call before the lock failed: %s", type(exc).__name__)


class _Call:
    __slots__ = ("label", "on_failure", "on_success", "receiver", "task")

    def __init__(
        self,
        task: Task,
        label: str,
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
        receiver: QObject | None,
    ) -> None:
        self.task = task
        self.label = label
        self.on_success = on_success
        self.on_failure = on_failure
        self.receiver = receiver


class StoreCalls(QObject):
    """The queue of service calls for one Session."""

    idle = Signal()  # the last queued call has reported

    def __init__(
        self,
        session: Session,
        parent: QObject | None = None,
        *,
        window: QWidget | None = None,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(parent)
        self._session: Session | None = session
        self._window = window
        self._lock_action = lock_action
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._cancelled = threading.Event()
        self._pending: list[_Call] = []
        self._progress: QProgressDialog | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_AFTER_MS)
        self._progress_timer.timeout.connect(self._show_progress)
        self.calls_started = 0

    @property
    def session(self) -> Session | None:
        return self._session

    def today(self) -> dt.date:
        """The session's date, for the forms' defaults and checks: the clock the services
        read, so a form never offers a day the service would call the future."""
        return self._session.today() if self._session is not None else uk_today()

    def moment(self) -> dt.datetime:
        """The session's clock in the user's local time zone, for the forms' times."""
        now = self._session.now() if self._session is not None else utc_now()
        return moment_of(now).astimezone()

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    @property
    def progress_dialog(self) -> QProgressDialog | None:
        return self._progress

    def run(
        self,
        call: Callable[[Session], T],
        on_success: Callable[[T], None],
        on_failure: Callable[[BaseException], None] | None = None,
        *,
        receiver: QObject | None = None,
        label: str = "",
    ) -> bool:
        """Queue ``call(session)``; ``on_success`` or ``on_failure`` runs on the main thread.

        Nothing is delivered once the queue is closed or when ``receiver`` (usually the widget
        that asked) has been deleted. Without ``on_failure`` the error is shown with
        :func:`show_error`. Returns False when the store is already locked.
        """
        session = self._session
        if session is None:
            return False
        cancelled = self._cancelled

        def job() -> object:
            if cancelled.is_set():
                raise Cancelled()
            return call(session)

        task = Task(job)
        entry = _Call(
            task,
            label or translate("StoreCalls", "Working…"),
            on_success,
            on_failure or self._show_failure,
            receiver,
        )
        task.succeeded.connect(lambda value: self._deliver(entry, True, value))
        task.failed.connect(lambda error: self._deliver(entry, False, error))
        self._pending.append(entry)
        self.calls_started += 1
        if not self._progress_timer.isActive() and self._progress is None:
            self._progress_timer.start()
        task.start(self._pool)
        return True

    def _show_failure(self, error: BaseException) -> None:
        show_error(self._window, error)

    def _deliver(self, entry: _Call, ok: bool, value: object) -> None:
        if not shiboken6.isValid(self) or self._session is None:
            # Locked, or the queue itself deleted, meanwhile: what came back is dropped unseen.
            return
        if entry in self._pending:
            self._pending.remove(entry)
        self._update_progress()
        receiver = entry.receiver
        if receiver is not None and not shiboken6.isValid(receiver):
            return
        if ok:
            entry.on_success(value)
        else:
            error = value if isinstance(value, BaseException) else RuntimeError("call failed")
            entry.on_failure(error)
        if not self._pending:
            self.idle.emit()

    # -- progress --------------------------------------------------------------------------------

    def _update_progress(self) -> None:
        if not self._pending:
            self._progress_timer.stop()
            self._hide_progress()
            return
        if self._progress is not None:
            self._progress.setLabelText(self._pending[0].label)
        else:
            self._progress_timer.start()  # the next call gets its own half second

    def _show_progress(self) -> None:
        if not self._pending or self._session is None:
            return
        dialog = QProgressDialog(self._window)
        dialog.setWindowTitle(translate("StoreCalls", "Safecase"))
        dialog.setObjectName("storeProgress")
        dialog.setLabelText(self._pending[0].label)
        dialog.setAccessibleName(translate("StoreCalls", "Progress"))
        dialog.setCancelButton(None)
        dialog.setRange(0, 0)  # busy: the services report no steps for these calls
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        if self._lock_action is not None:
            dialog.addAction(self._lock_action)  # Ctrl+L still locks at once
        self._progress = dialog
        dialog.show()

    def _hide_progress(self) -> None:
        dialog, self._progress = self._progress, None
        if dialog is not None and shiboken6.isValid(dialog):
            dialog.hide()
            dialog.deleteLater()

    # -- locking ---------------------------------------------------------------------------------

    def close(self, last: Callable[[Session], object] | None = None) -> bool:
        """Stop delivering, drop calls not started and wait for the running one.

        ``last`` runs after the running call, before the queue stops (a lock keeps the drafts
        of open forms this way); its result is not delivered, and an error in it is logged by
        its kind only. Call before the store is closed. Returns False if the calls did not
        finish within a minute (the store is closed anyway; a call then fails on its own).
        """
        session, self._session = self._session, None
        self._cancelled.set()
        if last is not None and session is not None:
            Task(lambda: _log_failure(last, session)).start(self._pool)
        self._progress_timer.stop()
        self._hide_progress()
        finished = self._pool.waitForDone(LOCK_WAIT_MS)
        if not finished:
            log.warning("a store call was still running at lock")
        self._pending.clear()
        return finished
