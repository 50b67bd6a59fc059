"""Render the desktop windows to PNG files for the documentation.

    python -m app.ui.screenshots docs/screenshots      (``make screenshots``)

A second set, in ``1366x768@125`` inside that folder, shows the same windows on a 1366x768
laptop at 125% scaling (drawn by a second process with that screen), each at the size the app
gives it there.

Everything happens in a temporary folder with an in-memory keyring and a synthetic store
("Demo Service", "demo-admin"), filled by ``app.services.demo`` with made-up people (Faker
names, Ofcom drama numbers); nothing touches the user's keyring or data folder, and the store
is deleted afterwards. Windows are drawn offscreen.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QWidget

from app.crypto.device import DeviceSecrets
from app.crypto.kdf import Argon2Params
from app.crypto.memory_keyring import MemoryKeyring
from app.errors import SafecaseError
from app.models.records import CaseRole, CaseStatus, RecipientCategory, RiskLevel
from app.models.rights import Outcome, RightKind, RightsRequest
from app.models.users import Role
from app.services import accounts, demo, retention, rights
from app.services.contact_rules import Output
from app.services.demo import DemoAccount, DemoSummary
from app.services.session import Session
from app.ui.app import SafecaseApp, load_style, qt_message_handler
from app.ui.case_dialogs import CloseCaseDialog
from app.ui.case_list import CaseListPage
from app.ui.case_view import CasePage
from app.ui.erasure import ErasureDialog
from app.ui.forms import FormDialog
from app.ui.letters_dialog import LettersDialog
from app.ui.main_window import MainWindow
from app.ui.marac_dialog import MaracFormDialog
from app.ui.sar_pack import PackDialog
from app.ui.share_dialog import ShareDialog

# A tiny Argon2id cost, far below the product's floor: this store holds nothing and is deleted.
DEMO_KDF = Argon2Params(memory_kib=1024, time_cost=1, parallelism=1)
SERVICE = "Demo Service"
ADMIN = "demo-admin"
PASSWORD = "lantern-orchard-pebble-58"
WAIT_SECONDS = 60
DEMO_CASES = 400
DEMO_SEED = 7
Size = tuple[int, int]
T = TypeVar("T")
WINDOW_SIZE: Size = (1280, 820)
# A 1366x768 laptop at 125%: 1093x614 device-independent pixels, 1093x576 above a 48-pixel task
# bar. Qt's offscreen screen has no task bar, so the screen is made 1366x720 and scaled.
LAPTOP_FOLDER = "1366x768@125"
LAPTOP_SCREEN = {"name": "laptop", "x": 0, "y": 0, "width": 1366, "height": 720}
LAPTOP_SCALE = "1.25"
LAPTOP_AREA = (1093, 576)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Run the event loop until ``condition`` holds (background work included)."""
    if condition():
        return
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(lambda: loop.quit() if condition() else None)
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(loop.quit)
    poll.start()
    give_up.start(WAIT_SECONDS * 1000)
    loop.exec()
    poll.stop()
    give_up.stop()
    if not condition():
        raise RuntimeError(f"timed out waiting for {what}")


def save(window: QWidget | None, folder: Path, name: str) -> Path:
    if window is None:
        raise RuntimeError(f"no window to save as {name}")
    QApplication.processEvents()
    target = folder / name
    if not window.grab().save(str(target), "PNG"):
        raise RuntimeError(f"could not write {target}")
    print(target)
    return target


def sized(window: QWidget, size: Size | None) -> None:
    """Give ``window`` the documentation's size; None leaves the size the app chose for the
    screen it is on."""
    if size is not None:
        window.resize(*size)


