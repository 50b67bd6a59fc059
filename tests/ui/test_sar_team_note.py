"""Subject access in a team: before a pack is gathered, and in the pack, the manager reads which
team laptops have not synced since the request arrived; a conflict two laptops left on a
request is marked in the register and resolved there."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.models.rights import RightKind
from app.services import accounts, rights
from app.services import team as team_service
from app.sync import ops
from app.ui.register_conflicts import RegisterConflictDialog
from app.ui.sar_pack import PackDialog
from tests.helpers import ADMIN, CASEWORKER, MANAGER, MANAGER_PW, MemoryKeyring, StoreCopy
from tests.services.casework import TODAY, new_case, person, signed_in
from tests.sync.team_world import join_laptop
from tests.sync.two_laptops import set_twice
from tests.ui.conftest import MakeApp, open_main, wait_calls
from tests.ui.test_case_view import mnemonic_keys

QUIET = (
    "1 laptop has not synced since this request was received: "
    f"{CASEWORKER}'s laptop, nothing received from it yet."
)


def _team_with_a_quiet_laptop(store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path) -> str:
    """The store is the team's first laptop; a caseworker's laptop joined and has sent nothing
    since. A manager of the first laptop logs an access request; returns its reference."""
    shared = tmp_path / "shared"
    shared.mkdir()
    with signed_in(store, ADMIN) as admin:
        team_service.create_team(admin, shared)
        worker = join_laptop(admin, CASEWORKER, tmp_path / "laptops", keyring, "birch-canyon-58x")
        try:
            for laptop in (admin, worker, admin):
                team_service.sync(laptop)
        finally:
            accounts.sign_out(worker)
    with signed_in(store, MANAGER) as manager:
        _case, client = new_case(manager, person("Qzteamnotegiven", "Qzteamnotefamily"))
        request = rights.create_request(
            manager,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="The data subject",
                received_on=TODAY - dt.timedelta(days=1),
                subject_person_id=client,
                identity_confirmed_on=TODAY,
            ),
        )
    return request.reference


def test_the_register_and_the_pack_name_the_laptop_not_synced_since_the_request(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    reference = _team_with_a_quiet_laptop(store, keyring, tmp_path)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.sar_page
    main.show_area(page)
    wait_calls(qtbot, main)
    assert not page.team_label.isVisible()
    assert page.select_reference(reference)
    assert page.team_label.isVisible()
    assert page.team_label.text().startswith(QUIET)

    page.prepare_button.click()
    dialog = page.dialog
    assert isinstance(dialog, PackDialog)
    wait_calls(qtbot, main)
    assert dialog.pack is not None
    assert dialog.notes_label.isVisible()
    assert QUIET in dialog.notes_label.text()
    dialog.reject()


def test_a_manager_resolves_a_conflict_two_laptops_left_on_a_request(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, MANAGER) as manager:
        request = rights.create_request(
            manager,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="The data subject",
                received_on=TODAY - dt.timedelta(days=1),
                subject_note="Someone not on record",
            ),
        )
        target = str(ops.gid_of(manager.conn, "rights_requests", request.id))
        # Two laptops' changes of its requester, neither seeing the other's, arrive here.
        set_twice(
            manager.conn,
            "register.field_set",
            "register",
            target,
            "rights_requests.requester",
            ("Qzfirst Requester", "Qzsecond Requester"),
        )
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.sar_page
    main.show_area(page)
    wait_calls(qtbot, main)
    assert len(set(mnemonic_keys(main))) == len(mnemonic_keys(main))
    [shown] = page.model.records
    assert page.mark(shown).endswith("Conflict")
    assert page.select_reference(request.reference)
    assert page.resolve_button.isEnabled()

    page.resolve_button.click()
    wait_calls(qtbot, main)
    dialog = page.dialog
    assert isinstance(dialog, RegisterConflictDialog)
    assert dialog.choice.count() == 2
    assert "Qzfirst Requester" in dialog.choice.itemText(0)
    dialog.choice.setCurrentIndex(0)
    dialog.save_button.click()
    wait_calls(qtbot, main)
    [kept] = page.model.records
    assert kept.requester == "Qzfirst Requester"
    assert "Conflict" not in page.mark(kept)
    assert page.select_reference(request.reference)
    assert not page.resolve_button.isEnabled()
