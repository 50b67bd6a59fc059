"""Merging two records of one person (managers): every link of the merged record moves to the
kept one; until a manager confirms it the merge can be undone exactly; once confirmed the
merged record is destroyed. Every step is audited with ids only."""

from __future__ import annotations

from app.errors import InvalidInput
from app.models import cases as case_model
from app.models import merges as merge_model
from app.models import people as people_model
from app.models import retention as retention_model
from app.models import search as search_model
from app.models.db import transaction
from app.models.merges import Merge, MergeState
from app.models.users import Role
from app.services import access, audit
from app.services.session import Session
from app.sync import merges as sync_merges


def may_merge(session: Session) -> bool:
    """Whether the user merges two records of one person (and undoes or confirms it)."""
    return Role.MANAGER in session.roles


def _line(merge_id: int, kept: int, merged: int) -> str:
    return f"merge:{merge_id} kept=person:{kept} merged=person:{merged}"


def _reindex(session: Session, person_ids: list[int], extra_cases: list[int]) -> None:
    """Search entries and client names follow the people's cases after links moved."""
    conn, touched = session.conn, set(extra_cases)
    for person_id in person_ids:
        person = people_model.get(conn, person_id)
        if person is None:
            continue
        on = people_model.case_ids(conn, person_id)
        search_model.reindex_person(conn, person, on)
        touched.update(on)
    for case_id in sorted(touched):
        client = case_model.client_id(conn, case_id)
        named = people_model.get(conn, client) if client else None
        case_model.set_fields(conn, case_id, session.now(), client_name=named.name if named else "")


def _cases_of(session: Session, person_id: int) -> list[int]:
    return people_model.case_ids(session.conn, person_id)


def merge_people(session: Session, keep_id: int, other_id: int) -> int:
    """Merge ``other_id`` into ``keep_id``: every case party, consent, share subject, checklist,
    safe contact, referrer and rights-request link moves to the kept record. Returns the
    merge's id; the merged record stays (on no case) until the merge is confirmed."""
    session.require(Role.MANAGER)
    if keep_id == other_id:
        raise InvalidInput("Choose two different records to merge.")
    conn = session.conn
    if merge_model.pending_with(conn, keep_id) or merge_model.pending_with(conn, other_id):
        raise InvalidInput("Confirm or undo the pending merge of this record first.")
    access.require_person(session, keep_id)
    access.require_person(session, other_id)
    access.refuse_if_restricted(session, [keep_id, other_id])
    other_cases = _cases_of(session, other_id)
    with transaction(conn):
        moved, dropped = merge_model.move_links(conn, keep_id, other_id)
        for case_id in other_cases:
            search_model.unindex_person(conn, case_id, other_id)
        _reindex(session, [keep_id], other_cases)
        merge_id = merge_model.insert(
            conn, keep_id, other_id, moved, dropped, session.user_id, session.now()
        )
        # The merge reaches every laptop that holds either record.
        sync_merges.emit_merged(conn, merge_id, session.user_id, session.now())
        audit.record(conn, session.user_id, audit.PEOPLE_MERGED, _line(merge_id, keep_id, other_id))
    return merge_id


def _pending(session: Session, merge_id: int) -> Merge:
    session.require(Role.MANAGER)
    merge = merge_model.get(session.conn, merge_id)
    if merge is None or merge.state is not MergeState.PENDING:
        raise InvalidInput("That merge is no longer waiting to be confirmed or undone.")
    access.require_person(session, merge.kept_id)
    return merge


def undo_merge(session: Session, merge_id: int) -> None:
    """Put every link that moved back on the merged record, exactly as it was."""
    merge = _pending(session, merge_id)
    conn = session.conn
    with transaction(conn):
        kept_cases = _cases_of(session, merge.kept_id)
        merge_model.put_back(conn, merge)
        for case_id in kept_cases:
            search_model.unindex_person(conn, case_id, merge.kept_id)
        _reindex(session, [merge.kept_id, merge.merged_id], kept_cases)
        merge_model.decide(conn, merge_id, MergeState.UNDONE, session.user_id, session.now())
        sync_merges.emit_decided(conn, merge_id, sync_merges.UNDONE, session.user_id, session.now())
        audit.record(
            conn,
            session.user_id,
            audit.MERGE_UNDONE,
            _line(merge_id, merge.kept_id, merge.merged_id),
        )


def confirm_merge(session: Session, merge_id: int) -> None:
    """Make the merge final: the merged record (now on no case) is destroyed."""
    merge = _pending(session, merge_id)
    conn = session.conn
    with transaction(conn):
        merge_model.decide(conn, merge_id, MergeState.CONFIRMED, session.user_id, session.now())
        sync_merges.emit_decided(
            conn, merge_id, sync_merges.CONFIRMED, session.user_id, session.now()
        )
        counts = retention_model.delete_people(conn, [merge.merged_id])
        if counts["people"] != 1:
            raise InvalidInput("The merged record is still linked to a case; undo the merge.")
        audit.record(
            conn,
            session.user_id,
            audit.MERGE_CONFIRMED,
            _line(merge_id, merge.kept_id, merge.merged_id),
        )


def pending_merges(session: Session, case_id: int) -> list[Merge]:
    """Merges waiting to be confirmed or undone that kept someone on this case (managers)."""
    session.require(Role.MANAGER)
    access.require_case(session, case_id)
    members = sorted({m.person.id for m in case_model.members(session.conn, case_id)})
    return merge_model.pending_for(session.conn, members)
