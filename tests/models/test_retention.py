"""The retention schedule: dates, the child rule, holds, rights requests, reopening, settings."""

from __future__ import annotations

import datetime as dt

from app.models import cases as case_model
from app.models import retention as model
from app.models.records import CaseRole
from app.models.retention import Block, Check, Decision, Policy, Rule, add_years
from app.services import cases
from app.services.session import uk_today
from tests.helpers import MANAGER, StoreCopy
from tests.services.casework import person, signed_in
from tests.services.closed_cases import make_closed_case, open_rights_request

D = dt.date


def test_adding_years_keeps_the_date_or_takes_the_last_day_of_the_month() -> None:
    assert add_years(D(2019, 3, 31), 7) == D(2026, 3, 31)
    assert add_years(D(2020, 2, 29), 1) == D(2021, 2, 28)
    assert add_years(D(2020, 2, 29), 4) == D(2024, 2, 29)
    assert add_years(D(2020, 2, 29), 7) == D(2027, 2, 28)
    assert add_years(D(2026, 3, 31), -7) == D(2019, 3, 31)


def test_a_case_closed_on_31_march_2019_is_due_on_31_march_2026(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        case_id = make_closed_case(session, closed=D(2019, 3, 31))
        item = model.schedule_for(session.conn, case_id, Policy())
        assert item is not None
        assert (item.closed_date, item.due_date, item.rule) == (
            D(2019, 3, 31),
            D(2026, 3, 31),
            Rule.CLOSURE,
        )
        assert item.blocks == () and item.checks == () and not item.approved
        assert model.due(session.conn, D(2026, 3, 30), Policy()) == []
        assert [i.case_id for i in model.due(session.conn, D(2026, 3, 31), Policy())] == [case_id]


def test_a_closure_on_29_february_is_due_on_28_february(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        case_id = make_closed_case(session, closed=D(2020, 2, 29), referred=D(2019, 11, 1))
        item = model.schedule_for(session.conn, case_id, Policy())
        assert item is not None and item.due_date == D(2027, 2, 28)
        assert model.due(session.conn, D(2027, 2, 27), Policy()) == []
        assert len(model.due(session.conn, D(2027, 2, 28), Policy())) == 1
        # A one-year rule lands on 28 February too, and the due list's pre-filter keeps it.
        one_year = Policy(years=1)
        assert [i.due_date for i in model.due(session.conn, D(2021, 2, 28), one_year)] == [
            D(2021, 2, 28)
        ]


def test_a_child_keeps_the_case_until_their_25th_birthday(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        child = person("Ash", "Younger", date_of_birth=D(2010, 6, 1))
        older = person("Bea", "Older", date_of_birth=D(2004, 1, 1))
        case_id = make_closed_case(
            session, others=((child, CaseRole.CHILD), (older, CaseRole.CHILD))
        )
        item = model.schedule_for(session.conn, case_id, Policy())
        assert item is not None
        assert (item.due_date, item.rule) == (D(2035, 6, 1), Rule.CHILD)
        assert model.due(session.conn, D(2035, 5, 31), Policy()) == []
        assert len(model.due(session.conn, D(2035, 6, 1), Policy())) == 1


def test_a_child_who_came_of_age_long_ago_leaves_the_closure_rule(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        grown = person("Cal", "Grown", date_of_birth=D(1990, 1, 1))
        unknown = person("Dee", "Unknown")
        case_id = make_closed_case(
            session, others=((grown, CaseRole.CHILD), (unknown, CaseRole.CHILD))
        )
        item = model.schedule_for(session.conn, case_id, Policy())
        assert item is not None
        assert (item.due_date, item.rule) == (D(2026, 3, 31), Rule.CLOSURE)
        # A child without a date of birth does not block, but the reviewer is told to check.
        assert item.checks == (Check.CHILD_BIRTH_DATE_UNKNOWN,) and not item.blocked


def test_a_client_who_is_herself_a_child_keeps_the_case_until_she_is_25(
    store: StoreCopy,
) -> None:
    """No party has the child role: the client was 15 when referred (1 June 2018), so the case
    is kept until her 25th birthday, later than 7 years after closure (31 March 2026)."""
    with signed_in(store, MANAGER) as session:
        client = person("Fay", "Young", date_of_birth=D(2002, 9, 1))
        case_id = make_closed_case(session, client)
        item = model.schedule_for(session.conn, case_id, Policy())
        assert item is not None
        assert (item.due_date, item.rule) == (D(2027, 9, 1), Rule.CHILD)
        assert model.due(session.conn, D(2026, 3, 31), Policy()) == []
        assert "under 18 while supported turned 25" in model.rule_text(item.rule, Policy())


def test_a_household_member_under_18_while_supported_counts_whatever_their_role(
    store: StoreCopy,
) -> None:
    with signed_in(store, MANAGER) as session:
        sibling = person("Gil", "Young", date_of_birth=D(2003, 1, 10))
        case_id = make_closed_case(session, others=((sibling, CaseRole.HOUSEHOLD_MEMBER),))
        item = model.schedule_for(session.conn, case_id, Policy())
        assert item is not None and (item.due_date, item.rule) == (D(2028, 1, 10), Rule.CHILD)


def test_a_client_already_18_when_support_began_stays_on_the_closure_rule(
    store: StoreCopy,
) -> None:
    """Support began on 1 June 2018. With a 30th-birthday child rule (so the two rules give
    different dates), a client who turned 18 that very day was never a child while supported;
    one who turned 18 the day after was, for one day."""
    rules = Policy(years=7, child_until_age=30)
    with signed_in(store, MANAGER) as session:
        adult = make_closed_case(session, person("Hal", "Adult", date_of_birth=D(2000, 6, 1)))
        item = model.schedule_for(session.conn, adult, rules)
        assert item is not None and (item.due_date, item.rule) == (D(2026, 3, 31), Rule.CLOSURE)
        child = make_closed_case(session, person("Ida", "Child", date_of_birth=D(2000, 6, 2)))
        item = model.schedule_for(session.conn, child, rules)
        assert item is not None and (item.due_date, item.rule) == (D(2030, 6, 2), Rule.CHILD)


def test_a_legal_hold_blocks_destruction(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        case_id = make_closed_case(session)
        review = uk_today() + dt.timedelta(days=90)
        cases.place_legal_hold(session, case_id, "Domestic homicide review", review)
        [item] = model.due(session.conn, D(2026, 4, 1), Policy())
        assert item.blocks == (Block.LEGAL_HOLD,) and item.hold_review == review
        cases.lift_legal_hold(session, case_id)
        [item] = model.due(session.conn, D(2026, 4, 1), Policy())
        assert item.blocks == () and item.hold_review is None


def test_an_open_rights_request_for_anyone_on_the_case_blocks(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        other = person("Eli", "Other")
        case_id = make_closed_case(session, others=((other, CaseRole.ALLEGED_PERPETRATOR),))
        other_id = next(
            m.person.id
            for m in case_model.members(session.conn, case_id)
            if m.role is CaseRole.ALLEGED_PERPETRATOR
        )
        open_rights_request(session, other_id, status="closed")
        [item] = model.due(session.conn, D(2026, 4, 1), Policy())
        assert item.blocks == ()
        open_rights_request(session, other_id)
        [item] = model.due(session.conn, D(2026, 4, 1), Policy())
        assert item.blocks == (Block.RIGHTS_REQUEST,)


def test_reopening_clears_the_date_and_a_new_closure_starts_it_again(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        case_id = make_closed_case(session)
        cases.reopen_case(session, case_id)
        assert model.schedule_for(session.conn, case_id, Policy()) is None
        assert model.due(session.conn, D(2030, 1, 1), Policy()) == []
        cases.close_case(session, case_id, D(2024, 5, 10), "Support ended again")
        item = model.schedule_for(session.conn, case_id, Policy())
        assert item is not None and item.due_date == D(2031, 5, 10)


def test_decisions_hold_only_for_the_closure_and_date_they_were_made_for(
    store: StoreCopy,
) -> None:
    with signed_in(store, MANAGER) as session:
        case_id = make_closed_case(session)
        item = model.schedule_for(session.conn, case_id, Policy())
        assert item is not None
        model.add_decision(
            session.conn, item, Decision.APPROVE, "ok", None, session.user_id, session.now()
        )
        approved = model.schedule_for(session.conn, case_id, Policy())
        assert approved is not None and approved.approved
        # A longer rule moves the date: the approval no longer holds.
        longer = model.schedule_for(session.conn, case_id, Policy(years=8))
        assert longer is not None and not longer.approved
        cases.reopen_case(session, case_id)
        cases.close_case(session, case_id, D(2019, 4, 30), "Support ended")
        again = model.schedule_for(session.conn, case_id, Policy())
        assert again is not None and not again.approved and again.due_date == D(2026, 4, 30)


def test_an_extension_keeps_the_case_off_the_list_until_its_review_date(
    store: StoreCopy,
) -> None:
    with signed_in(store, MANAGER) as session:
        case_id = make_closed_case(session)
        item = model.schedule_for(session.conn, case_id, Policy())
        assert item is not None
        model.add_decision(
            session.conn,
            item,
            Decision.EXTEND,
            "Civil proceedings expected",
            D(2026, 9, 1),
            session.user_id,
            session.now(),
        )
        assert model.due(session.conn, D(2026, 8, 31), Policy()) == []
        [back] = model.due(session.conn, D(2026, 9, 1), Policy())
        assert (back.due_date, back.rule, back.approved) == (D(2026, 9, 1), Rule.EXTENSION, False)


def test_the_rule_lengths_are_settings_with_defaults(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        assert model.policy(session.conn) == Policy(years=7, child_until_age=25)
        child = person("Fay", "Child", date_of_birth=D(2001, 3, 1))
        case_id = make_closed_case(session, others=((child, CaseRole.CHILD),))
        model.put_policy(session.conn, Policy(years=6, child_until_age=30))
        rules = model.policy(session.conn)
        assert rules == Policy(years=6, child_until_age=30)
        item = model.schedule_for(session.conn, case_id, rules)
        assert item is not None and (item.due_date, item.rule) == (D(2031, 3, 1), Rule.CHILD)
        model.put_policy(session.conn, Policy(years=6, child_until_age=18))
        item = model.schedule_for(session.conn, case_id, model.policy(session.conn))
        assert item is not None and (item.due_date, item.rule) == (D(2025, 3, 31), Rule.CLOSURE)


def test_a_destroyed_reference_is_never_given_again(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        conn = session.conn
        conn.execute(
            "INSERT INTO destruction_log (run_id, reference, due_date, rule, destroyed_by, "
            "destroyed_at, counts) VALUES ('r', 'SC-2011-000007', '2019-01-01', 'closure', ?, "
            "'2026-01-01', '{}')",
            (session.user_id,),
        )
        assert case_model.next_reference(conn, 2011) == "SC-2011-000008"
        assert case_model.next_reference(conn, 2012) == "SC-2012-000001"
