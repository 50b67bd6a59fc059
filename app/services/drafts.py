"""Drafts: what a user had typed and not saved when the store locked (Lock, Ctrl+L, idle time).

The desktop app hands every open form with unsaved changes to :func:`save_many` as it locks, so
nothing typed is lost, and reads them back with :func:`list_drafts` after the same user signs
in again. Drafts live only in the encrypted store, never in a settings file; each user sees only
their own. A draft goes once the form is saved or discarded (:func:`discard`), or is read once
and removed (:func:`take`). The audit entry names the draft, its kind and the case by id, never
what was typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.errors import InvalidInput
from app.models import drafts as draft_model
from app.models.db import transaction
from app.models.drafts import Draft
from app.models.users import Role
from app.services import audit
from app.services.session import Session

__all__ = [
    "Draft",
    "NewDraft",
    "discard",
    "discard_within",
    "list_drafts",
    "save",
    "save_many",
    "take",
]

MAX_FIELDS_CHARS = 1_000_000  # a form's values as JSON; far more than any form holds


@dataclass(frozen=True)
class NewDraft:
    """A draft to keep: the kind of form, what it was about and its values (JSON-ready)."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)
    case_id: int | None = None
    target_id: int | None = None


def _record(case_id: int | None) -> str:
    return f"case:{case_id}" if case_id is not None else ""


def save_many(session: Session, drafts: Sequence[NewDraft]) -> list[int]:
    """Keep the signed-in user's drafts (each replaces one of the same key); returns their ids."""
    session.require(*Role)
    for draft in drafts:
        if not draft.kind or len(repr(draft.fields)) > MAX_FIELDS_CHARS:
            raise InvalidInput("The draft cannot be kept.")
    ids = []
    with transaction(session.conn):
        for draft in drafts:
            draft_id = draft_model.save(
                session.conn,
                session.user_id,
                draft.kind,
                draft.case_id,
                draft.target_id,
                draft.fields,
                session.now(),
            )
            audit.record(
                session.conn,
                session.user_id,
                audit.DRAFT_SAVED,
                _record(draft.case_id),
                f"draft:{draft_id} kind={draft.kind}",
            )
            ids.append(draft_id)
    return ids


def save(session: Session, draft: NewDraft) -> int:
    """Keep one draft; returns its id."""
    return save_many(session, [draft])[0]


def list_drafts(session: Session) -> list[Draft]:
    """The signed-in user's own drafts, oldest first."""
    session.require(*Role)
    return draft_model.of_user(session.conn, session.user_id)


def _remove_within(session: Session, draft_id: int, action: str) -> Draft | None:
    """Remove one of the user's drafts inside the caller's transaction; None if it was not
    there."""
    found = [d for d in draft_model.of_user(session.conn, session.user_id) if d.id == draft_id]
    if not found or not draft_model.delete(session.conn, session.user_id, draft_id):
        return None
    draft = found[0]
    audit.record(
        session.conn,
        session.user_id,
        action,
        _record(draft.case_id),
        f"draft:{draft_id} kind={draft.kind}",
    )
    return draft


def _remove(session: Session, draft_id: int, action: str) -> Draft:
    session.require(*Role)
    with transaction(session.conn):
        draft = _remove_within(session, draft_id, action)
        if draft is None:
            raise InvalidInput("There is no such draft.")
    return draft


def take(session: Session, draft_id: int) -> Draft:
    """Read one of the user's drafts and remove it, in one step."""
    return _remove(session, draft_id, audit.DRAFT_TAKEN)


def discard(session: Session, draft_id: int) -> None:
    """Remove one of the user's drafts (its form was saved, or the user discarded it)."""
    _remove(session, draft_id, audit.DRAFT_DISCARDED)


def discard_within(session: Session, draft_id: int) -> bool:
    """Remove the user's draft of work that is being saved, inside the transaction that saves
    it, so the work and the end of its draft go together (a form issued from a draft cannot
    come back after a lock to be issued twice). One already gone is no problem: returns
    whether it was there."""
    session.require(*Role)
    return _remove_within(session, draft_id, audit.DRAFT_DISCARDED) is not None
