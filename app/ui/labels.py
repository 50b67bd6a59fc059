"""What the windows call the records' fixed values, dates and users, all translatable.

Each label is a literal ``translate`` call, so lupdate finds every one of them.
"""

from __future__ import annotations

import datetime as dt

from app.models import risk as risk_model
from app.models.records import (
    Answer,
    CaseRole,
    CaseStatus,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    ContactMethod,
    Direction,
    GivenBy,
    LawfulBasis,
    NoteKind,
    RecipientCategory,
    RiskLevel,
    ShareApproval,
)
from app.models.users import Role
from app.ui.i18n import translate

# The categories of personal data the service holds (seeds/002), offered when a share is
# recorded. The stored value is the English key; the window shows the translation.
DATA_CATEGORIES: tuple[str, ...] = (
    "name",
    "address",
    "date of birth",
    "ethnicity",
    "gender and sexuality",
    "language and interpreter needs",
    "disabilities",
    "relationships",
    "children and vulnerable adults",
    "referral",
    "needs assessment",
    "health",
    "contacts and visits",
    "safety plan",
    "other services",
    "risks",
)


def data_category(key: str) -> str:
    labels = {
        "name": translate("labels", "Name"),
        "address": translate("labels", "Address"),
        "date of birth": translate("labels", "Date of birth"),
        "ethnicity": translate("labels", "Ethnicity"),
        "gender and sexuality": translate("labels", "Gender and sexuality"),
        "language and interpreter needs": translate("labels", "Language and interpreter needs"),
        "disabilities": translate("labels", "Disabilities"),
        "relationships": translate("labels", "Relationships"),
        "children and vulnerable adults": translate("labels", "Children and vulnerable adults"),
        "referral": translate("labels", "Referral"),
        "needs assessment": translate("labels", "Needs assessment"),
        "health": translate("labels", "Health"),
        "contacts and visits": translate("labels", "Contacts and visits"),
        "safety plan": translate("labels", "Safety plan"),
        "other services": translate("labels", "Other services"),
        "risks": translate("labels", "Risks"),
    }
    return labels.get(key, key)


def status(value: CaseStatus) -> str:
    return {
        CaseStatus.REFERRAL: translate("labels", "Referral"),
        CaseStatus.OPEN: translate("labels", "Open"),
        CaseStatus.CLOSED: translate("labels", "Closed"),
    }[value]


def risk(value: RiskLevel | None) -> str:
    if value is None:
        return translate("labels", "Not assessed")
    return {
        RiskLevel.STANDARD: translate("labels", "Standard"),
        RiskLevel.MEDIUM: translate("labels", "Medium"),
        RiskLevel.HIGH: translate("labels", "High"),
    }[value]


def outcome(value: str) -> str:
    """A closure reason or an outcome recorded at closing (the values in app/models/records.py
    that share a name, such as "same" or "not_asked", share a label too)."""
    return {
        "support_completed": translate("labels", "Support completed"),
        "client_ended": translate("labels", "Client ended support"),
        "no_contact": translate("labels", "Could not make contact"),
        "unsafe_to_contact": translate("labels", "Unsafe to contact"),
        "moved_away": translate("labels", "Moved out of the area"),
        "referred_on": translate("labels", "Referred to another service"),
        "not_eligible": translate("labels", "Not eligible for the service"),
        "client_died": translate("labels", "Client died"),
        "other": translate("labels", "Other"),
        "high": translate("labels", "High"),
        "medium": translate("labels", "Medium"),
        "standard": translate("labels", "Standard"),
        "not_assessed": translate("labels", "Not assessed"),
        "stopped": translate("labels", "Stopped"),
        "reduced": translate("labels", "Reduced"),
        "same": translate("labels", "No change"),
        "increased": translate("labels", "Increased"),
        "safer": translate("labels", "Feels safer"),
        "less_safe": translate("labels", "Feels less safe"),
        "improved": translate("labels", "Improved"),
        "worse": translate("labels", "Worse"),
        "engaged": translate("labels", "Engaged"),
        "partly": translate("labels", "Partly engaged"),
        "not_engaged": translate("labels", "Did not engage"),
        "not_recorded": translate("labels", "Not recorded"),
        "not_asked": translate("labels", "Not asked"),
        "declined": translate("labels", "Declined to say"),
    }[str(value)]


