"""Letters and texts for the people on a case, produced only when the safe-contact rules allow.

The templates (appointment, case closure, consent and information sheet, a letter to another
agency, and a text) are kept in the encrypted store's settings, each with a built-in default an
admin may change and reset; they are filled from placeholders in braces (``{client_name}``).
Before anything is made, :mod:`app.services.contact_rules` decides from the addressee's
safe-contact details; a refusal is raised as :class:`LetterRefused` with its one sentence. A
manager may override the rules a manager may override, with a reason: the reason is kept in
``contact_overrides`` for the DPO (it may name people), and the audit entry names it by id.

A letter to another agency is a disclosure: it is recorded in the sharing log as an outgoing
share to the professional's agency (:class:`AgencyShare` says its purpose and lawful basis),
through :func:`app.services.sharing.record_share` in the same transaction as the letter, so the
consent rule and a manager's review apply as for any share. A person whose processing is
restricted is not written about to another agency unless a manager overrides naming the
Art. 18(2) ground (kept with the reason for the DPO).

Letters are PDFs built in memory (the SAR pack's Unicode font helpers); a text is prepared for
the sender to copy into their work phone: Safecase sends nothing. Every letter and text is
audited with ids and the template kind only.
"""

from __future__ import annotations

import dataclasses
import json
import string
from dataclasses import dataclass

from app.errors import InvalidInput, PermissionDenied, SafecaseError
from app.models import cases as case_model
from app.models import categories as categories_model
from app.models import letters as letters_model
from app.models import people as people_model
from app.models import settings
from app.models.categories import AgencyType
from app.models.db import transaction
from app.models.letters import Override
from app.models.records import (
    CaseRole,
    ConsentState,
    Direction,
    LawfulBasis,
    Person,
    RecipientCategory,
    Share,
    ShareRecord,
)
from app.models.users import Role
from app.services import access, audit, sharing
from app.services.contact_rules import (
    GROUND_TEXT,
    OVERRIDABLE,
    WITHHELD_ADDRESS,
    Decision,
    Facts,
    Output,
    RestrictionGround,
    Rule,
    decide,
)
from app.services.session import UK, Session
from app.sync import ops

TEMPLATE_KINDS = (
    Output.APPOINTMENT,
    Output.CLOSURE,
    Output.CONSENT_SHEET,
    Output.AGENCY_LETTER,
    Output.TEXT,
)
OVERRIDE_ROLES = (Role.MANAGER,)
OVERRIDE_READERS = (Role.MANAGER, Role.DPO)
MIN_REASON = 10  # an override's reason is a sentence at least
MAX_TEMPLATE = 8000
_KEY = "letter_template:"

# Each placeholder a template may use, and what it is filled with.
PLACEHOLDERS: dict[str, str] = {
    "service_name": "the service's name (letterhead)",
    "service_address": "the service's address (letterhead)",
    "service_phone": "the service's phone number (letterhead)",
    "service_email": "the service's e-mail address (letterhead)",
    "today": "today's date",
    "case_reference": "the case's reference",
    "recipient_name": "who the letter is addressed to",
    "client_name": "the client's full name",
    "client_given_name": "the client's first name",
    "client_date_of_birth": "the client's date of birth",
    "client_address": "the client's address as the recipient may see it (the safe address in a "
    "letter to the client; withheld when confidential in a letter to anyone else)",
    "sender_name": "who is sending it (the signed-in user)",
    "appointment": "the appointment typed when producing the letter (when and where)",
    "closed_date": "the date the case closed",
}
SAMPLE: dict[str, str] = {
    "service_name": "Northfield IDVA Service",
    "service_address": "PO Box 100, Northfield NF1 1AA",
    "service_phone": "01632 960000",
    "service_email": "idva@example.org",
    "today": "3 March 2026",
    "case_reference": "SC-2026-0001",
    "recipient_name": "Alex Example",
    "client_name": "Alex Example",
    "client_given_name": "Alex",
    "client_date_of_birth": "1 April 1990",
    "client_address": "1 Sample Street, Exampletown, EX1 1EX",
    "sender_name": "worker",
    "appointment": "Tuesday 10 March at 10:30, at our office",
    "closed_date": "28 February 2026",
}


