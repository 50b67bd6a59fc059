"""Operations: every change a service makes, as it travels to the team's other laptops.

A service write appends its operation to the store's operation log in the same transaction
(``emit_record``, ``emit_fields``); the ones made here are the outbox. ``apply`` takes in an
operation made elsewhere: it is idempotent (an operation already held changes nothing) and
deterministic (the same operations in any order give the same store).

Append-only records (notes, corrections, consent decisions, shares, DASH) merge by union: the
operation carries the whole row, its links given as global ids. A field set names the field,
its new value, the value it replaced and the operation that had set it (``replaced``). The
operations that set one field form a graph; those no later operation replaced are its heads.
One head: the field shows it. Several heads (two laptops set the field, neither seeing the
other): the field shows the head with the highest clock stamp meanwhile, and a conflict record
keeps every head's value with who set it and when, until a person resolves it; the resolution
is itself a field set that replaces all the heads it chose between. Heads that all hold the
same value are no conflict, and the next set of the field replaces them all.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.crypto.connection import Connection
from app.errors import InvalidInput, SafecaseError
from app.models import cases as case_model
from app.models import people as people_model
from app.models import search as search_model
from app.models import settings as settings_model
from app.models.records import Case, Person, PersonDetails, SafeContact
from app.sync.clock import Hlc, HlcClock, new_gid, new_uuid7

JsonValue = Any  # a JSON value: str, int, float, bool, None, list or dict of those

DEVICE_SETTING = "sync.device"
RESOLVED = "conflict.resolved"
# In a field set's payload: the other heads it replaced when the field's heads all agreed.
ALSO_REPLACED = "also_replaced"


class CannotApply(SafecaseError):
    """An operation names a record this laptop does not hold."""


@dataclass(frozen=True)
class Operation:
    op_id: str
    hlc: str
    device: str
    user: str
    kind: str
    scope: str
    target: str
    payload: dict[str, JsonValue] = field(default_factory=dict)
    replaced: str | None = None

    @property
    def field(self) -> str | None:
        """For a field set, ``table.column`` of the field; None for any other operation."""
        name = self.payload.get("field")
        return str(name) if isinstance(name, str) else None

    def as_json(self) -> dict[str, JsonValue]:
        return {
            "op_id": self.op_id,
            "hlc": self.hlc,
            "device": self.device,
            "user": self.user,
            "kind": self.kind,
            "scope": self.scope,
            "target": self.target,
            "payload": self.payload,
            "replaced": self.replaced,
        }


def _canonical(value: JsonValue) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def encode_ops(ops: Sequence[Operation]) -> bytes:
    """Canonical JSON of the operations, in their order: the plaintext inside an envelope."""
    return _canonical([op.as_json() for op in ops]).encode("utf-8")


def decode_ops(data: bytes) -> list[Operation]:
    items = json.loads(data.decode("utf-8"))
    if not isinstance(items, list):
        raise ValueError("not a list of operations")
    return [_operation(item) for item in items]


def _operation(item: Mapping[str, JsonValue]) -> Operation:
    payload = item["payload"]
    if not isinstance(payload, dict):
        raise ValueError("an operation's payload is not an object")
    replaced = item.get("replaced")
    op = Operation(
        op_id=str(item["op_id"]),
        hlc=str(item["hlc"]),
        device=str(item["device"]),
        user=str(item["user"]),
        kind=str(item["kind"]),
        scope=str(item["scope"]),
        target=str(item["target"]),
        payload=payload,
        replaced=None if replaced is None else str(replaced),
    )
    Hlc.decode(op.hlc)  # refuses a malformed stamp
    return op


# -- where records live, and how their links travel --------------------------------------------

# The append-only records an operation carries whole, by kind.
RECORD_KINDS = {
    "note.added": "notes",
    "note.corrected": "note_revisions",
    "consent.recorded": "consents",
    "share.recorded": "shares",
    "dash.recorded": "dash_assessments",
    "break_glass.recorded": "break_glass",
    "retention.decided": "retention_decisions",
    "contact_override.recorded": "contact_overrides",
}
# The records an operation creates whole, beside a case's append-only ones: a case with its
# reference, referral details and allocation, and a person with every detail (address, whether
# it is confidential, phones...). A person's own operations are filed under the person.
CREATE_KINDS = {"case.created": "cases", "person.added": "people"}
# A person put on a case in a role, or taken off it: the latest of the two by clock stamp
# decides, the same on every laptop whatever order they arrive in.
MEMBER_KINDS = ("case.person_linked", "case.person_removed")
_PERSON_KINDS = ("person.added", "person.field_set")
# Records kept whole under a key and set again whole (or removed): each table with the columns
# that name its row, its own global id or the case and person it belongs to. The latest set or
# removal by clock stamp decides, the same on every laptop; two concurrent sets of one of these
# are not shown as a conflict (the later stamp's stays). Append-only ones are set once.
ROW_TABLES: dict[str, tuple[str, ...]] = {
    "share_reviews": ("gid",),
    "marac_referrals": ("gid",),
    "marac_actions": ("gid",),
    "case_legal": ("gid",),
    "case_agencies": ("gid",),
    "case_outcomes": ("case_id",),
    "case_referral_sources": ("case_id",),
    "person_categories": ("person_id",),
    "case_children": ("case_id", "person_id"),
}
_APPEND_ONLY_ROWS = ("share_reviews", "marac_referrals")
ROW_KINDS = ("row.set", "row.removed")
_PERSON_ROWS = ("person_categories",)
# The columns that point at another record, and the table they point into.
_LINKS = {
    "case_id": "cases",
    "person_id": "people",
    "referrer_id": "people",
    "note_id": "notes",
    "share_id": "shares",
    "author_id": "users",
    "recorded_by": "users",
    "changed_by": "users",
    "consulted_manager_id": "users",
    "allocated_user_id": "users",
    "updated_by": "users",
    "reviewed_by": "users",
    "issued_by": "users",
    "user_id": "users",
    "decided_by": "users",
}
# The fields a field set may name, as ``table.column``; their rows: cases and people by the
# target's global id, safe contact details by the case (target) and its client.
FIELDS = frozenset(
    {
        *(f"cases.{c}" for c in ("status", "risk_level", "allocated_user_id")),
        *(f"cases.{c}" for c in ("opened_date", "closed_date", "closed_reason")),
        *(f"cases.{c}" for c in ("legal_hold_reason", "legal_hold_review")),
        *(f"cases.{c}" for c in ("marac_referral_date", "marac_meeting_date")),
        *(f"cases.{c}" for c in ("referral_date", "referral_source", "referrer_id")),
        *(f"cases.{c}" for c in ("other_services", "needs_assessment", "safety_plan")),
        "cases.next_review",
        *(f"people.{c}" for c in people_model.stored_details(PersonDetails("", ""))),
        *(f"people.{c}" for c in ("restricted", "restriction_reason")),
        *(
            f"safe_contacts.{c}"
            for c in (
                "safe_number",
                "method",
                "safe_times",
                "voicemail_ok",
                "text_ok",
                "letters_ok",
                "code_word",
                "do_not_contact",
                "safe_people",
                "unsafe_people",
                "last_checked",
                "safe_address",
                "safe_postcode",
            )
        ),
    }
)


def gid_of(conn: Connection, table: str, row_id: int | None) -> str | None:
    if row_id is None:
        return None
    row = conn.execute(f"SELECT gid FROM {table} WHERE id = ?", (row_id,)).fetchone()
    return None if row is None else str(row[0])


def id_of(conn: Connection, table: str, gid: str | None) -> int | None:
    """The local id of the record with global id ``gid``; refuses one this laptop lacks."""
    if gid is None:
        return None
    row = conn.execute(f"SELECT id FROM {table} WHERE gid = ?", (gid,)).fetchone()
    if row is None and table == "people":  # merged into another record, and destroyed
        from app.sync import merges

        kept = merges.merged_into(conn, gid)
        if kept is not None:
            return id_of(conn, table, kept)
    if row is None:
        raise CannotApply("A change names a record this laptop does not hold.")
    return int(row[0])


def _case_scope(conn: Connection, case_id: int) -> str:
    return f"case:{gid_of(conn, 'cases', case_id)}"


def _case_of_scope(conn: Connection, scope: str) -> int | None:
    kind, _, gid = scope.partition(":")
    return id_of(conn, "cases", gid) if kind == "case" else None


# -- the local clock and device ------------------------------------------------------------------


def device_id(conn: Connection) -> str:
    """This store's device id, made on its first change (call inside the write's transaction)."""
    known = settings_model.get(conn, DEVICE_SETTING)
    if known is None:
        known = new_gid()
        settings_model.put(conn, DEVICE_SETTING, known)
    return known


def set_reference_tag(conn: Connection, tag: str) -> None:
    """Give this laptop the tag its new references carry in a team ("SC-2026-B-000001"): one to
    three capital letters, unique in the team, given when the laptop joins. References already
    made keep theirs; a laptop's tag never changes once given."""
    if not re.fullmatch(r"[A-Z]{1,3}", tag):
        raise InvalidInput("A laptop's reference tag is one to three capital letters.")
    known = settings_model.get(conn, settings_model.REFERENCE_TAG)
    if known not in (None, tag):
        raise InvalidInput("This laptop already has a reference tag; it cannot change.")
    settings_model.put(conn, settings_model.REFERENCE_TAG, tag)


