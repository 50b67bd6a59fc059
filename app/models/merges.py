"""Merging two records of one person: move every link from the merged record to the kept one,
keep a list of what moved (ids only), and put each back exactly on undo.

Consents, share subjects and DASH checklists are append-only (no UPDATE): a link to one of
them moves by deleting the row and inserting it again, same id and values, with the other
person's id. Rows that would duplicate one the kept record already has (the same case and
role, the same share) are dropped and put back on undo.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

from app.crypto.connection import Connection
from app.errors import InvalidInput
from app.models.db import read


class MergeState(enum.StrEnum):
    PENDING = "pending"
    UNDONE = "undone"
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Merge:
    id: int
    kept_id: int
    merged_id: int
    moved: dict[str, list[list[object]]]  # per link kind: the keys of the rows moved
    dropped: dict[str, list[list[object]]]  # per link kind: duplicate rows removed
    state: MergeState
    merged_at: str


@dataclass(frozen=True)
class _Link:
    table: str
    keys: tuple[str, ...]  # what names one row besides the person
    person: str  # the column holding the person's id
    append_only: bool = False
    dedupe: bool = False  # the person is part of the row's key: a duplicate is dropped
    clash: str = ""  # the person is part of the key and a duplicate cannot be dropped


LINKS = (
    _Link("case_people", ("case_id", "role"), "person_id", dedupe=True),
    _Link("consents", ("id",), "person_id", append_only=True),
    _Link("share_people", ("share_id",), "person_id", append_only=True, dedupe=True),
    _Link("dash_assessments", ("id",), "person_id", append_only=True),
    _Link(
        "safe_contacts",
        ("case_id",),
        "person_id",
        clash="Both records have safe contact details on the same case; keep one of them first.",
    ),
    # A manager's override of the safe-contact rules belongs to the person it was for.
    _Link("contact_overrides", ("id",), "person_id"),
    _Link("cases", ("id",), "referrer_id"),
    _Link("rights_requests", ("id",), "subject_person_id"),
)


def _where(link: _Link) -> str:
    return " AND ".join(f"{k} = ?" for k in link.keys)


def _move_row(conn: Connection, link: _Link, key: list[object], old: int, new: int) -> bool:
    """Move one row's link from ``old`` to ``new``; False when the row is no longer there."""
    where = f"{_where(link)} AND {link.person} = ?"
    if not link.append_only:
        cur = conn.execute(
            f"UPDATE {link.table} SET {link.person} = ? WHERE {where}", (new, *key, old)
        )
        return cur.rowcount > 0
    names = [str(r[1]) for r in read(conn, f"PRAGMA table_info({link.table})")]
    rows = read(conn, f"SELECT {', '.join(names)} FROM {link.table} WHERE {where}", (*key, old))
    if not rows:
        return False
    row = rows[0]
    values = [new if n == link.person else v for n, v in zip(names, row, strict=True)]
    conn.execute(f"DELETE FROM {link.table} WHERE {where}", (*key, old))
    marks = ", ".join("?" * len(names))
    conn.execute(f"INSERT INTO {link.table} ({', '.join(names)}) VALUES ({marks})", values)
    return True


def move_links(
    conn: Connection,
    kept: int,
    merged: int,
    *,
    clash_stays: bool = False,
) -> tuple[dict[str, list[list[object]]], dict[str, list[list[object]]]]:
    """Move every link of ``merged`` to ``kept``; returns (moved, dropped) keys per table.
    ``clash_stays``: a row that clashes with the kept record's stays on the merged record
    instead of refusing the merge (a merge made elsewhere cannot be refused)."""
    moved: dict[str, list[list[object]]] = {}
    dropped: dict[str, list[list[object]]] = {}
    for link in LINKS:
        keys = [
            list(r)
            for r in read(
                conn,
                f"SELECT {', '.join(link.keys)} FROM {link.table} WHERE {link.person} = ? "
                f"ORDER BY {', '.join(link.keys)}",
                (merged,),
            )
        ]
        for key in keys:
            duplicate = (link.dedupe or link.clash) and read(
                conn,
                f"SELECT 1 FROM {link.table} WHERE {_where(link)} AND {link.person} = ?",
                (*key, kept),
            )
            if duplicate and link.clash and clash_stays:
                continue
            if duplicate and link.clash:
                raise InvalidInput(link.clash)
            if duplicate:
                conn.execute(
                    f"DELETE FROM {link.table} WHERE {_where(link)} AND {link.person} = ?",
                    (*key, merged),
                )
                dropped.setdefault(link.table, []).append(key)
            else:
                _move_row(conn, link, key, merged, kept)
                moved.setdefault(link.table, []).append(key)
    return moved, dropped