@dataclass(frozen=True)
class Template:
    kind: Output
    subject: str  # the letter's heading (unused for a text)
    body: str
    custom: bool  # an admin changed it from the built-in default


DEFAULTS: dict[Output, tuple[str, str]] = {
    Output.APPOINTMENT: (
        "Your appointment",
        "Dear {client_given_name},\n\n"
        "Thank you for talking with us. As we agreed, we will meet on {appointment}.\n\n"
        "If this time is no longer good or safe for you, please ring us on {service_phone} "
        "and we will find another.\n\n"
        "Yours sincerely,\n\n{sender_name}\n{service_name}",
    ),
    Output.CLOSURE: (
        "Our support for you",
        "Dear {client_given_name},\n\n"
        "We are writing, as we discussed, to say that we closed your case on {closed_date}.\n\n"
        "If things change, or you would like support again, you can contact us at any time on "
        "{service_phone}. In an emergency, always ring 999.\n\n"
        "We keep your records for seven years after our work with you ends, and you can ask "
        "for a copy of them.\n\n"
        "Yours sincerely,\n\n{sender_name}\n{service_name}",
    ),
    Output.CONSENT_SHEET: (
        "How we use your information",
        "Dear {client_given_name},\n\n"
        "This sheet explains what we record about you and who we may share it with.\n\n"
        "We record your contact details and how to contact you safely, the people involved, "
        "your needs, risks to you and your children, our contacts with you and your safety "
        "plan. We use it to support you and to keep you and your children safe.\n\n"
        "We ask your consent before we share your information, except where the law allows us "
        "to share without it to protect you or others; when we do, we will tell you unless "
        "that would put you at risk.\n\n"
        "You can ask to see your records, to have them corrected, and to complain to the "
        "Information Commissioner's Office (ico.org.uk). Please talk to us about any of it on "
        "{service_phone}.\n\n"
        "Yours sincerely,\n\n{sender_name}\n{service_name}",
    ),
    Output.AGENCY_LETTER: (
        "Re: {client_name}, date of birth {client_date_of_birth}",
        "Dear {recipient_name},\n\n"
        "We are supporting {client_name} (our reference {case_reference}).\n\n"
        "Address: {client_address}\n\n"
        "Please do not share this letter or contact our client without speaking to us first; "
        "ring us on {service_phone}.\n\n"
        "Yours sincerely,\n\n{sender_name}\n{service_name}",
    ),
    Output.TEXT: (
        "",
        "Hi {client_given_name}, it's {sender_name}. Just checking in as we arranged. "
        "Please call or text me back when it is safe for you.",
    ),
}


class LetterRefused(SafecaseError):
    """The safe-contact rules refused the output; ``decision`` says which rule."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


def template_fields(text: str) -> list[str]:
    """The placeholders ``text`` uses, in order; an unknown one or a stray brace is refused."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise InvalidInput(
            "A brace in the template is not closed: write placeholders like {client_name}, "
            "and a brace itself as {{ or }}."
        ) from None
    names = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise InvalidInput(
                f"The template uses {{{name}}}, which Safecase does not know; use one of {known}."
            )
        names.append(name)
    return names


def fill(text: str, values: dict[str, str]) -> str:
    template_fields(text)
    return text.format_map({name: values.get(name, "") for name in PLACEHOLDERS})


def preview(subject: str, body: str) -> str:
    """A template filled with invented sample values, as the admin's editor shows it."""
    filled_subject = fill(subject, SAMPLE)
    filled_body = fill(body, SAMPLE)
    return f"{filled_subject}\n\n{filled_body}" if filled_subject.strip() else filled_body


