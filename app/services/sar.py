"""Subject access packs: gather everything held about a person, redact other people's data,
let a manager review, sign off and export or print it.

The pack for an access (or portability) request in the register holds the subject's own
record, every case they appear on (for their own cases everything; for other people's cases
what mentions them), notes and contacts with their corrections, safe contact details (their
own only), risk checklists completed for them, their consent decisions, the sharing log entries
about them and their earlier rights requests.

Redaction, character by character (app/models/redaction.py):
- every other person's names, aliases, addresses, postcodes, phone numbers, emails and dates of
  birth are redacted wherever they appear, free text included, unless a reviewer decides
  disclosure is reasonable; professionals acting in their role are not redacted;
- what is written on a case where the subject is not the person supported is withheld whole by
  default (serious harm when the subject is an alleged perpetrator, third party otherwise);
- safe contact details (safe numbers, code words) and confidential addresses of anyone else
  are never disclosed: a reviewer's attempt is refused;
- a reviewer's decisions apply to the version of the text they were made on; when the text
  changes afterwards, a text with a reviewer's redaction in it is withheld whole until it is
  reviewed again.

Each decision is kept in the redaction log (the ``redactions`` table) with its code, who and
when; the export adds the automatic redactions it applied. The log is not part of the pack.
A subject recorded as an alleged perpetrator anywhere is flagged, and their pack cannot be
exported or printed until a manager signs off exactly the content that goes out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.crypto.connection import Connection
from app.crypto.files import os_error
from app.errors import InvalidInput, SafecaseError
from app.models import cases as case_model
from app.models import categories as categories_model
from app.models import consent as consent_model
from app.models import letters as letters_model
from app.models import marac_forms as marac_forms_model
from app.models import notes as note_model
from app.models import outcomes as outcome_model
from app.models import people as people_model
from app.models import redaction as rx
from app.models import retention as retention_model
from app.models import rights as rights_model
from app.models import risk as risk_model
from app.models import settings
from app.models import sharing as share_model
from app.models import users as user_model
from app.models.db import transaction
from app.models.records import (
    Case,
    CaseRole,
    CaseStatus,
    Direction,
    Note,
    Person,
    RecipientCategory,
)
from app.models.redaction import Exemption, Source
from app.models.rights import Action, Decision, RequestStatus, RightKind, RightsRequest
from app.models.search import phone_digits
from app.models.users import Role
from app.services import audit
from app.services import rights as rights_service
from app.services.rights import RequestDraft
from app.services.session import UK, Session
from app.sync import registers

PACK_ROLES = (Role.MANAGER,)
LOG_ROLES = (Role.MANAGER, Role.DPO)
PACK_KINDS = (RightKind.ACCESS, RightKind.PORTABILITY)
# (step, steps, what is happening): no personal data, for a progress dialog.
Progress = Callable[[int, int, str], None]
EXPORT_MARK = "applied at export: "
GUARDED_WHY = "written on another person's case record"

ROLE_LABELS = {
    CaseRole.CLIENT: "the person supported",
    CaseRole.ALLEGED_PERPETRATOR: "alleged perpetrator",
    CaseRole.CHILD: "child",
    CaseRole.HOUSEHOLD_MEMBER: "other household member",
    CaseRole.PROFESSIONAL: "professional",
}
RECIPIENT_LABELS = {
    RecipientCategory.POLICE: "the police",
    RecipientCategory.GP: "GPs",
    RecipientCategory.HEALTH: "hospitals and health services",
    RecipientCategory.CHILDRENS_SOCIAL_CARE: "children's social care",
    RecipientCategory.ADULT_SOCIAL_CARE: "adult social care and safeguarding",
    RecipientCategory.HOUSING: "housing providers",
    RecipientCategory.COURTS: "criminal and civil courts",
    RecipientCategory.MARAC: "the multi-agency risk assessment conference (MARAC)",
    RecipientCategory.OTHER_AGENCY: "other agencies supporting you",
}


class PackRefused(SafecaseError):
    """The pack may not be finalised, or a decision on it is not allowed."""

    # The request opened for the refused pack, when the call opened one.
    request: RightsRequest | None = None


# -- what a pack is -----------------------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PackItem:
    """One piece of text in the pack, with its redacted runs. ``key`` is stable across builds;
    decisions are made on one version of the text."""

    key: str
    label: str
    text: str
    spans: tuple[rx.Span, ...] = ()
    stale: bool = False

    @property
    def version(self) -> str:
        return _digest(self.text)[:16]

    @property
    def log_item(self) -> str:
        return f"{self.key}@{self.version}"

    @property
    def redacted(self) -> bool:
        return bool(self.spans)

    def disclosed(self, marker: Callable[[str], str] = rx.json_marker) -> str:
        return rx.disclosed(self.text, self.spans, marker)


@dataclass(frozen=True)
class PackEntry:
    heading: str  # never personal data
    date: str  # ISO date, or ""
    items: tuple[PackItem, ...]


@dataclass(frozen=True)
class PackSection:
    title: str  # never personal data
    dates: str
    entries: tuple[PackEntry, ...]


@dataclass(frozen=True)
class Letterhead:
    name: str
    address: str = ""
    phone: str = ""
    email: str = ""
    dpo: str = ""


@dataclass(frozen=True)
class CoverFacts:
    """What the law says the requester must be told, worked out from the pack."""

    letterhead: Letterhead
    categories: tuple[str, ...]
    recipients: tuple[str, ...]
    sources: tuple[str, ...]
    retention: str  # how long records are kept: the schedule's own policy, in words


@dataclass(frozen=True)
class SarPack:
    request: RightsRequest
    subject_id: int
    perpetrator: bool
    perpetrator_cases: tuple[str, ...]  # case references
    sections: tuple[PackSection, ...]
    cover: CoverFacts
    digest: str  # SHA-256 of the disclosed content: what a sign-off approves
    signed_off: bool
    warnings: tuple[str, ...] = ()
    # The covering letter's address: only ever the safe address, and only when the safe-contact
    # rules allow post; otherwise () and ``by_hand`` says why it is handed over, not posted.
    addressed_to: tuple[str, ...] = ()
    by_hand: str = ""
    # In a team: the laptops that may hold the subject's cases and have sent nothing since the
    # request arrived, so what they hold may be missing (for the manager; not sent).
    team_note: str = ""

    @property
    def needs_signoff(self) -> bool:
        return self.perpetrator

    @property
    def ready(self) -> bool:
        """Whether the pack may be exported or printed now."""
        return self.request.identity_confirmed_on is not None and (
            self.signed_off or not self.needs_signoff
        )

    def items(self) -> Iterator[PackItem]:
        for section in self.sections:
            for entry in section.entries:
                yield from entry.items

    def item(self, key: str) -> PackItem:
        for item in self.items():
            if item.key == key:
                return item
        raise InvalidInput("That part of the pack does not exist (it may have changed).")

    def content(self) -> list[dict[str, object]]:
        """The disclosed content as plain data, in order (the JSON copy's ``sections``)."""
        return _content(self.sections)


def _content(sections: tuple[PackSection, ...] | list[PackSection]) -> list[dict[str, object]]:
    return [
        {
            "title": s.title,
            "dates": s.dates,
            "entries": [
                {
                    "heading": e.heading,
                    "date": e.date,
                    "fields": [{"label": i.label, "value": i.disclosed()} for i in e.items],
                }
                for e in s.entries
            ],
        }
        for s in sections
    ]


@dataclass(frozen=True)
class ExportResult:
    export_id: int
    written: tuple[Path, ...]  # the files (or the zip) written
    files: tuple[tuple[str, int, str], ...]  # (name, bytes, sha256) of each file in the pack
    by_hand: str = ""  # why the covering letter is not addressed (the safe-contact rules)


# -- building ------------------------------------------------------------------------------------


@dataclass
class _Raw:
    key: str
    label: str
    text: str
    default: Exemption | None = None
    default_why: str = ""


@dataclass
class _RawEntry:
    heading: str
    date: str
    items: list[_Raw] = field(default_factory=list)

    def add(
        self,
        key: str,
        label: str,
        value: object,
        default: Exemption | None = None,
        why: str = "",
    ) -> None:
        text = _text(value)
        if text.strip():
            self.items.append(_Raw(key, label, text, default, why if default else ""))


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value if str(v).strip())
    return str(value)


