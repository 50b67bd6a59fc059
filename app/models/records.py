"""The records Safecase keeps: people, cases, safe contact, consent, sharing, notes and risk.

Plain dataclasses and the fixed vocabularies they use. Values are stored as the enum's string.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class CaseRole(enum.StrEnum):
    CLIENT = "client"
    ALLEGED_PERPETRATOR = "alleged_perpetrator"
    CHILD = "child"
    HOUSEHOLD_MEMBER = "household_member"
    PROFESSIONAL = "professional"


class CaseStatus(enum.StrEnum):
    REFERRAL = "referral"
    OPEN = "open"
    CLOSED = "closed"


class RiskLevel(enum.StrEnum):
    STANDARD = "standard"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return (RiskLevel.STANDARD, RiskLevel.MEDIUM, RiskLevel.HIGH).index(self)


class ConsentState(enum.StrEnum):
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    NOT_ASKED = "not_asked"


class ConsentPurpose(enum.StrEnum):
    SUPPORT = "support"  # support from the service itself
    SHARING = "sharing"  # sharing with a recipient category
    PHOTOS = "photos"
    CONTACT = "contact"  # a way of contacting the person


class RecipientCategory(enum.StrEnum):
    POLICE = "police"
    GP = "gp"
    HEALTH = "health"
    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    ADULT_SOCIAL_CARE = "adult_social_care"
    HOUSING = "housing"
    COURTS = "courts"
    MARAC = "marac"
    OTHER_AGENCY = "other_agency"


class ContactMethod(enum.StrEnum):
    PHONE = "phone"
    TEXT = "text"
    VOICEMAIL = "voicemail"
    LETTER = "letter"
    EMAIL = "email"
    VISIT = "visit"


class ConsentHow(enum.StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"


class GivenBy(enum.StrEnum):
    PERSON = "person"
    PARENT_OR_CARER = "parent_or_carer"


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


class LawfulBasis(enum.StrEnum):
    CONSENT = "consent"
    PUBLIC_TASK = "public_task"
    VITAL_INTERESTS = "vital_interests"
    LEGAL_OBLIGATION = "legal_obligation"
    CRIME_PREVENTION = "crime_prevention"
    COURT_ORDER = "court_order"
    SAFEGUARDING = "safeguarding"


class ShareApproval(enum.StrEnum):
    NOT_NEEDED = "not_needed"  # shared with consent
    APPROVED = "approved"  # decided with a manager
    AWAITING_REVIEW = "awaiting_review"  # no manager available: review within 48 hours
    NOT_APPROVED = "not_approved"  # the manager's review disagreed (the share stands recorded)


class NoteKind(enum.StrEnum):
    NOTE = "note"
    VISIT = "visit"
    CALL = "call"
    MEETING = "meeting"
    MESSAGE = "message"
    RECTIFICATION_REFUSED = "rectification_refused"
    ERASURE_REFUSED = "erasure_refused"


class Answer(enum.StrEnum):
    YES = "yes"
    NO = "no"
    DONT_KNOW = "dont_know"


@dataclass(frozen=True)
class PersonDetails:
    """What is recorded about a person; every field but the name may be empty."""

    given_name: str
    family_name: str
    aliases: tuple[str, ...] = ()
    date_of_birth: dt.date | None = None
    gender: str = ""
    sexuality: str = ""
    ethnicity: str = ""
    language: str = ""
    interpreter_needed: bool = False
    disabilities: str = ""
    address: str = ""
    postcode: str = ""
    address_confidential: bool = False
    phones: tuple[str, ...] = ()
    email: str = ""
    health_notes: str = ""
    organisation: str = ""  # for professionals
    job_title: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


@dataclass(frozen=True)
class Person:
    id: int
    details: PersonDetails
    restricted: bool = False
    restriction_reason: str = ""

    @property
    def name(self) -> str:
        return self.details.full_name


@dataclass(frozen=True)
class CaseDetails:
    referral_date: dt.date
    referral_source: str = ""
    referrer_id: int | None = None  # a professional
    other_services: str = ""
    needs_assessment: str = ""
    safety_plan: str = ""
    next_review: dt.date | None = None


@dataclass(frozen=True)
class Case:
    id: int
    reference: str
    status: CaseStatus
    details: CaseDetails
    allocated_user_id: int | None
    team_id: int
    opened_date: dt.date | None
    closed_date: dt.date | None
    closed_reason: str
    risk_level: RiskLevel | None
    marac_referral_date: dt.date | None
    marac_meeting_date: dt.date | None
    legal_hold_reason: str
    legal_hold_review: dt.date | None

    @property
    def marac_meeting(self) -> dt.date | None:
        """The MARAC meeting for the latest referral; an earlier referral's meeting (a store
        written before a new referral cleared it) is not this referral's."""
        meeting, referred = self.marac_meeting_date, self.marac_referral_date
        if meeting is None or referred is None or meeting < referred:
            return None
        return meeting


