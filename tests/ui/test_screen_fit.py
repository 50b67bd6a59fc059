"""Every window and dialog fits a 1366x768 laptop screen at 125% scaling.

That screen is 1093x614 device-independent pixels; Windows' task bar leaves about 1093x576
for windows. The windows here open on a screen whose available area is that size, and each
must open inside it, title bar included, with its buttons on screen. Dialogs are found by
scanning app.ui, so a new dialog is checked as soon as it exists.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QMargins, QRect, Qt
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialog, QScrollArea, QWidget
from pytestqt.qtbot import QtBot

import app.ui
from app.models.breaches import Breach, Facts, Source, Version
from app.models.records import CaseView, LawfulBasis, RecipientCategory
from app.models.retention import Policy
from app.models.rights import RightKind, RightsRequest
from app.models.users import Role, User
from app.services import cases, rights, sar
from app.services.conflicts import Candidate, Conflict
from app.services.retention import ErasurePlan
from app.services.sar import Letterhead, PackItem, SignOffFacts
from app.services.session import Session
from app.ui.app import load_style
from app.ui.forms import FormDialog
from app.ui.main_window import MainWindow
from app.ui.share_dialog import ShareDialog
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER_PW,
    DPO,
    DPO_PW,
    MANAGER,
    MANAGER_PW,
    SERVICE,
    StoreCopy,
)
from tests.services.casework import TODAY, signed_in
from tests.services.sar_world import build_world
from tests.ui.conftest import MakeApp, open_main, sign_in, wait_calls

# 1366x768 at 125% is 1093x614; less a 48-pixel task bar (38 at this scale), 1093x576.
SMALL = QRect(0, 0, 1093, 576)
# The most a window system adds around a window: a title bar and borders (Windows 11 at 125%
# draws about 31 pixels of title bar).
FRAME = QMargins(8, 32, 8, 8)
SETTLE_MS = 1000
NOT_WINDOWS = {"screenshots"}  # modules of app.ui that are tools, not the app


@pytest.fixture
def small_screen(monkeypatch: pytest.MonkeyPatch, qapp: QApplication) -> Iterator[QRect]:
    """Every screen reports the small laptop's available area; the product's style sheet is on
    (its padding and point sizes count towards every size)."""
    monkeypatch.setattr(QScreen, "availableGeometry", lambda _screen: QRect(SMALL))
    assert load_style(qapp)
    yield SMALL
    qapp.setStyleSheet("")


def frame_of(window: QWidget) -> QRect:
    """The window with the most its title bar and borders can take."""
    return window.geometry().marginsAdded(FRAME)


def settled(qtbot: QtBot, condition: Callable[[], bool]) -> bool:
    """Whether ``condition`` holds once the window's queued layout changes have been made."""
    try:
        qtbot.waitUntil(condition, timeout=SETTLE_MS)
    except qtbot.TimeoutError:
        return False
    return True


def assert_fits(qtbot: QtBot, window: QWidget, what: str) -> None:
    settled(qtbot, lambda: SMALL.contains(frame_of(window)))
    frame = frame_of(window)
    assert SMALL.contains(frame), (
        f"{what} opens at {frame.width()}x{frame.height()} (title bar included) at "
        f"({frame.x()}, {frame.y()}): it must fit in {SMALL.width()}x{SMALL.height()}; "
        f"its layout needs at least {window.minimumSizeHint().width()}x"
        f"{window.minimumSizeHint().height()}"
    )
    inside = window.rect()
    for button in window.findChildren(QAbstractButton):
        if not button.isVisibleTo(window) or _scrolls(button, window):
            continue
        place = QRect(button.mapTo(window, button.rect().topLeft()), button.size())
        assert inside.contains(place), f"{what}: the {button.text()!r} button is cut off"


def _scrolls(widget: QWidget, window: QWidget) -> bool:
    """Inside a scroll area of ``window`` (reached by scrolling, not on the window itself)."""
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, QScrollArea):
            return True
        parent = parent.parentWidget()
    return False


SCREENS_OF_SCROLLING = 1.5  # one screen, and half a screen more at most


def assert_scrolls_modestly(qtbot: QtBot, dialog: FormDialog, what: str) -> None:
    """The form scrolls up and down only, by half a screen more at most."""
    areas = [a for a in dialog.findChildren(QScrollArea) if a.parentWidget() is dialog]
    if not areas:
        return  # a form that does not scroll: it fits whole, or assert_fits said not
    [area] = areas
    body = area.widget()
    assert settled(qtbot, lambda: body.minimumSizeHint().width() <= area.viewport().width()), (
        f"{what} scrolls sideways"
    )
    screens = body.height() / area.viewport().height()
    assert screens <= SCREENS_OF_SCROLLING, f"{what} needs {screens:.1f} screens of scrolling"