_CATEGORY_LABELS = (
    ("sex", "Sex"),
    ("gender_identity", "Gender identity"),
    ("sexual_orientation", "Sexual orientation"),
    ("ethnicity", "Ethnicity (census 2021)"),
    ("religion", "Religion or belief"),
    ("disability", "Disability"),
    ("disability_type", "Type of disability"),
    ("first_language", "First language"),
    ("interpreter_needed", "Interpreter needed"),
    ("immigration_status", "Immigration status"),
    ("no_recourse_to_public_funds", "No recourse to public funds"),
    ("pregnant", "Pregnant"),
)


def _label(value: str) -> str:
    return value.replace("_", " ")


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _normal(text: str) -> str:
    return " ".join(re.split(r"[\s,]+", text.lower())).strip()


def _patterns_for_others(
    subject: Person, others: list[Person], safe_contacts: list[tuple[str, str]]
) -> list[rx.Pattern]:
    """Patterns for other people's identifying data; values the subject shares are skipped
    (they are the subject's own too), but safe contact details never are."""
    d = subject.details
    own_names = rx.name_tokens(d.full_name, *d.aliases) | {
        rx.normal(n) for n in (d.full_name, *d.aliases)
    }
    own_phones = {phone_digits(p) for p in d.phones}
    patterns: list[rx.Pattern] = []
    for person in others:
        o = person.details
        patterns += rx.name_patterns(
            [o.full_name, o.given_name, o.family_name, *o.aliases], exclude=own_names
        )
        for phone in o.phones:
            if phone_digits(phone) not in own_phones and (p := rx.phone_pattern(phone)):
                patterns.append(p)
        hidden = o.address_confidential
        code = Exemption.SERIOUS_HARM if hidden else Exemption.THIRD_PARTY
        if _compact(o.postcode) != _compact(d.postcode):
            patterns += [p for p in [rx.postcode_pattern(o.postcode, code, protected=hidden)] if p]
        if o.address and _normal(o.address) != _normal(d.address):
            patterns += rx.address_patterns(
                o.address, code, protected=hidden, exclude_streets=rx.street_names(d.address)
            )
        if o.email.strip().lower() != d.email.strip().lower():
            patterns += [p for p in [rx.email_pattern(o.email)] if p]
        if o.date_of_birth and o.date_of_birth != d.date_of_birth:
            patterns += rx.date_patterns(o.date_of_birth)
    for number, code_word in safe_contacts:
        if number and (
            p := rx.phone_pattern(
                number, Exemption.SERIOUS_HARM, protected=True, why="safe contact number"
            )
        ):
            patterns.append(p)
        if code_word and (
            p := rx.word_pattern(
                code_word, Exemption.SERIOUS_HARM, protected=True, why="safe contact code word"
            )
        ):
            patterns.append(p)
    return patterns


def _patterns_for_subject(subject: Person) -> list[rx.Pattern]:
    """What finds the subject in other people's records."""
    d = subject.details
    patterns = rx.name_patterns([d.full_name, d.given_name, d.family_name, *d.aliases])
    patterns += [p for p in (rx.phone_pattern(n) for n in d.phones) if p]
    if d.postcode and (p := rx.postcode_pattern(d.postcode)):
        patterns.append(p)
    if d.email and (p := rx.email_pattern(d.email)):
        patterns.append(p)
    return patterns


def _all_notes(session: Session, case_id: int) -> list[Note]:
    found: list[Note] = []
    while batch := note_model.timeline(session.conn, case_id, limit=500, offset=len(found)):
        found += batch
    return sorted(found, key=lambda n: (n.occurred_at, n.id))


def _date_range(dates: list[str]) -> str:
    days = sorted(d[:10] for d in dates if d)
    if not days:
        return ""
    return days[0] if days[0] == days[-1] else f"{days[0]} to {days[-1]}"


