"""A newer Safecase over an older store: a backup first, then the update, and a way back."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from app import cli
from app.crypto.connection import Connection
from app.crypto.device import DeviceSecrets
from app.errors import NewerStore, SafecaseError
from app.models import schema
from app.services import accounts
from app.services import backup as backup_service
from tests.helpers import ADMIN, ADMIN_PW, CASEWORKER, CASEWORKER_PW, StoreCopy

OLD = schema.SCHEMA_VERSION
NEW = OLD + 1


@pytest.fixture
def newer_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """This Safecase has one schema step more than the store was left at."""

    def step(conn: Connection) -> None:
        conn.execute("CREATE TABLE added_by_update (x INTEGER)")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, step])
    monkeypatch.setattr(backup_service, "SCHEMA_VERSION", NEW, raising=False)


def test_an_admin_sign_in_backs_up_before_the_update_and_the_backup_rolls_back(
    store: StoreCopy, newer_code: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    keys_before = (store.path.parent / (store.path.name + ".keys")).read_bytes()
    device = DeviceSecrets(store.keyring)
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=device)
    try:
        taken = session.backup_before_update
        assert taken is not None
        assert taken.parent == store.path.parent / "backups"
        assert taken.name.startswith(f"before-update-v{OLD}-to-v{NEW}-")
        assert schema.version(session.conn) == NEW
        assert taken in backup_service.known_backups(session)
    finally:
        accounts.sign_out(session)
    # The key file is the one the old version wrote (no slot was rewritten by the update).
    assert (store.path.parent / (store.path.name + ".keys")).read_bytes() == keys_before
    # Roll back: the previous Safecase restores that backup with the recovery key.
    monkeypatch.undo()
    restored = accounts.restore_store(
        taken,
        tmp_path / "rolled-back" / "cases.safecase",
        store.recovery_key,
        admin_name=ADMIN,
        new_password=ADMIN_PW,
        device=device,
    )
    try:
        assert schema.version(restored.session.conn) == OLD
        tables = {r[0] for r in restored.session.conn.execute("SELECT name FROM sqlite_master")}
        assert "added_by_update" not in tables
    finally:
        accounts.sign_out(restored.session)


def test_a_second_sign_in_takes_no_second_backup(store: StoreCopy, newer_code: None) -> None:
    device = DeviceSecrets(store.keyring)
    accounts.sign_out(accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=device))
    again = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=device)
    accounts.sign_out(again)
    assert again.backup_before_update is None
    assert len(list((store.path.parent / "backups").iterdir())) == 1


def test_a_caseworker_cannot_start_the_update_and_nothing_changes(
    store: StoreCopy, newer_code: None
) -> None:
    with pytest.raises(SafecaseError, match="Ask an admin to sign in once; nothing was changed"):
        accounts.sign_in(store.path, CASEWORKER, CASEWORKER_PW, device=DeviceSecrets(store.keyring))
    assert not (store.path.parent / "backups").exists()
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    assert session.backup_before_update is not None  # the store was still at the old version
    accounts.sign_out(session)


def test_the_command_line_says_where_the_backup_is(store: StoreCopy, newer_code: None) -> None:
    err = io.StringIO()
    ctx = cli.Context(
        stdin=io.StringIO(ADMIN_PW + "\n"),
        stdout=io.StringIO(),
        stderr=err,
        device=lambda: DeviceSecrets(store.keyring),
    )
    code = cli.run(["user", "list", "--store", str(store.path), "--user", ADMIN], ctx)
    assert code == 0
    assert "This store was updated for this version of Safecase; a backup taken just" in (
        err.getvalue()
    )
    assert str(store.path.parent / "backups") in err.getvalue()


def test_a_store_newer_than_this_safecase_is_refused_untouched(store: StoreCopy) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    session.conn.execute(f"PRAGMA user_version = {NEW:d}")
    accounts.sign_out(session)
    before = store.path.read_bytes()
    with pytest.raises(NewerStore, match="made by a newer version of Safecase"):
        accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    assert store.path.read_bytes() == before
    assert not (store.path.parent / "backups").exists()
