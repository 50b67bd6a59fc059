"""Users and their roles."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.crypto.connection import Connection
from app.models.db import read


class Role(enum.StrEnum):
    CASEWORKER = "caseworker"
    MANAGER = "manager"
    ADMIN = "admin"
    DPO = "dpo"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    roles: frozenset[Role]
    slot_id: str | None
    disabled: bool
    team_id: int = 1

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles


def encode_roles(roles: frozenset[Role]) -> str:
    return ",".join(sorted(r.value for r in roles))


def _row(row: tuple[object, ...]) -> User:
    return User(
        id=int(str(row[0])),
        username=str(row[1]),
        roles=frozenset(Role(r) for r in str(row[2]).split(",") if r),
        slot_id=None if row[3] is None else str(row[3]),
        disabled=bool(row[4]),
        team_id=int(str(row[5])) if len(row) > 5 else 1,
    )


_COLUMNS = "id, username, roles, slot_id, disabled, team_id"


def by_name(conn: Connection, username: str) -> User | None:
    rows = read(conn, f"SELECT {_COLUMNS} FROM users WHERE username = ?", (username.strip(),))
    return _row(rows[0]) if rows else None


def by_slot(conn: Connection, slot_id: str) -> User | None:
    rows = read(conn, f"SELECT {_COLUMNS} FROM users WHERE slot_id = ?", (slot_id,))
    return _row(rows[0]) if rows else None


def by_id(conn: Connection, user_id: int) -> User | None:
    rows = read(conn, f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
    return _row(rows[0]) if rows else None


def all_users(conn: Connection) -> list[User]:
    return [_row(r) for r in read(conn, f"SELECT {_COLUMNS} FROM users ORDER BY username")]


def insert(
    conn: Connection, username: str, roles: frozenset[Role], slot_id: str | None, now: str
) -> int:
    cur = conn.execute(
        "INSERT INTO users (username, roles, slot_id, created_at) VALUES (?, ?, ?, ?)",
        (username.strip(), encode_roles(roles), slot_id, now),
    )
    return int(cur.lastrowid or 0)


def set_slot(conn: Connection, user_id: int, slot_id: str | None) -> None:
    conn.execute("UPDATE users SET slot_id = ? WHERE id = ?", (slot_id, user_id))


def set_disabled(conn: Connection, user_id: int, disabled: bool) -> None:
    conn.execute("UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), user_id))


def clear_slots(conn: Connection) -> None:
    """Forget every user's slot (a restored store starts with the recovery slot alone)."""
    conn.execute("UPDATE users SET slot_id = NULL")
