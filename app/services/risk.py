"""Recording DASH risk assessments and MARAC referrals (the rules are in app/models/risk.py)."""

from __future__ import annotations

import datetime as dt

from app.errors import InvalidInput
from app.models import cases as case_model
from app.models import risk as risk_model
from app.models.db import transaction
from app.models.records import Answer, DashResult, RiskLevel
from app.services import access, audit
from app.services.session import Session
from app.sync import ops


def assess(
    answers: dict[int, Answer],
    *,
    judgement: RiskLevel | None,
    judgement_reason: str,
    police_callouts_12m: int,
    incident_on: dt.date,
    last_marac_referral: dt.date | None,
) -> tuple[int, RiskLevel, RiskLevel, tuple[str, ...]]:
    """Score a checklist: (yes count, score level, final level, MARAC reasons).

    Refuses an incomplete checklist, a judgement without a reason, and a judgement that would
    lower the level the answers give.
    """
    expected = set(range(1, len(risk_model.QUESTIONS) + 1))
    if set(answers) != expected:
        missing = len(expected - set(answers))
        raise InvalidInput(f"Answer every question ({missing} not answered yet).")
    if police_callouts_12m < 0:
        raise InvalidInput("The number of police call-outs cannot be negative.")
    yes = risk_model.yes_count(answers)
    scored = risk_model.score_level(yes)
    if judgement is not None:
        if not judgement_reason.strip():
            raise InvalidInput("Give the reason for your professional judgement.")
        if judgement.rank < scored.rank:
            if scored is RiskLevel.HIGH:
                raise InvalidInput("Professional judgement cannot lower a score of 14 or more.")
            raise InvalidInput("Professional judgement can raise the risk level, not lower it.")
    reasons = risk_model.marac_reasons(
        yes=yes,
        judgement=judgement,
        police_callouts_12m=police_callouts_12m,
        incident_on=incident_on,
        last_marac_referral=last_marac_referral,
    )
    return yes, scored, risk_model.final_level(scored, judgement), reasons


def record_dash(
    session: Session,
    case_id: int,
    person_id: int,
    answers: dict[int, Answer],
    *,
    completed_on: dt.date,
    sources: dict[int, str] | None = None,
    judgement: RiskLevel | None = None,
    judgement_reason: str = "",
    police_callouts_12m: int = 0,
    incident_on: dt.date | None = None,
) -> DashResult:
    """Record a completed checklist for the person at risk on a case, and set the case's risk
    level from it. The result says whether a MARAC referral is due, and why."""
    case = access.require_open_case(session, case_id)
    access.refuse_if_client_restricted(session, case_id)
    if person_id not in {m.person.id for m in case_model.members(session.conn, case_id)}:
        raise InvalidInput("That person is not on this case.")
    if completed_on > session.today():
        raise InvalidInput("The checklist's date is in the future; check it.")
    clean_sources = {q: s.strip() for q, s in (sources or {}).items() if s.strip()}
    yes, scored, level, reasons = assess(
        answers,
        judgement=judgement,
        judgement_reason=judgement_reason,
        police_callouts_12m=police_callouts_12m,
        incident_on=incident_on or completed_on,
        last_marac_referral=case.marac_referral_date,
    )
    result = DashResult(
        id=0,
        case_id=case_id,
        person_id=person_id,
        completed_on=completed_on,
        answers=dict(answers),
        sources=clean_sources,
        yes_count=yes,
        score_level=scored,
        judgement_level=judgement,
        judgement_reason=judgement_reason.strip(),
        police_callouts_12m=police_callouts_12m,
        level=level,
        marac_reasons=reasons,
    )
    now = session.now()
    with transaction(session.conn):
        dash_id = risk_model.insert(session.conn, result, session.user_id, now)
        case_model.set_fields(
            session.conn, case_id, now, risk_level=level.value, marac_due=int(bool(reasons))
        )
        ops.emit_record(session.conn, "dash.recorded", dash_id, case_id, session.user_id, now)
        ops.emit_case(session.conn, "case.field_set", case, session.user_id, now)
        audit.record(
            session.conn,
            session.user_id,
            audit.DASH_RECORDED,
            f"case:{case_id}",
            f"dash:{dash_id} yes={yes} level={level.value} marac={'yes' if reasons else 'no'}",
        )
    return DashResult(**{**result.__dict__, "id": dash_id})


