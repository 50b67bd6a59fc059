"""An open store: the SQLCipher connection plus the keys its slot unlocked.

One store is one SQLCipher file (``cases.safecase``), a key-slot file beside it
(``cases.safecase.keys``) and, while open, a lock file (``cases.safecase.lock``).
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import logging
import math
import os
import secrets
import shutil
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, cast

import sqlcipher3
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.crypto import slots as slotlib
from app.crypto.connection import (
    Connection,
    classify,
    connect,
    integrity_errors,
    raw_key_literal,
    set_raw_key,
    zero,
)
from app.crypto.device import DeviceSecrets
from app.crypto.files import StoreLock, atomic_write, fsync_dir, os_error
from app.crypto.kdf import Argon2Params, hkdf
from app.crypto.recovery import format_recovery_key, new_recovery_key, parse_recovery_key
from app.crypto.sealing import backup_tag
from app.crypto.slots import Payload, Slot, SlotFile, SlotLocked
from app.errors import (
    DamagedStore,
    DiskFull,
    InvalidInput,
    MissingDeviceSecret,
    PermissionDenied,
    SafecaseError,
    SignInDelayed,
    StoreExists,
    StoreNotFound,
    WrongPassword,
    WrongRecoveryKey,
)

log = logging.getLogger("safecase.crypto")

BACKUP_MAGIC = b"SAFECASE-BACKUP\x00"
FREE_FAILURES = 5
MAX_DELAY_SECONDS = 15 * 60
# Room a rotation needs beyond the store's own size: the new copy is never larger than the
# store, and its write-ahead log while it is checked stays small.
REKEY_MARGIN_BYTES = 16 * 1024 * 1024
CHECK_CACHE_KIB = 8 * 1024
# Asked of the old store and its new copy; a copy that answers differently is not used.
REKEY_COUNTS = (
    "SELECT (SELECT count(*) FROM sqlite_master), (SELECT count(*) FROM audit), "
    "(SELECT count(*) FROM cases), (SELECT count(*) FROM people), "
    "(SELECT count(*) FROM search_rows)"
)


def sign_in_delay(failures: int) -> int:
    """Seconds to wait after ``failures`` wrong passwords in a row.

    None for the first five, then 2, 4, 8 ... seconds, never more than 15 minutes.
    """
    if failures <= FREE_FAILURES:
        return 0
    return int(min(2 ** (failures - FREE_FAILURES), MAX_DELAY_SECONDS))


def keys_path(store: Path) -> Path:
    return store.with_name(store.name + ".keys")


def _pending_path(store: Path) -> Path:
    return store.with_name(store.name + ".keys.pending")


def _lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".lock")


def _rekey_path(store: Path) -> Path:
    """The new copy of the store a rotation writes and checks before it replaces the store."""
    return store.with_name(store.name + ".rekey")


def _sidecars(store: Path) -> list[Path]:
    """The files SQLite keeps beside a database while it writes to it."""
    return [store.with_name(store.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def store_files(store: Path) -> list[Path]:
    """Every file that makes up a store on disk."""
    return [
        store,
        keys_path(store),
        _pending_path(store),
        store.with_name(store.name + "-wal"),
        store.with_name(store.name + "-shm"),
        _rekey_path(store),
    ]


@dataclass
class Created:
    vault: Vault
    recovery_key: str
    admin_slot_id: str


class Vault:
    """An unlocked store. Close it to checkpoint, close the connection and zero the keys."""

    def __init__(
        self,
        path: Path,
        conn: Connection,
        slots: SlotFile,
        slot_id: str,
        payload: Payload,
        lock: StoreLock,
        device: DeviceSecrets | None,
    ) -> None:
        self.path = path
        self.conn = conn
        self.slots = slots
        self.slot_id = slot_id
        self._payload = payload
        self._lock = lock
        self._device = device
        self.closed = False

    # -- state -------------------------------------------------------------------------------

    @property
    def can_backup(self) -> bool:
        return self._payload.backup_key is not None

    @property
    def must_change(self) -> bool:
        slot = self.slots.get(self.slot_id)
        return bool(slot and slot.must_change)

    @property
    def password_only(self) -> bool:
        slot = self.slots.get(self.slot_id)
        return bool(slot and slot.kind == slotlib.USER and not slot.device_bound)

    def close(self) -> None:
        """Checkpoint the WAL into the file, close the connection and forget the keys."""
        if self.closed:
            return
        self.closed = True
        try:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlcipher3.DatabaseError as exc:
            log.warning("checkpoint on close failed: %s", type(exc).__name__)
        finally:
            self.conn.close()
            self._payload.zero()
            self._lock.release()

    def destroy(self) -> None:
        """Close the store and remove it from this computer for good (a laptop ordered to
        destroy its store): each of its files overwritten with random bytes, synced and
        deleted, the key-slot file and the audit anchor with them, and this install's device
        secret taken out of the keyring, so a copy of the store taken earlier no longer opens
        with a password here. On a solid-state disk an overwrite may land elsewhere; what is
        left of the old blocks is ciphertext whose key was sealed only in the slot file."""
        from app.crypto.anchor import anchor_path  # only a destroyed store needs it

        self.close()
        for path in {*store_files(self.path), *_sidecars(self.path), anchor_path(self.path)}:
            _shred(path)
        _shred(_lock_path(self.path))
        fsync_dir(self.path.parent)
        if self._device is not None:
            self._device.forget()

    # -- slots ---------------------------------------------------------------------------------

    def _device_secret(self) -> bytes | None:
        if self._device is None:
            return None
        secret = self._device.get()
        if secret is None:
            raise MissingDeviceSecret()
        return secret

    def _payload_for(self, admin: bool) -> Payload:
        if admin:
            if self._payload.backup_key is None:
                raise PermissionDenied("Only an admin can give another user the admin role.")
            return Payload(bytearray(self._payload.data_key), bytearray(self._payload.backup_key))
        return self._payload.without_backup_key()

    def write_user_slot(
        self,
        username: str,
        password: str,
        *,
        admin: bool,
        kdf: Argon2Params,
        must_change: bool = False,
        slot_id: str | None = None,
    ) -> str:
        """Create (or replace, when ``slot_id`` is given) the slot for one user."""
        device_secret = self._device_secret()
        effective_kdf = kdf if device_secret is not None else kdf.strengthened()
        slot = slotlib.make_slot(
            self.slots,
            kind=slotlib.USER,
            payload=self._payload_for(admin),
            slot_id=slot_id,
            username=username,
            password=password,
            kdf=effective_kdf,
            device_secret=device_secret,
            must_change=must_change,
        )
        updated = self.slots.copy()
        updated.put(slot)
        updated.save(keys_path(self.path))
        self.slots = updated
        return slot.id

    def check_password(self, slot_id: str, password: str) -> bool:
        slot = self.slots.get(slot_id)
        if slot is None:
            return False
        kek = slotlib.derive_kek(slot, password=password, device_secret=self._device_secret())
        try:
            slotlib.open_private_key(slot, kek, self.slots.store_id)
        except SlotLocked:
            return False
        return True

    def remove_slot(self, slot_id: str) -> None:
        updated = self.slots.copy()
        updated.slots = [s for s in updated.slots if s.id != slot_id]
        updated.save(keys_path(self.path))
        self.slots = updated

    def take_failed_sign_ins(self) -> tuple[list[dict[str, object]], int]:
        """Failed sign-ins recorded before the store was open, and how many older ones were
        dropped past the limit; cleared once handed over."""
        if not self.slots.failed_sign_ins and not self.slots.dropped_sign_ins:
            return [], 0
        pending = list(self.slots.failed_sign_ins), self.slots.dropped_sign_ins
        updated = self.slots.copy()
        updated.failed_sign_ins, updated.dropped_sign_ins = [], 0
        updated.save(keys_path(self.path))
        self.slots = updated
        return pending

    def rotate(self, keep: dict[str, bool]) -> None:
        """Give the store a new data key; only the recovery slot and ``keep``'s slots survive.

        ``keep`` maps each remaining user slot to whether it is an admin's. The store is copied
        into a new file under the new key, which is checked on a connection of its own; only
        then is the pending slot file written, the copy put in place of the store and the slot
        files swapped. A failure before that leaves the store and its slot file as they were;
        a crash after it leaves a slot file that opens the store. The copy holds live rows
        only, so every page written under the old key goes with the old file.
        """
        new_key = bytearray(secrets.token_bytes(32))
        backup_key = self._payload.backup_key
        new_payload = Payload(new_key, bytearray(backup_key) if backup_key else None)
        try:
            pending = self.slots.copy()
            pending.generation += 1
            survivors: list[Slot] = []
            for slot in pending.slots:
                if slot.kind == slotlib.RECOVERY:
                    payload = new_payload
                elif slot.id in keep:
                    payload = new_payload if keep[slot.id] else new_payload.without_backup_key()
                else:
                    continue
                survivors.append(
                    slotlib.resealed(slot, payload, pending.store_id, pending.generation)
                )
            pending.slots = survivors
            fresh = copy_under_new_key(self.conn, self.path, new_key)
        except BaseException:
            new_payload.zero()
            raise
        try:
            pending.save(_pending_path(self.path))
            _close_for_swap(self.conn, self.path)
            os.replace(fresh, self.path)
        except BaseException as exc:
            # Nothing was replaced: the old store, slot file and key stay in use.
            _pending_path(self.path).unlink(missing_ok=True)
            _remove_copy(fresh)
            new_payload.zero()
            self.conn.close()
            self.conn = connect(self.path, self._payload.data_key)
            if isinstance(exc, OSError):
                raise os_error(exc) from None
            raise
        # The store is under the new key from here on; a crash leaves the pending slot file,
        # which opens it.
        self.conn = connect(self.path, new_key)
        self._payload.zero()
        self._payload = new_payload
        self.slots = pending
        try:
            fsync_dir(self.path.parent)
            os.replace(_pending_path(self.path), keys_path(self.path))
            fsync_dir(self.path.parent)
        except OSError as exc:
            raise os_error(exc) from None

    # -- backups -------------------------------------------------------------------------------

    def write_backup(self, out: Path, destroyed: bytes | None = None) -> int:
        """Write one backup file at ``out``; returns its size in bytes.

        The copy inside is keyed with the backup key, which only admin and recovery slots
        unlock, and carries the slot file so a restore on another machine can find the recovery
        slot. It is checked before the file is put in place. ``destroyed`` (the store's
        destruction log) goes into the header sealed under the backup key, so a restore of an
        older backup can learn what was destroyed after it without opening this one.
        """
        if self._payload.backup_key is None:
            raise PermissionDenied("Only an admin can make a backup.")
        folder = out.parent
        if not folder.is_dir():
            raise SafecaseError("The folder for the backup does not exist. Choose another.")
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=".safecase-copy-", dir=folder)
        except OSError as exc:
            raise os_error(exc) from None
        os.close(fd)
        copy_path = Path(tmp_name)
        copy_path.unlink()
        with _working_copy(copy_path):
            target = cast(Connection, sqlcipher3.connect(str(copy_path), isolation_level=None))
            try:
                set_raw_key(target, self._payload.backup_key)
                self.conn.backup(target)
                target.execute("PRAGMA journal_mode = DELETE").fetchall()
                problems = integrity_errors(target)
            finally:
                target.close()
            if problems:
                raise DamagedStore(
                    "The store is damaged: its backup copy failed the check, so the backup "
                    "was not written. Restore it from an earlier backup with the recovery key."
                )
            header = json.dumps(
                {
                    "format": 1,
                    "made": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "slots": self.slots.to_bytes().decode("utf-8"),
                    "audit": self._audit_seen(),
                }
                | self._sealed_destroyed(destroyed)
            ).encode("utf-8")
            atomic_write(
                out,
                _backup_chunks(header, copy_path),
            )
        return out.stat().st_size

    def _audit_seen(self) -> dict[str, object]:
        """The trail's count and head as the backup copies it, tagged under the backup key:
        a record outside the store that a rewrite, cut or rollback no longer matches."""
        assert self._payload.backup_key is not None
        row = self.conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        count, head = (int(row[0]), str(row[1])) if row else (0, "")
        tag = backup_tag(bytes(self._payload.backup_key), self.slots.store_id, count, head)
        return {"count": count, "head": head, "tag": tag}

    def backup_tag_matches(self, seen: BackupAnchor) -> bool:
        """Whether a backup's record of the trail is as that backup was written; True when
        this slot has no backup key to tell (only admins and the recovery key hold it)."""
        if self._payload.backup_key is None:
            return True
        key = bytes(self._payload.backup_key)
        expected = backup_tag(key, seen.store_id, seen.count, seen.head)
        return hmac.compare_digest(expected, seen.tag)

    def _sealed_destroyed(self, destroyed: bytes | None) -> dict[str, str]:
        if destroyed is None or self._payload.backup_key is None:
            return {}
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(_destroyed_key(self._payload.backup_key)).encrypt(
            nonce, destroyed, self.slots.store_id.encode("utf-8")
        )
        return {"destroyed": base64.b64encode(nonce + sealed).decode("ascii")}

    def owns_backup(self, backup: Path) -> bool:
        """Whether ``backup`` is a backup file of this store (by the store id in its header)."""
        if not is_backup(backup):
            return False
        try:
            header, _offset = read_backup_header(backup)
            store_id = SlotFile.from_bytes(str(header["slots"]).encode("utf-8")).store_id
        except (SafecaseError, OSError, ValueError, KeyError):
            return False
        return store_id == self.slots.store_id

    def read_destroyed(self, backup: Path) -> bytes | None:
        """The destruction log sealed in a backup of this store, or None when the file is not
        a backup of this store, carries none, or does not open with this store's backup key."""
        if self._payload.backup_key is None:
            return None
        try:
            header, _offset = read_backup_header(backup)
            store_id = SlotFile.from_bytes(str(header["slots"]).encode("utf-8")).store_id
            if store_id != self.slots.store_id or "destroyed" not in header:
                return None
            blob = base64.b64decode(str(header["destroyed"]))
            return AESGCM(_destroyed_key(self._payload.backup_key)).decrypt(
                blob[:12], blob[12:], store_id.encode("utf-8")
            )
        except (SafecaseError, OSError, ValueError, KeyError, InvalidTag):
            return None

    def rewrite_backup(self, backup: Path, edit: Callable[[Connection], bytes], now: str) -> int:
        """Change a backup of this store in place of the file: its database is copied out (still
        encrypted) beside it, ``edit`` changes the copy and returns the destruction log to seal
        in the new header, and a fresh backup file replaces the old one atomically. Returns the
        new size. The old file's blocks are released, not overwritten: on an SSD or a synced
        folder they may survive until reused."""
        if self._payload.backup_key is None:
            raise PermissionDenied("Only an admin can change a backup.")
        header, offset = read_backup_header(backup)
        store_id = SlotFile.from_bytes(str(header["slots"]).encode("utf-8")).store_id
        if store_id != self.slots.store_id:
            raise SafecaseError("That backup is of another store; it was left as it was.")
        fd, tmp_name = tempfile.mkstemp(prefix=".safecase-copy-", dir=backup.parent)
        copy_path = Path(tmp_name)
        with _working_copy(copy_path):
            with os.fdopen(fd, "wb") as out, open(backup, "rb") as source:
                source.seek(offset)
                while chunk := source.read(1 << 20):
                    out.write(chunk)
            conn = connect(copy_path, self._payload.backup_key)
            try:
                destroyed = edit(conn)
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                conn.execute("PRAGMA journal_mode = DELETE").fetchall()
                problems = integrity_errors(conn)
            finally:
                conn.close()
            if problems:
                raise DamagedStore("The changed backup failed its check; the old one was kept.")
            header = header | self._sealed_destroyed(destroyed) | {"rewritten": now}
            atomic_write(backup, _backup_chunks(json.dumps(header).encode("utf-8"), copy_path))
        return backup.stat().st_size


