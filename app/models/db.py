"""Transactions, with database errors sorted into ones a user can act on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlcipher3

from app.crypto.connection import Connection, classify


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
        conn.execute("ROLLBACK")
        raise (classify(exc) or exc) from None
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def read(conn: Connection, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Run one query, sorting a damaged or locked store into its user-facing error."""
    try:
        return list(conn.execute(sql, params).fetchall())
    except sqlcipher3.DatabaseError as exc:
        raise (classify(exc) or exc) from None
