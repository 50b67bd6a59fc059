"""The breach log (UK GDPR Articles 33 and 34), kept by the DPO.

Every personal data breach is recorded, reported to the ICO or not: when the service became
aware of it (which starts the 72-hour clock, in real hours: nights, weekends, bank holidays and
the clock changes all count), what happened, the kinds of data and roughly how many people and
records, the likely consequences, the measures taken, the DPO's risk assessment, the report to
the ICO with its reference (and the reasons when it came after 72 hours), or the reason it was
not reported; and, when the risk is high, whether the people affected were told.

Nothing is ever removed: each save adds a version (app/models/breaches.py), so a correction
keeps what was said before, who changed it and why. The DPO keeps the log. An admin may record
a breach's facts, since the admin is often first to hear a laptop is gone (the Devices page's
"Report lost or stolen"), so its clock starts at once; the risk assessment and the decisions
about reporting are the DPO's alone.

The log is about the service, not about a data subject: it belongs in neither a subject access
pack nor a purge. Audit entries name the breach by id (``breach:<id>``) and list the names of
fields changed, never what they say.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from app.errors import InvalidInput
from app.models import breaches as model
from app.models.breaches import Breach, Facts, PeopleTold, Risk, Source, Version
from app.models.db import transaction
from app.models.users import Role
from app.services import audit
from app.services.session import UK, Session
from app.sync import registers

KEEPERS = (Role.DPO,)
RECORDERS = (Role.DPO, Role.ADMIN)
# A time typed a minute ahead of the session's clock is a slow clock, not the future.
_SKEW = dt.timedelta(minutes=1)

DPO_DECIDES = (
    "Only the DPO assesses the risk and decides about reporting; record what happened and the "
    "DPO takes it from there."
)


def _readings(day: dt.date, hour: int, minute: int) -> tuple[dt.datetime, dt.datetime, bool]:
    """The first and second moment a UK clock showed that time, and whether it showed it at
    all (False in the hour skipped when the clocks go forward)."""
    first = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UK, fold=0)
    second = first.replace(fold=1)
    shown = first.astimezone(dt.UTC).astimezone(UK)
    return first, second, (shown.date(), shown.hour, shown.minute) == (day, hour, minute)


def uk_moment(day: dt.date, hour: int, minute: int, later: bool | None = None) -> dt.datetime:
    """A time read off a UK clock, as an aware datetime. On the night the clocks go back, the
    hour from 1 am happens twice: ``later`` False is the first (summer time, BST), True the
    second (GMT), and None there is refused with the question. On the night they go forward
    the hour from 1 am never happens. The result is in UTC: Python compares and subtracts two
    times in one zone by the wall clock alone."""
    first, second, shown = _readings(day, hour, minute)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(dt.UTC)
    when = f"{hour:02d}:{minute:02d} on {day.day} {day:%B %Y}"
    if not shown:
        raise InvalidInput(
            f"There was no {when} in the UK: the clocks went forward an hour at 1 am. "
            "Check the time."
        )
    if later is None:
        raise InvalidInput(
            f"{when} happened twice in the UK (the clocks went back at 2 am): say whether it "
            "was the first, in summer time (BST), or the second (GMT)."
        )
    return (second if later else first).astimezone(dt.UTC)


def is_ambiguous(day: dt.date, hour: int, minute: int) -> bool:
    """Whether that time happened twice on a UK clock (the night the clocks go back)."""
    first, second, shown = _readings(day, hour, minute)
    return shown and first.utcoffset() != second.utcoffset()


def _line(breach_id: int) -> str:
    return f"breach:{breach_id}"


def _text(value: str) -> str:
    return value.strip()


def _clean(facts: Facts) -> Facts:
    """Trimmed text, times in UTC to the second, and the fields that no longer apply cleared
    (a reason not to report on a reported breach, a date told on people not told)."""
    told = facts.people_told
    reported = facts.reported_at
    return dataclasses.replace(
        facts,
        aware_at=facts.aware_at.astimezone(dt.UTC).replace(microsecond=0),
        what_happened=_text(facts.what_happened),
        data_categories=_text(facts.data_categories),
        consequences=_text(facts.consequences),
        measures=_text(facts.measures),
        not_reported_reason=(
            _text(facts.not_reported_reason)
            if reported is None and facts.risk is Risk.NO_RISK
            else ""
        ),
        reported_at=(
            None if reported is None else reported.astimezone(dt.UTC).replace(microsecond=0)
        ),
        ico_reference=_text(facts.ico_reference) if reported is not None else "",
        delay_reason=_text(facts.delay_reason) if reported is not None else "",
        people_told_on=facts.people_told_on if told is PeopleTold.TOLD else None,
        not_told_reason=_text(facts.not_told_reason) if told is PeopleTold.NOT_TOLD else "",
    )


def _check(session: Session, facts: Facts) -> Facts:
    """The facts as they will be kept, or InvalidInput with the one sentence to show."""
    if facts.aware_at.tzinfo is None:
        raise InvalidInput("Give the time the service became aware with its time zone.")
    facts = _clean(facts)
    now = session.moment()
    if not facts.what_happened:
        raise InvalidInput("Say what happened.")
    if facts.aware_at > now + _SKEW:
        raise InvalidInput("The time the service became aware is in the future; check it.")
    for count in (facts.people_affected, facts.records_affected):
        if count is not None and count < 0:
            raise InvalidInput("A number of people or records cannot be below zero.")
    reported = facts.reported_at
    if reported is None and facts.risk is Risk.NO_RISK and not facts.not_reported_reason:
        raise InvalidInput(
            "Give the reason for not reporting it to the ICO: why the breach is unlikely to "
            "result in a risk to people."
        )
    if reported is not None:
        if reported < facts.aware_at:
            raise InvalidInput("The report to the ICO cannot come before the service knew.")
        if reported > now + _SKEW:
            raise InvalidInput("The time of the report to the ICO is in the future; check it.")
        if not facts.ico_reference:
            raise InvalidInput("Give the reference the ICO gave the report.")
        if reported > facts.deadline and not facts.delay_reason:
            raise InvalidInput(
                "The report came more than 72 hours after the service became aware: give the "
                "reasons for the delay, as the ICO asks."
            )
    if facts.people_told is PeopleTold.TOLD:
        told = facts.people_told_on
        if told is None:
            raise InvalidInput("Give the date the people affected were told.")
        if told > session.today():
            raise InvalidInput("The date the people affected were told is in the future.")
        if told < facts.aware_at.astimezone(UK).date():
            raise InvalidInput("The people affected cannot have been told before the breach.")
    if facts.people_told is PeopleTold.NOT_TOLD and not facts.not_told_reason:
        raise InvalidInput("Give the reason the people affected were not told.")
    return facts


def _dpo_only_fields(facts: Facts) -> bool:
    return (
        facts.risk is not Risk.NOT_ASSESSED
        or facts.reported_at is not None
        or facts.people_told is not PeopleTold.NOT_DECIDED
    )


def _reload(session: Session, breach_id: int) -> Breach:
    found = model.get(session.conn, breach_id)
    assert found is not None
    return found


# -- recording and changing -----------------------------------------------------------------------


def record_breach(session: Session, facts: Facts, *, source: Source = Source.RECORDED) -> Breach:
    """Enter a breach in the log; its clock runs from ``facts.aware_at``."""
    session.require(*RECORDERS)
    facts = _check(session, facts)
    if not session.has(*KEEPERS) and _dpo_only_fields(facts):
        raise InvalidInput(DPO_DECIDES)
    now = session.now()
    with transaction(session.conn):
        reference = model.next_reference(session.conn, session.today().year)
        breach_id = model.insert(session.conn, reference, source, session.user_id, now)
        version = model.add_version(
            session.conn,
            breach_id,
            facts,
            closed_at=None,
            change_reason="",
            user_id=session.user_id,
            now=now,
        )
        registers.emit_added(session.conn, "breaches", breach_id, session.user_id, now)
        registers.emit_added(session.conn, "breach_versions", version, session.user_id, now)
        audit.record(
            session.conn,
            session.user_id,
            audit.BREACH_RECORDED,
            _line(breach_id),
            f"version:{version} source={source.value}",
        )
    return _reload(session, breach_id)


def _changed(before: Facts, after: Facts) -> list[str]:
    """The names of the fields that differ (never their values)."""
    return [
        f.name
        for f in dataclasses.fields(before)
        if getattr(before, f.name) != getattr(after, f.name)
    ]


# Changing these once given moves or rewrites the clock: the change needs a reason.
_NEEDS_REASON = ("aware_at", "reported_at")


def update_breach(session: Session, breach_id: int, facts: Facts, reason: str = "") -> Breach:
    """Save what is known now as a new version (the earlier ones stay). Moving the time of
    awareness or of the report needs ``reason``."""
    session.require(*KEEPERS)
    before = _open_breach(session, breach_id)
    facts = _check(session, facts)
    changed = _changed(before.facts, facts)
    if not changed:
        return before
    moved = [
        name
        for name in _NEEDS_REASON
        if name in changed and getattr(before.facts, name) is not None
    ]
    if moved and not reason.strip():
        raise InvalidInput(
            "Say why the time is being corrected: it moves the 72-hour clock, and the earlier "
            "time stays on record."
        )
    _add_version(session, before, facts, None, reason, audit.BREACH_CHANGED, changed)
    return _reload(session, breach_id)


def close_breach(session: Session, breach_id: int, note: str = "") -> Breach:
    """Close a breach once everything the law asks is recorded."""
    session.require(*KEEPERS)
    breach = _open_breach(session, breach_id)
    facts = breach.facts
    if facts.risk is Risk.NOT_ASSESSED:
        raise InvalidInput("Assess the risk to people before closing the breach.")
    if facts.risk.must_report and facts.reported_at is None:
        raise InvalidInput(
            "This breach must be reported to the ICO: record the report and its reference "
            "before closing it."
        )
    if facts.risk is Risk.HIGH_RISK and facts.people_told is PeopleTold.NOT_DECIDED:
        raise InvalidInput(
            "The risk is high: record whether the people affected were told, and when, or why "
            "not, before closing the breach."
        )
    _add_version(session, breach, facts, session.now(), note, audit.BREACH_CLOSED, [])
    return _reload(session, breach_id)


def _add_version(
    session: Session,
    breach: Breach,
    facts: Facts,
    closed_at: str | None,
    reason: str,
    action: str,
    changed: list[str],
) -> None:
    with transaction(session.conn):
        version = model.add_version(
            session.conn,
            breach.id,
            facts,
            closed_at=closed_at,
            change_reason=reason.strip(),
            user_id=session.user_id,
            now=session.now(),
        )
        registers.emit_added(
            session.conn, "breach_versions", version, session.user_id, session.now()
        )
        detail = f"version:{version}"
        if changed:
            detail += "; changed: " + ", ".join(changed)
        audit.record(session.conn, session.user_id, action, _line(breach.id), detail)


def _open_breach(session: Session, breach_id: int) -> Breach:
    breach = get_breach(session, breach_id)
    if breach.closed:
        raise InvalidInput("This breach is closed; its record can no longer change.")
    return breach


# -- reading --------------------------------------------------------------------------------------


def get_breach(session: Session, breach_id: int) -> Breach:
    session.require(*KEEPERS)
    found = model.get(session.conn, breach_id)
    if found is None:
        raise InvalidInput("There is no such breach in the log.")
    return found


def find_breach(session: Session, reference: str) -> Breach:
    """A breach by its reference (BR-YYYY-NNNN)."""
    session.require(*KEEPERS)
    found = model.by_reference(session.conn, reference)
    if found is None:
        raise InvalidInput(f"There is no breach {reference.strip()!r} in the log.")
    return found


def breach_log(session: Session, *, include_closed: bool = True) -> list[Breach]:
    """Every breach as it stands, the most recent first."""
    session.require(*KEEPERS)
    return model.listing(session.conn, include_closed=include_closed)


def breach_history(session: Session, breach_id: int) -> list[Version]:
    """Every version of a breach, the first recorded first: what was said, by whom, and why
    it was corrected."""
    get_breach(session, breach_id)
    return model.history(session.conn, breach_id)


def overdue(session: Session) -> list[Breach]:
    """Open breaches still to be reported whose 72 hours have passed, on the session's clock."""
    session.require(*KEEPERS)
    now = session.moment()
    return [
        b
        for b in model.listing(session.conn, include_closed=False)
        if b.clock(now).state is model.ClockState.OVERDUE
    ]