def _shred(path: Path) -> None:
    """Overwrite ``path`` with random bytes, sync it and delete it (nothing if it is not there)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with open(path, "r+b") as handle:
        left = size
        while left > 0:
            chunk = min(left, 1 << 20)
            handle.write(secrets.token_bytes(chunk))
            left -= chunk
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()


@contextlib.contextmanager
def _working_copy(copy_path: Path) -> Iterator[None]:
    """Work on a temporary copy beside a backup: database and disk errors become their one
    sentence, and the copy (with any log SQLite kept beside it) is always removed."""
    try:
        yield
    except sqlcipher3.DatabaseError as exc:
        raise (classify(exc) or exc) from None
    except OSError as exc:
        raise os_error(exc) from None
    finally:
        for extra in (copy_path, *store_files(copy_path)[3:]):
            extra.unlink(missing_ok=True)


def _destroyed_key(backup_key: bytes | bytearray) -> bytes:
    return hkdf(bytes(backup_key), salt=b"", info=b"safecase backup destruction log v1")


def read_backup_header(backup: Path) -> tuple[dict[str, object], int]:
    """A backup file's header and where its database starts; refuses a file that is not one."""
    try:
        with open(backup, "rb") as handle:
            if handle.read(len(BACKUP_MAGIC)) != BACKUP_MAGIC:
                raise DamagedStore("That file is not a Safecase backup.")
            (length,) = struct.unpack(">I", handle.read(4))
            header = json.loads(handle.read(length))
    except (ValueError, struct.error):
        raise DamagedStore("The backup file is damaged.") from None
    if not isinstance(header, dict):
        raise DamagedStore("The backup file is damaged.")
    return header, len(BACKUP_MAGIC) + 4 + length


