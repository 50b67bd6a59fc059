"""Backups restore on another machine with the recovery key alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.crypto.device import DeviceSecrets
from app.errors import DamagedStore, WrongRecoveryKey
from app.models import settings
from app.models.db import transaction
from app.services import accounts, audit, backup
from tests.helpers import ADMIN, ADMIN_PW, CASEWORKER, MemoryKeyring, StoreCopy

TABLES = {
    "users": "SELECT id, username, roles, disabled, created_at FROM users ORDER BY id",
    "settings": "SELECT key, value FROM settings WHERE key != 'audit_head' ORDER BY key",
    "audit": "SELECT * FROM audit ORDER BY id",
}


def _rows(conn: object) -> dict[str, list[tuple[object, ...]]]:
    return {name: list(conn.execute(sql).fetchall()) for name, sql in TABLES.items()}  # type: ignore[attr-defined]


def test_backup_then_restore_on_a_new_machine_round_trips_every_row(
    store: StoreCopy, tmp_path: Path
) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    with transaction(session.conn):
        for i in range(500):
            settings.put(session.conn, f"synthetic-{i}", "x" * (i % 50))
    before = _rows(session.conn)
    out = tmp_path / "backups" / "nightly.safecase-backup"
    out.parent.mkdir()
    backup.backup(session, out)
    accounts.sign_out(session)
    assert b"synthetic-1" not in out.read_bytes()

    new_machine = MemoryKeyring()  # a fresh keyring: no device secret yet
    restored, waiting = accounts.restore(
        out,
        tmp_path / "laptop" / "cases.safecase",
        store.recovery_key,
        admin_name=ADMIN,
        new_password="new-laptop-cobalt-ridge",
        device=DeviceSecrets(new_machine),
    )
    assert waiting == 4  # the other users need a reset before signing in here
    after = _rows(restored.conn)
    assert after["users"] == before["users"]
    assert after["settings"] == before["settings"]
    assert after["audit"][: len(before["audit"])] == before["audit"]
    assert [e.action for e in audit.recent(restored, 2)] == [audit.STORE_RESTORED, audit.SIGN_IN]
    assert audit.check_chain(restored.conn).ok
    accounts.sign_out(restored)

    again = accounts.sign_in(
        tmp_path / "laptop" / "cases.safecase",
        ADMIN,
        "new-laptop-cobalt-ridge",
        device=DeviceSecrets(new_machine),
    )
    accounts.reset_password(again, CASEWORKER, "temporary-otter-quill-58")
    accounts.sign_out(again)


def test_restore_refuses_a_wrong_recovery_key_and_leaves_nothing(
    store: StoreCopy, tmp_path: Path
) -> None:
    from app.crypto.recovery import format_recovery_key, new_recovery_key

    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    backup.backup(session, tmp_path / "b.backup")
    accounts.sign_out(session)
    target = tmp_path / "restored" / "cases.safecase"
    target.parent.mkdir()
    with pytest.raises(WrongRecoveryKey):
        accounts.restore(
            tmp_path / "b.backup",
            target,
            format_recovery_key(new_recovery_key()),
            admin_name=ADMIN,
            new_password="new-laptop-cobalt-ridge",
            device=DeviceSecrets(MemoryKeyring()),
        )
    assert list(target.parent.iterdir()) == []


def test_a_damaged_backup_is_refused(store: StoreCopy, tmp_path: Path) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    backup.backup(session, tmp_path / "b.backup")
    accounts.sign_out(session)
    raw = bytearray((tmp_path / "b.backup").read_bytes())
    raw[-3000] ^= 0x01
    (tmp_path / "b.backup").write_bytes(bytes(raw))
    target = tmp_path / "restored" / "cases.safecase"
    target.parent.mkdir()
    with pytest.raises(DamagedStore):
        accounts.restore(
            tmp_path / "b.backup",
            target,
            store.recovery_key,
            admin_name=ADMIN,
            new_password="new-laptop-cobalt-ridge",
            device=DeviceSecrets(MemoryKeyring()),
        )
    assert list(target.parent.iterdir()) == []


def test_recover_on_a_new_laptop_sets_a_new_password(store: StoreCopy) -> None:
    store.keyring.values.clear()  # the old laptop's keyring is gone
    session = accounts.recover(
        store.path,
        store.recovery_key,
        admin_name=ADMIN,
        new_password="new-laptop-cobalt-ridge",
        device=DeviceSecrets(store.keyring),
    )
    accounts.sign_out(session)
    again = accounts.sign_in(
        store.path, ADMIN, "new-laptop-cobalt-ridge", device=DeviceSecrets(store.keyring)
    )
    accounts.sign_out(again)


def test_a_backup_folder_keeps_the_newest_generations(store: StoreCopy, tmp_path: Path) -> None:
    import datetime as dt

    folder = tmp_path / "generations"
    folder.mkdir()
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    start = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
    for day in range(5):
        backup.backup_to_folder(session, folder, keep=3, now=start + dt.timedelta(days=day))
    accounts.sign_out(session)
    names = [p.name for p in backup.generations(folder)]
    assert names == [
        "safecase-20261103-020000.backup",
        "safecase-20261104-020000.backup",
        "safecase-20261105-020000.backup",
    ]
    assert sorted(p.name for p in folder.iterdir()) == names  # no temporary files left
