"""Cases, the people on them, and each client's safe contact details."""

from __future__ import annotations

import datetime as dt

from app.crypto.connection import Connection
from app.errors import InvalidInput
from app.models import settings as settings_model
from app.models.convert import date_text, parse_date
from app.models.db import limit as sql_limit
from app.models.db import read
from app.models.people import COLUMNS as PERSON_COLUMNS
from app.models.people import person_from_row
from app.models.records import (
    Case,
    CaseDetails,
    CaseMember,
    CaseRole,
    CaseStatus,
    CaseSummary,
    ContactMethod,
    RiskLevel,
    SafeContact,
)
from app.sync.clock import new_gid

_COLUMNS = (
    "id, reference, status, referral_date, referral_source, referrer_id, other_services, "
    "needs_assessment, safety_plan, next_review, allocated_user_id, team_id, opened_date, "
    "closed_date, closed_reason, risk_level, marac_referral_date, marac_meeting_date, "
    "legal_hold_reason, legal_hold_review"
)


def _case(row: tuple[object, ...]) -> Case:
    details = CaseDetails(
        referral_date=parse_date(row[3]) or dt.date.min,
        referral_source=str(row[4]),
        referrer_id=None if row[5] is None else int(str(row[5])),
        other_services=str(row[6]),
        needs_assessment=str(row[7]),
        safety_plan=str(row[8]),
        next_review=parse_date(row[9]),
    )
    return Case(
        id=int(str(row[0])),
        reference=str(row[1]),
        status=CaseStatus(str(row[2])),
        details=details,
        allocated_user_id=None if row[10] is None else int(str(row[10])),
        team_id=int(str(row[11])),
        opened_date=parse_date(row[12]),
        closed_date=parse_date(row[13]),
        closed_reason=str(row[14]),
        risk_level=RiskLevel(str(row[15])) if row[15] else None,
        marac_referral_date=parse_date(row[16]),
        marac_meeting_date=parse_date(row[17]),
        legal_hold_reason=str(row[18]),
        legal_hold_review=parse_date(row[19]),
    )


def next_reference(conn: Connection, year: int) -> str:
    """The next free reference for ``year``; a destroyed case's reference is never reused, so
    the destruction log always names one case."""
    prefix = settings_model.reference_prefix(conn, "SC", year)
    rows = read(
        conn,
        "SELECT max(reference) FROM (SELECT max(reference) AS reference FROM cases "
        "WHERE reference >= ?1 AND reference < ?2 UNION ALL SELECT max(reference) "
        "FROM destruction_log WHERE reference >= ?1 AND reference < ?2) HAVING max(reference) "
        "IS NOT NULL",
        (f"{prefix}0", f"{prefix}:"),  # this laptop's numbers only, not other laptops' tags
    )
    number = int(str(rows[0][0]).rsplit("-", 1)[1]) + 1 if rows else 1
    return f"{prefix}{number:06d}"


def insert(
    conn: Connection,
    reference: str,
    details: CaseDetails,
    allocated_user_id: int | None,
    team_id: int,
    now: str,
    status: CaseStatus = CaseStatus.REFERRAL,
    gid: str | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO cases (reference, status, referral_date, referral_source, referrer_id, "
        "other_services, needs_assessment, safety_plan, next_review, allocated_user_id, "
        "team_id, created_at, updated_at, gid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            reference,
            status.value,
            date_text(details.referral_date),
            details.referral_source,
            details.referrer_id,
            details.other_services,
            details.needs_assessment,
            details.safety_plan,
            date_text(details.next_review),
            allocated_user_id,
            team_id,
            now,
            now,
            gid or new_gid(),
        ),
    )
    return int(cur.lastrowid or 0)


def get(conn: Connection, case_id: int) -> Case | None:
    rows = read(conn, f"SELECT {_COLUMNS} FROM cases WHERE id = ?", (case_id,))
    return _case(rows[0]) if rows else None


def by_reference(conn: Connection, reference: str) -> Case | None:
    rows = read(conn, f"SELECT {_COLUMNS} FROM cases WHERE reference = ?", (reference,))
    return _case(rows[0]) if rows else None


def update_details(conn: Connection, case_id: int, details: CaseDetails, now: str) -> None:
    conn.execute(
        "UPDATE cases SET referral_date = ?, referral_source = ?, referrer_id = ?, "
        "other_services = ?, needs_assessment = ?, safety_plan = ?, next_review = ?, "
        "updated_at = ? WHERE id = ?",
        (
            date_text(details.referral_date),
            details.referral_source,
            details.referrer_id,
            details.other_services,
            details.needs_assessment,
            details.safety_plan,
            date_text(details.next_review),
            now,
            case_id,
        ),
    )


