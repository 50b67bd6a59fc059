"""The registers across a team: the rights register and the breach log as operations.

Both travel in the scope ``register``, whose key the team's managers and DPO hold
(``engine.scope_users``); a caseworker's or an admin's laptop never receives them.

- A row is made whole (``register.added``: a request, a clock pause, a breach, a breach
  version), its links as global ids. A request's subject travels as the person's global id and
  name (``subject_gid``, ``subject_name``): a laptop that holds the person links the request to
  them (the register shows them, an open request blocks their destruction there); the DPO's
  laptop, which holds no case, shows the name it came with.
- A change of a request's field (identity confirmed, extension given, decision, status...) or
  of a pause's end is a field set (``register.field_set``) through the same machinery as a
  case's fields (app/sync/ops.py): two laptops setting one field without seeing each other's
  change leave a conflict record with both values until a manager or the DPO resolves it.
- The statutory clock is not sent: each laptop works out a request's due date and extended
  date from its start (identity confirmed), its ended pauses and whether it was extended, with
  the same rules the register uses (app/models/deadlines.py), so every laptop holding the same
  operations shows the same dates whatever order they came in.
- Breaches and their versions are append-only: they merge by union, and a breach as it stands
  is its newest version by the time it was saved (app/models/breaches.py).

References stay unique across the team because each laptop's carry its reference tag
("RR-2026-B-0001", "BR-2026-B-0001"), as cases' do.

``team_seen`` keeps, per device, the newest operation this laptop has received from it and when
it received it: the SAR pack names the laptops that have sent nothing since a request arrived.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

from app.crypto.connection import Connection
from app.errors import SafecaseError
from app.models import deadlines
from app.models.convert import parse_date
from app.sync import ops
from app.sync.clock import Hlc, new_uuid7
from app.sync.ops import CannotApply, JsonValue, Operation

if TYPE_CHECKING:  # a laptop on its own never loads the envelope machinery
    from app.crypto.envelopes import Opened, Skipped

REGISTER = "register"
ADDED = "register.added"
FIELD_SET = "register.field_set"
KINDS = (ADDED, FIELD_SET, ops.RESOLVED)

# The register's tables in the order their rows are sent (a pause after its request).
TABLES = ("rights_requests", "rights_pauses", "breaches", "breach_versions")
# The columns that point at another record, and the table they point into.
_LINKS = {
    "created_by": "users",
    "request_id": "rights_requests",
    "breach_id": "breaches",
    "recorded_by": "users",
    "changed_by": "users",
}
# Columns kept by each laptop for itself: the local id of the subject (from ``subject_gid``),
# the manager who first built a pack here.
_LOCAL = ("id", "gid", "subject_person_id", "pack_prepared_by")
# The fields a field set may name; the due and extended dates are worked out, never sent.
FIELDS = frozenset(
    {
        *(
            f"rights_requests.{c}"
            for c in (
                "kind",
                "requester",
                "subject_gid",
                "subject_name",
                "subject_note",
                "by_agent",
                "authority_seen",
                "received_on",
                "identity_confirmed_on",
                "extension_told_on",
                "status",
                "outcome",
                "refusal_reason",
                "responded_on",
            )
        ),
        "rights_pauses.to_date",
    }
)


# -- making this laptop's operations -------------------------------------------------------------


def _new(
    conn: Connection,
    user_id: int,
    now: str,
    kind: str,
    target: str,
    payload: dict[str, JsonValue],
    replaced: str | None = None,
) -> Operation:
    device = ops.device_id(conn)
    now_ms = ops._ms(now)
    op = Operation(
        op_id=new_uuid7(now_ms),
        hlc=ops._tick(conn, device, now_ms).encode(),
        device=device,
        user=ops.gid_of(conn, "users", user_id) or "",
        kind=kind,
        scope=REGISTER,
        target=target,
        payload=payload,
        replaced=replaced,
    )
    ops._append(conn, op, None, local=True)
    return op


def _columns(conn: Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})").fetchall()]


def _stamp_subject(conn: Connection, request_id: int) -> None:
    """The request's subject as it travels: the person's global id and name as held here."""
    conn.execute(
        "UPDATE rights_requests SET subject_gid = p.gid, "
        "subject_name = trim(p.given_name || ' ' || p.family_name) "
        "FROM people p WHERE p.id = rights_requests.subject_person_id AND rights_requests.id = ?",
        (request_id,),
    )
    conn.execute(
        "UPDATE rights_requests SET subject_gid = NULL, subject_name = '' "
        "WHERE id = ? AND subject_person_id IS NULL",
        (request_id,),
    )


def snapshot(conn: Connection, table: str, row_id: int) -> dict[str, JsonValue]:
    """The row's travelling fields as stored (``table.column``), before a write changes them."""
    if table == "rights_requests":
        _stamp_subject(conn, row_id)
    names = [c for c in _columns(conn, table) if f"{table}.{c}" in FIELDS]
    row = conn.execute(f"SELECT {', '.join(names)} FROM {table} WHERE id = ?", (row_id,))
    values = row.fetchone()
    return {f"{table}.{n}": v for n, v in zip(names, values, strict=True)}


