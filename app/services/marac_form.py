"""The MARAC referral form, pre-filled from the case, checked, issued as a PDF and recorded.

The fields are those of the SafeLives MARAC referral form: the person at risk and how to
contact them safely, the alleged perpetrator, the children and other household members, the
latest DASH score and its date, the reason for referral (visible high risk: a score of 14 or
more; professional judgement, with its reason; potential escalation; repeat: a MARAC referral
of the same person within the last 12 months, from the MARAC history), the agencies involved,
and consent to share with the MARAC or the lawful basis for sharing without it.

The form is addressed to the MARAC coordinator, so two things are never printed on it: a
confidential (refuge) address, of the person at risk or anyone else on the case (the form says
the address is confidential and held by the service), and the safe-contact code word. The
service refuses to issue a form whose typed text mentions either.

Issuing records, in one transaction: the outgoing share to the MARAC in the sharing log
(through :func:`app.services.sharing.record_share`, so the consent rule and a manager's review
apply as for any share), the referral date on the case, and the form's values exactly as
printed, so the service can show later what went out (they are in the person's subject access
pack and destroyed with the case).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from dataclasses import dataclass

from app.crypto.connection import Connection
from app.errors import InvalidInput
from app.models import cases as case_model
from app.models import categories as categories_model
from app.models import consent as consent_model
from app.models import marac_forms as model
from app.models import people as people_model
from app.models import risk as risk_model
from app.models import settings
from app.models.categories import NOT_ASKED
from app.models.db import transaction
from app.models.marac_forms import IssuedForm
from app.models.records import (
    CaseRole,
    ConsentPurpose,
    ConsentState,
    Direction,
    LawfulBasis,
    Person,
    RecipientCategory,
    Share,
    ShareRecord,
)
from app.services import access, audit, contact_rules, drafts, letters, sharing
from app.services.consent import age_on
from app.services.contact_rules import Facts, Output, RestrictionGround, Rule
from app.services.session import Session
from app.sync import ops

MIN_JUDGEMENT_REASON = 10
ADDRESS_HELD = "Confidential: held by {service}. Contact the referrer."
# The sharing log's categories for what a referral carries.
DATA_CATEGORIES = (
    "name",
    "date of birth",
    "ethnicity",
    "gender and sexuality",
    "language and interpreter needs",
    "disabilities",
    "relationships",
    "children and vulnerable adults",
    "referral",
    "other services",
    "risks",
)
PURPOSE = "MARAC referral: multi-agency safety planning for a person at high risk"


class ReferralReason(enum.StrEnum):
    VISIBLE_HIGH_RISK = "visible_high_risk"
    PROFESSIONAL_JUDGEMENT = "professional_judgement"
    POTENTIAL_ESCALATION = "potential_escalation"
    REPEAT = "repeat"


REASON_TEXT = {
    ReferralReason.VISIBLE_HIGH_RISK: "Visible high risk (DASH score of 14 or more)",
    ReferralReason.PROFESSIONAL_JUDGEMENT: "Professional judgement",
    ReferralReason.POTENTIAL_ESCALATION: "Potential escalation (police call-outs)",
    ReferralReason.REPEAT: "Repeat (a MARAC referral within the last 12 months)",
}


@dataclass(frozen=True)
class FormPerson:
    """Someone on the form other than the person at risk, as printed."""

    person_id: int
    name: str
    date_of_birth: str  # ISO date or ""
    details: str  # one line: other names, address, school, child-protection status, ...


@dataclass(frozen=True)
class MaracForm:
    """Every field of the referral as it will be printed. Made by :func:`prefill`; the fields
    :class:`MaracEdits` names are the ones the referrer may change before issuing."""

    case_id: int
    reference: str
    referred_on: str  # ISO date
    referring_service: str
    referrer: str  # the username of who issues it
    marac: str  # the MARAC (and coordinator) it goes to
    victim_id: int
    victim_name: str
    other_names: str
    date_of_birth: str
    age: str
    sex: str
    gender: str
    sexual_orientation: str
    ethnicity: str
    religion: str
    disability: str
    language: str
    interpreter: str
    immigration_status: str
    pregnant: str
    address: str  # "" when confidential: never printed then
    address_confidential: bool
    safe_number: str
    safe_times: str
    voicemail_ok: bool
    text_ok: bool
    contact_notes: str
    perpetrators: tuple[FormPerson, ...]
    perpetrator_notes: str
    children: tuple[FormPerson, ...]
    household: tuple[FormPerson, ...]
    dash_score: int | None
    dash_date: str
    dash_level: str
    reason: str  # a ReferralReason value
    judgement_reason: str
    police_callouts_12m: int
    repeat: bool
    previous_referral: str  # ISO date of the MARAC referral within 12 months, or ""
    risk_summary: str
    agencies: str  # one agency a line
    consent: str  # the person at risk's consent to share with MARAC (a ConsentState value)
    lawful_basis: str  # a LawfulBasis value
    reason_without_consent: str
    person_told: bool
    not_told_reason: str


@dataclass(frozen=True)
class MaracEdits:
    """What the referrer changed or added before issuing (everything else comes from the case).
    ``consulted_manager_id`` names the manager a caseworker decided a share without consent
    with; None flags it for a manager's review."""

    marac: str
    reason: ReferralReason
    judgement_reason: str = ""
    police_callouts_12m: int = 0
    risk_summary: str = ""
    safe_number: str = ""
    safe_times: str = ""
    voicemail_ok: bool = False
    text_ok: bool = False
    contact_notes: str = ""
    perpetrator_notes: str = ""
    agencies: str = ""
    lawful_basis: LawfulBasis = LawfulBasis.CONSENT
    reason_without_consent: str = ""
    person_told: bool = True
    not_told_reason: str = ""
    consulted_manager_id: int | None = None
    # A manager's override when someone on the form has their processing restricted: the
    # reason, and the Art. 18(2) ground (the safe-contact rules' override route).
    override_reason: str = ""
    restriction_ground: RestrictionGround | None = None

    @classmethod
    def of(cls, form: MaracForm) -> MaracEdits:
        """The pre-filled form's values of the editable fields."""
        return cls(
            marac=form.marac,
            reason=ReferralReason(form.reason),
            judgement_reason=form.judgement_reason,
            police_callouts_12m=form.police_callouts_12m,
            risk_summary=form.risk_summary,
            safe_number=form.safe_number,
            safe_times=form.safe_times,
            voicemail_ok=form.voicemail_ok,
            text_ok=form.text_ok,
            contact_notes=form.contact_notes,
            perpetrator_notes=form.perpetrator_notes,
            agencies=form.agencies,
            lawful_basis=LawfulBasis(form.lawful_basis),
            reason_without_consent=form.reason_without_consent,
            person_told=form.person_told,
            not_told_reason=form.not_told_reason,
        )


