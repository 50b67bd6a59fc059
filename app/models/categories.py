"""The categories an IDVA service records about a person, as countable fields, and the legal
side of a case: court dates, protective orders and bail conditions.

Every category may be "not asked" (the default) or "declined"; none is required. Values are
stored as the enum's string; the UI gives each its display text through translate().
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, fields

from app.crypto.connection import Connection
from app.models.convert import date_text, parse_date
from app.models.db import read

NOT_ASKED = "not_asked"
DECLINED = "declined"


class GenderIdentity(enum.StrEnum):
    NOT_ASKED = NOT_ASKED
    DECLINED = DECLINED
    SAME_AS_SEX = "same_as_sex"  # identifies with the sex registered at birth
    WOMAN = "woman"
    MAN = "man"
    NON_BINARY = "non_binary"
    TRANS_WOMAN = "trans_woman"
    TRANS_MAN = "trans_man"
    OTHER = "other"


class Sex(enum.StrEnum):
    NOT_ASKED = NOT_ASKED
    DECLINED = DECLINED
    FEMALE = "female"
    MALE = "male"


class SexualOrientation(enum.StrEnum):
    NOT_ASKED = NOT_ASKED
    DECLINED = DECLINED
    HETEROSEXUAL = "heterosexual"
    GAY_OR_LESBIAN = "gay_or_lesbian"
    BISEXUAL = "bisexual"
    OTHER = "other"


class Ethnicity(enum.StrEnum):
    """The ONS 2021 census categories for England and Wales (19, in 5 groups)."""

    NOT_ASKED = NOT_ASKED
    DECLINED = DECLINED
    BANGLADESHI = "asian_bangladeshi"
    CHINESE = "asian_chinese"
    INDIAN = "asian_indian"
    PAKISTANI = "asian_pakistani"
    OTHER_ASIAN = "asian_other"
    AFRICAN = "black_african"
    CARIBBEAN = "black_caribbean"
    OTHER_BLACK = "black_other"
    WHITE_AND_ASIAN = "mixed_white_asian"
    WHITE_AND_BLACK_AFRICAN = "mixed_white_black_african"
    WHITE_AND_BLACK_CARIBBEAN = "mixed_white_black_caribbean"
    OTHER_MIXED = "mixed_other"
    WHITE_BRITISH = "white_british"
    WHITE_IRISH = "white_irish"
    GYPSY_OR_IRISH_TRAVELLER = "white_gypsy_traveller"
    ROMA = "white_roma"
    OTHER_WHITE = "white_other"
    ARAB = "other_arab"
    ANY_OTHER = "other_any"

    @property
    def group(self) -> str:
        """The ONS group's key ("asian", "black", "mixed", "white", "other"), or "" for not
        asked / declined."""
        if self in (Ethnicity.NOT_ASKED, Ethnicity.DECLINED):
            return ""
        return self.value.split("_", 1)[0]


ETHNIC_GROUPS = ("asian", "black", "mixed", "white", "other")


class Religion(enum.StrEnum):
    NOT_ASKED = NOT_ASKED
    DECLINED = DECLINED
    NONE = "none"
    CHRISTIAN = "christian"
    BUDDHIST = "buddhist"
    HINDU = "hindu"
    JEWISH = "jewish"
    MUSLIM = "muslim"
    SIKH = "sikh"
    OTHER = "other"


class Answer(enum.StrEnum):
    """Yes / no, or not asked / declined (not said)."""

    NOT_ASKED = NOT_ASKED
    DECLINED = DECLINED
    YES = "yes"
    NO = "no"


class DisabilityType(enum.StrEnum):
    NONE_GIVEN = ""
    PHYSICAL = "physical"
    SENSORY = "sensory"
    LEARNING = "learning"
    MENTAL_HEALTH = "mental_health"
    LONG_TERM_CONDITION = "long_term_condition"
    NEURODIVERGENT = "neurodivergent"
    OTHER = "other"


class ImmigrationStatus(enum.StrEnum):
    NOT_ASKED = NOT_ASKED
    DECLINED = DECLINED
    BRITISH_OR_IRISH = "british_or_irish"
    SETTLED = "settled"
    PRE_SETTLED = "pre_settled"
    SPOUSE_OR_PARTNER_VISA = "spouse_visa"
    OTHER_VISA = "other_visa"
    ASYLUM_SEEKER = "asylum_seeker"
    REFUGEE = "refugee"
    NO_STATUS = "no_status"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PersonCategories:
    sex: Sex = Sex.NOT_ASKED
    gender_identity: GenderIdentity = GenderIdentity.NOT_ASKED
    sexual_orientation: SexualOrientation = SexualOrientation.NOT_ASKED
    ethnicity: Ethnicity = Ethnicity.NOT_ASKED
    religion: Religion = Religion.NOT_ASKED
    disability: Answer = Answer.NOT_ASKED
    disability_type: DisabilityType = DisabilityType.NONE_GIVEN
    first_language: str = ""  # free text: a language name; "" when not asked
    interpreter_needed: Answer = Answer.NOT_ASKED
    immigration_status: ImmigrationStatus = ImmigrationStatus.NOT_ASKED
    no_recourse_to_public_funds: Answer = Answer.NOT_ASKED
    pregnant: Answer = Answer.NOT_ASKED


CATEGORY_FIELDS = tuple(f.name for f in fields(PersonCategories))
_ENUMS: dict[str, type[enum.StrEnum]] = {
    "sex": Sex,
    "gender_identity": GenderIdentity,
    "sexual_orientation": SexualOrientation,
    "ethnicity": Ethnicity,
    "religion": Religion,
    "disability": Answer,
    "disability_type": DisabilityType,
    "interpreter_needed": Answer,
    "immigration_status": ImmigrationStatus,
    "no_recourse_to_public_funds": Answer,
    "pregnant": Answer,
}


def _categories(row: tuple[object, ...]) -> PersonCategories:
    values: dict[str, object] = {}
    for name, raw in zip(CATEGORY_FIELDS, row, strict=True):
        kind = _ENUMS.get(name)
        values[name] = kind(str(raw)) if kind is not None else str(raw)
    return PersonCategories(**values)  # type: ignore[arg-type]


def get(conn: Connection, person_id: int) -> PersonCategories:
    """The person's categories; all "not asked" when none were recorded."""
    rows = read(
        conn,
        f"SELECT {', '.join(CATEGORY_FIELDS)} FROM person_categories WHERE person_id = ?",
        (person_id,),
    )
    return _categories(rows[0]) if rows else PersonCategories()