def record_marac_referral(session: Session, case_id: int, referred_on: dt.date) -> None:
    """Record that the case was referred to MARAC (the repeat rule counts from this date).

    The earlier referral's meeting date is cleared: it belongs to that referral, not this one.
    """
    case = access.require_open_case(session, case_id)
    if referred_on > session.today():
        raise InvalidInput("The referral date is in the future; check it.")
    with transaction(session.conn):
        case_model.set_fields(
            session.conn,
            case_id,
            session.now(),
            marac_referral_date=referred_on,
            marac_meeting_date=None,
            marac_due=0,
        )
        ops.emit_case(session.conn, "case.field_set", case, session.user_id, session.now())
        audit.record(session.conn, session.user_id, audit.MARAC_REFERRED, f"case:{case_id}")


def set_marac_meeting(session: Session, case_id: int, meeting_on: dt.date) -> None:
    """Record the MARAC meeting the case's referral is listed for."""
    case = access.require_open_case(session, case_id)
    if case.marac_referral_date is None:
        raise InvalidInput("Record the MARAC referral before its meeting date.")
    if meeting_on < case.marac_referral_date:
        raise InvalidInput("The meeting date is before the MARAC referral; check it.")
    with transaction(session.conn):
        case_model.set_fields(session.conn, case_id, session.now(), marac_meeting_date=meeting_on)
        ops.emit_case(session.conn, "case.field_set", case, session.user_id, session.now())
        audit.record(session.conn, session.user_id, audit.MARAC_MEETING_SET, f"case:{case_id}")


def add_marac_action(
    session: Session, case_id: int, action: str, owner: str, due_on: dt.date
) -> int:
    """Record an action agreed at MARAC for the case, with who does it and by when."""
    case = access.require_open_case(session, case_id)
    if case.marac_referral_date is None:
        raise InvalidInput("Record the MARAC referral before the actions agreed at it.")
    if not action.strip():
        raise InvalidInput("Say what action was agreed.")
    if not owner.strip():
        raise InvalidInput("Say who owns the action.")
    with transaction(session.conn):
        action_id = risk_model.add_action(
            session.conn,
            case_id,
            action.strip(),
            owner.strip(),
            due_on,
            session.user_id,
            session.now(),
        )
        ops.emit_row(
            session.conn, "marac_actions", case_id, session.user_id, session.now(), row_id=action_id
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.MARAC_ACTION_ADDED,
            f"case:{case_id}",
            f"marac_action:{action_id}",
        )
    return action_id


def mark_marac_action_done(session: Session, action_id: int, done_on: dt.date) -> None:
    """Mark an action agreed at MARAC as done; it then leaves the case's open actions."""
    found = risk_model.get_action(session.conn, action_id)
    if found is None:
        raise InvalidInput("That MARAC action is no longer on the case.")
    access.require_open_case(session, found.case_id)
    if found.done_on is not None:
        raise InvalidInput("That MARAC action is already marked done.")
    if done_on > session.today():
        raise InvalidInput("The date it was done is in the future; check it.")
    with transaction(session.conn):
        risk_model.set_action_done(session.conn, action_id, done_on)
        ops.emit_row(
            session.conn,
            "marac_actions",
            found.case_id,
            session.user_id,
            session.now(),
            row_id=action_id,
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.MARAC_ACTION_DONE,
            f"case:{found.case_id}",
            f"marac_action:{action_id}",
        )
