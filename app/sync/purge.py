"""Purge across a team: retention facts travel to the admin, a purge is an operation, every
laptop destroys the case on receipt and says so (core only, no Qt).

Three kinds of operation, none with personal data beyond what retention itself needs:

- ``case.retention_facts`` (scope "retention": managers' and admins' key). What the schedule
  reads of one case: its reference, closure date, whether a legal hold is on it and its
  review date, whether an open rights request is about anyone on it, whether a child on it
  has no date of birth recorded, and the one date the child rule needs (the birth date of the
  youngest person who was a child while supported), never a name or a note. A manager's (or
  admin's) laptop that holds cases sends them at seal time for each case whose facts differ
  from what it last knew (``send_facts``: only cases with a change since its last send are
  looked at), so no case write has to. Each carries the newest change of the case its sender
  had seen; the admin's laptop keeps, per case, the facts computed after the newest change
  (then the latest sent) in ``team_retention``, so a laptop that had not heard of a legal hold
  cannot lift it there, and lists the team's due cases from it. Only a manager's or admin's
  device may send them.
- ``case.destroyed`` (scope "team": every live device holds that key). The case's global id
  only. Made in the transaction of the admin's purge (or carried-out erasure) that destroyed
  the case (``order_destruction``). A receiver records it only from an admin's device
  (``take``), then, after the read, destroys the case as a purge does: the records, the
  case's keys, its waiting operations, its search entries, then a checkpoint; audited
  (``carry_out``). Any later operation of that case is dropped on arrival, and so are the
  keys of the case if a late grant brings one.
- ``case.destroy_confirmed`` (scope "team"): the case's global id and whether this laptop
  held it. Every laptop sends one, those that never held the case too. The admin's laptop
  lists per case which devices confirmed and which have not (``acknowledgements``).

Applying any of them twice, or in any order, changes nothing more. The case keys are gone
from every laptop that confirmed, so the case's envelopes in the folder, the server or any
backup of either can no longer be opened with a key held in ``team_keys`` anywhere; the
admin's compaction then deletes them (``compaction_scopes``).

Left undone: a device's long-term X25519 key still opens the grant envelopes sealed to it,
and a grant may have carried the case key; a backup of the folder taken before compaction
keeps both, so someone holding a live laptop's device keys and such a backup could still read
the case until device keys are rotated (which revocation, not purge, does).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from app.crypto.connection import Connection
from app.crypto.team import Directory
from app.models import retention as retention_model
from app.models import settings as settings_model
from app.models.convert import date_text, parse_date
from app.models.users import Role
from app.sync import engine, ops
from app.sync.clock import new_uuid7

DESTROYED = "case.destroyed"
CONFIRMED = "case.destroy_confirmed"
FACTS = "case.retention_facts"
TEAM = "team"
RETENTION = "retention"
KINDS = frozenset({DESTROYED, CONFIRMED, FACTS})

REFUSED_ORDER = (
    "An order to destroy a case came from a device that is not an admin's; it was ignored."
)


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _directory(conn: Connection) -> Directory:
    row = conn.execute("SELECT directory FROM team WHERE id = 1").fetchone()
    return Directory.from_body(bytes(row[0]))


def _my_device(conn: Connection) -> str:
    return str(conn.execute("SELECT device_id FROM team WHERE id = 1").fetchone()[0])


def _emit(
    conn: Connection,
    user_id: int,
    now: str,
    kind: str,
    scope: str,
    target: str,
    payload: dict[str, ops.JsonValue],
) -> ops.Operation:
    """Append one of this laptop's team operations to the outbox (no case of its own)."""
    device = ops.device_id(conn)
    now_ms = ops._ms(now)
    op = ops.Operation(
        op_id=new_uuid7(now_ms),
        hlc=ops._tick(conn, device, now_ms).encode(),
        device=device,
        user=ops.gid_of(conn, "users", user_id) or "",
        kind=kind,
        scope=scope,
        target=target,
        payload=payload,
    )
    ops._append(conn, op, None, local=True)
    return op


def _acknowledge(conn: Connection, case_gid: str, device: str, at: str, held: bool) -> None:
    conn.execute(
        "INSERT INTO team_purge_acks (case_gid, device, at, held) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (case_gid, device, at, int(held)),
    )