@dataclass(frozen=True)
class Prefilled:
    """The pre-filled form, with what the referral dialog shows beside it: whose consent to
    share with the MARAC is not given (a non-empty map means a lawful basis other than consent
    and a reason), and the bases the share may rest on."""

    form: MaracForm
    gaps: dict[int, ConsentState]
    bases: tuple[LawfulBasis, ...]
    restricted: tuple[str, ...] = ()  # the names of people on it whose processing is restricted


@dataclass(frozen=True)
class Issued:
    form_id: int
    form: MaracForm
    share: Share  # its approval says whether it waits for a manager's review
    pdf: bytes


# -- reading the case ---------------------------------------------------------------------------


def _label(value: str) -> str:
    """A category's stored value in words, starting with a capital ("" when not asked)."""
    words = "" if value in ("", NOT_ASKED) else value.replace("_", " ")
    return words[:1].upper() + words[1:]


def _date(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def _address(person: Person) -> str:
    d = person.details
    if d.address_confidential:
        return ""
    return ", ".join(p for p in (d.address.strip(), d.postcode.strip()) if p)


def _other_person(person: Person, extra: list[str], today: dt.date) -> FormPerson:
    d = person.details
    parts = []
    if d.aliases:
        parts.append("also known as " + ", ".join(d.aliases))
    if d.date_of_birth:
        parts.append(f"age {age_on(d.date_of_birth, today)}")
    parts += [p for p in extra if p]
    return FormPerson(person.id, person.name, _date(d.date_of_birth), "; ".join(parts))


def _child_facts(info: categories_model.ChildDetails | None) -> list[str]:
    if info is None:
        return []
    facts = [f"school: {info.school}" if info.school else ""]
    for name, value in (("child protection", info.protection), ("lives with", info.lives_with)):
        if _label(value.value) and value.value != categories_model.DECLINED:
            facts.append(f"{name}: {_label(value.value).lower()}")
    return facts


def _agency_type(value: str) -> str:
    return "GP" if value == "gp" else _label(value).capitalize()


def previous_referral(
    conn: Connection, person_id: int, referred_on: dt.date, incident_on: dt.date
) -> dt.date | None:
    """The person's last MARAC referral before ``referred_on``, when the incident behind this
    referral (``incident_on``: the latest DASH) came within 12 months after it, which makes
    this a repeat referral; None otherwise (a checklist from before that referral is the one
    it was made on)."""
    earlier = [d for d in model.referral_dates(conn, person_id) if d < referred_on]
    if not earlier:
        return None
    last = earlier[-1]
    return last if last <= incident_on < risk_model.one_year_after(last) else None


def _first_reason(score: int | None, repeat: bool, callouts: int) -> ReferralReason:
    if score is not None and score >= risk_model.HIGH_RISK_SCORE:
        return ReferralReason.VISIBLE_HIGH_RISK
    if repeat:
        return ReferralReason.REPEAT
    if callouts >= risk_model.ESCALATION_CALLOUTS:
        return ReferralReason.POTENTIAL_ESCALATION
    return ReferralReason.PROFESSIONAL_JUDGEMENT


def gather(conn: Connection, case_id: int, today: dt.date, referrer: str) -> MaracForm:
    """The form pre-filled from the store (models only: the services check the role first)."""
    case = case_model.get(conn, case_id)
    if case is None:
        raise InvalidInput("There is no such case.")
    members = case_model.members(conn, case_id)
    by_role: dict[CaseRole, list[Person]] = {}
    for m in members:
        by_role.setdefault(m.role, []).append(m.person)
    clients = by_role.get(CaseRole.CLIENT, [])
    if not clients:
        raise InvalidInput("Add the person at risk to the case before referring it to MARAC.")
    victim = clients[0]
    d = victim.details
    cats = categories_model.get(conn, victim.id)
    rules = case_model.safe_contact(conn, case_id, victim.id)
    dash = risk_model.latest(conn, case_id)
    previous = previous_referral(conn, victim.id, today, dash.completed_on if dash else today)
    callouts = dash.police_callouts_12m if dash else 0
    score = dash.yes_count if dash else None
    children_info = {c.person_id: c for c in categories_model.children(conn, case_id)}
    language = cats.first_language or d.language
    agencies = [
        " - ".join(p for p in (_agency_type(a.agency_type.value), a.name, a.contact) if p)
        for a in categories_model.agencies(conn, case_id)
    ]
    consent = consent_model.state_for(
        conn, victim.id, ConsentPurpose.SHARING, RecipientCategory.MARAC.value
    )
    judgement = dash.judgement_reason if dash and dash.judgement_level else ""
    return MaracForm(
        case_id=case_id,
        reference=case.reference,
        referred_on=today.isoformat(),
        referring_service=settings.get(conn, settings.SERVICE_NAME) or "",
        referrer=referrer,
        marac=model.last_marac(conn),
        victim_id=victim.id,
        victim_name=victim.name,
        other_names=", ".join(d.aliases),
        date_of_birth=_date(d.date_of_birth),
        age=str(age_on(d.date_of_birth, today)) if d.date_of_birth else "",
        sex=_label(cats.sex.value),
        gender=_label(cats.gender_identity.value) or d.gender,
        sexual_orientation=_label(cats.sexual_orientation.value) or d.sexuality,
        ethnicity=_label(cats.ethnicity.value) or d.ethnicity,
        religion=_label(cats.religion.value),
        disability=_label(cats.disability.value)
        + (
            f" ({_label(cats.disability_type.value).lower()})" if cats.disability_type.value else ""
        ),
        language=language,
        interpreter="Yes"
        if cats.interpreter_needed.value == "yes" or d.interpreter_needed
        else _label(cats.interpreter_needed.value),
        immigration_status=_label(cats.immigration_status.value),
        pregnant=_label(cats.pregnant.value),
        address=_address(victim),
        address_confidential=d.address_confidential,
        safe_number=rules.safe_number if rules else "",
        safe_times=rules.safe_times if rules else "",
        voicemail_ok=bool(rules and rules.voicemail_ok),
        text_ok=bool(rules and rules.text_ok),
        contact_notes=f"Safe to speak to: {rules.safe_people}"
        if rules and rules.safe_people
        else "",
        perpetrators=tuple(
            _other_person(p, [f"address: {_address(p)}" if _address(p) else ""], today)
            for p in by_role.get(CaseRole.ALLEGED_PERPETRATOR, [])
        ),
        perpetrator_notes="",
        children=tuple(
            _other_person(p, _child_facts(children_info.get(p.id)), today)
            for p in by_role.get(CaseRole.CHILD, [])
        ),
        household=tuple(
            _other_person(p, [], today) for p in by_role.get(CaseRole.HOUSEHOLD_MEMBER, [])
        ),
        dash_score=score,
        dash_date=_date(dash.completed_on) if dash else "",
        dash_level=dash.level.value if dash else "",
        reason=_first_reason(score, previous is not None, callouts).value,
        judgement_reason=judgement,
        police_callouts_12m=callouts,
        repeat=previous is not None,
        previous_referral=_date(previous),
        risk_summary=judgement,
        agencies="\n".join(agencies),
        consent=consent.value,
        lawful_basis=(
            LawfulBasis.CONSENT if consent is ConsentState.GIVEN else LawfulBasis.PUBLIC_TASK
        ).value,
        reason_without_consent="",
        person_told=True,
        not_told_reason="",
    )


def _people_on(form: MaracForm) -> tuple[int, ...]:
    others = (*form.perpetrators, *form.children, *form.household)
    return tuple(sorted({form.victim_id, *(p.person_id for p in others)}))


def _share(form: MaracForm, edits: MaracEdits, shared_at: str) -> ShareRecord:
    return ShareRecord(
        case_id=form.case_id,
        direction=Direction.OUT,
        shared_at=shared_at,
        organisation=edits.marac.strip(),
        recipient_category=RecipientCategory.MARAC,
        person_ids=_people_on(form),
        data_categories=DATA_CATEGORIES,
        purpose=PURPOSE,
        method="MARAC referral form",
        lawful_basis=edits.lawful_basis,
        reason=edits.reason_without_consent.strip(),
        person_told=edits.person_told,
        not_told_reason="" if edits.person_told else edits.not_told_reason.strip(),
        consulted_manager_id=edits.consulted_manager_id,
    )


def prefill(session: Session, case_id: int) -> Prefilled:
    """The referral form pre-filled from the case, with whose consent to share with the MARAC
    is missing and the lawful bases the share may rest on (a restricted person's form is
    shown, and refused at issue unless a manager overrides)."""
    access.require_open_case(session, case_id)
    form = gather(session.conn, case_id, session.today(), session.username)
    gaps = sharing.consent_gaps(session, _share(form, MaracEdits.of(form), ""))
    bases = sharing.lawful_bases(Direction.OUT, gaps)
    if form.lawful_basis not in bases:
        form = dataclasses.replace(form, lawful_basis=LawfulBasis.PUBLIC_TASK.value)
    names = {form.victim_id: form.victim_name}
    names |= {p.person_id: p.name for p in (*form.perpetrators, *form.children, *form.household)}
    restricted = tuple(names[p] for p in _restricted_on(session, form))
    return Prefilled(form, gaps, bases, restricted)


def _restricted_on(session: Session, form: MaracForm) -> tuple[int, ...]:
    return tuple(p for p in _people_on(form) if people_model.any_restricted(session.conn, [p]))


# -- what may never be printed --------------------------------------------------------------------


def _printed_text(form: MaracForm) -> str:
    values: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            values.append(value)
        elif isinstance(value, tuple):
            for item in value:
                walk(item)
        elif dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name))

    walk(form)
    return "\n".join(values)