def render(folder: Path, size: Size | None = WINDOW_SIZE) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    QApplication.setApplicationName("Safecase")
    load_style(app)
    keyring = MemoryKeyring()
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="safecase-screens-") as temp:
        controller = SafecaseApp(
            Path(temp) / "cases.safecase",
            kdf=DEMO_KDF,
            device_factory=lambda: DeviceSecrets(keyring),
            print_document=lambda _document, _parent: False,
        )
        try:
            controller.start()
            first_run = controller.first_run_window
            if first_run is None:
                raise RuntimeError("the first-run window did not open")
            first_run.service_field.setText(SERVICE)
            first_run.admin_field.setText(ADMIN)
            first_run.password_field.setText(PASSWORD)
            first_run.confirm_field.setText(PASSWORD)
            first_run.training_box.setChecked(True)  # the demo cases go only into one
            written.append(save(first_run, folder, "first-run.png"))
            first_run.join_button.click()
            first_run.invitation_field.setText("~/Downloads/safecase-team.invitation")
            first_run.passphrase_field.setText("lantern orbit meadow copper")
            written.append(save(first_run, folder, "join-a-team.png"))
            first_run.passphrase_field.clear()
            first_run.back_button.click()
            first_run.open_restore()
            written.append(save(first_run.restore_dialog, folder, "restore-from-backup.png"))
            if first_run.restore_dialog is not None:
                first_run.restore_dialog.reject()

            first_run.submit()
            wait_until(lambda: first_run.showing_key, "the store to be created")
            written.append(save(first_run, folder, "recovery-key.png"))
            first_run.stored_box.setChecked(True)
            first_run.finish()

            sign_in = controller.sign_in_window
            if sign_in is None:
                raise RuntimeError("the sign-in window did not open")
            sign_in.password_field.setText("not-the-right-password")
            sign_in.submit()
            wait_until(lambda: not sign_in.busy, "the wrong password to be refused")
            written.append(save(sign_in, folder, "sign-in.png"))

            sign_in.password_field.setText(PASSWORD)
            sign_in.submit()
            wait_until(lambda: controller.main_window is not None, "the main window")
            admin_window = controller.main_window
            assert admin_window is not None
            sized(admin_window, size)
            wait_until(lambda: not admin_window.calls.busy, "the audit trail")
            written.append(save(admin_window, folder, "main-window.png"))
            admin_window.show_area(admin_window.users_page)
            wait_until(lambda: not admin_window.calls.busy, "the users")
            written.append(save(admin_window, folder, "users.png"))
            admin_window.users_page.open_service_settings()
            wait_until(lambda: admin_window.users_page.dialog is not None, "the settings")
            settings_dialog = admin_window.users_page.dialog
            assert settings_dialog is not None
            written.append(save(settings_dialog, folder, "letterhead-and-retention.png"))
            settings_dialog.discard()
            admin_window.show_area(admin_window.backups_page)
            wait_until(lambda: not admin_window.calls.busy, "the backups screen")
            written.append(save(admin_window, folder, "backups.png"))

            summary = fill_demo_store(admin_window)
            start_team(admin_window, Path(temp) / "shared")
            written += devices_screens(admin_window, folder)
            shots, laptop = team_admin_screens(
                admin_window, summary, Path(temp) / "laptops", folder
            )
            written += shots
            manager = next(a for a in summary.accounts if Role.MANAGER in a.roles)
            switch_user(controller, manager)
            written += case_screens(controller, folder, size)
            written += conflict_screens(controller, folder, size)
            written.append(sync_progress_screen(controller, folder, size))
            written += figures_screens(controller, folder, size)
            written += subject_access_screens(controller, folder, size)
            switch_user(controller, next(a for a in summary.accounts if Role.DPO in a.roles))
            written += breach_screens(controller, folder, size)
            written.append(dpo_trail_screen(laptop, folder, size))
        finally:
            controller.shutdown()
            QApplication.processEvents()
    return written


