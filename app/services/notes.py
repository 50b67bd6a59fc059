"""Notes and contacts (visits, calls, meetings, messages), append-only.

A correction keeps the original and records who changed what, when and why. A person may
dispute what a note says; a refused rectification or erasure request is recorded as a note.
"""

from __future__ import annotations

import datetime as dt

from app.errors import InvalidInput
from app.models import cases as case_model
from app.models import notes as note_model
from app.models import search as search_model
from app.models.db import transaction
from app.models.records import Note, NoteKind, NoteRevision
from app.services import access, audit
from app.services.session import Session
from app.sync import ops

REFUSED_REQUESTS = (NoteKind.RECTIFICATION_REFUSED, NoteKind.ERASURE_REFUSED)


def _when(occurred_at: dt.datetime, now: dt.datetime) -> str:
    when = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=dt.UTC)
    if when > now + dt.timedelta(minutes=5):
        raise InvalidInput("The note's date and time are in the future; check them.")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_note(
    session: Session, case_id: int, kind: NoteKind, body: str, occurred_at: dt.datetime
) -> int:
    """Record a note or contact on a case; returns its id."""
    access.require_open_case(session, case_id)
    access.refuse_if_client_restricted(session, case_id)
    if not body.strip():
        raise InvalidInput("The note is empty.")
    when = _when(occurred_at, session.moment())
    with transaction(session.conn):
        note_id = note_model.insert(
            session.conn, case_id, kind, when, body.strip(), session.user_id, session.now()
        )
        search_model.index_note(session.conn, case_id, note_id, body, new=True)
        case_model.touch(session.conn, case_id, session.now())
        ops.emit_record(
            session.conn, "note.added", note_id, case_id, session.user_id, session.now()
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.NOTE_ADDED,
            f"case:{case_id}",
            f"note:{note_id} kind={kind.value}",
        )
    return note_id


def record_refused_request(
    session: Session, case_id: int, kind: NoteKind, body: str, decided_at: dt.datetime
) -> int:
    """Record, as a note on the record, a rectification or erasure request that was refused
    and why (so the person's view is kept with the record)."""
    if kind not in REFUSED_REQUESTS:
        raise InvalidInput("Choose a refused rectification or a refused erasure.")
    return add_note(session, case_id, kind, body, decided_at)


def _note(session: Session, note_id: int) -> Note:
    note = note_model.get(session.conn, note_id)
    if note is None:
        raise InvalidInput("There is no such note.")
    access.require_open_case(session, note.case_id)
    access.refuse_if_client_restricted(session, note.case_id)
    return note


def _emit_revision(session: Session, revision_id: int, case_id: int) -> None:
    ops.emit_record(
        session.conn, "note.corrected", revision_id, case_id, session.user_id, session.now()
    )


def correct_note(session: Session, note_id: int, new_body: str, reason: str) -> None:
    """Correct a note: the original stays, with who changed it, when and why."""
    note = _note(session, note_id)
    if not reason.strip():
        raise InvalidInput("Say why the note is being corrected.")
    if not new_body.strip() or new_body.strip() == note.body:
        raise InvalidInput("The corrected text is empty or the same as before.")
    with transaction(session.conn):
        revision_id = note_model.add_revision(
            session.conn,
            note_id,
            "correction",
            new_body.strip(),
            reason.strip(),
            session.user_id,
            session.now(),
        )
        search_model.index_note(session.conn, note.case_id, note_id, new_body)
        case_model.touch(session.conn, note.case_id, session.now())
        _emit_revision(session, revision_id, note.case_id)
        audit.record(
            session.conn,
            session.user_id,
            audit.NOTE_CORRECTED,
            f"case:{note.case_id}",
            f"note:{note_id}",
        )


def mark_disputed(session: Session, note_id: int, reason: str) -> None:
    """Mark that the person disputes what a note says, and why."""
    note = _note(session, note_id)
    if not reason.strip():
        raise InvalidInput("Say what the person disputes.")
    with transaction(session.conn):
        revision_id = note_model.add_revision(
            session.conn, note_id, "disputed", "", reason.strip(), session.user_id, session.now()
        )
        case_model.touch(session.conn, note.case_id, session.now())
        _emit_revision(session, revision_id, note.case_id)
        audit.record(
            session.conn,
            session.user_id,
            audit.NOTE_DISPUTED,
            f"case:{note.case_id}",
            f"note:{note_id}",
        )


def history(session: Session, note_id: int) -> list[NoteRevision]:
    """The original text and every correction, oldest first."""
    note = note_model.get(session.conn, note_id)
    if note is None:
        raise InvalidInput("There is no such note.")
    access.require_case(session, note.case_id)
    return note_model.history(session.conn, note_id)


def timeline(
    session: Session,
    case_id: int,
    limit: int = 200,
    offset: int = 0,
    *,
    before: Note | None = None,
) -> list[Note]:
    """A case's notes, newest first: ``limit`` of them, starting after the note ``before``
    (the oldest one held) when given, so the case screen can page back through any number."""
    access.require_case(session, case_id)
    after = (before.occurred_at, before.id) if before is not None else None
    return note_model.timeline(session.conn, case_id, limit, offset, before=after)