def is_backup(path: Path) -> bool:
    """Whether ``path`` is a regular file that starts like a Safecase backup."""
    try:
        with open(path, "rb") as handle:
            return path.is_file() and handle.read(len(BACKUP_MAGIC)) == BACKUP_MAGIC
    except OSError:
        return False


@dataclass(frozen=True)
class BackupAnchor:
    store_id: str
    count: int
    head: str
    tag: str


def backup_anchor(backup: Path) -> BackupAnchor | None:
    """What a backup file saw of the audit trail, read from its header alone; None for a file
    that is not a backup, or a backup made before backups carried it."""
    if not is_backup(backup):
        return None
    try:
        header, _offset = read_backup_header(backup)
        seen = cast(dict[str, object], header["audit"])
        store_id = str(json.loads(str(header["slots"]))["store_id"])
        return BackupAnchor(store_id, int(str(seen["count"])), str(seen["head"]), str(seen["tag"]))
    except (SafecaseError, OSError, ValueError, KeyError, TypeError):
        return None


def _remove_copy(fresh: Path) -> None:
    for leftover in (fresh, *_sidecars(fresh)):
        leftover.unlink(missing_ok=True)


def _room_for_copy(path: Path) -> None:
    """Refuse, before anything is written, when the folder cannot hold a second copy."""
    wal = path.with_name(path.name + "-wal")
    needed = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    needed += REKEY_MARGIN_BYTES
    free = shutil.disk_usage(path.parent).free
    if free < needed:
        mb = math.ceil(needed / 1_000_000)
        raise DiskFull(
            f"Giving the store a new key needs about {mb:,} MB of free disk space beside it; "
            "free some space and try again (nothing was changed)."
        )


