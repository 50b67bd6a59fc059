"""The rights-request register: who may keep it, due dates, pauses, extensions, closing, the
overdue and due-this-week lists, and the open request that retention must respect."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from app.errors import InvalidInput, PermissionDenied
from app.models import deadlines
from app.models.records import CaseRole
from app.models.rights import Outcome, RequestStatus, RightKind
from app.services import audit, cases, rights
from app.services.rights import RequestDraft
from app.services.session import Session
from tests.helpers import ADMIN, CASEWORKER, DPO, MANAGER, StoreCopy
from tests.services.casework import (
    TODAY,
    audit_head,
    audit_since,
    new_case,
    person,
    signed_in,
)
from tests.services.closed_cases import clock

DAY = dt.timedelta(days=1)
REQUESTER = "Morgan Ellery-Pike"


def _draft(
    subject: int | None,
    received: dt.date = TODAY,
    confirmed: dt.date | None = TODAY,
    kind: RightKind = RightKind.ACCESS,
    **kw: Any,
) -> RequestDraft:
    return RequestDraft(
        kind=kind,
        requester=REQUESTER,
        received_on=received,
        subject_person_id=subject,
        identity_confirmed_on=confirmed,
        **kw,
    )


def _subject(store: StoreCopy) -> int:
    with signed_in(store, MANAGER) as s:
        _, client = new_case(s, person("Morgan", "Ellery-Pike"))
    return client


# -- roles --------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", [MANAGER, DPO])
def test_managers_and_the_dpo_keep_the_register(store: StoreCopy, user: str) -> None:
    subject = _subject(store)
    with signed_in(store, user) as s:
        created = rights.create_request(s, _draft(subject))
        assert created.status is RequestStatus.OPEN
        assert rights.register(s) == [created]
        assert rights.find_request(s, created.reference.lower()) == created
        assert rights.get_request(s, created.id).subject_name == "Morgan Ellery-Pike"
        rights.close_request(s, created.id, Outcome.COMPLIED, TODAY)


@pytest.mark.parametrize("user", [CASEWORKER, ADMIN])
def test_caseworkers_and_admins_may_not_see_or_change_the_register(
    store: StoreCopy, user: str
) -> None:
    subject = _subject(store)
    with signed_in(store, MANAGER) as s:
        request_id = rights.create_request(s, _draft(subject)).id
    with signed_in(store, user) as s:
        head = audit_head(s)
        calls: list[Callable[[Session], object]] = [
            lambda s: rights.create_request(s, _draft(subject)),
            lambda s: rights.update_request(s, request_id, _draft(subject)),
            lambda s: rights.confirm_identity(s, request_id, TODAY),
            lambda s: rights.pause_clock(s, request_id, TODAY, "Which years?"),
            lambda s: rights.resume_clock(s, request_id, TODAY),
            lambda s: rights.extend(s, request_id, TODAY),
            lambda s: rights.close_request(s, request_id, Outcome.COMPLIED, TODAY),
            lambda s: rights.get_request(s, request_id),
            lambda s: rights.find_request(s, "RR-2026-0001"),
            lambda s: rights.register(s),
            lambda s: rights.overdue(s),
            lambda s: rights.due_this_week(s),
            lambda s: rights.open_access_request(s, subject),
            lambda s: rights.find_subjects(s, "Ellery"),
        ]
        for call in calls:
            with pytest.raises(PermissionDenied):
                call(s)
        assert audit_since(s, head) == []


def test_a_manager_finds_the_subject_by_name_or_phone_and_the_audit_keeps_only_a_count(
    store: StoreCopy,
) -> None:
    with signed_in(store, MANAGER) as s:
        case_id, client = new_case(
            s, person("Morgan", "Ellery-Pike", date_of_birth=dt.date(1990, 4, 2))
        )
        other = cases.add_person(
            s,
            case_id,
            person("Dale", "Ellery", phones=("07700 900456",)),
            CaseRole.ALLEGED_PERPETRATOR,
        )
        new_case(s, person("Sam", "Morganstern"))
        head = audit_head(s)
        found = rights.find_subjects(s, "morgan ellery")
        assert [(c.person_id, c.name, c.date_of_birth, c.role) for c in found] == [
            (client, "Morgan Ellery-Pike", dt.date(1990, 4, 2), CaseRole.CLIENT)
        ]
        assert found[0].reference.startswith("SC-")
        by_phone = rights.find_subjects(s, "07700 900 456")
        assert [(c.person_id, c.role) for c in by_phone] == [(other, CaseRole.ALLEGED_PERPETRATOR)]
        assert {c.person_id for c in rights.find_subjects(s, "Ellery")} == {client, other}
        assert rights.find_subjects(s, "Zebedee") == []
        entries = audit_since(s, head)
        assert [e.detail for e in entries] == [
            "subjects=1",
            "subjects=1",
            "subjects=2",
            "subjects=0",
        ]
        assert not any("ellery" in (e.detail + e.record).lower() for e in entries)


# -- the request and its clock ------------------------------------------------------------------


def test_an_access_request_opens_the_register_entry_that_retention_reads(
    store: StoreCopy,
) -> None:
    subject = _subject(store)
    with signed_in(store, MANAGER) as s:
        head = audit_head(s)
        request = rights.create_request(s, _draft(subject, TODAY - 2 * DAY, TODAY - DAY))
        assert request.reference.startswith(f"RR-{TODAY.year}-")
        assert request.due_on == deadlines.due_date(TODAY - DAY)
        assert request.deadline == request.due_on
        assert rights.open_access_request(s, subject) == request
        # The retention engineer's check reads these two columns directly.
        rows = s.conn.execute(
            "SELECT id FROM rights_requests WHERE status = 'open' AND subject_person_id = ?",
            (subject,),
        ).fetchall()
        assert [r[0] for r in rows] == [request.id]
        entries = audit_since(s, head)
        assert [(e.action, e.record) for e in entries] == [
            (audit.RIGHTS_REQUEST_CREATED, f"rights:{request.id}")
        ]
        assert entries[0].detail == f"kind=access subject=person:{subject}"
        rights.close_request(s, request.id, Outcome.COMPLIED, TODAY)
        assert rights.open_access_request(s, subject) is None
        assert s.conn.execute(
            "SELECT count(*) FROM rights_requests WHERE status = 'open'"
        ).fetchone() == (0,)


def test_every_kind_of_request_and_a_subject_not_on_record(store: StoreCopy) -> None:
    with signed_in(store, DPO) as s:
        for kind in RightKind:
            rights.create_request(s, _draft(None, kind=kind, subject_note="No match found"))
        with pytest.raises(InvalidInput, match="who the request is about"):
            rights.create_request(s, _draft(None))
        with pytest.raises(InvalidInput, match="no such person"):
            rights.create_request(s, _draft(99_999))
        kinds = {r.kind for r in rights.register(s)}
    assert kinds == set(RightKind)


def test_the_clock_starts_when_identity_or_an_agents_authority_is_confirmed(
    store: StoreCopy,
) -> None:
    subject = _subject(store)
    with signed_in(store, MANAGER) as s:
        request = rights.create_request(s, _draft(subject, TODAY - 10 * DAY, None))
        assert request.due_on is None and request.deadline is None
        assert not request.overdue(TODAY + 100 * DAY)
        request = rights.confirm_identity(s, request.id, TODAY - 4 * DAY)
        assert request.due_on == deadlines.due_date(TODAY - 4 * DAY)
        with pytest.raises(InvalidInput, match="before the request arrived"):
            rights.confirm_identity(s, request.id, TODAY - 11 * DAY)
        with pytest.raises(InvalidInput, match="future"):
            rights.confirm_identity(s, request.id, TODAY + DAY)
        # An agent's request starts only once their authority has been seen.
        agent = _draft(subject, TODAY - DAY, None, by_agent=True)
        by_agent = rights.create_request(s, agent)
        with pytest.raises(InvalidInput, match="authority"):
            rights.confirm_identity(s, by_agent.id, TODAY)
        started = rights.confirm_identity(s, by_agent.id, TODAY, authority_seen=True)
        assert started.authority_seen and started.due_on == deadlines.due_date(TODAY)


def test_a_clarification_pause_pushes_the_due_date_back(store: StoreCopy) -> None:
    subject = _subject(store)
    start = TODAY - 20 * DAY
    with signed_in(store, MANAGER) as s:
        request = rights.create_request(s, _draft(subject, start, start))
        request = rights.pause_clock(s, request.id, TODAY - 15 * DAY, "Asked which years")
        assert request.paused
        with pytest.raises(InvalidInput, match="already stopped"):
            rights.pause_clock(s, request.id, TODAY - 14 * DAY, "Again")
        with pytest.raises(InvalidInput, match="restart it first"):
            rights.close_request(s, request.id, Outcome.COMPLIED, TODAY)
        request = rights.resume_clock(s, request.id, TODAY - 8 * DAY)
        assert not request.paused
        assert request.due_on == deadlines.due_date(start, [(TODAY - 15 * DAY, TODAY - 8 * DAY)])
        # s.54(3C): the day asked (TODAY - 15) and the day answered (TODAY - 8) both stop the
        # clock, so the register's due date moves by 8 days, not 7.
        assert request.due_on == deadlines.next_working_day(
            deadlines.add_months(start, 1) + 8 * DAY
        )
        with pytest.raises(InvalidInput, match="not stopped"):
            rights.resume_clock(s, request.id, TODAY)
        with pytest.raises(InvalidInput, match="before the previous one ended"):
            rights.pause_clock(s, request.id, TODAY - 9 * DAY, "Overlap")


def test_an_extension_runs_three_months_and_must_be_given_in_the_first_month(
    store: StoreCopy,
) -> None:
    subject = _subject(store)
    with signed_in(store, MANAGER) as s:
        late = rights.create_request(s, _draft(subject, TODAY - 70 * DAY, TODAY - 70 * DAY))
        assert late.due_on is not None and late.due_on < TODAY
        with pytest.raises(InvalidInput, match="within the first month"):
            rights.extend(s, late.id, TODAY)
        in_time = rights.extend(s, late.id, late.due_on)
        assert in_time.extension_told_on == late.due_on
        assert in_time.extended_to == deadlines.extended_date(TODAY - 70 * DAY)
        assert in_time.deadline == in_time.extended_to
        with pytest.raises(InvalidInput, match="already been extended"):
            rights.extend(s, late.id, late.due_on)
        unstarted = rights.create_request(s, _draft(subject, TODAY, None))
        with pytest.raises(InvalidInput, match="identity"):
            rights.extend(s, unstarted.id, TODAY)


def test_closing_records_the_outcome_and_a_refusal_needs_its_reasons(
    store: StoreCopy,
) -> None:
    subject = _subject(store)
    with signed_in(store, DPO) as s:
        request = rights.create_request(s, _draft(subject, kind=RightKind.ERASURE))
        with pytest.raises(InvalidInput, match="reasons"):
            rights.close_request(s, request.id, Outcome.REFUSED, TODAY)
        closed = rights.close_request(
            s, request.id, Outcome.REFUSED, TODAY, "Records kept for safeguarding (7 years)"
        )
        assert closed.status is RequestStatus.CLOSED
        assert closed.outcome == "refused" and closed.responded_on == TODAY
        assert closed.refusal_reason.startswith("Records kept")
        with pytest.raises(InvalidInput, match="closed"):
            rights.pause_clock(s, request.id, TODAY, "Too late")
        assert rights.register(s, RequestStatus.OPEN) == []
        assert rights.register(s, RequestStatus.CLOSED) == [closed]


# -- the lists ----------------------------------------------------------------------------------


def test_overdue_and_due_this_week_lists(store: StoreCopy) -> None:
    subject = _subject(store)
    today = TODAY
    with signed_in(store, MANAGER) as s:

        def made(days_ago: int) -> int:
            start = today - days_ago * DAY
            return rights.create_request(s, _draft(subject, start, start)).id

        overdue = made(45)  # due about two weeks ago
        soon = made(28)  # due within days (same date next month, rolled to a working day)
        later = made(5)  # due next month
        unstarted = rights.create_request(s, _draft(subject, today - 40 * DAY, None)).id
        paused = made(50)
        rights.pause_clock(s, paused, today - 49 * DAY, "Asked which case")
        closed = made(60)
        rights.close_request(s, closed, Outcome.COMPLIED, today)

        late = {r.id for r in rights.overdue(s, today)}
        this_week = {r.id for r in rights.due_this_week(s, today)}
        due = {r.id: r.deadline for r in rights.register(s)}
    assert late == {overdue}
    soon_due = due[soon]
    assert soon_due is not None
    expected_this_week = {soon} if soon_due <= today + 6 * DAY else set()
    assert this_week == expected_this_week
    assert later not in this_week | late
    assert unstarted not in this_week | late and due[unstarted] is None
    assert paused not in late
    assert closed not in late
    # A date pinned in the test shows the boundaries: due on the day is not yet overdue.
    with signed_in(store, DPO) as s:
        on_the_day = rights.get_request(s, soon)
        assert on_the_day.deadline is not None
        assert on_the_day.id in {r.id for r in rights.due_this_week(s, on_the_day.deadline)}
        assert on_the_day.id not in {r.id for r in rights.overdue(s, on_the_day.deadline)}
        next_day = on_the_day.deadline + DAY
        assert on_the_day.id in {r.id for r in rights.overdue(s, next_day)}
        week_before = on_the_day.deadline - 6 * DAY
        assert on_the_day.id in {r.id for r in rights.due_this_week(s, week_before)}
        assert on_the_day.id not in {r.id for r in rights.due_this_week(s, week_before - DAY)}


def test_the_register_audit_never_names_the_requester(store: StoreCopy) -> None:
    subject = _subject(store)
    with signed_in(store, MANAGER) as s:
        head = audit_head(s)
        request = rights.create_request(s, _draft(subject, TODAY - 5 * DAY, None))
        rights.update_request(s, request.id, _draft(subject, TODAY - 5 * DAY, TODAY - 4 * DAY))
        rights.pause_clock(s, request.id, TODAY - 3 * DAY, "Asked Morgan which records")
        rights.resume_clock(s, request.id, TODAY - DAY)
        rights.extend(s, request.id, TODAY)
        rights.close_request(s, request.id, Outcome.PARTLY_REFUSED, TODAY, "Morgan: third party")
        entries = audit_since(s, head)
    assert [e.action for e in entries] == [
        audit.RIGHTS_REQUEST_CREATED,
        audit.RIGHTS_REQUEST_CHANGED,
        audit.RIGHTS_CLOCK_PAUSED,
        audit.RIGHTS_CLOCK_RESUMED,
        audit.RIGHTS_REQUEST_EXTENDED,
        audit.RIGHTS_REQUEST_CLOSED,
    ]
    assert {e.record for e in entries} == {f"rights:{request.id}"}
    for entry in entries:
        assert "Morgan" not in entry.detail and "Ellery" not in entry.detail


# -- one clock ----------------------------------------------------------------------------------


def test_the_register_and_its_checks_read_the_sessions_clock(store: StoreCopy) -> None:
    """Moved two years on, the session's clock (not the computer's date) decides what is
    "today": a request arriving that day is not "in the future", its reference takes that year,
    and the overdue list counts from it."""
    subject = _subject(store)
    later = dt.date(TODAY.year + 2, 3, 2)
    with signed_in(store, MANAGER) as s:
        s.now = clock(later)
        request = rights.create_request(s, _draft(subject, later, later))
        assert request.reference.startswith(f"RR-{later.year}-")
        assert request.due_on == deadlines.due_date(later)
        assert request.id not in {r.id for r in rights.overdue(s)}
        s.now = clock(later + 60 * DAY)
        assert request.id in {r.id for r in rights.overdue(s)}
        closed = rights.close_request(s, request.id, Outcome.COMPLIED, later + 60 * DAY)
        assert closed.responded_on == later + 60 * DAY


def test_case_dates_are_checked_against_the_sessions_clock(store: StoreCopy) -> None:
    """A clock set back a year refuses a closing date that is the computer's today."""
    with signed_in(store, MANAGER) as s:
        case_id, _ = new_case(s, referral=TODAY - 400 * DAY)
        cases.open_referral(s, case_id, TODAY - 400 * DAY)
        s.now = clock(TODAY - 365 * DAY)
        with pytest.raises(InvalidInput, match="between the referral and today"):
            cases.close_case(s, case_id, TODAY, "Support ended")
        cases.close_case(s, case_id, TODAY - 365 * DAY, "Support ended")


def test_a_request_arriving_after_midnight_in_summer_is_that_uk_day(store: StoreCopy) -> None:
    """At 00:30 British Summer Time on 1 July it is still 30 June in UTC. The statutory day is
    the UK's: a request received then may be dated 1 July, and its reference and deadline
    follow that day, not the UTC one."""
    subject = _subject(store)
    received = dt.date(TODAY.year + 1, 7, 1)
    with signed_in(store, MANAGER) as s:
        s.now = lambda: f"{received.year}-06-30T23:30:00.000000Z"
        assert s.today() == received
        request = rights.create_request(s, _draft(subject, received, received))
        assert request.due_on == deadlines.due_date(received)
