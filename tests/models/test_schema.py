"""Migrations: an older store is brought up to date, a newer one is refused untouched."""

from __future__ import annotations

import pytest

from app.crypto.connection import Connection
from app.crypto.device import DeviceSecrets
from app.errors import NewerStore
from app.models.schema import SCHEMA_VERSION, migrate, version
from app.services import accounts
from tests.helpers import ADMIN, ADMIN_PW, StoreCopy


def test_an_older_store_runs_each_missing_step_once(store: StoreCopy) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    conn = session.conn
    assert version(conn) == SCHEMA_VERSION
    ran: list[int] = []

    def step(number: int):  # type: ignore[no-untyped-def]
        def run(c: Connection) -> None:
            ran.append(number)
            c.execute(f"CREATE TABLE extra_{number} (x INTEGER)")

        return run

    from app.models.schema import MIGRATIONS

    steps = [*MIGRATIONS, step(2), step(3)]
    assert migrate(conn, steps) == SCHEMA_VERSION + 2
    assert migrate(conn, steps) == SCHEMA_VERSION + 2
    assert ran == [2, 3]
    accounts.sign_out(session)


def test_a_failing_step_leaves_the_store_at_the_last_good_version(store: StoreCopy) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    from app.models.schema import MIGRATIONS

    def broken(c: Connection) -> None:
        c.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("step failed")

    with pytest.raises(RuntimeError):
        migrate(session.conn, [*MIGRATIONS, broken])
    assert version(session.conn) == SCHEMA_VERSION
    tables = {r[0] for r in session.conn.execute("SELECT name FROM sqlite_master")}
    assert "half_done" not in tables
    accounts.sign_out(session)


def test_a_newer_store_is_refused(store: StoreCopy) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    with pytest.raises(NewerStore):
        migrate(session.conn, [])
    assert version(session.conn) == SCHEMA_VERSION
    accounts.sign_out(session)