def _forget(conn: Connection, case_gid: str) -> None:
    """What this laptop still keeps of a destroyed case besides its records: its keys, its
    waiting operations, and what retention knew of it."""
    scope = f"case:{case_gid}"
    conn.execute("DELETE FROM team_keys WHERE scope = ?", (scope,))
    conn.execute(
        "DELETE FROM team_pending WHERE json_extract(operation, '$[0].scope') = ?", (scope,)
    )
    conn.execute("DELETE FROM team_retention WHERE case_gid = ?", (case_gid,))
    conn.execute("DELETE FROM team_retention_decisions WHERE case_gid = ?", (case_gid,))
    conn.execute("DELETE FROM operations WHERE kind = ? AND target = ?", (FACTS, case_gid))


# -- the purge that orders it -----------------------------------------------------------------


def order_destruction(
    conn: Connection,
    case_gid: str,
    reference: str,
    run_id: str,
    user_id: int,
    now: str,
    *,
    held: bool = True,
) -> None:
    """On the admin's laptop, in the transaction that destroyed (or, for a case it does not
    hold, decided to destroy) the case: the order to every laptop, this laptop's own
    confirmation (``held``: whether it held the case), and the list of devices expected to
    confirm. Nothing if not in a team."""
    if not engine.joined(conn):
        return
    directory = _directory(conn)
    me = _my_device(conn)
    _emit(conn, user_id, now, DESTROYED, TEAM, case_gid, {})
    expected = sorted(d.id for d in directory.live_devices())
    conn.execute(
        "INSERT INTO team_purged (case_gid, reference, run_id, ordered_at, ordered_by, expected, "
        "done) VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT (case_gid) DO UPDATE SET "
        "reference = excluded.reference, run_id = excluded.run_id",
        (case_gid, reference, run_id, now, me, _canonical(expected)),
    )
    _acknowledge(conn, case_gid, me, now, held)
    _forget(conn, case_gid)


# -- receiving ------------------------------------------------------------------------------


def _purged(conn: Connection, case_gid: str) -> bool:
    row = conn.execute("SELECT 1 FROM team_purged WHERE case_gid = ?", (case_gid,)).fetchone()
    return row is not None


def _from_admin(directory: Directory, sender: str, op: ops.Operation) -> bool:
    device = directory.device(sender)
    user = directory.user(op.user)
    return (
        device is not None
        and device.user == op.user
        and user is not None
        and not user.disabled
        and Role.ADMIN.value in user.roles
    )


def take(
    conn: Connection, sender: str, incoming: Sequence[ops.Operation], now: str
) -> list[ops.Operation]:
    """Record the team and retention operations of an envelope from ``sender`` and drop the
    operations of destroyed cases; returns the rest, for ``ops.apply_all``."""
    rest: list[ops.Operation] = []
    directory: Directory | None = None
    for op in incoming:
        if op.kind == DESTROYED and op.scope == TEAM:
            directory = directory or _directory(conn)
            if not _from_admin(directory, sender, op):
                engine.log(conn, now, REFUSED_ORDER, sender, None)
                continue
            expected = sorted(d.id for d in directory.live_devices())
            conn.execute(
                "INSERT INTO team_purged (case_gid, ordered_at, ordered_by, expected) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (case_gid) DO NOTHING",
                (op.target, ops._hlc_time(op.hlc), sender, _canonical(expected)),
            )
            _acknowledge(conn, op.target, sender, ops._hlc_time(op.hlc), True)
        elif op.kind == CONFIRMED and op.scope == TEAM:
            if op.device == sender:
                held = bool(op.payload.get("held"))
                _acknowledge(conn, op.target, sender, ops._hlc_time(op.hlc), held)
        elif op.kind == FACTS and op.scope == RETENTION:
            directory = directory or _directory(conn)
            device = directory.device(sender)
            may = device is not None and device.user in engine.scope_users(directory, RETENTION)
            if may and not _purged(conn, op.target):
                _keep_facts(conn, op)
        elif op.scope.startswith("case:") and _purged(conn, op.scope.partition(":")[2]):
            continue  # a destroyed case's later change: nothing here to apply it to
        else:
            rest.append(op)
    return rest