def _counts(conn: Connection) -> list[int]:
    """The schema version and a few row counts, to compare a copy with its original."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    return [version, *(int(n) for n in conn.execute(REKEY_COUNTS).fetchone())]


def copy_under_new_key(conn: Connection, path: Path, key: bytearray) -> Path:
    """Write the store open on ``conn`` into a new file beside it under ``key``, and prove it:
    a connection of its own opens it with ``key`` and finds every page sound and the same
    rows. Returns the new file; on any failure it is removed and the store is untouched.

    ``sqlcipher_export`` copies the schema (the search index, its tables and the triggers
    too) and the live rows only, so the copy is also compacted, as VACUUM would do, without
    VACUUM's whole-store copy in memory.
    """
    fresh = _rekey_path(path)
    _remove_copy(fresh)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        _room_for_copy(path)
        expected = _counts(conn)
        literal = raw_key_literal(key)
        try:
            conn.execute("ATTACH DATABASE ? AS fresh KEY ?", (str(fresh), literal))
        finally:
            zero(literal)
        try:
            # The copy is checked and synced before it is used: no journal on disk while it
            # is written. One in memory still lets a write that fails part-way (a full disk)
            # roll back cleanly, so the copy can be detached and the store stays usable.
            conn.execute("PRAGMA fresh.journal_mode = MEMORY").fetchall()
            conn.execute("PRAGMA fresh.synchronous = OFF").fetchall()
            conn.execute("SELECT sqlcipher_export('fresh')").fetchall()
            # sqlcipher_export leaves the schema version behind.
            conn.execute(f"PRAGMA fresh.user_version = {expected[0]:d}").fetchall()
        except BaseException:
            # A copy cut short (a full disk) can leave the attached file unreadable, and then
            # detaching it fails and hides why: empty it first, so the store's connection goes
            # on and the first error is the one reported.
            with contextlib.suppress(OSError):
                os.truncate(fresh, 0)
            raise
        finally:
            conn.execute("DETACH DATABASE fresh")
        fd = os.open(fresh, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        check = connect(fresh, key)
        try:
            # The check reads each page once: a page cache of its own as large as the store's
            # would only add to the peak memory of the process.
            check.execute(f"PRAGMA cache_size = {-CHECK_CACHE_KIB:d}").fetchall()
            problems = integrity_errors(check)
            if not problems and _counts(check) != expected:
                problems = ["rows differ"]
        finally:
            check.close()
        if problems:
            log.error("rotation: the new copy failed its check: %s", problems[:3])
            raise DamagedStore(
                "The store's new copy failed its check, so the store keeps its old key; "
                "nothing was changed."
            )
    except sqlcipher3.DatabaseError as exc:
        _remove_copy(fresh)
        raise (classify(exc) or exc) from None
    except OSError as exc:
        _remove_copy(fresh)
        raise os_error(exc) from None
    except BaseException:
        _remove_copy(fresh)
        raise
    return fresh


def _close_for_swap(conn: Connection, path: Path) -> None:
    """Empty the store's log into it and close ``conn``, so that nothing written under the old
    key is left beside the file that replaces it."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    conn.close()
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        raise SafecaseError("The store's log could not be emptied; the store keeps its old key.")
    for leftover in _sidecars(path):
        leftover.unlink(missing_ok=True)


