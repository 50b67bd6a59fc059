"""The categories a service records about a person, the other agencies on a case, its court
dates, protective orders and bail conditions, and the "This week" list of what falls due.

Each change checks the role and the case, and writes its audit entry (no personal detail in
it: the entry names the record and what kind of thing changed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from dataclasses import dataclass
from typing import TypeVar

from app.errors import InvalidInput
from app.models import cases as case_model
from app.models import categories as model
from app.models import due as due_model
from app.models import people as people_model
from app.models import rights as rights_model
from app.models.categories import (
    Agency,
    ChildDetails,
    LegalItem,
    LegalKind,
    PersonCategories,
    ReferralSource,
)
from app.models.db import transaction
from app.models.records import CaseRole
from app.models.users import Role
from app.services import access, audit, rights, sharing
from app.services.session import Session
from app.sync import ops

WEEK = dt.timedelta(days=7)


def may_record(session: Session) -> bool:
    """Whether the user records categories, agencies and legal dates (case workers)."""
    return access.may_work_on_cases(session)


# -- a person's categories ----------------------------------------------------------------------


def person_categories(session: Session, person_id: int) -> PersonCategories:
    access.require_person(session, person_id)
    return model.get(session.conn, person_id)


def set_person_categories(session: Session, person_id: int, values: PersonCategories) -> None:
    """Record the person's categories (any may stay "not asked" or be "declined")."""
    access.require_person(session, person_id)
    access.refuse_if_restricted(session, [person_id])
    if values.disability_type and values.disability is not model.Answer.YES:
        raise InvalidInput("A type of disability goes with the answer Yes to disability.")
    with transaction(session.conn):
        model.put(session.conn, person_id, values, session.user_id, session.now())
        cases_on = sorted(people_model.case_ids(session.conn, person_id))
        if cases_on:  # a person on no case has nothing to travel with
            ops.emit_row(
                session.conn,
                "person_categories",
                cases_on[0],
                session.user_id,
                session.now(),
                person_id=person_id,
            )
        audit.record(
            session.conn,
            session.user_id,
            audit.PERSON_CHANGED,
            f"person:{person_id}",
            "categories",
        )


def category_counts(session: Session, category: str) -> dict[str, int]:
    """How many clients of the cases the user may open have each value of ``category`` (a
    field of PersonCategories with a fixed list of values)."""
    session.require(*access.CASE_ROLES)
    where, params = access.condition(session)
    try:
        return model.count_by(session.conn, category, where, params)
    except ValueError:
        raise InvalidInput("That category has no fixed list of values to count.") from None


# -- the case's agencies and legal dates ---------------------------------------------------------


def agencies(session: Session, case_id: int) -> list[Agency]:
    access.require_case(session, case_id)
    return model.agencies(session.conn, case_id)


def add_agency(session: Session, case_id: int, agency: Agency) -> int:
    """Record another agency involved with the case, with a contact there."""
    _check_agency(session, case_id, agency)
    with transaction(session.conn):
        agency_id = model.add_agency(session.conn, case_id, agency, session.user_id, session.now())
        _travel(session, "case_agencies", case_id, agency_id)
        audit.record(
            session.conn, session.user_id, audit.CASE_CHANGED, f"case:{case_id}", "agency added"
        )
    return agency_id


def legal_items(session: Session, case_id: int) -> list[LegalItem]:
    access.require_case(session, case_id)
    return model.legal_items(session.conn, case_id)


def add_legal_item(session: Session, case_id: int, item: LegalItem) -> int:
    """Record a court date, a protective order or bail conditions on the case."""
    _check_legal_item(session, case_id, item)
    with transaction(session.conn):
        item_id = model.add_legal_item(session.conn, case_id, item, session.user_id, session.now())
        _travel(session, "case_legal", case_id, item_id)
        audit.record(
            session.conn,
            session.user_id,
            audit.CASE_CHANGED,
            f"case:{case_id}",
            f"{item.kind.value} added",
        )
    return item_id


def _travel(
    session: Session, table: str, case_id: int, row_id: int, *, removed: bool = False
) -> None:
    """The case's agency or legal entry as it now stands (or its removal) goes to the team."""
    ops.emit_row(
        session.conn, table, case_id, session.user_id, session.now(), row_id=row_id, removed=removed
    )


def _check_open_case(session: Session, case_id: int) -> None:
    """Entries change on an open case whose client is not restricted (as when added)."""
    access.require_open_case(session, case_id)
    access.refuse_if_client_restricted(session, case_id)


def _check_agency(session: Session, case_id: int, agency: Agency) -> None:
    _check_open_case(session, case_id)
    if not (agency.name.strip() or agency.contact.strip()):
        raise InvalidInput("Give the agency's name or a contact there.")