def _ms(now: str) -> int:
    moment = dt.datetime.strptime(now, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def _tick(conn: Connection, device: str, now_ms: int) -> Hlc:
    """A stamp after every operation this store holds, its own and those it received."""
    row = conn.execute("SELECT max(hlc) FROM operations").fetchone()
    clock = HlcClock(device)
    if row[0] is not None:
        clock.receive(Hlc.decode(str(row[0])), now_ms)
    return clock.tick(now_ms)


# -- appending this laptop's operations ----------------------------------------------------------


def _append(
    conn: Connection, op: Operation, case_id: int | None, local: bool, person_id: int | None = None
) -> None:
    """File the operation under its case, or for a person's own operation under the person
    (``person_id``), so that a purge destroys it with what it belongs to."""
    if person_id is not None:
        case_id = None
    conn.execute(
        "INSERT INTO operations (op_id, hlc, device, user_gid, kind, scope, target, field, "
        "payload, replaced, case_id, local, person_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            op.op_id,
            op.hlc,
            op.device,
            op.user,
            op.kind,
            op.scope,
            op.target,
            op.field,
            _canonical(op.payload),
            op.replaced,
            case_id,
            int(local),
            person_id,
        ),
    )


def _new(
    conn: Connection,
    user_id: int,
    now: str,
    kind: str,
    case_id: int | None,
    target: str,
    payload: dict[str, JsonValue],
    replaced: str | None = None,
    person_id: int | None = None,
    scope: str | None = None,
) -> Operation:
    """Append this laptop's operation, in the case's scope (or ``scope``: a person on no
    case travels in ``person:<gid>``)."""
    device = device_id(conn)
    now_ms = _ms(now)
    op = Operation(
        op_id=new_uuid7(now_ms),
        hlc=_tick(conn, device, now_ms).encode(),
        device=device,
        user=gid_of(conn, "users", user_id) or "",
        kind=kind,
        scope=scope or _case_scope(conn, int(case_id or 0)),
        target=target,
        payload=payload,
        replaced=replaced,
    )
    _append(conn, op, case_id, local=True, person_id=person_id)
    return op


