"""DASH scoring and the MARAC referral criteria."""

from __future__ import annotations

import datetime as dt

import pytest

from app.models import risk
from app.models.records import Answer, RiskLevel


def answers(yes: int, dont_know: int = 0) -> dict[int, Answer]:
    result = {}
    for q in range(1, 25):
        if q <= yes:
            result[q] = Answer.YES
        elif q <= yes + dont_know:
            result[q] = Answer.DONT_KNOW
        else:
            result[q] = Answer.NO
    return result


def test_there_are_24_questions() -> None:
    assert len(risk.QUESTIONS) == 24


@pytest.mark.parametrize(
    ("yes", "level"),
    [
        (0, RiskLevel.STANDARD),
        (9, RiskLevel.STANDARD),
        (10, RiskLevel.MEDIUM),
        (13, RiskLevel.MEDIUM),
        (14, RiskLevel.HIGH),
        (24, RiskLevel.HIGH),
    ],
)
def test_bands(yes: int, level: RiskLevel) -> None:
    assert risk.score_level(risk.yes_count(answers(yes))) is level


def test_dont_know_is_not_a_yes() -> None:
    assert risk.yes_count(answers(13, dont_know=5)) == 13


def test_judgement_raises_but_never_lowers() -> None:
    assert risk.final_level(RiskLevel.STANDARD, RiskLevel.HIGH) is RiskLevel.HIGH
    assert risk.final_level(RiskLevel.HIGH, RiskLevel.STANDARD) is RiskLevel.HIGH
    assert risk.final_level(RiskLevel.MEDIUM, None) is RiskLevel.MEDIUM


def reasons(**kw: object) -> tuple[str, ...]:
    base: dict[str, object] = {
        "yes": 0,
        "judgement": None,
        "police_callouts_12m": 0,
        "incident_on": dt.date(2026, 5, 1),
        "last_marac_referral": None,
    }
    base.update(kw)
    return risk.marac_reasons(**base)  # type: ignore[arg-type]


def test_marac_criteria() -> None:
    assert reasons() == ()
    assert reasons(yes=13) == ()
    assert reasons(yes=14) == (risk.REASON_SCORE,)
    assert reasons(yes=5, judgement=RiskLevel.HIGH) == (risk.REASON_JUDGEMENT,)
    assert reasons(police_callouts_12m=2) == ()
    assert reasons(police_callouts_12m=3) == (risk.REASON_ESCALATION,)


def test_repeat_is_within_12_months_of_the_last_referral() -> None:
    last = dt.date(2025, 6, 15)
    assert reasons(last_marac_referral=last, incident_on=dt.date(2026, 6, 14)) == (
        risk.REASON_REPEAT,
    )
    assert reasons(last_marac_referral=last, incident_on=dt.date(2026, 6, 15)) == ()
    assert reasons(last_marac_referral=last, incident_on=dt.date(2025, 6, 1)) == ()


def test_a_year_after_29_february_is_28_february() -> None:
    assert risk.one_year_after(dt.date(2024, 2, 29)) == dt.date(2025, 2, 28)