def _check_legal_item(session: Session, case_id: int, item: LegalItem) -> None:
    _check_open_case(session, case_id)
    if item.ends_on is not None and item.ends_on < item.starts_on:
        raise InvalidInput("The end date is before the start date.")
    if item.kind is LegalKind.COURT_DATE and item.ends_on is not None:
        raise InvalidInput("A court date has one date; give the hearing date only.")
    if item.kind is LegalKind.BAIL_CONDITIONS and not item.conditions.strip():
        raise InvalidInput("Write down the bail conditions.")


_E = TypeVar("_E", Agency, LegalItem)
_GONE = "That entry is no longer on the case. Open the case again to see it as it is now."


def _entry(entries: list[_E], entry_id: int) -> _E:
    found = next((e for e in entries if e.id == entry_id), None)
    if found is None:
        raise InvalidInput(_GONE)
    return found


def _changed_fields(before: Agency | LegalItem, after: Agency | LegalItem) -> str:
    """The names of the fields that differ (never their values), for the audit entry."""
    names = [
        f.name
        for f in dataclasses.fields(before)
        if f.name != "id" and getattr(before, f.name) != getattr(after, f.name)
    ]
    return ", ".join(names)


def _audit_entry(
    session: Session, action: str, case_id: int, entry: str, fields: str | None = None
) -> None:
    detail = entry if fields is None else f"{entry}; changed: {fields}"
    audit.record(session.conn, session.user_id, action, f"case:{case_id}", detail)


def update_agency(session: Session, case_id: int, agency: Agency) -> None:
    """Correct the agency entry with ``agency.id`` on the case (a wrong agency or contact)."""
    _check_agency(session, case_id, agency)
    before = _entry(model.agencies(session.conn, case_id), agency.id)
    fields = _changed_fields(before, agency)
    if not fields:
        return
    with transaction(session.conn):
        if not model.update_agency(session.conn, case_id, agency, session.user_id, session.now()):
            raise InvalidInput(_GONE)
        _travel(session, "case_agencies", case_id, agency.id)
        _audit_entry(session, audit.AGENCY_CHANGED, case_id, f"agency:{agency.id}", fields)


def remove_agency(session: Session, case_id: int, agency_id: int) -> None:
    """Take an agency entry added by mistake off the case (its text is overwritten on disk)."""
    _check_open_case(session, case_id)
    with transaction(session.conn):
        if agency_id in {a.id for a in model.agencies(session.conn, case_id)}:
            _travel(session, "case_agencies", case_id, agency_id, removed=True)
        if not model.remove_agency(session.conn, case_id, agency_id):
            raise InvalidInput(_GONE)
        _audit_entry(session, audit.AGENCY_REMOVED, case_id, f"agency:{agency_id}")


def update_legal_item(session: Session, case_id: int, item: LegalItem) -> None:
    """Correct the court date, order or bail entry with ``item.id`` on the case."""
    _check_legal_item(session, case_id, item)
    before = _entry(model.legal_items(session.conn, case_id), item.id)
    fields = _changed_fields(before, item)
    if not fields:
        return
    with transaction(session.conn):
        if not model.update_legal_item(session.conn, case_id, item, session.user_id, session.now()):
            raise InvalidInput(_GONE)
        _travel(session, "case_legal", case_id, item.id)
        _audit_entry(session, audit.LEGAL_CHANGED, case_id, f"legal:{item.id}", fields)


def remove_legal_item(session: Session, case_id: int, item_id: int) -> None:
    """Take a legal entry made by mistake off the case (its text is overwritten on disk)."""
    _check_open_case(session, case_id)
    with transaction(session.conn):
        if item_id in {i.id for i in model.legal_items(session.conn, case_id)}:
            _travel(session, "case_legal", case_id, item_id, removed=True)
        if not model.remove_legal_item(session.conn, case_id, item_id):
            raise InvalidInput(_GONE)
        _audit_entry(session, audit.LEGAL_REMOVED, case_id, f"legal:{item_id}")


def referral_source(session: Session, case_id: int) -> ReferralSource | None:
    access.require_case(session, case_id)
    return model.referral_source(session.conn, case_id)


def set_referral_source(session: Session, case_id: int, source: ReferralSource) -> None:
    """Record where the referral came from: the kind of agency and who referred."""
    access.require_open_case(session, case_id)
    access.refuse_if_client_restricted(session, case_id)
    with transaction(session.conn):
        model.put_referral_source(session.conn, case_id, source, session.user_id, session.now())
        ops.emit_row(session.conn, "case_referral_sources", case_id, session.user_id, session.now())
        audit.record(
            session.conn,
            session.user_id,
            audit.CASE_CHANGED,
            f"case:{case_id}",
            "referral source",
        )


