"""Merges of two records of one person, as they travel between a team's laptops.

A manager merges record X into record Y on one laptop (``app.services.merges``); the merge
travels as ``person.merged`` in the scope of every case Y is on afterwards (so each laptop that
holds one of them hears of it; Y travels first to the cases it joins), and its undo or
confirmation as ``merge.undone`` / ``merge.confirmed`` in the same scopes. The operation's
target is the merge's global id: the copies in several scopes are one merge.

The same operations give the same stores in any order:

- A merge's state is decided by its operations: confirmed if any confirmation is held (a
  confirmation destroys a record, so it wins over an undo made meanwhile elsewhere; both stay
  in the operation log), otherwise undone if an undo is held, otherwise pending.
- Merges take effect in the order of their clock stamps, each only while its two people are
  held here and neither was merged away by an earlier one in effect (two managers merging the
  same record into different ones offline: the earlier merge stands, the later one waits as
  pending, shown as a pending merge for a manager to undo). When a merge arrives or changes
  state, every merge in effect is put back (newest first) and the ones that should be in
  effect are applied again in stamp order, so what moved is the same whatever came first.
- While a merge is in effect, the merged record keeps no links: its consents, share subjects,
  DASH checklists, safe contact details, contact overrides, referrer and rights-request links
  move to the kept record, and any that arrive for it later move at once (each recorded, so an
  undo puts back exactly what moved). Who is on which case is worked out from the operations
  that put people on cases and took them off: the kept record is on a case in a role when its
  own latest change, or the merged record's, put it there.
- A confirmed merge destroys the merged record here too; a later change naming it applies to
  the kept record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from app.crypto.connection import Connection
from app.models import cases as case_model
from app.models import merges as merge_model
from app.models import people as people_model
from app.models import retention as retention_model
from app.models import search as search_model
from app.models.merges import Merge, MergeState
from app.sync import ops
from app.sync.ops import JsonValue, Operation

MERGED, UNDONE, CONFIRMED = "person.merged", "merge.undone", "merge.confirmed"
KINDS = (MERGED, UNDONE, CONFIRMED)


# -- this laptop's merges ---------------------------------------------------------------------


def emit_merged(conn: Connection, merge_id: int, user_id: int, now: str) -> list[Operation]:
    """After a merge made here (the links moved): the kept record goes to every case it is on
    now, then the merge in each of those cases' scopes. Call inside the merge's transaction."""
    merge = merge_model.get(conn, merge_id)
    assert merge is not None
    kept = ops.gid_of(conn, "people", merge.kept_id)
    merged = ops.gid_of(conn, "people", merge.merged_id)
    gid = ops.gid_of(conn, "person_merges", merge_id) or ""
    cases = sorted(people_model.case_ids(conn, merge.kept_id))
    for case_id in cases:
        ops.emit_person_on_case(conn, merge.kept_id, case_id, user_id, now)
    payload: dict[str, JsonValue] = {"kept": kept, "merged": merged}
    made = [ops._new(conn, user_id, now, MERGED, c, gid, payload) for c in cases]
    if not made:  # neither is on a case: the managers hold it
        scope = ops.person_scope(conn, merge.kept_id)
        made.append(ops._new(conn, user_id, now, MERGED, None, gid, payload, scope=scope))
    conn.execute(
        "UPDATE person_merges SET kept_gid = ?, merged_gid = ?, hlc = ?, applied = 1 WHERE id = ?",
        (kept, merged, made[0].hlc, merge_id),
    )
    settle_members(conn)
    return made


def emit_decided(conn: Connection, merge_id: int, kind: str, user_id: int, now: str) -> None:
    """An undo (``UNDONE``) or confirmation (``CONFIRMED``) of a merge made here, in every
    scope the merge travelled in. Call inside its transaction, after the links moved back (an
    undo) or before the merged record is destroyed (a confirmation)."""
    gid = ops.gid_of(conn, "person_merges", merge_id) or ""
    scopes = conn.execute(
        "SELECT DISTINCT scope, case_id FROM operations WHERE kind = ? AND target = ? "
        "ORDER BY scope",
        (MERGED, gid),
    ).fetchall()
    for scope, case_id in scopes:
        case = None if case_id is None else int(case_id)
        ops._new(conn, user_id, now, kind, case, gid, {}, scope=str(scope))
    if kind == UNDONE:  # a merge it kept waiting may stand now
        conn.execute("UPDATE person_merges SET applied = 0 WHERE id = ?", (merge_id,))
        settle(conn, again=True)


# -- merges from elsewhere --------------------------------------------------------------------


@dataclass
class _Row:
    id: int
    gid: str
    kept_gid: str
    merged_gid: str
    kept_id: int
    merged_id: int
    state: MergeState
    applied: bool
    hlc: str


def _rows(conn: Connection) -> list[_Row]:
    rows = conn.execute(
        "SELECT id, gid, kept_gid, merged_gid, kept_id, merged_id, state, applied, hlc "
        "FROM person_merges WHERE hlc IS NOT NULL ORDER BY hlc, gid"
    ).fetchall()
    return [
        _Row(
            int(r[0]),
            str(r[1]),
            str(r[2]),
            str(r[3]),
            int(r[4]),
            int(r[5]),
            MergeState(str(r[6])),
            bool(r[7]),
            str(r[8] or ""),
        )
        for r in rows
    ]


def merged_into(conn: Connection, gid: str) -> str | None:
    """The global id of the record a confirmed merge kept instead of ``gid``, if any."""
    row = conn.execute(
        "SELECT kept_gid FROM person_merges WHERE merged_gid = ? AND state = 'confirmed' "
        "AND hlc IS NOT NULL ORDER BY hlc LIMIT 1",
        (gid,),
    ).fetchone()
    return None if row is None else str(row[0])


def _local(conn: Connection, gid: str) -> int:
    row = conn.execute("SELECT id FROM people WHERE gid = ?", (gid,)).fetchone()
    return 0 if row is None else int(row[0])


def apply(conn: Connection, op: Operation, case_id: int | None) -> bool:
    """Take in a merge, or its undo or confirmation, made on another laptop."""
    row = conn.execute("SELECT id, state FROM person_merges WHERE gid = ?", (op.target,)).fetchone()
    again = True
    if op.kind == MERGED:
        kept, merged = str(op.payload.get("kept")), str(op.payload.get("merged"))
        if not _local(conn, kept) and merged_into(conn, kept) is None:
            # The kept record travels first in the same scope (unless a merge destroyed it).
            raise ops.CannotApply("A merge arrived before the record it kept.")
        if row is None:
            user = ops.id_of(conn, "users", op.user) if op.user else None
            conn.execute(
                "INSERT INTO person_merges (kept_id, merged_id, moved, state, merged_by, "
                "merged_at, gid, kept_gid, merged_gid, hlc, applied) "
                "VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, 0)",
                (
                    _local(conn, kept),
                    _local(conn, merged),
                    json.dumps({"moved": {}, "dropped": {}}),
                    user,
                    ops._hlc_time(op.hlc),
                    op.target,
                    kept,
                    merged,
                    op.hlc,
                ),
            )
        else:  # a copy from another scope of a merge held already
            again = False
    elif row is None:
        raise ops.CannotApply("A merge's decision arrived before the merge.")
    else:
        state = MergeState.CONFIRMED if op.kind == CONFIRMED else MergeState.UNDONE
        if MergeState(str(row[1])) is not MergeState.CONFIRMED:
            user = ops.id_of(conn, "users", op.user) if op.user else None
            conn.execute(
                "UPDATE person_merges SET state = ?, decided_by = ?, decided_at = ? WHERE id = ?",
                (state.value, user, ops._hlc_time(op.hlc), int(row[0])),
            )
    ops._append(conn, op, case_id, local=False)
    settle(conn, again=again)
    return True


def touches(conn: Connection, op: Operation) -> bool:
    """Whether an operation just applied names a record in a merge that is in effect here or
    waits for it (then what it brought is settled: links moved, who is on which case worked
    out, a merge whose record just arrived applied)."""
    rows = conn.execute(
        "SELECT kept_gid, merged_gid FROM person_merges WHERE hlc IS NOT NULL "
        "AND (applied = 1 OR state != 'undone')"
    ).fetchall()
    if not rows:
        return False
    text = ops._canonical(op.as_json())
    return any(str(gid) in text for row in rows for gid in row)


def settle(conn: Connection, *, again: bool = False) -> None:
    """Bring this laptop's merges to what the operations held decide. ``again``: a merge
    arrived or changed state, so every merge in effect is put back and applied again in stamp
    order; otherwise only links that arrived since move (and who is on which case). A merge
    whose kept record was itself merged away keeps into that one's kept record."""
    rows = _rows(conn)
    # Records destroyed by a confirmed merge stand for the record kept, for good.
    gone = {r.merged_gid: r.kept_gid for r in rows if r.applied and not _present(conn, r)}
    for row in rows:  # a record that arrived since the merge did
        merged = _local(conn, row.merged_gid)
        if merged != row.merged_id and not row.applied:
            _set_ids(conn, row, row.kept_id, merged)
    moved_people: set[int] = set()
    if again:
        for row in reversed(rows):
            if row.applied and _present(conn, row):
                _set_ids(conn, row, _kept_now(conn, row, gone), row.merged_id)
                merge_model.put_back(conn, _merge(conn, row))
                _set_moved(conn, row.id, {}, {}, applied=False)
                row.applied = False
                moved_people.update((row.kept_id, row.merged_id))
    into = dict(gone)
    for row in rows:
        if row.applied and not _present(conn, row):
            continue
        if row.applied:  # in effect: what arrived for the merged record since moves too
            kept = _kept_now(conn, row, gone)
            into[row.merged_gid] = _root(row.kept_gid, into)
        else:
            target = _root(row.kept_gid, into)
            kept = _local(conn, target)
            wanted = (
                row.state is not MergeState.UNDONE
                and kept > 0
                and row.merged_id > 0
                and row.merged_gid not in into
                and target != row.merged_gid
            )
            if not wanted:
                continue
            if not again:  # its place among the merges in effect is by stamp: all again
                settle(conn, again=True)
                return
            into[row.merged_gid] = target
        _set_ids(conn, row, kept, row.merged_id)
        merge = _merge(conn, row)
        moved, dropped = merge_model.move_links(conn, kept, row.merged_id, clash_stays=True)
        _set_moved(
            conn, row.id, _joined(merge.moved, moved), _joined(merge.dropped, dropped), applied=True
        )
        row.applied = True
        if moved or dropped:
            moved_people.update((kept, row.merged_id))
    settle_members(conn)
    _reindex(conn, sorted(moved_people))
    for row in rows:
        if row.state is MergeState.CONFIRMED and row.applied and _present(conn, row):
            _reindex(conn, [row.merged_id, row.kept_id])
            retention_model.delete_people(conn, [row.merged_id])


