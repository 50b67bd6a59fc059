"""A store that becomes a team's first laptop: the operations for every record it held before
operations were kept (or that the demo wrote), made in one pass per table.

The operations are the ones ``ops.emit_case_created``, ``emit_person_added``, ``emit_member``,
``emit_fields``, ``emit_record`` and ``emit_row`` would make one at a time, in the same order
and with the same payloads, except that a safe contact detail still at its column's default
(empty, or no) is not sent: the safe number alone makes the row on the receiving laptop. Each
table is read once, links are turned into global ids from one map per table, the clock ticks
in memory and the operations are written with one ``executemany`` per kind of record (20,000
cases took about 1.5 minutes one at a time).
"""

from __future__ import annotations

from collections.abc import Iterator

from app.crypto.connection import Connection
from app.models import cases as case_model
from app.sync import ops
from app.sync.clock import Hlc, HlcClock, new_uuid7
from app.sync.ops import JsonValue, Operation

# The append-only records in the order they are sent (a revision after its note), each with
# how to find the case it belongs to.
_SEED_RECORDS = (
    ("note.added", "SELECT r.id, r.case_id FROM notes r"),
    (
        "note.corrected",
        "SELECT r.id, n.case_id FROM note_revisions r JOIN notes n ON n.id = r.note_id",
    ),
    (
        "consent.recorded",
        "SELECT DISTINCT r.id, m.case_id FROM consents r "
        "JOIN case_people m ON m.person_id = r.person_id",
    ),
    ("share.recorded", "SELECT r.id, r.case_id FROM shares r"),
    ("dash.recorded", "SELECT r.id, r.case_id FROM dash_assessments r"),
    ("break_glass.recorded", "SELECT r.id, r.case_id FROM break_glass r"),
    ("retention.decided", "SELECT r.id, r.case_id FROM retention_decisions r"),
    ("contact_override.recorded", "SELECT r.id, r.case_id FROM contact_overrides r"),
)
_INSERT = (
    "INSERT INTO operations (op_id, hlc, device, user_gid, kind, scope, target, field, "
    "payload, replaced, case_id, local, person_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"
)


class _Batch:
    """Operations made here, stamped by one clock, written together."""

    def __init__(self, conn: Connection, user_id: int, now: str) -> None:
        self.conn = conn
        self.device = ops.device_id(conn)
        self.now_ms = ops._ms(now)
        self.clock = HlcClock(self.device)
        latest = conn.execute("SELECT max(hlc) FROM operations").fetchone()[0]
        if latest is not None:
            self.clock.receive(Hlc.decode(str(latest)), self.now_ms)
        self._gids: dict[str, dict[int, str]] = {}
        self.user = self.gid("users", user_id) or ""
        self.rows: list[tuple[object, ...]] = []
        self.made = 0

    def gid(self, table: str, row_id: object) -> str | None:
        if row_id is None:
            return None
        known = self._gids.get(table)
        if known is None:
            rows = self.conn.execute(f"SELECT id, gid FROM {table}").fetchall()
            known = self._gids[table] = {int(r[0]): str(r[1]) for r in rows}
        return known.get(int(str(row_id)))

    def add(
        self,
        kind: str,
        case_id: int,
        target: str,
        payload: dict[str, JsonValue],
        *,
        person_id: int | None = None,
        replaced: str | None = None,
    ) -> None:
        op = Operation(
            op_id=new_uuid7(self.now_ms),
            hlc=self.clock.tick(self.now_ms).encode(),
            device=self.device,
            user=self.user,
            kind=kind,
            scope=f"case:{self.gid('cases', case_id)}",
            target=target,
            payload=payload,
            replaced=replaced,
        )
        filed = None if person_id is not None else case_id
        self.rows.append(
            (
                *(op.op_id, op.hlc, op.device, op.user, op.kind, op.scope, op.target, op.field),
                *(ops._canonical(op.payload), op.replaced, filed, person_id),
            )
        )
        self.made += 1

    def flush(self) -> None:
        self.conn.executemany(_INSERT, self.rows)
        self.rows = []

    def whole(
        self, table: str, where: str = "", keys: tuple[str, ...] = ("id",)
    ) -> Iterator[tuple[tuple[int, ...], dict[str, JsonValue]]]:
        """Each row of ``table`` as an operation carries it (``ops._row``), by the local ids
        in the columns ``keys``."""
        names = [str(r[1]) for r in self.conn.execute(f"PRAGMA table_info({table})")]
        cursor = self.conn.execute(f"SELECT {', '.join(names)} FROM {table} {where}")
        for values in cursor.fetchall():
            raw = dict(zip(names, values, strict=True))
            row: dict[str, JsonValue] = {
                name: self.gid(ops._LINKS[name], value) if name in ops._LINKS else value
                for name, value in raw.items()
                if name not in ("id", "gid")
            }
            yield tuple(int(raw[k]) for k in keys), row


def emit_existing(conn: Connection, user_id: int, now: str) -> int:
    """Append the operations for every record this store holds that no operation made or
    carried (records written before operations were kept, or by the demo): each case whole
    (its row, its people, who is on it, their safe contact details), then its notes,
    corrections, consents, shares, DASH assessments, break-glass records, retention decisions,
    contact overrides and the records kept whole. Call inside the transaction that makes the
    store a team's first laptop; returns how many were made."""
    batch = _Batch(conn, user_id, now)
    known = {str(r[0]) for r in conn.execute("SELECT DISTINCT target FROM operations")}
    created = {
        str(r[0]) for r in conn.execute("SELECT target FROM operations WHERE kind = 'case.created'")
    }
    new_cases = _cases(batch, created)
    batch.flush()
    _records(batch, known)
    batch.flush()
    _rows(batch, known, new_cases)
    batch.flush()
    return batch.made