def _kind(kind: Output | str) -> Output:
    try:
        chosen = Output(kind)
    except ValueError:
        chosen = None
    if chosen not in TEMPLATE_KINDS:
        raise InvalidInput("There is no such template.")
    assert chosen is not None
    return chosen


def _stored(session: Session, kind: Output) -> Template:
    raw = settings.get(session.conn, _KEY + kind.value)
    if raw:
        data = json.loads(raw)
        return Template(kind, str(data["subject"]), str(data["body"]), True)
    subject, body = DEFAULTS[kind]
    return Template(kind, subject, body, False)


def templates(session: Session) -> list[Template]:
    """Every template as it now stands (those who produce letters, and admins)."""
    session.require(*access.CASE_ROLES, Role.ADMIN)
    return [_stored(session, kind) for kind in TEMPLATE_KINDS]


def may_edit_templates(session: Session) -> bool:
    """Whether the user changes the letter templates (admins)."""
    return session.has(Role.ADMIN)


def set_template(session: Session, kind: Output, subject: str, body: str) -> Template:
    """Change one template (admins); an unknown placeholder is refused, naming it."""
    session.require(Role.ADMIN)
    chosen = _kind(kind)
    if not body.strip():
        raise InvalidInput("Write the template's text.")
    if len(subject) > 300 or len(body) > MAX_TEMPLATE:
        raise InvalidInput(
            f"Keep the heading under 300 characters and the text under {MAX_TEMPLATE:,}."
        )
    template_fields(subject)
    template_fields(body)
    value = json.dumps({"subject": subject.strip(), "body": body.rstrip()}, ensure_ascii=False)
    with transaction(session.conn):
        settings.put(session.conn, _KEY + chosen.value, value)
        audit.record(
            session.conn, session.user_id, audit.SETTINGS_CHANGED, f"setting:{_KEY}{chosen.value}"
        )
    return _stored(session, chosen)


def reset_template(session: Session, kind: Output) -> Template:
    """Put one template back to Safecase's built-in default (admins)."""
    session.require(Role.ADMIN)
    chosen = _kind(kind)
    with transaction(session.conn):
        settings.remove(session.conn, _KEY + chosen.value)
        audit.record(
            session.conn,
            session.user_id,
            audit.SETTINGS_CHANGED,
            f"setting:{_KEY}{chosen.value}",
            "reset",
        )
    return _stored(session, chosen)


# -- deciding ------------------------------------------------------------------------------------


def _role_on(members: list[tuple[Person, CaseRole]], person_id: int) -> CaseRole | None:
    """The person's role on the case; an alleged perpetrator's role wins over any other."""
    roles = [role for person, role in members if person.id == person_id]
    if CaseRole.ALLEGED_PERPETRATOR in roles:
        return CaseRole.ALLEGED_PERPETRATOR
    return roles[0] if roles else None


def _facts(session: Session, case_id: int, person_id: int) -> Facts:
    access.require_case(session, case_id)
    members = [(m.person, m.role) for m in case_model.members(session.conn, case_id)]
    role = _role_on(members, person_id)
    if role is None:
        raise InvalidInput("Choose a person on this case.")
    person = next(p for p, _r in members if p.id == person_id)
    client = next((p for p, r in members if r is CaseRole.CLIENT), None)
    rules = (
        case_model.safe_contact(session.conn, case_id, person_id)
        if role is CaseRole.CLIENT
        else None
    )
    now = session.moment().astimezone(UK)
    subject = client if client is not None and client.id != person_id else None
    restricted = (
        (subject.id,)
        if subject is not None and people_model.any_restricted(session.conn, [subject.id])
        else ()
    )
    return Facts(
        addressee=person, role=role, rules=rules, now=now, subject=subject, restricted=restricted
    )


def check(session: Session, case_id: int, person_id: int, output: Output) -> Decision:
    """What the safe-contact rules say about producing ``output`` for a person on the case."""
    session.require(*access.CASE_ROLES)
    return decide(Output(output), _facts(session, case_id, person_id))


