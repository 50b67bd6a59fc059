"""The audit page says what a check found when it is not one broken link in the chain."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.services import audit
from tests.helpers import MANAGER, MANAGER_PW, StoreCopy
from tests.services.test_audit_sealing import (
    caseworker_breaks_glass,
    hide_break_glass,
    start_sealing,
)
from tests.ui.conftest import MakeApp, open_main, wait_calls


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
