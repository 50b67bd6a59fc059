"""Synthetic demo accounts and case records, so a store can be tried without anybody's real
details.

The same seed always gives the same accounts and passphrases, and the same cases, people,
notes, consents, shares and risk assessments. These are for demonstration, training and
benchmark stores only: names are drawn from Faker's en_GB lists, addresses are made up, phone
numbers come from Ofcom's ranges kept for drama (never a real line) and e-mail addresses are at
example.org.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from app.errors import InvalidInput, NotTrainingStore, SafecaseError
from app.models import breaches as breach_model
from app.models import cases as case_model
from app.models import categories as cat
from app.models import consent as consent_model
from app.models import notes as note_model
from app.models import outcomes as outcome_model
from app.models import people as people_model
from app.models import risk as risk_model
from app.models import search as search_model
from app.models import sharing as share_model
from app.models import users
from app.models.db import transaction
from app.models.records import (
    AbuseChange,
    Answer,
    CaseDetails,
    CaseOutcome,
    CaseRole,
    CaseStatus,
    ClosureReason,
    Consent,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    ContactMethod,
    DashResult,
    Direction,
    Engagement,
    ExitRisk,
    FeelingSafer,
    GivenBy,
    LawfulBasis,
    NoteKind,
    Person,
    PersonDetails,
    QualityOfLife,
    RecipientCategory,
    RiskLevel,
    SafeContact,
    ShareApproval,
    ShareRecord,
)
from app.models.users import Role
from app.services import access, accounts, audit, cases, marac_form
from app.services.session import Session
from app.sync import ops
from app.sync.clock import Hlc, new_uuid7

WORDS = (
    "amber anchor apple arch aspen badger basil beacon birch bramble breeze bronze cabin "
    "canal candle canyon cedar chalk cherry cinder clover cobalt comet copper coral cotton "
    "crane creek crystal cypress daisy delta dune ember falcon fennel fern fjord flint "
    "forest fossil garnet ginger glacier granite harbour hazel heather heron hollow indigo "
    "iris ivory jasper juniper kestrel lagoon lantern larch lavender lemon lichen linen "
    "lotus maple marble meadow mint mist moss nectar nutmeg oak oasis olive onyx orchard "
    "otter oyster pebble pepper pine plume poppy prairie quartz quill raven reed ridge "
    "river robin saffron sage salt sapphire shale shell sorrel spruce summit thistle "
    "thyme timber topaz tulip tundra umber valley velvet violet walnut willow wren yarrow"
).split()

ACCOUNTS = (
    ("caseworker", frozenset({Role.CASEWORKER})),
    ("caseworker", frozenset({Role.CASEWORKER})),
    ("caseworker", frozenset({Role.CASEWORKER})),
    ("manager", frozenset({Role.MANAGER})),
    ("dpo", frozenset({Role.DPO})),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    roles: frozenset[Role]


def passphrase(rng: random.Random, username: str, service: str) -> str:
    while True:
        candidate = "-".join(rng.choice(WORDS) for _ in range(4))
        if accounts.password_problem(candidate, username, service) is None:
            return candidate


def demo_accounts(seed: int) -> list[DemoAccount]:
    """The accounts a demo store gets for ``seed``, with their one-time passphrases."""
    rng = random.Random(seed)
    result = []
    counts: dict[str, int] = {}
    for kind, roles in ACCOUNTS:
        counts[kind] = counts.get(kind, 0) + 1
        name = f"demo-{kind}-{counts[kind]}"
        result.append(DemoAccount(name, passphrase(rng, name, ""), roles))
    return result


def _require_training_store(session: Session) -> None:
    """Refuse unless the store was created as a training store: demo records never go in
    among real ones."""
    if not accounts.is_training_store(session):
        raise NotTrainingStore()


def add_demo_accounts(session: Session, seed: int) -> list[DemoAccount]:
    """Add the demo accounts that are not there yet; returns the ones added. Admins only,
    on a training store only."""
    session.require(Role.ADMIN)
    _require_training_store(session)
    added = []
    for account in demo_accounts(seed):
        if users.by_name(session.conn, account.username) is None:
            accounts.add_user(
                session, account.username, account.password, account.roles, must_change=False
            )
            added.append(account)
    return added


# -- a synthetic conflict -----------------------------------------------------------------------

DEMO_LAPTOP = "demo-laptop-2"


def synthetic_conflict(session: Session, case_id: int, number: str, theirs: str) -> None:
    """For pictures and training: the case's safe number set to ``number`` here and, by the
    case's worker on a made-up second laptop an hour earlier and without seeing this change, to
    ``theirs``; the second laptop's operation is applied as if it had arrived by sync, so the
    case holds an open conflict. Training stores only (Ofcom drama numbers, please)."""
    session.require(*access.CASE_ROLES)
    _require_training_store(session)
    case = access.require_open_case(session, case_id)
    client = case_model.client_id(session.conn, case_id)
    if client is None:
        raise InvalidInput("That case has no client to hold safe contact details.")
    current = case_model.safe_contact(session.conn, case_id, client) or SafeContact(client)
    cases.set_safe_contact(session, case_id, replace(current, safe_number=number))
    conn = session.conn
    field = "safe_contacts.safe_number"
    target = ops.gid_of(conn, "cases", case_id)
    mine = [op for _, op in ops.outbox(conn) if op.field == field and op.target == target][-1]
    wall = Hlc.decode(mine.hlc).wall_ms - 3_600_000
    worker = ops.gid_of(conn, "users", case.allocated_user_id) or mine.user
    theirs_op = ops.Operation(
        op_id=new_uuid7(wall),
        hlc=Hlc(wall, 0, DEMO_LAPTOP).encode(),
        device=DEMO_LAPTOP,
        user=worker,
        kind=mine.kind,
        scope=mine.scope,
        target=mine.target,
        payload={**mine.payload, "value": theirs},
        replaced=mine.replaced,  # it had seen what this laptop's change replaced, no more
    )
    with transaction(conn):
        ops.apply(conn, theirs_op)


# -- synthetic cases ----------------------------------------------------------------------------

BATCH_CASES = 500
MAX_CASES = 1_000_000
# MARAC referral forms issued per run. Each goes through the form service, which lays out its
# PDF, so a run issues a few (enough for the MARAC tab to list forms sent), whatever its size.
DEMO_MARAC_FORMS = 3
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DemoSummary:
    """What one run of ``generate_cases`` added (counts only, no personal data)."""

    cases: int
    people: int
    notes: int
    consents: int
    shares: int
    assessments: int
    seconds: float
    # Demo accounts created first because the store had no caseworker (with passphrases).
    accounts: tuple[DemoAccount, ...] = ()
    marac_forms: int = 0  # MARAC referral forms issued through the form service

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.seconds if self.seconds > 0 else 0.0


# Ofcom keeps these ranges for drama and fiction: no number in them is ever a real line.
_DRAMA_NUMBERS = (
    ("07700 900", 3),
    ("0113 496 0", 3),
    ("0114 496 0", 3),
    ("0115 496 0", 3),
    ("0116 496 0", 3),
    ("0117 496 0", 3),
    ("0118 496 0", 3),
    ("0121 496 0", 3),
    ("0131 496 0", 3),
    ("0141 496 0", 3),
    ("0151 496 0", 3),
    ("0161 496 0", 3),
    ("0191 498 0", 3),
    ("020 7946 0", 3),
    ("028 9649 6", 3),
    ("029 2018 0", 3),
    ("01632 960", 3),
)
# The mobile range first: most clients give a mobile.
_MOBILE_SHARE = 0.45

_GENDERS = (("Female", 86), ("Male", 10), ("Non-binary", 2), ("Prefer not to say", 2))
_SEXUALITIES = (
    ("Heterosexual", 70),
    ("Gay or lesbian", 5),
    ("Bisexual", 4),
    ("Prefer not to say", 8),
    ("", 13),
)
_ETHNICITIES = (
    ("White British", 70),
    ("White Irish", 2),
    ("White Gypsy or Irish Traveller", 1),
    ("Any other White background", 7),
    ("Mixed: White and Black Caribbean", 2),
    ("Mixed: White and Asian", 1),
    ("Asian or Asian British: Indian", 3),
    ("Asian or Asian British: Pakistani", 4),
    ("Asian or Asian British: Bangladeshi", 2),
    ("Black or Black British: African", 3),
    ("Black or Black British: Caribbean", 2),
    ("Arab", 1),
    ("Any other ethnic group", 1),
    ("Not stated", 1),
)
_LANGUAGES = (
    ("English", 85),
    ("Polish", 3),
    ("Urdu", 2),
    ("Punjabi", 1),
    ("Bengali", 1),
    ("Arabic", 1),
    ("Romanian", 2),
    ("Portuguese", 1),
    ("Lithuanian", 1),
    ("Somali", 1),
    ("Tigrinya", 1),
    ("Farsi", 1),
)
_DEMO_GENDER = {
    "Female": (cat.Sex.FEMALE, cat.GenderIdentity.SAME_AS_SEX),
    "Male": (cat.Sex.MALE, cat.GenderIdentity.SAME_AS_SEX),
    "Non-binary": (cat.Sex.NOT_ASKED, cat.GenderIdentity.NON_BINARY),
    "Prefer not to say": (cat.Sex.DECLINED, cat.GenderIdentity.DECLINED),
}
_DEMO_SEXUALITY = {
    "Heterosexual": cat.SexualOrientation.HETEROSEXUAL,
    "Gay or lesbian": cat.SexualOrientation.GAY_OR_LESBIAN,
    "Bisexual": cat.SexualOrientation.BISEXUAL,
    "Prefer not to say": cat.SexualOrientation.DECLINED,
}
_DEMO_ETHNICITY = {
    "White British": cat.Ethnicity.WHITE_BRITISH,
    "White Irish": cat.Ethnicity.WHITE_IRISH,
    "White Gypsy or Irish Traveller": cat.Ethnicity.GYPSY_OR_IRISH_TRAVELLER,
    "Any other White background": cat.Ethnicity.OTHER_WHITE,
    "Mixed: White and Black Caribbean": cat.Ethnicity.WHITE_AND_BLACK_CARIBBEAN,
    "Mixed: White and Asian": cat.Ethnicity.WHITE_AND_ASIAN,
    "Asian or Asian British: Indian": cat.Ethnicity.INDIAN,
    "Asian or Asian British: Pakistani": cat.Ethnicity.PAKISTANI,
    "Asian or Asian British: Bangladeshi": cat.Ethnicity.BANGLADESHI,
    "Black or Black British: African": cat.Ethnicity.AFRICAN,
    "Black or Black British: Caribbean": cat.Ethnicity.CARIBBEAN,
    "Arab": cat.Ethnicity.ARAB,
    "Any other ethnic group": cat.Ethnicity.ANY_OTHER,
    "Not stated": cat.Ethnicity.DECLINED,
}
# Not asked, declined, none, Christian, Buddhist, Hindu, Jewish, Muslim, Sikh, other.
_DEMO_RELIGION_WEIGHTS = (20, 6, 35, 25, 1, 2, 1, 7, 1, 2)
_DEMO_ORDERS = (
    cat.OrderType.NON_MOLESTATION,
    cat.OrderType.NON_MOLESTATION,
    cat.OrderType.OCCUPATION,
    cat.OrderType.DVPO,
    cat.OrderType.RESTRAINING,
)
_DEMO_COURTS = {
    cat.OrderType.NON_MOLESTATION: "Family Court",
    cat.OrderType.OCCUPATION: "Family Court",
    cat.OrderType.DVPO: "Magistrates Court",
    cat.OrderType.RESTRAINING: "Crown Court",
}
_DEMO_SCHOOLS = ("Primary School", "Academy", "Nursery", "High School")
_DEMO_SOURCES = {
    "Police": cat.AgencyType.POLICE,
    "Health": cat.AgencyType.HEALTH,
    "Children's social care": cat.AgencyType.CHILDRENS_SOCIAL_CARE,
    "Adult social care": cat.AgencyType.ADULT_SOCIAL_CARE,
    "Housing": cat.AgencyType.HOUSING,
    "Voluntary sector": cat.AgencyType.VOLUNTARY_SECTOR,
}
_DEMO_CONDITIONS = (
    "Not to contact the client directly or indirectly",
    "Not to enter the street where the client lives",
    "Not to contact the client; to live at a named address",
    "Not to go within 100 metres of the client's home or workplace",
)
_DEMO_AGENCY_NAMES = {
    cat.AgencyType.POLICE: "Police Public Protection Unit",
    cat.AgencyType.CHILDRENS_SOCIAL_CARE: "Children's Services",
    cat.AgencyType.HOUSING: "Housing Options",
    cat.AgencyType.GP: "Medical Practice",
    cat.AgencyType.MENTAL_HEALTH: "Community Mental Health Team",
    cat.AgencyType.SOLICITOR: "Family Law Solicitors",
    cat.AgencyType.REFUGE: "Refuge",
}
_DEMO_AGENCY_TYPES = tuple(_DEMO_AGENCY_NAMES)
_DISABILITIES = (
    ("", 72),
    ("Anxiety and depression", 10),
    ("Post-traumatic stress", 5),
    ("Mobility impairment", 3),
    ("Deaf; uses British Sign Language", 1),
    ("Learning disability", 2),
    ("Long-term health condition", 5),
    ("Visual impairment", 2),
)
_HEALTH = (
    ("", 70),
    ("Registered with GP; on medication for anxiety.", 10),
    ("Pregnant at referral.", 4),
    ("Head injury after the incident; seen at A&E.", 4),
    ("Alcohol use; engaging with the recovery service.", 4),
    ("Under the community mental health team.", 5),
    ("Asthma.", 3),
)
_PERP_NOTES = (
    ("", 60),
    ("Known to police for violence.", 15),
    ("Alcohol and drug misuse.", 10),
    ("Mental health concerns reported by the client.", 8),
    ("Previous partner also referred to MARAC.", 7),
)
_ALIASES = ("Jay", "Dex", "Smithy", "Mo", "Taz", "Big Man", "Rocco", "Danny Boy", "Kaz", "Tee")

# (recipient category, organisation pattern, job titles, referral source)
_AGENCIES = (
    (
        RecipientCategory.POLICE,
        "{town} Police Public Protection Unit",
        "Detective Constable",
        "Police",
    ),
    (RecipientCategory.HEALTH, "{town} General Hospital", "Emergency department nurse", "Health"),
    (RecipientCategory.GP, "{town} Medical Practice", "General practitioner", "Health"),
    (
        RecipientCategory.CHILDRENS_SOCIAL_CARE,
        "{town} Children's Services",
        "Social worker",
        "Children's social care",
    ),
    (
        RecipientCategory.ADULT_SOCIAL_CARE,
        "{town} Adult Social Care",
        "Social worker",
        "Adult social care",
    ),
    (RecipientCategory.HOUSING, "{town} Housing Options", "Housing officer", "Housing"),
    (RecipientCategory.OTHER_AGENCY, "{town} Women's Aid", "Outreach worker", "Voluntary sector"),
    (RecipientCategory.OTHER_AGENCY, "{town} Midwifery Service", "Midwife", "Health"),
)
_AGENCY_WEIGHTS = (40, 12, 8, 14, 3, 8, 10, 5)

_CLOSURE_REASONS = (
    "Support completed; risk reduced to standard.",
    "Client disengaged after repeated attempts at safe contact.",
    "Client moved out of area; case transferred to the local IDVA service.",
    "Client declined further support.",
    "MARAC actions completed; client supported by outreach.",
    "Perpetrator in custody; safety plan in place; client content to close.",
)
_OTHER_SERVICES = (
    "Children's social care (child in need plan).",
    "Housing options; sanctuary scheme.",
    "Local outreach service; Freedom Programme.",
    "Police; specialist domestic abuse court.",
    "GP and community mental health team.",
    "Refuge keyworker.",
    "",
)
_NEEDS = (
    "Safety planning; housing; legal options (non-molestation order).",
    "Safety planning; children's safety; emotional support.",
    "Criminal justice support through to trial; special measures.",
    "Refuge space; benefits; school move for the children.",
    "Target hardening at home; injunction; financial support.",
)
_PLANS = (
    "Safe word agreed with neighbour; phone kept charged; 999 silent solution explained.",
    "Locks changed through the sanctuary scheme; school told who may collect the children.",
    "Route to work varied; workplace aware; copies of documents kept at a friend's.",
    "Refuge place accepted; new GP registration; social media locked down.",
    "Non-molestation order served; police aware of the address (marker on the system).",
)
_SAFE_TIMES = (
    "Weekdays 9:30-14:30 (school hours)",
    "Mornings before 11",
    "Tuesday and Thursday afternoons",
    "Only when the client calls first",
    "Weekdays after 18:00 at a relative's",
    "Lunchtimes at work",
)
_SAFE_PEOPLE = ("Sister", "Mother", "Friend from work", "Neighbour", "Support worker", "")
_UNSAFE_PEOPLE = ("His mother", "His brother", "Shared friends", "Ex-partner's family", "")
_DATA_CATEGORIES = (
    "name and address",
    "contact details",
    "risk assessment",
    "children",
    "health",
    "criminal history",
    "safety plan",
)
_NOT_TOLD = (
    "Telling the client now could raise the risk from the alleged perpetrator.",
    "No safe way to contact the client at the time; to be told at the next safe contact.",
    "Police asked that it not be disclosed while the investigation is live.",
)
_NO_CONSENT_REASONS = {
    RecipientCategory.MARAC: "High risk: the case meets the MARAC criteria and needs a "
    "multi-agency safety plan.",
    RecipientCategory.CHILDRENS_SOCIAL_CARE: "The children are at risk of significant harm; "
    "safeguarding duty.",
    RecipientCategory.POLICE: "Threats to kill reported; sharing to prevent a serious crime.",
    RecipientCategory.HEALTH: "Serious injury; sharing to protect the client's vital interests.",
    RecipientCategory.COURTS: "Disclosure ordered by the court.",
    RecipientCategory.HOUSING: "Emergency rehousing needed to protect life.",
    RecipientCategory.GP: "Risk to life; GP asked to flag the record.",
    RecipientCategory.ADULT_SOCIAL_CARE: "Adult at risk; safeguarding duty.",
    RecipientCategory.OTHER_AGENCY: "Risk to life; sharing to keep the client safe.",
}
_NO_CONSENT_BASIS = {
    RecipientCategory.MARAC: (LawfulBasis.PUBLIC_TASK, LawfulBasis.VITAL_INTERESTS),
    RecipientCategory.CHILDRENS_SOCIAL_CARE: (LawfulBasis.SAFEGUARDING,),
    RecipientCategory.POLICE: (LawfulBasis.CRIME_PREVENTION,),
    RecipientCategory.HEALTH: (LawfulBasis.VITAL_INTERESTS,),
    RecipientCategory.COURTS: (LawfulBasis.COURT_ORDER,),
    RecipientCategory.HOUSING: (LawfulBasis.VITAL_INTERESTS, LawfulBasis.PUBLIC_TASK),
    RecipientCategory.GP: (LawfulBasis.VITAL_INTERESTS,),
    RecipientCategory.ADULT_SOCIAL_CARE: (LawfulBasis.SAFEGUARDING, LawfulBasis.LEGAL_OBLIGATION),
    RecipientCategory.OTHER_AGENCY: (LawfulBasis.VITAL_INTERESTS,),
}
# What a referrer writes as the summary of the risk on a MARAC referral form.
_MARAC_SUMMARIES = (
    "Threats to kill since the separation; he has been seen outside her workplace.",
    "Strangulation at the last incident; the children witnessed it.",
    "Escalating control and stalking; he breached bail conditions twice this month.",
    "Pregnant; assaulted at home; he has access to the house keys.",
)
_SHARE_ORGS = {
    RecipientCategory.MARAC: "{town} MARAC",
    RecipientCategory.CHILDRENS_SOCIAL_CARE: "{town} Children's Services",
    RecipientCategory.POLICE: "{town} Police Public Protection Unit",
    RecipientCategory.HEALTH: "{town} General Hospital",
    RecipientCategory.COURTS: "{town} Family Court",
    RecipientCategory.HOUSING: "{town} Housing Options",
    RecipientCategory.GP: "{town} Medical Practice",
    RecipientCategory.ADULT_SOCIAL_CARE: "{town} Adult Social Care",
    RecipientCategory.OTHER_AGENCY: "{town} Women's Aid",
}
_SHARE_PURPOSES = {
    RecipientCategory.MARAC: "MARAC referral and research form",
    RecipientCategory.CHILDRENS_SOCIAL_CARE: "Safeguarding referral for the children",
    RecipientCategory.POLICE: "Supporting the investigation; bail conditions",
    RecipientCategory.HEALTH: "Joint safety planning with the hospital IDVA",
    RecipientCategory.COURTS: "Evidence for the family court",
    RecipientCategory.HOUSING: "Homelessness application; safe rehousing",
    RecipientCategory.GP: "Flag on the GP record; health support",
    RecipientCategory.ADULT_SOCIAL_CARE: "Care and support needs assessment",
    RecipientCategory.OTHER_AGENCY: "Onward referral for community support",
}
_SAFE_WAYS = (ContactMethod.PHONE, ContactMethod.TEXT, ContactMethod.VOICEMAIL, ContactMethod.EMAIL)
_SHARE_METHODS = ("secure email", "phone", "MARAC meeting", "secure portal", "letter")
_SHARE_TARGETS = (
    RecipientCategory.MARAC,
    RecipientCategory.POLICE,
    RecipientCategory.CHILDRENS_SOCIAL_CARE,
    RecipientCategory.HOUSING,
    RecipientCategory.GP,
    RecipientCategory.HEALTH,
    RecipientCategory.COURTS,
    RecipientCategory.OTHER_AGENCY,
)
_SHARE_TARGET_WEIGHTS = (20, 18, 14, 14, 10, 8, 6, 10)
_CONTACT_METHODS = (
    ContactMethod.PHONE,
    ContactMethod.TEXT,
    ContactMethod.VOICEMAIL,
    ContactMethod.LETTER,
    ContactMethod.EMAIL,
)

_NOTE_OPENERS = {
    NoteKind.CALL: (
        "Called {client} on the safe number at the agreed time.",
        "{client} rang the office from a friend's phone.",
        "Tried the safe number twice; {client} answered the second time.",
        "Short call with {client}; {she} could not talk for long.",
    ),
    NoteKind.VISIT: (
        "Home visit with {client} at the agreed safe time.",
        "Met {client} at the children's centre (safe location).",
        "Visited {client} at the refuge.",
        "Joint visit with the social worker.",
    ),
    NoteKind.MEETING: (
        "MARAC meeting: the case was heard.",
        "Strategy meeting with children's social care.",
        "Met {client} at court before the hearing.",
        "Professionals' meeting with police and housing.",
    ),
    NoteKind.MESSAGE: (
        "Text sent to the safe number to arrange a call.",
        "{client} texted to say it is not safe to talk today.",
        "Left no voicemail, as agreed; text sent instead.",
        "Secure email from the police officer in the case.",
    ),
    NoteKind.NOTE: (
        "Case note.",
        "Case discussed in supervision.",
        "Update from the referrer.",
        "Update from the police officer in the case.",
    ),
}
_REFERRAL_NOTES = (
    "Referral received and checked against existing records.",
    "Referral received; the referrer's DASH was attached.",
    "Referral received by phone; details confirmed with the referrer.",
    "Referral received; first safe contact attempted the same day.",
)
_NOTE_TOPICS = (
    "Reviewed the safety plan; {client} keeps {her} phone charged and knows to dial 999 and "
    "press 55 if {she} cannot speak.",
    "{perp} has been sending messages again; advised {her} to screenshot and keep them.",
    "Talked through the non-molestation order application; solicitor appointment booked.",
    "Housing options discussed; homelessness application started.",
    "Sanctuary scheme referral made; locks to be changed this week.",
    "{perp} was released on bail with conditions not to contact {her}; {she} knows to report "
    "any breach.",
    "{She} is worried about child contact; explained the options through the family court.",
    "Clare's Law disclosure discussed.",
    "Benefits check done; emergency food parcel arranged.",
    "Referred to the Freedom Programme and to counselling.",
    "DASH reviewed; risk remains high because of the recent strangulation.",
    "{She} reports {perp} followed {her} to the school gates.",
    "Court date confirmed; special measures requested.",
    "Police have charged {perp}; victim personal statement explained.",
    "School and GP told about the safety plan with {her} agreement.",
    "{She} has moved to the refuge; new address kept confidential.",
    "No new incidents reported; {she} feels safer at home.",
    "Children seen; they are settling at the new school.",
)
_NOTE_CLOSERS = (
    "Next contact agreed for {weekday}.",
    "Will call again at the safe time next week.",
    "Actions: update MARAC chair; chase housing.",
    "{She} knows how to reach the service.",
    "",
    "",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_NOTE_KINDS = (NoteKind.CALL, NoteKind.VISIT, NoteKind.MEETING, NoteKind.MESSAGE, NoteKind.NOTE)
_NOTE_KIND_WEIGHTS = (40, 15, 10, 20, 15)
_DASH_SOURCES = ("police report", "the referrer", "children's social care", "the hospital")
_JUDGEMENT_REASONS = (
    "Recent escalation and threats to kill since the checklist.",
    "The client minimises; police intelligence shows serious violence.",
    "Separation is imminent and he has access to weapons.",
)
_LEGAL_HOLDS = (
    "Domestic homicide review in progress.",
    "Civil proceedings: records requested by the court.",
    "Open subject access request.",
)
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _weighted(options: tuple[tuple[str, int], ...]) -> tuple[tuple[str, ...], list[int]]:
    return tuple(o for o, _ in options), list(itertools.accumulate(w for _, w in options))


@dataclass(frozen=True)
class _Plan:
    """When one case happens: drawn first, so references follow referral dates."""

    status: CaseStatus
    referral: dt.date
    opened: dt.date | None
    closed: dt.date | None


@dataclass
class _Counts:
    cases: int = 0
    people: int = 0
    notes: int = 0
    consents: int = 0
    shares: int = 0
    assessments: int = 0


@dataclass
class _Pools:
    """Words drawn from Faker once, up front: Faker is slow, random.choice is not."""

    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]
    surname_weights: list[float]  # cumulative: Smith is far more common than Savage
    streets: list[str]
    towns: list[str]
    outward: list[str]
    # Referrers by pool slot, each with the referral source their agency stands for.
    professionals: dict[int, tuple[Person, str]] = field(default_factory=dict)


def _pools(seed: int, cases: int) -> _Pools:
    from faker import Faker  # imported late: it is slow to import and only demos need it

    fake = Faker("en_GB")
    fake.seed_instance(seed)
    names = fake.provider("faker.providers.person")
    female = tuple(getattr(names, "first_names_female", ()))
    male = tuple(getattr(names, "first_names_male", ()))
    last_names = getattr(names, "last_names", ())
    # en_GB weighs its surnames by how common they are; other layouts give a plain list.
    weighted = dict(last_names) if isinstance(last_names, dict) else dict.fromkeys(last_names, 1)
    if not (female and male and weighted):  # another Faker layout: ask for names one by one
        female = tuple(sorted({fake.first_name_female() for _ in range(200)}))
        male = tuple(sorted({fake.first_name_male() for _ in range(200)}))
        weighted = dict.fromkeys(sorted({fake.last_name() for _ in range(500)}), 1)
    scale = min(1.0, 0.1 + cases / 5_000)
    return _Pools(
        female=female,
        male=male,
        surnames=tuple(weighted),
        surname_weights=list(itertools.accumulate(float(w) for w in weighted.values())),
        streets=[fake.street_name() for _ in range(int(1_500 * scale))],
        towns=[fake.city() for _ in range(int(300 * scale))],
        outward=[fake.postcode().split()[0] for _ in range(int(2_000 * scale))],
    )


class _Generator:
    """Writes synthetic cases through the model functions, a batch per transaction."""

    def __init__(
        self,
        session: Session,
        seed: int,
        last_day: dt.date,
        pools: _Pools,
        workers: list[users.User],
        managers: list[int],
        professionals: int,
    ) -> None:
        self.conn = session.conn
        self.team_id = session.team_id
        self.rng = random.Random(seed)
        # The categories, legal dates and agencies draw on their own generator, so adding them
        # left every other demo record as it was for the same seed.
        self.more_rng = random.Random(seed * 7919 + 17)
        self.seed = seed
        self.last_day = last_day
        self.pools = pools
        self.workers = workers
        self.managers = managers
        self.professional_slots = professionals
        self.perpetrators: list[Person] = []
        self.former_clients: list[Person] = []
        # Open high-risk cases referred to MARAC, with their caseworker, oldest referral first:
        # the first few get an issued referral form.
        self.referred: list[tuple[int, users.User]] = []
        self.next_number: dict[int, int] = {}
        self.counts = _Counts()
        self.genders = _weighted(_GENDERS)
        self.sexualities = _weighted(_SEXUALITIES)
        self.ethnicities = _weighted(_ETHNICITIES)
        self.languages = _weighted(_LANGUAGES)
        self.disabilities = _weighted(_DISABILITIES)
        self.health = _weighted(_HEALTH)
        self.perp_notes = _weighted(_PERP_NOTES)

    # -- small draws --------------------------------------------------------------------------

    def pick(self, table: tuple[tuple[str, ...], list[int]]) -> str:
        values, cumulative = table
        return self.rng.choices(values, cum_weights=cumulative)[0]

    def day_between(self, start: dt.date, end: dt.date) -> dt.date:
        span = (end - start).days
        return start + dt.timedelta(days=self.rng.randint(0, span)) if span > 0 else start

    def stamp(self, day: dt.date) -> str:
        """A time in working hours on ``day``, as the notes service writes it."""
        return f"{day.isoformat()}T{self.rng.randint(8, 18):02d}:{self.rng.randint(0, 59):02d}:00Z"

    @staticmethod
    def recorded(day: dt.date) -> str:
        return f"{day.isoformat()}T17:30:00.000000Z"

    def phone(self) -> str:
        rng = self.rng
        prefix, _ = (
            _DRAMA_NUMBERS[0]
            if rng.random() < _MOBILE_SHARE
            else _DRAMA_NUMBERS[rng.randrange(1, len(_DRAMA_NUMBERS))]
        )
        return f"{prefix}{rng.randrange(1000):03d}"

    def surname(self) -> str:
        pools = self.pools
        return self.rng.choices(pools.surnames, cum_weights=pools.surname_weights)[0]

    def postcode(self) -> str:
        rng = self.rng
        return (
            f"{rng.choice(self.pools.outward)} {rng.randrange(10)}"
            f"{rng.choice(_LETTERS)}{rng.choice(_LETTERS)}"
        )

    def address(self) -> tuple[str, str]:
        rng = self.rng
        street = f"{rng.randint(1, 240)} {rng.choice(self.pools.streets)}"
        if rng.random() < 0.25:
            street = f"Flat {rng.randint(1, 40)}, {street}"
        return f"{street}, {rng.choice(self.pools.towns)}", self.postcode()

    def birth_date(self, on: dt.date, youngest: int, oldest: int) -> dt.date:
        days = self.rng.randint(youngest * 365 + 1, oldest * 365 + 364)
        return on - dt.timedelta(days=days)

    # -- people -------------------------------------------------------------------------------

    def add_person(self, details: PersonDetails, now: str) -> Person:
        person_id = people_model.insert(self.conn, details, now)
        self.counts.people += 1
        return Person(person_id, details)

    def client_details(self, on: dt.date) -> PersonDetails:
        rng = self.rng
        gender = self.pick(self.genders)
        first = rng.choice(self.pools.male if gender == "Male" else self.pools.female)
        family = self.surname()
        language = self.pick(self.languages)
        address, postcode = self.address()
        phones = (self.phone(),) if rng.random() < 0.85 else (self.phone(), self.phone())
        email = f"{first}.{family}{rng.randint(1, 99)}@example.org".lower().replace(" ", "")
        return PersonDetails(
            given_name=first,
            family_name=family,
            date_of_birth=self.birth_date(on, 17, 75),
            gender=gender,
            sexuality=self.pick(self.sexualities),
            ethnicity=self.pick(self.ethnicities),
            language=language,
            interpreter_needed=language != "English" and rng.random() < 0.7,
            disabilities=self.pick(self.disabilities),
            address=address,
            postcode=postcode,
            address_confidential=rng.random() < 0.12,
            phones=phones,
            email=email if rng.random() < 0.5 else "",
            health_notes=self.pick(self.health),
        )

    def perpetrator_details(self, on: dt.date, client: PersonDetails) -> PersonDetails:
        rng = self.rng
        male = client.gender != "Male" and rng.random() < 0.92
        first = rng.choice(self.pools.male if male else self.pools.female)
        family = client.family_name if rng.random() < 0.3 else self.surname()
        same_home = rng.random() < 0.35
        address, postcode = (client.address, client.postcode) if same_home else self.address()
        return PersonDetails(
            given_name=first,
            family_name=family,
            aliases=(rng.choice(_ALIASES),) if rng.random() < 0.12 else (),
            date_of_birth=self.birth_date(on, 18, 70) if rng.random() < 0.85 else None,
            gender="Male" if male else "Female",
            ethnicity=self.pick(self.ethnicities),
            language="English",
            address=address if rng.random() < 0.8 else "",
            postcode=postcode if rng.random() < 0.8 else "",
            phones=(self.phone(),) if rng.random() < 0.6 else (),
            health_notes=self.pick(self.perp_notes),
        )

    def child_details(self, on: dt.date, family: str, youngest: int, oldest: int) -> PersonDetails:
        rng = self.rng
        girl = rng.random() < 0.5
        return PersonDetails(
            given_name=rng.choice(self.pools.female if girl else self.pools.male),
            family_name=family,
            date_of_birth=self.birth_date(on, youngest, oldest),
            gender="Female" if girl else "Male",
            ethnicity="",
            language="English",
        )

    def household_details(self, on: dt.date, client: PersonDetails) -> PersonDetails:
        rng = self.rng
        female = rng.random() < 0.6
        return PersonDetails(
            given_name=rng.choice(self.pools.female if female else self.pools.male),
            family_name=client.family_name if rng.random() < 0.6 else self.surname(),
            date_of_birth=self.birth_date(on, 18, 85),
            gender="Female" if female else "Male",
            address=client.address,
            postcode=client.postcode,
            disabilities="Needs care and support" if rng.random() < 0.3 else "",
        )

    def professional(self, on: dt.date) -> tuple[Person, str]:
        """A referrer from the pool (professionals refer many cases); made on first use."""
        rng = self.rng
        slot = rng.randrange(self.professional_slots)
        known = self.pools.professionals.get(slot)
        if known is not None:
            return known
        _, org, title, source = rng.choices(_AGENCIES, weights=_AGENCY_WEIGHTS)[0]
        female = rng.random() < 0.6
        first = rng.choice(self.pools.female if female else self.pools.male)
        family = self.surname()
        town = rng.choice(self.pools.towns)
        domain = "".join(ch for ch in town.lower() if ch.isalpha())
        details = PersonDetails(
            given_name=first,
            family_name=family,
            gender="Female" if female else "Male",
            phones=(self.phone(),),
            email=f"{first}.{family}@{domain}.example.org".lower().replace(" ", ""),
            organisation=org.format(town=town),
            job_title=title,
        )
        person = self.add_person(details, self.recorded(on))
        self.pools.professionals[slot] = (person, source)
        return person, source

    # -- one case -----------------------------------------------------------------------------

    def reference(self, year: int) -> str:
        number = self.next_number.get(year)
        if number is None:
            first = case_model.next_reference(self.conn, year)
            number = int(first.rsplit("-", 1)[1])
        self.next_number[year] = number + 1
        return f"SC-{year}-{number:06d}"

    def case(self, plan: _Plan) -> None:
        rng, conn = self.rng, self.conn
        end = plan.closed or self.last_day
        worker = (
            rng.choice(self.workers)
            if self.workers and (plan.status is not CaseStatus.REFERRAL or rng.random() < 0.6)
            else None
        )
        author = worker.id if worker else self.workers[0].id
        referrer, source = self.professional(plan.referral)
        working = plan.status is not CaseStatus.REFERRAL
        details = CaseDetails(
            referral_date=plan.referral,
            referral_source=source,
            referrer_id=referrer.id,
            other_services=rng.choice(_OTHER_SERVICES) if working else "",
            needs_assessment=rng.choice(_NEEDS) if working else "",
            safety_plan=rng.choice(_PLANS) if working else "",
            next_review=(
                self.last_day + dt.timedelta(days=rng.randint(1, 42))
                if plan.status is CaseStatus.OPEN
                else None
            ),
        )
        reference = self.reference(plan.referral.year)
        now = self.recorded(plan.referral)
        case_id = case_model.insert(
            conn,
            reference,
            details,
            worker.id if worker else None,
            worker.team_id if worker else self.team_id,
            now,
            plan.status,
        )
        self.counts.cases += 1
        search_model.index_case(conn, case_id, reference)

        # The people: a returning client now and then, otherwise a new one.
        if self.former_clients and rng.random() < 0.04:
            client = self.former_clients[rng.randrange(len(self.former_clients))]
        else:
            client = self.add_person(self.client_details(plan.referral), now)
            if rng.random() < 0.1:
                self.former_clients.append(client)
        perps = [self.perpetrator(plan.referral, client.details, now)]
        if rng.random() < 0.08:
            perps.append(self.perpetrator(plan.referral, client.details, now))
        # Children under 18, born when the client was between 17 and 45.
        born = client.details.date_of_birth or plan.referral
        age = (plan.referral - born).days // 365
        youngest, oldest = max(0, age - 45), min(17, age - 17)
        children = [
            self.add_person(
                self.child_details(
                    plan.referral,
                    client.details.family_name
                    if rng.random() < 0.6
                    else perps[0].details.family_name,
                    youngest,
                    oldest,
                ),
                now,
            )
            for _ in range(rng.choices((0, 1, 2, 3, 4), weights=(40, 25, 20, 11, 4))[0])
            if youngest <= oldest
        ]
        household = (
            [self.add_person(self.household_details(plan.referral, client.details), now)]
            if rng.random() < 0.12
            else []
        )
        for person, role in (
            (client, CaseRole.CLIENT),
            *((p, CaseRole.ALLEGED_PERPETRATOR) for p in perps),
            *((c, CaseRole.CHILD) for c in children),
            *((h, CaseRole.HOUSEHOLD_MEMBER) for h in household),
            (referrer, CaseRole.PROFESSIONAL),
        ):
            case_model.add_member(conn, case_id, person.id, role)
            search_model.index_person(conn, case_id, person, new=True)

        start = plan.opened or plan.referral
        sharing = self.consents(client, children, plan, start, end, author)
        self.safe_contact(case_id, client, sharing, start, end, author)
        fields: dict[str, object] = {"client_name": client.name}
        if plan.opened:
            fields["opened_date"] = plan.opened
        if plan.closed:
            fields["closed_date"] = plan.closed
            fields["closed_reason"] = rng.choice(_CLOSURE_REASONS)
            if rng.random() < 0.01:
                fields["legal_hold_reason"] = rng.choice(_LEGAL_HOLDS)
                fields["legal_hold_review"] = self.last_day + dt.timedelta(
                    days=rng.randint(30, 365)
                )
        if working or rng.random() < 0.4:
            fields.update(self.dash(case_id, client, plan, start, end, author))
        case_model.set_fields(conn, case_id, now, **fields)
        high = fields.get("risk_level") == RiskLevel.HIGH.value
        if high and worker and plan.status is CaseStatus.OPEN and fields.get("marac_referral_date"):
            self.referred.append((case_id, worker))
        self.shares(case_id, client, perps, children, sharing, plan, start, end, author, high)
        self.notes(case_id, client, perps[0], plan, start, end, author)
        self.categories(case_id, client, working, start, end, author, now)
        if plan.closed:
            self.outcome(case_id, author, now)
        self.household(case_id, children, referrer, source, working, author, now)

    def outcome(self, case_id: int, author: int, now: str) -> None:
        """What a commissioner counts at closing, drawn from its own random stream (so the
        rest of the demo store stays as it was)."""
        rng = random.Random(case_id * 7907 + self.seed)

        def pick(values: tuple[Any, ...], weights: tuple[int, ...]) -> Any:
            return rng.choices(values, weights)[0]

        outcome_model.put(
            self.conn,
            case_id,
            CaseOutcome(
                pick(tuple(ClosureReason), (45, 15, 14, 3, 8, 7, 3, 1, 4)),
                pick(tuple(ExitRisk), (10, 25, 50, 15)),
                pick(tuple(AbuseChange), (35, 33, 10, 3, 14, 5)),
                pick(tuple(FeelingSafer), (60, 15, 4, 16, 5)),
                pick(tuple(QualityOfLife), (55, 20, 4, 16, 5)),
                pick(tuple(Engagement), (60, 25, 10, 5)),
            ),
            author,
            now,
        )

    def more_day(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.more_rng.randint(0, max(0, (end - start).days)))

    def categories(
        self,
        case_id: int,
        client: Person,
        working: bool,
        start: dt.date,
        end: dt.date,
        author: int,
        now: str,
    ) -> None:
        """The client's categories (from their details, so the two agree; some not asked, some
        declined), and on cases being worked a court date, an order, bail conditions and other
        agencies now and then. Only the values the services allow."""
        rng, d = self.more_rng, client.details
        if not working and rng.random() < 0.5:
            return
        sex, identity = _DEMO_GENDER.get(
            d.gender, (cat.Sex.NOT_ASKED, cat.GenderIdentity.NOT_ASKED)
        )
        disabled = (
            cat.Answer.YES if d.disabilities else rng.choice((cat.Answer.NO, cat.Answer.NOT_ASKED))
        )
        british = d.language == "English" and rng.random() < 0.9
        status = (
            cat.ImmigrationStatus.BRITISH_OR_IRISH
            if british
            else rng.choice(list(cat.ImmigrationStatus)[2:])
        )
        pregnant = rng.choices(
            (cat.Answer.NOT_ASKED, cat.Answer.NO, cat.Answer.YES, cat.Answer.DECLINED),
            weights=(30, 60, 7, 3),
        )[0]
        if pregnant is cat.Answer.YES and (sex, identity) == (
            cat.Sex.MALE,
            cat.GenderIdentity.SAME_AS_SEX,
        ):
            pregnant = cat.Answer.NO  # synthetic records stay plausible
        on_visa = status in (
            cat.ImmigrationStatus.SPOUSE_OR_PARTNER_VISA,
            cat.ImmigrationStatus.OTHER_VISA,
            cat.ImmigrationStatus.NO_STATUS,
            cat.ImmigrationStatus.ASYLUM_SEEKER,
        )
        cat.put(
            self.conn,
            client.id,
            cat.PersonCategories(
                sex=sex,
                gender_identity=identity,
                sexual_orientation=_DEMO_SEXUALITY.get(
                    d.sexuality, cat.SexualOrientation.NOT_ASKED
                ),
                ethnicity=_DEMO_ETHNICITY.get(d.ethnicity, cat.Ethnicity.NOT_ASKED),
                religion=rng.choices(list(cat.Religion), weights=_DEMO_RELIGION_WEIGHTS)[0],
                disability=disabled,
                disability_type=rng.choice(list(cat.DisabilityType)[1:])
                if disabled is cat.Answer.YES
                else cat.DisabilityType.NONE_GIVEN,
                first_language=d.language,
                interpreter_needed=cat.Answer.YES if d.interpreter_needed else cat.Answer.NO,
                immigration_status=status,
                no_recourse_to_public_funds=cat.Answer.YES
                if on_visa and rng.random() < 0.6
                else cat.Answer.NO,
                pregnant=pregnant,
            ),
            author,
            now,
        )
        if not working:
            return
        if rng.random() < 0.3:
            order = rng.choice(_DEMO_ORDERS)
            begins = self.more_day(start, end)
            cat.add_legal_item(
                self.conn,
                case_id,
                cat.LegalItem(
                    cat.LegalKind.PROTECTIVE_ORDER,
                    begins,
                    begins + dt.timedelta(days=rng.choice((28, 182, 365))),
                    order,
                    f"{rng.choice(self.pools.towns)} {_DEMO_COURTS[order]}",
                    rng.choice(_DEMO_CONDITIONS),
                ),
                author,
                now,
            )
        if rng.random() < 0.2:
            begins = self.more_day(start, end)
            cat.add_legal_item(
                self.conn,
                case_id,
                cat.LegalItem(
                    cat.LegalKind.BAIL_CONDITIONS,
                    begins,
                    begins + dt.timedelta(days=rng.choice((14, 28, 56))),
                    conditions=rng.choice(_DEMO_CONDITIONS),
                ),
                author,
                now,
            )
        if rng.random() < 0.25:
            cat.add_legal_item(
                self.conn,
                case_id,
                cat.LegalItem(
                    cat.LegalKind.COURT_DATE,
                    self.more_day(start, end),
                    court=f"{rng.choice(self.pools.towns)} Magistrates Court",
                ),
                author,
                now,
            )
        for _ in range(rng.choices((0, 1, 2, 3), weights=(35, 35, 20, 10))[0]):
            kind = rng.choice(_DEMO_AGENCY_TYPES)
            cat.add_agency(
                self.conn,
                case_id,
                cat.Agency(
                    kind,
                    f"{rng.choice(self.pools.towns)} {_DEMO_AGENCY_NAMES[kind]}",
                    f"{rng.choice(self.pools.female + self.pools.male)} (duty desk)",
                ),
                author,
                now,
            )

    def household(
        self,
        case_id: int,
        children: list[Person],
        referrer: Person,
        source: str,
        working: bool,
        author: int,
        now: str,
    ) -> None:
        """Where the referral came from, and each child's school, child-protection status and
        who they live with (on cases being worked)."""
        rng = self.more_rng
        cat.put_referral_source(
            self.conn,
            case_id,
            cat.ReferralSource(
                _DEMO_SOURCES.get(source, cat.AgencyType.OTHER),
                f"{referrer.name}, {referrer.details.job_title}",
            ),
            author,
            now,
        )
        if not working:
            return
        for child in children:
            rng = random.Random(child.id * 7919 + self.seed)
            school = f"{rng.choice(self.pools.towns)} {rng.choice(_DEMO_SCHOOLS)}"
            cat.put_child(
                self.conn,
                case_id,
                cat.ChildDetails(
                    child.id,
                    school,
                    rng.choices(list(cat.ChildProtection), weights=(20, 2, 30, 15, 20, 10, 3))[0],
                    rng.choices(list(cat.LivesWith), weights=(10, 1, 60, 4, 5, 6, 8, 4, 2))[0],
                ),
                author,
                now,
            )

    def perpetrator(self, on: dt.date, client: PersonDetails, now: str) -> Person:
        """Alleged perpetrators recur: about a third of cases name one already on record."""
        if self.perpetrators and self.rng.random() < 0.35:
            return self.perpetrators[self.rng.randrange(len(self.perpetrators))]
        person = self.add_person(self.perpetrator_details(on, client), now)
        self.perpetrators.append(person)
        return person

    def consents(
        self,
        client: Person,
        children: list[Person],
        plan: _Plan,
        start: dt.date,
        end: dt.date,
        author: int,
    ) -> dict[RecipientCategory, ConsentState]:
        """Record the client's decisions (and a parent's for young children); returns the
        client's sharing decisions in force, by recipient."""
        rng = self.rng
        rows: list[tuple[Person, ConsentPurpose, str, ConsentState, GivenBy]] = []
        support = (
            ConsentState.GIVEN
            if plan.status is not CaseStatus.REFERRAL or rng.random() < 0.5
            else ConsentState.NOT_ASKED
        )
        if rng.random() < 0.03:
            support = ConsentState.REFUSED
        rows.append((client, ConsentPurpose.SUPPORT, "", support, GivenBy.PERSON))
        sharing: dict[RecipientCategory, ConsentState] = {}
        if support is ConsentState.GIVEN:
            for recipient in rng.sample(_SHARE_TARGETS, rng.randint(1, 4)):
                state = rng.choices(
                    (
                        ConsentState.GIVEN,
                        ConsentState.REFUSED,
                        ConsentState.WITHDRAWN,
                        ConsentState.NOT_ASKED,
                    ),
                    weights=(60, 15, 10, 15),
                )[0]
                if state is ConsentState.WITHDRAWN:  # given first, withdrawn later
                    rows.append(
                        (
                            client,
                            ConsentPurpose.SHARING,
                            recipient,
                            ConsentState.GIVEN,
                            GivenBy.PERSON,
                        )
                    )
                rows.append((client, ConsentPurpose.SHARING, recipient, state, GivenBy.PERSON))
                sharing[recipient] = state
            if rng.random() < 0.3:
                state = ConsentState.GIVEN if rng.random() < 0.6 else ConsentState.REFUSED
                rows.append((client, ConsentPurpose.PHOTOS, "", state, GivenBy.PERSON))
            for method in rng.sample(_CONTACT_METHODS, rng.randint(1, 3)):
                state = ConsentState.GIVEN if rng.random() < 0.7 else ConsentState.REFUSED
                rows.append((client, ConsentPurpose.CONTACT, method, state, GivenBy.PERSON))
            for child in children:
                if rng.random() < 0.2:
                    born = child.details.date_of_birth
                    young = born is not None and (start - born).days < 13 * 365
                    by = GivenBy.PARENT_OR_CARER if young else GivenBy.PERSON
                    rows.append((child, ConsentPurpose.PHOTOS, "", ConsentState.GIVEN, by))
        day = start
        for person, purpose, target, state, by in rows:
            day = self.day_between(day, min(end, day + dt.timedelta(days=30)))
            how = None
            if state is not ConsentState.NOT_ASKED:
                how = ConsentHow.WRITTEN if rng.random() < 0.4 else ConsentHow.VERBAL
            review = day + dt.timedelta(days=180) if state is ConsentState.GIVEN else None
            consent_model.insert(
                self.conn,
                Consent(
                    id=0,
                    person_id=person.id,
                    purpose=purpose,
                    target=str(target),
                    state=state,
                    decided_on=day,
                    how=how,
                    given_by=by,
                    recorded_by=author,
                    recorded_at=self.recorded(day),
                    review_date=review,
                    note="",
                ),
            )
            self.counts.consents += 1
        return sharing

    def safe_contact(
        self,
        case_id: int,
        client: Person,
        sharing: dict[RecipientCategory, ConsentState],
        start: dt.date,
        end: dt.date,
        author: int,
    ) -> None:
        rng = self.rng
        if rng.random() < 0.08:
            rules = SafeContact(
                person_id=client.id,
                do_not_contact=True,
                safe_people=rng.choice(_SAFE_PEOPLE),
                unsafe_people=rng.choice(_UNSAFE_PEOPLE),
                last_checked=self.more_day(start, end),
            )
        else:
            phones = client.details.phones
            rules = SafeContact(
                person_id=client.id,
                safe_number=phones[0] if phones and rng.random() < 0.5 else self.phone(),
                method=rng.choice(_SAFE_WAYS).value,
                safe_times=rng.choice(_SAFE_TIMES),
                voicemail_ok=rng.random() < 0.2,
                text_ok=rng.random() < 0.6,
                letters_ok=rng.random() < 0.15 and not client.details.address_confidential,
                code_word=rng.choice(WORDS) if rng.random() < 0.5 else "",
                safe_people=rng.choice(_SAFE_PEOPLE),
                unsafe_people=rng.choice(_UNSAFE_PEOPLE),
                last_checked=self.more_day(start, end),
            )
            if rules.letters_ok:  # where post is safe: never the address on record
                rules = replace(rules, safe_address=f"PO Box {case_id}, Northshire")
        case_model.put_safe_contact(
            self.conn, case_id, rules, author, self.recorded(rules.last_checked or start)
        )

    def dash(
        self,
        case_id: int,
        client: Person,
        plan: _Plan,
        start: dt.date,
        end: dt.date,
        author: int,
    ) -> dict[str, object]:
        """One checklist, sometimes a second; returns the case fields it sets."""
        rng = self.rng
        fields: dict[str, object] = {}
        last_marac: dt.date | None = None
        completed = self.day_between(plan.referral, min(end, plan.referral + dt.timedelta(14)))
        for _ in range(2 if plan.closed and rng.random() < 0.15 else 1):
            roll = rng.random()
            yes = (
                rng.randint(14, 22)
                if roll < 0.28
                else rng.randint(10, 13)
                if roll < 0.55
                else rng.randint(0, 9)
            )
            order = list(range(1, 25))
            rng.shuffle(order)
            answers = {q: Answer.NO for q in order}
            for q in order[:yes]:
                answers[q] = Answer.YES
            for q in order[yes : yes + rng.randint(0, 3)]:
                answers[q] = Answer.DONT_KNOW
            sources = (
                {q: rng.choice(_DASH_SOURCES) for q in rng.sample(order, rng.randint(1, 3))}
                if rng.random() < 0.2
                else {}
            )
            scored = risk_model.score_level(yes)
            judgement = None
            reason = ""
            if scored is not RiskLevel.HIGH and rng.random() < 0.08:
                judgement, reason = RiskLevel.HIGH, rng.choice(_JUDGEMENT_REASONS)
            callouts = rng.choices((0, 1, 2, 3, 4, 5), weights=(40, 25, 15, 10, 6, 4))[0]
            reasons = risk_model.marac_reasons(
                yes=yes,
                judgement=judgement,
                police_callouts_12m=callouts,
                incident_on=completed,
                last_marac_referral=last_marac,
            )
            level = risk_model.final_level(scored, judgement)
            risk_model.insert(
                self.conn,
                DashResult(
                    id=0,
                    case_id=case_id,
                    person_id=client.id,
                    completed_on=completed,
                    answers=answers,
                    sources=sources,
                    yes_count=yes,
                    score_level=scored,
                    judgement_level=judgement,
                    judgement_reason=reason,
                    police_callouts_12m=callouts,
                    level=level,
                    marac_reasons=reasons,
                ),
                author,
                self.recorded(completed),
            )
            self.counts.assessments += 1
            fields["risk_level"] = level.value
            if reasons:
                referred = self.day_between(completed, min(end, completed + dt.timedelta(3)))
                last_marac = referred
                fields["marac_referral_date"] = referred
                meeting = referred + dt.timedelta(days=rng.randint(7, 28))
                fields["marac_meeting_date"] = meeting if meeting <= self.last_day else None
            if completed >= end:
                break
            completed = self.day_between(completed + dt.timedelta(1), end)
        return fields

    def shares(
        self,
        case_id: int,
        client: Person,
        perps: list[Person],
        children: list[Person],
        sharing: dict[RecipientCategory, ConsentState],
        plan: _Plan,
        start: dt.date,
        end: dt.date,
        author: int,
        high_risk: bool,
    ) -> None:
        rng = self.rng
        town = rng.choice(self.pools.towns)
        if rng.random() < 0.5:  # the referrer's information, shared in
            self.share(
                ShareRecord(
                    case_id=case_id,
                    direction=Direction.IN,
                    shared_at=self.stamp(plan.referral),
                    organisation=_SHARE_ORGS[RecipientCategory.POLICE].format(town=town),
                    recipient_category=RecipientCategory.POLICE,
                    person_ids=(client.id, perps[0].id),
                    data_categories=("name and address", "risk assessment", "criminal history"),
                    purpose="Referral with the police DASH",
                    method="secure email",
                    lawful_basis=LawfulBasis.PUBLIC_TASK,
                ),
                ShareApproval.NOT_NEEDED,
                "",
                author,
            )
        if plan.status is CaseStatus.REFERRAL:
            return
        targets = [RecipientCategory.MARAC] if high_risk else []
        targets += rng.choices(_SHARE_TARGETS, weights=_SHARE_TARGET_WEIGHTS, k=rng.randint(0, 2))
        for recipient in dict.fromkeys(targets):
            people = [client.id]
            if recipient is RecipientCategory.CHILDRENS_SOCIAL_CARE:
                people += [c.id for c in children]
            if recipient in (RecipientCategory.POLICE, RecipientCategory.MARAC):
                people.append(perps[0].id)
            when = self.more_day(start, end)
            consented = sharing.get(recipient) is ConsentState.GIVEN and len(people) == 1
            record = ShareRecord(
                case_id=case_id,
                direction=Direction.OUT,
                shared_at=self.stamp(when),
                organisation=_SHARE_ORGS[recipient].format(town=town),
                recipient_category=recipient,
                person_ids=tuple(people),
                data_categories=tuple(rng.sample(_DATA_CATEGORIES, rng.randint(1, 4))),
                purpose=_SHARE_PURPOSES[recipient],
                method=rng.choice(_SHARE_METHODS),
                lawful_basis=LawfulBasis.CONSENT,
            )
            if consented:
                self.share(record, ShareApproval.NOT_NEEDED, "", author)
                continue
            basis = rng.choice(_NO_CONSENT_BASIS[recipient])
            told = rng.random() < 0.75
            recent = (self.last_day - when).days < 14
            awaiting = not self.managers or (recent and rng.random() < 0.5)
            record = replace(
                record,
                lawful_basis=basis,
                court_reference=(
                    f"ZW{rng.randint(10, 99)}P{rng.randint(100, 999):05d}"
                    if basis is LawfulBasis.COURT_ORDER
                    else ""
                ),
                reason=_NO_CONSENT_REASONS[recipient],
                person_told=told,
                not_told_reason="" if told else rng.choice(_NOT_TOLD),
                consulted_manager_id=None if awaiting else rng.choice(self.managers),
            )
            if awaiting:
                due = dt.datetime.fromisoformat(record.shared_at) + dt.timedelta(hours=48)
                self.share(
                    record,
                    ShareApproval.AWAITING_REVIEW,
                    due.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    author,
                )
            else:
                self.share(record, ShareApproval.APPROVED, "", author)

    def share(
        self, record: ShareRecord, approval: ShareApproval, review_due: str, author: int
    ) -> None:
        share_model.insert(
            self.conn,
            record,
            approval,
            review_due,
            author,
            record.shared_at.replace("Z", ".000000Z"),
        )
        self.counts.shares += 1

    def notes(
        self,
        case_id: int,
        client: Person,
        perp: Person,
        plan: _Plan,
        start: dt.date,
        end: dt.date,
        author: int,
    ) -> None:
        rng = self.rng
        count = rng.randint(1, 2) if plan.status is CaseStatus.REFERRAL else rng.randint(2, 8)
        he = client.details.gender == "Male"
        names = {
            "client": client.details.given_name,
            "perp": perp.details.given_name,
            "she": "he" if he else "she",
            "She": "He" if he else "She",
            "her": "his" if he else "her",
        }
        later = sorted(self.day_between(plan.referral, end) for _ in range(count - 1))
        for number, day in enumerate([plan.referral, *later]):
            if number == 0:  # the referral itself
                kind, parts = NoteKind.NOTE, [rng.choice(_REFERRAL_NOTES)]
            else:
                kind = rng.choices(_NOTE_KINDS, cum_weights=(40, 55, 65, 85, 100))[0]
                parts = [rng.choice(_NOTE_OPENERS[kind]), rng.choice(_NOTE_TOPICS)]
            if rng.random() < 0.4:
                parts.append(rng.choice(_NOTE_TOPICS))
            parts.append(rng.choice(_NOTE_CLOSERS))
            body = " ".join(p for p in parts if p).format(weekday=rng.choice(_WEEKDAYS), **names)
            occurred = self.stamp(day)
            note_id = note_model.insert(
                self.conn, case_id, kind, occurred, body, author, occurred[:-1] + ".000000Z"
            )
            search_model.index_note(self.conn, case_id, note_id, body, new=True)
            self.counts.notes += 1