def emit_added(conn: Connection, table: str, row_id: int, user_id: int, now: str) -> Operation:
    """Append the operation for a register row just written, whole."""
    if table == "rights_requests":
        _stamp_subject(conn, row_id)
    names = [c for c in _columns(conn, table) if c not in _LOCAL]
    values = conn.execute(
        f"SELECT {', '.join(names)} FROM {table} WHERE id = ?", (row_id,)
    ).fetchone()
    row: dict[str, JsonValue] = {}
    for name, value in zip(names, values, strict=True):
        row[name] = ops.gid_of(conn, _LINKS[name], value) if name in _LINKS else value
    target = ops.gid_of(conn, table, row_id) or ""
    return _new(conn, user_id, now, ADDED, target, {"table": table, "row": row})


def emit_changes(
    conn: Connection,
    table: str,
    row_id: int,
    before: dict[str, JsonValue],
    user_id: int,
    now: str,
) -> list[Operation]:
    """Append a field set for each travelling field the write changed since ``before``
    (``snapshot``), each naming the operation whose value it replaced."""
    after = snapshot(conn, table, row_id)
    target = ops.gid_of(conn, table, row_id) or ""
    made = []
    for name in sorted(after):
        if after[name] == before.get(name):
            continue
        shown = ops._shown(ops._field_ops(conn, target, name))
        payload: dict[str, JsonValue] = {"field": name, "value": after[name], "was": before[name]}
        replaced = None if shown is None else shown.op_id
        made.append(_new(conn, user_id, now, FIELD_SET, target, payload, replaced))
        ops._settle_field(conn, REGISTER, target, name, None)
    return made


def resolve(
    conn: Connection, target: str, name: str, value: JsonValue, user_id: int, now: str
) -> Operation:
    """A manager's or the DPO's resolution of an open conflict on a register field: the field
    set to ``value``, replacing every value the conflict held; applied here at once."""
    heads = ops._heads(ops._field_ops(conn, target, name))
    if len(heads) < 2:
        raise SafecaseError("That field has no open conflict to resolve.")
    newest = heads[-1]
    payload: dict[str, JsonValue] = {
        "field": name,
        "value": value,
        "was": newest.payload.get("value"),
        "resolves": sorted(h.op_id for h in heads),
    }
    op = _new(conn, user_id, now, ops.RESOLVED, target, payload, newest.op_id)
    ops._settle_field(conn, REGISTER, target, name, None)
    _refresh(conn, name.split(".", 1)[0], target)
    return op


def forget_unheld_keys(conn: Connection, holders: set[str], me: str, devices: set[str]) -> None:
    """On a laptop whose user may not hold the register (an admin recording a lost laptop's
    breach): forget each register key it made once a laptop of someone who may (``devices``)
    has been sent it, so this laptop cannot read what others seal under it later."""
    if me in holders:
        return
    for key_id, sent in conn.execute(
        "SELECT key_id, holders FROM team_keys WHERE scope = ?", (REGISTER,)
    ).fetchall():
        if set(json.loads(str(sent))) & devices:
            conn.execute("DELETE FROM team_keys WHERE key_id = ?", (key_id,))