def _row(
    conn: Connection, table: str, row_id: int | tuple[int, ...], where: str = "id = ?"
) -> dict[str, JsonValue]:
    names = [str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})").fetchall()]
    params = row_id if isinstance(row_id, tuple) else (row_id,)
    values = conn.execute(
        f"SELECT {', '.join(names)} FROM {table} WHERE {where}", params
    ).fetchone()
    row: dict[str, JsonValue] = {}
    for name, value in zip(names, values, strict=True):
        if name in ("id", "gid"):
            continue
        row[name] = gid_of(conn, _LINKS[name], value) if name in _LINKS else value
    return row


def emit_record(
    conn: Connection, kind: str, row_id: int, case_id: int, user_id: int, now: str
) -> Operation:
    """Append the operation for an append-only record just written (``RECORD_KINDS``)."""
    table = RECORD_KINDS[kind]
    payload: dict[str, JsonValue] = {"row": _row(conn, table, row_id)}
    if table == "shares":
        people = conn.execute(
            "SELECT p.gid FROM share_people s JOIN people p ON p.id = s.person_id "
            "WHERE s.share_id = ? ORDER BY p.gid",
            (row_id,),
        ).fetchall()
        payload["people"] = [str(p[0]) for p in people]
    target = gid_of(conn, table, row_id) or ""
    return _new(conn, user_id, now, kind, case_id, target, payload)


def emit_case_created(conn: Connection, case_id: int, user_id: int, now: str) -> Operation:
    """Append the operation for a case just created: its whole row, reference included (call
    after its client is on it, then ``emit_person_added`` and ``emit_member``)."""
    payload: dict[str, JsonValue] = {"row": _row(conn, "cases", case_id)}
    return _new(
        conn, user_id, now, "case.created", case_id, gid_of(conn, "cases", case_id) or "", payload
    )


def emit_person_added(
    conn: Connection, person_id: int, case_id: int, user_id: int, now: str
) -> Operation:
    """Append the operation for a person just added, with every detail, travelling with the
    case they were added to and filed under the person."""
    payload: dict[str, JsonValue] = {"row": _row(conn, "people", person_id)}
    target = gid_of(conn, "people", person_id) or ""
    return _new(conn, user_id, now, "person.added", case_id, target, payload, None, person_id)


def emit_person_on_case(
    conn: Connection, person_id: int, case_id: int, user_id: int, now: str
) -> None:
    """A person already on record put on a case: the case's holders receive them whole (as
    they are now), unless the person already travelled with that case."""
    sent = conn.execute(
        "SELECT 1 FROM operations WHERE kind = 'person.added' AND target = ? AND scope = ?",
        (gid_of(conn, "people", person_id), _case_scope(conn, case_id)),
    ).fetchone()
    if sent is None:
        emit_person_added(conn, person_id, case_id, user_id, now)


def person_scope(conn: Connection, person_id: int) -> str:
    """The scope of a person on no case: its key is held by the team's managers."""
    return f"person:{gid_of(conn, 'people', person_id)}"


def emit_member(
    conn: Connection, kind: str, case_id: int, person_id: int, role: str, user_id: int, now: str
) -> Operation:
    """Append the operation for a person put on a case in ``role`` or taken off it
    (``MEMBER_KINDS``)."""
    if kind not in MEMBER_KINDS:
        raise ValueError(f"not a change of who is on a case: {kind}")
    target = gid_of(conn, "people", person_id) or ""
    return _new(conn, user_id, now, kind, case_id, target, {"role": role})