def _plans(rng: random.Random, cases: int, last_day: dt.date) -> list[_Plan]:
    """Each case's dates: closures spread over the last 12 years, some open, some at referral."""
    plans = []
    for _ in range(cases):
        roll = rng.random()
        if roll < 0.07:
            referral = last_day - dt.timedelta(days=rng.randint(0, 30))
            plans.append(_Plan(CaseStatus.REFERRAL, referral, None, None))
        elif roll < 0.3:
            referral = last_day - dt.timedelta(days=rng.randint(14, 540))
            opened = referral + dt.timedelta(days=rng.randint(0, 14))
            plans.append(_Plan(CaseStatus.OPEN, referral, opened, None))
        else:
            closed = last_day - dt.timedelta(days=rng.randint(0, 12 * 365))
            length = rng.randint(14, 420)
            referral = closed - dt.timedelta(days=length)
            opened = referral + dt.timedelta(days=rng.randint(0, min(14, length)))
            plans.append(_Plan(CaseStatus.CLOSED, referral, opened, closed))
    plans.sort(key=lambda p: p.referral)
    return plans


def generate_cases(
    session: Session,
    cases: int,
    seed: int,
    progress: Progress | None = None,
    *,
    today: dt.date | None = None,
) -> DemoSummary:
    """Fill the store with ``cases`` synthetic cases, the same ones for the same seed and day.

    Admins only, on a training store only (any other store is refused). Every date falls
    before ``today`` (default: the real date), so the services' checks against future dates
    hold for the demo records.
    The work is written in batches of cases, each batch one transaction, through the model
    functions; the whole run writes one audit entry. Then a few of the open high-risk cases
    get a MARAC referral form issued through the form service, audited as that service
    audits it (:func:`_demo_marac_forms`). ``progress(done, total)`` is called after each
    batch. If there is no caseworker yet, the demo accounts are added first and
    returned in the summary with their passphrases.
    """
    session.require(Role.ADMIN)
    _require_training_store(session)
    if not 1 <= cases <= MAX_CASES:
        raise InvalidInput(f"Ask for between 1 and {MAX_CASES:,} demo cases.")
    started = time.perf_counter()
    conn = session.conn
    added: list[DemoAccount] = []
    workers = _workers(session)
    if not workers:
        added = add_demo_accounts(session, seed)
        workers = _workers(session)
    if not workers:
        raise InvalidInput("There is no enabled caseworker to allocate the demo cases to.")
    managers = [u.id for u in users.all_users(conn) if Role.MANAGER in u.roles and not u.disabled]
    last_day = (today or session.today()) - dt.timedelta(days=1)
    generator = _Generator(
        session,
        seed,
        last_day,
        _pools(seed, cases),
        workers,
        managers,
        professionals=max(12, min(2_000, cases // 30)),
    )
    plans = _plans(generator.rng, cases, last_day)
    if progress:
        progress(0, cases)
    for first in range(0, cases, BATCH_CASES):
        with transaction(conn):
            if first == 0:
                audit.record(
                    conn, session.user_id, audit.DEMO_GENERATED, "", f"cases={cases} seed={seed}"
                )
                _demo_breaches(session)
            for plan in plans[first : first + BATCH_CASES]:
                generator.case(plan)
        if progress:
            progress(min(first + BATCH_CASES, cases), cases)
    forms = _demo_marac_forms(session, generator)
    c = generator.counts
    return DemoSummary(
        cases=c.cases,
        people=c.people,
        notes=c.notes,
        consents=c.consents,
        shares=c.shares,
        assessments=c.assessments,
        seconds=time.perf_counter() - started,
        accounts=tuple(added),
        marac_forms=forms,
    )


def _clock_at(stamp: str) -> Callable[[], str]:
    """A session clock stopped at ``stamp``."""
    return lambda: stamp


def _demo_marac_forms(session: Session, generator: _Generator) -> int:
    """Issue the MARAC referral form of the first few open high-risk cases this run referred
    to MARAC, as each case's caseworker would have on the day of the referral: through the
    form service, so it is pre-filled from the case, checked, recorded as a share to the MARAC
    in the sharing log and kept as issued, and the case's MARAC tab lists it among the forms
    sent. A case whose form the service refuses is passed over. Returns how many were issued."""
    # Its own draws, so the cases stay as the seed made them.
    rng = random.Random(generator.seed * 7919 + 31)
    conn, managers = session.conn, generator.managers
    issued = 0
    for case_id, worker in generator.referred:
        if issued == DEMO_MARAC_FORMS:
            break
        case = case_model.get(conn, case_id)
        if case is None or case.marac_referral_date is None:
            continue
        meeting = case.marac_meeting_date
        stamp = f"{case.marac_referral_date.isoformat()}T{rng.randint(9, 16):02d}:30:00.000000Z"
        as_worker = replace(
            session,
            user_id=worker.id,
            username=worker.username,
            roles=worker.roles,
            team_id=worker.team_id,
            must_change_password=False,
            break_glass=set(),
            now=_clock_at(stamp),
        )
        try:
            prefilled = marac_form.prefill(as_worker, case_id)
            basis = next(
                (b for b in _NO_CONSENT_BASIS[RecipientCategory.MARAC] if b in prefilled.bases),
                prefilled.bases[0],
            )
            edits = replace(
                marac_form.MaracEdits.of(prefilled.form),
                marac=_SHARE_ORGS[RecipientCategory.MARAC].format(
                    town=rng.choice(generator.pools.towns)
                ),
                lawful_basis=LawfulBasis.CONSENT if not prefilled.gaps else basis,
                reason_without_consent=_NO_CONSENT_REASONS[RecipientCategory.MARAC]
                if prefilled.gaps
                else "",
                risk_summary=prefilled.form.risk_summary or rng.choice(_MARAC_SUMMARIES),
                consulted_manager_id=rng.choice(managers) if managers and prefilled.gaps else None,
            )
            marac_form.issue(as_worker, case_id, edits)
        except SafecaseError:
            continue
        if meeting is not None:  # issuing starts the referral afresh; its meeting stays
            with transaction(conn):
                case_model.set_fields(conn, case_id, stamp, marac_meeting_date=meeting)
        issued += 1
    return issued


def _demo_breaches(session: Session) -> None:
    """A few synthetic breaches so the breach log has clocks to show, timed from the session's
    clock: one counting down, one overdue, one reported, one closed as not reportable. Only
    into a log that is empty, so a second run adds none."""
    conn = session.conn
    if breach_model.listing(conn):
        return
    now = session.moment().replace(microsecond=0)
    hours = dt.timedelta(hours=1)
    examples = [
        breach_model.Facts(
            aware_at=now - 30 * hours - dt.timedelta(minutes=48),
            what_happened="An email with one client's support plan went to the wrong agency; "
            "a recall was asked for.",
            data_categories="Name, safe contact details, support plan",
            people_affected=1,
            records_affected=1,
        ),
        breach_model.Facts(
            aware_at=now - 75 * hours,
            what_happened="A case file was left in a meeting room at a partner agency.",
            data_categories="Case notes, risk assessment",
            people_affected=3,
            records_affected=1,
            risk=breach_model.Risk.RISK,
        ),
        breach_model.Facts(
            aware_at=now - 9 * 24 * hours,
            what_happened="A visitor saw an unlocked screen showing the case list.",
            people_affected=12,
            records_affected=12,
            risk=breach_model.Risk.RISK,
            reported_at=now - 9 * 24 * hours + 20 * hours,
            ico_reference="IC-000000-DEMO",
        ),
        breach_model.Facts(
            aware_at=now - 40 * 24 * hours,
            what_happened="A letter was posted to a former address and came back unopened.",
            people_affected=1,
            records_affected=1,
            risk=breach_model.Risk.NO_RISK,
            not_reported_reason="Returned sealed and unopened by the post office",
        ),
    ]
    stamp = session.now()
    for facts in reversed(examples):
        reference = breach_model.next_reference(conn, session.today().year)
        breach_id = breach_model.insert(
            conn, reference, breach_model.Source.RECORDED, session.user_id, stamp
        )
        closed = stamp if facts.risk is breach_model.Risk.NO_RISK else None
        breach_model.add_version(
            conn,
            breach_id,
            facts,
            closed_at=closed,
            change_reason="",
            user_id=session.user_id,
            now=stamp,
        )


def _workers(session: Session) -> list[users.User]:
    return [
        u for u in users.all_users(session.conn) if Role.CASEWORKER in u.roles and not u.disabled
    ]