# -- a lost or stolen device ----------------------------------------------------------------------


def lost_device_facts(session: Session, aware_at: dt.datetime) -> Facts:
    """A breach record for a lost or stolen laptop, filled in with what the store can say:
    the kinds of data it holds and how many people, cases and notes (counts only)."""
    session.require(*RECORDERS)
    held = model.holdings(session.conn)
    categories = (
        "Case records of a domestic abuse service: names, addresses and safe contact details, "
        "dates of birth, children and household members, alleged perpetrators, risk "
        "assessments (DASH), safety plans, case notes, consent and sharing records; special "
        "category data (health, ethnicity, sex life and sexual orientation, religion)."
    )
    consequences = (
        "If the store were opened: people at risk of domestic abuse could be found or "
        "identified, including at a confidential (refuge) address, with a risk of serious "
        "physical harm and distress."
    )
    measures = (
        "The store on the laptop is encrypted (SQLCipher, AES-256) and opens only with a "
        "user's password together with the secret held in that laptop's own keyring. "
        "Revoking the device is not available yet: it comes with team sync."
    )
    what = (
        "A laptop holding this Safecase store was reported lost or stolen. The store held "
        f"{held.cases} cases ({held.open_cases} open), {held.people} people "
        f"({held.children} of them children) and {held.notes} case notes."
    )
    return Facts(
        aware_at=aware_at,
        what_happened=what,
        data_categories=categories,
        people_affected=held.people,
        records_affected=held.cases,
        consequences=consequences,
        measures=measures,
    )


# -- what the window asks before it offers the log ----------------------------------------------


def may_keep_log(session: Session) -> bool:
    """Whether the user keeps the breach log (reads it, assesses, reports, closes)."""
    return session.has(*KEEPERS)


def may_record_breach(session: Session) -> bool:
    """Whether the user may record a breach's facts (the DPO, and an admin for a lost device)."""
    return session.has(*RECORDERS)
