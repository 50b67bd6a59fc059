"""Transactions, with database errors sorted into ones a user can act on."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

import sqlcipher3

from app.crypto.connection import Connection, classify

log = logging.getLogger("safecase.models")

# Work to do once the open transaction on a connection has committed, by connection and name.
_AFTER_COMMIT: dict[int, dict[str, Callable[[], None]]] = {}


def after_commit(conn: Connection, name: str, action: Callable[[], None]) -> None:
    """Run ``action`` once the transaction open on ``conn`` commits; never if it rolls back.

    A second action under the same name replaces the first, so the last one wins. For work
    outside the store that must never run ahead of it (the audit anchor beside the file).
    """
    _AFTER_COMMIT.setdefault(id(conn), {})[name] = action


def _run_after_commit(conn: Connection) -> None:
    for name, action in _AFTER_COMMIT.pop(id(conn), {}).items():
        try:
            action()
        except Exception as exc:
            # The transaction has committed: what follows it must never undo or hide that.
            log.warning("after commit, %s failed: %s", name, type(exc).__name__)


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
        _AFTER_COMMIT.pop(id(conn), None)
        _roll_back(conn)
        raise (classify(exc) or exc) from None
    except BaseException:
        _AFTER_COMMIT.pop(id(conn), None)
        _roll_back(conn)
        raise
    _run_after_commit(conn)


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
