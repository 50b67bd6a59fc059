"""Searching the cases a user may open, by name, alias, reference, phone, postcode or note."""

from __future__ import annotations

from dataclasses import dataclass

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


def search(session: Session, text: str, limit: int = 50) -> list[SearchHit]:
    """Cases matching ``text`` that this user may open: name, alias, phone, postcode and
    reference matches before note-only matches, newest case first within each.

    Cases the user may not open are never returned. The audit entry records the number of
    results, never what was typed.
    """
    session.require(*access.CASE_ROLES)
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