@dataclass(frozen=True)
class CaseMember:
    person: Person
    role: CaseRole


@dataclass(frozen=True)
class SafeContact:
    """How it is safe to contact a client: shown as a banner on the case."""

    person_id: int
    safe_number: str = ""
    method: str = ""
    safe_times: str = ""
    voicemail_ok: bool = False
    text_ok: bool = False
    letters_ok: bool = False
    code_word: str = ""
    do_not_contact: bool = False
    safe_people: str = ""
    unsafe_people: str = ""
    last_checked: dt.date | None = None
    # Where letters may safely go (only ever used when letters are OK); never the address on
    # record unless someone typed it here after checking with the client.
    safe_address: str = ""
    safe_postcode: str = ""


@dataclass(frozen=True)
class ContactRules:
    """Everything the case banner shows, in one object."""

    case_id: int
    client_id: int | None
    client_name: str
    rules: SafeContact | None
    restricted: bool

    @property
    def known(self) -> bool:
        return self.rules is not None

    @property
    def do_not_contact(self) -> bool:
        return bool(self.rules and self.rules.do_not_contact)


@dataclass(frozen=True)
class Consent:
    id: int
    person_id: int
    purpose: ConsentPurpose
    target: str  # the recipient category, contact method, or "" for support and photos
    state: ConsentState
    decided_on: dt.date
    how: ConsentHow | None
    given_by: GivenBy
    recorded_by: int
    recorded_at: str
    review_date: dt.date | None
    note: str = ""


@dataclass(frozen=True)
class ShareRecord:
    """One disclosure in or out, as recorded."""

    case_id: int
    direction: Direction
    shared_at: str
    organisation: str
    recipient_category: RecipientCategory
    person_ids: tuple[int, ...]
    data_categories: tuple[str, ...]
    purpose: str
    method: str
    lawful_basis: LawfulBasis
    court_reference: str = ""
    reason: str = ""  # why it was shared without consent
    person_told: bool = True
    not_told_reason: str = ""
    consulted_manager_id: int | None = None


@dataclass(frozen=True)
class Share:
    id: int
    record: ShareRecord
    recorded_by: int
    recorded_at: str
    approval: ShareApproval
    review_due: str
    reviewed_by: int | None = None
    review_note: str = ""


@dataclass(frozen=True)
class ShareToReview:
    """A share waiting for a manager's review, with what the review list shows beside it."""

    share: Share
    reference: str  # the case's
    recorded_by_name: str
    overdue: bool = False  # its 48 hours have passed (the services set it from their clock)


@dataclass(frozen=True)
class NoteRevision:
    body: str
    changed_by: int
    changed_at: str
    reason: str  # empty for the original


@dataclass(frozen=True)
class Note:
    id: int
    case_id: int
    kind: NoteKind
    occurred_at: str
    body: str  # the current text
    author_id: int
    created_at: str
    corrected: bool
    disputed: bool
    dispute_reason: str = ""


