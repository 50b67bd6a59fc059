"""The SafeLives DASH risk identification checklist and the MARAC referral criteria.

24 questions, each answered yes, no or don't know. The score is the number of yes answers:
14 or more is high risk and means a MARAC referral. A referral can also be made on
professional judgement (with a reason), on potential escalation (3 or more police call-outs in
12 months), or as a repeat (any incident within 12 months of the last MARAC referral).
Professional judgement can raise a level, never lower a score of 14 or more.
"""

from __future__ import annotations

import datetime as dt
import json

from app.crypto.connection import Connection
from app.models.convert import date_text, parse_date
from app.models.db import read
from app.models.records import Answer, DashResult, MaracAction, RiskLevel
from app.sync.clock import new_gid

# Paraphrased from the SafeLives Dash risk checklist (2009); "they" is the alleged perpetrator.
QUESTIONS: tuple[str, ...] = (
    "Has the current incident resulted in injury?",
    "Are you very frightened?",
    "What are you afraid of? Is it further injury or violence?",
    "Do you feel isolated from family or friends?",
    "Are you feeling depressed or having suicidal thoughts?",
    "Have you separated or tried to separate from them within the past year?",
    "Is there conflict over child contact?",
    "Do they constantly text, call, contact, follow, stalk or harass you?",
    "Are you pregnant or have you recently had a baby (within the last 18 months)?",
    "Is the abuse happening more often?",
    "Is the abuse getting worse?",
    "Do they try to control everything you do, or are they excessively jealous?",
    "Have they ever used weapons or objects to hurt you?",
    "Have they ever threatened to kill you or someone else, and you believed them?",
    "Have they ever attempted to strangle, choke, suffocate or drown you?",
    "Do they do or say things of a sexual nature that make you feel bad or that hurt you?",
    "Is there any other person who has threatened you or who you are afraid of?",
    "Do you know if they have hurt anyone else?",
    "Have they ever mistreated an animal or the family pet?",
    "Are there any financial issues?",
    "Have they had problems in the past year with drugs, alcohol or mental health?",
    "Have they ever threatened or attempted suicide?",
    "Have they ever broken bail, an injunction or an agreement about contact?",
    "Do you know if they have ever been in trouble with the police or have a criminal history?",
)
HIGH_RISK_SCORE = 14
MEDIUM_RISK_SCORE = 10
ESCALATION_CALLOUTS = 3

REASON_SCORE = "score of 14 or more"
REASON_JUDGEMENT = "professional judgement"
REASON_ESCALATION = "potential escalation: 3 or more police call-outs in 12 months"
REASON_REPEAT = "repeat: incident within 12 months of the last MARAC referral"


def yes_count(answers: dict[int, Answer]) -> int:
    return sum(1 for a in answers.values() if a is Answer.YES)


def score_level(yes: int) -> RiskLevel:
    """14 or more yes answers is high; 10 to 13 medium; fewer is standard."""
    if yes >= HIGH_RISK_SCORE:
        return RiskLevel.HIGH
    if yes >= MEDIUM_RISK_SCORE:
        return RiskLevel.MEDIUM
    return RiskLevel.STANDARD


def final_level(scored: RiskLevel, judgement: RiskLevel | None) -> RiskLevel:
    """Professional judgement may raise the level, never lower it."""
    if judgement is None or judgement.rank <= scored.rank:
        return scored
    return judgement