def fill_demo_store(window: MainWindow) -> DemoSummary:
    """Synthetic cases through the window's own queue of store calls (admins only)."""
    result: list[DemoSummary] = []
    failed: list[BaseException] = []
    window.calls.run(
        lambda s: demo.generate_cases(s, DEMO_CASES, DEMO_SEED),
        result.append,
        failed.append,
        label="Creating demo cases…",
    )
    wait_until(lambda: bool(result or failed), "the demo cases")
    if failed:
        raise failed[0]
    return result[0]


def switch_user(controller: SafecaseApp, account: DemoAccount) -> None:
    """Sign out, and sign in again as a demo account."""
    controller.sign_out()
    again = controller.sign_in_window
    if again is None:
        raise RuntimeError("the sign-in window did not open again")
    again.username_field.setText(account.username)
    again.password_field.setText(account.password)
    again.submit()
    wait_until(lambda: controller.main_window is not None, f"{account.username}'s window")


def start_team(window: MainWindow, shared: Path) -> None:
    """The demo store becomes the first laptop of a team on a folder of its own, so the later
    windows show the team's status line."""
    from app.services import team

    shared.mkdir()
    done: list[object] = []
    window.calls.run(lambda s: team.create_team(s, shared), done.append, done.append)
    wait_until(lambda: bool(done), "the team to be made")
    if isinstance(done[0], BaseException):
        raise done[0]


def devices_screens(window: MainWindow, folder: Path) -> list[Path]:
    """The admin's Devices page, and the breach record "Report lost or stolen" opens."""
    page = window.devices_page
    window.show_area(page)
    _wait_idle(window, "the devices")
    written = [save(window, folder, "devices.png")]
    page.open_lost_report()  # what "Report it" in the confirmation does
    wait_until(lambda: isinstance(page.dialog, FormDialog), "the lost laptop's breach record")
    dialog = page.dialog
    assert isinstance(dialog, FormDialog)
    written.append(save(dialog, folder, "report-lost-laptop.png"))
    dialog.discard()
    return written


def _through(window: MainWindow, work: Callable[[Session], T], what: str) -> T:
    """``work(session)`` through the window's own queue of store calls; its result."""
    done: list[object] = []
    window.calls.run(work, done.append, done.append)
    wait_until(lambda: bool(done), what)
    if isinstance(done[0], BaseException):
        raise done[0]
    return done[0]  # type: ignore[return-value]


@dataclass(frozen=True)
class Laptop:
    """Another laptop of the demo team: its store, its user and its own in-memory keyring."""

    store: Path
    account: DemoAccount
    keyring: MemoryKeyring


def join_laptops(
    window: MainWindow, summary: DemoSummary, laptops: Path
) -> list[tuple[Laptop, Session]]:
    """The DPO's laptop and a caseworker's join the team, each a store of its own with its own
    in-memory keyring, invited from the admin's window; all sync twice round."""
    from app.services import team

    laptops.mkdir()
    joined: list[tuple[Laptop, Session]] = []
    dpo = next(a for a in summary.accounts if Role.DPO in a.roles)
    worker = next(a for a in summary.accounts if a.roles == {Role.CASEWORKER})
    for account in (dpo, worker):
        invitation = laptops / f"{account.username}.invitation"
        words = _through(
            window,
            partial(team.invite, username=account.username, out_file=invitation, params=DEMO_KDF),
            "the invitation",
        )
        laptop = Laptop(laptops / account.username / "cases.safecase", account, MemoryKeyring())
        laptop.store.parent.mkdir()
        session, _recovery = team.join(
            invitation,
            str(words),
            laptop.store,
            account.password,
            device=DeviceSecrets(laptop.keyring),
            kdf=DEMO_KDF,
        )
        joined.append((laptop, session))
    for _ in range(2):
        _through(window, team.sync, "the admin's sync")
        for _laptop, session in joined:
            team.sync(session)
    return joined