def check_nothing_secret(conn: Connection, form: MaracForm) -> None:
    """Refuse a form whose text mentions a confidential address of anyone on the case, or
    the person at risk's safe-contact code word (the safe-contact rules decide what is)."""
    people = [member.person for member in case_model.members(conn, form.case_id)]
    rules = case_model.safe_contact(conn, form.case_id, form.victim_id)
    found = contact_rules.secret_in(_printed_text(form), people, rules.code_word if rules else "")
    if found is contact_rules.Secret.CONFIDENTIAL_ADDRESS:
        raise InvalidInput(
            "The form mentions a confidential address; take it out before issuing. The "
            "form says the address is held by the service."
        )
    if found is contact_rules.Secret.CODE_WORD:
        raise InvalidInput(
            "The form mentions the safe-contact code word; take it out before issuing."
        )


# -- checking and issuing ---------------------------------------------------------------------


def apply(form: MaracForm, edits: MaracEdits) -> MaracForm:
    """The form with the referrer's edits in it (every other field stays as the case has it)."""
    return dataclasses.replace(
        form,
        marac=edits.marac.strip(),
        reason=edits.reason.value,
        judgement_reason=edits.judgement_reason.strip(),
        police_callouts_12m=edits.police_callouts_12m,
        risk_summary=edits.risk_summary.strip(),
        safe_number=edits.safe_number.strip(),
        safe_times=edits.safe_times.strip(),
        voicemail_ok=edits.voicemail_ok,
        text_ok=edits.text_ok,
        contact_notes=edits.contact_notes.strip(),
        perpetrator_notes=edits.perpetrator_notes.strip(),
        agencies=edits.agencies.strip(),
        lawful_basis=edits.lawful_basis.value,
        reason_without_consent=edits.reason_without_consent.strip(),
        person_told=edits.person_told,
        not_told_reason="" if edits.person_told else edits.not_told_reason.strip(),
    )