def may_override(session: Session) -> bool:
    """Whether the user may produce something the rules refused, with a reason (managers)."""
    return session.has(*OVERRIDE_ROLES)


def plan_overrides(
    session: Session,
    output: Output,
    facts: Facts,
    reason: str,
    ground: RestrictionGround | None = None,
) -> tuple[Decision, tuple[Rule, ...]]:
    """Decide, and when a rule refuses and a manager gave a reason, waive each overridable rule
    met in turn (a restriction only with its Art. 18(2) ``ground``). Returns the final
    decision (refused by the first rule that cannot be overridden, or allowed) and the rules
    to record as overridden (:func:`record_overrides`, in the transaction that makes the
    output). Records nothing."""
    session.require(*access.CASE_ROLES)
    waived: list[Rule] = []
    while True:
        decision = decide(output, facts, frozenset(waived))
        if decision.allowed or not reason.strip() or not decision.overridable:
            return decision, tuple(waived)
        if not session.has(*OVERRIDE_ROLES):
            raise PermissionDenied(
                "Only a manager may override the safe-contact rules: ask a manager to decide."
            )
        if len(reason.strip()) < MIN_REASON:
            raise InvalidInput("Say in a sentence why it is safe to go ahead despite the rule.")
        if decision.rule is Rule.RESTRICTED and ground is None:
            raise InvalidInput(
                "Name the Article 18(2) ground that allows a restricted person's data to go out."
            )
        assert decision.rule is not None
        waived.append(decision.rule)


def record_overrides(
    session: Session,
    output: Output,
    facts: Facts,
    waived: tuple[Rule, ...],
    reason: str,
    ground: RestrictionGround | None = None,
    *,
    case_id: int,
) -> tuple[int, ...]:
    """Keep each override :func:`plan_overrides` allowed, with its reason (and for a
    restriction its ground, one override for each restricted person), and audit each by id.
    Call inside the transaction that records the output."""
    session.require(*access.CASE_ROLES)
    recorded: list[int] = []
    for rule in waived:
        restricted = rule is Rule.RESTRICTED and ground is not None
        whose = facts.restricted if rule is Rule.RESTRICTED else (facts.addressee.id,)
        kept = f"{GROUND_TEXT[ground]}. {reason.strip()}" if restricted and ground else reason
        for person_id in whose:
            override_id = letters_model.add_override(
                session.conn,
                case_id=case_id,
                person_id=person_id,
                output=output.value,
                rule=rule.value,
                reason=kept.strip(),
                user_id=session.user_id,
                now=session.now(),
            )
            ops.emit_record(
                session.conn,
                "contact_override.recorded",
                override_id,
                case_id,
                session.user_id,
                session.now(),
            )
            audit.record(
                session.conn,
                session.user_id,
                audit.CONTACT_RULE_OVERRIDDEN,
                f"person:{person_id}",
                f"override:{override_id} case:{case_id} output={output.value} "
                f"rule={rule.value}" + (f" ground={ground.value}" if restricted and ground else ""),
            )
            recorded.append(override_id)
    return tuple(recorded)


def _apply_overrides(
    session: Session,
    output: Output,
    facts: Facts,
    reason: str,
    *,
    case_id: int,
) -> tuple[Decision, tuple[int, ...]]:
    """:func:`plan_overrides` then :func:`record_overrides`, inside the caller's transaction."""
    decision, waived = plan_overrides(session, output, facts, reason)
    if not decision.allowed:
        return decision, ()
    return decision, record_overrides(session, output, facts, waived, reason, case_id=case_id)


def overrides(session: Session, limit: int = 500) -> list[Override]:
    """Every override of the safe-contact rules with its reason, newest first (managers and
    the DPO)."""
    session.require(*OVERRIDE_READERS)
    return letters_model.overrides(session.conn, limit)


def may_read_overrides(session: Session) -> bool:
    return session.has(*OVERRIDE_READERS)