def put(conn: Connection, person_id: int, values: PersonCategories, user_id: int, now: str) -> None:
    columns = ", ".join(CATEGORY_FIELDS)
    marks = ", ".join("?" * len(CATEGORY_FIELDS))
    updates = ", ".join(f"{name} = excluded.{name}" for name in CATEGORY_FIELDS)
    conn.execute(
        f"INSERT INTO person_categories (person_id, {columns}, updated_by, updated_at) "
        f"VALUES (?, {marks}, ?, ?) ON CONFLICT (person_id) DO UPDATE SET {updates}, "
        "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        (person_id, *(str(getattr(values, n)) for n in CATEGORY_FIELDS), user_id, now),
    )


def count_by(
    conn: Connection, category: str, where: str, params: tuple[object, ...]
) -> dict[str, int]:
    """How many clients of the cases matching ``where`` (on cases ``c``) have each value of
    ``category``; a client with nothing recorded counts as not asked."""
    if category not in _ENUMS:
        raise ValueError(category)
    rows = read(
        conn,
        f"SELECT COALESCE(pc.{category}, ?), COUNT(DISTINCT cp.person_id) FROM cases c "
        "JOIN case_people cp ON cp.case_id = c.id AND cp.role = 'client' "
        "LEFT JOIN person_categories pc ON pc.person_id = cp.person_id "
        f"WHERE {where} GROUP BY 1",
        (str(_ENUMS[category]("") if category == "disability_type" else NOT_ASKED), *params),
    )
    return {str(r[0]): int(str(r[1])) for r in rows}


# -- court dates, protective orders and bail conditions ----------------------------------------


class LegalKind(enum.StrEnum):
    COURT_DATE = "court_date"
    PROTECTIVE_ORDER = "protective_order"
    BAIL_CONDITIONS = "bail_conditions"


class OrderType(enum.StrEnum):
    NONE_GIVEN = ""
    NON_MOLESTATION = "non_molestation"
    OCCUPATION = "occupation"
    RESTRAINING = "restraining"
    DVPN = "dvpn"  # domestic violence protection notice (police, 48 hours)
    DVPO = "dvpo"  # domestic violence protection order
    DAPO = "dapo"  # domestic abuse protection order
    PROHIBITED_STEPS = "prohibited_steps"
    FORCED_MARRIAGE = "forced_marriage"
    OTHER = "other"