def _root(gid: str, into: dict[str, str]) -> str:
    seen: set[str] = set()
    while gid in into and gid not in seen:
        seen.add(gid)
        gid = into[gid]
    return gid


def _kept_now(conn: Connection, row: _Row, gone: dict[str, str]) -> int:
    """Where a merge in effect moved its links to: its kept record, or if that was destroyed
    by a confirmed merge since, the record that one kept."""
    held_here = conn.execute("SELECT 1 FROM people WHERE id = ?", (row.kept_id,)).fetchone()
    return row.kept_id if held_here else _local(conn, _root(row.kept_gid, gone))


def _set_ids(conn: Connection, row: _Row, kept: int, merged: int) -> None:
    if (kept, merged) != (row.kept_id, row.merged_id):
        conn.execute(
            "UPDATE person_merges SET kept_id = ?, merged_id = ? WHERE id = ?",
            (kept, merged, row.id),
        )
        row.kept_id, row.merged_id = kept, merged


def _present(conn: Connection, row: _Row) -> bool:
    return row.merged_id > 0 and _local(conn, row.merged_gid) == row.merged_id


def _merge(conn: Connection, row: _Row) -> Merge:
    merge = merge_model.get(conn, row.id)
    assert merge is not None
    return merge


def _joined(
    a: dict[str, list[list[object]]], b: dict[str, list[list[object]]]
) -> dict[str, list[list[object]]]:
    out = {k: list(v) for k, v in a.items()}
    for k, v in b.items():
        out.setdefault(k, []).extend(v)
    return out