# -- the windows --------------------------------------------------------------------------------


def test_the_first_run_and_sign_in_windows_fit_a_small_laptop(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path, small_screen: QRect
) -> None:
    app = make_app(tmp_path / "new.safecase")
    assert app.first_run_window is not None
    assert_fits(qtbot, app.first_run_window, "The first-run window")
    app = make_app(store.path)
    assert app.sign_in_window is not None
    assert_fits(qtbot, app.sign_in_window, "The sign-in window")


@pytest.mark.parametrize(
    ("username", "password"),
    [(CASEWORKER, CASEWORKER_PW), (MANAGER, MANAGER_PW), (ADMIN, ADMIN_PW), (DPO, DPO_PW)],
)
def test_the_main_window_and_every_area_fit_a_small_laptop(
    qtbot: QtBot,
    make_app: MakeApp,
    store: StoreCopy,
    small_screen: QRect,
    username: str,
    password: str,
) -> None:
    world = build_world(store)
    app = make_app(store.path)
    assert app.sign_in_window is not None
    with qtbot.waitSignal(app.signed_in, timeout=5000):
        sign_in(qtbot, app.sign_in_window, username, password)
    main = app.main_window
    assert main is not None
    wait_calls(qtbot, main)
    # The worst case: the training store's banner and the password-only warning both showing.
    main.training_banner.setVisible(True)
    main.banner.setVisible(True)
    assert_fits(qtbot, main, f"The main window for {username}")
    for row, title in enumerate(main.area_titles()):
        main.navigation.setCurrentRow(row)
        wait_calls(qtbot, main)
        assert_fits(qtbot, main, f"The {title} area for {username}")
    if main.case_roles:
        main.open_case(world.case)
        wait_calls(qtbot, main)
        page = main.case_page
        assert page is not None
        for tab in range(page.tabs.count()):
            page.tabs.setCurrentIndex(tab)
            wait_calls(qtbot, main)
            assert_fits(qtbot, main, f"The case's {page.tabs.tabText(tab)!r} tab for {username}")


# -- the dialogs --------------------------------------------------------------------------------


def dialog_classes() -> list[type[QDialog]]:
    """Every dialog app.ui defines that opens as it is (bases of other dialogs left out)."""
    for module in pkgutil.iter_modules(app.ui.__path__):
        if module.name not in NOT_WINDOWS:
            importlib.import_module(f"app.ui.{module.name}")

    def below(cls: type[QDialog]) -> Iterator[type[QDialog]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    found = {c for c in below(QDialog) if c.__module__.startswith("app.ui.")}
    return sorted(
        (c for c in found if not any(s in found for s in c.__subclasses__())),
        key=lambda c: (c.__module__, c.__name__),
    )


@dataclass
class Things:
    """Records to open the dialogs on."""

    view: CaseView
    team: list[User]
    request: RightsRequest
    item: PackItem
    facts: SignOffFacts


def _things(store: StoreCopy) -> Things:
    world = build_world(store)
    with signed_in(store, MANAGER) as s:
        view = cases.open_case(s, world.case)
        team = cases.team(s)
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
        item = next(i for i in sar.preview(s, request.id).items() if i.spans)
        facts = sar.signoff_facts(s, request.id)
    return Things(view, team, request, item, facts)


def _arguments(session: Session, main: MainWindow, things: Things) -> dict[str, object]:
    """What a dialog's parameters are called, and a value for each."""
    view, request, span = things.view, things.request, things.item.spans[0]
    return {
        "calls": main.calls,
        "session": session,
        "parent": main,
        "lock_action": main.lock_action,
        "case": view.case,
        "case_id": view.case.id,
        "view": view,
        "members": view.members,
        "person": view.members[0].person,
        "client_id": view.contact.client_id,
        "rules": view.contact.rules,
        "note": view.notes[0],
        "share": view.shares[0],
        "approve": True,
        "team": things.team,
        "managers": [u for u in things.team if Role.MANAGER in u.roles],
        "user": things.team[0],
        "user_id": things.team[0].id,
        "is_manager": False,
        "service_name": SERVICE,
        "reference": view.case.reference,
        "references": [view.case.reference],
        "request": request,
        "request_id": request.id,
        "item_key": things.item.key,
        "start": span.start,
        "end": span.end,
        "span": span,
        "facts": things.facts,
        "head": Letterhead(name=SERVICE, address="PO Box 12"),
        "policy": Policy(),
        "person_id": view.contact.client_id,
        "plans": [ErasurePlan(request.id, request.reference, ("SC-1",), ("SC-2",), "", None, "")],
        "store_path": session.vault.path.with_name("restored.safecase"),
        "breach": BREACH,
        "versions": [Version(1, BREACH.facts, None, "", None, BREACH.recorded_at)],
        "names": {},
        "conflict": CONFLICT,
    }


BREACH = Breach(
    id=1,
    reference="BR-2026-0001",
    source=Source.RECORDED,
    recorded_by=None,
    recorded_at="2026-12-01T10:00:00Z",
    facts=Facts(
        aware_at=dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC),
        what_happened="A letter about one client went to an old address.",
    ),
    closed_at=None,
    changed_at="2026-12-01T10:00:00Z",
    versions=1,
)