def case_role(value: CaseRole) -> str:
    return {
        CaseRole.CLIENT: translate("labels", "Client"),
        CaseRole.ALLEGED_PERPETRATOR: translate("labels", "Alleged perpetrator"),
        CaseRole.CHILD: translate("labels", "Child"),
        CaseRole.HOUSEHOLD_MEMBER: translate("labels", "Household member"),
        CaseRole.PROFESSIONAL: translate("labels", "Professional"),
    }[value]


def consent_state(value: ConsentState) -> str:
    return {
        ConsentState.GIVEN: translate("labels", "Given"),
        ConsentState.REFUSED: translate("labels", "Refused"),
        ConsentState.WITHDRAWN: translate("labels", "Withdrawn"),
        ConsentState.NOT_ASKED: translate("labels", "Not asked"),
    }[value]


def consent_purpose(value: ConsentPurpose) -> str:
    return {
        ConsentPurpose.SUPPORT: translate("labels", "Support from the service"),
        ConsentPurpose.SHARING: translate("labels", "Sharing"),
        ConsentPurpose.PHOTOS: translate("labels", "Photos"),
        ConsentPurpose.CONTACT: translate("labels", "A way of contact"),
    }[value]


def recipient(value: RecipientCategory) -> str:
    return {
        RecipientCategory.POLICE: translate("labels", "Police"),
        RecipientCategory.GP: translate("labels", "GP"),
        RecipientCategory.HEALTH: translate("labels", "Health"),
        RecipientCategory.CHILDRENS_SOCIAL_CARE: translate("labels", "Children's social care"),
        RecipientCategory.ADULT_SOCIAL_CARE: translate("labels", "Adult social care"),
        RecipientCategory.HOUSING: translate("labels", "Housing"),
        RecipientCategory.COURTS: translate("labels", "Courts"),
        RecipientCategory.MARAC: translate("labels", "MARAC"),
        RecipientCategory.OTHER_AGENCY: translate("labels", "Other agency"),
    }[value]


def contact_method(value: ContactMethod) -> str:
    return {
        ContactMethod.PHONE: translate("labels", "Phone call"),
        ContactMethod.TEXT: translate("labels", "Text message"),
        ContactMethod.VOICEMAIL: translate("labels", "Voicemail"),
        ContactMethod.LETTER: translate("labels", "Letter"),
        ContactMethod.EMAIL: translate("labels", "E-mail"),
        ContactMethod.VISIT: translate("labels", "Visit"),
    }[value]


def consent_target(purpose: ConsentPurpose, target: str) -> str:
    """Who or what a consent is for, in words."""
    if purpose is ConsentPurpose.SHARING:
        try:
            return recipient(RecipientCategory(target))
        except ValueError:
            return target
    if purpose is ConsentPurpose.CONTACT:
        try:
            return contact_method(ContactMethod(target))
        except ValueError:
            return target
    return ""


def consent_how(value: ConsentHow | None) -> str:
    if value is None:
        return ""
    return {
        ConsentHow.VERBAL: translate("labels", "Verbally"),
        ConsentHow.WRITTEN: translate("labels", "In writing"),
    }[value]


def given_by(value: GivenBy) -> str:
    return {
        GivenBy.PERSON: translate("labels", "The person"),
        GivenBy.PARENT_OR_CARER: translate("labels", "A parent or carer"),
    }[value]


def direction(value: Direction) -> str:
    return {
        Direction.OUT: translate("labels", "Out"),
        Direction.IN: translate("labels", "In"),
    }[value]


def lawful_basis(value: LawfulBasis) -> str:
    return {
        LawfulBasis.CONSENT: translate("labels", "Consent"),
        LawfulBasis.PUBLIC_TASK: translate("labels", "Public task"),
        LawfulBasis.VITAL_INTERESTS: translate("labels", "Vital interests"),
        LawfulBasis.LEGAL_OBLIGATION: translate("labels", "Legal obligation"),
        LawfulBasis.CRIME_PREVENTION: translate("labels", "Crime prevention"),
        LawfulBasis.COURT_ORDER: translate("labels", "Court order"),
        LawfulBasis.SAFEGUARDING: translate("labels", "Safeguarding"),
    }[value]


