"""The audit trail holds against someone who holds the data key: forward-secure seals, the
anchor beside the store, backups' and the DPO's records of it, and a check that writes nothing
before it has looked."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from app.crypto import anchor, sealing
from app.crypto import vault as vaultlib
from app.crypto.connection import Connection
from app.crypto.device import DeviceSecrets
from app.errors import DamagedStore, PermissionDenied, TrailTampered
from app.models import audit as audit_model
from app.models.db import transaction
from app.services import access, accounts, audit, backup, cases
from app.services.session import Session
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER_PW,
    DPO,
    DPO_PW,
    MANAGER,
    TEST_KDF,
    StoreCopy,
)
from tests.services.casework import new_case, signed_in

# -- what an insider holding the data key can do ------------------------------------------------


def open_raw(store: StoreCopy, user: str, password: str) -> vaultlib.Vault:
    """The store opened with ``user``'s own slot, with no sign-in written: what anyone with
    their password, their device secret and a SQLCipher shell can do."""
    return vaultlib.open_with_password(
        store.path, user, password, device=DeviceSecrets(store.keyring)
    )


def rewrite_without(conn: Connection, user_id: int, actions: set[str]) -> None:
    """Drop ``user_id``'s entries of ``actions`` and build the chain and its head again."""
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    kept = [e for e in audit_model.walk(conn) if not (e.user_id == user_id and e.action in actions)]
    conn.execute("DELETE FROM audit")
    prev = audit_model.GENESIS
    for new_id, e in enumerate(kept, start=1):
        digest = audit_model.entry_hash(new_id, e.at, e.user_id, e.action, e.record, e.detail, prev)
        conn.execute(
            "INSERT INTO audit (id, at, user_id, action, record, detail, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (new_id, e.at, e.user_id, e.action, e.record, e.detail, prev, digest),
        )
        prev = digest
    conn.execute(
        "UPDATE settings SET value = ? WHERE key = ?", (f"{len(kept)}:{prev}", audit_model.HEAD_KEY)
    )


def reseal_with_own_key(conn: Connection) -> None:
    """Throw the seals away and seal the rewritten trail again under a key of one's own."""
    conn.execute("DROP TRIGGER audit_seals_no_delete")
    conn.execute("DELETE FROM audit_seals")
    conn.execute("DELETE FROM audit_seal_key")
    own = sealing.new_first_key()
    conn.execute(
        "INSERT INTO audit_seal_key (id, epoch, key, started) VALUES (1, 1, ?, ?)",
        (sealing.evolve(own), "2026-01-01T00:00:00.000000Z"),
    )
    audit_model.seal(conn, "2026-01-01T00:01:00.000000Z")


def start_sealing(store: StoreCopy) -> bytes:
    with signed_in(store, ADMIN) as admin:
        text = audit.start_sealing(admin)
    return sealing.parse_verification_key(text)


def verify(store: StoreCopy, key: bytes | None = None, **anchors: object) -> audit.Verification:
    return accounts.verify_audit(
        store.path,
        DPO,
        DPO_PW,
        device=DeviceSecrets(store.keyring),
        verification_key=key,
        **anchors,  # type: ignore[arg-type]
    )


def caseworker_breaks_glass(store: StoreCopy) -> int:
    with signed_in(store, MANAGER) as manager:
        case_id, _ = new_case(manager)
    with signed_in(store, CASEWORKER) as worker:
        access.break_glass(worker, case_id, "Client rang the duty line in distress")
        cases.open_case(worker, case_id)
        worker_id = worker.user_id
    return worker_id


def hide_break_glass(store: StoreCopy, worker_id: int) -> None:
    """The caseworker drops their break-glass entries, builds the chain, its head and the
    anchor beside the store again, and leaves the seals as they were."""
    v = open_raw(store, CASEWORKER, CASEWORKER_PW)
    rewrite_without(v.conn, worker_id, {audit.BREAK_GLASS})
    count, head = audit_model.head(v.conn)
    v.close()
    anchor.reset(store.path, count, head)


def trail_length(store: StoreCopy) -> int:
    v = open_raw(store, ADMIN, ADMIN_PW)
    try:
        return audit_model.head(v.conn)[0]
    finally:
        v.close()


# -- sealing --------------------------------------------------------------------------------------


