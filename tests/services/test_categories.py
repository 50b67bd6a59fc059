"""The categories a service records about a person, a case's agencies and legal dates, and
the "This week" list, through the services (the screens are tested in tests/ui)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from app.crypto.connection import connect
from app.errors import InvalidInput, PermissionDenied
from app.models import cases as case_model
from app.models.categories import (
    Agency,
    AgencyType,
    Answer,
    ChildDetails,
    ChildProtection,
    DisabilityType,
    Ethnicity,
    GenderIdentity,
    LegalItem,
    LegalKind,
    LivesWith,
    OrderType,
    PersonCategories,
    ReferralSource,
    Sex,
)
from app.models.records import CaseRole, ConsentHow, ConsentPurpose, ConsentState
from app.models.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from app.services import cases, categories, consent, risk
from app.services.categories import DueKind
from app.services.session import uk_today
from tests.helpers import CASEWORKER, CASEWORKER2, DPO, MANAGER, StoreCopy
from tests.services.casework import new_case, person, share_without_consent, signed_in
from tests.services.closed_cases import clock

D = dt.date
MONDAY = D(2026, 3, 2)


def test_categories_start_not_asked_and_keep_what_was_recorded(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        _, client = new_case(s)
        assert categories.person_categories(s, client) == PersonCategories()
        chosen = PersonCategories(
            sex=Sex.FEMALE,
            gender_identity=GenderIdentity.DECLINED,
            ethnicity=Ethnicity.GYPSY_OR_IRISH_TRAVELLER,
            disability=Answer.YES,
            disability_type=DisabilityType.SENSORY,
            first_language="Polish",
            interpreter_needed=Answer.YES,
            no_recourse_to_public_funds=Answer.NO,
            pregnant=Answer.DECLINED,
        )
        categories.set_person_categories(s, client, chosen)
    with signed_in(store, CASEWORKER) as s:
        assert categories.person_categories(s, client) == chosen
        assert categories.category_counts(s, "ethnicity")["white_gypsy_traveller"] == 1
        with pytest.raises(InvalidInput, match="no fixed list"):
            categories.category_counts(s, "first_language")
    # Another caseworker cannot read them: the person is not on a case of theirs.
    with signed_in(store, CASEWORKER2) as s, pytest.raises(PermissionDenied):
        categories.person_categories(s, client)


def test_the_19_ons_categories_fall_in_5_groups() -> None:
    groups = [e.group for e in Ethnicity if e.group]
    assert len(groups) == 19
    assert {g: groups.count(g) for g in set(groups)} == {
        "asian": 5,
        "black": 3,
        "mixed": 4,
        "white": 5,
        "other": 2,
    }


def test_a_disability_type_needs_a_yes(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        _, client = new_case(s)
        with pytest.raises(InvalidInput, match="disability"):
            categories.set_person_categories(
                s, client, PersonCategories(disability_type=DisabilityType.PHYSICAL)
            )
        assert categories.person_categories(s, client) == PersonCategories()


def test_legal_dates_and_agencies_are_kept_on_the_case(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        order = LegalItem(
            LegalKind.PROTECTIVE_ORDER,
            D(2026, 1, 10),
            D(2026, 7, 10),
            OrderType.NON_MOLESTATION,
            "Family court",
            "Not to come within 100 metres of the home",
        )
        categories.add_legal_item(s, case_id, order)
        with pytest.raises(InvalidInput, match="before the start"):
            categories.add_legal_item(
                s, case_id, LegalItem(LegalKind.BAIL_CONDITIONS, D(2026, 2, 1), D(2026, 1, 1))
            )
        categories.add_agency(s, case_id, Agency(AgencyType.HOUSING, "Housing options", "Duty"))
    with signed_in(store, CASEWORKER) as s:
        [kept] = categories.legal_items(s, case_id)
        assert (kept.kind, kept.order_type, kept.ends_on, kept.conditions) == (
            LegalKind.PROTECTIVE_ORDER,
            OrderType.NON_MOLESTATION,
            D(2026, 7, 10),
            order.conditions,
        )
        assert [a.agency_type for a in categories.agencies(s, case_id)] == [AgencyType.HOUSING]


def _due(store: StoreCopy, user: str, day: dt.date) -> list[tuple[DueKind, dt.date, bool, str]]:
    with signed_in(store, user) as s:
        s.now = clock(day)
        return [(i.kind, i.due_on, i.overdue, i.reference) for i in categories.this_week(s)]


def test_this_week_lists_what_is_due_for_the_user_overdue_first(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        s.now = clock(MONDAY - dt.timedelta(days=40))
        case_id, client = new_case(s, referral=MONDAY - dt.timedelta(days=45))
        ref = case_model.get(s.conn, case_id)
        assert ref is not None
        reference = ref.reference
        details = ref.details

        cases.update_case(
            s, case_id, dataclasses.replace(details, next_review=MONDAY + dt.timedelta(days=2))
        )
        categories.add_legal_item(
            s, case_id, LegalItem(LegalKind.COURT_DATE, MONDAY + dt.timedelta(days=5))
        )
        categories.add_legal_item(
            s, case_id, LegalItem(LegalKind.COURT_DATE, MONDAY + dt.timedelta(days=9))
        )
        categories.add_legal_item(
            s,
            case_id,
            LegalItem(
                LegalKind.BAIL_CONDITIONS,
                MONDAY - dt.timedelta(days=30),
                MONDAY + dt.timedelta(days=7),
                conditions="No contact",
            ),
        )
        consent.record_consent(
            s,
            case_id,
            client,
            ConsentPurpose.SUPPORT,
            "",
            ConsentState.GIVEN,
            decided_on=MONDAY - dt.timedelta(days=40),
            how=ConsentHow.VERBAL,
            review_date=MONDAY - dt.timedelta(days=1),
        )
    with signed_in(store, CASEWORKER2) as s:
        new_case(s, person("Alex", "Holloway"))
    due = _due(store, CASEWORKER, MONDAY)
    assert due == [
        (DueKind.CONSENT_REVIEW, MONDAY - dt.timedelta(days=1), True, reference),
        (DueKind.CASE_REVIEW, MONDAY + dt.timedelta(days=2), False, reference),
        (DueKind.COURT_DATE, MONDAY + dt.timedelta(days=5), False, reference),
        (DueKind.BAIL_ENDS, MONDAY + dt.timedelta(days=7), False, reference),
    ]
    # A week later the court date two weeks on is due, the past one is not listed.
    later = _due(store, CASEWORKER, MONDAY + dt.timedelta(days=6))
    assert (DueKind.COURT_DATE, MONDAY + dt.timedelta(days=9), False, reference) in later
    assert (DueKind.COURT_DATE, MONDAY + dt.timedelta(days=5), False, reference) not in later
    # The manager sees the team's; the DPO sees no case dates, only the register's.
    assert (DueKind.CASE_REVIEW, MONDAY + dt.timedelta(days=2), False, reference) in _due(
        store, MANAGER, MONDAY
    )
    assert all(k is DueKind.RIGHTS_REQUEST for k, *_ in _due(store, DPO, MONDAY))


def test_a_store_from_the_previous_version_gains_the_new_tables(tmp_path: Path) -> None:
    conn = connect(tmp_path / "old.safecase", bytes(range(32)), create=True)
    try:
        migrate(conn, MIGRATIONS[:-1])
        now = "2026-01-05T10:00:00.000000Z"
        conn.execute(
            "INSERT INTO people (id, given_name, family_name, ethnicity, created_at, updated_at) "
            "VALUES (1, 'Synthetic', 'Person', 'White British', ?, ?)",
            (now, now),
        )
        assert migrate(conn) == SCHEMA_VERSION
        assert conn.execute("SELECT ethnicity FROM people").fetchall() == [("White British",)]
        assert conn.execute("SELECT count(*) FROM person_categories").fetchone() == (0,)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


def test_a_childs_school_protection_status_and_home_are_kept_per_case(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        child = cases.add_person(s, case_id, person("Kit", "Ashdown"), CaseRole.CHILD)
        categories.set_child(
            s,
            case_id,
            ChildDetails(
                child, "Northshire Primary", ChildProtection.CHILD_IN_NEED, LivesWith.CLIENT
            ),
        )
        with pytest.raises(InvalidInput, match="not a child on this case"):
            categories.set_child(s, case_id, ChildDetails(client, "Not a school"))
        categories.set_referral_source(
            s, case_id, ReferralSource(AgencyType.POLICE, "DC Rowe, Public Protection Unit")
        )
    with signed_in(store, CASEWORKER) as s:
        assert categories.children(s, case_id) == [
            ChildDetails(
                child, "Northshire Primary", ChildProtection.CHILD_IN_NEED, LivesWith.CLIENT
            )
        ]
        assert categories.referral_source(s, case_id) == ReferralSource(
            AgencyType.POLICE, "DC Rowe, Public Protection Unit"
        )


def test_this_week_lists_a_marac_meeting_and_a_share_waiting_for_review(
    store: StoreCopy,
) -> None:
    with signed_in(store, CASEWORKER) as s:
        s.now = clock(MONDAY - dt.timedelta(days=3))
        case_id, _client = new_case(s, referral=MONDAY - dt.timedelta(days=10))
        risk.record_marac_referral(s, case_id, MONDAY - dt.timedelta(days=3))
        risk.set_marac_meeting(s, case_id, MONDAY + dt.timedelta(days=4))
        risk.add_marac_action(
            s, case_id, "Fit a door alarm", "Police", MONDAY - dt.timedelta(days=1)
        )
    share_case, _ = share_without_consent(store)
    with signed_in(store, MANAGER) as s:
        s.now = clock(uk_today() + dt.timedelta(days=3))
        due = categories.this_week(s)
    assert any(
        i.kind is DueKind.SHARE_REVIEW and i.overdue and i.case_id == share_case for i in due
    )
    with signed_in(store, CASEWORKER) as s:
        s.now = clock(MONDAY)
        due = categories.this_week(s)
    assert [(i.kind, i.due_on, i.overdue, i.case_id) for i in due] == [
        (DueKind.MARAC_ACTION, MONDAY - dt.timedelta(days=1), True, case_id),
        (DueKind.MARAC_MEETING, MONDAY + dt.timedelta(days=4), False, case_id),
    ]
