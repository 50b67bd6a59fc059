"""Transactions, with database errors sorted into ones a user can act on."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import sqlcipher3

from app.crypto.connection import Connection, classify

log = logging.getLogger("safecase.models")


@contextlib.contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """Run the block in one write transaction; roll it all back if anything fails."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlcipher3.DatabaseError as exc:
        raise (classify(exc) or exc) from None
    try:
        yield conn
        conn.execute("COMMIT")
    except sqlcipher3.DatabaseError as exc:
        _roll_back(conn)
        raise (classify(exc) or exc) from None
    except BaseException:
        _roll_back(conn)
        raise


def _roll_back(conn: Connection) -> None:
    """Undo the open transaction, never hiding the error that stopped it.

    After a full disk or an I/O error SQLite may already have rolled back, and then its
    ROLLBACK fails ("no transaction is active"); the first error is the one to report.
    """
    try:
        conn.execute("ROLLBACK")
    except sqlcipher3.DatabaseError as exc:
        log.info("rollback after a failed transaction failed: %s", type(exc).__name__)


def read(conn: Connection, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Run one query, sorting a damaged or locked store into its user-facing error."""
    try:
        return list(conn.execute(sql, params).fetchall())
    except sqlcipher3.DatabaseError as exc:
        raise (classify(exc) or exc) from None


def limit(rows: int, offset: int = 0) -> str:
    """A ``LIMIT`` clause with its numbers written into the SQL.

    The SQLite inside SQLCipher counts a bound ``LIMIT ?`` as a value its plan depends on,
    so binding one made the statement compile again on every run: 10 to 25 microseconds,
    more than most lookups take. The numbers are forced to integers, so nothing but digits
    reaches the SQL.
    """
    rows, offset = int(rows), int(offset)
    if rows < 0 or offset < 0:
        raise ValueError("a limit or offset is never negative")
    return f" LIMIT {rows}" + (f" OFFSET {offset}" if offset else "")
