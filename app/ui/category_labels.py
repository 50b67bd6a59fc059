"""What the windows call the values of the categories a service records, the legal dates
and the agencies (app/models/categories.py), each a literal ``translate`` call."""

from __future__ import annotations

from app.models.categories import (
    AgencyType,
    Answer,
    ChildProtection,
    DisabilityType,
    Ethnicity,
    GenderIdentity,
    ImmigrationStatus,
    LegalKind,
    LivesWith,
    OrderType,
    Religion,
    Sex,
    SexualOrientation,
)
from app.ui.i18n import translate


def _unsaid(value: str) -> str | None:
    if value == "not_asked":
        return translate("categories", "Not asked")
    if value == "declined":
        return translate("categories", "Declined to say")
    return None


def sex(value: Sex) -> str:
    return _unsaid(value) or {
        Sex.FEMALE: translate("categories", "Female"),
        Sex.MALE: translate("categories", "Male"),
    }.get(value, value)


def gender_identity(value: GenderIdentity) -> str:
    return _unsaid(value) or {
        GenderIdentity.SAME_AS_SEX: translate("categories", "Same as sex registered at birth"),
        GenderIdentity.WOMAN: translate("categories", "Woman"),
        GenderIdentity.MAN: translate("categories", "Man"),
        GenderIdentity.NON_BINARY: translate("categories", "Non-binary"),
        GenderIdentity.TRANS_WOMAN: translate("categories", "Trans woman"),
        GenderIdentity.TRANS_MAN: translate("categories", "Trans man"),
        GenderIdentity.OTHER: translate("categories", "Another gender identity"),
    }.get(value, value)


def sexual_orientation(value: SexualOrientation) -> str:
    return _unsaid(value) or {
        SexualOrientation.HETEROSEXUAL: translate("categories", "Straight or heterosexual"),
        SexualOrientation.GAY_OR_LESBIAN: translate("categories", "Gay or lesbian"),
        SexualOrientation.BISEXUAL: translate("categories", "Bisexual"),
        SexualOrientation.OTHER: translate("categories", "Another sexual orientation"),
    }.get(value, value)


def ethnicity(value: Ethnicity) -> str:
    """The ONS 2021 wording, prefixed by its group."""
    return _unsaid(value) or {
        Ethnicity.BANGLADESHI: translate("categories", "Asian or Asian British: Bangladeshi"),
        Ethnicity.CHINESE: translate("categories", "Asian or Asian British: Chinese"),
        Ethnicity.INDIAN: translate("categories", "Asian or Asian British: Indian"),
        Ethnicity.PAKISTANI: translate("categories", "Asian or Asian British: Pakistani"),
        Ethnicity.OTHER_ASIAN: translate("categories", "Asian or Asian British: Other Asian"),
        Ethnicity.AFRICAN: translate(
            "categories", "Black, Black British, Caribbean or African: African"
        ),
        Ethnicity.CARIBBEAN: translate(
            "categories", "Black, Black British, Caribbean or African: Caribbean"
        ),
        Ethnicity.OTHER_BLACK: translate(
            "categories", "Black, Black British, Caribbean or African: Other Black"
        ),
        Ethnicity.WHITE_AND_ASIAN: translate("categories", "Mixed or multiple: White and Asian"),
        Ethnicity.WHITE_AND_BLACK_AFRICAN: translate(
            "categories", "Mixed or multiple: White and Black African"
        ),
        Ethnicity.WHITE_AND_BLACK_CARIBBEAN: translate(
            "categories", "Mixed or multiple: White and Black Caribbean"
        ),
        Ethnicity.OTHER_MIXED: translate("categories", "Mixed or multiple: Other Mixed"),
        Ethnicity.WHITE_BRITISH: translate(
            "categories", "White: English, Welsh, Scottish, Northern Irish or British"
        ),
        Ethnicity.WHITE_IRISH: translate("categories", "White: Irish"),
        Ethnicity.GYPSY_OR_IRISH_TRAVELLER: translate(
            "categories", "White: Gypsy or Irish Traveller"
        ),
        Ethnicity.ROMA: translate("categories", "White: Roma"),
        Ethnicity.OTHER_WHITE: translate("categories", "White: Other White"),
        Ethnicity.ARAB: translate("categories", "Other ethnic group: Arab"),
        Ethnicity.ANY_OTHER: translate("categories", "Other ethnic group: Any other"),
    }.get(value, value)


def religion(value: Religion) -> str:
    return _unsaid(value) or {
        Religion.NONE: translate("categories", "No religion"),
        Religion.CHRISTIAN: translate("categories", "Christian"),
        Religion.BUDDHIST: translate("categories", "Buddhist"),
        Religion.HINDU: translate("categories", "Hindu"),
        Religion.JEWISH: translate("categories", "Jewish"),
        Religion.MUSLIM: translate("categories", "Muslim"),
        Religion.SIKH: translate("categories", "Sikh"),
        Religion.OTHER: translate("categories", "Another religion or belief"),
    }.get(value, value)


def answer(value: Answer) -> str:
    return _unsaid(value) or {
        Answer.YES: translate("categories", "Yes"),
        Answer.NO: translate("categories", "No"),
    }.get(value, value)