# -- producing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    """A letter ready to lay out: who it is to, its heading and text, on the letterhead."""

    kind: Output
    reference: str
    address: tuple[str, ...]  # the lines it is addressed to; () when handed over
    subject: str
    body: str
    date: str
    service: tuple[str, ...]  # the letterhead: name, then its contact lines
    share: Share | None = None  # a letter to another agency: its entry in the sharing log


@dataclass(frozen=True)
class PreparedText:
    number: str  # the safe number
    body: str


def _long_date(day: object) -> str:
    import datetime as dt

    if not isinstance(day, dt.date):
        return ""
    return f"{day.day} {day:%B %Y}"


def _values(
    session: Session, case_id: int, facts: Facts, decision: Decision, appointment: str
) -> dict[str, str]:
    case = case_model.get(session.conn, case_id)
    assert case is not None
    client = facts.subject or facts.addressee
    to_client = facts.subject is None
    c = client.details
    own_address = ", ".join(decision.address[1:]) if to_client else ""
    return {
        "service_name": settings.get(session.conn, settings.SERVICE_NAME) or "",
        "service_address": (settings.get(session.conn, settings.SERVICE_ADDRESS) or "").replace(
            "\n", ", "
        ),
        "service_phone": settings.get(session.conn, settings.SERVICE_PHONE) or "",
        "service_email": settings.get(session.conn, settings.SERVICE_EMAIL) or "",
        "today": _long_date(session.today()),
        "case_reference": case.reference,
        "recipient_name": facts.addressee.name,
        "client_name": client.name,
        "client_given_name": c.given_name or client.name,
        "client_date_of_birth": _long_date(c.date_of_birth) or "not recorded",
        # Only ever the safe address (to the client) or the address as others may see it.
        "client_address": own_address if to_client else ", ".join(decision.subject_address),
        "sender_name": session.username,
        "appointment": appointment.strip(),
        "closed_date": _long_date(case.closed_date) or "not closed",
    }


def _letterhead(session: Session) -> tuple[str, ...]:
    conn = session.conn
    name = settings.get(conn, settings.SERVICE_NAME) or "Safecase"
    lines = [
        settings.get(conn, key) or ""
        for key in (settings.SERVICE_ADDRESS, settings.SERVICE_PHONE, settings.SERVICE_EMAIL)
    ]
    return (name, *(line for line in lines if line.strip()))


def letter(
    session: Session,
    case_id: int,
    person_id: int,
    kind: Output,
    *,
    appointment: str = "",
    override_reason: str = "",
    share: AgencyShare | None = None,
    restriction_ground: RestrictionGround | None = None,
) -> Letter:
    """One letter for a person on the case, if the safe-contact rules allow it (or a manager
    overrides a rule that may be overridden, with a reason, and for a restriction its Art.
    18(2) ground). A letter to another agency needs ``share`` and is recorded in the sharing
    log in the same transaction. Audited."""
    session.require(*access.CASE_ROLES)
    chosen = _kind(kind)
    if chosen is Output.TEXT:
        raise InvalidInput("A text is prepared for copying, not laid out as a letter.")
    if chosen is Output.APPOINTMENT and not appointment.strip():
        raise InvalidInput("Say when and where the appointment is.")
    facts = _facts(session, case_id, person_id)
    template = _stored(session, chosen)
    decision, waived = plan_overrides(session, chosen, facts, override_reason, restriction_ground)
    if not decision.allowed:
        raise LetterRefused(decision)
    values = _values(session, case_id, facts, decision, appointment)
    made = Letter(
        kind=chosen,
        reference=values["case_reference"],
        address=decision.address,
        subject=fill(template.subject, values),
        body=fill(template.body, values),
        date=values["today"],
        service=_letterhead(session),
    )

    def keep(share_id: int | None) -> None:
        overridden = record_overrides(
            session,
            chosen,
            facts,
            waived,
            override_reason,
            restriction_ground,
            case_id=case_id,
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.LETTER_PRODUCED,
            f"case:{case_id}",
            f"person:{person_id} kind={chosen.value}"
            + (f" share:{share_id}" if share_id is not None else "")
            + _overrides_text(overridden),
        )

    if chosen is not Output.AGENCY_LETTER:
        with transaction(session.conn):
            keep(None)
        return made
    if share is None:
        raise InvalidInput(
            "A letter to another agency is a disclosure: say what it is for and its lawful "
            "basis, for the sharing log."
        )
    record = _agency_record(session, case_id, facts, template, decision, share)
    released = facts.restricted if Rule.RESTRICTED in waived else ()
    shared = sharing.record_share(session, record, with_share=keep, restriction_overridden=released)
    return dataclasses.replace(made, share=shared)


