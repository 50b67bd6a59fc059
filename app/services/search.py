"""Searching the cases a user may open, by name, alias, reference, phone, postcode or note."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import InvalidInput
from app.models import cases as case_model
from app.models import search as search_model
from app.models.db import transaction
from app.models.records import CaseSummary
from app.services import access, audit
from app.services.session import Session


@dataclass(frozen=True)
class SearchHit:
    case: CaseSummary
    matched: tuple[str, ...]  # "reference", "person", "note"


# A name, a phone number, a postcode, a reference or a few words of a note fit well within
# these. Every word is a prefix query over the whole index: a 10 KB query of 1,500 words
# took 4.9 s on a 3,000-case store, holding the store for everyone else meanwhile.
MAX_QUERY_CHARACTERS = 200
MAX_QUERY_WORDS = 10


def check_query(text: str) -> None:
    """Refuse a search too long to be a name, a number or a few words, before it runs."""
    if len(text) > MAX_QUERY_CHARACTERS:
        raise InvalidInput(
            f"Search for at most {MAX_QUERY_CHARACTERS} characters: a name, a phone number, "
            "a postcode, a reference or a few words."
        )
    if len(search_model.query_words(text)) > MAX_QUERY_WORDS:
        raise InvalidInput(
            f"Search for at most {MAX_QUERY_WORDS} words at a time; leave out the rest."
        )


def search(session: Session, text: str, limit: int = 50) -> list[SearchHit]:
    """Cases matching ``text`` that this user may open: name, alias, phone, postcode and
    reference matches before note-only matches, newest case first within each.

    Cases the user may not open are never returned. The audit entry records the number of
    results, never what was typed.
    """
    session.require(*access.CASE_ROLES)
    check_query(text)
    where, params = access.condition(session)
    found = search_model.matching_cases(session.conn, text, where, params, limit)
    hits: list[SearchHit] = []
    if found:
        ids = [case_id for case_id, _ in found]
        marks = ", ".join("?" * len(ids))
        rows = {
            s.id: s
            for s in case_model.summaries(
                session.conn, where=f"c.id IN ({marks})", params=tuple(ids), limit=len(ids)
            )
        }
        hits = [SearchHit(rows[i], tuple(kinds.split(","))) for i, kinds in found if i in rows]
    with transaction(session.conn):
        audit.record(session.conn, session.user_id, audit.SEARCHED, "", f"results={len(hits)}")
    return hits
