"""Correcting or removing a mistaken agency or legal entry on a case, through the services:
the change lands, the audit trail names the entry and the fields only, the same refusals as
adding, and a removed entry's text is gone from every page of the store."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest

from app.errors import InvalidInput, PermissionDenied
from app.models.categories import Agency, AgencyType, LegalItem, LegalKind, OrderType
from app.services import cases, categories
from app.services.session import Session
from tests.helpers import CASEWORKER, CASEWORKER2, DPO, MANAGER, StoreCopy
from tests.services.casework import audit_head, audit_since, new_case, signed_in
from tests.services.forensics import data_key, found, read_pages

D = dt.date
COURT = "Wrongbury Magistrates"
FIXED_COURT = "Northshire Family Court"
CONTACT = "Quillfeather Duty Desk"


def _case_with_entries(store: StoreCopy) -> tuple[int, int, int, int]:
    """A caseworker's case with one court date and one agency: (case, client, legal, agency)."""
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        legal = categories.add_legal_item(
            s, case_id, LegalItem(LegalKind.COURT_DATE, D(2026, 5, 4), court=COURT)
        )
        agency = categories.add_agency(
            s, case_id, Agency(AgencyType.HOUSING, "Housing options", CONTACT)
        )
    return case_id, client, legal, agency


def test_a_court_date_and_an_agency_are_corrected_and_the_trail_names_only_the_fields(
    store: StoreCopy,
) -> None:
    case_id, _client, legal_id, agency_id = _case_with_entries(store)
    with signed_in(store, CASEWORKER) as s:
        before = audit_head(s)
        [item] = categories.legal_items(s, case_id)
        categories.update_legal_item(
            s, case_id, dataclasses.replace(item, starts_on=D(2026, 5, 11), court=FIXED_COURT)
        )
        [agency] = categories.agencies(s, case_id)
        categories.update_agency(
            s, case_id, dataclasses.replace(agency, agency_type=AgencyType.POLICE)
        )
        trail = audit_since(s, before)
    with signed_in(store, CASEWORKER) as s:
        assert [(i.id, i.starts_on, i.court) for i in categories.legal_items(s, case_id)] == [
            (legal_id, D(2026, 5, 11), FIXED_COURT)
        ]
        assert [(a.id, a.agency_type, a.contact) for a in categories.agencies(s, case_id)] == [
            (agency_id, AgencyType.POLICE, CONTACT)
        ]
    assert [(e.action, e.record, e.detail) for e in trail] == [
        ("legal_changed", f"case:{case_id}", f"legal:{legal_id}; changed: starts_on, court"),
        ("agency_changed", f"case:{case_id}", f"agency:{agency_id}; changed: agency_type"),
    ]


def test_a_mistaken_entry_is_removed_and_its_text_is_gone_from_the_store(
    store: StoreCopy,
) -> None:
    case_id, _client, legal_id, agency_id = _case_with_entries(store)
    with signed_in(store, CASEWORKER) as s:
        key = data_key(s)
    assert set(found(read_pages(store.path, key), [CONTACT, COURT])) == {CONTACT, COURT}
    with signed_in(store, CASEWORKER) as s:
        before = audit_head(s)
        categories.remove_agency(s, case_id, agency_id)
        categories.remove_legal_item(s, case_id, legal_id)
        assert categories.agencies(s, case_id) == []
        assert categories.legal_items(s, case_id) == []
        assert [(e.action, e.detail) for e in audit_since(s, before)] == [
            ("agency_removed", f"agency:{agency_id}"),
            ("legal_removed", f"legal:{legal_id}"),
        ]
        with pytest.raises(InvalidInput, match="no longer on the case"):
            categories.remove_agency(s, case_id, agency_id)
    assert found(read_pages(store.path, key), [CONTACT, COURT]) == {}


def test_corrections_are_refused_as_adding_is(store: StoreCopy) -> None:
    case_id, client, legal_id, agency_id = _case_with_entries(store)
    agency = Agency(AgencyType.POLICE, "Police", "DC Example", agency_id)
    item = LegalItem(LegalKind.COURT_DATE, D(2026, 6, 1), court=FIXED_COURT, id=legal_id)
    calls: list[Callable[[Session], object]] = [
        lambda s: categories.update_agency(s, case_id, agency),
        lambda s: categories.remove_agency(s, case_id, agency_id),
        lambda s: categories.update_legal_item(s, case_id, item),
        lambda s: categories.remove_legal_item(s, case_id, legal_id),
    ]
    for user in (DPO, CASEWORKER2):  # not case work; not their case
        with signed_in(store, user) as s:
            for call in calls:
                with pytest.raises(PermissionDenied):
                    call(s)
    with signed_in(store, CASEWORKER) as s:
        with pytest.raises(InvalidInput, match="before the start"):
            categories.update_legal_item(
                s,
                case_id,
                dataclasses.replace(
                    item,
                    kind=LegalKind.PROTECTIVE_ORDER,
                    order_type=OrderType.NON_MOLESTATION,
                    ends_on=D(2026, 1, 1),
                ),
            )
        with pytest.raises(InvalidInput, match="no longer on the case"):
            categories.update_agency(s, case_id, dataclasses.replace(agency, id=agency_id + 99))
    with signed_in(store, MANAGER) as s:
        cases.restrict_person(s, client, "Objection to processing under review")
    with signed_in(store, CASEWORKER) as s:
        for call in calls:
            with pytest.raises(PermissionDenied, match="restricted"):
                call(s)
        assert [a.contact for a in categories.agencies(s, case_id)] == [CONTACT]
        assert [i.court for i in categories.legal_items(s, case_id)] == [COURT]


def test_corrections_wait_until_a_closed_case_is_reopened(store: StoreCopy) -> None:
    case_id, _client, legal_id, agency_id = _case_with_entries(store)
    with signed_in(store, MANAGER) as s:
        cases.close_case(s, case_id, s.today(), "Support completed")
    with signed_in(store, CASEWORKER) as s:
        checks: tuple[Callable[[], object], ...] = (
            lambda: categories.update_agency(
                s, case_id, Agency(AgencyType.GP, "GP", "", agency_id)
            ),
            lambda: categories.remove_agency(s, case_id, agency_id),
            lambda: categories.update_legal_item(
                s, case_id, LegalItem(LegalKind.COURT_DATE, D(2026, 6, 1), id=legal_id)
            ),
            lambda: categories.remove_legal_item(s, case_id, legal_id),
        )
        for call in checks:
            with pytest.raises(InvalidInput, match="closed"):
                call()
        assert [a.contact for a in categories.agencies(s, case_id)] == [CONTACT]
        assert [i.court for i in categories.legal_items(s, case_id)] == [COURT]