# Two code words recorded on two laptops (the resolve dialog's longest case: a show button too).
CONFLICT = Conflict(
    id=1,
    case_id=1,
    field="safe_contacts.code_word",
    open=True,
    candidates=(
        Candidate("op-1", "lantern", "cole", "laptop-1", 1_790_000_000_000),
        Candidate("op-2", "harbour", "mina", "laptop-2", 1_790_000_600_000),
    ),
    reference="SC-2026-000001",
)

ALWAYS = ("parent", "lock_action")  # passed whenever a dialog takes them


def _open(cls: type[QDialog], values: dict[str, object]) -> QDialog:
    """Build ``cls`` with a value for each parameter it needs, found by the parameter's name."""
    kwargs: dict[str, object] = {}
    for name, parameter in list(inspect.signature(cls.__init__).parameters.items())[1:]:
        required = parameter.default is parameter.empty
        if name in ALWAYS or (required and name in values):
            kwargs[name] = values[name]
        elif required:
            pytest.fail(
                f"{cls.__name__}: this test does not know what to pass as {name!r}; "
                "add a value to _arguments so the dialog is checked on a small screen"
            )
    return cls(**kwargs)


def test_every_dialog_fits_a_small_laptop(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, small_screen: QRect
) -> None:
    things = _things(store)
    app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    assert app.session is not None
    values = _arguments(app.session, main, things)
    classes = dialog_classes()
    assert len(classes) > 20  # the scan found the app's dialogs
    for cls in classes:
        dialog = _open(cls, values)
        dialog.open()
        wait_calls(qtbot, main)
        assert_fits(qtbot, dialog, cls.__name__)
        if isinstance(dialog, FormDialog):
            assert_scrolls_modestly(qtbot, dialog, cls.__name__)
            dialog.discard()
        else:
            dialog.reject()
        dialog.deleteLater()


# -- the share dialog ---------------------------------------------------------------------------


def test_the_share_dialog_fits_a_small_laptop_with_every_section_showing(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, small_screen: QRect
) -> None:
    """A caseworker sharing without consent, on a court order, without telling the person:
    every part of the form shows, and it still needs no more than a screen and a half."""
    world = build_world(store)
    with signed_in(store, MANAGER) as s:
        worker = next(u.id for u in cases.team(s) if u.username == CASEWORKER)
        cases.allocate(s, world.case, worker)
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    main.open_case(world.case)
    wait_calls(qtbot, main)
    page = main.case_page
    assert page is not None
    page.record_share_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, ShareDialog)
    for widget in dialog.people_field, dialog.categories_field:
        for row in range(widget.count()):
            widget.item(row).setCheckState(Qt.CheckState.Checked)
    for recipient in RecipientCategory:
        dialog.recipient_field.set_value(recipient)
        dialog.check_consent()
        wait_calls(qtbot, main)
        if dialog.gaps:
            break
    assert dialog.gaps, "no recipient in the synthetic world lacks consent"
    dialog.basis_field.set_value(LawfulBasis.COURT_ORDER)
    qtbot.mouseClick(dialog.not_told_field, Qt.MouseButton.LeftButton)
    for field in (
        dialog.court_field,
        dialog.reason_field,
        dialog.not_told_reason_field,
        dialog.manager_field,
    ):
        assert field.isVisible()
    assert_fits(qtbot, dialog, "The share dialog")
    assert_scrolls_modestly(qtbot, dialog, "The share dialog")
    dialog.discard()