def team_admin_screens(
    window: MainWindow, summary: DemoSummary, laptops: Path, folder: Path
) -> tuple[list[Path], Laptop]:
    """Three laptops in the team, one revoked and its destruction confirmed: the admin's Devices
    page; then a purge one laptop has not confirmed yet: the Retention page's Team laptops.
    Returns the screenshots and the laptop still in use."""
    (laptop, kept), (_, lost) = join_laptops(window, summary, laptops)
    try:
        return _devices_and_retention(window, kept, lost, folder), laptop
    finally:
        for session in (kept, lost):
            if session.active:
                accounts.sign_out(session)


def _devices_and_retention(
    window: MainWindow, kept: Session, lost: Session, folder: Path
) -> list[Path]:
    from app.services import team
    from app.services.backup import BackupChoice
    from app.sync import engine

    lost_device = engine.load(lost.conn).device.device_id
    _through(window, partial(team.revoke, device_id=lost_device), "the revocation")
    with contextlib.suppress(SafecaseError):  # "… its records have been destroyed."
        team.sync(lost)  # it obeys the order: its store is destroyed, and it says so
    _through(window, team.sync, "the destruction receipt")
    page = window.devices_page
    window.show_area(page)
    page.refresh()
    _wait_idle(window, "the team's devices")
    rows = [page.model.record(r) for r in range(page.model.rowCount())]
    # Another laptop still in use is selected, so "Revoke…" shows as it can be used.
    other = next(r for r, d in enumerate(rows) if d and not d.this_device and not d.revoked)
    page.table.setCurrentIndex(page.model.index(other, 0))
    written = [save(window, folder, "devices-team.png")]

    due = _through(window, rights_free_due, "the cases due for destruction")
    _through(
        window,
        partial(retention.approve, references=due[:1], reason="Retention period ended; reviewed."),
        "the approval",
    )
    _through(window, partial(retention.purge, backups=BackupChoice.KEEP), "the purge")
    _through(window, team.sync, "the purge order")  # the kept laptop has not synced since
    retention_page = window.retention_page
    window.show_area(retention_page)
    retention_page.refresh()
    retention_page.tabs.setCurrentIndex(retention_page.tabs.count() - 1)
    _wait_idle(window, "the team's laptops")
    written.append(save(window, folder, "retention-team.png"))
    return written


def rights_free_due(session: Session) -> list[str]:
    """References of cases due for destruction now, nothing holding them."""
    return [i.reference for i in retention.due_items(session) if not i.blocked]


def sync_progress_screen(controller: SafecaseApp, folder: Path, size: Size | None) -> Path:
    """The status bar while a sync reads envelopes, as the sync's progress shows it."""
    window = controller.main_window
    if window is None:
        raise RuntimeError("no main window")
    sized(window, size)
    sync = window.team_sync
    window.show_area(window.team_cases)
    _wait_idle(window, "the team's cases")
    sync.running = True  # what the sync's progress says, twelve envelopes of forty in
    sync._show_progress(f"Reading changes from device {_device_of(window)}", 12, 40)
    written = save(window, folder, "sync-progress.png")
    sync.running = False
    sync.bar.setVisible(False)
    sync.refresh_status()
    _wait_idle(window, "the status line")
    return written


def dpo_trail_screen(laptop: Laptop, folder: Path, size: Size | None) -> Path:
    """The DPO's own laptop (it holds every laptop's audit key): the app opens on its store,
    syncs at sign-in, and the Audit page's Team tab shows every laptop's entries."""
    app = SafecaseApp(
        laptop.store,
        kdf=DEMO_KDF,
        device_factory=lambda: DeviceSecrets(laptop.keyring),
        print_document=lambda _document, _parent: False,
    )
    try:
        app.start()
        sign_in = app.sign_in_window
        if sign_in is None:
            raise RuntimeError("the DPO's laptop did not ask to sign in")
        sign_in.username_field.setText(laptop.account.username)
        sign_in.password_field.setText(laptop.account.password)
        sign_in.submit()
        wait_until(lambda: app.main_window is not None, "the DPO's window")
        window = app.main_window
        assert window is not None
        sized(window, size)
        wait_until(lambda: window.team_sync.in_team, "the DPO's laptop to see its team")
        wait_until(lambda: not window.team_sync.running, "the DPO's sync")
        page = window.audit_page
        window.show_area(page)
        _wait_idle(window, "the audit trail")
        page.tabs.setCurrentWidget(page.team_tab)
        page.team_tab.refresh()
        _wait_idle(window, "the team's trail")
        return save(window, folder, "team-audit.png")
    finally:
        app.shutdown()
        QApplication.processEvents()