def check_reason(form: MaracForm) -> None:
    """The reason for referral must be borne out by the case (the first problem, as one
    sentence)."""
    reason = ReferralReason(form.reason)
    if not form.marac:
        raise InvalidInput("Name the MARAC the referral goes to.")
    if form.police_callouts_12m < 0:
        raise InvalidInput("The number of police call-outs cannot be negative.")
    if reason is ReferralReason.VISIBLE_HIGH_RISK and (
        form.dash_score is None or form.dash_score < risk_model.HIGH_RISK_SCORE
    ):
        raise InvalidInput(
            "Visible high risk needs a DASH score of 14 or more; choose professional judgement "
            "and give the reason."
        )
    if (
        reason is ReferralReason.PROFESSIONAL_JUDGEMENT
        and len(form.judgement_reason) < MIN_JUDGEMENT_REASON
    ):
        raise InvalidInput("Give the reason for your professional judgement (a short sentence).")
    if (
        reason is ReferralReason.POTENTIAL_ESCALATION
        and form.police_callouts_12m < risk_model.ESCALATION_CALLOUTS
    ):
        raise InvalidInput(
            "Potential escalation means 3 or more police call-outs in 12 months; give the "
            "number, or choose another reason."
        )
    if reason is ReferralReason.REPEAT and not form.repeat:
        raise InvalidInput(
            "There is no MARAC referral of this person in the last 12 months, so this is not a "
            "repeat; choose another reason."
        )