def open_conflicts(conn: Connection) -> list[tuple[int, str, str, str, str]]:
    """Open conflicts on register fields, oldest first: id, field, target, every value with who
    set it and when (JSON), and the reference of the request the field belongs to."""
    rows = conn.execute(
        "SELECT k.id, k.field, k.target, k.candidates, COALESCE(r.reference, q.reference, '') "
        "FROM conflicts k LEFT JOIN rights_requests r ON r.gid = k.target "
        "LEFT JOIN rights_pauses p ON p.gid = k.target "
        "LEFT JOIN rights_requests q ON q.id = p.request_id "
        "WHERE k.scope = ? AND k.state = 'open' ORDER BY k.id",
        (REGISTER,),
    )
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows.fetchall()]


def emit_existing(conn: Connection, user_id: int, now: str) -> int:
    """Append an operation for every register row no operation made or carried (rows written
    before operations were kept): a store becoming a team's first laptop sends its register
    too. Call inside that transaction; returns how many were made."""
    known = {
        str(r[0]) for r in conn.execute("SELECT target FROM operations WHERE kind = ?", (ADDED,))
    }
    made = 0
    for table in TABLES:
        for row_id, gid in conn.execute(f"SELECT id, gid FROM {table} ORDER BY id").fetchall():
            if str(gid) not in known:
                emit_added(conn, table, int(row_id), user_id, now)
                made += 1
    return made


# -- applying operations from elsewhere ----------------------------------------------------------


def apply(conn: Connection, op: Operation) -> bool:
    """Take in a register operation made on another laptop (``ops.apply`` hands it here once it
    knows it is new). Call inside a transaction; ``CannotApply`` when it names a row or a user
    this laptop does not hold yet (it waits)."""
    if op.kind == ADDED:
        _insert(conn, op)
        ops._append(conn, op, None, local=False)
    elif op.kind in KINDS and op.field in FIELDS:
        name = str(op.field)
        ops.id_of(conn, name.split(".", 1)[0], op.target)  # the row is here, or this waits
        ops._append(conn, op, None, local=False)
        ops._settle_field(conn, REGISTER, op.target, name, None)
    else:
        raise CannotApply("A change of a kind this laptop does not know was not applied.")
    table = str(op.payload.get("table") or str(op.field).split(".", 1)[0])
    _refresh(conn, table, op.target)
    return True


def _insert(conn: Connection, op: Operation) -> None:
    table = str(op.payload.get("table"))
    row = op.payload.get("row")
    if table not in TABLES or not isinstance(row, dict):
        raise CannotApply("A change arrived without its record.")
    if conn.execute(f"SELECT 1 FROM {table} WHERE gid = ?", (op.target,)).fetchone():
        return
    values = {k: ops.id_of(conn, _LINKS[k], v) if k in _LINKS else v for k, v in row.items()}
    if "reference" in values:
        taken = conn.execute(
            f"SELECT 1 FROM {table} WHERE reference = ?", (values["reference"],)
        ).fetchone()
        if taken is not None:
            # Only a laptop without a reference tag (a store from before its team) can meet
            # here; the row waits rather than take another's reference.
            raise CannotApply("A record arrived with a reference one here already has.")
    values["gid"] = op.target
    names = ", ".join(values)
    marks = ", ".join("?" * len(values))
    conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(values.values()))


def _refresh(conn: Connection, table: str, target: str) -> None:
    """What each laptop works out for itself about the request a row belongs to."""
    if table == "rights_pauses":
        row = conn.execute("SELECT request_id FROM rights_pauses WHERE gid = ?", (target,))
        found = row.fetchone()
        if found is not None:
            reschedule(conn, int(found[0]))
    elif table == "rights_requests":
        request_id = ops.id_of(conn, table, target)
        if request_id is not None:
            reschedule(conn, request_id)