@dataclass(frozen=True)
class LegalItem:
    kind: LegalKind
    starts_on: dt.date  # the hearing date, or the date an order or bail starts
    ends_on: dt.date | None = None  # when an order or bail ends (None: until further order)
    order_type: OrderType = OrderType.NONE_GIVEN
    court: str = ""
    conditions: str = ""
    id: int = 0


_LEGAL_COLUMNS = "id, kind, starts_on, ends_on, order_type, court, conditions"


def _legal(row: tuple[object, ...]) -> LegalItem:
    starts = parse_date(row[2])
    assert starts is not None
    return LegalItem(
        LegalKind(str(row[1])),
        starts,
        parse_date(row[3]),
        OrderType(str(row[4])),
        str(row[5]),
        str(row[6]),
        int(str(row[0])),
    )


def legal_items(conn: Connection, case_id: int) -> list[LegalItem]:
    rows = read(
        conn,
        f"SELECT {_LEGAL_COLUMNS} FROM case_legal WHERE case_id = ? ORDER BY starts_on, id",
        (case_id,),
    )
    return [_legal(r) for r in rows]


def add_legal_item(conn: Connection, case_id: int, item: LegalItem, user_id: int, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO case_legal (case_id, kind, starts_on, ends_on, order_type, court, "
        "conditions, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            case_id,
            item.kind.value,
            date_text(item.starts_on),
            date_text(item.ends_on),
            item.order_type.value,
            item.court,
            item.conditions,
            user_id,
            now,
        ),
    )
    return int(cur.lastrowid or 0)


def update_legal_item(
    conn: Connection, case_id: int, item: LegalItem, user_id: int, now: str
) -> bool:
    """Put ``item``'s values in place of the entry with its id on the case; False if none."""
    cur = conn.execute(
        "UPDATE case_legal SET kind = ?, starts_on = ?, ends_on = ?, order_type = ?, court = ?, "
        "conditions = ?, recorded_by = ?, recorded_at = ? WHERE id = ? AND case_id = ?",
        (
            item.kind.value,
            date_text(item.starts_on),
            date_text(item.ends_on),
            item.order_type.value,
            item.court,
            item.conditions,
            user_id,
            now,
            item.id,
            case_id,
        ),
    )
    return cur.rowcount > 0


def remove_legal_item(conn: Connection, case_id: int, item_id: int) -> bool:
    cur = conn.execute("DELETE FROM case_legal WHERE id = ? AND case_id = ?", (item_id, case_id))
    return cur.rowcount > 0


def legal_due(
    conn: Connection, until: dt.date, where: str, params: tuple[object, ...]
) -> list[tuple[int, str, LegalItem]]:
    """Court dates up to ``until`` still to come or just past, and orders or bail conditions
    ending up to ``until``, on the cases matching ``where``: (case id, reference, item)."""
    rows = read(
        conn,
        f"SELECT c.id, c.reference, {', '.join('l.' + n for n in _LEGAL_COLUMNS.split(', '))} "
        "FROM case_legal l JOIN cases c ON c.id = l.case_id "
        "WHERE c.status != 'closed' AND ("
        "(l.kind = 'court_date' AND l.starts_on <= ?) OR "
        "(l.kind != 'court_date' AND l.ends_on IS NOT NULL AND l.ends_on <= ?)) "
        f"AND {where}",
        (until.isoformat(), until.isoformat(), *params),
    )
    return [(int(str(r[0])), str(r[1]), _legal(r[2:])) for r in rows]


# -- other agencies involved ---------------------------------------------------------------------


class AgencyType(enum.StrEnum):
    POLICE = "police"
    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    ADULT_SOCIAL_CARE = "adult_social_care"
    GP = "gp"
    HEALTH = "health"
    MENTAL_HEALTH = "mental_health"
    HOUSING = "housing"
    REFUGE = "refuge"
    PROBATION = "probation"
    EDUCATION = "education"
    SUBSTANCE_MISUSE = "substance_misuse"
    SOLICITOR = "solicitor"
    VOLUNTARY_SECTOR = "voluntary_sector"
    SELF = "self"  # a self-referral (referral source only)
    OTHER = "other"


@dataclass(frozen=True)
class Agency:
    agency_type: AgencyType
    name: str = ""
    contact: str = ""  # a named worker and how to reach them
    id: int = 0