def test_a_caseworker_who_rewrites_and_reseals_the_trail_is_caught_by_the_verification_key(
    store: StoreCopy,
) -> None:
    key = start_sealing(store)
    worker_id = caseworker_breaks_glass(store)
    # Later, the caseworker opens the store with their own password and hides what they did:
    # the entries go, the chain, its head and the anchor beside the store are built again,
    # and the seals are replaced with seals under a key of their own.
    v = open_raw(store, CASEWORKER, CASEWORKER_PW)
    rewrite_without(v.conn, worker_id, {audit.BREAK_GLASS, audit.CASE_VIEWED})
    reseal_with_own_key(v.conn)
    count, head = audit_model.head(v.conn)
    v.close()
    anchor.reset(store.path, count, head)
    v = open_raw(store, CASEWORKER, CASEWORKER_PW)
    assert audit.check(v.conn).ok  # without the key the forgery holds together: the limit
    v.close()

    result = verify(store, key)

    assert not result.ok
    assert any("sealed again" in p for p in result.problems), result.problems


def test_sealed_entries_changed_with_the_chain_rebuilt_are_caught_even_without_the_key(
    store: StoreCopy,
) -> None:
    start_sealing(store)
    hide_break_glass(store, caseworker_breaks_glass(store))

    result = verify(store)

    assert not result.ok
    assert any("after they were sealed" in p for p in result.problems), result.problems


def test_a_replaced_sealing_key_is_caught(store: StoreCopy) -> None:
    key = start_sealing(store)
    caseworker_breaks_glass(store)
    v = open_raw(store, CASEWORKER, CASEWORKER_PW)
    v.conn.execute("UPDATE audit_seal_key SET key = ?", (sealing.new_first_key(),))
    v.close()

    result = verify(store, key)

    assert not result.ok
    assert any("sealing key does not follow" in p for p in result.problems)


def test_an_intact_sealed_trail_checks_out_and_names_what_is_not_sealed_yet(
    store: StoreCopy,
) -> None:
    key = start_sealing(store)
    caseworker_breaks_glass(store)

    result = verify(store, key)

    assert result.ok, result.problems
    assert any(n.startswith("Entries 1 to ") and "check out" in n for n in result.notes)
    # Every sign-out sealed what came before it, so nothing waits for a seal.
    assert not any("not sealed yet" in n for n in result.notes)


def test_the_store_never_holds_the_verification_key_and_its_key_moves_on_at_sign_out(
    store: StoreCopy,
) -> None:
    key = start_sealing(store)
    v = open_raw(store, CASEWORKER, CASEWORKER_PW)
    held = audit_model.seal_key(v.conn)
    settings = [str(r[0]) for r in v.conn.execute("SELECT value FROM settings")]
    v.close()
    assert held is not None and held.key != key and held.epoch == 2
    for secret in (key.hex(), sealing.format_verification_key(key)):
        assert secret not in vaultlib.keys_path(store.path).read_text()
        assert not any(secret in value for value in settings)
    with signed_in(store, CASEWORKER):
        pass
    v = open_raw(store, CASEWORKER, CASEWORKER_PW)
    later = audit_model.seal_key(v.conn)
    found = audit_model.seals(v.conn)
    v.close()
    assert later is not None and later.epoch == 3 and later.key == sealing.evolve(held.key)
    assert [s.epoch for s in found] == [1, 2]