def _device_of(window: MainWindow) -> str:
    """Another laptop's device id, as the sync names the laptop it reads from."""
    from app.services import team

    lines = _through(window, team.devices, "the devices")
    return next(line.device_id for line in lines if not line.this_laptop and not line.revoked)


def breach_screens(controller: SafecaseApp, folder: Path, size: Size | None) -> list[Path]:
    """The DPO's breach log with the demo's breaches, clocks running."""
    window = controller.main_window
    if window is None:
        raise RuntimeError("no main window for the DPO")
    sized(window, size)
    page = window.breach_page
    window.show_area(page)
    _wait_idle(window, "the breach log")
    page.table.setCurrentIndex(page.model.index(0, 0))
    written = [save(window, folder, "breach-log.png")]
    page.update_breach()
    dialog = page.dialog
    if not isinstance(dialog, FormDialog):
        raise RuntimeError("the breach form did not open")
    written.append(save(dialog, folder, "breach-record.png"))
    dialog.discard()
    return written


def _wait_idle(window: MainWindow, what: str) -> None:
    wait_until(lambda: not window.calls.busy, what)


def _pick_case(page: CaseListPage) -> int:
    """An open, high-risk case with safe contact details: the banner is worth showing."""
    model = page.model
    for row in range(model.rowCount()):
        summary = model.summary(row)
        if summary and summary.status is CaseStatus.OPEN and summary.risk_level is RiskLevel.HIGH:
            return summary.id
    for row in range(model.rowCount()):
        summary = model.summary(row)
        if summary and summary.status is CaseStatus.OPEN:
            return summary.id
    raise RuntimeError("the demo store has no open case")