def emit_row(
    conn: Connection,
    table: str,
    case_id: int,
    user_id: int,
    now: str,
    *,
    row_id: int | None = None,
    person_id: int | None = None,
    removed: bool = False,
) -> Operation:
    """Append the operation for a record kept whole (``ROW_TABLES``) just set, or about to be
    removed (call before removing one with its own global id): ``row_id`` names a record with
    its own global id, ``person_id`` the person a person's or a child's record is about."""
    keys = ROW_TABLES[table]
    if keys == ("gid",):
        key: tuple[int, ...] = (int(row_id or 0),)
        where, target = "id = ?", gid_of(conn, table, row_id)
    else:
        values = {"case_id": case_id, "person_id": person_id}
        key = tuple(int(values[k] or 0) for k in keys)
        where = " AND ".join(f"{k} = ?" for k in keys)
        target = gid_of(conn, "people", person_id) if person_id else gid_of(conn, "cases", case_id)
    payload: dict[str, JsonValue] = {"table": table}
    if not removed:
        payload["row"] = _row(conn, table, key, where)
    person = person_id if table in _PERSON_ROWS else None
    kind = ROW_KINDS[int(removed)]
    op = _new(conn, user_id, now, kind, case_id, target or "", payload, None, person)
    if removed:
        filed = ("person_id = ?", person) if person else ("case_id = ?", case_id)
        _forget_sets(conn, table, filed[0], filed[1], op.target)
    return op


def _forget_sets(conn: Connection, table: str, where: str, filed: int | None, target: str) -> None:
    """A record removed: what it said goes from the operations that set it too."""
    conn.execute(
        f"UPDATE operations SET payload = ? WHERE {where} AND target = ? AND kind = ?",
        (_canonical({"table": table}), filed, target, ROW_KINDS[0]),
    )