@dataclass(frozen=True)
class DashResult:
    id: int
    case_id: int
    person_id: int
    completed_on: dt.date
    answers: dict[int, Answer]
    sources: dict[int, str]
    yes_count: int
    score_level: RiskLevel
    judgement_level: RiskLevel | None
    judgement_reason: str
    police_callouts_12m: int
    level: RiskLevel
    marac_reasons: tuple[str, ...]

    @property
    def marac_referral_due(self) -> bool:
        return bool(self.marac_reasons)


@dataclass(frozen=True)
class CaseSummary:
    """One row of a case list."""

    id: int
    reference: str
    client_name: str
    worker: str
    status: CaseStatus
    risk_level: RiskLevel | None
    next_review: dt.date | None
    marac_due: bool = False
    last_activity: str = ""  # when the case or a note on it last changed (a clock stamp)
    conflicts: int = 0  # fields two laptops set differently, waiting for a person to choose


@dataclass(frozen=True)
class CaseView:
    """Everything a case's screen shows, gathered in one call."""

    case: Case
    members: tuple[CaseMember, ...]
    contact: ContactRules
    consents: tuple[Consent, ...]
    shares: tuple[Share, ...]
    notes: tuple[Note, ...]
    latest_dash: DashResult | None
    allocated_worker: str
    break_glass: bool = False
    note_count: int = 0  # every note on the case; ``notes`` holds the newest of them
    outcome: CaseOutcome | None = None  # what was recorded when the case closed
    dash_history: tuple[DashResult, ...] = ()  # every checklist on the case, newest first
    marac_actions: tuple[MaracAction, ...] = ()  # actions agreed at MARAC, open ones first
    pending_merges: tuple[tuple[int, int], ...] = ()  # (merge, kept person) for managers


# -- outcomes at closure (what a commissioner counts) ---------------------------------------------


class ClosureReason(enum.StrEnum):
    SUPPORT_COMPLETED = "support_completed"
    CLIENT_ENDED = "client_ended"
    NO_CONTACT = "no_contact"
    UNSAFE_TO_CONTACT = "unsafe_to_contact"
    MOVED_AWAY = "moved_away"
    REFERRED_ON = "referred_on"
    NOT_ELIGIBLE = "not_eligible"
    CLIENT_DIED = "client_died"
    OTHER = "other"


class ExitRisk(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    STANDARD = "standard"
    NOT_ASSESSED = "not_assessed"


class AbuseChange(enum.StrEnum):
    STOPPED = "stopped"
    REDUCED = "reduced"
    SAME = "same"
    INCREASED = "increased"
    NOT_ASKED = "not_asked"
    DECLINED = "declined"


class FeelingSafer(enum.StrEnum):
    SAFER = "safer"
    SAME = "same"
    LESS_SAFE = "less_safe"
    NOT_ASKED = "not_asked"
    DECLINED = "declined"


class QualityOfLife(enum.StrEnum):
    IMPROVED = "improved"
    SAME = "same"
    WORSE = "worse"
    NOT_ASKED = "not_asked"
    DECLINED = "declined"


class Engagement(enum.StrEnum):
    ENGAGED = "engaged"
    PARTLY = "partly"
    NOT_ENGAGED = "not_engaged"
    NOT_RECORDED = "not_recorded"


@dataclass(frozen=True)
class CaseOutcome:
    """What the service recorded about the case when it closed."""

    reason: ClosureReason
    risk_at_exit: ExitRisk = ExitRisk.NOT_ASSESSED
    abuse: AbuseChange = AbuseChange.NOT_ASKED
    feeling_safer: FeelingSafer = FeelingSafer.NOT_ASKED
    quality_of_life: QualityOfLife = QualityOfLife.NOT_ASKED
    engagement: Engagement = Engagement.NOT_RECORDED


@dataclass(frozen=True)
class MaracAction:
    """An action agreed at a MARAC meeting: who does it, by when, and when it was done."""

    id: int
    case_id: int
    action: str
    owner: str
    due_on: dt.date
    done_on: dt.date | None = None
