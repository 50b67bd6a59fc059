"""Helpers for team tests: several laptops in one process, each its own store, one tmp folder.

``carry_case`` puts a copy of a case (the case, its people, their links and the client's safe
contact details, with the same global ids) into another laptop's store. It stands in for the
operations that create a case and its people (helper "ops2"): until they travel, a journey
starts from a case present on the laptops that hold it; once they do, it does nothing and the
case arrives by syncing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from app.crypto.connection import Connection
from app.crypto.device import DeviceSecrets
from app.models import users as user_model
from app.models.db import transaction
from app.models.users import Role
from app.services import team as team_service
from app.services.session import Session
from app.sync import ops
from tests.helpers import TEST_KDF, MemoryKeyring

# The rows a case is made of, children after what they point at.
CASE_TABLES = ("people", "cases", "case_people", "safe_contacts")


def _columns(conn: Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})").fetchall()]


def _links(conn: Connection, table: str) -> dict[str, str]:
    return {str(r[3]): str(r[2]) for r in conn.execute(f"PRAGMA foreign_key_list({table})")}


# Once the operations that create a case travel, a case reaches its laptops by syncing.
CASES_TRAVEL = "case.created" in getattr(ops, "CREATE_KINDS", {})


def carry_case(source: Connection, target: Connection, case_id: int) -> None:
    """A copy of case ``case_id`` in ``target`` with the same global ids, unless cases travel
    by themselves (then nothing: they arrive with the next sync). Users are matched by global
    id; people and the case get new local ids."""
    if CASES_TRAVEL:
        return
    people = [
        int(r[0])
        for r in source.execute(
            "SELECT person_id FROM case_people WHERE case_id = ?", (case_id,)
        ).fetchall()
    ]
    new_ids: dict[str, dict[int, int]] = {"people": {}, "cases": {}}
    with transaction(target):
        for table in CASE_TABLES:
            names = _columns(source, table)
            links = _links(source, table)
            if table == "people":
                where, args = f"id IN ({', '.join('?' * len(people))})", people
            elif table == "cases":
                where, args = "id = ?", [case_id]
            else:
                where, args = "case_id = ?", [case_id]
            rows = source.execute(f"SELECT {', '.join(names)} FROM {table} WHERE {where}", args)
            for row in rows.fetchall():
                values = dict(zip(names, row, strict=True))
                old_id = values.pop("id", None)
                for column, parent in links.items():
                    value = values.get(column)
                    if value is None:
                        continue
                    if parent == "users":
                        gid = source.execute("SELECT gid FROM users WHERE id = ?", (value,))
                        found = target.execute(
                            "SELECT id FROM users WHERE gid = ?", (gid.fetchone()[0],)
                        ).fetchone()
                        values[column] = None if found is None else int(found[0])
                    elif parent in new_ids:
                        values[column] = new_ids[parent][int(value)]
                marks = ", ".join("?" * len(values))
                cur = target.execute(
                    f"INSERT INTO {table} ({', '.join(values)}) VALUES ({marks})",
                    list(values.values()),
                )
                if old_id is not None and table in new_ids:
                    new_ids[table][int(old_id)] = int(cur.lastrowid or 0)


def give_roles(session: Session, roles: frozenset[Role]) -> None:
    """Test set-up: the signed-in user holds ``roles`` (an admin who also manages)."""
    with transaction(session.conn):
        session.conn.execute(
            "UPDATE users SET roles = ? WHERE id = ?",
            (user_model.encode_roles(roles), session.user_id),
        )
    session.roles = roles


def join_laptop(
    admin: Session, username: str, folder: Path, keyring: MemoryKeyring, password: str
) -> Session:
    """Invite ``username`` from the admin's laptop and join with a new store in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    invitation = folder / f"{username}.invitation"
    passphrase = team_service.invite(admin, username, invitation, params=TEST_KDF)
    store = folder / username / "cases.safecase"
    store.parent.mkdir(parents=True)
    session, recovery = team_service.join(
        invitation, passphrase, store, password, device=DeviceSecrets(keyring), kdf=TEST_KDF
    )
    assert recovery.count("-") == 12
    return session


def case_by_gid(conn: Connection, gid: str) -> int | None:
    row = conn.execute("SELECT id FROM cases WHERE gid = ?", (gid,)).fetchone()
    return None if row is None else int(row[0])


def later(session: Session, minutes: int) -> None:
    """Move the laptop's clock on (each laptop keeps its own)."""
    start = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    ticks = iter(range(10**9))

    def now() -> str:
        moment = start + dt.timedelta(milliseconds=next(ticks))
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    session.now = now


__all__ = ["carry_case", "case_by_gid", "dataclasses", "give_roles", "join_laptop", "later"]
