"""Drafts: kept encrypted per user, replaced by key, removed once saved or discarded, audited
without what was typed."""

from __future__ import annotations

import pytest

from app.errors import InvalidInput
from app.models import audit as audit_model
from app.services import drafts, retention
from app.services.drafts import NewDraft
from tests.helpers import ADMIN, CASEWORKER, CASEWORKER2, StoreCopy
from tests.services.casework import new_case, signed_in
from tests.services.forensics import data_key, found, read_pages
from tests.services.test_retention import build_marked_case

SENTINEL = "Quillfeather said the car was parked outside again"


def test_a_draft_is_the_users_own_and_replaced_by_its_key(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        first = drafts.save(s, NewDraft("new_note", {"body": "first try"}, case_id))
        second = drafts.save(s, NewDraft("new_note", {"body": SENTINEL}, case_id))
        drafts.save(s, NewDraft("window", {"case_id": case_id}))
        mine = drafts.list_drafts(s)
        assert [d.kind for d in mine] == ["new_note", "window"]
        assert mine[0].id == second != first and mine[0].fields == {"body": SENTINEL}
        assert mine[0].case_id == case_id and mine[0].target_id is None
    with signed_in(store, CASEWORKER2) as other:
        assert drafts.list_drafts(other) == []
        with pytest.raises(InvalidInput, match="no such draft"):
            drafts.discard(other, second)
    with signed_in(store, CASEWORKER) as s:
        window = next(d for d in drafts.list_drafts(s) if d.kind == "window")
        assert drafts.take(s, window.id).fields == {"case_id": case_id}
        drafts.discard(s, second)
        assert drafts.list_drafts(s) == []
        entries = audit_model.entries(s.conn, after_id=0, limit=10_000)
        kept = [e for e in entries if e.action.startswith("draft_")]
        assert [e.action for e in kept] == [
            "draft_saved",
            "draft_saved",
            "draft_saved",
            "draft_taken",
            "draft_discarded",
        ]
        assert all("Quillfeather" not in e.detail and "try" not in e.detail for e in kept)


def test_a_draft_is_never_in_the_store_file_in_plaintext(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        drafts.save(s, NewDraft("new_note", {"body": SENTINEL}, case_id))
        key = data_key(s)
        s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for path in store.path.parent.iterdir():
        assert b"quillfeather" not in path.read_bytes().lower(), path.name
    assert "Quillfeather" in found(read_pages(store.path, key), ["Quillfeather"])  # encrypted


def test_a_draft_about_a_destroyed_case_goes_with_it(store: StoreCopy) -> None:
    case_id, reference = build_marked_case(store)
    with signed_in(store, CASEWORKER) as session:
        drafts.save(session, NewDraft("new_note", {"body": SENTINEL}, case_id))
    with signed_in(store, ADMIN) as session:
        result = retention.purge(session)
        assert [e.reference for e in result.destroyed] == [reference]
        assert result.destroyed[0].counts["drafts"] == 1
        key = data_key(session)  # the purge ended by giving the store a new data key
    assert "Quillfeather" not in found(read_pages(store.path, key), ["Quillfeather"])
    with signed_in(store, CASEWORKER) as session:
        assert drafts.list_drafts(session) == []
