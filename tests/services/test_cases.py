"""Cases: referral, the case screen, safe contact banner, lifecycle, holds and restriction."""

from __future__ import annotations

import datetime as dt

import pytest

from app.errors import InvalidInput, PermissionDenied
from app.models.records import (
    CaseDetails,
    CaseRole,
    CaseStatus,
    NoteKind,
    SafeContact,
)
from app.services import audit, cases, notes
from tests.helpers import CASEWORKER, MANAGER, StoreCopy
from tests.services.casework import A_MONTH_AGO, TODAY, new_case, person, signed_in


def test_a_referral_is_allocated_to_the_caseworker_who_made_it(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s, person("Jo", "Fenwick", aliases=("Jojo",)))
        view = cases.open_case(s, case_id)
        assert view.case.status is CaseStatus.REFERRAL
        assert view.case.reference.startswith(f"SC-{A_MONTH_AGO.year}-")
        assert view.allocated_worker == CASEWORKER
        assert [(m.person.name, m.role) for m in view.members] == [("Jo Fenwick", CaseRole.CLIENT)]
        listed = cases.list_cases(s)
        assert [c.reference for c in listed] == [view.case.reference]
        assert listed[0].client_name == "Jo Fenwick"


def test_every_case_view_is_audited_by_id(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        cases.open_case(s, case_id)
    with signed_in(store, MANAGER) as m:
        viewed = [e for e in audit.recent(m, 50) if e.action == audit.CASE_VIEWED]
        assert viewed[-1].record == f"case:{case_id}"
        assert "Ashdown" not in viewed[-1].detail


def test_people_join_cases_in_roles_and_one_person_can_be_on_several(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        first, _ = new_case(s, person("Kim", "Ledger"))
        perpetrator = cases.add_person(
            s, first, person("Dale", "Roper"), CaseRole.ALLEGED_PERPETRATOR
        )
        child = cases.add_person(
            s, first, person("Ivy", "Ledger", date_of_birth=dt.date(2019, 4, 2)), CaseRole.CHILD
        )
        second, _ = new_case(s, person("Sam", "Oakes"))
        cases.link_person(s, second, perpetrator, CaseRole.ALLEGED_PERPETRATOR)
        roles = {(m.person.id, m.role) for m in cases.open_case(s, first).members}
        assert (perpetrator, CaseRole.ALLEGED_PERPETRATOR) in roles
        assert (child, CaseRole.CHILD) in roles
        assert (perpetrator, CaseRole.ALLEGED_PERPETRATOR) in {
            (m.person.id, m.role) for m in cases.open_case(s, second).members
        }


def test_the_safe_contact_banner(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client_id = new_case(s)
        assert not cases.contact_rules(s, case_id).known
        rules = SafeContact(
            person_id=client_id,
            safe_number="07700 900461",
            method="phone",
            safe_times="weekdays 10:00 to 12:00",
            voicemail_ok=False,
            text_ok=True,
            letters_ok=False,
            code_word="bluebell",
            last_checked=TODAY,
        )
        cases.set_safe_contact(s, case_id, rules)
        banner = cases.contact_rules(s, case_id)
        assert banner.client_name == "Robin Ashdown"
        assert banner.rules == rules and not banner.do_not_contact
        cases.set_safe_contact(s, case_id, SafeContact(person_id=client_id, do_not_contact=True))
        assert cases.contact_rules(s, case_id).do_not_contact
        other = cases.add_person(s, case_id, person("Lee", "Ashdown"), CaseRole.HOUSEHOLD_MEMBER)
        with pytest.raises(InvalidInput, match="client"):
            cases.set_safe_contact(s, case_id, SafeContact(person_id=other, safe_number="1"))


def test_closing_is_for_managers_and_reopening_clears_the_closure(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        cases.open_referral(s, case_id, A_MONTH_AGO + dt.timedelta(days=1))
        with pytest.raises(PermissionDenied):
            cases.close_case(s, case_id, TODAY, "support complete")
    with signed_in(store, MANAGER) as m:
        with pytest.raises(InvalidInput, match="reason"):
            cases.close_case(m, case_id, TODAY, "  ")
        cases.close_case(m, case_id, TODAY, "support complete")
        closed = cases.open_case(m, case_id).case
        assert closed.status is CaseStatus.CLOSED and closed.closed_date == TODAY
        cases.reopen_case(m, case_id)
        reopened = cases.open_case(m, case_id).case
        assert reopened.status is CaseStatus.OPEN
        assert reopened.closed_date is None and reopened.closed_reason == ""


def test_a_closed_case_takes_no_new_notes(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as m:
        case_id, _ = new_case(m)
        cases.close_case(m, case_id, TODAY, "no engagement")
        with pytest.raises(InvalidInput, match="closed"):
            notes.add_note(m, case_id, NoteKind.NOTE, "late note", dt.datetime.now(dt.UTC))


def test_legal_hold(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as m:
        case_id, _ = new_case(m)
        with pytest.raises(InvalidInput, match="future"):
            cases.place_legal_hold(m, case_id, "domestic homicide review", TODAY)
        cases.place_legal_hold(
            m, case_id, "domestic homicide review", TODAY + dt.timedelta(days=90)
        )
        held = cases.open_case(m, case_id).case
        assert held.legal_hold_reason == "domestic homicide review"
        cases.lift_legal_hold(m, case_id)
        assert cases.open_case(m, case_id).case.legal_hold_reason == ""


def test_a_restricted_person_cannot_be_changed(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client_id = new_case(s)
        note_id = notes.add_note(
            s, case_id, NoteKind.CALL, "Spoke briefly.", dt.datetime.now(dt.UTC)
        )
    with signed_in(store, MANAGER) as m:
        cases.restrict_person(m, client_id, "accuracy contested by the person")
    with signed_in(store, CASEWORKER) as s:
        blocked = [
            lambda: cases.update_person(s, client_id, person("Robin", "Ashdowne")),
            lambda: cases.set_safe_contact(s, case_id, SafeContact(person_id=client_id)),
            lambda: notes.add_note(s, case_id, NoteKind.NOTE, "More.", dt.datetime.now(dt.UTC)),
            lambda: notes.correct_note(s, note_id, "Spoke at length.", "typo"),
            lambda: cases.update_case(
                s, case_id, CaseDetails(referral_date=A_MONTH_AGO, safety_plan="new plan")
            ),
        ]
        for call in blocked:
            with pytest.raises(PermissionDenied, match="restricted"):
                call()
        view = cases.open_case(s, case_id)  # still readable
        assert view.contact.restricted
        assert view.members[0].person.name == "Robin Ashdown"
    with signed_in(store, MANAGER) as m:
        with pytest.raises(InvalidInput, match="Tell the person"):
            cases.lift_restriction(m, client_id, told_on=None, told_by=None)
        cases.lift_restriction(m, client_id, told_on=TODAY, told_by=cases.ToldBy.LETTER)
    with signed_in(store, CASEWORKER) as s:
        cases.update_person(s, client_id, person("Robin", "Ashdowne"))
        assert cases.get_person(s, client_id).name == "Robin Ashdowne"


@pytest.mark.parametrize(
    ("details", "message"),
    [
        (person("", ""), "name"),
        (person(date_of_birth=TODAY + dt.timedelta(days=1)), "future"),
        (person(date_of_birth=dt.date(1850, 1, 1)), "120 years"),
    ],
)
def test_bad_person_details_are_refused_and_nothing_is_saved(
    store: StoreCopy, details: object, message: str
) -> None:
    with signed_in(store, CASEWORKER) as s:
        with pytest.raises(InvalidInput, match=message):
            new_case(s, details)  # type: ignore[arg-type]
        assert cases.list_cases(s) == []


def test_a_future_referral_date_is_refused(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s, pytest.raises(InvalidInput, match="future"):
        new_case(s, referral=TODAY + dt.timedelta(days=3))


def test_case_lists_sort_and_page_by_any_column(store: StoreCopy) -> None:
    from app.models import cases as case_model

    names = ["Yara Quill", "Abe Stone", "Mo Birch", "Lu Fenn", "Cy Dale"]
    with signed_in(store, MANAGER) as m:
        for name in names:
            given, family = name.split()
            new_case(m, person(given, family))
        for order, descending in (("client", False), ("client", True), ("reference", True)):
            seen: list[str] = []
            after_ref, after_key = "", None
            while page := cases.list_cases(
                m,
                order_by=order,
                descending=descending,
                after_reference=after_ref,
                after_key=after_key,
                limit=2,
            ):
                seen += [c.client_name if order == "client" else c.reference for c in page]
                after_ref, after_key = page[-1].reference, case_model.sort_key(page[-1], order)
            assert seen == sorted(seen, reverse=descending)
            assert len(seen) == len(names)
        with pytest.raises(InvalidInput, match="sorted by"):
            cases.list_cases(m, order_by="date_of_birth")


def test_marac_due_until_the_referral_is_recorded(store: StoreCopy) -> None:
    from app.services import risk
    from tests.models.test_risk import answers

    with signed_in(store, CASEWORKER) as s:
        high, client = new_case(s, person("Di", "Vance"))
        new_case(s, person("Al", "Moor"))
        risk.record_dash(s, high, client, answers(15), completed_on=TODAY)
        due = cases.list_cases(s, marac_due=True)
        assert [c.id for c in due] == [high] and due[0].marac_due
        risk.record_marac_referral(s, high, TODAY)
        assert cases.list_cases(s, marac_due=True) == []


def test_a_case_history_for_its_manager(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        cases.add_person(s, case_id, person("Dale", "Roper"), CaseRole.ALLEGED_PERPETRATOR)
        cases.open_case(s, case_id)
        cases.open_case(s, case_id, record_view=False)  # a refresh after a change
        with pytest.raises(PermissionDenied):
            cases.history(s, case_id)
    with signed_in(store, MANAGER) as m:
        actions = [e.action for e in cases.history(m, case_id)]
        assert actions == ["case_viewed", "person_added", "person_added", "case_created"]


def test_a_safe_way_off_the_list_is_refused_but_one_already_recorded_is_kept(
    store: StoreCopy,
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client_id = new_case(s)
        with pytest.raises(InvalidInput, match="from the list"):
            cases.set_safe_contact(
                s, case_id, SafeContact(person_id=client_id, method="via a relative")
            )
        cases.set_safe_contact(s, case_id, SafeContact(person_id=client_id, method="phone"))
        # a store written before the list was enforced holds free text
        s.conn.execute(
            "UPDATE safe_contacts SET method = 'text first' WHERE case_id = ?", (case_id,)
        )
        old = cases.contact_rules(s, case_id).rules
        assert old is not None and old.method == "text first"  # still read as it is
        cases.set_safe_contact(
            s, case_id, SafeContact(person_id=client_id, method="text first", safe_times="mornings")
        )
        kept = cases.contact_rules(s, case_id).rules
        assert kept is not None and (kept.method, kept.safe_times) == ("text first", "mornings")
        with pytest.raises(InvalidInput, match="from the list"):
            cases.set_safe_contact(
                s, case_id, SafeContact(person_id=client_id, method="text second")
            )