# -- a letter to another agency is a share ------------------------------------------------------


@dataclass(frozen=True)
class AgencyShare:
    """What the sharing log needs about a letter to another agency, besides what the letter
    itself says (who it goes to, whose data and which categories)."""

    purpose: str
    lawful_basis: LawfulBasis
    reason: str = ""  # why it goes without consent
    person_told: bool = True
    not_told_reason: str = ""
    consulted_manager_id: int | None = None  # a caseworker's manager; None: a review is due
    court_reference: str = ""


@dataclass(frozen=True)
class AgencySharing:
    """A letter to another agency as the sharing log will record it, for the letters dialog:
    the recipient category and organisation, whose data and which categories it carries,
    whose consent to that recipient is not given, and the lawful bases it may rest on."""

    recipient: RecipientCategory
    organisation: str
    person_ids: tuple[int, ...]
    data_categories: tuple[str, ...]
    gaps: dict[int, ConsentState]
    bases: tuple[LawfulBasis, ...]


_RECIPIENT_OF_AGENCY = {
    AgencyType.POLICE: RecipientCategory.POLICE,
    AgencyType.CHILDRENS_SOCIAL_CARE: RecipientCategory.CHILDRENS_SOCIAL_CARE,
    AgencyType.ADULT_SOCIAL_CARE: RecipientCategory.ADULT_SOCIAL_CARE,
    AgencyType.GP: RecipientCategory.GP,
    AgencyType.HEALTH: RecipientCategory.HEALTH,
    AgencyType.MENTAL_HEALTH: RecipientCategory.HEALTH,
    AgencyType.HOUSING: RecipientCategory.HOUSING,
}
# The sharing log's data categories each placeholder carries about the client.
_CARRIES = {
    "client_name": "name",
    "client_given_name": "name",
    "client_date_of_birth": "date of birth",
    "client_address": "address",
    "appointment": "contacts and visits",
}


def _recipient(session: Session, case_id: int, professional: Person) -> RecipientCategory:
    """The professional's agency as a recipient category: the case's agency of that name
    (or whose contact names them); another agency when none matches."""
    organisation = professional.details.organisation.strip().casefold()
    for agency in categories_model.agencies(session.conn, case_id):
        named = bool(organisation) and agency.name.strip().casefold() == organisation
        if named or professional.name.casefold() in agency.contact.casefold():
            return _RECIPIENT_OF_AGENCY.get(agency.agency_type, RecipientCategory.OTHER_AGENCY)
    return RecipientCategory.OTHER_AGENCY


def _carried(template: Template, decision: Decision) -> tuple[str, ...]:
    """The categories of the client's data the letter carries: that the service supports
    them (referral), and what its placeholders put on it (an address only when shown)."""
    used = set(template_fields(template.subject)) | set(template_fields(template.body))
    found = {"referral", *(_CARRIES[name] for name in used if name in _CARRIES)}
    if decision.subject_address in ((), (WITHHELD_ADDRESS,)):
        found.discard("address")
    order = ("name", "address", "date of birth", "referral", "contacts and visits")
    return tuple(c for c in order if c in found)