def children(session: Session, case_id: int) -> list[ChildDetails]:
    access.require_case(session, case_id)
    return model.children(session.conn, case_id)


def set_child(session: Session, case_id: int, child: ChildDetails) -> None:
    """Record a child's school, child-protection status and who they live with."""
    access.require_open_case(session, case_id)
    if CaseRole.CHILD not in {
        m.role for m in case_model.members(session.conn, case_id) if m.person.id == child.person_id
    }:
        raise InvalidInput("That person is not a child on this case.")
    access.refuse_if_restricted(session, [child.person_id])
    with transaction(session.conn):
        model.put_child(session.conn, case_id, child, session.user_id, session.now())
        ops.emit_row(
            session.conn,
            "case_children",
            case_id,
            session.user_id,
            session.now(),
            person_id=child.person_id,
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.PERSON_CHANGED,
            f"person:{child.person_id}",
            f"case:{case_id} child details",
        )


# -- This week ----------------------------------------------------------------------------------


class DueKind(enum.StrEnum):
    CASE_REVIEW = "case_review"
    MARAC_MEETING = "marac_meeting"
    MARAC_ACTION = "marac_action"
    COURT_DATE = "court_date"
    ORDER_ENDS = "order_ends"
    BAIL_ENDS = "bail_ends"
    CONSENT_REVIEW = "consent_review"
    SHARE_REVIEW = "share_review"
    RIGHTS_REQUEST = "rights_request"


@dataclass(frozen=True)
class DueItem:
    kind: DueKind
    due_on: dt.date
    overdue: bool
    reference: str  # the case's, or the rights request's
    case_id: int | None = None  # None: a register entry (rights request)
    detail: str = ""  # a fixed value the UI translates (a purpose, an order type, a right)


def may_see_this_week(session: Session) -> bool:
    """Whether the user has a "This week" list (case workers, managers, the DPO)."""
    return access.may_work_on_cases(session) or rights.may_read_register(session)


def this_week(session: Session) -> list[DueItem]:
    """What is due for the user from today to seven days on, anything overdue first (oldest
    first), then by date: for a caseworker their cases, for a manager the team's."""
    session.require(Role.CASEWORKER, Role.MANAGER, Role.DPO)
    today = session.today()
    until = today + WEEK
    items: list[DueItem] = []

    def add(kind: DueKind, rows: list[tuple[int, str, dt.date, str]]) -> None:
        for case_id, reference, day, detail in rows:
            items.append(DueItem(kind, day, day < today, reference, case_id, detail))

    if access.may_work_on_cases(session):
        where, params = access.condition(session)
        conn = session.conn
        add(DueKind.CASE_REVIEW, due_model.case_reviews(conn, until, where, params))
        add(DueKind.MARAC_MEETING, due_model.marac_meetings(conn, today, until, where, params))
        add(DueKind.CONSENT_REVIEW, due_model.consent_reviews(conn, until, where, params))
        add(DueKind.MARAC_ACTION, due_model.marac_actions(conn, until, where, params))
        for case_id, reference, item in model.legal_due(conn, until, where, params):
            if item.kind is LegalKind.COURT_DATE:
                if item.starts_on >= today:
                    items.append(
                        DueItem(DueKind.COURT_DATE, item.starts_on, False, reference, case_id)
                    )
            elif item.ends_on is not None and item.ends_on >= today:
                kind = (
                    DueKind.ORDER_ENDS
                    if item.kind is LegalKind.PROTECTIVE_ORDER
                    else DueKind.BAIL_ENDS
                )
                items.append(
                    DueItem(kind, item.ends_on, False, reference, case_id, item.order_type.value)
                )
    if sharing.may_review(session):
        for share in sharing.awaiting_review(session):
            day = dt.date.fromisoformat(share.share.review_due[:10])
            if share.overdue or day <= until:
                items.append(
                    DueItem(
                        DueKind.SHARE_REVIEW,
                        day,
                        share.overdue,
                        share.reference,
                        share.share.record.case_id,
                    )
                )
    if rights.may_read_register(session):
        for request in rights_model.due_between(session.conn, None, until):
            deadline = request.deadline
            if deadline is not None:
                items.append(
                    DueItem(
                        DueKind.RIGHTS_REQUEST,
                        deadline,
                        deadline < today,
                        request.reference,
                        None,
                        request.kind.value,
                    )
                )
    return sorted(items, key=lambda i: (not i.overdue, i.due_on, i.reference, i.kind.value))