def carry_out(conn: Connection, user_id: int, now: str) -> int:
    """Destroy each case an admin ordered destroyed and not yet destroyed here, as a purge
    does, audited in the admin's name; confirm each (held or not). Call inside a transaction
    after reading; returns how many cases were destroyed here. Keys of destroyed cases that
    came since (a late grant) go too."""
    from app.services import audit

    conn.execute(
        "DELETE FROM team_keys WHERE scope IN "
        "(SELECT 'case:' || case_gid FROM team_purged WHERE done = 1)"
    )
    rows = conn.execute(
        "SELECT p.case_gid, c.id, p.ordered_by FROM team_purged p "
        "LEFT JOIN cases c ON c.gid = p.case_gid WHERE p.done = 0 ORDER BY p.case_gid"
    ).fetchall()
    directory = _directory(conn)
    me = _my_device(conn)
    destroyed = 0
    for case_gid, case_id, ordered_by in rows:
        held = case_id is not None
        if held:
            retention_model.destroy_case(
                conn, int(case_id), retention_model.erased_line(now[:10], "team purge")
            )
            destroyed += 1
        _forget(conn, str(case_gid))
        if held:
            admin = _local_user(conn, directory, str(ordered_by))
            audit.record(
                conn,
                admin if admin is not None else user_id,
                audit.CASE_DESTROYED,
                f"case:{int(case_id)}",
                f"team_purge case_gid={case_gid}",
                at=now,
            )
        _emit(conn, user_id, now, CONFIRMED, TEAM, str(case_gid), {"held": held})
        _acknowledge(conn, str(case_gid), me, now, held)
        conn.execute("UPDATE team_purged SET done = 1 WHERE case_gid = ?", (case_gid,))
    return destroyed


def _local_user(conn: Connection, directory: Directory, device_id: str) -> int | None:
    """The local id of the user of a device in the directory, if this store has them."""
    device = directory.device(device_id)
    if device is None:
        return None
    row = conn.execute("SELECT id FROM users WHERE gid = ?", (device.user,)).fetchone()
    return None if row is None else int(row[0])


# -- retention facts ------------------------------------------------------------------------


# How far this laptop's operation log was read for cases whose retention facts may have
# changed: a change to anything retention reads is an operation filed under the case, or under
# a person on it (their date of birth); open rights requests are looked at every time.
FACTS_UPTO = "sync.retention_facts_upto"
_CHANGED = (
    "SELECT case_id FROM operations WHERE id > ?1 AND case_id IS NOT NULL "
    "UNION SELECT cp.case_id FROM operations o JOIN case_people cp ON cp.person_id = o.person_id "
    "WHERE o.id > ?1 "
    "UNION SELECT cp.case_id FROM rights_requests r "
    "JOIN case_people cp ON cp.person_id = r.subject_person_id"
)


def case_facts(
    conn: Connection, case_ids: Sequence[int] | None = None
) -> dict[str, tuple[str, dict[str, object]]]:
    """What retention needs of each case this laptop holds (of ``case_ids``, if given), by
    global id: its reference and the facts the schedule reads (an open case has no closure
    date)."""
    found: dict[str, tuple[str, dict[str, object]]] = {}
    where = "1"
    params: tuple[int, ...] = ()
    if case_ids is not None:
        where = f"c.id IN ({', '.join('?' * len(case_ids)) or 'NULL'})"
        params = tuple(case_ids)
    for gid, reference in conn.execute(
        f"SELECT c.gid, c.reference FROM cases c WHERE {where}", params
    ).fetchall():
        found[str(gid)] = (str(reference), {"closed_date": None})
    closed = conn.execute(
        retention_model._CANDIDATES.replace("SELECT c.id,", "SELECT c.gid,", 1) + where, params
    ).fetchall()
    for row in closed:
        supported_from = parse_date(row[8]) or parse_date(row[2])
        assert supported_from is not None
        born = [parse_date(t) for t in str(row[5] or "").split(",") if t]
        youngest = retention_model.youngest_supported_child(
            (b for b in born if b is not None), supported_from
        )
        found[str(row[0])] = (
            str(row[1]),
            {
                "closed_date": row[2],
                "hold": bool(row[3]),
                "hold_review": row[4] if row[3] else None,
                "youngest_child_born": date_text(youngest),
                "child_unknown": bool(row[6]),
                "open_request": bool(row[7]),
            },
        )
    return found