def case_screens(controller: SafecaseApp, folder: Path, size: Size | None) -> list[Path]:
    window = controller.main_window
    if window is None:
        raise RuntimeError("no main window")
    sized(window, size)
    written = []
    page = window.team_cases
    window.show_area(page)
    _wait_idle(window, "the team's cases")
    # Open cases only, so the list shows live work.
    page.status_filter.set_value(CaseStatus.OPEN)
    _wait_idle(window, "the open cases")
    page.table.resizeColumnsToContents()
    written.append(save(window, folder, "case-list.png"))

    candidates = [page.model.summary(r) for r in range(page.model.rowCount())]
    chosen = _pick_case(page)
    ordered = [chosen] + [c.id for c in candidates if c is not None and c.id != chosen]
    # A case with a code word in its banner, and MARAC referral forms sent if one has both.
    case_page: CasePage | None = None
    banner: int | None = None
    for case_id in ordered:
        window.open_case(case_id)
        _wait_idle(window, "the case")
        case_page = window.case_page
        if case_page and case_page.view and case_page.view.contact.rules:
            rules = case_page.view.contact.rules
            if not rules.do_not_contact and rules.code_word:
                banner = case_id if banner is None else banner
                if case_page.marac_forms_model.rowCount():
                    break
    else:
        if banner is not None:
            window.open_case(banner)
            _wait_idle(window, "the case")
            case_page = window.case_page
    if case_page is None or case_page.view is None:
        raise RuntimeError("no case opened")
    case_page.tabs.setCurrentWidget(case_page.notes_tab)
    if case_page.note_model.rowCount():
        case_page.select_note(0)
        _wait_idle(window, "the note's history")
    written.append(save(window, folder, "case-view.png"))

    case_page.tabs.setCurrentWidget(case_page.dash_form)
    case_page.dash_form.copy_latest()
    written.append(save(window, folder, "dash.png"))
    case_page.discard_changes()
    case_page.tabs.setCurrentWidget(case_page.marac_tab)
    written.append(save(window, folder, "risk-history.png"))
    if case_page.marac_forms_model.rowCount():  # the MARAC referral forms the case sent
        case_page.marac_forms_table.selectRow(0)
        case_page.marac_tab.ensureWidgetVisible(case_page.save_form_button)
        written.append(save(window, folder, "marac-forms-sent.png"))
        case_page.marac_tab.verticalScrollBar().setValue(0)
    if case_page.is_manager and not case_page.closed:
        case_page.close_case()
        closing = case_page.dialog
        if not isinstance(closing, CloseCaseDialog):
            raise RuntimeError("the close dialog did not open")
        written.append(save(closing, folder, "close-case.png"))
        closing.discard()

    written.append(_refused_letter_screen(window, case_page, folder, ordered))
    case_page = window.case_page
    if case_page is None or case_page.view is None:
        raise RuntimeError("the case did not open again")

    case_page.record_share()
    dialog = case_page.dialog
    if not isinstance(dialog, ShareDialog):
        raise RuntimeError("the share dialog did not open")
    for recipient in (
        RecipientCategory.POLICE,
        RecipientCategory.HOUSING,
        RecipientCategory.CHILDRENS_SOCIAL_CARE,
        RecipientCategory.GP,
    ):
        dialog.recipient_field.set_value(recipient)
        dialog.check_consent()
        wait_until(lambda: dialog.gaps is not None, "the consent check")
        if dialog.gaps:
            break
    dialog.organisation_field.setText("Northshire Police")
    dialog.purpose_field.setText("Safeguarding referral after a threat to kill")
    written.append(save(dialog, folder, "record-share.png"))
    dialog.discard()

    case_page.open_marac_form()
    marac = case_page.dialog
    if not isinstance(marac, MaracFormDialog):
        raise RuntimeError("the MARAC referral form did not open")
    wait_until(lambda: marac.prefilled is not None, "the MARAC form's pre-fill")
    marac.marac_field.setText("Northshire MARAC coordinator")
    marac.summary_field.setPlainText(
        "Threats to kill since she left; he has been seen near the children's school."
    )
    if marac.without_consent:
        marac.without_field.setPlainText(
            "Risk to life: the MARAC must plan her safety and the children's together."
        )
    written.append(save(marac, folder, "marac-form.png"))
    marac.discard()

    for tab, name in (
        (case_page.categories_tab, "case-categories.png"),
        (case_page.legal_tab, "case-legal.png"),
        (case_page.agencies_tab, "case-agencies.png"),
    ):
        case_page.tabs.setCurrentWidget(tab)
        _wait_idle(window, "the case's categories")
        written.append(save(window, folder, name))
    window.show_area(window.this_week_page)
    _wait_idle(window, "this week")
    written.append(save(window, folder, "this-week.png"))
    return written