def reschedule(conn: Connection, request_id: int) -> None:
    """The request's due date and extended date from its start, ended pauses and extension
    (the rules of app/services/rights.py), and its subject as held here."""
    start, told = conn.execute(
        "SELECT identity_confirmed_on, extension_told_on FROM rights_requests WHERE id = ?",
        (request_id,),
    ).fetchone()
    pauses = [
        (parse_date(a) or dt.date.min, parse_date(b) or dt.date.min)
        for a, b in conn.execute(
            "SELECT from_date, to_date FROM rights_pauses WHERE request_id = ? "
            "AND to_date IS NOT NULL ORDER BY from_date, gid",
            (request_id,),
        ).fetchall()
    ]
    begun = parse_date(start)
    due = extended = None
    if begun is not None:
        due = deadlines.due_date(begun, pauses).isoformat()
        if told is not None:
            extended = deadlines.extended_date(begun, pauses).isoformat()
    conn.execute(
        "UPDATE rights_requests SET due_on = ?, extended_to = ?, subject_person_id = "
        "(SELECT p.id FROM people p WHERE p.gid = rights_requests.subject_gid) WHERE id = ?",
        (due, extended, request_id),
    )


def settle_subjects(conn: Connection) -> None:
    """Link requests to subjects that arrived after them (a case synced later)."""
    conn.execute(
        "UPDATE rights_requests SET subject_person_id = "
        "(SELECT p.id FROM people p WHERE p.gid = rights_requests.subject_gid) "
        "WHERE subject_person_id IS NULL AND subject_gid IS NOT NULL"
    )


# -- which laptops this one has heard from -------------------------------------------------------


def note_seen(
    conn: Connection, now: str, envelope: Opened | Skipped, carried: list[Operation] | None = None
) -> None:
    """Record that an envelope was accepted from its sender now, with the newest stamp of the
    operations it carried (``carried``, when the caller has them already; call inside the
    envelope's transaction)."""
    if carried is None:
        carried = []
        plaintext: bytes | None = getattr(envelope, "plaintext", None)  # Opened, not Skipped
        if plaintext is not None and envelope.scope.partition(":")[0] != "grant":
            try:
                carried = ops.decode_ops(plaintext)
            except (ValueError, KeyError, TypeError):
                carried = []
    newest = max((op.hlc for op in carried), default=None)
    conn.execute(
        "INSERT INTO team_seen (device, last_hlc, last_at) VALUES (?, ?, ?) "
        "ON CONFLICT (device) DO UPDATE SET last_at = excluded.last_at, last_hlc = "
        "CASE WHEN team_seen.last_hlc IS NULL OR excluded.last_hlc > team_seen.last_hlc "
        "THEN excluded.last_hlc ELSE team_seen.last_hlc END",
        (envelope.sender, newest, now),
    )


def team_devices(conn: Connection, roles: frozenset[str]) -> list[tuple[str, dt.datetime | None]]:
    """The team's other live devices of users holding any of ``roles``, by username: each
    one's username and when the newest change this laptop holds from it was made (None: none
    yet). None at all outside a team (and the team machinery is not loaded then)."""
    if conn.execute("SELECT 1 FROM team WHERE id = 1").fetchone() is None:
        return []
    from app.sync import engine

    state = engine.load(conn)
    seen = last_seen(conn)
    users = [u.id for u in state.directory.users if u.roles & roles]
    found = []
    for device in state.directory.live_devices(users):
        if device.id != state.device.device_id:
            user = state.directory.user(device.user)
            found.append((user.username if user else "", seen.get(device.id)))
    return sorted(found, key=lambda d: (d[0], str(d[1] or "")))


def last_seen(conn: Connection) -> dict[str, dt.datetime]:
    """Per device, when the newest operation this laptop holds from it was made (UTC)."""
    rows = conn.execute("SELECT device, last_hlc FROM team_seen WHERE last_hlc IS NOT NULL")
    return {
        str(device): dt.datetime.fromtimestamp(Hlc.decode(str(hlc)).wall_ms / 1000, dt.UTC)
        for device, hlc in rows.fetchall()
    }