def _backup_chunks(header: bytes, copy_path: Path) -> Iterator[bytes]:
    yield BACKUP_MAGIC + struct.pack(">I", len(header)) + header
    with open(copy_path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            yield chunk


# -- creating and opening --------------------------------------------------------------------


def _store_path(path: Path) -> Path:
    """Refuse a path that cannot name a store file: an empty one, or a folder."""
    if not path.name or path.is_dir():
        raise InvalidInput(
            "That names a folder, not a store file. Name the store file itself, "
            "for example cases.safecase in that folder."
        )
    return path


def _existing_store(path: Path) -> Path:
    if not _store_path(path).exists():
        raise StoreNotFound()
    return path


def _make_room_for(path: Path) -> None:
    """Refuse to overwrite a store; create the folder a new one goes in."""
    if any(p.exists() for p in store_files(_store_path(path))):
        raise StoreExists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc) from None


def _acquire(path: Path) -> StoreLock:
    lock = StoreLock(_lock_path(path))
    lock.acquire()
    return lock


def create(
    path: Path,
    username: str,
    password: str,
    *,
    kdf: Argon2Params,
    device: DeviceSecrets | None,
) -> Created:
    """Make a new, empty store with one admin slot and the recovery slot.

    ``device`` None makes a password-only store (every slot uses the stronger cost).
    The caller creates the schema on the returned connection.
    """
    _make_room_for(path)
    device_secret = device.get_or_create() if device is not None else None
    lock = _acquire(path)
    payload = Payload(bytearray(secrets.token_bytes(32)), bytearray(secrets.token_bytes(32)))
    recovery = new_recovery_key()
    slots = SlotFile.new()
    try:
        conn = connect(path, payload.data_key, create=True)
        recovery_slot = slotlib.make_slot(
            slots, kind=slotlib.RECOVERY, payload=payload, recovery_key=recovery
        )
        admin_slot = slotlib.make_slot(
            slots,
            kind=slotlib.USER,
            payload=payload,
            username=username,
            password=password,
            kdf=kdf if device_secret is not None else kdf.strengthened(),
            device_secret=device_secret,
        )
        slots.slots = [recovery_slot, admin_slot]
        slots.save(keys_path(path))
    except BaseException:
        lock.release()
        for leftover in (*store_files(path), _lock_path(path)):
            leftover.unlink(missing_ok=True)
        raise
    vault = Vault(path, conn, slots, admin_slot.id, payload, lock, device)
    return Created(vault, format_recovery_key(recovery), admin_slot.id)


