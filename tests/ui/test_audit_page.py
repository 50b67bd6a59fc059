"""The Audit area: the whole trail a page at a time, filters, names for ids, the DPO's CSV, and
what a check found when it is not one broken link in the chain."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.services import audit, cases
from app.ui.audit_page import AuditPage
from app.ui.main_window import MainWindow
from tests.helpers import CASEWORKER, DPO, DPO_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import audit_head, new_case, person, signed_in
from tests.services.test_audit_sealing import (
    caseworker_breaks_glass,
    hide_break_glass,
    start_sealing,
)
from tests.ui.conftest import MakeApp, answer, open_main, wait_calls

VIEWS = 650  # more than the 500 entries the page used to stop at
WHO, WHAT, RECORD = 2, 3, 4  # columns


@pytest.fixture
def busy(store: StoreCopy) -> tuple[StoreCopy, str]:
    """A caseworker's case viewed many times; returns the store and the case's reference."""
    with signed_in(store, CASEWORKER) as s:
        case_id, _client = new_case(s, person("Robin", "Ashdown"))
        s.conn.execute("PRAGMA synchronous = OFF")  # test set-up only: no fsync per view
        for _ in range(VIEWS):
            reference = cases.open_case(s, case_id).case.reference
        new_case(s, person("Sam", "Kerrigan"))
    return store, reference


def _audit(qtbot: QtBot, make_app: MakeApp, store: StoreCopy, user: str, pw: str) -> AuditPage:
    _app, main = open_main(qtbot, make_app, store, user, pw)
    main.show_area(main.audit_page)
    wait_calls(qtbot, main)
    return main.audit_page


def _main(page: AuditPage) -> MainWindow:
    window = page.window()
    assert isinstance(window, MainWindow)
    return window


def _column(page: AuditPage, column: int) -> list[str]:
    model = page.model
    return [str(model.index(row, column).data()) for row in range(model.rowCount())]


def _scroll_to_the_end(qtbot: QtBot, page: AuditPage) -> None:
    """Scroll down as a reader would until nothing more loads."""
    bar = page.table.verticalScrollBar()
    while not page.model.exhausted:
        bar.setValue(bar.maximum())
        wait_calls(qtbot, _main(page))


def test_the_dpo_scrolls_back_to_the_first_entry(
    qtbot: QtBot, qtmodeltester: ModelTester, make_app: MakeApp, busy: tuple[StoreCopy, str]
) -> None:
    store, _reference = busy
    with signed_in(store, DPO) as s:
        last = audit_head(s) + 1  # the DPO's own sign-in comes next
    page = _audit(qtbot, make_app, store, DPO, DPO_PW)
    qtmodeltester.check(page.model)
    assert page.model.rowCount() < last  # the first page only
    assert "more load as you scroll" in page.count_label.text()
    _scroll_to_the_end(qtbot, page)
    qtmodeltester.check(page.model)
    ids = [e.id for e in page.model.records]
    assert ids[-1] == 1 and len(ids) >= last and ids == sorted(ids, reverse=True)
    assert page.model.index(len(ids) - 1, WHAT).data() == "store created"
    assert page.count_label.text() == f"Entries that match: {len(ids):,}."


def test_filters_through_the_widgets_show_references_and_usernames(
    qtbot: QtBot, make_app: MakeApp, busy: tuple[StoreCopy, str]
) -> None:
    store, reference = busy
    page = _audit(qtbot, make_app, store, MANAGER, MANAGER_PW)
    main = _main(page)
    filters = page.filters

    # The record, typed as a person would, then Enter.
    qtbot.keyClicks(filters.record_field, reference.lower())
    qtbot.keyClick(filters.record_field, Qt.Key.Key_Return)
    wait_calls(qtbot, main)
    _scroll_to_the_end(qtbot, page)
    # The case by its reference, and its client added to it (a person, by id only).
    records = set(_column(page, RECORD))
    assert reference in records and all(
        r == reference or r.startswith("person ") for r in records
    ), records
    assert {"case created", "case viewed", "person added"} <= set(_column(page, WHAT))
    assert set(_column(page, WHO)) == {CASEWORKER}
    assert page.model.rowCount() == VIEWS + 2  # created, the client added, every view

    # Who and what: the manager's own sign-in, by name.
    filters.clear_button.click()
    wait_calls(qtbot, main)
    assert filters.user_field.set_value(next(k for k, v in main.names.items() if v == MANAGER))
    assert filters.action_field.set_value(audit.SIGN_IN)
    qtbot.mouseClick(filters.apply_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert _column(page, WHO) == [MANAGER]
    assert _column(page, RECORD) == [MANAGER]  # "user:N" shows as the username
    assert page.count_label.text() == "Entries that match: 1."

    # Days: nothing from tomorrow on.
    filters.clear_button.click()
    wait_calls(qtbot, main)
    qtbot.mouseClick(filters.since_field.known, Qt.MouseButton.LeftButton)
    line = filters.since_field.edit.line
    line.clear()
    qtbot.keyClicks(line, "31/12/2099")
    qtbot.keyClick(line, Qt.Key.Key_Tab)
    qtbot.mouseClick(filters.apply_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert page.model.rowCount() == 0
    filters.clear_button.click()
    wait_calls(qtbot, main)
    assert page.model.rowCount() > 0


def test_the_dpo_exports_the_filtered_trail_after_a_warning(
    qtbot: QtBot, make_app: MakeApp, busy: tuple[StoreCopy, str], tmp_path: Path
) -> None:
    store, reference = busy
    page = _audit(qtbot, make_app, store, DPO, DPO_PW)
    main = _main(page)
    out = tmp_path / "for the DPO"
    page.choose_csv_file = lambda suggested: str(out)
    qtbot.keyClicks(page.filters.record_field, reference)
    qtbot.keyClick(page.filters.record_field, Qt.Key.Key_Return)
    wait_calls(qtbot, main)
    assert page.export_button.isVisible()
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    question = answer(qtbot)
    assert "not encrypted" in question
    wait_calls(qtbot, main)
    saved = out.with_name(out.name + ".csv")
    with saved.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == VIEWS + 2 and {r["reference"] for r in rows} >= {reference}
    assert page.status_label.text() == (
        f"{len(rows)} entries saved to {saved.name}. The file is not encrypted."
    )


def test_only_the_dpo_is_offered_the_export(
    qtbot: QtBot, make_app: MakeApp, busy: tuple[StoreCopy, str]
) -> None:
    store, _reference = busy
    page = _audit(qtbot, make_app, store, MANAGER, MANAGER_PW)
    assert page.model.rowCount() > 0
    assert not page.export_button.isVisible()


def test_a_sealed_entry_rewritten_is_named_on_the_page(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    start_sealing(store)
    hide_break_glass(store, caseworker_breaks_glass(store))

    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.audit_page
    main.show_area(page)
    wait_calls(qtbot, main)
    page.verify_button.click()
    wait_calls(qtbot, main)

    assert page.verification is not None and not page.verification.ok
    assert "after they were sealed" in page.result_label.text()
    assert "None" not in page.result_label.text()
    assert page.model.records[0].action != audit.AUDIT_VERIFIED  # nothing written over it