def issue(
    session: Session, case_id: int, edits: MaracEdits, *, draft_id: int | None = None
) -> Issued:
    """Issue the referral: check it, lay out its PDF, then record the share to the MARAC,
    the referral date on the case and the form as printed, together. ``draft_id`` names the
    user's draft the form was kept in at a lock: it goes in the same transaction, so an
    issued form never comes back to be issued again."""
    from app.services import marac_pdf

    access.require_open_case(session, case_id)
    form = apply(gather(session.conn, case_id, session.today(), session.username), edits)
    check_reason(form)
    check_nothing_secret(session.conn, form)
    victim = people_model.get(session.conn, form.victim_id)
    assert victim is not None
    restricted = _restricted_on(session, form)
    facts = Facts(victim, None, None, session.moment(), restricted=restricted)
    decision, waived = letters.plan_overrides(
        session, Output.MARAC_FORM, facts, edits.override_reason, edits.restriction_ground
    )
    if not decision.allowed:
        raise letters.LetterRefused(decision)
    pdf = marac_pdf.render(form, compress=True)
    referred_on = dt.date.fromisoformat(form.referred_on)
    record = _share(form, edits, session.moment().strftime("%Y-%m-%dT%H:%M:%S+00:00"))
    issued: list[int] = []

    def keep(share_id: int) -> None:
        letters.record_overrides(
            session,
            Output.MARAC_FORM,
            facts,
            waived,
            edits.override_reason,
            edits.restriction_ground,
            case_id=case_id,
        )
        now = session.now()
        fields = dataclasses.asdict(form)
        form_id = model.insert(
            session.conn, case_id, share_id, referred_on, form.reason, fields, session.user_id, now
        )
        before = case_model.get(session.conn, case_id)
        case_model.set_fields(
            session.conn,
            case_id,
            now,
            marac_referral_date=referred_on,
            marac_meeting_date=None,
            marac_due=0,
        )
        ops.emit_row(session.conn, "marac_referrals", case_id, session.user_id, now, row_id=form_id)
        if before is not None:
            ops.emit_case(session.conn, "case.field_set", before, session.user_id, now)
        audit.record(
            session.conn,
            session.user_id,
            audit.MARAC_FORM_ISSUED,
            f"case:{case_id}",
            f"marac_form:{form_id} share:{share_id} reason={form.reason} "
            f"repeat={'yes' if form.repeat else 'no'} people={len(record.person_ids)}",
        )
        if draft_id is not None:
            drafts.discard_within(session, draft_id)
        issued.append(form_id)

    released = restricted if Rule.RESTRICTED in waived else ()
    share = sharing.record_share(session, record, with_share=keep, restriction_overridden=released)
    return Issued(issued[0], form, share, pdf)


