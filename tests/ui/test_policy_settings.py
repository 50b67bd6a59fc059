"""Settings the organisation fixed are shown as such and cannot be changed in the app."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.errors import KeyringUnavailable
from app.services.session import Session
from app.ui.first_run import FirstRunWindow
from app.ui.store_calls import StoreCalls
from app.ui.users_page import UsersPage
from tests.helpers import TEST_KDF
from tests.test_policy import set_policy


def test_the_settings_page_shows_what_the_organisation_fixed(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, admin_session: Session
) -> None:
    set_policy(monkeypatch, tmp_path, {"idle_lock_minutes": 4, "team_server": "sc.example.org"})
    calls = StoreCalls(admin_session)
    page = UsersPage(calls, admin_session)
    qtbot.addWidget(page)
    page.show()
    assert not page.idle_field.isEnabled()
    assert not page.idle_save_button.isEnabled()
    assert page.policy_label.isVisible()
    assert page.policy_label.text() == "Set by your organisation: team's server, idle lock."
    calls.close()


def test_first_run_offers_no_password_only_store_where_it_is_forbidden(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    set_policy(monkeypatch, tmp_path, {"allow_password_only": False})
    window = FirstRunWindow(tmp_path / "cases.safecase", kdf=TEST_KDF)
    qtbot.addWidget(window)
    window.show()
    window._failed(KeyringUnavailable())
    assert not window.password_only_box.isVisible()
    assert "your organisation does not allow password-only stores" in (window.problem_label.text())