def one_year_after(day: dt.date) -> dt.date:
    """The same date a year on; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def marac_reasons(
    *,
    yes: int,
    judgement: RiskLevel | None,
    police_callouts_12m: int,
    incident_on: dt.date,
    last_marac_referral: dt.date | None,
) -> tuple[str, ...]:
    """Why this case meets the MARAC referral criteria (empty when it does not)."""
    reasons = []
    if yes >= HIGH_RISK_SCORE:
        reasons.append(REASON_SCORE)
    if judgement is RiskLevel.HIGH and yes < HIGH_RISK_SCORE:
        reasons.append(REASON_JUDGEMENT)
    if police_callouts_12m >= ESCALATION_CALLOUTS:
        reasons.append(REASON_ESCALATION)
    if last_marac_referral is not None and last_marac_referral <= incident_on < one_year_after(
        last_marac_referral
    ):
        reasons.append(REASON_REPEAT)
    return tuple(reasons)


_COLUMNS = (
    "id, case_id, person_id, completed_on, answers, sources, yes_count, score_level, "
    "judgement_level, judgement_reason, police_callouts_12m, level, marac_reasons"
)


def _dash(r: tuple[object, ...]) -> DashResult:
    return DashResult(
        id=int(str(r[0])),
        case_id=int(str(r[1])),
        person_id=int(str(r[2])),
        completed_on=parse_date(r[3]) or dt.date.min,
        answers={int(k): Answer(v) for k, v in json.loads(str(r[4])).items()},
        sources={int(k): str(v) for k, v in json.loads(str(r[5])).items()},
        yes_count=int(str(r[6])),
        score_level=RiskLevel(str(r[7])),
        judgement_level=RiskLevel(str(r[8])) if r[8] else None,
        judgement_reason=str(r[9]),
        police_callouts_12m=int(str(r[10])),
        level=RiskLevel(str(r[11])),
        marac_reasons=tuple(json.loads(str(r[12]))),
    )


def insert(conn: Connection, d: DashResult, user_id: int, now: str, gid: str | None = None) -> int:
    cur = conn.execute(
        "INSERT INTO dash_assessments (case_id, person_id, completed_on, answers, sources, "
        "yes_count, score_level, judgement_level, judgement_reason, police_callouts_12m, level, "
        "marac_reasons, recorded_by, recorded_at, gid) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            d.case_id,
            d.person_id,
            date_text(d.completed_on),
            json.dumps({str(k): v.value for k, v in sorted(d.answers.items())}),
            json.dumps({str(k): v for k, v in sorted(d.sources.items())}),
            d.yes_count,
            d.score_level.value,
            d.judgement_level.value if d.judgement_level else None,
            d.judgement_reason,
            d.police_callouts_12m,
            d.level.value,
            json.dumps(list(d.marac_reasons)),
            user_id,
            now,
            gid or new_gid(),
        ),
    )
    return int(cur.lastrowid or 0)


def latest(conn: Connection, case_id: int) -> DashResult | None:
    rows = read(
        conn,
        f"SELECT {_COLUMNS} FROM dash_assessments WHERE case_id = ? "
        "ORDER BY completed_on DESC, id DESC LIMIT 1",
        (case_id,),
    )
    return _dash(rows[0]) if rows else None


def for_person(conn: Connection, person_id: int) -> list[DashResult]:
    """Every checklist completed for this person, oldest first (for a subject access pack)."""
    rows = read(
        conn,
        f"SELECT {_COLUMNS} FROM dash_assessments WHERE person_id = ? ORDER BY completed_on, id",
        (person_id,),
    )
    return [_dash(r) for r in rows]


def history(conn: Connection, case_id: int) -> list[DashResult]:
    """Every checklist completed on the case, newest first."""
    rows = read(
        conn,
        f"SELECT {_COLUMNS} FROM dash_assessments WHERE case_id = ? "
        "ORDER BY completed_on DESC, id DESC",
        (case_id,),
    )
    return [_dash(r) for r in rows]


# -- actions agreed at MARAC ----------------------------------------------------------------------

_ACTION_COLUMNS = "id, case_id, action, owner, due_on, done_on"


def _action(r: tuple[object, ...]) -> MaracAction:
    return MaracAction(
        id=int(str(r[0])),
        case_id=int(str(r[1])),
        action=str(r[2]),
        owner=str(r[3]),
        due_on=parse_date(r[4]) or dt.date.min,
        done_on=parse_date(r[5]),
    )


def add_action(
    conn: Connection, case_id: int, action: str, owner: str, due_on: dt.date, user_id: int, now: str
) -> int:
    cur = conn.execute(
        "INSERT INTO marac_actions (case_id, action, owner, due_on, recorded_by, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (case_id, action, owner, date_text(due_on), user_id, now),
    )
    return int(cur.lastrowid or 0)


def get_action(conn: Connection, action_id: int) -> MaracAction | None:
    rows = read(conn, f"SELECT {_ACTION_COLUMNS} FROM marac_actions WHERE id = ?", (action_id,))
    return _action(rows[0]) if rows else None


def set_action_done(conn: Connection, action_id: int, done_on: dt.date) -> None:
    conn.execute(
        "UPDATE marac_actions SET done_on = ? WHERE id = ?", (date_text(done_on), action_id)
    )


def actions(conn: Connection, case_id: int, *, open_only: bool = False) -> list[MaracAction]:
    """The case's MARAC actions: open ones first by due date, then the done ones."""
    where = " AND done_on IS NULL" if open_only else ""
    rows = read(
        conn,
        f"SELECT {_ACTION_COLUMNS} FROM marac_actions WHERE case_id = ?{where} "
        "ORDER BY done_on IS NOT NULL, due_on, id",
        (case_id,),
    )
    return [_action(r) for r in rows]
