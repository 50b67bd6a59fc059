"""Notes and contacts: append-only. A correction or a dispute is a new row, never an edit."""

from __future__ import annotations

from app.crypto.connection import Connection
from app.models.db import limit as sql_limit
from app.models.db import read
from app.models.records import Note, NoteKind, NoteRevision
from app.sync.clock import new_gid

# The current text is the newest correction's, or the original's when there is none.
_SELECT = (
    "SELECT n.id, n.case_id, n.kind, n.occurred_at, "
    "COALESCE((SELECT body FROM note_revisions WHERE note_id = n.id AND kind = 'correction' "
    "ORDER BY id DESC LIMIT 1), n.body), n.author_id, n.created_at, "
    "EXISTS (SELECT 1 FROM note_revisions WHERE note_id = n.id AND kind = 'correction'), "
    "(SELECT reason FROM note_revisions WHERE note_id = n.id AND kind = 'disputed' "
    "ORDER BY id DESC LIMIT 1) FROM notes n"
)


def _note(r: tuple[object, ...]) -> Note:
    return Note(
        id=int(str(r[0])),
        case_id=int(str(r[1])),
        kind=NoteKind(str(r[2])),
        occurred_at=str(r[3]),
        body=str(r[4]),
        author_id=int(str(r[5])),
        created_at=str(r[6]),
        corrected=bool(r[7]),
        disputed=r[8] is not None,
        dispute_reason=str(r[8] or ""),
    )


def insert(
    conn: Connection,
    case_id: int,
    kind: NoteKind,
    occurred_at: str,
    body: str,
    author_id: int,
    now: str,
    gid: str | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO notes (case_id, kind, occurred_at, body, author_id, created_at, gid) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (case_id, kind.value, occurred_at, body, author_id, now, gid or new_gid()),
    )
    return int(cur.lastrowid or 0)


def add_revision(
    conn: Connection,
    note_id: int,
    kind: str,
    body: str,
    reason: str,
    user_id: int,
    now: str,
    gid: str | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO note_revisions (note_id, kind, body, reason, changed_by, changed_at, gid) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (note_id, kind, body, reason, user_id, now, gid or new_gid()),
    )
    return int(cur.lastrowid or 0)


def get(conn: Connection, note_id: int) -> Note | None:
    rows = read(conn, f"{_SELECT} WHERE n.id = ?", (note_id,))
    return _note(rows[0]) if rows else None


def timeline(
    conn: Connection,
    case_id: int,
    limit: int = 200,
    offset: int = 0,
    *,
    before: tuple[str, int] | None = None,
) -> list[Note]:
    """A case's notes, newest first; ``before`` (a note's time and id) starts the page just
    after that note (keyset paging: the next page of older notes, however many there are)."""
    where = "n.case_id = ?"
    params: list[object] = [case_id]
    if before is not None:
        where += " AND (n.occurred_at, n.id) < (?, ?)"
        params += [before[0], before[1]]
    rows = read(
        conn,
        f"{_SELECT} WHERE {where} ORDER BY n.occurred_at DESC, n.id DESC{sql_limit(limit, offset)}",
        tuple(params),
    )
    return [_note(r) for r in rows]


def count(conn: Connection, case_id: int) -> int:
    """How many notes a case has."""
    return int(str(read(conn, "SELECT count(*) FROM notes WHERE case_id = ?", (case_id,))[0][0]))


def history(conn: Connection, note_id: int) -> list[NoteRevision]:
    """The original text, then every correction with who, when and why."""
    original = read(conn, "SELECT body, author_id, created_at FROM notes WHERE id = ?", (note_id,))
    if not original:
        return []
    body, author, created = original[0]
    result = [NoteRevision(str(body), int(str(author)), str(created), "")]
    rows = read(
        conn,
        "SELECT body, changed_by, changed_at, reason FROM note_revisions "
        "WHERE note_id = ? AND kind = 'correction' ORDER BY id",
        (note_id,),
    )
    result += [NoteRevision(str(r[0]), int(str(r[1])), str(r[2]), str(r[3])) for r in rows]
    return result