def _agency_record(
    session: Session,
    case_id: int,
    facts: Facts,
    template: Template,
    decision: Decision,
    share: AgencyShare,
) -> ShareRecord:
    professional = facts.addressee
    return ShareRecord(
        case_id=case_id,
        direction=Direction.OUT,
        shared_at=session.moment().strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        organisation=professional.details.organisation.strip() or professional.name,
        recipient_category=_recipient(session, case_id, professional),
        person_ids=(facts.subject.id,) if facts.subject is not None else (),
        data_categories=_carried(template, decision),
        purpose=share.purpose.strip(),
        method="Letter",
        lawful_basis=share.lawful_basis,
        court_reference=share.court_reference.strip(),
        reason=share.reason.strip(),
        person_told=share.person_told,
        not_told_reason="" if share.person_told else share.not_told_reason.strip(),
        consulted_manager_id=share.consulted_manager_id,
    )


def agency_sharing(session: Session, case_id: int, person_id: int) -> AgencySharing:
    """How a letter to this professional would be recorded in the sharing log, and whose
    consent to their agency is missing (shown before the letter is produced)."""
    session.require(*access.CASE_ROLES)
    facts = _facts(session, case_id, person_id)
    if facts.role is not CaseRole.PROFESSIONAL:
        raise InvalidInput(
            "A letter to another agency goes to a professional on the case; add them to the "
            "case as a professional first."
        )
    decision = decide(Output.AGENCY_LETTER, facts, OVERRIDABLE)
    probe = AgencyShare(purpose="", lawful_basis=LawfulBasis.CONSENT)
    record = _agency_record(
        session, case_id, facts, _stored(session, Output.AGENCY_LETTER), decision, probe
    )
    gaps = sharing.consent_gaps(session, record) if record.person_ids else {}
    return AgencySharing(
        record.recipient_category,
        record.organisation,
        record.person_ids,
        record.data_categories,
        gaps,
        sharing.lawful_bases(Direction.OUT, gaps),
    )


def letter_pdf(
    session: Session,
    case_id: int,
    person_id: int,
    kind: Output,
    *,
    appointment: str = "",
    override_reason: str = "",
    share: AgencyShare | None = None,
    restriction_ground: RestrictionGround | None = None,
    compress: bool = True,
) -> bytes:
    """The letter as a PDF built in memory (to print, or to save where the user chooses)."""
    from app.services import letters_pdf

    made = letter(
        session,
        case_id,
        person_id,
        kind,
        appointment=appointment,
        override_reason=override_reason,
        share=share,
        restriction_ground=restriction_ground,
    )
    return letters_pdf.render(made, compress=compress)


def prepare_text(
    session: Session,
    case_id: int,
    person_id: int,
    *,
    appointment: str = "",
    safe_time_confirmed: bool = False,
    override_reason: str = "",
) -> PreparedText:
    """A text for the sender to copy to their work phone: only when texts are OK, to the safe
    number, at a safe time (times Safecase cannot read need ``safe_time_confirmed``). Nothing
    is sent. Audited."""
    session.require(*access.CASE_ROLES)
    facts = _facts(session, case_id, person_id)
    template = _stored(session, Output.TEXT)
    with transaction(session.conn):
        decision, overridden = _apply_overrides(
            session, Output.TEXT, facts, override_reason, case_id=case_id
        )
        if decision.needs_confirmation and safe_time_confirmed:
            decision = Decision(Output.TEXT, None, "", number=decision.number)
        if not decision.allowed:
            raise LetterRefused(decision)
        values = _values(session, case_id, facts, decision, appointment)
        body = fill(template.body, values)
        audit.record(
            session.conn,
            session.user_id,
            audit.TEXT_PREPARED,
            f"case:{case_id}",
            f"person:{person_id} kind=text"
            + (" safe_time_confirmed" if safe_time_confirmed else "")
            + _overrides_text(overridden),
        )
    return PreparedText(decision.number, body)


def _overrides_text(overridden: tuple[int, ...]) -> str:
    return "".join(f" override:{i}" for i in overridden)
