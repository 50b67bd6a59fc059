"""The encrypted store on disk: nothing readable, each kind of damage its own clear error."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest
import sqlcipher3

from app.crypto import vault as vaultlib
from app.crypto.connection import connect, integrity_errors
from app.crypto.slots import SlotFile
from app.crypto.vault import keys_path
from app.errors import (
    DamagedStore,
    DiskFull,
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
from app.models.records import NoteKind
from app.models.users import Role
from app.services import accounts, audit, notes, search
from tests import crashes
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER_PW,
    MANAGER,
    TEST_KDF,
    StoreCopy,
)
from tests.services.casework import new_case, person, signed_in

PAGE = 4096
NOW = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
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

    def lose_power(folder: Path) -> None:
        raise KeyboardInterrupt  # power lost after the new copy replaced the store

    monkeypatch.setattr(vaultlib, "fsync_dir", lose_power)
    with pytest.raises(KeyboardInterrupt):
        accounts.rotate_keys(session)
    monkeypatch.undo()
    session.vault.close()
    assert vaultlib._pending_path(store.path).exists()
    with pytest.raises(DamagedStore):
        connect(store.path, old_key)  # the new copy is in place
    again = accounts.sign_in(store.path, CASEWORKER, CASEWORKER_PW, device=_device(store))
    accounts.sign_out(again)
    assert not vaultlib._pending_path(store.path).exists()


# -- rotation under faults ----------------------------------------------------------------------

FILLER = 600


class Usage(NamedTuple):
    total: int
    used: int
    free: int


def _fill(store: StoreCopy) -> None:
    """About 600 KiB of settings rows, so that a copy of the store is worth a full disk."""
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))
    with transaction(session.conn):
        for i in range(FILLER):
            settings.put(session.conn, f"filler-{i}", f"{SENTINEL} {i:04d} " + "x" * 900)
    accounts.sign_out(session)


def _still_whole(store: StoreCopy) -> None:
    """The store opens with the password and with the recovery key, its rows all there, and
    no half-made copy or pending slot file is left beside it."""
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))
    rows = session.conn.execute(
        "SELECT count(*) FROM settings WHERE key LIKE 'filler-%'"
    ).fetchone()[0]
    assert rows == FILLER
    assert settings.get(session.conn, f"filler-{FILLER - 1}") is not None
    assert integrity_errors(session.conn) == []
    accounts.sign_out(session)
    v = vaultlib.open_with_recovery(store.path, store.recovery_key, device=None)
    assert settings.get(v.conn, "filler-0").startswith(SENTINEL)  # type: ignore[union-attr]
    v.close()
    leftovers = {p.name for p in store.path.parent.iterdir()} - {
        store.path.name,
        keys_path(store.path).name,
        store.path.name + ".lock",
        store.path.name + ".anchor",
    }
    assert leftovers == set()


@crashes.posix_only
def test_a_disk_that_fills_during_rotation_leaves_the_store_as_it_was(store: StoreCopy) -> None:
    _fill(store)
    size = store.path.stat().st_size
    assert size > 700_000
    # No file may grow past half the store: the disk fills half-way through the new copy.
    done = crashes.run(store, ADMIN, ADMIN_PW, "rotate", file_size_limit=size // 2)
    _still_whole(store)
    assert done.returncode == 1, done.stderr
    # A file-size limit fails a write as an I/O error, not as SQLITE_FULL: the sentence for
    # both names a full disk.
    assert "full" in done.stdout and len(done.stdout.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_rotation_refuses_before_it_starts_when_the_disk_has_no_room(
    store: StoreCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(store)
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=_device(store))
    session.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    before = store.path.read_bytes()
    slots_before = keys_path(store.path).read_bytes()
    free = store.path.stat().st_size // 2
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: Usage(10**9, 10**9 - free, free))
    with pytest.raises(DiskFull) as caught:
        accounts.rotate_keys(session)
    assert "free disk space" in str(caught.value) and "nothing was changed" in str(caught.value)
    # Refused before anything was written: the store's bytes and its slot file are as they were.
    assert store.path.read_bytes() == before
    assert keys_path(store.path).read_bytes() == slots_before
    assert settings.get(session.conn, "filler-1") is not None  # and it is still open
    accounts.sign_out(session)
    monkeypatch.undo()
    _still_whole(store)


@crashes.posix_only
def test_a_rotation_killed_before_its_copy_is_in_place_still_opens(store: StoreCopy) -> None:
    _fill(store)
    done = crashes.run(store, ADMIN, ADMIN_PW, "rotate", die="before-swap")
    assert done.returncode == 9, done.stderr
    # The crash left the new copy and the pending slot file beside the store.
    assert vaultlib._rekey_path(store.path).exists()
    assert vaultlib._pending_path(store.path).exists()
    _still_whole(store)


def test_a_rotated_store_keeps_its_search_index_and_schema_version(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        case_id, _client = new_case(session, person("Quillon", "Marrowby"))
        notes.add_note(session, case_id, NoteKind.NOTE, "At the Zephyrine library", NOW)
        version = session.conn.execute("PRAGMA user_version").fetchone()[0]
    with signed_in(store, ADMIN) as session:
        old_size = store.path.stat().st_size
        accounts.rotate_keys(session)
        assert session.conn.execute("PRAGMA user_version").fetchone()[0] == version
        assert store.path.stat().st_size <= old_size
    with signed_in(store, MANAGER) as session:
        assert [h.case.id for h in search.search(session, "zephyrine")] == [case_id]
        assert [h.case.id for h in search.search(session, "quillon")] == [case_id]
        notes.add_note(session, case_id, NoteKind.NOTE, "Second visit, Yarrowfield", NOW)
        assert [h.case.id for h in search.search(session, "yarrowfield")] == [case_id]
        assert audit.check_chain(session.conn).ok
        # The triggers that keep the trail append-only came across too.
        with pytest.raises(sqlcipher3.DatabaseError):
            session.conn.execute("UPDATE audit SET detail = 'rewritten'")


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