# -- what went out ----------------------------------------------------------------------------


def stored_form(issued: IssuedForm) -> MaracForm:
    """The form as it was printed, from its stored values."""
    values = dict(issued.fields)
    for name in ("perpetrators", "children", "household"):
        people = values.get(name) or []
        assert isinstance(people, list)
        values[name] = tuple(FormPerson(**p) for p in people)
    return MaracForm(**values)  # type: ignore[arg-type]


def issued_forms(session: Session, case_id: int) -> list[IssuedForm]:
    """The referral forms issued from the case, newest first, with what each said."""
    access.require_case(session, case_id)
    return model.for_case(session.conn, case_id)


def form_pdf(session: Session, form_id: int, *, compress: bool = True) -> bytes:
    """An issued form's PDF again, exactly as issued, to print or save; audited."""
    from app.services import marac_pdf

    found = model.get(session.conn, form_id)
    if found is None:
        raise InvalidInput("That MARAC referral form is no longer on record.")
    access.require_case(session, found.case_id)
    pdf = marac_pdf.render(stored_form(found), compress=compress)
    with transaction(session.conn):
        audit.record(
            session.conn,
            session.user_id,
            audit.MARAC_FORM_PRINTED,
            f"case:{found.case_id}",
            f"marac_form:{form_id}",
        )
    return pdf


def may_issue(session: Session) -> bool:
    """Whether the user refers cases to MARAC (case workers, on the cases they may open)."""
    return access.may_work_on_cases(session)


# -- the form's sections, as printed ------------------------------------------------------------

Section = tuple[str, list[tuple[str, str]]]
NOT_RECORDED = "Not recorded"


def _yes(value: bool) -> str:
    return "Yes" if value else "No"


