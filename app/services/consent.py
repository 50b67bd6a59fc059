"""Consent: per person, purpose and recipient; every decision kept, the newest in force."""

from __future__ import annotations

import datetime as dt

from app.errors import InvalidInput
from app.models import cases as case_model
from app.models import consent as consent_model
from app.models import people as people_model
from app.models.db import transaction
from app.models.records import (
    Consent,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    ContactMethod,
    GivenBy,
    RecipientCategory,
)
from app.services import access, audit
from app.services.session import Session
from app.sync import ops

CHILD_CONSENT_AGE = 13


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _check_target(purpose: ConsentPurpose, target: str) -> str:
    if purpose is ConsentPurpose.SHARING:
        try:
            return RecipientCategory(target).value
        except ValueError:
            raise InvalidInput("Choose who the consent to share is for.") from None
    if purpose is ConsentPurpose.CONTACT:
        try:
            return ContactMethod(target).value
        except ValueError:
            raise InvalidInput("Choose the way of contact the consent is for.") from None
    return ""


def record_consent(
    session: Session,
    case_id: int,
    person_id: int,
    purpose: ConsentPurpose,
    target: str,
    state: ConsentState,
    *,
    decided_on: dt.date,
    how: ConsentHow | None,
    given_by: GivenBy = GivenBy.PERSON,
    review_date: dt.date | None = None,
    note: str = "",
) -> int:
    """Record a consent decision (given, refused, withdrawn or not asked) for a person on a
    case; an earlier decision stays in the history."""
    access.require_open_case(session, case_id)
    if person_id not in {m.person.id for m in case_model.members(session.conn, case_id)}:
        raise InvalidInput("That person is not on this case.")
    access.refuse_if_restricted(session, [person_id])
    target_value = _check_target(purpose, target)
    if decided_on > session.today():
        raise InvalidInput("The date of the decision is in the future; check it.")
    if review_date is not None and review_date <= decided_on:
        raise InvalidInput("The review date must come after the decision.")
    if state in (ConsentState.GIVEN, ConsentState.REFUSED, ConsentState.WITHDRAWN) and how is None:
        raise InvalidInput("Say how the decision was given: verbally or in writing.")
    person = people_model.get(session.conn, person_id)
    born = person.details.date_of_birth if person else None
    if (
        state is ConsentState.GIVEN
        and given_by is GivenBy.PERSON
        and born is not None
        and age_on(born, decided_on) < CHILD_CONSENT_AGE
    ):
        raise InvalidInput(
            "A child under 13 cannot give this consent themselves; record it as given by a "
            "parent or carer."
        )
    decision = Consent(
        id=0,
        person_id=person_id,
        purpose=purpose,
        target=target_value,
        state=state,
        decided_on=decided_on,
        how=how,
        given_by=given_by,
        recorded_by=session.user_id,
        recorded_at=session.now(),
        review_date=review_date,
        note=note.strip(),
    )
    with transaction(session.conn):
        consent_id = consent_model.insert(session.conn, decision)
        ops.emit_record(
            session.conn, "consent.recorded", consent_id, case_id, session.user_id, session.now()
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.CONSENT_RECORDED,
            f"person:{person_id}",
            f"case:{case_id} purpose={purpose.value} target={target_value} state={state.value}",
        )
    return consent_id


def current(session: Session, case_id: int, person_id: int) -> list[Consent]:
    access.require_case(session, case_id)
    return consent_model.current(session.conn, person_id)


def history(session: Session, case_id: int, person_id: int) -> list[Consent]:
    """Every decision recorded for the person, oldest first (withdrawals keep the history)."""
    access.require_case(session, case_id)
    return consent_model.history(session.conn, person_id)


def sharing_state(
    session: Session, case_id: int, person_id: int, recipient: RecipientCategory
) -> ConsentState:
    """The consent in force for sharing this person's data with ``recipient``."""
    access.require_case(session, case_id)
    return consent_model.state_for(session.conn, person_id, ConsentPurpose.SHARING, recipient.value)
