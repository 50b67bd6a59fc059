"""Retention (admins): the due list, approving, the purge and the destruction log."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.services import retention
from app.ui.retention_page import ApproveDialog, ExtendDialog
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER_PW,
    MANAGER,
    MANAGER_PW,
    StoreCopy,
)
from tests.services.casework import person, signed_in
from tests.services.closed_cases import make_closed_case, reference_of
from tests.ui.conftest import MakeApp, answer, open_main, texts_on_screen, wait_calls

CLIENT = person("Ottoline", "Brackwater")


def _closed_cases(store: StoreCopy, count: int = 1) -> list[str]:
    with signed_in(store, MANAGER) as session:
        return [
            reference_of(session, make_closed_case(session, CLIENT if n == 0 else None))
            for n in range(count)
        ]


@pytest.mark.parametrize(
    ("username", "password"), [(CASEWORKER, CASEWORKER_PW), (MANAGER, MANAGER_PW)]
)
def test_retention_is_not_offered_to_caseworkers_or_managers(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, username: str, password: str
) -> None:
    _app, main = open_main(qtbot, make_app, store, username, password)
    assert "Retention" not in main.area_titles()
    assert not hasattr(main, "retention_page")


def test_an_admin_approves_a_due_case_and_purges_it(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    reference, other = _closed_cases(store, 2)
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.retention_page
    main.show_area(page)
    wait_calls(qtbot, main)
    assert {reference, other} <= {i.reference for i in page.model.records}
    shown = texts_on_screen()
    assert reference in shown
    assert "Ottoline" not in shown and "Brackwater" not in shown  # no case content
    assert not page.purge_button.isEnabled()  # nothing approved yet

    # Extending needs a reason and a future review date.
    assert page.select_reference(other)
    page.extend_button.click()
    extend = page.dialog
    assert isinstance(extend, ExtendDialog)
    extend.save_button.click()
    assert "reason" in extend.problem_label.text()
    extend.discard()

    # Approving needs a reason.
    assert page.select_reference(reference)
    page.approve_button.click()
    dialog = page.dialog
    assert isinstance(dialog, ApproveDialog)
    dialog.save_button.click()
    assert "reason" in dialog.problem_label.text()
    qtbot.keyClicks(dialog.reason_field, "Seven years since closure; reviewed.")
    dialog.save_button.click()
    wait_calls(qtbot, main)
    approved = [i for i in page.model.records if i.reference == reference]
    assert approved and approved[0].approved
    assert page.purge_button.isEnabled()

    # The purge asks first, naming how many cases go; saying no destroys nothing.
    page.purge_button.click()
    assert answer(qtbot, yes=False) == "Destroy 1 case? This cannot be undone."
    wait_calls(qtbot, main)
    assert reference in {i.reference for i in page.model.records}

    with qtbot.waitSignal(page.purged, timeout=10_000):
        page.purge_button.click()
        assert answer(qtbot, yes=True) == "Destroy 1 case? This cannot be undone."
    wait_calls(qtbot, main)
    result = page.last_result
    assert result is not None and [e.reference for e in result.destroyed] == [reference]
    remaining = {i.reference for i in page.model.records}
    assert reference not in remaining and other in remaining

    # The destruction log lists the run, then its entries, and saves the certificate.
    assert [r.run_id for r in page.runs_model.records] == [result.run_id]
    page.runs_table.setCurrentIndex(page.runs_model.index(0, 0))
    wait_calls(qtbot, main)
    assert [e.reference for e in page.entries_model.records] == [reference]
    out = tmp_path / "certificate"
    page.choose_certificate_file = lambda _suggested: str(out)
    page.certificate_button.click()
    wait_calls(qtbot, main)
    assert (tmp_path / "certificate.pdf").read_bytes().startswith(b"%PDF")
    assert "Certificate saved" in page.status_label.text()

    # Asked again through the window's own session (the store allows one copy open).
    found: list[object] = []
    main.calls.run(lambda s: (retention.due_items(s), retention.runs(s)), found.append)
    wait_calls(qtbot, main)
    due, runs = found[0]  # type: ignore[misc]
    assert reference not in {i.reference for i in due}
    assert [r.run_id for r in runs] == [result.run_id]