def send_facts(conn: Connection, directory: Directory, user_id: int, now: str) -> int:
    """On a laptop whose user may hold the retention key: a facts operation for each case
    held here whose facts differ from what this laptop last knew (call inside the seal's
    transaction, before the outbox is read). Returns how many were made."""
    me = ops.gid_of(conn, "users", user_id) or ""
    if me not in engine.scope_users(directory, RETENTION):
        return 0
    upto = int(settings_model.get(conn, FACTS_UPTO) or 0)
    latest = int(conn.execute("SELECT COALESCE(max(id), 0) FROM operations").fetchone()[0])
    changed = [int(r[0]) for r in conn.execute(_CHANGED, (upto,)).fetchall()]
    if latest != upto:
        settings_model.put(conn, FACTS_UPTO, str(latest))
    if not changed:
        return 0
    known = {
        str(r[0]): (str(r[1]), str(r[2]))
        for r in conn.execute("SELECT case_gid, reference, facts FROM team_retention")
    }
    made = 0
    for gid, (reference, facts) in sorted(case_facts(conn, changed).items()):
        if known.get(gid) == (reference, _canonical(facts)):
            continue
        version = str(conn.execute(_VERSION, (gid,)).fetchone()[0] or "")
        payload: dict[str, ops.JsonValue] = {
            "reference": reference,
            "facts": facts,
            "version": version,
        }
        op = _emit(conn, user_id, now, FACTS, RETENTION, gid, payload)
        _keep_facts(conn, op, force=True)
        made += 1
    return made


# The newest change this laptop holds of a case (its own operations and those of the people on
# it): facts computed after seeing a later change win over facts computed before it, whichever
# was sent last, so a laptop that has not yet heard of a legal hold cannot undo it.
_VERSION = (
    "SELECT max(h) FROM (SELECT max(hlc) AS h FROM operations WHERE case_id = "
    "(SELECT id FROM cases WHERE gid = ?1) UNION ALL SELECT max(o.hlc) FROM operations o "
    "JOIN case_people cp ON cp.person_id = o.person_id "
    "WHERE cp.case_id = (SELECT id FROM cases WHERE gid = ?1))"
)


def _keep_facts(conn: Connection, op: ops.Operation, *, force: bool = False) -> None:
    """Keep a case's facts from ``op`` if they are newer than those kept: by the version they
    were computed at, then by when they were sent (``force``: this laptop's own, always)."""
    newer = "" if force else " WHERE (excluded.version, excluded.hlc) > (version, hlc)"
    conn.execute(
        "INSERT INTO team_retention (case_gid, reference, facts, version, hlc) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (case_gid) DO UPDATE SET "
        "reference = excluded.reference, facts = excluded.facts, version = excluded.version, "
        "hlc = excluded.hlc" + newer,
        (
            op.target,
            str(op.payload.get("reference") or ""),
            _canonical(op.payload.get("facts") or {}),
            str(op.payload.get("version") or ""),
            op.hlc,
        ),
    )


# -- acknowledgements and compaction ----------------------------------------------------------


@dataclass(frozen=True)
class Acknowledgements:
    """Who has confirmed destroying one case: device ids with when (and whether they held
    it), and the devices expected to that have not confirmed since the purge."""

    case_gid: str
    reference: str
    ordered_at: str
    confirmed: tuple[tuple[str, str, bool], ...]
    outstanding: tuple[str, ...]


def acknowledgements(conn: Connection, run_id: str | None = None) -> list[Acknowledgements]:
    """Every case the team's purge destroyed (of one run, if given), oldest first."""
    where, params = ("WHERE run_id = ?", (run_id,)) if run_id is not None else ("", ())
    rows = conn.execute(
        "SELECT case_gid, reference, ordered_at, expected FROM team_purged "
        f"{where} ORDER BY ordered_at, case_gid",
        params,
    ).fetchall()
    live = {d.id for d in _directory(conn).live_devices()}
    found = []
    for case_gid, reference, ordered_at, expected in rows:
        acks = conn.execute(
            "SELECT device, at, held FROM team_purge_acks WHERE case_gid = ? ORDER BY at, device",
            (case_gid,),
        ).fetchall()
        confirmed = tuple((str(d), str(a), bool(h)) for d, a, h in acks)
        done = {c[0] for c in confirmed}
        waiting = sorted(d for d in json.loads(str(expected)) if d not in done and d in live)
        found.append(
            Acknowledgements(
                str(case_gid), str(reference), str(ordered_at), confirmed, tuple(waiting)
            )
        )
    return found


def compaction_scopes(conn: Connection) -> set[str]:
    """The scopes of every case the team's purge destroyed: what compaction deletes."""
    return {f"case:{r[0]}" for r in conn.execute("SELECT case_gid FROM team_purged")}


def mark_compacted(conn: Connection, now: str) -> None:
    conn.execute("UPDATE team_purged SET compacted_at = ? WHERE compacted_at IS NULL", (now,))
