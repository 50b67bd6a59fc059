"""The sharing log: every disclosure in or out, and the consent rule for outgoing shares.

Sharing a person's data with a recipient they have not consented to (refused, withdrawn or
not asked) needs a lawful basis other than consent and a reason. A manager decides it; a
caseworker records the manager they decided it with, or the share is flagged for a manager's
review within 48 hours. Nothing in the log is ever changed: reviews are added beside it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Collection, Mapping

from app.errors import InvalidInput
from app.models import cases as case_model
from app.models import consent as consent_model
from app.models import sharing as share_model
from app.models import users as user_model
from app.models.db import transaction
from app.models.records import (
    CaseRole,
    ConsentPurpose,
    ConsentState,
    Direction,
    LawfulBasis,
    Share,
    ShareApproval,
    ShareRecord,
    ShareToReview,
)
from app.models.users import Role
from app.services import access, audit
from app.services.session import Session, moment_of
from app.sync import ops

REVIEW_WITHIN = dt.timedelta(hours=48)
# Whose consent a share needs: everyone on the case but professionals acting in their role.
SUBJECT_ROLES = {
    CaseRole.CLIENT,
    CaseRole.CHILD,
    CaseRole.HOUSEHOLD_MEMBER,
    CaseRole.ALLEGED_PERPETRATOR,
}


def parse_when(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("Give the date and time of the share as YYYY-MM-DD HH:MM.") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _check(record: ShareRecord, now: dt.datetime) -> None:
    if not record.organisation.strip():
        raise InvalidInput("Name the organisation the data went to or came from.")
    if not record.data_categories:
        raise InvalidInput("Say which categories of data were shared.")
    if not record.purpose.strip():
        raise InvalidInput("Say what the data was shared for.")
    if not record.person_ids:
        raise InvalidInput("Say which people the shared data was about.")
    if record.lawful_basis is LawfulBasis.COURT_ORDER and not record.court_reference.strip():
        raise InvalidInput("Give the court order's reference.")
    if not record.person_told and not record.not_told_reason.strip():
        raise InvalidInput("Say why the person was not told about the share.")
    if parse_when(record.shared_at) > now + dt.timedelta(minutes=5):
        raise InvalidInput("The share's date is in the future; check it.")


MIN_REASON_WITHOUT_CONSENT = 10


def lawful_bases(direction: Direction, gaps: Mapping[int, ConsentState]) -> tuple[LawfulBasis, ...]:
    """The lawful bases a share may rest on: consent only when everyone on an outgoing share
    has given it (``gaps`` from :func:`consent_gaps`)."""
    if direction is Direction.OUT and gaps:
        return tuple(b for b in LawfulBasis if b is not LawfulBasis.CONSENT)
    return tuple(LawfulBasis)


def consent_gaps(session: Session, record: ShareRecord) -> dict[int, ConsentState]:
    """The people on this share whose consent to ``recipient`` is not given, with its state
    (the record-a-share dialog shows it before anything is recorded)."""
    access.require_case(session, record.case_id)
    roles: dict[int, set[CaseRole]] = {}
    for member in case_model.members(session.conn, record.case_id):
        roles.setdefault(member.person.id, set()).add(member.role)
    gaps: dict[int, ConsentState] = {}
    for person_id in record.person_ids:
        if person_id not in roles:
            raise InvalidInput("Everyone on a share must be on its case.")
        if not roles[person_id] & SUBJECT_ROLES:
            continue
        state = consent_model.state_for(
            session.conn, person_id, ConsentPurpose.SHARING, record.recipient_category.value
        )
        if state is not ConsentState.GIVEN:
            gaps[person_id] = state
    return gaps


def record_share(
    session: Session,
    record: ShareRecord,
    *,
    with_share: Callable[[int], None] | None = None,
    restriction_overridden: Collection[int] = (),
) -> Share:
    """Add a disclosure to the log; returns it as recorded (with its approval state).

    ``with_share`` is more work for the same transaction, given the new share's id (a MARAC
    referral keeps the form it sent beside its share): if it fails, nothing is recorded.
    While the case's client, or anyone whose data goes out, is restricted, the share is
    refused, except for those in ``restriction_overridden``: people a manager's override
    (which ``with_share`` records) lets out on an Art. 18(2) ground."""
    access.require_open_case(session, record.case_id)
    watched = set(case_model.client_ids(session.conn, record.case_id))
    if record.direction is Direction.OUT:
        watched |= set(record.person_ids)
    access.refuse_if_restricted(session, sorted(watched - set(restriction_overridden)))
    _check(record, session.moment())
    approval, review_due = ShareApproval.NOT_NEEDED, ""
    if record.direction is Direction.OUT:
        gaps = consent_gaps(session, record)
        if gaps:
            states = ", ".join(sorted({s.value.replace("_", " ") for s in gaps.values()}))
            if record.lawful_basis not in lawful_bases(record.direction, gaps):
                raise InvalidInput(
                    f"Consent to share with this recipient is {states} for someone on this "
                    "share: choose another lawful basis and give the reason, or do not share."
                )
            if len(record.reason.strip()) < MIN_REASON_WITHOUT_CONSENT:
                raise InvalidInput("Give the reason for sharing without consent.")
            approval, review_due = _approval(session, record)
    now = session.now()
    with transaction(session.conn):
        share_id = share_model.insert(
            session.conn, record, approval, review_due, session.user_id, now
        )
        ops.emit_record(
            session.conn, "share.recorded", share_id, record.case_id, session.user_id, now
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.SHARE_RECORDED,
            f"case:{record.case_id}",
            f"share:{share_id} {record.direction.value} {record.recipient_category.value} "
            f"basis={record.lawful_basis.value} approval={approval.value}",
        )
        if with_share is not None:
            with_share(share_id)
    share = share_model.get(session.conn, share_id)
    assert share is not None
    return share


def _approval(session: Session, record: ShareRecord) -> tuple[ShareApproval, str]:
    if Role.MANAGER in session.roles:
        return ShareApproval.APPROVED, ""
    if record.consulted_manager_id is not None:
        manager = user_model.by_id(session.conn, record.consulted_manager_id)
        if manager is None or Role.MANAGER not in manager.roles or manager.disabled:
            raise InvalidInput("The person you decided this with must be an enabled manager.")
        return ShareApproval.APPROVED, ""
    due = session.moment() + REVIEW_WITHIN
    return ShareApproval.AWAITING_REVIEW, due.strftime("%Y-%m-%dT%H:%M:%SZ")


def review_share(session: Session, share_id: int, approve: bool, note: str) -> None:
    """A manager's review of a share made without consent and without a manager."""
    session.require(Role.MANAGER)
    share = share_model.get(session.conn, share_id)
    if share is None:
        raise InvalidInput("There is no such share.")
    access.require_case(session, share.record.case_id)
    if share.approval is not ShareApproval.AWAITING_REVIEW:
        raise InvalidInput("That share is not waiting for a review.")
    if not approve and not note.strip():
        raise InvalidInput("Say what should happen now the share is not approved.")
    outcome = ShareApproval.APPROVED if approve else ShareApproval.NOT_APPROVED
    with transaction(session.conn):
        review_id = share_model.add_review(
            session.conn, share_id, outcome, note.strip(), session.user_id, session.now()
        )
        ops.emit_row(
            session.conn,
            "share_reviews",
            share.record.case_id,
            session.user_id,
            session.now(),
            row_id=review_id,
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.SHARE_REVIEWED,
            f"case:{share.record.case_id}",
            f"share:{share_id} {outcome.value}",
        )


def awaiting_review(session: Session) -> list[ShareToReview]:
    """Shares made without consent that still wait for a manager, soonest due first, with
    their case's reference and who recorded them."""
    session.require(Role.MANAGER)
    where, params = access.condition(session)
    now = session.moment()
    return [
        dataclasses.replace(item, overdue=moment_of(item.share.review_due) < now)
        for item in share_model.awaiting_review(session.conn, where, params)
    ]


def shares(session: Session, case_id: int) -> list[Share]:
    access.require_case(session, case_id)
    return share_model.for_case(session.conn, case_id)


def may_review(session: Session) -> bool:
    """Whether the user reviews shares made without consent (:func:`awaiting_review`)."""
    return session.has(Role.MANAGER)
