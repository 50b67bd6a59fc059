"""Recording DASH: the live score, professional judgement and MARAC referral reasons."""

from __future__ import annotations

import datetime as dt

import pytest

from app.errors import InvalidInput
from app.models import risk as rules
from app.models.records import Answer, RiskLevel
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