def agencies(conn: Connection, case_id: int) -> list[Agency]:
    rows = read(
        conn,
        "SELECT id, agency_type, name, contact FROM case_agencies WHERE case_id = ? ORDER BY id",
        (case_id,),
    )
    return [Agency(AgencyType(str(r[1])), str(r[2]), str(r[3]), int(str(r[0]))) for r in rows]


def add_agency(conn: Connection, case_id: int, agency: Agency, user_id: int, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO case_agencies (case_id, agency_type, name, contact, recorded_by, "
        "recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
        (case_id, agency.agency_type.value, agency.name, agency.contact, user_id, now),
    )
    return int(cur.lastrowid or 0)


def update_agency(conn: Connection, case_id: int, agency: Agency, user_id: int, now: str) -> bool:
    """Put ``agency``'s values in place of the entry with its id on the case; False if none."""
    cur = conn.execute(
        "UPDATE case_agencies SET agency_type = ?, name = ?, contact = ?, recorded_by = ?, "
        "recorded_at = ? WHERE id = ? AND case_id = ?",
        (agency.agency_type.value, agency.name, agency.contact, user_id, now, agency.id, case_id),
    )
    return cur.rowcount > 0


def remove_agency(conn: Connection, case_id: int, agency_id: int) -> bool:
    cur = conn.execute(
        "DELETE FROM case_agencies WHERE id = ? AND case_id = ?", (agency_id, case_id)
    )
    return cur.rowcount > 0


# -- where the referral came from ----------------------------------------------------------------


@dataclass(frozen=True)
class ReferralSource:
    agency_type: AgencyType
    referrer: str = ""  # who referred: a name and role, or "" (self-referral)


def referral_source(conn: Connection, case_id: int) -> ReferralSource | None:
    rows = read(
        conn,
        "SELECT agency_type, referrer FROM case_referral_sources WHERE case_id = ?",
        (case_id,),
    )
    return ReferralSource(AgencyType(str(rows[0][0])), str(rows[0][1])) if rows else None


def put_referral_source(
    conn: Connection, case_id: int, source: ReferralSource, user_id: int, now: str
) -> None:
    conn.execute(
        "INSERT INTO case_referral_sources (case_id, agency_type, referrer, updated_by, "
        "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (case_id) DO UPDATE SET "
        "agency_type = excluded.agency_type, referrer = excluded.referrer, "
        "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        (case_id, source.agency_type.value, source.referrer, user_id, now),
    )


# -- the household's children --------------------------------------------------------------------


class ChildProtection(enum.StrEnum):
    NOT_ASKED = NOT_ASKED
    DECLINED = DECLINED
    NONE = "none"
    EARLY_HELP = "early_help"
    CHILD_IN_NEED = "child_in_need"
    CHILD_PROTECTION_PLAN = "child_protection_plan"
    LOOKED_AFTER = "looked_after"


class LivesWith(enum.StrEnum):
    NOT_ASKED = NOT_ASKED
    DECLINED = DECLINED
    CLIENT = "client"
    ALLEGED_PERPETRATOR = "alleged_perpetrator"
    BOTH = "both"
    OTHER_PARENT = "other_parent"
    FAMILY_OR_FRIENDS = "family_or_friends"
    FOSTER_OR_CARE = "foster_or_care"
    OTHER = "other"


@dataclass(frozen=True)
class ChildDetails:
    person_id: int
    school: str = ""
    protection: ChildProtection = ChildProtection.NOT_ASKED
    lives_with: LivesWith = LivesWith.NOT_ASKED


def children(conn: Connection, case_id: int) -> list[ChildDetails]:
    """What is recorded about each child on the case (only those with something recorded)."""
    rows = read(
        conn,
        "SELECT person_id, school, protection, lives_with FROM case_children WHERE case_id = ? "
        "ORDER BY person_id",
        (case_id,),
    )
    return [
        ChildDetails(int(str(r[0])), str(r[1]), ChildProtection(str(r[2])), LivesWith(str(r[3])))
        for r in rows
    ]


def put_child(conn: Connection, case_id: int, child: ChildDetails, user_id: int, now: str) -> None:
    conn.execute(
        "INSERT INTO case_children (case_id, person_id, school, protection, lives_with, "
        "updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (case_id, person_id) DO UPDATE SET school = excluded.school, "
        "protection = excluded.protection, lives_with = excluded.lives_with, "
        "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        (
            case_id,
            child.person_id,
            child.school,
            child.protection.value,
            child.lives_with.value,
            user_id,
            now,
        ),
    )