def put_back(conn: Connection, merge: Merge) -> None:
    """Undo :func:`move_links` exactly: moved rows go back, dropped duplicates return (in the
    reverse order they moved in)."""
    for link in reversed(LINKS):
        for key in reversed(merge.moved.get(link.table, [])):
            _move_row(conn, link, key, merge.kept_id, merge.merged_id)
        for key in merge.dropped.get(link.table, []):
            columns = (*link.keys, link.person)
            marks = ", ".join("?" * len(columns))
            conn.execute(
                f"INSERT OR IGNORE INTO {link.table} ({', '.join(columns)}) VALUES ({marks})",
                (*key, merge.merged_id),
            )


def insert(
    conn: Connection,
    kept: int,
    merged: int,
    moved: dict[str, list[list[object]]],
    dropped: dict[str, list[list[object]]],
    user_id: int,
    now: str,
) -> int:
    cur = conn.execute(
        "INSERT INTO person_merges (kept_id, merged_id, moved, state, merged_by, merged_at) "
        "VALUES (?, ?, ?, 'pending', ?, ?)",
        (kept, merged, json.dumps({"moved": moved, "dropped": dropped}), user_id, now),
    )
    return int(cur.lastrowid or 0)


_COLUMNS = "id, kept_id, merged_id, moved, state, merged_at"


def _merge(r: tuple[object, ...]) -> Merge:
    what = json.loads(str(r[3]))
    return Merge(
        id=int(str(r[0])),
        kept_id=int(str(r[1])),
        merged_id=int(str(r[2])),
        moved=what["moved"],
        dropped=what["dropped"],
        state=MergeState(str(r[4])),
        merged_at=str(r[5]),
    )


def get(conn: Connection, merge_id: int) -> Merge | None:
    rows = read(conn, f"SELECT {_COLUMNS} FROM person_merges WHERE id = ?", (merge_id,))
    return _merge(rows[0]) if rows else None


def pending_for(conn: Connection, person_ids: list[int]) -> list[Merge]:
    """Pending merges that kept one of these people."""
    if not person_ids:
        return []
    marks = ", ".join("?" * len(person_ids))
    rows = read(
        conn,
        f"SELECT {_COLUMNS} FROM person_merges WHERE state = 'pending' "
        f"AND kept_id IN ({marks}) ORDER BY id",
        tuple(person_ids),
    )
    return [_merge(r) for r in rows]


def pending_with(conn: Connection, person_id: int) -> bool:
    """Whether the person is either side of a pending merge."""
    return bool(
        read(
            conn,
            "SELECT 1 FROM person_merges WHERE state = 'pending' "
            "AND (kept_id = ?1 OR merged_id = ?1) LIMIT 1",
            (person_id,),
        )
    )


def decide(conn: Connection, merge_id: int, state: MergeState, user_id: int, now: str) -> None:
    conn.execute(
        "UPDATE person_merges SET state = ?, decided_by = ?, decided_at = ? WHERE id = ?",
        (state.value, user_id, now, merge_id),
    )


def forget_people(conn: Connection, person_ids: list[int]) -> tuple[list[int], int]:
    """Before these people are destroyed: the records merged into them and still pending
    (to destroy with them), and the number of merges that kept them, now removed."""
    if not person_ids:
        return [], 0
    marks = ", ".join("?" * len(person_ids))
    pending = [
        int(str(r[0]))
        for r in read(
            conn,
            f"SELECT merged_id FROM person_merges WHERE state = 'pending' AND kept_id IN ({marks})",
            tuple(person_ids),
        )
    ]
    # A confirmed merge whose merged record is the one being destroyed keeps its row (ids
    # only): that is the merge being confirmed. Every merge that kept a destroyed person goes.
    count = conn.execute(
        f"DELETE FROM person_merges WHERE kept_id IN ({marks})", tuple(person_ids)
    ).rowcount
    return pending, max(0, int(count))