class _Builder:
    """Gathers one subject's records as raw items, then lays redaction over them."""

    def __init__(self, session: Session, request: RightsRequest) -> None:
        if request.kind not in PACK_KINDS:
            raise InvalidInput("A pack is made for an access or portability request.")
        if request.subject_person_id is None:
            raise InvalidInput(
                "Nobody on record matches this request: record the outcome as no data held."
            )
        self.session = session
        self.conn = session.conn
        self.request = request
        subject = people_model.get(self.conn, request.subject_person_id)
        if subject is None:
            raise InvalidInput("The request's subject is no longer on record.")
        self.subject = subject
        self.users = {u.id: u.username for u in user_model.all_users(self.conn)}
        self.sections: list[tuple[str, list[_RawEntry]]] = []
        self.others: dict[int, Person] = {}
        self.professionals: set[int] = set()
        self.non_professional: set[int] = set()
        self.safe_contacts: list[tuple[str, str]] = []
        self.recipients: set[str] = set()
        self.sources: set[str] = set()
        self.categories: set[str] = set()
        self.perpetrator_cases: list[str] = []
        self.subject_patterns = _patterns_for_subject(subject)
        self.section_dates: dict[str, str] = {}
        # What is written on someone else's case is withheld by default: from an alleged
        # perpetrator because disclosure could cause serious harm, from anyone else as the
        # person supported's own data.
        perpetrator = CaseRole.ALLEGED_PERPETRATOR in case_model.roles_of(self.conn, subject.id)
        self.guarded = Exemption.SERIOUS_HARM if perpetrator else Exemption.THIRD_PARTY

    # -- gathering ------------------------------------------------------------------------------

    def gather(self) -> None:
        self._person()
        case_ids = people_model.case_ids(self.conn, self.subject.id)
        cases = [c for c in (case_model.get(self.conn, i) for i in case_ids) if c is not None]
        for case in sorted(cases, key=lambda c: (c.details.referral_date, c.reference)):
            self._case(case)
        self._consents()
        self._earlier_requests()

    def _person(self) -> None:
        p, d = self.subject, self.subject.details
        created, updated = people_model.recorded_dates(self.conn, p.id)
        entry = _RawEntry("Details we hold about you", created[:10])
        key = f"person:{p.id}"
        entry.add(f"{key}:name", "Name", d.full_name)
        entry.add(f"{key}:aliases", "Other names", d.aliases)
        entry.add(f"{key}:dob", "Date of birth", d.date_of_birth)
        entry.add(f"{key}:gender", "Gender", d.gender)
        entry.add(f"{key}:sexuality", "Sexuality", d.sexuality)
        entry.add(f"{key}:ethnicity", "Ethnicity", d.ethnicity)
        entry.add(f"{key}:language", "Language", d.language)
        if d.interpreter_needed:
            entry.add(f"{key}:interpreter", "Interpreter needed", True)
        entry.add(f"{key}:disabilities", "Disabilities", d.disabilities)
        entry.add(f"{key}:address", "Address", d.address)
        entry.add(f"{key}:postcode", "Postcode", d.postcode)
        if d.address_confidential:
            entry.add(f"{key}:confidential", "Address kept confidential", True)
        entry.add(f"{key}:phones", "Phone numbers", d.phones)
        entry.add(f"{key}:email", "Email", d.email)
        entry.add(f"{key}:health", "Health information", d.health_notes)
        entry.add(f"{key}:organisation", "Organisation", d.organisation)
        entry.add(f"{key}:job", "Job title", d.job_title)
        recorded = categories_model.get(self.conn, p.id)
        for name, label in _CATEGORY_LABELS:
            value = str(getattr(recorded, name))
            if value and value != categories_model.NOT_ASKED:
                entry.add(f"{key}:{name}", label, _label(value))
        if recorded != categories_model.PersonCategories():
            self.categories.add(
                "equality and monitoring information (the categories you told us or declined)"
            )
        if p.restricted:
            entry.add(f"{key}:restricted", "Processing restricted", True)
            entry.add(f"{key}:restriction", "Reason for the restriction", p.restriction_reason)
        self.categories.add("your identity and contact details")
        if d.health_notes or d.disabilities:
            self.categories.add("health information")
        if d.ethnicity or d.gender or d.sexuality or d.language:
            self.categories.add("equality information (ethnicity, gender, sexuality, language)")
        self.sections.append(("Your details", [entry]))
        self.section_dates["Your details"] = _date_range([created, updated])

    def _case(self, case: Case) -> None:
        conn, subject_id = self.conn, self.subject.id
        members = case_model.members(conn, case.id)
        roles = {m.role for m in members if m.person.id == subject_id}
        own = CaseRole.CLIENT in roles
        if CaseRole.ALLEGED_PERPETRATOR in roles:
            self.perpetrator_cases.append(case.reference)
        guard = None if own else self.guarded
        for m in members:
            if m.person.id == subject_id:
                continue
            self.others[m.person.id] = m.person
            if m.role is CaseRole.PROFESSIONAL:
                self.professionals.add(m.person.id)
            else:
                self.non_professional.add(m.person.id)
        if case.details.referrer_id and case.details.referrer_id != subject_id:
            referrer = people_model.get(conn, case.details.referrer_id)
            if referrer is not None:
                self.others[referrer.id] = referrer
                self.professionals.add(referrer.id)
        for m in members:
            if m.person.id != subject_id and m.role is CaseRole.CLIENT:
                rules = case_model.safe_contact(conn, case.id, m.person.id)
                if rules is not None:
                    self.safe_contacts.append((rules.safe_number, rules.code_word))

        key = f"case:{case.id}"
        d = case.details
        record = _RawEntry("Case record", d.referral_date.isoformat())
        ordered = sorted(roles, key=list(CaseRole).index)
        record.add(f"{key}:role", "Your role on this case", [ROLE_LABELS[r] for r in ordered])
        record.add(f"{key}:status", "Status", _label(case.status.value))
        record.add(f"{key}:referred", "Referred", d.referral_date)
        record.add(f"{key}:opened", "Opened", case.opened_date)
        record.add(f"{key}:closed", "Closed", case.closed_date)
        free = [
            ("referral_source", "Referred by", d.referral_source),
            ("other_services", "Other services involved", d.other_services),
            ("needs", "Assessment of needs", d.needs_assessment),
            ("safety_plan", "Safety plan", d.safety_plan),
            ("closed_reason", "Reason for closing", case.closed_reason),
        ]
        for name, label, value in free:
            if own or (value and rx.mentions(value, self.subject_patterns)):
                record.add(f"{key}:{name}", label, value, guard, GUARDED_WHY)
        if own:
            record.add(f"{key}:risk", "Risk level", _label(case.risk_level or ""))
            record.add(f"{key}:marac_referral", "Referred to MARAC", case.marac_referral_date)
            record.add(f"{key}:marac_meeting", "MARAC meeting", case.marac_meeting)
            if case.status is not CaseStatus.CLOSED:
                record.add(f"{key}:review", "Next review", d.next_review)
            if d.referral_source:
                self.sources.add("the professionals who referred you to us")
            self.categories.add("case records: referral, needs assessment and other services")
            for item in categories_model.legal_items(conn, case.id):
                record.add(
                    f"{key}:legal:{item.id}",
                    _label(item.kind.value).capitalize(),
                    "; ".join(
                        part
                        for part in (
                            _label(item.order_type.value),
                            item.starts_on.isoformat(),
                            f"until {item.ends_on.isoformat()}" if item.ends_on else "",
                            item.court,
                            item.conditions,
                        )
                        if part
                    ),
                )
            source = categories_model.referral_source(conn, case.id)
            if source is not None:
                record.add(
                    f"{key}:referral_agency",
                    "Referred by (kind of agency)",
                    _label(source.agency_type.value),
                )
                record.add(f"{key}:referrer", "Referrer", source.referrer)
            for agency in categories_model.agencies(conn, case.id):
                record.add(
                    f"{key}:agency:{agency.id}",
                    "Another agency involved",
                    "; ".join(
                        p
                        for p in (_label(agency.agency_type.value), agency.name, agency.contact)
                        if p
                    ),
                )
            if d.safety_plan:
                self.categories.add("safety plans")
        if CaseRole.CHILD in roles:
            for child in categories_model.children(conn, case.id):
                if child.person_id == subject_id:
                    record.add(f"{key}:school", "School", child.school)
                    record.add(
                        f"{key}:child_protection",
                        "Child-protection status",
                        _label(child.protection.value),
                    )
                    record.add(f"{key}:lives_with", "Lives with", _label(child.lives_with.value))
        entries = [record]

        for m in members:
            if m.person.id == subject_id:
                continue
            person_key = f"{key}:person:{m.person.id}"
            entry = _RawEntry("Another person on this case", "")
            entry.add(f"{person_key}:role", "Role", ROLE_LABELS[m.role])
            if m.role is CaseRole.PROFESSIONAL:
                entry.add(f"{person_key}:name", "Name", m.person.name)
                entry.add(
                    f"{person_key}:organisation", "Organisation", m.person.details.organisation
                )
                entry.add(f"{person_key}:job", "Job title", m.person.details.job_title)
            else:
                entry.add(
                    f"{person_key}:name",
                    "Name",
                    m.person.name,
                    Exemption.THIRD_PARTY,
                    "another person's name",
                )
            entries.append(entry)
        if len(members) > 1:
            self.categories.add("relationships: the other people on your case records")

        if own:
            rules = case_model.safe_contact(conn, case.id, subject_id)
            if rules is not None:
                safe = _RawEntry("How we may contact you safely", _text(rules.last_checked))
                sk = f"{key}:safe"
                safe.add(f"{sk}:number", "Safe number", rules.safe_number)
                safe.add(f"{sk}:method", "Way of contact", rules.method)
                safe.add(f"{sk}:times", "Safe times", rules.safe_times)
                safe.add(f"{sk}:voicemail", "Voicemail is safe", rules.voicemail_ok)
                safe.add(f"{sk}:text", "Text messages are safe", rules.text_ok)
                safe.add(f"{sk}:letters", "Letters are safe", rules.letters_ok)
                safe.add(f"{sk}:code_word", "Code word", rules.code_word)
                safe.add(f"{sk}:dnc", "Do not contact", rules.do_not_contact)
                safe.add(f"{sk}:safe_people", "People it is safe to speak to", rules.safe_people)
                safe.add(
                    f"{sk}:unsafe_people", "People it is not safe to speak to", rules.unsafe_people
                )
                safe.add(f"{sk}:safe_address", "Safe address for letters", rules.safe_address)
                safe.add(f"{sk}:safe_postcode", "Safe postcode for letters", rules.safe_postcode)
                safe.add(f"{sk}:checked", "Last checked", rules.last_checked)
                entries.append(safe)
                self.categories.add("safe contact details")
            for override in letters_model.for_case_person(conn, case.id, subject_id):
                entry = _RawEntry(
                    "Sent to you although your safe-contact details said otherwise",
                    override.decided_at[:10],
                )
                ok = f"{key}:override:{override.id}"
                entry.add(f"{ok}:what", "What was sent", _label(override.output))
                entry.add(f"{ok}:rule", "The rule a manager overrode", _label(override.rule))
                entry.add(f"{ok}:reason", "The manager's reason", override.reason)
                entry.add(f"{ok}:by", "Decided by", self.users.get(override.decided_by, ""))
                entries.append(entry)

        entries += self._notes(case.id, own, guard)
        if own:
            entries += self._risk(case.id)
            entries += self._closing(case)
        entries += self._marac_forms(case.id, own, guard)
        entries += self._shares(case.id, own, guard)
        dates = [d.referral_date.isoformat(), _text(case.closed_date)]
        dates += [e.date for e in entries]
        self.sections.append((f"Case {case.reference}", entries))
        self.section_dates[f"Case {case.reference}"] = _date_range(dates)

    def _notes(self, case_id: int, own: bool, guard: Exemption | None) -> list[_RawEntry]:
        entries: list[_RawEntry] = []
        for note in _all_notes(self.session, case_id):
            history = note_model.history(self.conn, note.id)
            texts = [note.body, note.dispute_reason, *(h.body for h in history)]
            if not own and not any(rx.mentions(t, self.subject_patterns) for t in texts if t):
                continue
            key = f"note:{note.id}"
            entry = _RawEntry(_label(note.kind.value).capitalize(), note.occurred_at[:10])
            entry.add(f"{key}:when", "Date and time", note.occurred_at.replace("T", " ")[:16])
            entry.add(f"{key}:author", "Recorded by", self.users.get(note.author_id, ""))
            label = "Note (as corrected)" if note.corrected else "Note"
            entry.add(f"{key}:body", label, note.body, guard, GUARDED_WHY)
            # The history: the original, then each correction's reason (and its text, but for
            # the last one, whose text is the note as it now reads).
            corrections = history[1:] if note.corrected else []
            if corrections:
                original = history[0]
                entry.add(f"{key}:rev0", "Original text", original.body, guard, GUARDED_WHY)
            for n, rev in enumerate(corrections, start=1):
                who = self.users.get(rev.changed_by, "")
                if n < len(corrections):
                    entry.add(f"{key}:rev{n}", f"Correction {n} text", rev.body, guard, GUARDED_WHY)
                entry.add(
                    f"{key}:rev{n}:reason",
                    f"Correction {n} ({rev.changed_at[:10]}, {who}): why",
                    rev.reason,
                    guard,
                    GUARDED_WHY,
                )
            if note.disputed:
                entry.add(
                    f"{key}:dispute", "What is disputed", note.dispute_reason, guard, GUARDED_WHY
                )
            entries.append(entry)
        if entries:
            self.categories.add("notes of contacts, visits, calls and meetings")
        return entries

    def _risk(self, case_id: int) -> list[_RawEntry]:
        entries = []
        for dash in risk_model.for_person(self.conn, self.subject.id):
            if dash.case_id != case_id:
                continue
            key = f"dash:{dash.id}"
            entry = _RawEntry(
                "Risk identification checklist (SafeLives DASH)", dash.completed_on.isoformat()
            )
            entry.add(
                f"{key}:yes", "Yes answers", f"{dash.yes_count} of {len(risk_model.QUESTIONS)}"
            )
            entry.add(f"{key}:score", "Risk level from the answers", _label(dash.score_level))
            if dash.judgement_level:
                entry.add(
                    f"{key}:judgement", "Professional judgement", _label(dash.judgement_level)
                )
                entry.add(
                    f"{key}:judgement_reason", "Reason for the judgement", dash.judgement_reason
                )
            entry.add(f"{key}:callouts", "Police call-outs in 12 months", dash.police_callouts_12m)
            entry.add(f"{key}:level", "Risk level", _label(dash.level))
            entry.add(f"{key}:marac", "MARAC referral criteria met", dash.marac_reasons)
            for number, question in enumerate(risk_model.QUESTIONS, start=1):
                answer = dash.answers.get(number)
                if answer is None:
                    continue
                text = _label(answer.value)
                if dash.sources.get(number):
                    text += f" (from: {dash.sources[number]})"
                entry.add(f"{key}:q{number}", f"{number}. {question}", text)
            entries.append(entry)
        if entries:
            self.categories.add("risk assessments")
        return entries

    def _closing(self, case: Case) -> list[_RawEntry]:
        """The actions agreed at MARAC and the outcomes recorded when the case closed."""
        entries = []
        for action in risk_model.actions(self.conn, case.id):
            key = f"marac_action:{action.id}"
            entry = _RawEntry("Action agreed at MARAC", action.due_on.isoformat())
            entry.add(f"{key}:action", "Action", action.action)
            entry.add(f"{key}:owner", "Owner", action.owner)
            entry.add(f"{key}:due", "Due by", action.due_on)
            entry.add(f"{key}:done", "Done on", action.done_on)
            entries.append(entry)
        if entries:
            self.categories.add("risk assessments")
        outcome = outcome_model.get(self.conn, case.id)
        if outcome is not None:
            key = f"case:{case.id}:outcome"
            entry = _RawEntry("Outcomes when the case closed", _text(case.closed_date))
            entry.add(f"{key}:reason", "Reason for closing", _label(outcome.reason))
            entry.add(f"{key}:risk", "Risk at exit", _label(outcome.risk_at_exit))
            entry.add(f"{key}:abuse", "Abuse since referral", _label(outcome.abuse))
            entry.add(f"{key}:safer", "Feeling safer", _label(outcome.feeling_safer))
            entry.add(f"{key}:life", "Quality of life", _label(outcome.quality_of_life))
            entry.add(f"{key}:engaged", "Engagement with the service", _label(outcome.engagement))
            entries.append(entry)
            self.categories.add("outcomes of our support")
        return entries

    def _marac_forms(self, case_id: int, own: bool, guard: Exemption | None) -> list[_RawEntry]:
        """The MARAC referral forms issued from the case, each exactly as it went out: for the
        person at risk in full; for someone else on the form, withheld by default (it was
        written about the person at risk)."""
        from app.services import marac_form

        entries = []
        for issued in marac_forms_model.for_case(self.conn, case_id):
            form = marac_form.stored_form(issued)
            people = {form.victim_id} | {
                p.person_id for p in (*form.perpetrators, *form.children, *form.household)
            }
            if self.subject.id not in people:
                continue
            key = f"marac_form:{issued.id}"
            entry = _RawEntry("MARAC referral form sent", issued.referred_on.isoformat())
            for number, (title, rows) in enumerate(marac_form.sections(form)):
                for line, (label, value) in enumerate(rows):
                    entry.add(
                        f"{key}:{number}:{line}",
                        f"{title}: {label}" if label else title,
                        value,
                        guard,
                        GUARDED_WHY,
                    )
            entries.append(entry)
            self.recipients.add(RECIPIENT_LABELS[RecipientCategory.MARAC])
        if entries:
            self.categories.add("referrals to the multi-agency risk assessment conference")
        return entries

    def _shares(self, case_id: int, own: bool, guard: Exemption | None) -> list[_RawEntry]:
        entries = []
        for share in reversed(share_model.for_case(self.conn, case_id)):
            record = share.record
            if self.subject.id not in record.person_ids:
                continue
            category = RECIPIENT_LABELS.get(record.recipient_category, "")
            out = record.direction is Direction.OUT
            if out:
                self.recipients.add(category)
            else:
                self.sources.add(f"agencies that shared information with us ({category})")
            key = f"share:{share.id}"
            heading = (
                f"Information shared with {category}" if out else f"Information from {category}"
            )
            entry = _RawEntry(heading, record.shared_at[:10])
            entry.add(
                f"{key}:organisation", "Organisation", record.organisation, guard, GUARDED_WHY
            )
            entry.add(
                f"{key}:categories",
                "Categories of data",
                [_label(c) for c in record.data_categories],
            )
            entry.add(f"{key}:purpose", "Purpose", record.purpose, guard, GUARDED_WHY)
            entry.add(f"{key}:method", "How", record.method)
            entry.add(f"{key}:basis", "Lawful basis", _label(record.lawful_basis))
            entry.add(f"{key}:court", "Court order reference", record.court_reference)
            if out:
                entry.add(
                    f"{key}:reason",
                    "Reason it was shared without consent",
                    record.reason,
                    guard,
                    GUARDED_WHY,
                )
            if out and own:  # whether "the person" was told means the person supported
                entry.add(f"{key}:told", "You were told", record.person_told)
                entry.add(f"{key}:not_told", "Why you were not told", record.not_told_reason)
            entries.append(entry)
        if entries:
            self.categories.add("records of information shared about you")
        return entries

    def _consents(self) -> None:
        entries = []
        for c in consent_model.history(self.conn, self.subject.id):
            key = f"consent:{c.id}"
            heading = f"Consent: {_label(c.purpose)}" + (
                f" ({_label(c.target)})" if c.target else ""
            )
            entry = _RawEntry(heading, c.decided_on.isoformat())
            entry.add(f"{key}:state", "Decision", _label(c.state))
            entry.add(f"{key}:how", "How", _label(c.how or ""))
            entry.add(f"{key}:given_by", "Given by", _label(c.given_by))
            entry.add(f"{key}:review", "Review date", c.review_date)
            entry.add(f"{key}:note", "Note", c.note)
            entries.append(entry)
        if entries:
            self.categories.add("your consent decisions")
            self.sections.append(("Your consent decisions", entries))

    def _earlier_requests(self) -> None:
        entries = []
        for r in rights_model.for_subject(self.conn, self.subject.id):
            if r.id == self.request.id:
                continue
            key = f"rights:{r.id}"
            entry = _RawEntry(f"Request: {_label(r.kind)}", r.received_on.isoformat())
            entry.add(f"{key}:reference", "Reference", r.reference)
            entry.add(f"{key}:status", "Status", _label(r.status))
            entry.add(f"{key}:outcome", "Outcome", _label(r.outcome))
            entry.add(f"{key}:responded", "Answered", r.responded_on)
            entries.append(entry)
        if entries:
            self.sections.append(("Your earlier requests about your information", entries))

    # -- redaction ------------------------------------------------------------------------------

    def build(self) -> SarPack:
        self.gather()
        others = [p for pid, p in self.others.items() if pid in self.non_professional]
        patterns = _patterns_for_others(self.subject, others, self.safe_contacts)
        perpetrator = bool(self.perpetrator_cases)
        decisions = rights_model.decisions(self.conn, self.request.id)
        by_item: dict[str, list[Decision]] = {}
        for d in decisions:
            if not d.reason.startswith(EXPORT_MARK):
                by_item.setdefault(d.item.rpartition("@")[0], []).append(d)

        sections = []
        stale = 0
        for title, raw_entries in self.sections:
            entries = []
            for raw_entry in raw_entries:
                items = []
                for raw in raw_entry.items:
                    item = self._item(raw, patterns, by_item.get(raw.key, []))
                    stale += item.stale
                    items.append(item)
                entries.append(PackEntry(raw_entry.heading, raw_entry.date, tuple(items)))
            dates = self.section_dates.get(title) or _date_range([e.date for e in entries])
            sections.append(PackSection(title, dates, tuple(entries)))

        sources = ["what you told us", *sorted(self.sources)]
        if self.others:
            sources.append("the people and professionals involved in your case records")
        cover = CoverFacts(
            letterhead=_letterhead(self.conn),
            categories=tuple(sorted(self.categories)),
            recipients=tuple(sorted(self.recipients)),
            sources=tuple(sources),
            retention=retention_model.retention_statement(retention_model.policy(self.conn)),
        )
        content = json.dumps(_content(sections), ensure_ascii=False, separators=(",", ":"))
        digest = _digest(content)
        signed = any(
            s.pack_sha256 == digest for s in rights_model.signoffs(self.conn, self.request.id)
        )
        warnings = []
        if perpetrator:
            warnings.append(
                "ALLEGED PERPETRATOR: the subject is recorded as an alleged perpetrator on "
                f"{'cases' if len(self.perpetrator_cases) > 1 else 'case'} "
                f"{', '.join(self.perpetrator_cases)}. Other people's details and what is written "
                "on those cases are withheld by default; safe contact details and confidential "
                "addresses of anyone else are never included. A manager must sign the pack off "
                "before it is exported or printed."
            )
        if stale:
            warnings.append(
                f"{stale} part(s) changed after a reviewer redacted part of them: each is withheld "
                "whole until it is reviewed again."
            )
        if self.request.identity_confirmed_on is None:
            warnings.append(
                "The requester's identity (or an agent's authority) is not confirmed yet: the pack "
                "cannot be sent."
            )
        if perpetrator and not signed:
            warnings.append("Not signed off: a manager must check and sign off this pack.")
        team = _team_note(self.conn, self.request)
        if team:
            warnings.append(team)
        return SarPack(
            request=self.request,
            subject_id=self.subject.id,
            perpetrator=perpetrator,
            perpetrator_cases=tuple(self.perpetrator_cases),
            sections=tuple(sections),
            cover=cover,
            digest=digest,
            signed_off=signed,
            warnings=tuple(warnings),
            team_note=team,
        )

    @staticmethod
    def _item(
        raw: _Raw,
        patterns: list[rx.Pattern],
        decisions: list[Decision],
    ) -> PackItem:
        this_version = f"{raw.key}@{_digest(raw.text)[:16]}"
        current = [d for d in decisions if d.item == this_version]
        # A reviewer's redaction made on an earlier version of the text cannot be placed on
        # this one: the whole text stays withheld until a reviewer discloses it again here.
        earlier: dict[str, list[Decision]] = {}
        for d in decisions:
            if d.item != this_version:
                earlier.setdefault(d.item, []).append(d)
        stale_code = None
        for old in earlier.values():
            length = max(d.end for d in old)
            left = rx.overlay(" " * length, [], decisions=[_overlay(d) for d in old])
            if left:
                stale_code = left[-1].code
        spans = rx.overlay(
            raw.text,
            rx.find(raw.text, patterns),
            default=raw.default,
            default_why=raw.default_why,
            stale_code=stale_code,
            decisions=[_overlay(d) for d in current],
        )
        stale = any(span.source is Source.STALE for span in spans)
        return PackItem(raw.key, raw.label, raw.text, spans, stale=stale)


