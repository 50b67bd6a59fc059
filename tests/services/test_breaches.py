"""The breach log: the 72-hour clock in real hours, the rules for reporting, telling people and
closing, corrections that keep history, roles, and an audit trail without personal data."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
import sqlcipher3

from app.errors import InvalidInput, PermissionDenied
from app.models.breaches import ClockState, Facts, PeopleTold, Risk, Source
from app.services import breaches
from app.services.session import UK, Session
from tests.helpers import ADMIN, CASEWORKER, DPO, MANAGER, StoreCopy
from tests.services.casework import (
    audit_head,
    audit_since,
    new_referral,
    person,
    signed_in,
)


def uk(*parts: int) -> dt.datetime:
    """A time on a UK wall clock (not in the hour the clocks go back)."""
    return dt.datetime(*parts, tzinfo=UK)  # type: ignore[misc]


def clock_at(moment: dt.datetime) -> Callable[[], str]:
    stamp = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return lambda: stamp


def at(session: Session, moment: dt.datetime) -> Session:
    session.now = clock_at(moment)
    return session


# Friday 27 November 2026, 4 pm (GMT): the deadline is Monday 30 November, 4 pm.
FRIDAY = uk(2026, 11, 27, 16, 0)
LETTER = "A letter about one client went to the wrong address; it was returned unopened."


def facts(**fields: object) -> Facts:
    values: dict[str, object] = {"aware_at": FRIDAY, "what_happened": LETTER}
    values.update(fields)
    return Facts(**values)  # type: ignore[arg-type]


def test_the_clock_counts_down_72_calendar_hours_across_a_weekend(store: StoreCopy) -> None:
    with signed_in(store, DPO) as s:
        at(s, uk(2026, 11, 27, 18, 0))
        breach = breaches.record_breach(s, facts(risk=Risk.RISK))
        assert breach.reference.startswith("BR-2026-")
        # Sunday night: 54 h 48 min gone, the weekend counted like any other day.
        sunday = uk(2026, 11, 29, 22, 48)
        clock = breach.clock(sunday)
        assert (clock.state, clock.minutes) == (ClockState.RUNNING, 17 * 60 + 12)
        assert clock.deadline == uk(2026, 11, 30, 16, 0)
        assert breach.clock(uk(2026, 11, 30, 15, 59)).minutes == 1
        assert breach.clock(uk(2026, 11, 30, 16, 0)).state is ClockState.RUNNING
        late = breach.clock(uk(2026, 11, 30, 19, 0))
        assert (late.state, late.minutes) == (ClockState.OVERDUE, 180)
        at(s, uk(2026, 11, 30, 15, 59))
        assert breaches.overdue(s) == []
        at(s, uk(2026, 11, 30, 16, 1))
        assert [b.reference for b in breaches.overdue(s)] == [breach.reference]


def test_the_clock_is_72_real_hours_when_the_clocks_go_back(store: StoreCopy) -> None:
    """Aware on Friday 23 October 2026 at 6 pm (BST); the clocks go back on Sunday, so the 72
    hours end on Monday at 5 pm by the clock on the wall, not 6 pm."""
    aware = uk(2026, 10, 23, 18, 0)
    with signed_in(store, DPO) as s:
        at(s, uk(2026, 10, 23, 19, 0))
        breach = breaches.record_breach(s, facts(aware_at=aware))
    deadline = breach.clock(aware).deadline
    assert deadline.astimezone(UK).strftime("%a %d %b %H:%M %Z") == "Mon 26 Oct 17:00 GMT"
    half_past_five = uk(2026, 10, 26, 17, 30)
    assert breach.clock(half_past_five).state is ClockState.OVERDUE
    assert breach.clock(half_past_five).minutes == 30
    assert breach.clock(uk(2026, 10, 26, 16, 30)).minutes == 30  # still running


def test_a_uk_time_that_happened_twice_or_never_is_asked_about() -> None:
    night = dt.date(2026, 10, 25)
    assert breaches.is_ambiguous(night, 1, 30)
    with pytest.raises(InvalidInput, match="happened twice"):
        breaches.uk_moment(night, 1, 30)
    first = breaches.uk_moment(night, 1, 30, later=False)
    second = breaches.uk_moment(night, 1, 30, later=True)
    assert second - first == dt.timedelta(hours=1)
    assert first.astimezone(dt.UTC).hour == 0 and second.astimezone(dt.UTC).hour == 1
    with pytest.raises(InvalidInput, match="clocks went forward"):
        breaches.uk_moment(dt.date(2026, 3, 29), 1, 30)
    assert breaches.uk_moment(dt.date(2026, 7, 2), 10, 42).hour == 9  # BST is UTC+1


def test_a_breach_not_reported_needs_the_reason_and_stops_its_clock(store: StoreCopy) -> None:
    with signed_in(store, DPO) as s:
        at(s, uk(2026, 11, 27, 18, 0))
        with pytest.raises(InvalidInput, match="reason for not reporting"):
            breaches.record_breach(s, facts(risk=Risk.NO_RISK))
        assert breaches.breach_log(s) == []
        breach = breaches.record_breach(
            s, facts(risk=Risk.NO_RISK, not_reported_reason="Returned unopened, sealed")
        )
        at(s, uk(2026, 12, 5, 9, 0))  # long after the 72 hours
        assert breach.clock(s.moment()).state is ClockState.NOT_REPORTABLE
        assert breaches.overdue(s) == []
        closed = breaches.close_breach(s, breach.id)
        assert closed.closed and closed.facts.not_reported_reason == "Returned unopened, sealed"


def test_a_reportable_breach_closes_only_once_reported_with_the_icos_reference(
    store: StoreCopy,
) -> None:
    with signed_in(store, DPO) as s:
        at(s, uk(2026, 11, 27, 18, 0))
        breach = breaches.record_breach(s, facts())
        with pytest.raises(InvalidInput, match="Assess the risk"):
            breaches.close_breach(s, breach.id)
        assessed = breaches.update_breach(s, breach.id, facts(risk=Risk.RISK))
        with pytest.raises(InvalidInput, match="must be reported"):
            breaches.close_breach(s, breach.id)
        at(s, uk(2026, 11, 28, 11, 0))
        report = dataclasses.replace(assessed.facts, reported_at=uk(2026, 11, 28, 10, 42))
        with pytest.raises(InvalidInput, match="reference the ICO"):
            breaches.update_breach(s, breach.id, report)
        done = breaches.update_breach(
            s, breach.id, dataclasses.replace(report, ico_reference="IC-123456-A1B2")
        )
        clock = done.clock(s.moment())
        assert (clock.state, clock.late) == (ClockState.REPORTED, False)
        assert breaches.close_breach(s, breach.id).closed
        with pytest.raises(InvalidInput, match="closed"):
            breaches.update_breach(s, breach.id, dataclasses.replace(done.facts, measures="More"))


def test_a_report_after_72_hours_needs_the_reasons_for_the_delay(store: StoreCopy) -> None:
    with signed_in(store, DPO) as s:
        at(s, uk(2026, 12, 2, 12, 0))
        late = facts(risk=Risk.RISK, reported_at=uk(2026, 12, 1, 9, 0), ico_reference="IC-9")
        with pytest.raises(InvalidInput, match="reasons for the delay"):
            breaches.record_breach(s, late)
        breach = breaches.record_breach(
            s, dataclasses.replace(late, delay_reason="The loss came to light on Monday")
        )
        assert breach.clock(s.moment()).late


def test_high_risk_needs_a_decision_on_telling_the_people_affected(store: StoreCopy) -> None:
    with signed_in(store, DPO) as s:
        at(s, uk(2026, 11, 28, 12, 0))
        reported = facts(
            risk=Risk.HIGH_RISK, reported_at=uk(2026, 11, 28, 9, 0), ico_reference="IC-77"
        )
        breach = breaches.record_breach(s, reported)
        with pytest.raises(InvalidInput, match="risk is high"):
            breaches.close_breach(s, breach.id)
        with pytest.raises(InvalidInput, match="date the people affected were told"):
            breaches.update_breach(
                s, breach.id, dataclasses.replace(reported, people_told=PeopleTold.TOLD)
            )
        with pytest.raises(InvalidInput, match="reason the people affected were not told"):
            breaches.update_breach(
                s, breach.id, dataclasses.replace(reported, people_told=PeopleTold.NOT_TOLD)
            )
        told = dataclasses.replace(
            reported, people_told=PeopleTold.TOLD, people_told_on=dt.date(2026, 11, 28)
        )
        breaches.update_breach(s, breach.id, told)
        closed = breaches.close_breach(s, breach.id)
        assert closed.facts.people_told_on == dt.date(2026, 11, 28)


def test_a_correction_keeps_the_earlier_version_and_nothing_can_be_removed(
    store: StoreCopy,
) -> None:
    with signed_in(store, DPO) as s:
        at(s, uk(2026, 11, 28, 12, 0))
        breach = breaches.record_breach(s, facts())
        earlier = dataclasses.replace(breach.facts, aware_at=uk(2026, 11, 27, 9, 0))
        with pytest.raises(InvalidInput, match="Say why the time is being corrected"):
            breaches.update_breach(s, breach.id, earlier)
        moved = breaches.update_breach(
            s, breach.id, earlier, "The office knew in the morning; first report was wrong"
        )
        assert moved.clock(s.moment()).deadline == uk(2026, 11, 30, 9, 0)
        history = breaches.breach_history(s, breach.id)
        assert [v.facts.aware_at for v in history] == [FRIDAY, uk(2026, 11, 27, 9, 0)]
        assert history[1].change_reason.startswith("The office knew")
        for sql in (
            "DELETE FROM breaches",
            "DELETE FROM breach_versions",
            "UPDATE breach_versions SET what_happened = 'nothing'",
        ):
            with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
                s.conn.execute(sql)
        assert len(breaches.breach_history(s, breach.id)) == 2


def test_the_dpo_keeps_the_log_and_an_admin_records_facts_only(store: StoreCopy) -> None:
    for user in (CASEWORKER, MANAGER):
        with signed_in(store, user) as s:
            before = audit_head(s)
            with pytest.raises(PermissionDenied):
                breaches.record_breach(s, facts())
            with pytest.raises(PermissionDenied):
                breaches.breach_log(s)
            assert audit_head(s) == before
    with signed_in(store, ADMIN) as s:
        at(s, uk(2026, 11, 27, 18, 0))
        with pytest.raises(InvalidInput, match="Only the DPO assesses"):
            breaches.record_breach(s, facts(risk=Risk.HIGH_RISK))
        recorded = breaches.record_breach(s, facts(), source=Source.DEVICE_LOST)
        with pytest.raises(PermissionDenied):
            breaches.breach_log(s)
        with pytest.raises(PermissionDenied):
            breaches.update_breach(s, recorded.id, facts(risk=Risk.RISK))
    with signed_in(store, DPO) as s:
        (found,) = breaches.breach_log(s)
        assert found.source is Source.DEVICE_LOST and found.facts.what_happened == LETTER


def test_the_audit_trail_names_the_breach_by_id_and_never_what_it_says(
    store: StoreCopy,
) -> None:
    with signed_in(store, DPO) as s:
        at(s, uk(2026, 11, 28, 12, 0))
        before = audit_head(s)
        breach = breaches.record_breach(
            s, facts(what_happened="Jo Thornbury's file was left on a train at Didcot")
        )
        breaches.update_breach(
            s,
            breach.id,
            facts(
                what_happened="Jo Thornbury's file was left on a train at Didcot Parkway",
                risk=Risk.NO_RISK,
                not_reported_reason="Recovered sealed by the rail company",
            ),
        )
        breaches.close_breach(s, breach.id, "Reviewed with the service manager")
        entries = audit_since(s, before)
    assert [e.action for e in entries] == ["breach_recorded", "breach_changed", "breach_closed"]
    assert {e.record for e in entries} == {f"breach:{breach.id}"}
    text = " ".join(e.detail for e in entries)
    assert "changed: what_happened, risk, not_reported_reason" in text
    for secret in ("Thornbury", "Didcot", "Recovered", "service manager", "train"):
        assert secret not in text


def test_a_lost_laptop_record_says_what_the_store_holds_in_counts(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as s:
        new_referral(s, person("Kit", "Holloway"))
        new_referral(s, person("Ros", "Alder"))
    with signed_in(store, ADMIN) as s:
        prefilled = breaches.lost_device_facts(s, uk(2026, 11, 27, 8, 0))
    assert (prefilled.people_affected, prefilled.records_affected) == (2, 2)
    assert "2 cases (2 open), 2 people" in prefilled.what_happened
    assert "Holloway" not in prefilled.what_happened + prefilled.data_categories
    assert "team sync" in prefilled.measures
    assert prefilled.risk is Risk.NOT_ASSESSED


def test_the_demo_adds_synthetic_breaches_once_with_clocks_to_show(
    training_store: StoreCopy,
) -> None:
    from app.services import demo

    with signed_in(training_store, ADMIN) as s:
        demo.generate_cases(s, 3, 1)
        demo.generate_cases(s, 3, 2)
    with signed_in(training_store, DPO) as s:
        log = breaches.breach_log(s)
        states = {b.clock(s.moment()).state for b in log}
    assert len(log) == 4
    assert states == {
        ClockState.RUNNING,
        ClockState.OVERDUE,
        ClockState.REPORTED,
        ClockState.NOT_REPORTABLE,
    }
