"""The sharing log: every disclosure in or out. Append-only; reviews are separate rows."""

from __future__ import annotations

import json

from app.crypto.connection import Connection
from app.models.db import read
from app.models.records import (
    Direction,
    LawfulBasis,
    RecipientCategory,
    Share,
    ShareApproval,
    ShareRecord,
    ShareToReview,
)
from app.sync.clock import new_gid

_COLUMNS = (
    "s.id, s.case_id, s.direction, s.shared_at, s.organisation, s.recipient_category, "
    "s.data_categories, s.purpose, s.method, s.lawful_basis, s.court_reference, s.reason, "
    "s.person_told, s.not_told_reason, s.consulted_manager_id, s.approval, s.review_due, "
    "s.recorded_by, s.recorded_at, "
    "(SELECT group_concat(person_id) FROM share_people WHERE share_id = s.id), "
    "r.outcome, r.reviewed_by, r.note"
)
_LATEST_REVIEW = (
    "LEFT JOIN share_reviews r ON r.id = (SELECT max(id) FROM share_reviews WHERE share_id = s.id)"
)


def _share(r: tuple[object, ...]) -> Share:
    people = tuple(sorted(int(p) for p in str(r[19] or "").split(",") if p))
    record = ShareRecord(
        case_id=int(str(r[1])),
        direction=Direction(str(r[2])),
        shared_at=str(r[3]),
        organisation=str(r[4]),
        recipient_category=RecipientCategory(str(r[5])),
        person_ids=people,
        data_categories=tuple(json.loads(str(r[6]))),
        purpose=str(r[7]),
        method=str(r[8]),
        lawful_basis=LawfulBasis(str(r[9])),
        court_reference=str(r[10]),
        reason=str(r[11]),
        person_told=bool(r[12]),
        not_told_reason=str(r[13]),
        consulted_manager_id=None if r[14] is None else int(str(r[14])),
    )
    approval = ShareApproval(str(r[20])) if r[20] else ShareApproval(str(r[15]))
    return Share(
        id=int(str(r[0])),
        record=record,
        recorded_by=int(str(r[17])),
        recorded_at=str(r[18]),
        approval=approval,
        review_due=str(r[16]),
        reviewed_by=None if r[21] is None else int(str(r[21])),
        review_note=str(r[22] or ""),
    )


def insert(
    conn: Connection,
    record: ShareRecord,
    approval: ShareApproval,
    review_due: str,
    user_id: int,
    now: str,
    gid: str | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO shares (case_id, direction, shared_at, organisation, recipient_category, "
        "data_categories, purpose, method, lawful_basis, court_reference, reason, person_told, "
        "not_told_reason, consulted_manager_id, approval, review_due, recorded_by, recorded_at, "
        "gid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record.case_id,
            record.direction.value,
            record.shared_at,
            record.organisation,
            record.recipient_category.value,
            json.dumps(list(record.data_categories)),
            record.purpose,
            record.method,
            record.lawful_basis.value,
            record.court_reference,
            record.reason,
            int(record.person_told),
            record.not_told_reason,
            record.consulted_manager_id,
            approval.value,
            review_due,
            user_id,
            now,
            gid or new_gid(),
        ),
    )
    share_id = int(cur.lastrowid or 0)
    conn.executemany(
        "INSERT INTO share_people (share_id, person_id) VALUES (?, ?)",
        [(share_id, p) for p in sorted(set(record.person_ids))],
    )
    return share_id


def add_review(
    conn: Connection, share_id: int, outcome: ShareApproval, note: str, user_id: int, now: str
) -> int:
    cur = conn.execute(
        "INSERT INTO share_reviews (share_id, outcome, note, reviewed_by, reviewed_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (share_id, outcome.value, note, user_id, now),
    )
    return int(cur.lastrowid or 0)


def get(conn: Connection, share_id: int) -> Share | None:
    rows = read(
        conn, f"SELECT {_COLUMNS} FROM shares s {_LATEST_REVIEW} WHERE s.id = ?", (share_id,)
    )
    return _share(rows[0]) if rows else None


def for_case(conn: Connection, case_id: int) -> list[Share]:
    rows = read(
        conn,
        f"SELECT {_COLUMNS} FROM shares s {_LATEST_REVIEW} WHERE s.case_id = ? "
        "ORDER BY s.shared_at DESC, s.id DESC",
        (case_id,),
    )
    return [_share(r) for r in rows]


def awaiting_review(
    conn: Connection, where: str, params: tuple[object, ...]
) -> list[ShareToReview]:
    """Shares still waiting for a manager's review, soonest due first, with their case's
    reference and who recorded them.

    ``where`` is an access condition on the case ``c``, built by the services.
    """
    rows = read(
        conn,
        f"SELECT {_COLUMNS}, c.reference, COALESCE(u.username, '') FROM shares s "
        f"{_LATEST_REVIEW} JOIN cases c ON c.id = s.case_id "
        "LEFT JOIN users u ON u.id = s.recorded_by "
        f"WHERE s.approval = 'awaiting_review' AND r.id IS NULL AND ({where}) "
        "ORDER BY s.review_due",
        params,
    )
    width = len(rows[0]) if rows else 0
    return [ShareToReview(_share(r), str(r[width - 2]), str(r[width - 1])) for r in rows]