def conflict_screens(controller: SafecaseApp, folder: Path, size: Size | None) -> list[Path]:
    """A case whose safe number two laptops changed offline (a synthetic second laptop's
    change, applied as sync would): the banner showing both numbers, and the Conflicts page."""
    window = controller.main_window
    if window is None:
        raise RuntimeError("no main window")
    sized(window, size)
    case_id = _pick_case(window.team_cases)
    done: list[object] = []
    window.calls.run(
        lambda s: demo.synthetic_conflict(s, case_id, "07700 900461", "07700 900118"),
        done.append,
        done.append,
    )
    wait_until(lambda: bool(done), "the synthetic conflict")
    if isinstance(done[0], BaseException):
        raise done[0]
    window.refresh_lists()  # the status line too: "… · 1 conflict"
    window.open_case(case_id)
    _wait_idle(window, "the case in conflict")
    case_page = window.case_page
    if case_page is None or not case_page.conflicts:
        raise RuntimeError("the case shows no conflict")
    case_page.tabs.setCurrentWidget(case_page.notes_tab)
    written = [save(window, folder, "case-conflict.png")]
    window.show_area(window.conflicts_page)
    _wait_idle(window, "the conflicts")
    written.append(save(window, folder, "conflicts.png"))
    case_page.resolve_conflict()
    dialog = case_page.dialog
    if not isinstance(dialog, FormDialog):
        raise RuntimeError("the resolve dialog did not open")
    written.append(save(dialog, folder, "resolve-conflict.png"))
    dialog.discard()
    return written


def _refused_letter_screen(
    window: MainWindow, case_page: CasePage, folder: Path, candidates: list[int]
) -> Path:
    """The letters dialog refusing a letter, with the rule's reason (and, for a manager, the
    override): a closure letter to a client for whom letters are not safe (on another case if
    need be; the case open before is opened again after), else a letter to the alleged
    perpetrator, which is never sent."""
    assert case_page.view is not None
    before = case_page.view.case.id
    for case_id in candidates:
        window.open_case(case_id)
        _wait_idle(window, "the case")
        page = window.case_page
        rules = page.view.contact.rules if page is not None and page.view is not None else None
        if rules is not None and not rules.letters_ok and not rules.do_not_contact:
            break
    opened = window.case_page
    if opened is None:
        raise RuntimeError("no case open for the letters dialog")
    case_page = opened
    case_page.letters_and_texts()
    dialog = case_page.letters_dialog
    if not isinstance(dialog, LettersDialog):
        raise RuntimeError("the letters dialog did not open")
    dialog.kind_field.set_value(Output.CLOSURE)
    _wait_idle(window, "the safe-contact rules")
    if dialog.decision is not None and dialog.decision.allowed:
        for index, (_person, role) in enumerate(dialog.person_field.values()):
            if role is CaseRole.ALLEGED_PERPETRATOR:
                dialog.person_field.setCurrentIndex(index)
                _wait_idle(window, "the safe-contact rules")
                break
    path = save(dialog, folder, "letter-refused.png")
    dialog.reject()
    window.open_case(before)
    _wait_idle(window, "the case")
    return path


def figures_screens(controller: SafecaseApp, folder: Path, size: Size | None) -> list[Path]:
    """The manager's Figures page for this year: the table with the most bars in its chart."""
    from app.services.figures_pdf import charted_rows

    window = controller.main_window
    if window is None:
        raise RuntimeError("no main window")
    sized(window, size)
    page = window.figures_page
    window.show_area(page)
    _wait_idle(window, "the figures")
    if page.figures is not None:
        tables = page.figures.tables
        fullest = max(range(len(tables)), key=lambda i: len(charted_rows(tables[i])))
        page.tables_list.setCurrentIndex(fullest)
    wait_until(page.chart_shown, "the figures' chart")
    return [save(window, folder, "figures.png")]