def _cases(batch: _Batch, created: set[str]) -> set[int]:
    conn = batch.conn
    fields = {
        (str(r[0]), str(r[1]))
        for r in conn.execute(
            "SELECT DISTINCT target, field FROM operations WHERE field IS NOT NULL"
        )
    }
    people = {k[0]: row for k, row in batch.whole("people")}
    members: dict[int, list[tuple[int, str]]] = {}
    for case_id, person_id, role in conn.execute(
        "SELECT case_id, person_id, role FROM case_people "
        "ORDER BY case_id, role <> 'client', person_id, role"
    ).fetchall():
        members.setdefault(int(case_id), []).append((int(person_id), str(role)))
    contacts: dict[int, list[int]] = {}
    for case_id, person_id in conn.execute(
        "SELECT case_id, person_id FROM safe_contacts ORDER BY case_id, person_id"
    ).fetchall():
        contacts.setdefault(int(case_id), []).append(int(person_id))
    new_cases: set[int] = set()
    for (case_id,), row in batch.whole("cases", "ORDER BY id"):
        gid = batch.gid("cases", case_id) or ""
        if gid in created:
            continue
        new_cases.add(case_id)
        batch.add("case.created", case_id, gid, {"row": row})
        added: set[int] = set()
        for person_id, role in members.get(case_id, []):
            # Once for each case the person is on: a laptop may hold only one of them.
            person = batch.gid("people", person_id) or ""
            if person_id not in added:
                whole = {"row": people[person_id]}
                batch.add("person.added", case_id, person, whole, person_id=person_id)
                added.add(person_id)
            batch.add("case.person_linked", case_id, person, {"role": role})
        for person_id in contacts.get(case_id, []):
            after = case_model.safe_contact(conn, case_id, person_id)
            assert after is not None
            for column in ops._CONTACT_FIELDS:
                name = f"safe_contacts.{column}"
                value = ops._stored_value(conn, name, getattr(after, column))
                if value in (None, "", 0) and column != "safe_number":
                    continue  # the column's default: the safe number alone makes the row
                replaced = None
                if (gid, name) in fields:  # set since operations were kept: replace its value
                    shown = ops._shown(ops._field_ops(conn, gid, name))
                    replaced = None if shown is None else shown.op_id
                payload = {"field": name, "value": value, "was": None}
                payload["person"] = batch.gid("people", person_id)
                batch.add("safe_contact.field_set", case_id, gid, payload, replaced=replaced)
    return new_cases


def _records(batch: _Batch, known: set[str]) -> None:
    conn = batch.conn
    share_people: dict[int, list[str]] = {}
    for share_id, person in conn.execute(
        "SELECT s.share_id, p.gid FROM share_people s JOIN people p ON p.id = s.person_id "
        "ORDER BY s.share_id, p.gid"
    ).fetchall():
        share_people.setdefault(int(share_id), []).append(str(person))
    for kind, query in _SEED_RECORDS:
        table = ops.RECORD_KINDS[kind]
        rows = {k[0]: row for k, row in batch.whole(table)}
        cursor = conn.execute(f"{query.replace('r.id', 'r.id, r.gid', 1)} ORDER BY r.id")
        for row_id, row_gid, case_id in cursor.fetchall():
            if case_id is None or str(row_gid) in known:
                continue
            payload: dict[str, JsonValue] = {"row": rows[int(row_id)]}
            if table == "shares":
                payload["people"] = share_people.get(int(row_id), [])
            batch.add(kind, int(case_id), str(row_gid), payload)


def _rows(batch: _Batch, known: set[str], new_cases: set[int]) -> None:
    conn = batch.conn
    for table, keys in ops.ROW_TABLES.items():
        names = {str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})")}
        if keys == ("gid",):
            rows = {k[0]: row for k, row in batch.whole(table)}
            case = (
                "t.case_id"
                if "case_id" in names
                else "(SELECT s.case_id FROM shares s WHERE s.id = t.share_id)"
            )
            found = conn.execute(f"SELECT t.id, t.gid, {case} FROM {table} t ORDER BY t.id")
            for row_id, row_gid, case_id in found.fetchall():
                if case_id is not None and str(row_gid) not in known:
                    payload = {"table": table, "row": rows[int(row_id)]}
                    batch.add("row.set", int(case_id), str(row_gid), payload)
            continue
        keyed = dict(batch.whole(table, keys=keys))
        person = "t.person_id" if "person_id" in keys else "NULL"
        case = "t.case_id" if "case_id" in keys else "m.case_id"
        order = ", ".join(f"t.{k}" for k in keys)
        join = "" if "case_id" in keys else " JOIN case_people m ON m.person_id = t.person_id"
        found = conn.execute(
            f"SELECT DISTINCT {case}, {person} FROM {table} t{join} ORDER BY {order}"
        )
        for case_id, person_id in found.fetchall():
            if case_id is None or int(case_id) not in new_cases:
                continue
            values = {"case_id": int(case_id), "person_id": person_id}
            key = tuple(int(values[k] or 0) for k in keys)
            pid = None if person_id is None else int(person_id)
            target = batch.gid("people", pid) if pid else batch.gid("cases", case_id)
            filed = pid if table in ops._PERSON_ROWS else None
            payload = {"table": table, "row": keyed[key]}
            batch.add("row.set", int(case_id), target or "", payload, person_id=filed)