def _stored_value(conn: Connection, name: str, value: JsonValue) -> JsonValue:
    """A field's value as it travels: a link as the global id, a date as its text."""
    column = name.split(".", 1)[1]
    if column in _LINKS and value is not None:
        return gid_of(conn, _LINKS[column], int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def emit_fields(
    conn: Connection,
    kind: str,
    case_id: int | None,
    target: str,
    before: Mapping[str, JsonValue],
    after: Mapping[str, JsonValue],
    user_id: int,
    now: str,
    extra: Mapping[str, JsonValue] | None = None,
    person_id: int | None = None,
    scope: str | None = None,
) -> list[Operation]:
    """Append one field set for each field whose value changed from ``before`` to ``after``
    (names are ``table.column``), each naming the operation whose value it replaced; a
    person's field (``person_id``) is filed under the person; ``scope`` for a person on no
    case (``case_id`` is then None)."""
    made = []
    for name in sorted(after):
        if name not in FIELDS:
            raise ValueError(f"not a field that travels: {name}")
        old = _stored_value(conn, name, before.get(name))
        new = _stored_value(conn, name, after[name])
        if old == new:
            continue
        heads = _heads(_field_ops(conn, target, name))
        shown = heads[-1] if heads else None
        payload: dict[str, JsonValue] = {"field": name, "value": new, "was": old, **(extra or {})}
        if len(heads) > 1 and _agree(heads):
            # Laptops that set the field alike are no conflict: the change replaces them all.
            payload[ALSO_REPLACED] = sorted(h.op_id for h in heads[:-1])
        replaced = None if shown is None else shown.op_id
        made.append(
            _new(conn, user_id, now, kind, case_id, target, payload, replaced, person_id, scope)
        )
        # The new value is after every one this laptop holds, so the field keeps it; a conflict
        # still open with a value this change did not replace shows the change as its own.
        _settle_field(conn, made[-1].scope, target, name, case_id)
    return made


def resolve(
    conn: Connection,
    case_id: int,
    target: str,
    name: str,
    value: JsonValue,
    user_id: int,
    now: str,
) -> Operation:
    """A person's resolution of an open conflict: the field set to ``value``, replacing every
    value the conflict held. Applied here at once, as a foreign one would be."""
    ops = _field_ops(conn, target, name)
    heads = _heads(ops)
    if len(heads) < 2 or _agree(heads):
        raise SafecaseError("That field has no open conflict to resolve.")
    newest = max(heads, key=lambda o: o.hlc)
    own = ("field", "value", "was", ALSO_REPLACED)
    extra = {k: v for k, v in newest.payload.items() if k not in own}
    payload: dict[str, JsonValue] = {
        "field": name,
        "value": value,
        "was": newest.payload.get("value"),
        "resolves": sorted(h.op_id for h in heads),
        **extra,
    }
    op = _new(conn, user_id, now, RESOLVED, case_id, target, payload, newest.op_id)
    _settle_field(conn, _case_scope(conn, case_id), target, name, case_id)
    return op


# The fields of a case, a client's safe contact details and a person, as they travel.
_CONTACT_FIELDS = tuple(sorted(f.split(".", 1)[1] for f in FIELDS if f.startswith("safe_")))


def _case_fields(case: Case | None) -> dict[str, JsonValue]:
    if case is None:
        return {}
    values: dict[str, JsonValue] = {
        "cases.status": case.status.value,
        "cases.risk_level": case.risk_level.value if case.risk_level else None,
        "cases.allocated_user_id": case.allocated_user_id,
        "cases.opened_date": case.opened_date,
        "cases.closed_date": case.closed_date,
        "cases.closed_reason": case.closed_reason,
        "cases.legal_hold_reason": case.legal_hold_reason,
        "cases.legal_hold_review": case.legal_hold_review,
        "cases.marac_referral_date": case.marac_referral_date,
        "cases.marac_meeting_date": case.marac_meeting_date,
        "cases.referral_date": case.details.referral_date,
        "cases.referral_source": case.details.referral_source,
        "cases.referrer_id": case.details.referrer_id,
        "cases.other_services": case.details.other_services,
        "cases.needs_assessment": case.details.needs_assessment,
        "cases.safety_plan": case.details.safety_plan,
        "cases.next_review": case.details.next_review,
    }
    return values


def emit_case(conn: Connection, kind: str, before: Case, user_id: int, now: str) -> list[Operation]:
    """Append a field set for each travelling field of the case that the write just changed."""
    after = case_model.get(conn, before.id)
    target = gid_of(conn, "cases", before.id) or ""
    return emit_fields(
        conn, kind, before.id, target, _case_fields(before), _case_fields(after), user_id, now
    )


def emit_safe_contact(
    conn: Connection, case_id: int, before: SafeContact | None, user_id: int, now: str
) -> list[Operation]:
    """Append a field set for each safe contact detail the write just changed, each with the
    value it replaced."""
    after = case_model.safe_contact(conn, case_id, before.person_id if before else 0)
    if after is None:
        person = case_model.client_id(conn, case_id)
        after = case_model.safe_contact(conn, case_id, person or 0)
    if after is None:
        return []
    old = before or SafeContact(person_id=after.person_id)
    target = gid_of(conn, "cases", case_id) or ""
    return emit_fields(
        conn,
        "safe_contact.field_set",
        case_id,
        target,
        {f"safe_contacts.{c}": getattr(old, c) for c in _CONTACT_FIELDS},
        {f"safe_contacts.{c}": getattr(after, c) for c in _CONTACT_FIELDS},
        user_id,
        now,
        extra={"person": gid_of(conn, "people", after.person_id)},
    )


def _person_fields(person: Person) -> dict[str, JsonValue]:
    details = people_model.stored_details(person.details)
    return {
        **{f"people.{column}": value for column, value in details.items()},
        "people.restricted": person.restricted,
        "people.restriction_reason": person.restriction_reason,
    }


def emit_person_name(conn: Connection, before: Person, user_id: int, now: str) -> list[Operation]:
    """Append a field set for each of the person's details (name, address and whether it is
    confidential, phones...), and their restriction and its reason, that the write just
    changed, travelling with the first case they are on (a person on no case in their own
    scope, ``person:<gid>``, to the managers) and filed under the person, so that purging that
    case leaves it while the person stays."""
    after = people_model.get(conn, before.id)
    if after is None:
        return []
    cases = sorted(people_model.case_ids(conn, before.id))
    return emit_fields(
        conn,
        "person.field_set",
        cases[0] if cases else None,
        gid_of(conn, "people", before.id) or "",
        _person_fields(before),
        _person_fields(after),
        user_id,
        now,
        person_id=before.id,
        scope=None if cases else person_scope(conn, before.id),
    )


# -- applying operations from elsewhere ----------------------------------------------------------


def held(conn: Connection, op_id: str) -> bool:
    return conn.execute("SELECT 1 FROM operations WHERE op_id = ?", (op_id,)).fetchone() is not None


def apply(conn: Connection, op: Operation) -> bool:
    """Take in an operation made on another laptop; False when this store already holds it.
    Call inside a transaction; a refusal (``CannotApply``) leaves the store as it was once the
    caller rolls back."""
    if held(conn, op.op_id):
        return False
    if op.scope == "register":  # the rights register and the breach log
        from app.sync import registers

        return registers.apply(conn, op)
    from app.sync import merges

    if op.kind in merges.KINDS:
        return merges.apply(conn, op, _held_case(conn, op.scope))
    done = _apply_one(conn, op)
    if merges.touches(conn, op):  # what arrived for a merged record moves to the kept one
        merges.settle(conn)
    return done


def _apply_one(conn: Connection, op: Operation) -> bool:
    filed_under_person = op.kind in _PERSON_KINDS or (
        op.kind in ROW_KINDS and op.payload.get("table") in _PERSON_ROWS
    )
    if filed_under_person and id_of_merged(conn, op.target):
        # A record merged into another and destroyed here: its own changes went with it.
        return False
    if op.kind in CREATE_KINDS:
        return _apply_create(conn, op)
    person_id = None
    if op.kind in _PERSON_KINDS or (
        op.kind in ROW_KINDS and op.payload.get("table") in _PERSON_ROWS
    ):
        # A person's change needs the person, not the case it travelled with: that case may
        # have been purged here while the person stays on another.
        person_id = id_of(conn, "people", op.target)
        case_id = _held_case(conn, op.scope)
    else:
        case_id = _case_of_scope(conn, op.scope)
    if op.kind in RECORD_KINDS:
        _insert_record(conn, op, case_id)
        _append(conn, op, case_id, local=False)
        if op.kind == "dash.recorded" and case_id is not None:
            _refresh_marac_due(conn, case_id)
        return True
    if op.kind in ROW_KINDS:
        _settle_row(conn, op, case_id, person_id)
        return True
    if op.kind in MEMBER_KINDS and case_id is not None:
        person = id_of(conn, "people", op.target)
        _append(conn, op, case_id, local=False)
        _settle_member(conn, op, case_id, int(person or 0))
        return True
    name = op.field
    if name is None or name not in FIELDS or (case_id is None and person_id is None):
        raise CannotApply("A change of a kind this laptop does not know was not applied.")
    _append(conn, op, case_id, local=False, person_id=person_id)
    _settle_field(conn, op.scope, op.target, name, case_id)
    if name == "cases.marac_referral_date" and case_id is not None:
        _refresh_marac_due(conn, case_id)
    return True


def _settle_row(
    conn: Connection, op: Operation, case_id: int | None, person_id: int | None
) -> None:
    """A record kept whole as the latest set or removal of it by clock stamp leaves it."""
    table = str(op.payload.get("table"))
    if table not in ROW_TABLES or (case_id is None and person_id is None):
        raise CannotApply("A change of a kind this laptop does not know was not applied.")
    row = op.payload.get("row")
    values: dict[str, JsonValue] = {}
    if isinstance(row, dict):  # every link first: a change about a record not here waits
        values = {k: id_of(conn, _LINKS[k], v) if k in _LINKS else v for k, v in row.items()}
    keys = ROW_TABLES[table]
    if keys == ("gid",):
        key: dict[str, JsonValue] = {"gid": op.target}
    else:
        key = {k: case_id if k == "case_id" else id_of(conn, "people", op.target) for k in keys}
    _append(conn, op, case_id, local=False, person_id=person_id)
    where, filed = ("person_id = ?", person_id) if person_id else ("case_id = ?", case_id)
    held_ops = conn.execute(
        f"SELECT op_id, kind, payload FROM operations WHERE {where} AND target = ? "
        "AND kind IN (?, ?) ORDER BY hlc",
        (filed, op.target, *ROW_KINDS),
    ).fetchall()
    latest = [(str(i), str(k)) for i, k, p in held_ops if json.loads(str(p))["table"] == table][-1]
    if latest[1] == "row.removed":
        match = " AND ".join(f"{k} = ?" for k in key)
        conn.execute(f"DELETE FROM {table} WHERE {match}", list(key.values()))
        _forget_sets(conn, table, where, filed, op.target)
        return
    if latest[0] != op.op_id or not isinstance(row, dict):
        # A later set of this record is already here; or this set's text was taken out by a
        # removal on the laptop that sent it, and that removal comes with it.
        return
    values.update(key)
    names = ", ".join(values)
    marks = ", ".join("?" * len(values))
    settle = "NOTHING"
    if table not in _APPEND_ONLY_ROWS:
        settle = "UPDATE SET " + ", ".join(f"{k} = excluded.{k}" for k in values if k not in key)
    conn.execute(
        f"INSERT INTO {table} ({names}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(key)}) DO {settle}",
        list(values.values()),
    )


def _held_case(conn: Connection, scope: str) -> int | None:
    try:
        return _case_of_scope(conn, scope)
    except CannotApply:
        return None


def _apply_create(conn: Connection, op: Operation) -> bool:
    """A case or a person made on another laptop, with the global id it was made with."""
    table = CREATE_KINDS[op.kind]
    row = op.payload.get("row")
    if not isinstance(row, dict):
        raise CannotApply("A change arrived without its record.")
    values = {k: id_of(conn, _LINKS[k], v) if k in _LINKS else v for k, v in row.items()}
    if table == "cases":
        taken = conn.execute(
            "SELECT 1 FROM cases WHERE reference = ? AND gid != ?", (values["reference"], op.target)
        ).fetchone()
        if taken is not None:
            # Only laptops without their own reference tag can meet here; the case waits
            # rather than take another's reference or change its own.
            raise CannotApply("A case arrived with a reference another case here already has.")
    values["gid"] = op.target
    names = ", ".join(values)
    marks = ", ".join("?" * len(values))
    cur = conn.execute(
        f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT (gid) DO NOTHING",
        list(values.values()),
    )
    row_id = int(cur.lastrowid or 0) if cur.rowcount else id_of(conn, table, op.target)
    if table == "cases":
        if cur.rowcount:
            search_model.index_case(conn, int(row_id or 0), str(values["reference"]))
        _append(conn, op, row_id, local=False)
    else:
        _append(conn, op, None, local=False, person_id=row_id)
    return True


def id_of_merged(conn: Connection, gid: str) -> bool:
    """Whether the person ``gid`` is not held here because a confirmed merge destroyed them."""
    from app.sync import merges

    held_here = conn.execute("SELECT 1 FROM people WHERE gid = ?", (gid,)).fetchone()
    return held_here is None and merges.merged_into(conn, gid) is not None


def _settle_member(conn: Connection, op: Operation, case_id: int, person_id: int) -> None:
    """Whether the person is on the case in the operation's role: the latest link or removal
    of that person in that role on that case, by clock stamp."""
    role = str(op.payload.get("role"))
    rows = conn.execute(
        "SELECT kind, hlc, payload FROM operations WHERE scope = ? AND target = ? "
        "AND kind IN (?, ?) ORDER BY hlc",
        (op.scope, op.target, *MEMBER_KINDS),
    ).fetchall()
    latest = [str(r[0]) for r in rows if json.loads(str(r[2])).get("role") == role][-1]
    on = case_model.is_member(conn, case_id, person_id)
    if latest == "case.person_linked":
        conn.execute(
            "INSERT INTO case_people (case_id, person_id, role) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (case_id, person_id, role),
        )
        person = people_model.get(conn, person_id)
        if person is not None and not on:
            search_model.index_person(conn, case_id, person, new=True)
    else:
        conn.execute(
            "DELETE FROM case_people WHERE case_id = ? AND person_id = ? AND role = ?",
            (case_id, person_id, role),
        )
        if on and not case_model.is_member(conn, case_id, person_id):
            search_model.unindex_person(conn, case_id, person_id)
    if role == "client":
        _refresh_case_client(conn, case_id)


def _refresh_case_client(conn: Connection, case_id: int) -> None:
    """The case's client name, from its client (the first by global id if there are two)."""
    conn.execute(
        "UPDATE cases SET client_name = COALESCE((SELECT trim(p.given_name || ' ' || "
        "p.family_name) FROM case_people cp JOIN people p ON p.id = cp.person_id "
        "WHERE cp.case_id = ?1 AND cp.role = 'client' ORDER BY p.gid LIMIT 1), '') "
        "WHERE id = ?1",
        (case_id,),
    )


def _refresh_marac_due(conn: Connection, case_id: int) -> None:
    """Whether a MARAC referral is due, as a DASH recorded here decides it: the latest DASH
    gave reasons, and no referral was made since it was completed."""
    conn.execute(
        "UPDATE cases SET marac_due = COALESCE((SELECT d.marac_reasons != '[]' "
        "AND (cases.marac_referral_date IS NULL OR cases.marac_referral_date < d.completed_on) "
        "FROM dash_assessments d WHERE d.case_id = cases.id "
        "ORDER BY d.recorded_at DESC, d.gid DESC LIMIT 1), 0) WHERE id = ?",
        (case_id,),
    )


def apply_all(conn: Connection, incoming: Iterable[Operation]) -> list[Operation]:
    """Apply each operation that this store can take, in any order given (an operation about a
    record that has not arrived yet waits for it); returns those still waiting. Call inside a
    transaction: each operation is applied whole or not at all."""
    pending = list(incoming)
    progress = True
    while pending and progress:
        progress, waiting = False, []
        for op in pending:
            conn.execute("SAVEPOINT applying")
            try:
                apply(conn, op)
            except CannotApply:
                conn.execute("ROLLBACK TO applying")
                waiting.append(op)
            else:
                progress = True
            finally:
                conn.execute("RELEASE applying")
        pending = waiting
    return pending


def _insert_record(conn: Connection, op: Operation, case_id: int | None) -> None:
    table = RECORD_KINDS[op.kind]
    if conn.execute(f"SELECT 1 FROM {table} WHERE gid = ?", (op.target,)).fetchone():
        return
    row = op.payload.get("row")
    if not isinstance(row, dict):
        raise CannotApply("A change arrived without its record.")
    values = {k: id_of(conn, _LINKS[k], v) if k in _LINKS else v for k, v in row.items()}
    values["gid"] = op.target
    names = ", ".join(values)
    marks = ", ".join("?" * len(values))
    cur = conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(values.values()))
    row_id = int(cur.lastrowid or 0)
    if table == "shares":
        people = [id_of(conn, "people", str(p)) for p in op.payload.get("people") or []]
        conn.executemany(
            "INSERT INTO share_people (share_id, person_id) VALUES (?, ?)",
            [(row_id, p) for p in people],
        )
    elif table == "notes" and case_id is not None:
        search_model.index_note(conn, case_id, row_id, str(values["body"]), new=True)
    elif table == "note_revisions" and values["kind"] == "correction":
        note = conn.execute("SELECT case_id FROM notes WHERE id = ?", (values["note_id"],))
        search_model.index_note(conn, int(note.fetchone()[0]), int(row_id), str(values["body"]))