def _open_payload(
    path: Path,
    slots: SlotFile,
    slot: Slot,
    private_key: X25519PrivateKey,
) -> tuple[Connection, SlotFile, Payload]:
    """Unseal ``slot``'s payload and open the store; fall back to a pending rotation."""
    payload = slotlib.unseal(slot, private_key, slots.store_id, slots.generation)
    pending_path = _pending_path(path)
    # A rotation stopped before its copy replaced the store: the store is as it was.
    _remove_copy(_rekey_path(path))
    try:
        conn = connect(path, payload.data_key)
    except DamagedStore:
        payload.zero()
        if not pending_path.exists():
            raise
        # A rotation stopped after the rekey but before the slot files were swapped.
        pending = SlotFile.load(pending_path)
        pending_slot = pending.get(slot.id)
        if pending_slot is None:
            raise
        payload = slotlib.unseal(pending_slot, private_key, pending.store_id, pending.generation)
        conn = connect(path, payload.data_key)
        os.replace(pending_path, keys_path(path))
        return conn, pending, payload
    pending_path.unlink(missing_ok=True)
    return conn, slots, payload


def open_with_password(
    path: Path,
    username: str,
    password: str,
    *,
    device: DeviceSecrets | None,
    clock: Callable[[], float] = time.time,
) -> Vault:
    """Open the store as ``username``; wrong passwords are counted and slowed down."""
    _existing_store(path)
    lock = _acquire(path)
    try:
        slots = SlotFile.load(keys_path(path))
        slot = slots.find_user(username)
        if slot is None:
            _refuse_unknown_name(path, slots, username, password, device, clock)
        wait = slot.last_failure + sign_in_delay(slot.failures) - clock()
        if wait > 0:
            raise SignInDelayed(math.ceil(wait))
        device_secret = None
        if slot.device_bound:
            if device is None:
                raise MissingDeviceSecret()
            device_secret = device.get()
            if device_secret is None:
                raise MissingDeviceSecret()
        kek = slotlib.derive_kek(slot, password=password, device_secret=device_secret)
        try:
            private_key = slotlib.open_private_key(slot, kek, slots.store_id)
        except SlotLocked:
            _record_failure(path, slots, slot, clock())
            raise WrongPassword() from None
        conn, slots, payload = _open_payload(path, slots, slot, private_key)
        if slot.failures:
            slots = slots.copy()
            opened = slots.get(slot.id)
            if opened is not None:
                opened.failures, opened.last_failure = 0, 0.0
            slots.save(keys_path(path))
    except BaseException:
        lock.release()
        raise
    return Vault(path, conn, slots, slot.id, payload, lock, device if device_secret else None)


