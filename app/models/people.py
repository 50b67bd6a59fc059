"""People: clients, alleged perpetrators, children, household members and professionals."""

from __future__ import annotations

from app.crypto.connection import Connection
from app.models.convert import date_text, json_list, parse_date, parse_list
from app.models.db import read
from app.models.records import Person, PersonDetails
from app.sync.clock import new_gid

COLUMNS = (
    "id, given_name, family_name, aliases, date_of_birth, gender, sexuality, ethnicity, "
    "language, interpreter_needed, disabilities, address, postcode, address_confidential, "
    "phones, email, health_notes, organisation, job_title, restricted, restriction_reason"
)
_DETAIL_FIELDS = (
    "given_name, family_name, aliases, date_of_birth, gender, sexuality, ethnicity, language, "
    "interpreter_needed, disabilities, address, postcode, address_confidential, phones, email, "
    "health_notes, organisation, job_title"
)


def _values(d: PersonDetails) -> tuple[object, ...]:
    return (
        d.given_name.strip(),
        d.family_name.strip(),
        json_list(d.aliases),
        date_text(d.date_of_birth),
        d.gender,
        d.sexuality,
        d.ethnicity,
        d.language,
        int(d.interpreter_needed),
        d.disabilities,
        d.address,
        d.postcode.strip().upper(),
        int(d.address_confidential),
        json_list(d.phones),
        d.email,
        d.health_notes,
        d.organisation,
        d.job_title,
    )


def stored_details(d: PersonDetails) -> dict[str, object]:
    """The person's details by column, as the store holds them."""
    names = [name.strip() for name in _DETAIL_FIELDS.split(",")]
    return dict(zip(names, _values(d), strict=True))


def person_from_row(row: tuple[object, ...]) -> Person:
    details = PersonDetails(
        given_name=str(row[1]),
        family_name=str(row[2]),
        aliases=parse_list(row[3]),
        date_of_birth=parse_date(row[4]),
        gender=str(row[5]),
        sexuality=str(row[6]),
        ethnicity=str(row[7]),
        language=str(row[8]),
        interpreter_needed=bool(row[9]),
        disabilities=str(row[10]),
        address=str(row[11]),
        postcode=str(row[12]),
        address_confidential=bool(row[13]),
        phones=parse_list(row[14]),
        email=str(row[15]),
        health_notes=str(row[16]),
        organisation=str(row[17]),
        job_title=str(row[18]),
    )
    return Person(int(str(row[0])), details, bool(row[19]), str(row[20]))


def insert(conn: Connection, details: PersonDetails, now: str, gid: str | None = None) -> int:
    marks = ", ".join("?" * 18)
    cur = conn.execute(
        f"INSERT INTO people ({_DETAIL_FIELDS}, created_at, updated_at, gid) "
        f"VALUES ({marks}, ?, ?, ?)",
        (*_values(details), now, now, gid or new_gid()),
    )
    return int(cur.lastrowid or 0)


def update(conn: Connection, person_id: int, details: PersonDetails, now: str) -> None:
    assignments = ", ".join(f"{name.strip()} = ?" for name in _DETAIL_FIELDS.split(","))
    conn.execute(
        f"UPDATE people SET {assignments}, updated_at = ? WHERE id = ?",
        (*_values(details), now, person_id),
    )


def get(conn: Connection, person_id: int) -> Person | None:
    rows = read(conn, f"SELECT {COLUMNS} FROM people WHERE id = ?", (person_id,))
    return person_from_row(rows[0]) if rows else None


def many(conn: Connection, person_ids: list[int]) -> dict[int, Person]:
    if not person_ids:
        return {}
    marks = ", ".join("?" * len(person_ids))
    rows = read(conn, f"SELECT {COLUMNS} FROM people WHERE id IN ({marks})", tuple(person_ids))
    return {p.id: p for p in (person_from_row(r) for r in rows)}


def set_restriction(conn: Connection, person_id: int, restricted: bool, reason: str) -> None:
    conn.execute(
        "UPDATE people SET restricted = ?, restriction_reason = ? WHERE id = ?",
        (int(restricted), reason, person_id),
    )


def case_ids(conn: Connection, person_id: int) -> list[int]:
    rows = read(conn, "SELECT DISTINCT case_id FROM case_people WHERE person_id = ?", (person_id,))
    return [int(str(r[0])) for r in rows]


def any_restricted(conn: Connection, person_ids: list[int]) -> bool:
    if not person_ids:
        return False
    marks = ", ".join("?" * len(person_ids))
    rows = read(
        conn,
        f"SELECT 1 FROM people WHERE restricted = 1 AND id IN ({marks}) LIMIT 1",
        tuple(person_ids),
    )
    return bool(rows)


def recorded_dates(conn: Connection, person_id: int) -> tuple[str, str]:
    """When the person's record was made and last changed (UTC timestamps)."""
    rows = read(conn, "SELECT created_at, updated_at FROM people WHERE id = ?", (person_id,))
    return (str(rows[0][0]), str(rows[0][1])) if rows else ("", "")