def set_fields(conn: Connection, case_id: int, now: str, **fields: object) -> None:
    """Set named columns of one case (names come from code, never from input)."""
    allowed = {
        "status",
        "allocated_user_id",
        "team_id",
        "opened_date",
        "closed_date",
        "closed_reason",
        "risk_level",
        "marac_referral_date",
        "marac_meeting_date",
        "legal_hold_reason",
        "legal_hold_review",
        "client_name",
        "marac_due",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not a case field: {sorted(unknown)}")
    values = [v.isoformat() if isinstance(v, dt.date) else v for v in fields.values()]
    assignments = ", ".join(f"{name} = ?" for name in fields)
    conn.execute(
        f"UPDATE cases SET {assignments}, updated_at = ? WHERE id = ?",
        (*values, now, case_id),
    )


# -- people on cases ---------------------------------------------------------------------------


def add_member(conn: Connection, case_id: int, person_id: int, role: CaseRole) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO case_people (case_id, person_id, role) VALUES (?, ?, ?)",
        (case_id, person_id, role.value),
    )


def remove_member(conn: Connection, case_id: int, person_id: int, role: CaseRole) -> None:
    conn.execute(
        "DELETE FROM case_people WHERE case_id = ? AND person_id = ? AND role = ?",
        (case_id, person_id, role.value),
    )


def members(conn: Connection, case_id: int) -> list[CaseMember]:
    columns = ", ".join(f"p.{c.strip()}" for c in PERSON_COLUMNS.split(","))
    rows = read(
        conn,
        f"SELECT cp.role, {columns} FROM case_people cp JOIN people p ON p.id = cp.person_id "
        "WHERE cp.case_id = ? ORDER BY cp.role, p.id",
        (case_id,),
    )
    return [CaseMember(person_from_row(r[1:]), CaseRole(str(r[0]))) for r in rows]


def roles_of(conn: Connection, person_id: int) -> set[CaseRole]:
    rows = read(conn, "SELECT DISTINCT role FROM case_people WHERE person_id = ?", (person_id,))
    return {CaseRole(str(r[0])) for r in rows}


def client_id(conn: Connection, case_id: int) -> int | None:
    rows = read(
        conn,
        "SELECT person_id FROM case_people WHERE case_id = ? AND role = 'client' "
        "ORDER BY person_id LIMIT 1",
        (case_id,),
    )
    return int(str(rows[0][0])) if rows else None


def cases_where_client(conn: Connection, person_id: int) -> list[int]:
    rows = read(
        conn,
        "SELECT case_id FROM case_people WHERE person_id = ? AND role = 'client'",
        (person_id,),
    )
    return [int(str(r[0])) for r in rows]


# -- safe contact ------------------------------------------------------------------------------

_CONTACT = (
    "person_id, safe_number, method, safe_times, voicemail_ok, text_ok, letters_ok, code_word, "
    "do_not_contact, safe_people, unsafe_people, last_checked, safe_address, safe_postcode"
)


def put_safe_contact(
    conn: Connection, case_id: int, rules: SafeContact, user_id: int, now: str
) -> None:
    """Write the client's safe contact details. The safe way must be one of ContactMethod;
    a store may hold older free text (it is read as it is), kept only while unchanged."""
    if rules.method and rules.method not in {m.value for m in ContactMethod}:
        stored = safe_contact(conn, case_id, rules.person_id)
        if stored is None or stored.method != rules.method:
            raise InvalidInput(
                "Choose the safe way to make contact from the list: phone, text, voicemail, "
                "letter, e-mail or a visit."
            )
    conn.execute(
        f"INSERT INTO safe_contacts (case_id, {_CONTACT}, updated_by, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (case_id, person_id) DO UPDATE SET safe_number = excluded.safe_number, "
        "method = excluded.method, safe_times = excluded.safe_times, "
        "voicemail_ok = excluded.voicemail_ok, text_ok = excluded.text_ok, "
        "letters_ok = excluded.letters_ok, code_word = excluded.code_word, "
        "do_not_contact = excluded.do_not_contact, safe_people = excluded.safe_people, "
        "unsafe_people = excluded.unsafe_people, last_checked = excluded.last_checked, "
        "safe_address = excluded.safe_address, safe_postcode = excluded.safe_postcode, "
        "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        (
            case_id,
            rules.person_id,
            rules.safe_number,
            rules.method,
            rules.safe_times,
            int(rules.voicemail_ok),
            int(rules.text_ok),
            int(rules.letters_ok),
            rules.code_word,
            int(rules.do_not_contact),
            rules.safe_people,
            rules.unsafe_people,
            date_text(rules.last_checked),
            rules.safe_address,
            rules.safe_postcode,
            user_id,
            now,
        ),
    )