def _refuse_unknown_name(
    path: Path,
    slots: SlotFile,
    username: str,
    password: str,
    device: DeviceSecrets | None,
    clock: Callable[[], float],
) -> NoReturn:
    """Refuse a name with no slot as a wrong password is refused: after the same derivation
    and with the same back-off, counted by the name's lookup tag (never the name itself)."""
    tag = slots.lookup_tag(username)
    failures, last = slots.unknown_name_failures(tag)
    wait = last + sign_in_delay(failures) - clock()
    if wait > 0:
        raise SignInDelayed(math.ceil(wait))
    typical = slots.typical_user_slot()
    secret = None
    if typical is not None and typical.device_bound and device is not None:
        secret = device.get()
    slotlib.dummy_derivation(typical, password, secret)
    _record_failure(path, slots, None, clock(), unknown_tag=tag)
    raise WrongPassword()


def _record_failure(
    path: Path, slots: SlotFile, slot: Slot | None, now: float, *, unknown_tag: str = ""
) -> None:
    updated = slots.copy()
    if slot is not None:
        target = updated.get(slot.id)
        if target is not None:
            target.failures += 1
            target.last_failure = now
    elif unknown_tag:
        updated.record_unknown_name(unknown_tag, now)
    updated.record_failed_sign_in(slot.id if slot else slotlib.UNKNOWN_SLOT, now)
    updated.save(keys_path(path))


