"""The settings an organisation fixes: read from policy.json (or HKLM on Windows), used by
the app, and shown as set by the organisation."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from app import cli, policy
from app.crypto.device import DeviceSecrets
from app.errors import PermissionDenied
from app.services import accounts
from app.ui import app as ui_app
from tests.helpers import ADMIN, ADMIN_PW, SERVICE, TEST_KDF, StoreCopy


def set_policy(monkeypatch: pytest.MonkeyPatch, folder: Path, values: object) -> Path:
    path = folder / "policy.json"
    path.write_text(json.dumps(values), encoding="utf-8")
    path.chmod(0o444)
    monkeypatch.setenv(policy.POLICY_ENV, str(path))
    return path


def test_no_policy_fixes_nothing() -> None:
    assert policy.load().fixed() == []


def test_every_key_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    set_policy(
        monkeypatch,
        tmp_path,
        {
            "store_path": str(tmp_path / "team" / "cases.safecase"),
            "team_folder": str(tmp_path / "team"),
            "team_server": "safecase.example.org",
            "idle_lock_minutes": 3,
            "allow_password_only": False,
        },
    )
    found = policy.load()
    assert found.store_path == tmp_path / "team" / "cases.safecase"
    assert found.team_folder == tmp_path / "team"
    assert found.team_server == "safecase.example.org"
    assert found.idle_lock_minutes == 3
    assert found.allow_password_only is False
    assert found.fixed_labels() == [
        "store location",
        "team's shared folder",
        "team's server",
        "idle lock",
        "password-only stores",
    ]


def test_the_file_beside_the_bundle_is_found(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "policy.json").write_text('{"idle_lock_minutes": 7}', encoding="utf-8")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "safecase"))
    assert policy.load().idle_lock_minutes == 7


@pytest.mark.parametrize(
    ("values", "sentence"),
    [
        ({"idle_lock_minutes": 0}, "'idle_lock_minutes' in policy.json is not a whole number"),
        ({"idle_lock_minutes": "5"}, "'idle_lock_minutes' in policy.json is not a whole number"),
        ({"allow_password_only": "no"}, "'allow_password_only' in policy.json is not true or"),
        ({"store_path": ""}, "'store_path' in policy.json is not a folder or file path"),
        ({"team_server": 5}, "'team_server' in policy.json is not a server address"),
        ({"idle_lock_minuets": 5}, "a key Safecase does not know ('idle_lock_minuets')"),
        (["idle_lock_minutes"], "are not a set of keys"),
    ],
)
def test_a_wrong_value_stops_safecase_with_a_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, values: object, sentence: str
) -> None:
    set_policy(monkeypatch, tmp_path, values)
    err = io.StringIO()
    code = cli.run([], cli.Context(stdout=io.StringIO(), stderr=err))
    assert code == 1
    assert sentence in err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_an_unreadable_policy_file_stops_safecase(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "policy.json"
    path.write_text("{not json", encoding="utf-8")
    monkeypatch.setenv(policy.POLICY_ENV, str(path))
    err = io.StringIO()
    assert cli.run([], cli.Context(stdout=io.StringIO(), stderr=err)) == 1
    assert err.getvalue() == (
        "safecase: The organisation's settings file policy.json cannot be read; "
        "ask your IT department.\n"
    )


def test_the_desktop_app_opens_the_store_the_organisation_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fixed = tmp_path / "shared" / "cases.safecase"
    set_policy(monkeypatch, tmp_path, {"store_path": str(fixed)})
    opened: list[Path] = []
    monkeypatch.setattr(
        ui_app,
        "run_app",
        lambda store, **_kw: opened.append(store) or 0,  # type: ignore[func-returns-value]
    )
    assert cli.run(["--store", str(tmp_path / "other.safecase")]) == 0
    assert opened == [fixed]


def test_the_idle_lock_is_the_organisations_and_cannot_be_changed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: StoreCopy
) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    try:
        accounts.set_idle_lock_minutes(session, 20)
        set_policy(monkeypatch, tmp_path, {"idle_lock_minutes": 2})
        assert accounts.idle_lock_minutes(session) == 2
        with pytest.raises(PermissionDenied, match="Your organisation sets the idle lock"):
            accounts.set_idle_lock_minutes(session, 30)
    finally:
        accounts.sign_out(session)


def test_password_only_stores_are_refused_where_the_organisation_forbids_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    set_policy(monkeypatch, tmp_path, {"allow_password_only": False})
    err = io.StringIO()
    code = cli.run(
        ["init", "--store", str(tmp_path / "new.safecase"), "--admin", ADMIN, "--password-only"],
        cli.Context(stdin=io.StringIO(ADMIN_PW + "\n"), stdout=io.StringIO(), stderr=err),
    )
    assert code == 1
    assert "Your organisation does not allow password-only stores" in err.getvalue()
    assert not (tmp_path / "new.safecase").exists()
    # Allowed explicitly, the same store can be made.
    (tmp_path / "allowed").mkdir()
    set_policy(monkeypatch, tmp_path / "allowed", {"allow_password_only": True})
    session, _ = accounts.create_store(
        tmp_path / "new.safecase",
        service_name=SERVICE,
        admin_name=ADMIN,
        password=ADMIN_PW,
        device=None,
        kdf=TEST_KDF,
    )
    accounts.sign_out(session)
