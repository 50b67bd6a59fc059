"""Reading the whole audit trail with filters, and the DPO's CSV export of it.

The trail holds ids only (``case:12``, user 3); what a reader sees (the case's reference, the
username) is looked up as the entries are read and never written back into the trail.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from app.errors import InvalidInput, PermissionDenied
from app.models import audit as audit_model
from app.models.db import transaction
from app.services import audit, cases
from app.services.session import Session
from tests.helpers import CASEWORKER, DPO, MANAGER, StoreCopy
from tests.services.casework import audit_head, new_case, person, signed_in, user_id

VIEWS = 650  # more than the 500 the page used to stop at
PAGE = 200


def _everything(session: Session, chosen: audit.EntryFilter) -> list[audit_model.Entry]:
    """Every entry ``chosen`` matches, a page at a time as the Audit page reads them."""
    found: list[audit_model.Entry] = []
    before: int | None = None
    while True:
        page = audit.browse(session, chosen, before_id=before, limit=PAGE)
        found.extend(page.entries)
        if len(page.entries) < PAGE:
            return found
        before = page.entries[-1].id


def _trail_text(session: Session) -> str:
    rows = session.conn.execute("SELECT record, detail FROM audit").fetchall()
    return "\n".join(f"{r[0]} {r[1]}" for r in rows)


@pytest.fixture
def busy(store: StoreCopy) -> StoreCopy:
    """A caseworker's case viewed many times, and a second case."""
    with signed_in(store, CASEWORKER) as s:
        case_id, _client = new_case(s, person("Robin", "Ashdown"))
        new_case(s, person("Sam", "Kerrigan"))
        s.conn.execute("PRAGMA synchronous = OFF")  # test set-up only: no fsync per view
        for _ in range(VIEWS):
            cases.open_case(s, case_id)
    with signed_in(store, MANAGER) as s:
        cases.open_case(s, case_id)
    return store


def test_a_reader_pages_through_the_whole_trail_newest_first(busy: StoreCopy) -> None:
    with signed_in(busy, DPO) as s:
        last = audit_head(s)
        entries = _everything(s, audit.EntryFilter())
    assert [e.id for e in entries] == list(range(last, 0, -1))  # all of it, no gaps, no cap
    assert len(entries) > VIEWS


def test_filters_by_user_action_and_record_show_references_and_names(busy: StoreCopy) -> None:
    with signed_in(busy, DPO) as s:
        worker = user_id(s, CASEWORKER)
        manager = user_id(s, MANAGER)
        by_worker = _everything(s, audit.EntryFilter(user_id=worker))
        viewed = _everything(s, audit.EntryFilter(action=audit.CASE_VIEWED))
        first = next(e for e in viewed if e.user_id == worker)
        reference = audit.browse(s, audit.EntryFilter(action=audit.CASE_VIEWED), limit=1).names[
            first.record
        ]
        # Typed as a person would, in lower case.
        about_case = _everything(s, audit.EntryFilter(record=reference.lower()))
        manager_views = _everything(
            s, audit.EntryFilter(user_id=manager, action=audit.CASE_VIEWED, record=reference)
        )
        page = audit.browse(s, audit.EntryFilter(record=reference))
        trail = _trail_text(s)
    assert by_worker and {e.user_id for e in by_worker} == {worker}
    assert len(viewed) == VIEWS + 1 and {e.action for e in viewed} == {audit.CASE_VIEWED}
    assert reference.startswith("SC-")
    assert {e.record for e in about_case} >= {first.record}
    assert {e.action for e in about_case} >= {audit.CASE_CREATED, audit.CASE_VIEWED}
    assert len(about_case) >= VIEWS + 2
    assert [e.user_id for e in manager_views] == [manager]
    # What a reader sees: the reference and the usernames, looked up for the page...
    assert page.names[first.record] == reference
    assert page.names[f"user:{worker}"] == CASEWORKER
    assert page.names[f"user:{manager}"] == MANAGER
    # ...and never written into the trail, which still names the case by id.
    assert reference not in trail and first.record in trail


