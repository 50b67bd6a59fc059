"""Opening the SQLCipher connection, and sorting database errors into ones a user can act on."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import sqlcipher3

from app.errors import DamagedStore, DiskFull, SafecaseError, StoreLocked

log = logging.getLogger("safecase.crypto")

DatabaseError = sqlcipher3.DatabaseError


class Cursor(Protocol):
    lastrowid: int | None
    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Any: ...


class Connection(Protocol):
    """The part of a sqlcipher3 connection Safecase uses."""

    def execute(self, sql: str, parameters: Sequence[object] = ..., /) -> Cursor: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[object]], /) -> Cursor: ...
    def set_key(self, key: bytearray, /) -> None: ...
    def backup(self, target: Connection, /) -> None: ...
    def close(self) -> None: ...


# Run in this order on every connection, after the key and the proof that the key is right.
PRAGMAS: tuple[str, ...] = (
    # Off, departing from DESIGN.md. When on, SQLCipher calls mlock and munlock for every
    # allocation SQLite makes (hundreds for one case screen), which made every read five to
    # six times slower; and for an ordinary user the 8 MiB lock limit makes nine in ten of
    # those calls fail, so the pages it meant to keep out of swap were not kept out. Core
    # dumps and other processes' reads of this one are refused instead (app/crypto/process.py).
    "cipher_memory_security = OFF",
    "journal_mode = WAL",
    "synchronous = FULL",
    "temp_store = MEMORY",
    "secure_delete = ON",
    "foreign_keys = ON",
    "trusted_schema = OFF",
    "cipher_log_level = NONE",
    # Decrypting a page costs far more than reading it: keep the working set decrypted in
    # memory (128 MiB at most; a store of a few thousand cases never fills it) while the store
    # is open. Locking closes the connection, which frees it.
    "cache_size = -131072",
)


def zero(buffer: bytearray) -> None:
    for i in range(len(buffer)):
        buffer[i] = 0


def raw_key_literal(key: bytes | bytearray) -> bytearray:
    """SQLCipher's raw-key form ``x'<64 hex>'`` in a buffer the caller zeroes after use.

    The raw form skips SQLCipher's own PBKDF2; the slow derivation is ours.
    """
    return bytearray(b"x'") + bytearray(key.hex().encode("ascii")) + bytearray(b"'")


def set_raw_key(conn: Connection, key: bytes | bytearray) -> None:
    """Hand SQLCipher a raw 256-bit key in a buffer that is zeroed afterwards.

    There is no rekey in place here: ``PRAGMA rekey`` can report success when the disk fills
    part-way, leaving pages under two keys. A new key is given by a checked copy
    (``app.crypto.vault.copy_under_new_key``).
    """
    buffer = raw_key_literal(key)
    try:
        conn.set_key(buffer)
    finally:
        zero(buffer)


def classify(exc: BaseException) -> SafecaseError | None:
    """The user-facing error for a database error, or None when it is a bug."""
    message = str(exc).lower()
    if "not a database" in message or "malformed" in message or "corrupt" in message:
        return DamagedStore()
    if "disk is full" in message or "disk i/o" in message:
        return DiskFull()
    if "database is locked" in message or "database is busy" in message:
        return StoreLocked()
    return None


def connect(path: Path, key: bytes | bytearray) -> Connection:
    """Open the store at ``path`` with the raw data key and apply Safecase's settings."""
    conn = cast(
        Connection,
        sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False),
    )
    try:
        set_raw_key(conn, key)
        conn.execute("PRAGMA cipher_compatibility = 4")
        # Reading the schema proves the key (and page 1) before anything else runs.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        for pragma in PRAGMAS:
            conn.execute(f"PRAGMA {pragma}").fetchall()
    except sqlcipher3.DatabaseError as exc:
        # After an HMAC failure the connection stays broken: close it.
        conn.close()
        known = classify(exc)
        if known is None:
            raise
        raise known from None
    return conn


def integrity_errors(conn: Connection) -> list[str]:
    """Run SQLCipher's page check and SQLite's structure check; an empty list means healthy."""
    try:
        problems = [str(row[0]) for row in conn.execute("PRAGMA cipher_integrity_check")]
        rows = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
    except sqlcipher3.DatabaseError as exc:
        return [type(exc).__name__]
    problems += [row for row in rows if row != "ok"]
    return problems