def safe_contact(conn: Connection, case_id: int, person_id: int) -> SafeContact | None:
    rows = read(
        conn,
        f"SELECT {_CONTACT} FROM safe_contacts WHERE case_id = ? AND person_id = ?",
        (case_id, person_id),
    )
    if not rows:
        return None
    r = rows[0]
    return SafeContact(
        person_id=int(str(r[0])),
        safe_number=str(r[1]),
        method=str(r[2]),
        safe_times=str(r[3]),
        voicemail_ok=bool(r[4]),
        text_ok=bool(r[5]),
        letters_ok=bool(r[6]),
        code_word=str(r[7]),
        do_not_contact=bool(r[8]),
        safe_people=str(r[9]),
        unsafe_people=str(r[10]),
        last_checked=parse_date(r[11]),
        safe_address=str(r[12]),
        safe_postcode=str(r[13]),
    )


# -- lists ------------------------------------------------------------------------------------


# Sortable case-list columns: the SQL for each (never taken from input).
SORT_KEYS = {
    "reference": "c.reference",
    "client": "c.client_name",
    "worker": "COALESCE(u.username, '')",
    "status": "c.status",
    "risk": "CASE c.risk_level WHEN 'high' THEN 3 WHEN 'medium' THEN 2 "
    "WHEN 'standard' THEN 1 ELSE 0 END",
    "next_review": "COALESCE(c.next_review, '9999-12-31')",
    "activity": "c.updated_at",
}


def touch(conn: Connection, case_id: int, now: str) -> None:
    """Note activity on a case (a note added or corrected): lists sort by it."""
    conn.execute("UPDATE cases SET updated_at = ? WHERE id = ?", (now, case_id))


def summaries(
    conn: Connection,
    *,
    where: str,
    params: tuple[object, ...],
    after_reference: str = "",
    limit: int = 100,
    order_by: str = "reference",
    descending: bool = False,
    after_key: object = None,
) -> list[CaseSummary]:
    """Case-list rows a page at a time, by keyset paging on (sort key, reference).

    ``where`` is an access condition on ``c`` built by the services, never from input. The
    next page starts after the last row's ``sort_key(row)`` and reference.
    """
    key = SORT_KEYS[order_by]
    if order_by == "reference":
        after_key = after_reference
    direction, compare = ("DESC", "<") if descending else ("ASC", ">")
    page = ""
    page_params: tuple[object, ...] = ()
    if after_reference:
        page = f" AND ({key}, c.reference) {compare} (?, ?)"
        page_params = (after_key, after_reference)
    rows = read(
        conn,
        "SELECT c.id, c.reference, c.client_name, COALESCE(u.username, ''), c.status, "
        "c.risk_level, c.next_review, c.marac_due, c.updated_at, (SELECT count(*) FROM "
        "conflicts k WHERE k.case_id = c.id AND k.state = 'open') FROM cases c "
        "LEFT JOIN users u ON u.id = c.allocated_user_id "
        f"WHERE ({where}){page} ORDER BY {key} {direction}, c.reference {direction}"
        f"{sql_limit(limit)}",
        (*params, *page_params),
    )
    return [
        CaseSummary(
            id=int(str(r[0])),
            reference=str(r[1]),
            client_name=str(r[2]),
            worker=str(r[3]),
            status=CaseStatus(str(r[4])),
            risk_level=RiskLevel(str(r[5])) if r[5] else None,
            next_review=parse_date(r[6]),
            marac_due=bool(r[7]),
            last_activity=str(r[8]),
            conflicts=int(str(r[9])),
        )
        for r in rows
    ]


def sort_key(summary: CaseSummary, order_by: str) -> object:
    """The value ``summaries`` pages on for ``order_by``, taken from a row already shown."""
    risk_rank = {"high": 3, "medium": 2, "standard": 1}
    return {
        "reference": summary.reference,
        "client": summary.client_name,
        "worker": summary.worker,
        "status": summary.status.value,
        "risk": risk_rank.get(summary.risk_level.value if summary.risk_level else "", 0),
        "next_review": summary.next_review.isoformat() if summary.next_review else "9999-12-31",
        "activity": summary.last_activity,
    }[order_by]


def reachable_cases_of(
    conn: Connection, person_id: int, where: str, params: tuple[object, ...]
) -> list[int]:
    """The cases with this person on them that pass the access condition ``where`` on ``c``."""
    rows = read(
        conn,
        "SELECT DISTINCT cp.case_id FROM case_people cp JOIN cases c ON c.id = cp.case_id "
        f"WHERE cp.person_id = ? AND ({where})",
        (person_id, *params),
    )
    return [int(str(r[0])) for r in rows]


def client_ids(conn: Connection, case_id: int) -> list[int]:
    rows = read(
        conn,
        "SELECT person_id FROM case_people WHERE case_id = ? AND role = 'client'",
        (case_id,),
    )
    return [int(str(r[0])) for r in rows]


def is_member(conn: Connection, case_id: int, person_id: int) -> bool:
    return bool(
        read(
            conn,
            "SELECT 1 FROM case_people WHERE case_id = ? AND person_id = ? LIMIT 1",
            (case_id, person_id),
        )
    )