def test_a_record_typed_that_names_nothing_matches_nothing(busy: StoreCopy) -> None:
    with signed_in(busy, DPO) as s:
        assert audit.browse(s, audit.EntryFilter(record="Robin Ashdown")).entries == []
        assert audit.browse(s, audit.EntryFilter(record=CASEWORKER)).entries  # user:N entries


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_days_are_uk_calendar_days_both_included(store: StoreCopy) -> None:
    # 30 June 2025 23:30 UTC is 00:30 on 1 July in the UK (summer time).
    late = _stamp(dt.datetime(2025, 6, 30, 23, 30, tzinfo=dt.UTC))
    early = _stamp(dt.datetime(2025, 6, 30, 9, 0, tzinfo=dt.UTC))
    with signed_in(store, DPO) as s:
        with transaction(s.conn):
            a = audit.record(s.conn, s.user_id, audit.SEARCHED, "", "results=1", at=early)
            b = audit.record(s.conn, s.user_id, audit.SEARCHED, "", "results=2", at=late)
        july = _everything(
            s, audit.EntryFilter(since=dt.date(2025, 7, 1), until=dt.date(2025, 7, 1))
        )
        june = _everything(s, audit.EntryFilter(until=dt.date(2025, 6, 30), action=audit.SEARCHED))
        one_day = _everything(
            s, audit.EntryFilter(since=dt.date(2025, 6, 30), until=dt.date(2025, 6, 30))
        )
    assert [e.id for e in july] == [b]
    assert [e.id for e in june] == [a]
    assert [e.id for e in one_day] == [a]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_dpo_exports_the_filtered_trail_to_csv(busy: StoreCopy, tmp_path: Path) -> None:
    out = tmp_path / "trail.csv"
    with signed_in(busy, DPO) as s:
        first = _everything(s, audit.EntryFilter(action=audit.CASE_CREATED))[-1]
        reference = audit.browse(s, audit.EntryFilter(record=first.record)).names[first.record]
        with transaction(s.conn):  # a detail a spreadsheet would run as a formula
            audit.record(s.conn, s.user_id, audit.SEARCHED, first.record, "=1+1")
        count = audit.export_csv(s, audit.EntryFilter(record=reference), out)
        exported = audit.browse(s, audit.EntryFilter(action=audit.AUDIT_EXPORTED)).entries
    rows = _rows(out)
    assert count == len(rows) >= VIEWS + 2
    assert [int(r["entry"]) for r in rows] == sorted(int(r["entry"]) for r in rows)  # oldest first
    assert rows[0]["action"] == audit.CASE_CREATED
    assert {r["reference"] for r in rows if r["record"] == first.record} == {reference}
    assert {r["who"] for r in rows if r["action"] == audit.CASE_VIEWED} == {CASEWORKER, MANAGER}
    assert rows[-1]["detail"] == "'=1+1"
    # The export is in the trail, naming the filter by ids only.
    [entry] = exported
    assert entry.detail == f"entries={count} records={first.record}"
    assert reference not in entry.detail


def test_text_typed_into_the_filter_never_reaches_the_trail(
    busy: StoreCopy, tmp_path: Path
) -> None:
    with signed_in(busy, DPO) as s:
        count = audit.export_csv(
            s, audit.EntryFilter(record="Robin Ashdown"), tmp_path / "none.csv"
        )
        trail = _trail_text(s)
    assert count == 0 and _rows(tmp_path / "none.csv") == []
    assert "Robin" not in trail
    assert "records=none" in trail


def test_a_manager_reads_the_trail_but_may_not_export_it(busy: StoreCopy, tmp_path: Path) -> None:
    out = tmp_path / "trail.csv"
    with signed_in(busy, MANAGER) as s:
        assert audit.browse(s, audit.EntryFilter()).entries
        assert not audit.may_export(s)
        before = audit_head(s)
        with pytest.raises(PermissionDenied):
            audit.export_csv(s, audit.EntryFilter(), out)
        assert audit_head(s) == before
    assert not out.exists()


def test_an_export_to_a_missing_folder_is_refused_and_not_audited(
    busy: StoreCopy, tmp_path: Path
) -> None:
    with signed_in(busy, DPO) as s:
        before = audit_head(s)
        with pytest.raises(InvalidInput, match="folder that exists"):
            audit.export_csv(s, audit.EntryFilter(), tmp_path / "nowhere" / "trail.csv")
        assert audit_head(s) == before