def open_with_recovery(path: Path, recovery_key: str, *, device: DeviceSecrets | None) -> Vault:
    """Open the store with the recovery key alone (no password, no device secret)."""
    _existing_store(path)
    key = parse_recovery_key(recovery_key)
    lock = _acquire(path)
    try:
        slots = SlotFile.load(keys_path(path))
        slot = slots.recovery_slot()
        try:
            private_key = slotlib.open_private_key(
                slot, slotlib.derive_kek(slot, recovery_key=key), slots.store_id
            )
        except SlotLocked:
            raise WrongRecoveryKey() from None
        conn, slots, payload = _open_payload(path, slots, slot, private_key)
    except BaseException:
        lock.release()
        raise
    return Vault(path, conn, slots, slot.id, payload, lock, device)


def restore_backup(
    backup: Path, path: Path, recovery_key: str, *, device: DeviceSecrets | None
) -> Vault:
    """Rebuild a store at ``path`` from ``backup`` with the recovery key.

    The store gets a new data key, and its slot file keeps only the recovery slot: the caller
    enrols the admin who is restoring it. ``device`` None makes it a password-only store.
    """
    _make_room_for(path)
    key = parse_recovery_key(recovery_key)
    try:
        with open(backup, "rb") as handle:
            if handle.read(len(BACKUP_MAGIC)) != BACKUP_MAGIC:
                raise DamagedStore("That file is not a Safecase backup.")
            (length,) = struct.unpack(">I", handle.read(4))
            header = json.loads(handle.read(length))
            old_slots = SlotFile.from_bytes(header["slots"].encode("utf-8"))
            slot = old_slots.recovery_slot()
            try:
                private_key = slotlib.open_private_key(
                    slot, slotlib.derive_kek(slot, recovery_key=key), old_slots.store_id
                )
            except SlotLocked:
                raise WrongRecoveryKey("That recovery key does not open this backup.") from None
            old = slotlib.unseal(slot, private_key, old_slots.store_id, old_slots.generation)
            if old.backup_key is None:
                raise DamagedStore("The backup's key file is damaged.")
            if device is not None:
                device.get_or_create()
            lock = _acquire(path)
            try:
                atomic_write(path, iter(lambda: handle.read(1 << 20), b""))
            except BaseException:
                lock.release()
                raise
    except FileNotFoundError:
        raise SafecaseError("There is no backup file at that place.") from None
    except (ValueError, KeyError, struct.error):
        raise DamagedStore("The backup file is damaged.") from None
    conn: Connection | None = None
    try:
        conn = connect(path, old.backup_key)
        if integrity_errors(conn):
            raise DamagedStore("The backup file is damaged.")
        # The restored store gets a data key of its own, by a checked copy as a rotation does;
        # the backup key stays as it was.
        payload = Payload(bytearray(secrets.token_bytes(32)), bytearray(old.backup_key))
        fresh = copy_under_new_key(conn, path, payload.data_key)
        _close_for_swap(conn, path)
        try:
            os.replace(fresh, path)
        except OSError as exc:
            raise os_error(exc) from None
        conn = connect(path, payload.data_key)
        slots = SlotFile(store_id=old_slots.store_id, lookup_salt=secrets.token_bytes(32))
        slots.slots = [
            slotlib.make_slot(slots, kind=slotlib.RECOVERY, payload=payload, recovery_key=key)
        ]
        slots.save(keys_path(path))
    except BaseException:
        if conn is not None:
            conn.close()
        lock.release()
        for leftover in (*store_files(path), _lock_path(path)):
            leftover.unlink(missing_ok=True)
        raise
    finally:
        old.zero()
    return Vault(path, conn, slots, slots.slots[0].id, payload, lock, device)