def _field_ops(conn: Connection, target: str, name: str) -> list[Operation]:
    rows = conn.execute(
        "SELECT op_id, hlc, device, user_gid, kind, scope, target, payload, replaced "
        "FROM operations WHERE target = ? AND field = ?",
        (target, name),
    ).fetchall()
    return [
        Operation(
            op_id=str(r[0]),
            hlc=str(r[1]),
            device=str(r[2]),
            user=str(r[3]),
            kind=str(r[4]),
            scope=str(r[5]),
            target=str(r[6]),
            payload=json.loads(str(r[7])),
            replaced=None if r[8] is None else str(r[8]),
        )
        for r in rows
    ]


def _heads(ops: Sequence[Operation]) -> list[Operation]:
    """The field's operations that no other operation it holds replaced, oldest first."""
    covered: set[str] = set()
    for op in ops:
        if op.replaced is not None:
            covered.add(op.replaced)
        covered.update(str(r) for r in op.payload.get("resolves") or [])
        covered.update(str(r) for r in op.payload.get(ALSO_REPLACED) or [])
    return sorted((op for op in ops if op.op_id not in covered), key=lambda o: o.hlc)


def _agree(heads: Sequence[Operation]) -> bool:
    """Whether every head sets the field to the same value (two laptops recording the same
    thing, neither seeing the other, leave nothing for a person to choose)."""
    return len({_canonical(h.payload.get("value")) for h in heads}) == 1