def approval(value: ShareApproval) -> str:
    return {
        ShareApproval.NOT_NEEDED: translate("labels", "With consent"),
        ShareApproval.APPROVED: translate("labels", "Decided with a manager"),
        ShareApproval.AWAITING_REVIEW: translate("labels", "Awaiting a manager's review"),
        ShareApproval.NOT_APPROVED: translate("labels", "Not approved on review"),
    }[value]


def note_kind(value: NoteKind) -> str:
    return {
        NoteKind.NOTE: translate("labels", "Note"),
        NoteKind.VISIT: translate("labels", "Visit"),
        NoteKind.CALL: translate("labels", "Call"),
        NoteKind.MEETING: translate("labels", "Meeting"),
        NoteKind.MESSAGE: translate("labels", "Message"),
        NoteKind.RECTIFICATION_REFUSED: translate("labels", "Rectification refused"),
        NoteKind.ERASURE_REFUSED: translate("labels", "Erasure refused"),
    }[value]


def answer(value: Answer) -> str:
    return {
        Answer.YES: translate("labels", "Yes"),
        Answer.NO: translate("labels", "No"),
        Answer.DONT_KNOW: translate("labels", "Don't know"),
    }[value]


def role(value: Role) -> str:
    return {
        Role.CASEWORKER: translate("labels", "Caseworker"),
        Role.MANAGER: translate("labels", "Manager"),
        Role.ADMIN: translate("labels", "Admin"),
        Role.DPO: translate("labels", "Data protection officer"),
    }[value]


def roles(values: frozenset[Role]) -> str:
    order = (Role.CASEWORKER, Role.MANAGER, Role.ADMIN, Role.DPO)
    return ", ".join(role(r) for r in order if r in values)


def marac_reason(reason: str) -> str:
    """The services' MARAC reasons (app/models/risk.py), in words."""
    labels = {
        risk_model.REASON_SCORE: translate("labels", "Score of 14 or more"),
        risk_model.REASON_JUDGEMENT: translate("labels", "Professional judgement"),
        risk_model.REASON_ESCALATION: translate(
            "labels", "Potential escalation: 3 or more police call-outs in 12 months"
        ),
        risk_model.REASON_REPEAT: translate(
            "labels", "Repeat: an incident within 12 months of the last MARAC referral"
        ),
    }
    return labels.get(reason, reason)


def yes_no(value: bool) -> str:
    return translate("labels", "Yes") if value else translate("labels", "No")


def date(value: dt.date | None) -> str:
    """A date as people in the UK write it: 7 Mar 2026."""
    if value is None:
        return ""
    return f"{value.day} {_MONTHS[value.month - 1]()} {value.year}"


_MONTHS = (
    lambda: translate("labels", "Jan"),
    lambda: translate("labels", "Feb"),
    lambda: translate("labels", "Mar"),
    lambda: translate("labels", "Apr"),
    lambda: translate("labels", "May"),
    lambda: translate("labels", "Jun"),
    lambda: translate("labels", "Jul"),
    lambda: translate("labels", "Aug"),
    lambda: translate("labels", "Sep"),
    lambda: translate("labels", "Oct"),
    lambda: translate("labels", "Nov"),
    lambda: translate("labels", "Dec"),
)


def moment(stamp: str) -> str:
    """A stored UTC time stamp, in local time, as 7 Mar 2026 14:05."""
    if not stamp:
        return ""
    try:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if when.tzinfo is not None:
        when = when.astimezone()
    return f"{date(when.date())} {when:%H:%M}"


def user(names: dict[int, str], user_id: int | None) -> str:
    """A user's name when this window knows it, otherwise their id."""
    if user_id is None:
        return translate("labels", "Safecase")
    return names.get(user_id) or translate("labels", "user {id}").format(id=user_id)
