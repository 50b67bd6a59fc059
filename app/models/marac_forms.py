"""MARAC referral forms as issued: the values printed on each, kept so the service can show
later exactly what went out, and the MARAC history a repeat referral is counted from."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from app.crypto.connection import Connection
from app.models.convert import date_text, parse_date
from app.models.db import read


@dataclass(frozen=True)
class IssuedForm:
    """One issued referral: its row, with the form's values as they were printed (JSON)."""

    id: int
    case_id: int
    share_id: int
    referred_on: dt.date
    reason: str
    fields: dict[str, object]
    issued_by: int | None
    issued_at: str


_COLUMNS = "id, case_id, share_id, referred_on, reason, fields, issued_by, issued_at"


def _issued(r: tuple[object, ...]) -> IssuedForm:
    return IssuedForm(
        id=int(str(r[0])),
        case_id=int(str(r[1])),
        share_id=int(str(r[2])),
        referred_on=parse_date(r[3]) or dt.date.min,
        reason=str(r[4]),
        fields=dict(json.loads(str(r[5]))),
        issued_by=None if r[6] is None else int(str(r[6])),
        issued_at=str(r[7]),
    )


def insert(
    conn: Connection,
    case_id: int,
    share_id: int,
    referred_on: dt.date,
    reason: str,
    fields: dict[str, object],
    user_id: int,
    now: str,
) -> int:
    cur = conn.execute(
        "INSERT INTO marac_referrals (case_id, share_id, referred_on, reason, fields, issued_by, "
        "issued_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            case_id,
            share_id,
            date_text(referred_on),
            reason,
            json.dumps(fields, ensure_ascii=False, sort_keys=True),
            user_id,
            now,
        ),
    )
    return int(cur.lastrowid or 0)


def get(conn: Connection, form_id: int) -> IssuedForm | None:
    rows = read(conn, f"SELECT {_COLUMNS} FROM marac_referrals WHERE id = ?", (form_id,))
    return _issued(rows[0]) if rows else None


def for_case(conn: Connection, case_id: int) -> list[IssuedForm]:
    """The forms issued from a case, newest first."""
    rows = read(
        conn,
        f"SELECT {_COLUMNS} FROM marac_referrals WHERE case_id = ? "
        "ORDER BY referred_on DESC, id DESC",
        (case_id,),
    )
    return [_issued(r) for r in rows]


def referral_dates(conn: Connection, person_id: int) -> list[dt.date]:
    """Every MARAC referral of this person as the person supported, on any case: the forms
    issued, and the referral dates recorded on cases without a form. Oldest first."""
    rows = read(
        conn,
        "SELECT m.referred_on FROM marac_referrals m JOIN case_people cp "
        "ON cp.case_id = m.case_id AND cp.role = 'client' WHERE cp.person_id = ?1 "
        "UNION SELECT c.marac_referral_date FROM cases c JOIN case_people cp "
        "ON cp.case_id = c.id AND cp.role = 'client' "
        "WHERE cp.person_id = ?1 AND c.marac_referral_date IS NOT NULL",
        (person_id,),
    )
    return sorted(d for d in (parse_date(r[0]) for r in rows) if d is not None)


def last_marac(conn: Connection) -> str:
    """The MARAC the service's newest form went to ("" before the first)."""
    rows = read(conn, "SELECT fields FROM marac_referrals ORDER BY id DESC LIMIT 1")
    return str(json.loads(str(rows[0][0])).get("marac", "")) if rows else ""