def _shown(ops: Sequence[Operation]) -> Operation | None:
    heads = _heads(ops)
    return heads[-1] if heads else None


def _settle_field(
    conn: Connection, scope: str, target: str, name: str, case_id: int | None
) -> None:
    """Show the field's value and its conflict as the operations held now decide them."""
    ops = _field_ops(conn, target, name)
    heads = _heads(ops)
    # A person's field may be set under any case they are on: the conflict belongs to the case
    # of the value shown, whatever order the operations came in.
    scope = heads[-1].scope
    case_id = _held_case(conn, scope) or case_id
    _write_field(conn, name, target, case_id, heads[-1])
    resolutions = sorted((o for o in ops if o.kind == RESOLVED), key=lambda o: o.hlc)
    if len(heads) > 1 and not _agree(heads):
        state, values, by = "open", heads, None
    elif resolutions:
        last = resolutions[-1]
        chosen = {str(r) for r in last.payload.get("resolves") or []}
        state, values, by = "resolved", [o for o in ops if o.op_id in chosen], last.op_id
    else:
        conn.execute("DELETE FROM conflicts WHERE target = ? AND field = ?", (target, name))
        return
    candidates = [
        {
            "op_id": o.op_id,
            "value": o.payload.get("value"),
            "user": o.user,
            "device": o.device,
            "hlc": o.hlc,
        }
        for o in sorted(values, key=lambda o: o.hlc)
    ]
    conn.execute(
        "INSERT INTO conflicts (scope, target, field, case_id, state, candidates, resolved_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (target, field) DO UPDATE SET "
        "scope = excluded.scope, case_id = excluded.case_id, state = excluded.state, "
        "candidates = excluded.candidates, resolved_by = excluded.resolved_by",
        (scope, target, name, case_id, state, _canonical(candidates), by),
    )