def test_a_caseworker_cannot_start_sealing_or_take_the_key(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as worker, pytest.raises(PermissionDenied):
        audit.start_sealing(worker)
    start_sealing(store)
    with signed_in(store, ADMIN) as admin, pytest.raises(Exception, match="already sealed"):
        audit.start_sealing(admin)


def test_a_seal_is_written_when_an_epoch_has_passed_on_the_entries_clock(store: StoreCopy) -> None:
    key = start_sealing(store)
    with signed_in(store, ADMIN) as admin:
        before = len(audit_model.seals(admin.conn))
        start = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        for minutes in (0, 5, 16, 20, 40):
            at = (start + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            with transaction(admin.conn):
                audit.record(admin.conn, admin.user_id, audit.SETTINGS_CHANGED, at=at)
        # Sealed at the first entry, at 16 minutes (15 after the first) and at 40 minutes.
        assert len(audit_model.seals(admin.conn)) - before == 3
        assert audit.check(admin.conn, verification_key=key).ok


# -- verify checks before it writes -------------------------------------------------------------


def test_verify_names_a_cut_off_tail_and_writes_nothing(store: StoreCopy) -> None:
    v = open_raw(store, ADMIN, ADMIN_PW)
    v.conn.execute("DROP TRIGGER audit_no_delete")
    last = audit_model.head(v.conn)[0]
    v.conn.execute("DELETE FROM audit WHERE id > ?", (last - 2,))
    v.close()
    anchor.forget(store.path)

    result = verify(store)

    assert not result.ok
    assert any("The last 2 entries were cut off" in p for p in result.problems)
    assert trail_length(store) == last  # the head the store recorded: nothing was written


def test_verify_records_itself_only_after_a_clean_check(store: StoreCopy) -> None:
    before = trail_length(store)
    assert verify(store).ok
    v = open_raw(store, ADMIN, ADMIN_PW)
    actions = [e.action for e in audit_model.entries(v.conn, after_id=before)]
    v.close()
    assert actions[:2] == [audit.SIGN_IN, audit.AUDIT_VERIFIED]


def test_verify_still_needs_a_reader_of_the_trail(store: StoreCopy) -> None:
    with pytest.raises(PermissionDenied):
        accounts.verify_audit(
            store.path, CASEWORKER, CASEWORKER_PW, device=DeviceSecrets(store.keyring)
        )


# -- the anchor beside the store ---------------------------------------------------------------


def snapshot(store: StoreCopy, folder: Path) -> StoreCopy:
    """The store's files as they are on disk this moment (as a crash would leave them)."""
    folder.mkdir()
    for source in (*vaultlib.store_files(store.path), anchor.anchor_path(store.path)):
        if source.exists():
            shutil.copyfile(source, folder / source.name)
    return StoreCopy(folder / store.path.name, store.keyring, store.recovery_key)


def some_work(session: Session, times: int = 3) -> None:
    for minutes in range(times):
        accounts.set_idle_lock_minutes(session, 5 + minutes)


def test_a_damaged_write_ahead_log_that_loses_acknowledged_entries_is_refused(
    store: StoreCopy, tmp_path: Path
) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    session.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    some_work(session)
    crashed = snapshot(store, tmp_path / "crashed")
    accounts.sign_out(session)
    wal = crashed.path.with_name(crashed.path.name + "-wal")
    raw = bytearray(wal.read_bytes())
    assert len(raw) > 32 + 3 * (24 + 4096)
    raw[-100] ^= 0xFF  # inside the last frame: the last commit no longer replays
    wal.write_bytes(bytes(raw))

    with pytest.raises(TrailTampered) as refused:
        accounts.sign_in(crashed.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))

    assert isinstance(refused.value, DamagedStore)  # exit code 4
    assert "newest changes were lost" in str(refused.value)
    assert "Restore the newest backup" in str(refused.value)


def test_an_older_copy_of_the_store_put_back_is_refused(store: StoreCopy, tmp_path: Path) -> None:
    older = snapshot(store, tmp_path / "older")
    with signed_in(store, ADMIN) as admin:
        some_work(admin)
    for name in (store.path.name, vaultlib.keys_path(store.path).name):
        shutil.copyfile(older.path.with_name(name), store.path.with_name(name))

    with pytest.raises(TrailTampered, match="older copy of the store was put back"):
        accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))


def test_the_anchor_waits_while_commits_are_not_synced(store: StoreCopy) -> None:
    with signed_in(store, ADMIN) as admin:
        seen = anchor.read(store.path)
        admin.conn.execute("PRAGMA synchronous = NORMAL").fetchall()
        some_work(admin, 1)
        assert anchor.read(store.path) == seen
        admin.conn.execute("PRAGMA synchronous = FULL").fetchall()
        some_work(admin, 1)
        moved = anchor.read(store.path)
        assert moved is not None and seen is not None and moved.count > seen.count


def test_a_restore_over_a_damaged_store_opens_from_the_newest_backup(
    store: StoreCopy, tmp_path: Path
) -> None:
    with signed_in(store, ADMIN) as admin:
        backup.backup(admin, tmp_path / "newest.backup")
        some_work(admin)
    for path in vaultlib.store_files(store.path):
        path.unlink(missing_ok=True)
    session, _ = accounts.restore(
        tmp_path / "newest.backup",
        store.path,
        store.recovery_key,
        admin_name=ADMIN,
        new_password="fresh-meadow-copper-61",
        device=DeviceSecrets(store.keyring),
    )
    assert audit.check_chain(session.conn).ok
    accounts.sign_out(session)


# -- backups and the DPO's checkpoints ----------------------------------------------------------