def _set_moved(
    conn: Connection,
    merge_id: int,
    moved: dict[str, list[list[object]]],
    dropped: dict[str, list[list[object]]],
    *,
    applied: bool,
) -> None:
    conn.execute(
        "UPDATE person_merges SET moved = ?, applied = ? WHERE id = ?",
        (json.dumps({"moved": moved, "dropped": dropped}), int(applied), merge_id),
    )


# -- who is on which case, with merges --------------------------------------------------------


def settle_members(conn: Connection) -> None:
    """For everyone in a merge held here: on a case in a role when the latest change of that
    role for them, or for a record merged into them and in effect, put them there; a record
    merged away is on no case. Only roles some change named are settled."""
    rows = _rows(conn)
    if not rows:
        return
    parent = {
        r.merged_gid: r.kept_gid
        for r in rows
        if r.applied and r.kept_id > 0 and r.state is not MergeState.UNDONE
    }
    people = {g for r in rows for g in (r.kept_gid, r.merged_gid)}
    marks = ", ".join("?" * len(people))
    changes = conn.execute(
        f"SELECT case_id, target, kind, payload, hlc FROM operations "
        f"WHERE kind IN (?, ?) AND target IN ({marks}) AND case_id IS NOT NULL ORDER BY hlc",
        (*ops.MEMBER_KINDS, *sorted(people)),
    ).fetchall()
    latest: dict[tuple[int, str, str], bool] = {}
    for case_id, target, kind, payload, _ in changes:
        role = str(json.loads(str(payload)).get("role"))
        latest[(int(case_id), role, str(target))] = kind == ops.MEMBER_KINDS[0]

    def root(gid: str) -> str:
        seen = set()
        while gid in parent and gid not in seen:
            seen.add(gid)
            gid = parent[gid]
        return gid

    touched = {c for c, _, _ in latest}  # links a merge moved change the client's name too
    for case_id, role in sorted({(c, r) for c, r, _ in latest}):
        named = {g: linked for (c, r, g), linked in latest.items() if (c, r) == (case_id, role)}
        for gid in sorted(people):
            if gid in parent:  # merged away: on no case, once a change named it here
                wanted, known = False, gid in named
            else:
                tree = [g for g in named if root(g) == gid]
                wanted, known = any(named[g] for g in tree), bool(tree)
            person = _local(conn, gid)
            if known and person:
                _member_set(conn, case_id, person, role, wanted)
    for case_id in sorted(touched):
        ops._refresh_case_client(conn, case_id)


def _member_set(conn: Connection, case_id: int, person_id: int, role: str, on: bool) -> None:
    """Put the person on the case in ``role`` or take them off."""
    held = conn.execute(
        "SELECT 1 FROM case_people WHERE case_id = ? AND person_id = ? AND role = ?",
        (case_id, person_id, role),
    ).fetchone()
    if (held is not None) == on:
        return
    was_member = case_model.is_member(conn, case_id, person_id)
    if on:
        conn.execute(
            "INSERT INTO case_people (case_id, person_id, role) VALUES (?, ?, ?)",
            (case_id, person_id, role),
        )
        person = people_model.get(conn, person_id)
        if person is not None and not was_member:
            search_model.index_person(conn, case_id, person, new=True)
    else:
        conn.execute(
            "DELETE FROM case_people WHERE case_id = ? AND person_id = ? AND role = ?",
            (case_id, person_id, role),
        )
        if not case_model.is_member(conn, case_id, person_id):
            search_model.unindex_person(conn, case_id, person_id)


def _reindex(conn: Connection, person_ids: list[int]) -> None:
    for person_id in person_ids:
        person = people_model.get(conn, person_id)
        if person is not None:
            search_model.reindex_person(conn, person, people_model.case_ids(conn, person_id))
