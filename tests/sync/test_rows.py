"""The case records kept whole travel too: a share's review, MARAC actions and the referral to
MARAC, the outcomes recorded at closing, a person's categories, a child's details, the referral
source and the case's agencies and court or legal entries; a removal travels, and what the
removed entry said leaves the operations."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from app.models import cases as case_model
from app.models.categories import (
    Agency,
    AgencyType,
    ChildDetails,
    ChildProtection,
    LegalItem,
    LegalKind,
    PersonCategories,
    ReferralSource,
    Sex,
)
from app.models.records import AbuseChange, CaseOutcome, CaseRole, ClosureReason
from app.services import cases, categories, conflicts, risk, sharing
from app.services.session import Session
from tests.helpers import StoreCopy
from tests.services.casework import person, share_without_consent
from tests.sync.test_apply import _send_all, team

OUTCOME = CaseOutcome(ClosureReason.SUPPORT_COMPLETED, abuse=AbuseChange.STOPPED)


def _seen(s: Session, case_id: int) -> tuple[object, ...]:
    """What a person reading the case sees of these records."""
    view = cases.open_case(s, case_id, record_view=False)
    shares = tuple((sh.record.organisation, sh.approval) for sh in view.shares)
    return (
        shares,
        tuple((a.action, a.owner, a.due_on, a.done_on) for a in view.marac_actions),
        view.case.marac_referral_date,
        view.outcome,
        categories.person_categories(s, view.contact.client_id or 0),
        tuple(categories.children(s, case_id)),
        categories.referral_source(s, case_id),
        tuple((a.agency_type, a.name, a.contact) for a in categories.agencies(s, case_id)),
        tuple((i.kind, i.starts_on, i.court) for i in categories.legal_items(s, case_id)),
    )


def test_the_records_a_case_keeps_whole_arrive_on_the_other_laptops(
    store: StoreCopy, tmp_path: Path
) -> None:
    share_without_consent(store)
    with team(store, tmp_path) as (base, laptops):
        a, b = laptops[0], laptops[1]
        today = a.today()
        [flagged] = sharing.awaiting_review(a)
        sharing.review_share(a, flagged.share.id, True, "Synthetic review.")
        flagged_case = case_model.by_reference(a.conn, flagged.reference)
        assert flagged_case is not None
        risk.record_marac_referral(a, base.case_id, today)
        action = risk.add_marac_action(a, base.case_id, "Synthetic action", "Police", today)
        categories.set_person_categories(a, base.client, PersonCategories(sex=Sex.FEMALE))
        child = cases.add_person(a, base.case_id, person("Qzchild", "Synthetic"), CaseRole.CHILD)
        categories.set_child(
            a, base.case_id, ChildDetails(child, "Synthetic School", ChildProtection.CHILD_IN_NEED)
        )
        categories.set_referral_source(
            a, base.case_id, ReferralSource(AgencyType.POLICE, "Synthetic referrer")
        )
        kept = categories.add_agency(a, base.case_id, Agency(AgencyType.HOUSING, "Homes", "Duty"))
        mistake = categories.add_agency(
            a, base.case_id, Agency(AgencyType.GP, "Qzmistake surgery", "Qzmistake")
        )
        categories.add_legal_item(
            a, base.case_id, LegalItem(LegalKind.COURT_DATE, today, court="Synthetic court")
        )
        _send_all(laptops)
        # Later: one laptop marks the action done and corrects an agency, the other removes
        # the agency entered by mistake.
        risk.mark_marac_action_done(a, action, today)
        categories.update_agency(a, base.case_id, Agency(AgencyType.HOUSING, "Homes", "Desk", kept))
        categories.remove_agency(b, base.case_id, mistake)
        _send_all(laptops)
        for s in laptops[1:]:
            assert _seen(s, base.case_id) == _seen(a, base.case_id)
            assert _seen(s, flagged_case.id) == _seen(a, flagged_case.id)
        seen = _seen(b, base.case_id)
        assert seen[1] == (("Synthetic action", "Police", today, today),)
        assert seen[7] == ((AgencyType.HOUSING, "Homes", "Desk"),)
        for s in laptops:
            held = s.conn.execute("SELECT payload FROM operations").fetchall()
            assert not any("Qzmistake" in str(p[0]) for p in held)


def test_the_outcomes_recorded_at_closing_travel_and_go_when_the_case_reopens(
    store: StoreCopy, tmp_path: Path
) -> None:
    with team(store, tmp_path) as (base, laptops):
        a = laptops[0]
        cases.close_case(a, base.case_id, a.today(), "Support completed", outcome=OUTCOME)
        _send_all(laptops)
        assert {cases.open_case(s, base.case_id).outcome for s in laptops} == {
            cases.open_case(a, base.case_id).outcome
        }
        assert cases.open_case(laptops[2], base.case_id).outcome is not None
        cases.reopen_case(laptops[1], base.case_id)
        _send_all(laptops)
        assert {cases.open_case(s, base.case_id).outcome for s in laptops} == {None}


def test_an_entry_added_and_removed_offline_arrives_removed_in_any_order(
    store: StoreCopy, tmp_path: Path
) -> None:
    from app.models.db import transaction
    from app.sync import ops

    with team(store, tmp_path) as (base, laptops):
        a, b = laptops[0], laptops[1]
        entry = categories.add_agency(a, base.case_id, Agency(AgencyType.GP, "Qzgone", "Qzgone"))
        categories.remove_agency(a, base.case_id, entry)
        for op in [op for _, op in ops.outbox(a.conn)]:  # the set alone first, then the removal
            with transaction(b.conn):
                assert ops.apply_all(b.conn, [op]) == []
        assert categories.agencies(b, base.case_id) == []


def test_a_safety_plan_and_needs_assessment_edited_on_one_laptop_reach_the_others(
    store: StoreCopy, tmp_path: Path
) -> None:
    with team(store, tmp_path) as (base, laptops):
        a, b = laptops[0], laptops[1]
        details = cases.open_case(a, base.case_id).case.details
        edited = replace(
            details,
            safety_plan="Synthetic plan: leave by the back door, bag kept at a friend's.",
            needs_assessment="Synthetic needs: housing and a solicitor.",
            next_review=a.today(),
        )
        cases.update_case(a, base.case_id, edited)
        _send_all(laptops)
        for laptop in laptops:
            assert cases.open_case(laptop, base.case_id).case.details == edited
        # Both laptops edit the plan without seeing each other's: a conflict, both kept.
        cases.update_case(a, base.case_id, replace(edited, safety_plan="Synthetic plan A."))
        cases.update_case(b, base.case_id, replace(edited, safety_plan="Synthetic plan B."))
        _send_all(laptops)
        shown = {cases.open_case(s, base.case_id).case.details.safety_plan for s in laptops}
        assert len(shown) == 1
        [conflict] = [c for c in conflicts.on_case(laptops[2], base.case_id) if c.open]
        assert conflict.field == "cases.safety_plan"
        assert {c.value for c in conflict.candidates} == {"Synthetic plan A.", "Synthetic plan B."}