def subject_access_screens(controller: SafecaseApp, folder: Path, size: Size | None) -> list[Path]:
    """The register with three requests about the open case's client, and one's pack."""
    window = controller.main_window
    case_page = window.case_page if window is not None else None
    if window is None or case_page is None or case_page.view is None:
        raise RuntimeError("no case open for a subject access request")
    subject = case_page.view.contact.client_id
    today = window.calls.today()
    requests = [  # (received, identity confirmed) days ago
        (75, 74),
        (20, 18),
        (2, None),
    ]
    made: list[object] = []
    for received, confirmed in requests:
        draft = rights.RequestDraft(
            kind=RightKind.ACCESS,
            requester="The data subject",
            received_on=today - dt.timedelta(days=received),
            subject_person_id=subject,
            identity_confirmed_on=None
            if confirmed is None
            else today - dt.timedelta(days=confirmed),
        )
        window.calls.run(partial(rights.create_request, draft=draft), made.append)
    _wait_idle(window, "the rights requests")
    page = window.sar_page
    window.show_area(page)
    _wait_idle(window, "the register")
    page.table.setCurrentIndex(page.model.index(0, 0))
    written = [save(window, folder, "subject-access.png")]
    page.prepare_pack()
    dialog = page.dialog
    if not isinstance(dialog, PackDialog):
        raise RuntimeError("the pack did not open")
    sized(dialog, size)
    wait_until(lambda: dialog.pack is not None, "the pack")
    pack = dialog.pack
    assert pack is not None
    redacted = next((i for i in pack.items() if i.spans), None)
    if redacted is not None:
        dialog.select_item(redacted.key)
    written.append(save(dialog, folder, "sar-pack.png"))
    dialog.reject()
    written.append(_erasure_screen(window, subject, folder))
    return written


def _erasure_screen(window: MainWindow, subject: int | None, folder: Path) -> Path:
    """A granted erasure request about the same person, and its proposal with the plan."""
    today = window.calls.today()
    draft = rights.RequestDraft(
        kind=RightKind.ERASURE,
        requester="The data subject",
        received_on=today - dt.timedelta(days=5),
        subject_person_id=subject,
        identity_confirmed_on=today - dt.timedelta(days=4),
    )
    made: list[RightsRequest] = []
    window.calls.run(partial(rights.create_request, draft=draft), made.append)
    _wait_idle(window, "the erasure request")
    request_id = made[0].id
    window.calls.run(
        lambda s: rights.close_request(s, request_id, Outcome.COMPLIED, today), made.append
    )
    page = window.sar_page
    page.refresh()
    _wait_idle(window, "the register")
    page.select_reference(made[0].reference)
    page.propose_erasure()
    _wait_idle(window, "the erasure plan")
    dialog = page.dialog
    if not isinstance(dialog, ErasureDialog):
        raise RuntimeError("the erasure plan did not open")
    path = save(dialog, folder, "erasure-proposal.png")
    dialog.reject()
    return path


def laptop_environment(folder: Path) -> dict[str, str]:
    """The environment for a Qt process whose one screen is the laptop's (its description is
    written into ``folder``)."""
    config = folder / "screen.json"
    config.write_text(json.dumps({"screens": [LAPTOP_SCREEN]}), encoding="utf-8")
    return {
        **os.environ,
        "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
        "QT_SCALE_FACTOR": LAPTOP_SCALE,
    }


def render_laptop(folder: Path) -> None:
    """The same windows on a 1366x768 laptop at 125%, each at the size the app gives it there,
    drawn by a second process (the screen and the scale are fixed when Qt starts)."""
    with tempfile.TemporaryDirectory(prefix="safecase-screen-") as temp:
        subprocess.run(
            [sys.executable, "-m", "app.ui.screenshots", "--laptop", str(folder / LAPTOP_FOLDER)],
            env=laptop_environment(Path(temp)),
            check=True,
        )


def main(argv: list[str]) -> int:
    # Qt's messages go to logging; offscreen drawing has a few harmless ones, so only errors show.
    logging.basicConfig(level=logging.ERROR)
    qInstallMessageHandler(qt_message_handler)
    if argv[:1] == ["--laptop"]:
        app = QApplication(sys.argv[:1])
        area = app.primaryScreen().availableGeometry()
        if (area.width(), area.height()) != LAPTOP_AREA:
            raise RuntimeError(f"the laptop screen is {area.width()}x{area.height()}")
        render(Path(argv[1]), None)
        return 0
    folder = Path(argv[0]) if argv else Path("docs/screenshots")
    render(folder)
    render_laptop(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
