"""Notes are append-only: a correction keeps the original with who, when and why."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlcipher3

from app.errors import InvalidInput
from app.models.records import NoteKind
from app.services import cases, notes, search
from tests.helpers import CASEWORKER, MANAGER, StoreCopy
from tests.services.casework import new_case, signed_in
from tests.services.closed_cases import clock

NOW = dt.datetime.now(dt.UTC)


def test_a_correction_keeps_the_original_and_who_when_why(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        note_id = notes.add_note(s, case_id, NoteKind.VISIT, "Home visit; client calm.", NOW)
        caseworker_id = s.user_id
    with signed_in(store, MANAGER) as m:
        with pytest.raises(InvalidInput, match="why"):
            notes.correct_note(m, note_id, "Office visit; client calm.", "")
        notes.correct_note(m, note_id, "Office visit; client calm.", "It was at the office.")
        current = notes.timeline(m, case_id)[0]
        assert current.body == "Office visit; client calm." and current.corrected
        history = notes.history(m, note_id)
        assert [h.body for h in history] == [
            "Home visit; client calm.",
            "Office visit; client calm.",
        ]
        assert history[0].changed_by == caseworker_id and history[0].reason == ""
        assert history[1].changed_by == m.user_id
        assert history[1].reason == "It was at the office."
        assert history[1].changed_at >= history[0].changed_at
        # Search follows the current text.
        assert search.search(m, "office")
        assert not search.search(m, "home visit")


def test_a_note_cannot_be_edited_in_place(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        notes.add_note(s, case_id, NoteKind.NOTE, "Original.", NOW)
        with pytest.raises(sqlcipher3.DatabaseError, match="append-only"):
            s.conn.execute("UPDATE notes SET body = 'Changed.'")


def test_timeline_is_newest_first(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        for days, text in ((3, "three days ago"), (1, "yesterday"), (2, "two days ago")):
            notes.add_note(s, case_id, NoteKind.CALL, text, NOW - dt.timedelta(days=days))
        assert [n.body for n in notes.timeline(s, case_id)] == [
            "yesterday",
            "two days ago",
            "three days ago",
        ]


def test_disputed_information_and_a_refused_request_are_recorded(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        note_id = notes.add_note(s, case_id, NoteKind.MEETING, "Client missed two sessions.", NOW)
        notes.mark_disputed(s, note_id, "Client says one session was cancelled by us.")
        refused = notes.record_refused_request(
            s,
            case_id,
            NoteKind.RECTIFICATION_REFUSED,
            "Asked to remove the missed-sessions note; refused as accurate. Client's view kept.",
            NOW,
        )
        timeline = {n.id: n for n in notes.timeline(s, case_id)}
        assert timeline[note_id].disputed
        assert timeline[note_id].dispute_reason.startswith("Client says")
        assert timeline[note_id].body == "Client missed two sessions."  # text unchanged
        assert timeline[refused].kind is NoteKind.RECTIFICATION_REFUSED
        with pytest.raises(InvalidInput):
            notes.record_refused_request(s, case_id, NoteKind.NOTE, "not a request", NOW)


@pytest.mark.parametrize(
    ("body", "when", "message"),
    [
        ("   ", NOW, "empty"),
        ("fine", NOW + dt.timedelta(days=2), "future"),
    ],
)
def test_bad_notes_are_refused(
    store: StoreCopy, body: str, when: dt.datetime, message: str
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        with pytest.raises(InvalidInput, match=message):
            notes.add_note(s, case_id, NoteKind.NOTE, body, when)
        assert notes.timeline(s, case_id) == []


def test_a_notes_time_is_checked_against_the_sessions_clock(store: StoreCopy) -> None:
    """With the session's clock set back a day, a note timed at the computer's "now" is in
    the future and refused; set forward, a note timed then is accepted."""
    real_now = dt.datetime.now(dt.UTC)
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        s.now = clock(real_now.date() - dt.timedelta(days=1))
        with pytest.raises(InvalidInput, match="in the future"):
            notes.add_note(s, case_id, NoteKind.CALL, "Rang her", real_now)
        later = real_now + dt.timedelta(days=30)
        s.now = clock(later.date() + dt.timedelta(days=1))
        note_id = notes.add_note(s, case_id, NoteKind.CALL, "Rang her", later)
        assert [n.id for n in notes.timeline(s, case_id)] == [note_id]


def test_the_timeline_pages_back_after_a_note_even_through_notes_at_the_same_time(
    store: StoreCopy,
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        same_time = NOW - dt.timedelta(hours=1)
        for i in range(7):
            notes.add_note(s, case_id, NoteKind.CALL, f"Call {i}", same_time)
        pages = [notes.timeline(s, case_id, 3)]
        while pages[-1]:
            pages.append(notes.timeline(s, case_id, 3, before=pages[-1][-1]))
        assert [len(p) for p in pages] == [3, 3, 1, 0]
        assert [n.body for p in pages for n in p] == [f"Call {i}" for i in reversed(range(7))]
        assert cases.open_case(s, case_id, note_limit=2).note_count == 7
