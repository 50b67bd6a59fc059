"""The questions the desktop app asks about conflicts: every open one on the cases the user may
open, the longest waiting first, counted for the navigation; and the synthetic conflict the
screenshots make, which only a training store takes."""

from __future__ import annotations

import pytest

from app.errors import NotTrainingStore
from app.models import cases as case_model
from app.models.records import SafeContact
from app.services import cases, conflicts, demo
from tests.helpers import CASEWORKER, MANAGER, StoreCopy
from tests.services.casework import audit_head, audit_since, new_case, signed_in, user_id


def _case_with_number(store: StoreCopy) -> tuple[int, int]:
    with signed_in(store, MANAGER) as s:
        case_id, client = new_case(s)
        cases.open_referral(s, case_id, s.today())
        cases.allocate(s, case_id, user_id(s, CASEWORKER))
        cases.set_safe_contact(s, case_id, SafeContact(client, safe_number="07700 900301"))
    return case_id, client


def test_a_store_of_real_records_refuses_a_synthetic_conflict(store: StoreCopy) -> None:
    case_id, client = _case_with_number(store)
    with signed_in(store, MANAGER) as s:
        with pytest.raises(NotTrainingStore):
            demo.synthetic_conflict(s, case_id, "07700 900302", "07700 900303")
        held = case_model.safe_contact(s.conn, case_id, client)
        assert held is not None and held.safe_number == "07700 900301"
        assert conflicts.count(s) == 0


def test_open_conflicts_come_longest_waiting_first_and_only_on_cases_the_user_may_open(
    training_store: StoreCopy,
) -> None:
    first, _ = _case_with_number(training_store)
    second, _ = _case_with_number(training_store)
    with signed_in(training_store, MANAGER) as s:
        # The later case's conflict is made first: it has waited longest, so it leads.
        demo.synthetic_conflict(s, second, "07700 900321", "07700 900322")
        demo.synthetic_conflict(s, first, "07700 900311", "07700 900312")
        cases.allocate(s, second, None)  # the caseworker no longer holds it
        head = audit_head(s)
        listed = conflicts.open_conflicts(s)
        assert [k.case_id for k in listed] == [second, first]
        assert {c.value for k in listed for c in k.candidates} >= {"07700 900311", "07700 900312"}
        assert [(e.action, e.detail) for e in audit_since(s, head)] == [
            ("conflicts_viewed", "conflicts=2")
        ]
        assert conflicts.count(s) == 2
    with signed_in(training_store, CASEWORKER) as s:
        assert [k.case_id for k in conflicts.open_conflicts(s)] == [first]
        assert conflicts.count(s) == 1