def _people(people: tuple[FormPerson, ...], none: str) -> list[tuple[str, str]]:
    if not people:
        return [("", none)]
    return [
        (
            p.name,
            "; ".join(
                x for x in (f"born {p.date_of_birth}" if p.date_of_birth else "", p.details) if x
            )
            or NOT_RECORDED,
        )
        for p in people
    ]


def sections(form: MaracForm) -> list[Section]:
    """The form's sections with their labelled values, in the SafeLives form's order: what the
    PDF prints and the subject access pack shows."""
    consent = ConsentState(form.consent)
    basis = LawfulBasis(form.lawful_basis)
    address = form.address or (
        ADDRESS_HELD.format(service=form.referring_service or "the referring service")
        if form.address_confidential
        else ""
    )
    dash = (
        f"{form.dash_score} of {len(risk_model.QUESTIONS)} (completed {form.dash_date})"
        if form.dash_score is not None
        else "No DASH checklist completed"
    )
    sharing_rows = [
        ("Consent of the person at risk to share with MARAC", _label(consent.value).capitalize())
    ]
    if basis is not LawfulBasis.CONSENT:
        sharing_rows += [
            ("Lawful basis for sharing without consent", _label(basis.value).capitalize()),
            ("Reason for sharing without consent", form.reason_without_consent),
        ]
    sharing_rows.append(
        ("The person at risk has been told of the referral", _yes(form.person_told))
    )
    if not form.person_told:
        sharing_rows.append(("Why they have not been told", form.not_told_reason))
    found: list[Section] = [
        (
            "Referral",
            [
                ("To", form.marac),
                ("Referring agency", form.referring_service),
                ("Referrer", form.referrer),
                ("Date of referral", form.referred_on),
                ("Referrer's case reference", form.reference),
            ],
        ),
        (
            "Person at risk",
            [
                ("Name", form.victim_name),
                ("Other names", form.other_names),
                ("Date of birth", form.date_of_birth),
                ("Age", form.age),
                ("Sex", form.sex),
                ("Gender", form.gender),
                ("Sexual orientation", form.sexual_orientation),
                ("Ethnicity", form.ethnicity),
                ("Religion or belief", form.religion),
                ("Disability", form.disability),
                ("First language", form.language),
                ("Interpreter needed", form.interpreter),
                ("Immigration status", form.immigration_status),
                ("Pregnant or recently had a baby", form.pregnant),
                ("Address", address),
            ],
        ),
        (
            "Safe contact",
            [
                ("Safe telephone number", form.safe_number),
                ("Safe times to call", form.safe_times),
                ("Safe to leave a voicemail", _yes(form.voicemail_ok)),
                ("Safe to send a text", _yes(form.text_ok)),
                ("Other arrangements", form.contact_notes),
            ],
        ),
        (
            "Alleged perpetrator",
            [
                *_people(form.perpetrators, "No alleged perpetrator recorded"),
                ("More about the alleged perpetrator", form.perpetrator_notes),
            ],
        ),
        ("Children", _people(form.children, "No children recorded")),
        ("Other household members", _people(form.household, "None recorded")),
        (
            "Risk",
            [
                ("DASH risk checklist score", dash),
                ("Risk level", _label(form.dash_level).capitalize()),
                ("Police call-outs in the last 12 months", str(form.police_callouts_12m)),
            ],
        ),
        (
            "Reason for referral",
            [
                ("Reason", REASON_TEXT[ReferralReason(form.reason)]),
                ("Reason for the professional judgement", form.judgement_reason),
                (
                    "Repeat referral",
                    f"Yes: previous MARAC referral on {form.previous_referral}"
                    if form.repeat
                    else "No MARAC referral in the last 12 months",
                ),
                ("Summary of the risk", form.risk_summary),
            ],
        ),
        (
            "Agencies involved",
            [("", line) for line in form.agencies.splitlines() if line.strip()]
            or [("", "None recorded")],
        ),
        ("Consent and information sharing", sharing_rows),
    ]
    return [
        (title, [(label, value or NOT_RECORDED) for label, value in rows]) for title, rows in found
    ]
