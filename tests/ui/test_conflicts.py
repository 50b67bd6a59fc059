"""Conflicts in the desktop app: two laptops set the same field offline; the case lists badge
the case, the case screen names the field, the safe contact banner shows both values with who
set each and when, the Conflicts page lists it, and a person resolves it through a dialog.

The second laptop is a copy of the test store whose operations are applied to the first, as
laptops exchanging changes would (tests/sync/test_apply.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.models import cases as case_model
from app.models import settings as settings_model
from app.models.db import transaction
from app.models.records import SafeContact
from app.services import cases, conflicts
from app.services.session import Session
from app.sync import ops
from app.ui.conflicts_page import ResolveDialog
from app.ui.contact_banner import HIDDEN_CODE_WORD
from app.ui.main_window import MainWindow
from tests.helpers import CASEWORKER, CASEWORKER_PW, MANAGER, MANAGER_PW, StoreCopy, copy_store
from tests.services.casework import audit_head, audit_since, new_case, signed_in, user_id
from tests.ui.conftest import (
    MakeApp,
    answer,
    open_main,
    texts_on_screen,
    wait_calls,
    widget_texts,
)
from tests.ui.test_case_view import mnemonic_keys

HERE, THERE = "07700 900101", "07700 900202"  # the safe number each laptop recorded
WORD_HERE, WORD_THERE = "lantern", "harbour"


@dataclasses.dataclass
class Conflicted:
    case_id: int
    reference: str


def _set(s: Session, case_id: int, client: int, **changes: object) -> None:
    current = case_model.safe_contact(s.conn, case_id, client) or SafeContact(client)
    cases.set_safe_contact(s, case_id, dataclasses.replace(current, **changes))  # type: ignore[arg-type]


def make_conflict(store: StoreCopy, tmp_path: Path, **there: object) -> Conflicted:
    """A case allocated to the caseworker whose safe number (and anything in ``there``) two
    laptops changed offline: this store to HERE, a copy of it to THERE (by the manager), whose
    operations then arrive here."""
    with signed_in(store, MANAGER) as s:
        case_id, client = new_case(s)
        cases.open_referral(s, case_id, s.today())
        cases.allocate(s, case_id, user_id(s, CASEWORKER))
        _set(s, case_id, client, safe_number="07700 900000", code_word="meadow")
        reference = cases.open_case(s, case_id, record_view=False).case.reference
    laptop = copy_store(store.path, tmp_path / "laptop2")
    other = StoreCopy(laptop, store.keyring, store.recovery_key)
    with signed_in(other, MANAGER) as s:
        with transaction(s.conn):
            settings_model.put(s.conn, ops.DEVICE_SETTING, "laptop-2")
        _set(s, case_id, client, safe_number=THERE, **there)
        made = [op for _, op in ops.outbox(s.conn)]
    with signed_in(store, CASEWORKER) as s:
        here = {k: WORD_HERE for k in there if k == "code_word"}
        _set(s, case_id, client, safe_number=HERE, **here)
        with transaction(s.conn):
            assert ops.apply_all(s.conn, made) == []
    return Conflicted(case_id, reference)


def _open_case(qtbot: QtBot, main: MainWindow, case_id: int) -> None:
    main.open_case(case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    wait_calls(qtbot, main)


def _reference_cells(main: MainWindow) -> list[str]:
    model = main.my_cases.table.model()
    return [str(model.index(r, 0).data()) for r in range(model.rowCount())]


def test_a_conflict_on_the_safe_number_shows_both_numbers_in_the_banner_with_who_and_when(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    made = make_conflict(store, tmp_path, code_word=WORD_THERE)
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    # The case list badges the case, in words a screen reader reads too.
    assert f"{made.reference} ⚠ 2 conflicts" in _reference_cells(main)
    _open_case(qtbot, main, made.case_id)
    page = main.case_page
    assert page is not None
    banner = page.banner
    assert banner.state == banner.CONFLICT
    shown = banner.conflict_line.text()
    assert HERE in shown and THERE in shown
    assert f"set by {CASEWORKER}" in shown and f"set by {MANAGER}" in shown
    assert "in conflict" in banner.title.text()
    # Neither number is offered alone as "the" safe number.
    assert HERE not in banner.number_line.text() and THERE not in banner.number_line.text()
    # Both code words stay hidden until asked for, then both show.
    assert WORD_HERE not in texts_on_screen() and WORD_THERE not in texts_on_screen()
    assert HIDDEN_CODE_WORD in shown
    qtbot.mouseClick(banner.code_word_button, Qt.MouseButton.LeftButton)
    assert WORD_HERE in banner.conflict_line.text() and WORD_THERE in banner.conflict_line.text()
    # The bar above the tabs names the fields and offers to resolve them.
    assert page.conflict_bar.isVisible()
    assert "Code word, Safe number" in page.conflict_label.text()
    for index in range(page.tabs.count()):
        page.tabs.setCurrentIndex(index)
        keys = mnemonic_keys(main)
        assert sorted({k for k in keys if keys.count(k) > 1}) == [], page.tabs.tabText(index)
    # The resolve dialog takes the code word first, both hidden until asked for.
    qtbot.mouseClick(page.resolve_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, ResolveDialog) and dialog.field == "Code word"
    assert all(HIDDEN_CODE_WORD in r.text() for r in dialog.radios)
    assert dialog.show_code_words is not None
    dialog.show_code_words.setFocus()
    qtbot.keyClick(dialog.show_code_words, Qt.Key.Key_Space)
    assert dialog.show_code_words.isChecked()
    assert {WORD_HERE, WORD_THERE} == {
        w for w in (WORD_HERE, WORD_THERE) for r in dialog.radios if w in r.text()
    }
    dialog.discard()


def test_do_not_contact_from_another_laptop_stays_in_the_title_beside_a_conflict(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    made = make_conflict(store, tmp_path, do_not_contact=True)
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    _open_case(qtbot, main, made.case_id)
    assert main.case_page is not None
    banner = main.case_page.banner
    assert banner.state == banner.CONFLICT
    assert banner.title.text().startswith("DO NOT CONTACT the client")
    assert HERE in banner.conflict_line.text() and THERE in banner.conflict_line.text()


def test_team_cases_and_search_badge_the_case_too(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    made = make_conflict(store, tmp_path)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    main.show_area(main.team_cases)
    wait_calls(qtbot, main)
    model = main.team_cases.table.model()
    cells = [str(model.index(r, 0).data()) for r in range(model.rowCount())]
    assert f"{made.reference} ⚠ 1 conflict" in cells
    main.show_area(main.search_page)
    qtbot.keyClicks(main.search_page.search_field, made.reference)
    main.search_page.run_search()
    wait_calls(qtbot, main)
    model = main.search_page.table.model()
    assert str(model.index(0, 0).data()) == f"{made.reference} ⚠ 1 conflict"


def test_the_conflicts_page_lists_the_conflict_and_enter_opens_the_case(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    made = make_conflict(store, tmp_path)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    assert "Conflicts (1)" in main.area_titles()
    head = _audit_head(qtbot, main)
    main.show_area(main.conflicts_page)
    wait_calls(qtbot, main)
    page = main.conflicts_page
    assert page.model.rowCount() == 1
    row = [str(page.model.index(0, c).data()) for c in range(page.model.columnCount())]
    assert row[0] == made.reference and row[1] == "Safe number"
    assert HERE in row[2] and THERE in row[2] and f"({CASEWORKER}, " in row[2]
    assert f"{THERE} (set by {MANAGER} on " in page.values_label.text()
    # Looking at the values is a view of the case: audited, by count.
    entries = _audit_since(qtbot, main, head)
    assert ("conflicts_viewed", "conflicts=1") in [(e.action, e.detail) for e in entries]
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    wait_calls(qtbot, main)
    assert main.pages.currentWidget() is main.case_page
    assert main.case_page.view is not None and main.case_page.view.case.id == made.case_id


def test_resolving_from_the_case_keeps_the_chosen_number_everywhere_and_is_audited(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    made = make_conflict(store, tmp_path)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    _open_case(qtbot, main, made.case_id)
    page = main.case_page
    assert page is not None
    head = _audit_head(qtbot, main)
    assert page.resolve_button.text() == "Res&olve conflict…"
    page.resolve_button.setFocus()
    qtbot.keyClick(page.resolve_button, Qt.Key.Key_Space)
    dialog = page.dialog
    assert dialog is not None and dialog.isVisible()
    texts = [r.text() for r in dialog.radios]  # type: ignore[attr-defined]
    assert any(HERE in t and CASEWORKER in t for t in texts)
    assert any(THERE in t and MANAGER in t for t in texts)
    # Keep laptop 2's number, by keyboard: arrows choose, the save button asks first.
    keep = next(i for i, t in enumerate(texts) if THERE in t)
    dialog.radios[keep].setFocus()  # type: ignore[attr-defined]
    qtbot.keyClick(dialog.radios[keep], Qt.Key.Key_Space)  # type: ignore[attr-defined]
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    question = answer(qtbot)
    assert THERE in question
    wait_calls(qtbot, main)
    qtbot.waitUntil(lambda: not page.conflict_bar.isVisible())
    assert page.banner.state == page.banner.SAFE
    assert THERE in page.banner.number_line.text()
    assert "Conflicts" in main.area_titles()
    entries = _audit_since(qtbot, main, head)
    assert ("conflict_resolved", "field=safe_contacts.safe_number") in [
        (e.action, e.detail) for e in entries
    ]
    # The choice is an operation this laptop will send.
    found: list[list[conflicts.Conflict]] = []
    main.calls.run(lambda s: conflicts.on_case(s, made.case_id), found.append)
    wait_calls(qtbot, main)
    assert [c.open for c in found[0]] == [False]


def test_resolving_on_the_conflicts_page_updates_the_case_on_screen(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    made = make_conflict(store, tmp_path)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    _open_case(qtbot, main, made.case_id)
    page = main.case_page
    assert page is not None and page.banner.state == page.banner.CONFLICT
    main.show_area(main.conflicts_page)
    wait_calls(qtbot, main)
    conflicts_page = main.conflicts_page
    qtbot.mouseClick(conflicts_page.resolve_button, Qt.MouseButton.LeftButton)
    dialog = conflicts_page.dialog
    assert dialog is not None
    [keep] = [r for r in dialog.radios if THERE in r.text()]
    qtbot.mouseClick(keep, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    answer(qtbot)
    wait_calls(qtbot, main)
    main.show_area(page)
    assert page.banner.state == page.banner.SAFE
    assert THERE in page.banner.number_line.text()
    assert not page.conflict_bar.isVisible()
    # Once the case leaves the screen, no hidden line of the banner keeps its details.
    page.clear()
    assert THERE not in widget_texts([page.banner], hidden=True)


def test_a_conflict_resolved_elsewhere_meanwhile_is_refused_with_one_sentence(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    make_conflict(store, tmp_path)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    main.show_area(main.conflicts_page)
    wait_calls(qtbot, main)
    page = main.conflicts_page
    qtbot.mouseClick(page.resolve_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert dialog is not None
    # Saving without a choice names what is missing.
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.problem_label.text() == "Choose the value to keep."
    # Someone resolves it first (through the window's own calls, as another screen would).
    conflict = dialog.conflict
    main.calls.run(
        lambda s: conflicts.resolve(s, conflict.id, conflict.candidates[0].op_id), lambda _v: None
    )
    wait_calls(qtbot, main)
    qtbot.mouseClick(dialog.radios[1], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    answer(qtbot)
    wait_calls(qtbot, main)
    assert dialog.problem_label.text() == "That conflict has already been resolved."
    assert dialog.isVisible()


def test_a_caseworker_sees_only_conflicts_on_their_own_cases(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    make_conflict(store, tmp_path)
    with signed_in(store, CASEWORKER) as s:
        assert conflicts.count(s) == 1
    with signed_in(store, MANAGER) as s:
        mine = conflicts.open_conflicts(s)
        assert len(mine) == 1
        cases.allocate(s, mine[0].case_id, None)  # no longer the caseworker's case
    with signed_in(store, CASEWORKER) as s:
        assert conflicts.open_conflicts(s) == []
        assert conflicts.count(s) == 0


def _audit_head(qtbot: QtBot, main: MainWindow) -> int:
    found: list[int] = []
    main.calls.run(audit_head, found.append)
    wait_calls(qtbot, main)
    return found[0]


def _audit_since(qtbot: QtBot, main: MainWindow, head: int) -> list:  # type: ignore[type-arg]
    found: list[list] = []  # type: ignore[type-arg]
    main.calls.run(lambda s: audit_since(s, head), found.append)
    wait_calls(qtbot, main)
    return found[0]


@pytest.fixture(autouse=True)
def _no_real_data() -> None:
    """Synthetic numbers and words only (Ofcom's drama range)."""
    assert HERE.startswith("07700 900") and THERE.startswith("07700 900")
