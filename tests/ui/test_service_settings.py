"""The service's letterhead and retention period, set by an admin on the Users and settings
page, reach the store through the services and are audited."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.models import audit as audit_model
from app.models.retention import Policy
from app.services import audit, retention, sar
from app.services.sar import Letterhead
from app.ui.service_settings import ServiceSettingsDialog
from tests.helpers import ADMIN, ADMIN_PW, StoreCopy
from tests.ui.conftest import MakeApp, open_main, wait_calls

DPO_CONTACT = "Data Protection Officer, PO Box 7, Northfield NF1 1AA"


def test_an_admin_sets_the_letterhead_and_the_retention_period_on_screen(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.users_page
    main.show_area(page)
    wait_calls(qtbot, main)
    page.letterhead_button.click()
    wait_calls(qtbot, main)
    dialog = page.dialog
    assert isinstance(dialog, ServiceSettingsDialog)
    assert dialog.years_field.value() == 7  # the schedule's period, as the store holds it
    qtbot.keyClicks(dialog.address_field, "PO Box 12, Northfield NF1 1AA")
    qtbot.keyClicks(dialog.phone_field, "01632 960000")
    qtbot.keyClicks(dialog.email_field, "help@example.org")
    qtbot.keyClicks(dialog.dpo_field, DPO_CONTACT)
    dialog.years_field.setValue(8)
    dialog.save_button.click()
    wait_calls(qtbot, main)
    assert page.status_label.text() == "Letterhead and retention saved."

    found: list[tuple[Letterhead, Policy, list[audit_model.Entry]]] = []
    main.calls.run(
        lambda s: (sar.letterhead(s), retention.current_policy(s), audit.recent(s)), found.append
    )
    wait_calls(qtbot, main)
    head, policy, entries = found[0]
    assert (head.address, head.phone, head.email, head.dpo) == (
        "PO Box 12, Northfield NF1 1AA",
        "01632 960000",
        "help@example.org",
        DPO_CONTACT,
    )
    assert policy.years == 8
    details = [e.detail for e in entries if e.action == audit.SETTINGS_CHANGED]
    assert any("retention_years=8" in d for d in details)