def test_a_store_rolled_back_behind_its_backups_is_named(store: StoreCopy, tmp_path: Path) -> None:
    older = snapshot(store, tmp_path / "older")
    folder = tmp_path / "backups"
    folder.mkdir()
    with signed_in(store, ADMIN) as admin:
        some_work(admin)
        written, _ = backup.backup_to_folder(admin, folder)
    # The older copy is put back, and the anchor beside it thrown away.
    for name in (store.path.name, vaultlib.keys_path(store.path).name):
        shutil.copyfile(older.path.with_name(name), store.path.with_name(name))
    anchor.forget(store.path)

    result = verify(store, backups=folder)

    assert not result.ok
    assert any(
        p.startswith("The store was rolled back to an older copy") and written.name in p
        for p in result.problems
    ), result.problems


def test_a_backups_record_edited_to_match_a_rewrite_is_named_for_an_admin(
    store: StoreCopy, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    with signed_in(store, ADMIN) as admin:
        written, _ = backup.backup_to_folder(admin, folder)
    raw = written.read_bytes()
    start = len(vaultlib.BACKUP_MAGIC) + 4
    length = int.from_bytes(raw[start - 4 : start], "big")
    header = json.loads(raw[start : start + length])
    header["audit"]["count"] -= 1
    new = json.dumps(header).encode("utf-8")
    written.write_bytes(
        raw[: start - 4] + len(new).to_bytes(4, "big") + new + raw[start + length :]
    )

    result = accounts.verify_audit(
        store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring), backups=folder
    )

    assert not result.ok
    assert any("was altered" in p and written.name in p for p in result.problems)


def test_a_dpo_checkpoint_catches_a_rewrite_that_left_no_other_trace(
    store: StoreCopy, tmp_path: Path
) -> None:
    key = start_sealing(store)
    worker_id = caseworker_breaks_glass(store)
    point = tmp_path / "checkpoint.json"
    with signed_in(store, DPO) as dpo:
        audit.checkpoint(dpo, key, point)
    # Rebuilt and sealed again without the break-glass, with the anchor beside it to match.
    v = open_raw(store, CASEWORKER, CASEWORKER_PW)
    rewrite_without(v.conn, worker_id, {audit.BREAK_GLASS})
    reseal_with_own_key(v.conn)
    count, head = audit_model.head(v.conn)
    v.close()
    anchor.reset(store.path, count, head)
    v = open_raw(store, CASEWORKER, CASEWORKER_PW)
    assert audit.check(v.conn).ok  # nothing in or beside the store shows it
    v.close()

    result = verify(store, checkpoints=[point])

    assert not result.ok
    assert any("is not the one the checkpoint checkpoint.json saw" in p for p in result.problems)


def test_a_forged_checkpoint_is_named_when_the_key_is_given(
    store: StoreCopy, tmp_path: Path
) -> None:
    key = start_sealing(store)
    point = tmp_path / "checkpoint.json"
    with signed_in(store, DPO) as dpo:
        audit.checkpoint(dpo, key, point)
    fields = json.loads(point.read_bytes())
    fields["count"] = 1
    point.write_text(json.dumps(fields))

    result = verify(store, key, checkpoints=[point])

    assert not result.ok
    assert any("checkpoint.json was altered" in p for p in result.problems)


def test_only_the_dpo_makes_checkpoints(store: StoreCopy, tmp_path: Path) -> None:
    key = start_sealing(store)
    with signed_in(store, ADMIN) as admin, pytest.raises(PermissionDenied):
        audit.checkpoint(admin, key, tmp_path / "c.json")
    assert not (tmp_path / "c.json").exists()


def test_seals_removed_with_their_key_are_named_when_the_key_is_given(store: StoreCopy) -> None:
    key = start_sealing(store)
    v = open_raw(store, CASEWORKER, CASEWORKER_PW)
    v.conn.execute("DROP TRIGGER audit_seals_no_delete")
    v.conn.execute("DELETE FROM audit_seals")
    v.conn.execute("DELETE FROM audit_seal_key")
    v.close()

    result = verify(store, key)

    assert not result.ok
    assert any("sealing key was removed" in p for p in result.problems)


def test_a_new_store_ignores_a_record_left_by_an_earlier_one_at_its_place(
    store: StoreCopy,
) -> None:
    for path in vaultlib.store_files(store.path):
        path.unlink(missing_ok=True)
    anchor.reset(store.path, 999, "f" * 64)
    session, _ = accounts.create_store(
        store.path,
        service_name="Southfield IDVA",
        admin_name=ADMIN,
        password=ADMIN_PW,
        device=DeviceSecrets(store.keyring),
        kdf=TEST_KDF,
    )
    try:
        audit.check_anchor(session.conn, store.path)  # as a sign-in after a crash would
    finally:
        accounts.sign_out(session)
