"""Opening the SQLCipher connection, and sorting database errors into ones a user can act on."""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import sqlcipher3

from app.errors import (
    DamagedStore,
    DiskError,
    DiskFull,
    SafecaseError,
    StoreLocked,
    StoreReadOnly,
    StoreUnreadable,
)

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


# SQLite's primary result codes (the low byte of an extended code), from sqlite3.h.
SQLITE_PERM = 3
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26
# An extended I/O code: the file ended before the page did (a store cut short).
SQLITE_IOERR_SHORT_READ = SQLITE_IOERR | (2 << 8)

# What each primary code means to a user. SQLCipher says "not a database" both for a wrong
# key and for a damaged first page; a key that opened the slot is the right one, so here it
# means damage.
_BY_CODE: dict[int, type[SafecaseError]] = {
    SQLITE_NOTADB: DamagedStore,
    SQLITE_CORRUPT: DamagedStore,
    SQLITE_FULL: DiskFull,
    SQLITE_IOERR: DiskError,
    SQLITE_READONLY: StoreReadOnly,
    SQLITE_CANTOPEN: StoreUnreadable,
    SQLITE_PERM: StoreUnreadable,
    SQLITE_BUSY: StoreLocked,
    SQLITE_LOCKED: StoreLocked,
}


# SQLite's own fixed text for a code (sqlite3ErrStr), for an error that reaches us with the
# generic SQLITE_ERROR: a function such as sqlcipher_export runs statements of its own and
# hands back their failure as its message, with the code lost.
_BY_SQLITE_TEXT: dict[str, int] = {
    "file is not a database": SQLITE_NOTADB,
    "database disk image is malformed": SQLITE_CORRUPT,
    "database or disk is full": SQLITE_FULL,
    "disk i/o error": SQLITE_IOERR,
}
SQLITE_ERROR = 1


def classify(exc: BaseException) -> SafecaseError | None:
    """The user-facing error for a database error, or None when it is a bug.

    Sorted by SQLite's result code. Only an error that carries no code (one the sqlcipher3
    module raises itself) or the generic SQLITE_ERROR of a nested statement is read by its
    text, and then only for SQLite's own fixed phrases for the codes above.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code != SQLITE_ERROR:
        if code == SQLITE_IOERR_SHORT_READ:
            return DamagedStore()
        known = _BY_CODE.get(code & 0xFF)
        return known() if known else None
    message = str(exc).lower().strip()
    for text, text_code in _BY_SQLITE_TEXT.items():
        if message == text or message.endswith(": " + text):
            return _BY_CODE[text_code]()
    return None


def _uri(path: Path, *, create: bool) -> str:
    """A file URI that opens ``path`` read-write and, unless ``create``, never makes it."""
    quoted = urllib.parse.quote(str(path.absolute()), safe="/")
    return f"file:{quoted}?mode={'rwc' if create else 'rw'}"


def connect(path: Path, key: bytes | bytearray, *, create: bool = False) -> Connection:
    """Open the store at ``path`` with the raw data key and apply Safecase's settings.

    Only ``create`` may make a new file. An existing file that is empty is refused as
    damaged, never keyed and written as a new store over what the user had.
    """
    if not create:
        try:
            empty = path.stat().st_size == 0
        except OSError:
            empty = False  # opening it below says why
        if empty:
            raise DamagedStore(
                "The store file is empty: it was cut short or overwritten. "
                "Restore it from a backup with the recovery key; the file was left as it is."
            )
    try:
        conn = cast(
            Connection,
            sqlcipher3.connect(
                _uri(path, create=create),
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            ),
        )
    except sqlcipher3.DatabaseError as exc:
        raise (classify(exc) or exc) from None
    try:
        # Before the key: a wrong key or a damaged page makes SQLCipher write its own lines
        # ("hmac check failed") to standard error from C. Safecase says it in one line.
        conn.execute("PRAGMA cipher_log_level = NONE").fetchall()
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
