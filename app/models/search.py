"""The search index (FTS5, inside the encrypted store) over names, aliases, references,
phone numbers, postcodes and note text.

Each indexed text has a row in ``search_rows`` saying which case, person or note it came from;
the FTS5 row shares its rowid, so rows can be found and removed by owner without scanning.
"""

from __future__ import annotations

import re

from app.crypto.connection import Connection
from app.models.db import limit as sql_limit
from app.models.db import read
from app.models.records import Person

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_REFERENCE = re.compile(r"\s*sc-(\d{4})-(?:([a-z]{1,3})-)?(\d{1,6})\s*", re.IGNORECASE)


def phone_digits(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return "0" + digits[2:] if digits.startswith("44") and len(digits) > 11 else digits


def person_text(person: Person) -> str:
    d = person.details
    parts = [d.given_name, d.family_name, *d.aliases, *(phone_digits(p) for p in d.phones)]
    if d.postcode:
        parts += [d.postcode, d.postcode.replace(" ", "")]
    return " ".join(p for p in parts if p)


def _add(
    conn: Connection,
    text: str,
    kind: str,
    case_id: int,
    person_id: int | None = None,
    note_id: int | None = None,
) -> None:
    cur = conn.execute(
        "INSERT INTO search_rows (case_id, person_id, note_id, kind) VALUES (?, ?, ?, ?)",
        (case_id, person_id, note_id, kind),
    )
    conn.execute("INSERT INTO search_index (rowid, text) VALUES (?, ?)", (cur.lastrowid, text))


def _remove(conn: Connection, where: str, params: tuple[object, ...]) -> None:
    conn.execute(
        f"DELETE FROM search_index WHERE rowid IN (SELECT id FROM search_rows WHERE {where})",
        params,
    )
    conn.execute(f"DELETE FROM search_rows WHERE {where}", params)


def index_case(conn: Connection, case_id: int, reference: str) -> None:
    _add(conn, reference, "reference", case_id)


def index_person(conn: Connection, case_id: int, person: Person, *, new: bool = False) -> None:
    """Index a person on a case. ``new``: the person was just added to the case, so there is
    nothing to replace (an FTS5 delete costs a good deal more than the insert)."""
    if not new:
        _remove(conn, "case_id = ? AND person_id = ?", (case_id, person.id))
    _add(conn, person_text(person), "person", case_id, person_id=person.id)


def reindex_person(conn: Connection, person: Person, case_ids: list[int]) -> None:
    _remove(conn, "person_id = ?", (person.id,))
    for case_id in case_ids:
        _add(conn, person_text(person), "person", case_id, person_id=person.id)


def unindex_person(conn: Connection, case_id: int, person_id: int) -> None:
    _remove(conn, "case_id = ? AND person_id = ?", (case_id, person_id))


def index_note(
    conn: Connection, case_id: int, note_id: int, body: str, *, new: bool = False
) -> None:
    """Index a note's current text; ``new`` for a note just written (nothing to replace)."""
    if not new:
        _remove(conn, "note_id = ?", (note_id,))
    _add(conn, body, "note", case_id, note_id=note_id)


def query_words(text: str) -> list[str]:
    """What a user typed, as search reads it: one phone number, or words in lower case."""
    stripped = text.strip()
    if re.fullmatch(r"[\d\s()+-]{6,}", stripped):
        return [phone_digits(stripped)]
    return _WORD.findall(stripped.lower())


def person_matches(person: Person, text: str) -> bool:
    """Whether every word typed starts one of the person's indexed words, as search matches."""
    tokens = _WORD.findall(person_text(person).lower())
    return all(any(t.startswith(w) for t in tokens) for w in query_words(text))


def fts_query(text: str) -> str:
    """Turn what a user typed into an FTS5 query: every word must match as a prefix.

    A run of digits, spaces and + is read as one phone number.
    """
    return " ".join(f'"{w}"*' for w in query_words(text))


def matching_cases(
    conn: Connection, text: str, where: str, params: tuple[object, ...], limit: int = 50
) -> list[tuple[int, str]]:
    """Cases with a text matching ``text`` that pass the access condition ``where`` on ``c``,
    as (case id, what matched): cases where a person or reference matched before cases where
    only a note did, newest case first within each.

    No relevance score: FTS5's bm25 reads each match's document size, a page lookup per
    matching row, which doubled the time of a common surname without improving the list."""
    reference = _REFERENCE.fullmatch(text)
    if reference:
        # A whole reference is looked up by its index: as a prefix query every case matches.
        tag = f"{reference[2].upper()}-" if reference[2] else ""
        exact = f"SC-{reference[1]}-{tag}{int(reference[3]):06d}"
        rows = read(
            conn, f"SELECT c.id FROM cases c WHERE c.reference = ? AND ({where})", (exact, *params)
        )
        return [(int(str(rows[0][0])), "reference")] if rows else []
    query = fts_query(text)
    if not query:
        return []
    rows = read(
        conn,
        "SELECT r.case_id, group_concat(DISTINCT r.kind) "
        "FROM search_index JOIN search_rows r ON r.id = search_index.rowid "
        f"JOIN cases c ON c.id = r.case_id WHERE search_index MATCH ? AND ({where}) "
        f"GROUP BY r.case_id ORDER BY min(r.kind = 'note'), r.case_id DESC{sql_limit(limit)}",
        (query, *params),
    )
    return [(int(str(r[0])), str(r[1])) for r in rows]


def count_matching_cases(conn: Connection, text: str) -> set[int]:
    """Every case with a matching text, whoever may open it (for the duplicate warning)."""
    query = fts_query(text)
    if not query:
        return set()
    rows = read(
        conn,
        "SELECT DISTINCT r.case_id FROM search_index JOIN search_rows r "
        "ON r.id = search_index.rowid WHERE search_index MATCH ? AND r.kind = 'person'",
        (query,),
    )
    return {int(str(r[0])) for r in rows}