def _write_field(
    conn: Connection, name: str, target: str, case_id: int | None, op: Operation
) -> None:
    table, column = name.split(".", 1)
    value = op.payload.get("value")
    if column in _LINKS and value is not None:
        value = id_of(conn, _LINKS[column], str(value))
    if table == "safe_contacts":
        person = id_of(conn, "people", str(op.payload.get("person")))
        user = id_of(conn, "users", op.user) if op.user else None
        conn.execute(
            "INSERT INTO safe_contacts (case_id, person_id, updated_by, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (case_id, person_id) DO NOTHING",
            (case_id, person, user, _hlc_time(op.hlc)),
        )
        conn.execute(
            f"UPDATE safe_contacts SET {column} = ? WHERE case_id = ? AND person_id = ?",
            (value, case_id, person),
        )
        return
    conn.execute(f"UPDATE {table} SET {column} = ? WHERE gid = ?", (value, target))
    if table == "people":
        _refresh_client_name(conn, target)
        named = people_model.get(conn, int(id_of(conn, "people", target) or 0))
        if named is not None:  # the duplicate check finds the person by the name shown
            search_model.reindex_person(conn, named, people_model.case_ids(conn, named.id))


def _refresh_client_name(conn: Connection, person_gid: str) -> None:
    conn.execute(
        "UPDATE cases SET client_name = (SELECT trim(p.given_name || ' ' || p.family_name) "
        "FROM people p WHERE p.gid = ?1) WHERE id IN (SELECT cp.case_id FROM case_people cp "
        "JOIN people p ON p.id = cp.person_id WHERE p.gid = ?1 AND cp.role = 'client')",
        (person_gid,),
    )


def _hlc_time(hlc: str) -> str:
    moment = dt.datetime.fromtimestamp(Hlc.decode(hlc).wall_ms / 1000, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def outbox(conn: Connection, after: int = 0) -> list[tuple[int, Operation]]:
    """The operations made on this laptop, in the order made, after local number ``after``."""
    rows = conn.execute(
        "SELECT id, op_id, hlc, device, user_gid, kind, scope, target, payload, replaced "
        "FROM operations WHERE local = 1 AND id > ? ORDER BY id",
        (after,),
    ).fetchall()
    return [
        (
            int(r[0]),
            Operation(
                op_id=str(r[1]),
                hlc=str(r[2]),
                device=str(r[3]),
                user=str(r[4]),
                kind=str(r[5]),
                scope=str(r[6]),
                target=str(r[7]),
                payload=json.loads(str(r[8])),
                replaced=None if r[9] is None else str(r[9]),
            ),
        )
        for r in rows
    ]


# -- a store that becomes a team's first laptop ---------------------------------------------------


def emit_existing(conn: Connection, user_id: int, now: str) -> int:
    """Append the operations for every record this store holds that no operation made or
    carried, one pass per table (``app.sync.seed``), and the registers' records; returns how
    many were made."""
    from app.sync import registers, seed

    made = seed.emit_existing(conn, user_id, now)
    return made + registers.emit_existing(conn, user_id, now)
