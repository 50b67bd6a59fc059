"""The encrypted store on disk: nothing readable, each kind of damage its own clear error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.crypto import vault as vaultlib
from app.crypto.connection import connect
from app.crypto.slots import SlotFile
from app.crypto.vault import keys_path
from app.errors import (
    DamagedStore,
    MissingDeviceSecret,
    NewerStore,
    RecoveryKeyMistyped,
    StoreExists,
    StoreLocked,
    WrongPassword,
    WrongRecoveryKey,
)
from app.models import settings
from app.models.db import transaction
from app.models.users import Role
from app.services import accounts
from tests.helpers import ADMIN, ADMIN_PW, CASEWORKER, CASEWORKER_PW, TEST_KDF, StoreCopy

PAGE = 4096
SENTINEL = "ZEBRA-SENTINEL-4471"


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_no_plaintext_reaches_any_file_in_the_data_folder(store: StoreCopy) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))
    accounts.add_user(session, "zebra-worker", "ivory-canal-sorrel-61", frozenset({Role.DPO}))
    with transaction(session.conn):
        for i in range(200):
            settings.put(session.conn, f"note-{i}", f"{SENTINEL} safe number 07700 900{i:03d}")
    # While open, the WAL holds the newest pages: check it too.
    files = [p for p in store.path.parent.iterdir() if p.is_file()]
    assert any(p.name.endswith("-wal") for p in files)
    for path in files:
        raw = path.read_bytes()
        assert SENTINEL.encode() not in raw, path.name
        assert b"07700 900" not in raw, path.name
        assert b"zebra-worker" not in raw, path.name
    assert not store.path.read_bytes().startswith(b"SQLite format 3")
    accounts.sign_out(session)
    for path in store.path.parent.iterdir():
        assert SENTINEL.encode() not in path.read_bytes(), path.name


def _device(store: StoreCopy):  # type: ignore[no-untyped-def]
    from app.crypto.device import DeviceSecrets

    return DeviceSecrets(store.keyring)


def test_wrong_password_is_refused_and_the_store_still_opens(store: StoreCopy) -> None:
    with pytest.raises(WrongPassword):
        accounts.sign_in(store.path, ADMIN, "not-the-password-at-all", device=_device(store))
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))
    assert session.username == ADMIN
    accounts.sign_out(session)


def test_unknown_username_gives_the_same_error_as_a_wrong_password(store: StoreCopy) -> None:
    with pytest.raises(WrongPassword) as caught:
        accounts.sign_in(store.path, "nobody-here", ADMIN_PW, device=_device(store))
    assert "username or password" in str(caught.value)


def test_missing_device_secret_is_its_own_error(store: StoreCopy) -> None:
    store.keyring.values.clear()
    with pytest.raises(MissingDeviceSecret) as caught:
        accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))
    assert "recovery key" in str(caught.value)
    # Opening never makes a new device secret for an existing slot.
    assert store.keyring.values == {}


@pytest.mark.parametrize("page", [1, 3])
def test_a_flipped_byte_is_reported_as_damage_not_a_wrong_password(
    store: StoreCopy, page: int
) -> None:
    _flip(store.path, (page - 1) * PAGE + 100)
    with pytest.raises(DamagedStore) as caught:
        accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))
    assert "backup" in str(caught.value)


def test_a_truncated_store_is_reported_as_damage(store: StoreCopy) -> None:
    raw = store.path.read_bytes()
    store.path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DamagedStore):
        accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))


def test_a_damaged_key_file_is_reported_as_damage(store: StoreCopy) -> None:
    keys_path(store.path).write_text("{ not json")
    with pytest.raises(DamagedStore) as caught:
        accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))
    assert "key file" in str(caught.value)


def test_an_edited_slot_does_not_open(store: StoreCopy) -> None:
    slots = SlotFile.load(keys_path(store.path))
    slot = slots.find_user(ADMIN)
    assert slot is not None
    slot.must_change = True  # bound into the ciphertext, so the edit breaks the slot
    slots.save(keys_path(store.path))
    with pytest.raises(WrongPassword):
        accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))


def test_a_store_from_a_newer_version_is_refused(store: StoreCopy) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))
    session.conn.execute("PRAGMA user_version = 999")
    accounts.sign_out(session)
    with pytest.raises(NewerStore) as caught:
        accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))
    assert "newer version" in str(caught.value)
    # Nothing was changed: the version is still the newer one.
    v = vaultlib.open_with_recovery(store.path, store.recovery_key, device=None)
    assert v.conn.execute("PRAGMA user_version").fetchone()[0] == 999
    v.close()


def test_a_second_copy_cannot_open_an_open_store(store: StoreCopy) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))
    with pytest.raises(StoreLocked):
        accounts.sign_in(store.path, CASEWORKER, CASEWORKER_PW, device=_device(store))
    accounts.sign_out(session)
    again = accounts.sign_in(store.path, CASEWORKER, CASEWORKER_PW, device=_device(store))
    accounts.sign_out(again)


def test_init_refuses_to_overwrite_a_store(store: StoreCopy) -> None:
    before = store.path.read_bytes()
    with pytest.raises(StoreExists):
        accounts.create_store(
            store.path,
            service_name="Other",
            admin_name="other-admin",
            password="fresh-pebble-orchard-52",
            device=_device(store),
            kdf=TEST_KDF,
        )
    assert store.path.read_bytes() == before


def test_recovery_key_opens_the_store_without_the_device_secret(store: StoreCopy) -> None:
    store.keyring.values.clear()
    v = vaultlib.open_with_recovery(store.path, store.recovery_key, device=None)
    assert settings.get(v.conn, settings.SERVICE_NAME) == "Northfield IDVA"
    v.close()


def test_recovery_key_is_forgiving_of_case_and_spacing(store: StoreCopy) -> None:
    typed = store.recovery_key.lower().replace("-", " ")
    v = vaultlib.open_with_recovery(store.path, typed, device=None)
    v.close()


def test_a_mistyped_recovery_group_is_named(store: StoreCopy) -> None:
    groups = store.recovery_key.split("-")
    wrong = groups[4][0]
    groups[4] = ("X" if wrong != "X" else "Y") + groups[4][1:]
    with pytest.raises(RecoveryKeyMistyped) as caught:
        vaultlib.open_with_recovery(store.path, "-".join(groups), device=None)
    assert "Group 5" in str(caught.value)


def test_another_stores_recovery_key_is_refused(store: StoreCopy, tmp_path: Path) -> None:
    from app.crypto.recovery import format_recovery_key, new_recovery_key

    with pytest.raises(WrongRecoveryKey):
        vaultlib.open_with_recovery(
            store.path, format_recovery_key(new_recovery_key()), device=None
        )


def test_rotation_retires_the_old_data_key(store: StoreCopy) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))
    old_key = bytes(session.vault._payload.data_key)
    accounts.rotate_keys(session)
    accounts.sign_out(session)
    with pytest.raises(DamagedStore):
        connect(store.path, old_key)


def test_a_rotation_stopped_before_the_slot_swap_still_opens(
    store: StoreCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))
    old_key = bytes(session.vault._payload.data_key)
    real_set_raw_key = vaultlib.set_raw_key

    def rekey_then_lose_power(conn: object, key: bytearray, *, rekey: bool = False) -> None:
        real_set_raw_key(conn, key, rekey=rekey)  # type: ignore[arg-type]
        if rekey:
            raise KeyboardInterrupt  # power lost between the rekey and the swap

    monkeypatch.setattr(vaultlib, "set_raw_key", rekey_then_lose_power)
    with pytest.raises(KeyboardInterrupt):
        accounts.rotate_keys(session)
    monkeypatch.setattr(vaultlib, "set_raw_key", real_set_raw_key)
    session.vault.close()
    assert vaultlib._pending_path(store.path).exists()
    with pytest.raises(DamagedStore):
        connect(store.path, old_key)  # the rekey did happen
    again = accounts.sign_in(store.path, CASEWORKER, CASEWORKER_PW, device=_device(store))
    accounts.sign_out(again)
    assert not vaultlib._pending_path(store.path).exists()


def test_copying_the_store_elsewhere_needs_the_device_secret(
    store: StoreCopy, tmp_path: Path
) -> None:
    other = tmp_path / "stolen"
    other.mkdir()
    shutil.copyfile(store.path, other / store.path.name)
    shutil.copyfile(keys_path(store.path), keys_path(other / store.path.name))
    from app.crypto.device import DeviceSecrets
    from tests.helpers import MemoryKeyring

    with pytest.raises(MissingDeviceSecret):
        accounts.sign_in(
            other / store.path.name, ADMIN, ADMIN_PW, device=DeviceSecrets(MemoryKeyring())
        )
