"""'Join a team' in the first run: the invitation file, the passphrase read out by the admin,
the user's own password; a refused invitation says one sentence and makes no store."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.crypto.device import DeviceSecrets
from app.services import accounts
from app.services import team as team_service
from app.services.session import Session
from app.ui.first_run import JOIN_PAGE, FirstRunWindow
from tests.helpers import ADMIN, CASEWORKER, TEST_KDF, MemoryKeyring, StoreCopy
from tests.services.casework import signed_in

PASSWORD = "amber-falcon-ribbon-64"


def _invitation(store: StoreCopy, tmp_path: Path) -> tuple[Path, str]:
    shared = tmp_path / "shared"
    shared.mkdir()
    invitation = tmp_path / "cole.invitation"
    with signed_in(store, ADMIN) as admin:
        team_service.create_team(admin, shared)
        passphrase = team_service.invite(admin, CASEWORKER, invitation, params=TEST_KDF)
    return invitation, passphrase


def _fill(qtbot: QtBot, window: FirstRunWindow, invitation: Path, passphrase: str) -> None:
    for field in (window.invitation_field, window.passphrase_field):
        field.clear()
    qtbot.keyClicks(window.invitation_field, str(invitation))
    qtbot.keyClicks(window.passphrase_field, passphrase)
    if not window.join_password_field.text():
        qtbot.keyClicks(window.join_password_field, PASSWORD)
        qtbot.keyClicks(window.join_confirm_field, PASSWORD)


def _window(qtbot: QtBot, tmp_path: Path, keyring: MemoryKeyring) -> FirstRunWindow:
    window = FirstRunWindow(
        tmp_path / "laptop" / "cases.safecase",
        kdf=TEST_KDF,
        device_factory=lambda: DeviceSecrets(keyring),
    )
    (tmp_path / "laptop").mkdir()
    qtbot.addWidget(window)
    window.show()
    qtbot.mouseClick(window.join_button, Qt.MouseButton.LeftButton)
    assert window.pages.currentIndex() == JOIN_PAGE
    return window


def test_join_a_team_makes_the_invited_users_store_and_shows_its_recovery_key(
    qtbot: QtBot, store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    invitation, passphrase = _invitation(store, tmp_path)
    window = _window(qtbot, tmp_path, keyring)
    joined: list[Session] = []
    window.store_created.connect(joined.append)
    _fill(qtbot, window, invitation, passphrase)
    with qtbot.waitSignal(window.store_created, timeout=5000):
        qtbot.mouseClick(window.join_team_button, Qt.MouseButton.LeftButton)
    try:
        [session] = joined
        assert session.username == CASEWORKER
        assert team_service.status(session).joined
    finally:
        accounts.sign_out(session)
    assert window.showing_key and len(window.key_label.text().split()) == 13
    assert not window.audit_key_label.isVisible()
    # The new laptop's user signs in with the password they chose.
    again = accounts.sign_in(
        tmp_path / "laptop" / "cases.safecase", CASEWORKER, PASSWORD, device=DeviceSecrets(keyring)
    )
    accounts.sign_out(again)


def test_a_wrong_passphrase_or_a_damaged_invitation_says_so_and_makes_no_store(
    qtbot: QtBot, store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    invitation, passphrase = _invitation(store, tmp_path)
    window = _window(qtbot, tmp_path, keyring)
    _fill(qtbot, window, invitation, passphrase + "x")
    qtbot.mouseClick(window.join_team_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.busy, timeout=5000)
    assert window.join_problem_label.text() == (
        "The invitation does not open with that passphrase. Check it with your admin, or ask "
        "for a new invitation."
    )
    assert not (tmp_path / "laptop" / "cases.safecase").exists()
    assert window.join_password_field.text() == PASSWORD  # nothing typed is lost

    damaged = tmp_path / "damaged.invitation"
    damaged.write_bytes(invitation.read_bytes()[:40])
    _fill(qtbot, window, damaged, passphrase)
    qtbot.keyClick(window.passphrase_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.busy, timeout=5000)
    assert window.join_problem_label.text() == (
        "The invitation file is damaged; ask your admin for a new one."
    )
    assert list((tmp_path / "laptop").iterdir()) == []

    # The right passphrase still works afterwards.
    _fill(qtbot, window, invitation, passphrase)
    joined: list[Session] = []
    window.store_created.connect(joined.append)
    with qtbot.waitSignal(window.store_created, timeout=5000):
        qtbot.mouseClick(window.join_team_button, Qt.MouseButton.LeftButton)
    for session in joined:
        accounts.sign_out(session)