def disability_type(value: DisabilityType) -> str:
    return {
        DisabilityType.NONE_GIVEN: translate("categories", "No type given"),
        DisabilityType.PHYSICAL: translate("categories", "Physical"),
        DisabilityType.SENSORY: translate("categories", "Sensory"),
        DisabilityType.LEARNING: translate("categories", "Learning disability"),
        DisabilityType.MENTAL_HEALTH: translate("categories", "Mental health"),
        DisabilityType.LONG_TERM_CONDITION: translate("categories", "Long-term condition"),
        DisabilityType.NEURODIVERGENT: translate("categories", "Neurodivergent"),
        DisabilityType.OTHER: translate("categories", "Another disability"),
    }.get(value, value)


def immigration_status(value: ImmigrationStatus) -> str:
    return _unsaid(value) or {
        ImmigrationStatus.BRITISH_OR_IRISH: translate("categories", "British or Irish citizen"),
        ImmigrationStatus.SETTLED: translate("categories", "Settled status or leave to remain"),
        ImmigrationStatus.PRE_SETTLED: translate("categories", "Pre-settled status"),
        ImmigrationStatus.SPOUSE_OR_PARTNER_VISA: translate("categories", "Spouse or partner visa"),
        ImmigrationStatus.OTHER_VISA: translate("categories", "Another visa"),
        ImmigrationStatus.ASYLUM_SEEKER: translate("categories", "Asylum seeker"),
        ImmigrationStatus.REFUGEE: translate("categories", "Refugee status"),
        ImmigrationStatus.NO_STATUS: translate("categories", "No current status"),
        ImmigrationStatus.UNKNOWN: translate("categories", "Not known"),
    }.get(value, value)


def legal_kind(value: LegalKind) -> str:
    return {
        LegalKind.COURT_DATE: translate("categories", "Court date"),
        LegalKind.PROTECTIVE_ORDER: translate("categories", "Protective order"),
        LegalKind.BAIL_CONDITIONS: translate("categories", "Bail conditions"),
    }[value]


def order_type(value: OrderType) -> str:
    return {
        OrderType.NONE_GIVEN: "",
        OrderType.NON_MOLESTATION: translate("categories", "Non-molestation order"),
        OrderType.OCCUPATION: translate("categories", "Occupation order"),
        OrderType.RESTRAINING: translate("categories", "Restraining order"),
        OrderType.DVPN: translate("categories", "Domestic violence protection notice"),
        OrderType.DVPO: translate("categories", "Domestic violence protection order"),
        OrderType.DAPO: translate("categories", "Domestic abuse protection order"),
        OrderType.PROHIBITED_STEPS: translate("categories", "Prohibited steps order"),
        OrderType.FORCED_MARRIAGE: translate("categories", "Forced marriage protection order"),
        OrderType.OTHER: translate("categories", "Another order"),
    }[value]


def agency_type(value: AgencyType) -> str:
    return {
        AgencyType.POLICE: translate("categories", "Police"),
        AgencyType.CHILDRENS_SOCIAL_CARE: translate("categories", "Children's social care"),
        AgencyType.ADULT_SOCIAL_CARE: translate("categories", "Adult social care"),
        AgencyType.GP: translate("categories", "GP"),
        AgencyType.HEALTH: translate("categories", "Health"),
        AgencyType.MENTAL_HEALTH: translate("categories", "Mental health service"),
        AgencyType.HOUSING: translate("categories", "Housing"),
        AgencyType.REFUGE: translate("categories", "Refuge"),
        AgencyType.PROBATION: translate("categories", "Probation"),
        AgencyType.EDUCATION: translate("categories", "School or education"),
        AgencyType.SUBSTANCE_MISUSE: translate("categories", "Drug and alcohol service"),
        AgencyType.SOLICITOR: translate("categories", "Solicitor"),
        AgencyType.VOLUNTARY_SECTOR: translate("categories", "Voluntary sector"),
        AgencyType.SELF: translate("categories", "Self-referral"),
        AgencyType.OTHER: translate("categories", "Another agency"),
    }[value]


def child_protection(value: ChildProtection) -> str:
    return _unsaid(value) or {
        ChildProtection.NONE: translate("categories", "No involvement"),
        ChildProtection.EARLY_HELP: translate("categories", "Early help"),
        ChildProtection.CHILD_IN_NEED: translate("categories", "Child in need"),
        ChildProtection.CHILD_PROTECTION_PLAN: translate("categories", "Child protection plan"),
        ChildProtection.LOOKED_AFTER: translate("categories", "Looked after"),
    }.get(value, value)


def lives_with(value: LivesWith) -> str:
    return _unsaid(value) or {
        LivesWith.CLIENT: translate("categories", "The client"),
        LivesWith.ALLEGED_PERPETRATOR: translate("categories", "The alleged perpetrator"),
        LivesWith.BOTH: translate("categories", "Both parents"),
        LivesWith.OTHER_PARENT: translate("categories", "Another parent"),
        LivesWith.FAMILY_OR_FRIENDS: translate("categories", "Family or friends"),
        LivesWith.FOSTER_OR_CARE: translate("categories", "Foster or residential care"),
        LivesWith.OTHER: translate("categories", "Someone else"),
    }.get(value, value)