def _overlay(decision: Decision) -> rx.Overlay:
    return rx.Overlay(decision.action is Action.REDACT, decision.start, decision.end, decision.code)


def _letterhead(conn: Connection) -> Letterhead:
    return Letterhead(
        name=settings.get(conn, settings.SERVICE_NAME) or "",
        address=settings.get(conn, settings.SERVICE_ADDRESS) or "",
        phone=settings.get(conn, settings.SERVICE_PHONE) or "",
        email=settings.get(conn, settings.SERVICE_EMAIL) or "",
        dpo=settings.get(conn, settings.SERVICE_DPO) or "",
    )


# -- what the cover letter and the JSON copy say ------------------------------------------------

PURPOSES = (
    "We hold information to support people affected by domestic abuse and to keep them and "
    "their children safe: to assess risk, to plan safety and support, and to work with other "
    "agencies, including the multi-agency risk assessment conference (MARAC). Our lawful basis "
    "is our public task (UK GDPR Article 6(1)(e)); for special category data it is substantial "
    "public interest (Article 9(2)(g) with the Data Protection Act 2018, Schedule 1, Part 2)."
)
RIGHTS = (
    "to ask us to correct information that is wrong (rectification)",
    "to ask us to delete information (erasure)",
    "to ask us to restrict how we use information",
    "to object to how we use information",
    "to receive your information in a machine-readable form (portability): the JSON file "
    "with this letter is that copy",
    "to complain to the Information Commissioner's Office (ICO), Wycliffe House, Water Lane, "
    "Wilmslow, Cheshire SK9 5AF; telephone 0303 123 1113; ico.org.uk/make-a-complaint",
)
AUTOMATED = (
    "We do not make decisions about you by automated means and we do not profile you. Risk "
    "checklists are completed and judged by trained staff; a person makes every decision."
)
REDACTION_NOTE = (
    "Some information has been removed: information about other people (third party), "
    "information that could cause serious harm to someone's physical or mental health "
    "(serious harm), information that would prejudice the prevention or detection of crime "
    "(crime prevention), legally privileged information (legal privilege), or for another "
    "reason we explain (other). Each removal is marked with the reason."
)


