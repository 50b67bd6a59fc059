"""Signing off an alleged perpetrator's pack: what is signed is shown, a note is required, and
the manager who prepared the pack needs another manager (or the reason there was none)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.models.rights import RightKind
from app.models.users import Role
from app.services import accounts, rights
from app.ui.main_window import MainWindow
from app.ui.sar_pack import PackDialog, SignOffDialog
from tests.helpers import ADMIN, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import TODAY, signed_in
from tests.services.sar_world import build_world
from tests.ui.conftest import MakeApp, open_main, texts_on_screen, wait_calls
from tests.ui.test_drafts import lock_with_ctrl_l, sign_in_again

SECOND, SECOND_PW = "mo", "harbour-thistle-cobalt-92"


def _perpetrators_request(store: StoreCopy) -> str:
    world = build_world(store)
    with signed_in(store, ADMIN) as s:
        accounts.add_user(s, SECOND, SECOND_PW, frozenset({Role.MANAGER}), must_change=False)
    with signed_in(store, MANAGER) as s:
        request = rights.create_request(
            s,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="The data subject",
                received_on=TODAY - dt.timedelta(days=3),
                subject_person_id=world.darren,
                identity_confirmed_on=TODAY - dt.timedelta(days=2),
            ),
        )
    return request.reference


def _open_pack(qtbot: QtBot, main: MainWindow, reference: str) -> PackDialog:
    page = main.sar_page
    main.show_area(page)
    wait_calls(qtbot, main)
    assert page.select_reference(reference)
    qtbot.mouseClick(page.prepare_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, PackDialog)
    wait_calls(qtbot, main)
    assert dialog.pack is not None and dialog.pack.perpetrator
    return dialog


def _sign_off_dialog(qtbot: QtBot, main: MainWindow, pack: PackDialog) -> SignOffDialog:
    qtbot.mouseClick(pack.sign_off_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    signing = pack.dialog
    assert isinstance(signing, SignOffDialog) and signing.isVisible()
    return signing


def test_export_says_needs_sign_off_before_any_folder_is_asked_for(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    reference = _perpetrators_request(store)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    pack = _open_pack(qtbot, main, reference)
    asked: list[str] = []
    pack.choose_folder = lambda: asked.append("folder") or ""
    pack.choose_pdf_file = lambda _s: asked.append("pdf") or ""
    pack.ask_printer = lambda _printer, _parent: asked.append("printer") or False
    qtbot.mouseClick(pack.export_button, Qt.MouseButton.LeftButton)
    assert asked == []
    assert pack.status_label.text().startswith("Needs sign-off:")
    qtbot.mouseClick(pack.print_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(pack.save_pdf_button, Qt.MouseButton.LeftButton)
    assert asked == []


def test_the_preparer_signs_alone_only_with_a_note_and_the_reason(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    reference = _perpetrators_request(store)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    pack = _open_pack(qtbot, main, reference)  # she builds the pack first: she prepared it
    assert pack.pack is not None
    digest = pack.pack.digest
    signing = _sign_off_dialog(qtbot, main, pack)

    # What is being signed is on screen before anything is signed.
    shown = texts_on_screen()
    assert reference in shown and "Darren" in shown and digest in shown
    entries = sum(len(section.entries) for section in pack.pack.sections)
    assert f"{entries:,}" in shown
    assert "You prepared this pack" in shown

    qtbot.mouseClick(signing.save_button, Qt.MouseButton.LeftButton)
    assert signing.problem_label.text().startswith("Add a note")
    qtbot.keyClicks(signing.note_field, "Checked every redaction")
    qtbot.mouseClick(signing.save_button, Qt.MouseButton.LeftButton)
    assert "say why no other manager" in signing.problem_label.text()
    assert signing.isVisible() and not pack.pack.signed_off
    qtbot.keyClicks(signing.reason_field, "The only other manager is on leave")
    qtbot.mouseClick(signing.save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert pack.pack is not None and pack.pack.signed_off


def test_another_manager_signs_without_a_reason(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    reference = _perpetrators_request(store)
    app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    _open_pack(qtbot, main, reference).reject()  # the first manager prepares the pack
    app.sign_out()
    assert app.sign_in_window is not None
    app.shutdown()

    _app2, other = open_main(qtbot, make_app, store, SECOND, SECOND_PW)
    pack = _open_pack(qtbot, other, reference)
    signing = _sign_off_dialog(qtbot, other, pack)
    assert not signing.facts.you_prepared
    assert not signing.reason_field.isVisible()
    assert signing.facts.prepared_by == (MANAGER,) and MANAGER in texts_on_screen()
    qtbot.keyClicks(signing.note_field, "Second pair of eyes: checked")
    qtbot.mouseClick(signing.save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, other)
    assert pack.pack is not None and pack.pack.signed_off


def test_a_sign_off_being_written_comes_back_after_a_lock(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    reference = _perpetrators_request(store)
    app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    signing = _sign_off_dialog(qtbot, main, _open_pack(qtbot, main, reference))
    qtbot.keyClicks(signing.note_field, "Checked every redaction")
    qtbot.keyClicks(signing.reason_field, "The only other manager is on leave")
    lock_with_ctrl_l(qtbot, app)
    main = sign_in_again(qtbot, app, MANAGER, MANAGER_PW)
    page = main.sar_page

    def signing_again() -> SignOffDialog | None:
        pack = page.dialog
        found = pack.dialog if isinstance(pack, PackDialog) else None
        return found if isinstance(found, SignOffDialog) and found.isVisible() else None

    qtbot.waitUntil(lambda: signing_again() is not None)
    again = signing_again()
    assert again is not None and again.facts.reference == reference
    assert again.note_field.toPlainText() == "Checked every redaction"
    assert again.reason_field.toPlainText() == "The only other manager is on leave"
    qtbot.mouseClick(again.save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    pack = page.dialog
    assert isinstance(pack, PackDialog) and pack.pack is not None and pack.pack.signed_off
