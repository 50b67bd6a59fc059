"""Recording DASH: the live score, professional judgement and MARAC referral reasons."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from app.errors import InvalidInput
from app.models import cases as case_model
from app.models import risk as rules
from app.models.records import Answer, Case, CaseDetails, CaseStatus, RiskLevel
from app.services import cases, risk
from tests.helpers import CASEWORKER, StoreCopy
from tests.models.test_risk import answers
from tests.services.casework import TODAY, new_case, signed_in


def test_13_yes_is_medium_and_14_is_high_with_a_marac_referral(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        medium = risk.record_dash(s, case_id, client, answers(13), completed_on=TODAY)
        assert (medium.yes_count, medium.level, medium.marac_referral_due) == (
            13,
            RiskLevel.MEDIUM,
            False,
        )
        assert cases.open_case(s, case_id).case.risk_level is RiskLevel.MEDIUM
        high = risk.record_dash(s, case_id, client, answers(14), completed_on=TODAY)
        assert high.level is RiskLevel.HIGH
        assert high.marac_reasons == (rules.REASON_SCORE,)
        view = cases.open_case(s, case_id)
        assert view.case.risk_level is RiskLevel.HIGH
        assert view.latest_dash is not None and view.latest_dash.yes_count == 14


def test_judgement_cannot_lower_14(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        with pytest.raises(InvalidInput, match="cannot lower a score of 14"):
            risk.record_dash(
                s,
                case_id,
                client,
                answers(16),
                completed_on=TODAY,
                judgement=RiskLevel.MEDIUM,
                judgement_reason="She seems calmer now.",
            )
        assert cases.open_case(s, case_id).case.risk_level is None  # nothing saved


def test_judgement_can_raise_with_a_reason(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        with pytest.raises(InvalidInput, match="reason"):
            risk.record_dash(
                s, case_id, client, answers(6), completed_on=TODAY, judgement=RiskLevel.HIGH
            )
        raised = risk.record_dash(
            s,
            case_id,
            client,
            answers(6),
            completed_on=TODAY,
            judgement=RiskLevel.HIGH,
            judgement_reason="New partner has a history of serious violence.",
        )
        assert raised.score_level is RiskLevel.STANDARD
        assert raised.level is RiskLevel.HIGH
        assert raised.marac_reasons == (rules.REASON_JUDGEMENT,)


def test_escalation_and_repeat(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        escalated = risk.record_dash(
            s, case_id, client, answers(4), completed_on=TODAY, police_callouts_12m=3
        )
        assert escalated.marac_reasons == (rules.REASON_ESCALATION,)
        referred = TODAY - dt.timedelta(days=200)
        risk.record_marac_referral(s, case_id, referred)
        repeat = risk.record_dash(s, case_id, client, answers(4), completed_on=TODAY)
        assert repeat.marac_reasons == (rules.REASON_REPEAT,)


def test_sources_are_kept_for_answers_not_from_the_person(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        result = risk.record_dash(
            s,
            case_id,
            client,
            answers(2),
            completed_on=TODAY,
            sources={24: "police national computer check", 3: "  "},
        )
        assert result.sources == {24: "police national computer check"}
        assert cases.open_case(s, case_id).latest_dash == result


def test_an_incomplete_checklist_is_refused(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        partial: dict[int, Answer] = {q: Answer.YES for q in range(1, 20)}
        with pytest.raises(InvalidInput, match="5 not answered"):
            risk.record_dash(s, case_id, client, partial, completed_on=TODAY)


def test_a_new_marac_referral_drops_the_last_referrals_meeting(store: StoreCopy) -> None:
    """Recording a referral once kept the earlier meeting date beside it (and in the SAR pack)."""
    with signed_in(store, CASEWORKER) as s:
        case_id, _ = new_case(s)
        first = TODAY - dt.timedelta(days=300)
        risk.record_marac_referral(s, case_id, first)
        case_model.set_fields(
            s.conn, case_id, s.now(), marac_meeting_date=first + dt.timedelta(days=14)
        )
        assert cases.open_case(s, case_id).case.marac_meeting == first + dt.timedelta(days=14)
        risk.record_marac_referral(s, case_id, TODAY)
        case = cases.open_case(s, case_id).case
        assert (case.marac_referral_date, case.marac_meeting_date) == (TODAY, None)
        assert case.marac_meeting is None


def test_a_meeting_before_the_latest_referral_is_never_shown_as_its_meeting() -> None:
    """A store written before referrals cleared the meeting may still hold a stale one."""
    case = dataclasses.replace(
        stale_case(), marac_referral_date=TODAY, marac_meeting_date=TODAY - dt.timedelta(days=90)
    )
    assert case.marac_meeting is None
    later = dataclasses.replace(case, marac_meeting_date=TODAY + dt.timedelta(days=10))
    assert later.marac_meeting == TODAY + dt.timedelta(days=10)


def stale_case() -> Case:
    return Case(
        id=1,
        reference="SC-2026-000001",
        status=CaseStatus.OPEN,
        details=CaseDetails(referral_date=TODAY, referral_source="GP"),
        allocated_user_id=None,
        team_id=1,
        opened_date=TODAY,
        closed_date=None,
        closed_reason="",
        risk_level=None,
        marac_referral_date=None,
        marac_meeting_date=None,
        legal_hold_reason="",
        legal_hold_review=None,
    )