def pack_json(pack: SarPack, generated_on: dt.date) -> bytes:
    """The machine-readable copy of the same disclosed data (portability)."""
    head = pack.cover.letterhead
    document = {
        "format": "safecase-subject-access/1",
        "reference": pack.request.reference,
        "generated_on": generated_on.isoformat(),
        "service": {
            "name": head.name,
            "address": head.address,
            "phone": head.phone,
            "email": head.email,
        },
        "request": {
            "received_on": _text(pack.request.received_on),
            "identity_confirmed_on": _text(pack.request.identity_confirmed_on),
        },
        "about_this_copy": {
            "purposes": PURPOSES,
            "categories": list(pack.cover.categories),
            "recipients": list(pack.cover.recipients),
            "retention": pack.cover.retention,
            "sources": list(pack.cover.sources),
            "rights": list(RIGHTS),
            "automated_decision_making": AUTOMATED,
            "redactions": REDACTION_NOTE,
        },
        "sections": pack.content(),
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# -- the service calls ---------------------------------------------------------------------------


def _line(request_id: int) -> str:
    return f"rights:{request_id}"


def _load(session: Session, request_id: int, roles: tuple[Role, ...] = PACK_ROLES) -> RightsRequest:
    session.require(*roles)
    request = rights_model.get(session.conn, request_id)
    if request is None:
        raise InvalidInput("There is no such request in the register.")
    return request


def _load_open(session: Session, request_id: int) -> RightsRequest:
    request = _load(session, request_id)
    if request.status is not RequestStatus.OPEN:
        raise InvalidInput("This request is closed; its pack can no longer be changed or sent.")
    return request


def _build(session: Session, request: RightsRequest) -> SarPack:
    return _Builder(session, request).build()


def preview(session: Session, request_id: int) -> SarPack:
    """The pack as it stands, with every redacted run and why (for the review screen). The
    first manager to build a request's pack is recorded as the one who prepared it."""
    request = _load(session, request_id)
    pack = _cover(session, _build(session, request))
    with transaction(session.conn):
        if request.status is RequestStatus.OPEN:
            rights_model.mark_pack_prepared(session.conn, request_id, session.user_id)
        audit.record(session.conn, session.user_id, audit.SAR_PREVIEWED, _line(request_id))
    return pack


def _span(item: PackItem, start: int, end: int) -> None:
    if not 0 <= start < end <= len(item.text):
        raise InvalidInput("Choose a part of the text to decide on.")


def _decide(
    session: Session,
    request_id: int,
    item: PackItem,
    start: int,
    end: int,
    action: Action,
    code: str,
    reason: str,
) -> int:
    with transaction(session.conn):
        decision_id = rights_model.add_decision(
            session.conn,
            request_id,
            item.log_item,
            start,
            end,
            action,
            code,
            reason,
            session.user_id,
            session.now(),
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.SAR_REDACTION,
            _line(request_id),
            f"redaction:{decision_id} {action.value} code={code or '-'}",
        )
    return decision_id


def redact(
    session: Session,
    request_id: int,
    item_key: str,
    start: int,
    end: int,
    code: Exemption,
    reason: str = "",
) -> int:
    """Redact characters ``[start, end)`` of one item, with the exemption that applies
    (``other`` needs a reason). Returns the decision's id in the redaction log."""
    request = _load_open(session, request_id)
    item = _build(session, request).item(item_key)
    _span(item, start, end)
    if code is Exemption.OTHER and not reason.strip():
        raise InvalidInput("Say why the text is withheld when the exemption is 'other'.")
    return _decide(session, request_id, item, start, end, Action.REDACT, code.value, reason.strip())


def disclose(
    session: Session, request_id: int, item_key: str, start: int, end: int, reason: str
) -> int:
    """Lift the redaction of ``[start, end)`` of one item, because disclosure is reasonable
    (the reason is kept in the log). Safe contact details and confidential addresses of
    other people are never disclosed."""
    request = _load_open(session, request_id)
    item = _build(session, request).item(item_key)
    _span(item, start, end)
    if not reason.strip():
        raise InvalidInput("Say why disclosing this is reasonable.")
    touched = [s for s in item.spans if s.start < end and start < s.end]
    if any(s.protected for s in touched):
        raise PackRefused(
            "Safe contact details and confidential addresses of other people are never "
            "disclosed; that part stays redacted."
        )
    if not touched:
        raise InvalidInput("Nothing in that part of the text is redacted.")
    return _decide(session, request_id, item, start, end, Action.DISCLOSE, "", reason.strip())


def redaction_log(session: Session, request_id: int) -> list[Decision]:
    """Every decision on the pack, oldest first: what (item and span), code, who and when.
    Kept with the request; never part of the pack that is sent."""
    _load(session, request_id, LOG_ROLES)
    return rights_model.decisions(session.conn, request_id)


MIN_SOLE_REASON = 10  # "why no other manager could sign" is a short sentence at least


@dataclass(frozen=True)
class SignOffFacts:
    """What a manager is about to sign off, and whether they prepared the pack themselves."""

    reference: str
    subject: str
    entries: int  # the pack's entries (notes, case details, shares ...) across its sections
    digest: str  # SHA-256 of the content that goes out: exactly what the sign-off approves
    prepared_by: tuple[str, ...]  # the managers who built the pack or decided on its parts
    you_prepared: bool  # then another manager must sign, or the reason none could be recorded
    other_managers: int  # enabled managers other than the signer


def _preparers(session: Session, request_id: int) -> set[int]:
    """The first manager to build the pack and everyone who decided on a part of it."""
    first = rights_model.pack_prepared_by(session.conn, request_id)
    deciders = {
        d.decided_by
        for d in rights_model.decisions(session.conn, request_id)
        if not d.reason.startswith(EXPORT_MARK)
    }
    return deciders | ({first} if first is not None else set())


def signoff_facts(session: Session, request_id: int) -> SignOffFacts:
    """The facts the sign-off dialog shows before a manager signs (managers)."""
    session.require(Role.MANAGER)
    request = _load_open(session, request_id)
    pack = _build(session, request)
    preparers = _preparers(session, request_id)
    people = user_model.all_users(session.conn)
    names = {u.id: u.username for u in people}
    return SignOffFacts(
        reference=request.reference,
        subject=request.subject_name or request.subject_note,
        entries=sum(len(section.entries) for section in pack.sections),
        digest=pack.digest,
        prepared_by=tuple(sorted(names.get(i, f"user {i}") for i in preparers)),
        you_prepared=session.user_id in preparers,
        other_managers=sum(
            1
            for u in people
            if Role.MANAGER in u.roles and not u.disabled and u.id != session.user_id
        ),
    )


def sign_off(
    session: Session,
    request_id: int,
    note: str,
    *,
    sole_manager_reason: str = "",
    expected_sha256: str | None = None,
) -> int:
    """A manager's sign-off of the pack exactly as it now stands (a later change to what would
    be disclosed needs a new sign-off), with a note saying what was checked.

    Four eyes: a manager who prepared the pack (built it first, or decided on a part of it)
    may sign it off only with the reason no other manager was available, which is kept with
    the sign-off. ``expected_sha256`` is the digest the signer was shown: a pack that changed
    since is refused rather than signed unseen."""
    session.require(Role.MANAGER)
    request = _load_open(session, request_id)
    if not note.strip():
        raise InvalidInput("Add a note saying what you checked before signing the pack off.")
    pack = _build(session, request)
    if expected_sha256 is not None and expected_sha256 != pack.digest:
        raise PackRefused(
            f"Request {request.reference}: the pack changed while you were reading it; "
            "look at it again before signing it off."
        )
    reason = sole_manager_reason.strip()
    if session.user_id in _preparers(session, request_id):
        if len(reason) < MIN_SOLE_REASON:
            raise PackRefused(
                f"Request {request.reference}: you prepared this pack, so another manager must "
                "sign it off; if no other manager is available, say why."
            )
    else:
        reason = ""
    with transaction(session.conn):
        signoff_id = rights_model.add_signoff(
            session.conn,
            request_id,
            session.user_id,
            session.now(),
            note.strip(),
            pack.digest,
            reason,
        )
        audit.record(
            session.conn,
            session.user_id,
            audit.SAR_SIGNED_OFF,
            _line(request_id),
            f"signoff:{signoff_id}" + (" sole_manager" if reason else ""),
        )
    return signoff_id


def _cover(session: Session, pack: SarPack) -> SarPack:
    """The pack with its covering letter addressed as the safe-contact rules allow: the pack
    is owed to the requester whatever the rules say, but it is posted only to the safe address
    of a subject whose details allow letters; otherwise it is handed over (or sent by the route
    the requester agreed), with no address on it, and the reason is shown."""
    from app.services import contact_rules

    subject = people_model.get(session.conn, pack.subject_id)
    assert subject is not None
    found = [
        rules
        for case_id in case_model.cases_where_client(session.conn, subject.id)
        if (rules := case_model.safe_contact(session.conn, case_id, subject.id)) is not None
    ]
    # The strictest record speaks: any "do not contact" or "no letters" wins.
    found.sort(
        key=lambda r: (
            not r.do_not_contact,
            r.letters_ok,
            -(r.last_checked or dt.date.min).toordinal(),
        )
    )
    facts = contact_rules.Facts(
        addressee=subject,
        role=None,
        rules=found[0] if found else None,
        now=session.moment(),
    )
    decision = contact_rules.decide(contact_rules.Output.SAR_COVER, facts)
    if decision.allowed:
        return replace(pack, addressed_to=decision.address, by_hand="")
    return replace(pack, addressed_to=(), by_hand=decision.reason)


def _cover_line(pack: SarPack) -> str:
    return " cover=by_hand" if pack.by_hand else " cover=posted"


def _final(session: Session, request_id: int) -> SarPack:
    """The pack, if it may be sent now; otherwise the reason it may not."""
    request = _load_open(session, request_id)
    pack = _build(session, request)
    if request.identity_confirmed_on is None:
        raise PackRefused(
            f"Request {request.reference}: confirm the requester's identity (or an agent's "
            "authority) before the pack is sent."
        )
    if pack.needs_signoff and not pack.signed_off:
        earlier = rights_model.signoffs(session.conn, request_id)
        raise PackRefused(
            f"Request {request.reference}: the subject is recorded as an alleged perpetrator, "
            "so a manager must check the pack and sign it off before it is exported or printed"
            + ("; it has changed since it was last signed off." if earlier else ".")
        )
    return _cover(session, pack)


def _tick(progress: Progress | None, step: int, total: int, what: str) -> None:
    if progress is not None:
        progress(step, total, what)


def print_pack(
    session: Session,
    request_id: int,
    *,
    compress: bool = True,
    progress: Progress | None = None,
) -> bytes:
    """The pack's PDF for printing, built in memory; the print is audited."""
    from app.services import sar_pdf

    _tick(progress, 0, 2, "Gathering the records")
    pack = _final(session, request_id)
    _tick(progress, 1, 2, "Laying out the pages")
    pdf = sar_pdf.render(pack, generated_on=session.today(), compress=compress)
    with transaction(session.conn):
        audit.record(
            session.conn,
            session.user_id,
            audit.SAR_PRINTED,
            _line(request_id),
            _cover_line(pack).strip(),
        )
    _tick(progress, 2, 2, "Ready to print")
    return pdf


def _write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read, flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _log_applied(session: Session, request_id: int, pack: SarPack, now: str) -> None:
    """Add the automatic and default redactions the export applied to the redaction log."""
    logged = {
        (d.item, d.start, d.end, d.code)
        for d in rights_model.decisions(session.conn, request_id)
        if d.action is Action.REDACT
    }
    for item in pack.items():
        for span in item.spans:
            if span.source is Source.REVIEWER:
                continue
            row = (item.log_item, span.start, span.end, span.code)
            if row in logged:
                continue
            logged.add(row)
            why = f"{span.source.value}: {span.why}" if span.why else span.source.value
            rights_model.add_decision(
                session.conn,
                request_id,
                item.log_item,
                span.start,
                span.end,
                Action.REDACT,
                span.code,
                EXPORT_MARK + why,
                session.user_id,
                now,
            )


def _made_folder(folder: Path) -> Path | None:
    """Make ``folder`` and any missing parents, each readable by its owner only; returns the
    topmost folder made (None when it was there already)."""
    if folder.exists():
        if not folder.is_dir():
            raise InvalidInput("Choose a folder to write the pack to, not a file.")
        return None
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=0o700)
        path.chmod(0o700)  # whatever the umask says
    return missing[-1]


