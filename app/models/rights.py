"""The rights-request register, its clock pauses, and the SAR pack's redaction log, sign-offs
and exports.

``rights_requests.status = 'open'`` with ``subject_person_id`` is read by retention: an open
request blocks destruction of its subject's cases. Keep those two columns' meaning.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from app.crypto.connection import Connection
from app.models import settings as settings_model
from app.models.convert import date_text, parse_date
from app.models.db import read


class RightKind(enum.StrEnum):
    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    PORTABILITY = "portability"


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Outcome(enum.StrEnum):
    COMPLIED = "complied"
    PARTLY_REFUSED = "partly_refused"
    REFUSED = "refused"
    NO_DATA_HELD = "no_data_held"
    WITHDRAWN = "withdrawn"

    @property
    def needs_reason(self) -> bool:
        return self in (Outcome.REFUSED, Outcome.PARTLY_REFUSED)


class Action(enum.StrEnum):
    REDACT = "redact"
    DISCLOSE = "disclose"


@dataclass(frozen=True)
class Pause:
    """The clock stopped while waiting for clarification; ``to_date`` None while it waits."""

    id: int
    from_date: dt.date
    to_date: dt.date | None
    reason: str


@dataclass(frozen=True)
class RightsRequest:
    id: int
    reference: str
    kind: RightKind
    requester: str
    subject_person_id: int | None  # None: nobody on record matched
    subject_note: str
    by_agent: bool
    authority_seen: bool
    received_on: dt.date
    identity_confirmed_on: dt.date | None  # the clock starts here
    due_on: dt.date | None
    extended_to: dt.date | None
    extension_told_on: dt.date | None
    status: RequestStatus
    outcome: str
    refusal_reason: str
    responded_on: dt.date | None
    created_by: int
    created_at: str
    updated_at: str
    pauses: tuple[Pause, ...] = ()
    subject_name: str = ""  # the subject's name on record, for the register screen

    @property
    def paused(self) -> bool:
        return any(p.to_date is None for p in self.pauses)

    @property
    def deadline(self) -> dt.date | None:
        """The date the response is due by: the extended date when there is one."""
        return self.extended_to or self.due_on

    def overdue(self, today: dt.date) -> bool:
        due = self.deadline
        return (
            self.status is RequestStatus.OPEN
            and not self.paused
            and due is not None
            and due < today
        )


@dataclass(frozen=True)
class Decision:
    """One entry in a pack's redaction log: a reviewer's (or the export's) decision on a span."""

    id: int
    request_id: int
    item: str  # the item's key and the version of its text: "note:7:body@<digest>"
    start: int
    end: int
    action: Action
    code: str
    reason: str
    decided_by: int
    decided_at: str
    decided_by_name: str = ""


@dataclass(frozen=True)
class SignOff:
    id: int
    request_id: int
    signed_by: int
    signed_at: str
    note: str
    pack_sha256: str
    signed_by_name: str = ""
    sole_manager_reason: str = ""  # why the manager who prepared the pack signed it too


@dataclass(frozen=True)
class ExportRecord:
    id: int
    request_id: int
    exported_by: int
    exported_at: str
    manifest: str


# -- requests -----------------------------------------------------------------------------------

_COLUMNS = (
    "r.id, r.reference, r.kind, r.requester, r.subject_person_id, r.subject_note, r.by_agent, "
    "r.authority_seen, r.received_on, r.identity_confirmed_on, r.due_on, r.extended_to, "
    "r.extension_told_on, r.status, r.outcome, r.refusal_reason, r.responded_on, r.created_by, "
    "r.created_at, r.updated_at, "
    "COALESCE(trim(p.given_name || ' ' || p.family_name), r.subject_name, '')"
)
_FROM = "FROM rights_requests r LEFT JOIN people p ON p.id = r.subject_person_id"
_OPEN_PAUSE = (
    "EXISTS (SELECT 1 FROM rights_pauses q WHERE q.request_id = r.id AND q.to_date IS NULL)"
)


def _request(row: tuple[object, ...], pauses: tuple[Pause, ...]) -> RightsRequest:
    return RightsRequest(
        id=int(str(row[0])),
        reference=str(row[1]),
        kind=RightKind(str(row[2])),
        requester=str(row[3]),
        subject_person_id=None if row[4] is None else int(str(row[4])),
        subject_note=str(row[5]),
        by_agent=bool(row[6]),
        authority_seen=bool(row[7]),
        received_on=parse_date(row[8]) or dt.date.min,
        identity_confirmed_on=parse_date(row[9]),
        due_on=parse_date(row[10]),
        extended_to=parse_date(row[11]),
        extension_told_on=parse_date(row[12]),
        status=RequestStatus(str(row[13])),
        outcome=str(row[14]),
        refusal_reason=str(row[15]),
        responded_on=parse_date(row[16]),
        created_by=int(str(row[17])),
        created_at=str(row[18]),
        updated_at=str(row[19]),
        pauses=pauses,
        subject_name=str(row[20] or ""),
    )


def _with_pauses(conn: Connection, rows: list[tuple[object, ...]]) -> list[RightsRequest]:
    if not rows:
        return []
    ids = [int(str(r[0])) for r in rows]
    marks = ", ".join("?" * len(ids))
    found: dict[int, list[Pause]] = {}
    for p in read(
        conn,
        "SELECT id, request_id, from_date, to_date, reason FROM rights_pauses "
        f"WHERE request_id IN ({marks}) ORDER BY from_date, id",
        tuple(ids),
    ):
        found.setdefault(int(str(p[1])), []).append(
            Pause(int(str(p[0])), parse_date(p[2]) or dt.date.min, parse_date(p[3]), str(p[4]))
        )
    return [_request(r, tuple(found.get(int(str(r[0])), ()))) for r in rows]


def next_reference(conn: Connection, year: int) -> str:
    prefix = settings_model.reference_prefix(conn, "RR", year)
    rows = read(
        conn,
        "SELECT reference FROM rights_requests WHERE reference >= ? AND reference < ? "
        "ORDER BY reference DESC LIMIT 1",
        (f"{prefix}0", f"{prefix}:"),
    )
    number = int(str(rows[0][0]).rsplit("-", 1)[1]) + 1 if rows else 1
    return f"{prefix}{number:04d}"


def insert(
    conn: Connection,
    *,
    reference: str,
    kind: RightKind,
    requester: str,
    subject_person_id: int | None,
    subject_note: str,
    by_agent: bool,
    authority_seen: bool,
    received_on: dt.date,
    identity_confirmed_on: dt.date | None,
    due_on: dt.date | None,
    user_id: int,
    now: str,
) -> int:
    cur = conn.execute(
        "INSERT INTO rights_requests (reference, kind, requester, subject_person_id, "
        "subject_note, by_agent, authority_seen, received_on, identity_confirmed_on, due_on, "
        "status, created_by, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
        (
            reference,
            kind.value,
            requester,
            subject_person_id,
            subject_note,
            int(by_agent),
            int(authority_seen),
            date_text(received_on),
            date_text(identity_confirmed_on),
            date_text(due_on),
            user_id,
            now,
            now,
        ),
    )
    return int(cur.lastrowid or 0)


_FIELDS = {
    "kind",
    "requester",
    "subject_person_id",
    "subject_note",
    "by_agent",
    "authority_seen",
    "received_on",
    "identity_confirmed_on",
    "due_on",
    "extended_to",
    "extension_told_on",
    "status",
    "outcome",
    "refusal_reason",
    "responded_on",
}


def _stored(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    return value


def set_fields(conn: Connection, request_id: int, now: str, **fields: object) -> None:
    """Set named columns of one request (names come from code, never from input)."""
    unknown = set(fields) - _FIELDS
    if unknown:
        raise ValueError(f"not a rights request field: {sorted(unknown)}")
    values = [_stored(v) for v in fields.values()]
    assignments = ", ".join(f"{name} = ?" for name in fields)
    conn.execute(
        f"UPDATE rights_requests SET {assignments}, updated_at = ? WHERE id = ?",
        (*values, now, request_id),
    )


def get(conn: Connection, request_id: int) -> RightsRequest | None:
    rows = read(conn, f"SELECT {_COLUMNS} {_FROM} WHERE r.id = ?", (request_id,))
    found = _with_pauses(conn, rows)
    return found[0] if found else None


def by_reference(conn: Connection, reference: str) -> RightsRequest | None:
    rows = read(
        conn, f"SELECT {_COLUMNS} {_FROM} WHERE r.reference = ?", (reference.strip().upper(),)
    )
    found = _with_pauses(conn, rows)
    return found[0] if found else None


def listing(conn: Connection, status: RequestStatus | None = None) -> list[RightsRequest]:
    """The register, soonest deadline first (requests without one yet at the end)."""
    where, params = ("r.status = ?", (status.value,)) if status else ("1", ())
    rows = read(
        conn,
        f"SELECT {_COLUMNS} {_FROM} WHERE {where} "
        "ORDER BY COALESCE(r.extended_to, r.due_on) IS NULL, COALESCE(r.extended_to, r.due_on), "
        "r.received_on, r.id",
        params,
    )
    return _with_pauses(conn, rows)


def due_between(conn: Connection, first: dt.date | None, last: dt.date) -> list[RightsRequest]:
    """Open requests whose clock is running and whose deadline falls in [first, last]
    (``first`` None: everything due up to ``last``)."""
    rows = read(
        conn,
        f"SELECT {_COLUMNS} {_FROM} WHERE r.status = 'open' AND NOT {_OPEN_PAUSE} "
        "AND COALESCE(r.extended_to, r.due_on) >= ? AND COALESCE(r.extended_to, r.due_on) <= ? "
        "ORDER BY COALESCE(r.extended_to, r.due_on), r.id",
        (date_text(first) or "", date_text(last)),
    )
    return _with_pauses(conn, rows)


def open_for_subject(
    conn: Connection, person_id: int, kinds: tuple[RightKind, ...]
) -> list[RightsRequest]:
    marks = ", ".join("?" * len(kinds))
    rows = read(
        conn,
        f"SELECT {_COLUMNS} {_FROM} WHERE r.subject_person_id = ? AND r.status = 'open' "
        f"AND r.kind IN ({marks}) ORDER BY r.received_on, r.id",
        (person_id, *(k.value for k in kinds)),
    )
    return _with_pauses(conn, rows)


def for_subject(conn: Connection, person_id: int) -> list[RightsRequest]:
    rows = read(
        conn,
        f"SELECT {_COLUMNS} {_FROM} WHERE r.subject_person_id = ? ORDER BY r.received_on, r.id",
        (person_id,),
    )
    return _with_pauses(conn, rows)


# -- pauses -------------------------------------------------------------------------------------


def add_pause(conn: Connection, request_id: int, from_date: dt.date, reason: str) -> int:
    cur = conn.execute(
        "INSERT INTO rights_pauses (request_id, from_date, reason) VALUES (?, ?, ?)",
        (request_id, date_text(from_date), reason),
    )
    return int(cur.lastrowid or 0)


def end_pause(conn: Connection, pause_id: int, to_date: dt.date) -> None:
    conn.execute(
        "UPDATE rights_pauses SET to_date = ? WHERE id = ? AND to_date IS NULL",
        (date_text(to_date), pause_id),
    )


# -- the redaction log --------------------------------------------------------------------------


def add_decision(
    conn: Connection,
    request_id: int,
    item: str,
    start: int,
    end: int,
    action: Action,
    code: str,
    reason: str,
    user_id: int,
    now: str,
) -> int:
    cur = conn.execute(
        "INSERT INTO redactions (request_id, item, start, end, action, code, reason, "
        "decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (request_id, item, start, end, action.value, code, reason, user_id, now),
    )
    return int(cur.lastrowid or 0)


def decisions(conn: Connection, request_id: int) -> list[Decision]:
    rows = read(
        conn,
        "SELECT d.id, d.request_id, d.item, d.start, d.end, d.action, d.code, d.reason, "
        "d.decided_by, d.decided_at, COALESCE(u.username, '') FROM redactions d "
        "LEFT JOIN users u ON u.id = d.decided_by WHERE d.request_id = ? ORDER BY d.id",
        (request_id,),
    )
    return [
        Decision(
            id=int(str(r[0])),
            request_id=int(str(r[1])),
            item=str(r[2]),
            start=int(str(r[3])),
            end=int(str(r[4])),
            action=Action(str(r[5])),
            code=str(r[6]),
            reason=str(r[7]),
            decided_by=int(str(r[8])),
            decided_at=str(r[9]),
            decided_by_name=str(r[10]),
        )
        for r in rows
    ]


# -- sign-offs and exports ----------------------------------------------------------------------


def add_signoff(
    conn: Connection,
    request_id: int,
    user_id: int,
    now: str,
    note: str,
    pack_sha256: str,
    sole_manager_reason: str = "",
) -> int:
    cur = conn.execute(
        "INSERT INTO sar_signoffs (request_id, signed_by, signed_at, note, pack_sha256, "
        "sole_manager_reason) VALUES (?, ?, ?, ?, ?, ?)",
        (request_id, user_id, now, note, pack_sha256, sole_manager_reason),
    )
    return int(cur.lastrowid or 0)


def mark_pack_prepared(conn: Connection, request_id: int, user_id: int) -> None:
    """Record the first manager to build the request's pack (later ones change nothing)."""
    conn.execute(
        "UPDATE rights_requests SET pack_prepared_by = ? WHERE id = ? AND pack_prepared_by IS NULL",
        (user_id, request_id),
    )


def pack_prepared_by(conn: Connection, request_id: int) -> int | None:
    rows = read(conn, "SELECT pack_prepared_by FROM rights_requests WHERE id = ?", (request_id,))
    return None if not rows or rows[0][0] is None else int(str(rows[0][0]))


def signoffs(conn: Connection, request_id: int) -> list[SignOff]:
    rows = read(
        conn,
        "SELECT s.id, s.request_id, s.signed_by, s.signed_at, s.note, s.pack_sha256, "
        "COALESCE(u.username, ''), s.sole_manager_reason "
        "FROM sar_signoffs s LEFT JOIN users u ON u.id = s.signed_by "
        "WHERE s.request_id = ? ORDER BY s.id",
        (request_id,),
    )
    return [
        SignOff(
            id=int(str(r[0])),
            request_id=int(str(r[1])),
            signed_by=int(str(r[2])),
            signed_at=str(r[3]),
            note=str(r[4]),
            pack_sha256=str(r[5]),
            signed_by_name=str(r[6]),
            sole_manager_reason=str(r[7]),
        )
        for r in rows
    ]


def add_export(conn: Connection, request_id: int, user_id: int, now: str, manifest: str) -> int:
    cur = conn.execute(
        "INSERT INTO sar_exports (request_id, exported_by, exported_at, manifest) "
        "VALUES (?, ?, ?, ?)",
        (request_id, user_id, now, manifest),
    )
    return int(cur.lastrowid or 0)


def exports(conn: Connection, request_id: int) -> list[ExportRecord]:
    rows = read(
        conn,
        "SELECT id, request_id, exported_by, exported_at, manifest FROM sar_exports "
        "WHERE request_id = ? ORDER BY id",
        (request_id,),
    )
    return [
        ExportRecord(int(str(r[0])), int(str(r[1])), int(str(r[2])), str(r[3]), str(r[4]))
        for r in rows
    ]


# -- after a purge ------------------------------------------------------------------------------


# Append-only tables with free text about a request: (table, the text column, the others).
_APPEND_ONLY_TEXT = (
    (
        "redactions",
        "reason",
        "id, request_id, item, start, end, action, code, decided_by, decided_at",
    ),
    ("sar_signoffs", "note", "id, request_id, signed_by, signed_at, pack_sha256"),
)


# What the register's operations (app/sync/registers.py) say that a cleared request no longer
# does: the text of the row each carried whole, and of each field set of a text field.
_ERASED_ROW = (
    "json_set(payload, '$.row.requester', ?, '$.row.subject_note', '', "
    "'$.row.refusal_reason', '', '$.row.subject_name', '', '$.row.subject_gid', NULL)"
)
_TEXT_FIELDS = (
    "'rights_requests.subject_note', 'rights_requests.refusal_reason', "
    "'rights_requests.subject_name', 'rights_requests.subject_gid'"
)


def _erase_operations(conn: Connection, ids: list[int], marks: str, erased: str) -> None:
    """The cleared requests' text goes from the operations that carried it, and from any
    conflict over it, too."""
    requests = f"SELECT gid FROM rights_requests WHERE id IN ({marks})"
    pauses = f"SELECT gid FROM rights_pauses WHERE request_id IN ({marks})"
    register = "scope = 'register' AND kind = 'register.added'"
    conn.execute(
        f"UPDATE operations SET payload = {_ERASED_ROW} WHERE {register} AND target IN "
        f"({requests})",
        (erased, *ids),
    )
    conn.execute(
        "UPDATE operations SET payload = json_set(payload, '$.row.reason', '') "
        f"WHERE {register} AND target IN ({pauses})",
        ids,
    )
    conn.execute(
        "UPDATE operations SET payload = json_set(payload, '$.value', ?, '$.was', ?) "
        f"WHERE scope = 'register' AND field = 'rights_requests.requester' AND target IN "
        f"({requests})",
        (erased, erased, *ids),
    )
    conn.execute(
        "UPDATE operations SET payload = json_set(payload, '$.value', '', '$.was', '') "
        f"WHERE scope = 'register' AND field IN ({_TEXT_FIELDS}) AND target IN ({requests})",
        ids,
    )
    conn.execute(f"DELETE FROM conflicts WHERE scope = 'register' AND target IN ({requests})", ids)


def erase_subjects(conn: Connection, person_ids: list[int], erased: str) -> int:
    """Clear the personal details of the closed requests about people who are being destroyed.

    Each keeps its reference, kind, dates, outcome and who handled it (accountability); its
    requester becomes ``erased`` (a line naming the date and run, never a person), and its
    notes, refusal reasons, pause reasons and the free text of its redaction log and sign-offs
    go. Returns how many requests were cleared. Call inside the destruction's transaction,
    before the people are deleted; an open request blocks destruction before this is reached.
    """
    if not person_ids:
        return 0
    marks = ", ".join("?" * len(person_ids))
    ids = [
        int(str(r[0]))
        for r in read(
            conn,
            f"SELECT id FROM rights_requests WHERE subject_person_id IN ({marks}) "
            "AND status != 'open'",
            tuple(person_ids),
        )
    ]
    if not ids:
        return 0
    marks = ", ".join("?" * len(ids))
    conn.execute(
        "UPDATE rights_requests SET requester = ?, subject_note = '', refusal_reason = '', "
        f"subject_person_id = NULL, subject_gid = NULL, subject_name = '' WHERE id IN ({marks})",
        (erased, *ids),
    )
    conn.execute(f"UPDATE rights_pauses SET reason = '' WHERE request_id IN ({marks})", ids)
    _erase_operations(conn, ids, marks, erased)
    # The redaction log and the sign-offs are append-only: a row with free text is written
    # again without it, under the same id, so who decided what and when stays.
    for table, text, columns in _APPEND_ONLY_TEXT:
        for row in read(
            conn,
            f"SELECT {columns} FROM {table} WHERE {text} != '' AND request_id IN ({marks})",
            tuple(ids),
        ):
            conn.execute(f"DELETE FROM {table} WHERE id = ?", (row[0],))
            conn.execute(
                f"INSERT INTO {table} ({columns}, {text}) VALUES ({', '.join('?' * len(row))}, '')",
                row,
            )
    return len(ids)
