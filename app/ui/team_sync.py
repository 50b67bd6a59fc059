"""Team sync in the main window: the status line, "Sync now" (Ctrl+Shift+S) and the timer.

A laptop not in a team shows none of this and runs no timer; app/services/team.py (and the
sync engine and team crypto behind it) is imported only once the store is known to be in a
team. Every sync runs through the window's StoreCalls, so it is off the UI thread and never
runs beside another store call; a second request while one runs is not queued (one asked for
by the server's wake-up while a sync runs is run once after it). A lock stops a running sync
between two envelopes (each envelope is applied in its own transaction, so what was applied
stays and the rest comes with the next sync) before the store closes.

A team on its PostgreSQL server is heard at once: a thread of its own waits on the server's
LISTEN/NOTIFY (``PostgresTransport.wait``, with a connection of its own and no store access)
and, when another laptop publishes, asks for a sync on the main thread, which runs through the
StoreCalls like any other. It ends at a lock or sign-out; while the server cannot be reached it
tries again now and then, and the 5-minute timer goes on as for a folder.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar, QWidget

from app.errors import SafecaseError
from app.services import membership
from app.services.session import Session, moment_of
from app.ui.errors import error_sentence
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls

if TYPE_CHECKING:
    from app.services.team import Status, SyncReport
    from app.sync.server import PostgresTransport

log = logging.getLogger("safecase.ui")

SYNC_SHORTCUT = "Ctrl+Shift+S"
SYNC_EVERY_MS = 5 * 60 * 1000
WAIT_SLICE_S = 1.0  # the wake-up thread looks at the stop flag this often
RETRY_LISTEN_S = 30.0  # after the server stopped answering
DESTROYED_BOX = "storeDestroyed"
BAR_PADDING = 32  # the progress bar's frame and its text's margins, in pixels


class SyncStopped(SafecaseError):
    default_message = "The sync stopped because the store was locked; it goes on next time."


def status_line(status: Status, today: str) -> str:
    """ "Last synced 10:42 · 3 changes waiting · 1 conflict"; the day too when not today."""
    t = translate
    parts = []
    if status.server:
        reachable = status.reachable
        parts.append(
            t("TeamSync", "Team server reachable")
            if reachable
            else t("TeamSync", "Team server not reachable")
        )
    elif not status.reachable:
        parts.append(t("TeamSync", "Team folder not reachable"))
    if status.last_synced is None:
        parts.append(t("TeamSync", "Never synced"))
    else:
        moment = moment_of(status.last_synced).astimezone()
        shown = moment.strftime("%H:%M" if moment.date().isoformat() == today else "%d %b %H:%M")
        parts.append(t("TeamSync", "Last synced {when}").format(when=shown))
    if status.waiting == 1:
        parts.append(t("TeamSync", "1 change waiting"))
    else:
        parts.append(t("TeamSync", "{n} changes waiting").format(n=status.waiting))
    if status.conflicts == 1:
        parts.append(t("TeamSync", "1 conflict"))
    elif status.conflicts:
        parts.append(t("TeamSync", "{n} conflicts").format(n=status.conflicts))
    return " · ".join(parts)


class TeamSync(QObject):
    """The team part of a main window; inert until the store turns out to be in a team."""

    synced = Signal(object)  # the SyncReport; the window refreshes its lists and the status
    store_destroyed = Signal(str)  # this laptop was revoked and destroyed its store: the sentence
    _progressed = Signal(str, int, int)  # from the worker thread; delivered on the main thread
    _heard = Signal()  # from the wake-up thread: another laptop published to the server

    def __init__(self, calls: StoreCalls, window: QWidget, every_ms: int = SYNC_EVERY_MS) -> None:
        super().__init__(window)
        t = translate
        self.calls = calls
        self.in_team = False
        self.running = False
        self.reachable = False
        self._stop = threading.Event()
        self.label = QLabel()
        self.label.setObjectName("teamStatus")
        self.label.setAccessibleName(t("TeamSync", "Team sync"))
        self.label.setContentsMargins(0, 0, 16, 0)  # apart from "Signed in as"
        self.label.setVisible(False)
        # Shown only while a sync reads envelopes: how many of those expected are read.
        self.bar = QProgressBar()
        self.bar.setObjectName("teamSyncProgress")
        self.bar.setAccessibleName(t("TeamSync", "Sync progress"))
        self.bar.setVisible(False)
        self.action = QAction(t("TeamSync", "S&ync now"), window)
        self.action.setShortcut(QKeySequence(SYNC_SHORTCUT))
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.action.setVisible(False)
        self.action.setEnabled(False)
        self.action.triggered.connect(self.sync_now)
        self.timer = QTimer(self)
        self.timer.setInterval(every_ms)
        self.timer.timeout.connect(self._tick)
        self._progressed.connect(self._show_progress)
        self._heard.connect(self._wake)
        self._again = False  # the server woke us while a sync ran: sync once more after it
        self.listener: threading.Thread | None = None

    def start(self) -> None:
        """Ask once whether the store is in a team; if so, show the line and sync now."""
        self.calls.run(membership.in_team, self._known, lambda _e: None, receiver=self.label)

    def _known(self, joined: bool) -> None:
        if not joined:
            return
        self.in_team = True
        self.label.setVisible(True)
        self.label.setText(translate("TeamSync", "Team sync starting…"))
        self.action.setVisible(True)
        self.action.setEnabled(True)
        self.timer.start()
        self.sync_now()  # then, on a team on its server, the wake-up thread starts

    def stop(self) -> None:
        """At a lock or sign-out, before the store calls close: no more syncs, and a running
        one ends at its next envelope."""
        self._stop.set()
        self.timer.stop()
        self.action.setEnabled(False)

    # -- hearing the server ----------------------------------------------------------------------

    def _listen(self, transport: PostgresTransport | None) -> None:
        """A team on its server: wait for other laptops' envelopes in a thread of its own."""
        if transport is None:
            return
        if self._stop.is_set() or self.listener is not None:
            transport.close()
            return
        stop, heard = self._stop, self._heard

        def wait() -> None:
            try:
                while not stop.is_set():
                    try:
                        if transport.wait(WAIT_SLICE_S):
                            heard.emit()
                    except Exception as exc:  # unreachable, refused: never end the app
                        log.info("The team server wake-up waits: %s", type(exc).__name__)
                        stop.wait(RETRY_LISTEN_S)  # the timer syncs meanwhile, if it can
            finally:
                transport.close()

        self.listener = threading.Thread(target=wait, name="safecase-team-wake", daemon=True)
        self.listener.start()

    def _wake(self) -> None:
        if not self.sync_now() and self.running:
            self._again = True

    # -- syncing ---------------------------------------------------------------------------------

    def sync_now(self) -> bool:
        """One sync in the background; False (nothing queued) while one runs already."""
        if not self.in_team or self.running or self._stop.is_set():
            return False
        from app.services import team

        stop, progressed = self._stop, self._progressed

        def progress(text: str, done: int, total: int) -> None:
            if stop.is_set():
                raise SyncStopped()
            progressed.emit(text, done, total)

        def run(session: Session) -> SyncReport:
            return team.sync(session, progress)

        self.running = self.calls.run(
            run,
            self._synced,
            self._failed,
            receiver=self.label,
            label=translate("TeamSync", "Syncing with the team…"),
        )
        if self.running:
            self.label.setText(translate("TeamSync", "Syncing…"))
        return self.running

    def _show_progress(self, text: str, done: int, total: int) -> None:
        if not self.running:
            return
        shown = translate("TeamSync", "Syncing: {step}").format(step=translate("sync", text))
        counted = translate("TeamSync", "{done} of {total} changes read").format(
            done=done, total=total
        )
        self.label.setText(shown)
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        self.bar.setFormat(counted)
        self.bar.setToolTip(counted)
        self.bar.setVisible(True)
        # Wide enough for the count on one line, measured in the font it is drawn in; the
        # widest count of this sync ("40 of 40"), so the bar does not jump as it fills.
        self.bar.ensurePolished()
        widest = translate("TeamSync", "{done} of {total} changes read").format(
            done=total, total=total
        )
        self.bar.setFixedWidth(self.bar.fontMetrics().horizontalAdvance(widest) + BAR_PADDING)
        dialog = self.calls.progress_dialog
        if dialog is not None:
            dialog.setLabelText(f"{shown}\n{counted}")
            dialog.setRange(0, total)
            dialog.setValue(done)

    def _synced(self, report: SyncReport) -> None:
        self.running = False
        self.bar.setVisible(False)
        self.synced.emit(report)  # the window refreshes its lists and this status line
        if self.listener is None and not self._stop.is_set():
            from app.services import team_server  # the team may have moved to its server

            self.calls.run(team_server.listener, self._listen, lambda _e: None, receiver=self.label)
        if self._again:
            self._again = False
            self.sync_now()

    def _failed(self, error: BaseException) -> None:
        from app.sync.revocation import StoreDestroyed
        from app.sync.transport import TransportUnavailable

        self.running = False
        self.bar.setVisible(False)
        if isinstance(error, TransportUnavailable):
            self.refresh_status()  # the line says the folder is not reachable
            return
        self.label.setText(error_sentence(error))
        if isinstance(error, StoreDestroyed):  # revoked: the store is gone, nothing more to sync
            self.in_team = False
            self.stop()
            self.store_destroyed.emit(error_sentence(error))
            title = translate("TeamSync", "Removed from the team")
            box = QMessageBox(QMessageBox.Icon.Warning, title, error_sentence(error))
            box.setObjectName(DESTROYED_BOX)
            box.setParent(self.label.window(), Qt.WindowType.Dialog)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    # -- the status line -------------------------------------------------------------------------

    def refresh_status(self) -> None:
        if self.in_team:
            from app.services import team

            self.calls.run(
                team.status,
                self._status_arrived,
                lambda error: self.label.setText(error_sentence(error)),
                receiver=self.label,
            )

    def _status_arrived(self, status: Status) -> None:
        self.reachable = status.reachable
        self.label.setText(status_line(status, self.calls.today().isoformat()))

    def _tick(self) -> None:
        """Every few minutes: a sync while the folder is reachable, otherwise just look."""
        if self.reachable:
            self.sync_now()
        else:
            self.refresh_status()