class _Landing:
    """A pack's files, written into a private folder beside where they go, put in place
    together, and taken back out (the files they replaced put back) if anything after fails."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made: Path | None = None
        self.staging: Path | None = None
        self.landed: list[Path] = []
        self.replaced: list[tuple[Path, Path]] = []  # (the old file set aside, its place)
        self.failed = False

    def open(self) -> None:
        self.made = _made_folder(self.folder)
        # mkdtemp makes it 0700: nobody else sees the files before they are in place.
        self.staging = Path(tempfile.mkdtemp(prefix=".safecase-export-", dir=self.folder))

    def stage(self, outputs: dict[str, bytes]) -> None:
        assert self.staging is not None
        for name, data in outputs.items():
            _write_private(self.staging / name, data)

    def land(self, names: list[str]) -> None:
        assert self.staging is not None
        for name in names:
            final = self.folder / name
            if final.exists():
                aside = self.staging / f".replaced-{name}"
                os.replace(final, aside)
                self.replaced.append((aside, final))
            os.replace(self.staging / name, final)
            self.landed.append(final)

    def undo(self) -> None:
        self.failed = True
        for final in self.landed:
            final.unlink(missing_ok=True)
        for aside, final in self.replaced:
            os.replace(aside, final)
        self.landed, self.replaced = [], []

    def close(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
        if self.failed and self.made is not None:
            for path in (self.folder, *self.folder.parents):
                with contextlib.suppress(OSError):
                    path.rmdir()
                if path == self.made:
                    break


@contextlib.contextmanager
def _landing(folder: Path) -> Iterator[_Landing]:
    landing = _Landing(folder)
    try:
        landing.open()
        yield landing
    except OSError as exc:
        landing.undo()
        raise os_error(exc) from None
    except BaseException:
        landing.undo()
        raise
    finally:
        landing.close()


@dataclass(frozen=True)
class _Outputs:
    files: dict[str, bytes]  # what is written: the pack's files, or one zip holding them
    listed: tuple[tuple[str, int, str], ...]
    manifest: str
    count: int


def _outputs(
    pack: SarPack, today: dt.date, *, as_zip: bool, compress: bool, progress: Progress | None
) -> _Outputs:
    """The pack's files, built in memory: the PDF, the JSON copy and the manifest, dated
    ``today`` (the session's date)."""
    from app.services import sar_pdf

    reference = pack.request.reference
    if not re.fullmatch(r"RR-\d{4}-(?:[A-Z]{1,3}-)?\d{4,}", reference):
        raise InvalidInput("The request's reference cannot name a file.")
    _tick(progress, 1, EXPORT_STEPS, "Laying out the pages")
    pdf = sar_pdf.render(pack, generated_on=today, compress=compress)
    _tick(progress, 2, EXPORT_STEPS, "Writing the machine-readable copy")
    files = {f"{reference}.pdf": pdf, f"{reference}.json": pack_json(pack, today)}
    listed = tuple(
        (name, len(data), hashlib.sha256(data).hexdigest()) for name, data in files.items()
    )
    manifest = json.dumps(
        {
            "reference": reference,
            "generated_on": today.isoformat(),
            "files": [{"name": n, "bytes": b, "sha256": h} for n, b, h in listed],
        },
        indent=2,
    )
    files[f"{reference}-manifest.json"] = (manifest + "\n").encode("ascii")
    if not as_zip:
        return _Outputs(files, listed, manifest, len(files))
    buffer = io.BytesIO()
    stamp = (today.year, today.month, today.day, 0, 0, 0)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in files.items():
            bundle.writestr(zipfile.ZipInfo(name, stamp), data, zipfile.ZIP_DEFLATED)
    return _Outputs({f"{reference}.zip": buffer.getvalue()}, listed, manifest, len(files))


def _write_and_record(
    session: Session,
    landing: _Landing,
    pack: SarPack,
    *,
    as_zip: bool,
    compress: bool,
    progress: Progress | None,
) -> ExportResult:
    """Write the pack's files into place, then record the export, inside the caller's
    transaction: if recording fails, the caller's landing takes the files back out."""
    out = _outputs(pack, session.today(), as_zip=as_zip, compress=compress, progress=progress)
    _tick(progress, 3, EXPORT_STEPS, "Saving the files")
    landing.stage(out.files)
    landing.land(list(out.files))
    request_id = pack.request.id
    now = session.now()
    _log_applied(session, request_id, pack, now)
    export_id = rights_model.add_export(
        session.conn, request_id, session.user_id, now, out.manifest
    )
    audit.record(
        session.conn,
        session.user_id,
        audit.SAR_EXPORTED,
        _line(request_id),
        f"export:{export_id} files={out.count} zip={'yes' if as_zip else 'no'}" + _cover_line(pack),
    )
    return ExportResult(export_id, tuple(landing.landed), out.listed, pack.by_hand)


EXPORT_STEPS = 5


def export_pack(
    session: Session,
    request_id: int,
    folder: Path,
    *,
    as_zip: bool = False,
    compress: bool = True,
    progress: Progress | None = None,
) -> ExportResult:
    """Write the pack to ``folder``: the PDF, the JSON copy and a manifest of their SHA-256
    hashes, named by the request's reference alone (or one zip holding the three).

    The PDF is built in memory; the files are written readable by their owner only into a
    private folder beside the target and moved into place at the end; a folder this makes is
    readable by its owner only. The export is recorded and audited only once every file is in
    place, and a failure at any step leaves neither files nor a record behind."""
    _tick(progress, 0, EXPORT_STEPS, "Gathering the records")
    pack = _final(session, request_id)
    with _landing(folder) as landing, transaction(session.conn):
        result = _write_and_record(
            session, landing, pack, as_zip=as_zip, compress=compress, progress=progress
        )
    _tick(progress, EXPORT_STEPS, EXPORT_STEPS, "Done")
    return result


def export_new_request(
    session: Session,
    draft: RequestDraft,
    folder: Path,
    *,
    as_zip: bool = False,
    progress: Progress | None = None,
) -> tuple[RightsRequest, ExportResult]:
    """Open an access request and export its pack in one step, or do neither.

    The role is checked first and the folder prepared before anything is recorded, so a
    refused call or an unwritable folder opens no request. The one exception: a pack that
    needs a manager's sign-off first keeps its new request open for that sign-off, and the
    refusal names it (``PackRefused.request``)."""
    session.require(*PACK_ROLES)
    _tick(progress, 0, EXPORT_STEPS, "Gathering the records")
    refused: PackRefused | None = None
    with _landing(folder) as landing:
        with transaction(session.conn):
            request_id = rights_service.insert_request(session, draft)
            request = rights_model.get(session.conn, request_id)
            assert request is not None
            try:
                pack = _final(session, request_id)
            except PackRefused as exc:
                refused = exc
            else:
                result = _write_and_record(
                    session, landing, pack, as_zip=as_zip, compress=True, progress=progress
                )
        if refused is not None:
            refused.request = request
            raise refused
    _tick(progress, EXPORT_STEPS, EXPORT_STEPS, "Done")
    return request, result


def letterhead(session: Session) -> Letterhead:
    """The service's name and contact details as the cover letter prints them."""
    session.require(Role.MANAGER, Role.DPO, Role.ADMIN)
    return _letterhead(session.conn)


def set_letterhead(
    session: Session, *, address: str, phone: str, email: str, dpo: str = ""
) -> None:
    """Set the service's contact details printed on letters (admins keep settings)."""
    session.require(Role.ADMIN)
    if len(address) > 400 or max(len(phone), len(email), len(dpo)) > 200:
        raise InvalidInput("Keep the address under 400 characters and each contact under 200.")
    with transaction(session.conn):
        settings.put(session.conn, settings.SERVICE_DPO, dpo.strip())
        settings.put(session.conn, settings.SERVICE_ADDRESS, address.strip())
        settings.put(session.conn, settings.SERVICE_PHONE, phone.strip())
        settings.put(session.conn, settings.SERVICE_EMAIL, email.strip())
        audit.record(session.conn, session.user_id, audit.SETTINGS_CHANGED, "setting:letterhead")


# -- across a team ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietLaptop:
    """A team laptop that may hold a subject's cases and has sent nothing since a request
    arrived: its user, and when the newest change this laptop holds from it was made."""

    username: str
    last_seen: dt.date | None


_HOLDERS = frozenset({Role.CASEWORKER.value, Role.MANAGER.value})


def _quiet(devices: list[tuple[str, dt.datetime | None]], since: dt.date) -> list[QuietLaptop]:
    """Those of ``devices`` from which this laptop holds no change made on or after the UK day
    ``since``."""
    start = dt.datetime.combine(since, dt.time(0), tzinfo=UK)
    return [
        QuietLaptop(name, None if last is None else last.astimezone(UK).date())
        for name, last in devices
        if last is None or last < start
    ]


def quiet_laptops(conn: Connection, since: dt.date) -> list[QuietLaptop]:
    """The team's other live laptops of caseworkers and managers (those that may hold a
    subject's cases) from which this laptop holds no change made on or after ``since``; none
    when this laptop is in no team."""
    return _quiet(registers.team_devices(conn, _HOLDERS), since)


def _note(quiet: list[QuietLaptop]) -> str:
    if not quiet:
        return ""
    named = "; ".join(
        f"{q.username}'s laptop, last seen {q.last_seen.day} {q.last_seen:%B %Y}"
        if q.last_seen
        else f"{q.username}'s laptop, nothing received from it yet"
        for q in quiet
    )
    count = f"{len(quiet)} laptop has" if len(quiet) == 1 else f"{len(quiet)} laptops have"
    return (
        f"{count} not synced since this request was received: {named}. What they hold may be "
        "missing from the pack until they sync; wait for them, or go on."
    )


def _team_note(conn: Connection, request: RightsRequest) -> str:
    return _note(quiet_laptops(conn, request.received_on))


def team_note(session: Session, request_id: int) -> str:
    """What the register shows before a pack is gathered: the team laptops that have not
    synced since the request arrived ("" when none, or outside a team)."""
    request = _load(session, request_id)
    return _team_note(session.conn, request)


def team_notes(session: Session, requests: list[RightsRequest]) -> dict[int, str]:
    """``team_note`` for each of the open access requests among ``requests`` that has one."""
    session.require(*PACK_ROLES)
    devices = registers.team_devices(session.conn, _HOLDERS)
    notes = {
        r.id: _note(_quiet(devices, r.received_on))
        for r in requests
        if r.status is RequestStatus.OPEN and r.kind in PACK_KINDS
    }
    return {k: v for k, v in notes.items() if v}


def may_read_redaction_log(session: Session) -> bool:
    """Whether the user reads the redaction log kept with each request (managers, the DPO)."""
    return session.has(*LOG_ROLES)


def may_prepare_packs(session: Session) -> bool:
    """Whether the user prepares, signs off and exports subject access packs."""
    return session.has(*PACK_ROLES)
