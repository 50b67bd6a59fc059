"""The safe-contact rules: what may be produced for a person, decided before anything is made.

Plain Python over the records (no store, no Qt), so every output that leaves the service asks
the same question the same way: the letters (appointment, case closure, consent and information
sheet, a letter to another agency), a text prepared for copying, the subject access pack's
covering letter. The letters service and the SAR pack call :func:`decide` and refuse with its
sentence.

The rules, in the order they are checked:

- Nothing is written or texted to an alleged perpetrator from their victim's case (it would
  tell them the victim is in touch with the service). No override.
- A letter to another agency goes to a professional on the case, never to a party.
- Anything addressed to a person needs their safe-contact details: nobody has checked it is
  safe otherwise. A manager may override with a reason.
- "Do not contact" refuses anything addressed to the person. A manager may override.
- A letter needs "letters are OK". A manager may override (the letter is then handed over,
  not posted, unless a safe address is recorded).
- A posted letter goes only to the safe address in the safe-contact details, never to the
  address on record (which may be the home the abuser shares); with none, a letter is refused
  (a manager's override produces it without an address, to hand over).
- A text needs "texts are OK", a safe number, and the safe times: outside them it is refused
  (wait until a safe time); times Safecase cannot read need the sender to confirm it is a safe
  time now. No override: ring instead, or wait.
- A confidential (refuge) address never appears on anything addressed to someone else (the
  letter to another agency, the MARAC referral form): it is withheld, never printed, and text
  typed onto such an output that mentions it (or the code word) is refused
  (:func:`secret_in`).
- Processing restricted (UK GDPR Art. 18): a restricted person's data does not go out to
  someone else (the letter to another agency, the MARAC referral form). A manager may override
  naming the Art. 18(2) ground (the person's consent, legal claims, protecting another
  person's rights, important public interest: a safeguarding disclosure to protect someone is
  the third). Anything addressed to the person themselves is not refused for restriction.

The code word is never put on any output. A refusal is one sentence naming the rule.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import re
from dataclasses import dataclass

from app.models.records import CaseRole, Person, SafeContact


class Output(enum.StrEnum):
    """What can be produced for (or about) a person."""

    APPOINTMENT = "appointment"
    CLOSURE = "closure"
    CONSENT_SHEET = "consent_sheet"
    AGENCY_LETTER = "agency_letter"
    TEXT = "text"
    SAR_COVER = "sar_cover"
    MARAC_FORM = "marac_form"


LETTERS = (Output.APPOINTMENT, Output.CLOSURE, Output.CONSENT_SHEET, Output.AGENCY_LETTER)
# Addressed to the person themselves (posted, handed over or texted).
TO_THE_PERSON = (Output.APPOINTMENT, Output.CLOSURE, Output.CONSENT_SHEET, Output.TEXT)
POSTED = (Output.APPOINTMENT, Output.CLOSURE, Output.CONSENT_SHEET, Output.SAR_COVER)


class Rule(enum.StrEnum):
    """Each rule that can refuse an output (its value goes in the audit trail)."""

    PERPETRATOR = "alleged_perpetrator"
    NOT_A_PROFESSIONAL = "not_a_professional"
    NO_DETAILS = "no_safe_contact_details"
    DO_NOT_CONTACT = "do_not_contact"
    NO_LETTERS = "no_letters"
    NO_SAFE_ADDRESS = "no_safe_address"
    NO_TEXTS = "no_texts"
    NO_SAFE_NUMBER = "no_safe_number"
    NO_SAFE_TIMES = "no_safe_times"
    OUTSIDE_SAFE_TIMES = "outside_safe_times"
    UNREAD_SAFE_TIMES = "safe_times_not_read"
    RESTRICTED = "processing_restricted"


# Rules a manager may override with a reason (audited; the reason kept for the DPO).
OVERRIDABLE = frozenset(
    {Rule.NO_DETAILS, Rule.DO_NOT_CONTACT, Rule.NO_LETTERS, Rule.NO_SAFE_ADDRESS, Rule.RESTRICTED}
)
# Outputs that carry someone's data to someone else (restriction refuses them).
TO_OTHERS = (Output.AGENCY_LETTER, Output.MARAC_FORM)


class RestrictionGround(enum.StrEnum):
    """The grounds UK GDPR Art. 18(2) allows a restricted person's data to be used on; a
    manager's override of a restriction names one."""

    CONSENT = "consent"
    LEGAL_CLAIMS = "legal_claims"
    PROTECT_ANOTHER = "protect_another_person"
    PUBLIC_INTEREST = "important_public_interest"


GROUND_TEXT = {
    RestrictionGround.CONSENT: "Art. 18(2): with the person's consent",
    RestrictionGround.LEGAL_CLAIMS: "Art. 18(2): for legal claims",
    RestrictionGround.PROTECT_ANOTHER: "Art. 18(2): to protect the rights of another person",
    RestrictionGround.PUBLIC_INTEREST: "Art. 18(2): for reasons of important public interest",
}
WITHHELD_ADDRESS = "Address withheld: confidential"


@dataclass(frozen=True)
class Facts:
    """What the rules look at. ``addressee`` is who the output is addressed to; ``role`` their
    role on the case (None for a subject access pack); ``rules`` their safe-contact details
    (None when none are recorded); ``subject`` who the output is about when that is someone
    else (the client, in a letter to another agency). ``now`` is the session's clock, in UK
    time, for the safe times."""

    addressee: Person
    role: CaseRole | None
    rules: SafeContact | None
    now: dt.datetime
    subject: Person | None = None
    restricted: tuple[int, ...] = ()  # whose data on it (besides the addressee's) is restricted


@dataclass(frozen=True)
class Decision:
    output: Output
    rule: Rule | None  # the rule that refused (or asks for a confirmation); None when allowed
    reason: str  # one sentence naming the rule; "" when allowed
    address: tuple[str, ...] = ()  # the lines a letter is addressed to; () prints none
    subject_address: tuple[str, ...] = ()  # the subject's address as another party may see it
    number: str = ""  # the safe number a text goes to

    @property
    def allowed(self) -> bool:
        return self.rule is None

    @property
    def overridable(self) -> bool:
        """Whether a manager may produce it anyway, with a reason."""
        return self.rule in OVERRIDABLE

    @property
    def needs_confirmation(self) -> bool:
        """Whether the sender may go on by confirming it is a safe time now."""
        return self.rule is Rule.UNREAD_SAFE_TIMES


def _lines(address: str, postcode: str) -> tuple[str, ...]:
    lines = [line.strip() for line in re.split(r"[\n,]", address) if line.strip()]
    if postcode.strip():
        lines.append(postcode.strip().upper())
    return tuple(lines)


def shared_address(person: Person) -> tuple[str, ...]:
    """A person's address as anyone else may see it: a confidential address is withheld."""
    d = person.details
    if d.address_confidential:
        return (WITHHELD_ADDRESS,)
    return _lines(d.address, d.postcode)


class Secret(enum.StrEnum):
    """What text going to someone else must never mention."""

    CONFIDENTIAL_ADDRESS = "confidential_address"
    CODE_WORD = "code_word"


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def _address_parts(person: Person) -> list[str]:
    """The parts of a confidential address that would give it away: the postcode, and each
    part of the address of two words or more (a street, a building)."""
    d = person.details
    parts = [d.postcode] if len(_squash(d.postcode)) >= 4 else []
    for part in re.split(r"[,\n]", d.address):
        if len(part.split()) >= 2 and len(_squash(part)) >= 6:
            parts.append(part)
    return parts


def secret_in(text: str, people: list[Person], code_word: str) -> Secret | None:
    """What ``text``, going to someone else, mentions that it must not: a confidential
    (refuge) address of any of ``people`` (however it is spaced or punctuated), or the
    safe-contact ``code_word`` (as a word); None when it mentions neither."""
    squashed = _squash(text)
    for person in people:
        if person.details.address_confidential and any(
            _squash(part) in squashed for part in _address_parts(person)
        ):
            return Secret.CONFIDENTIAL_ADDRESS
    code = code_word.strip()
    if code and re.search(rf"(?<!\w){re.escape(code)}(?!\w)", text, re.IGNORECASE):
        return Secret.CODE_WORD
    return None


def decide(output: Output, facts: Facts, waived: frozenset[Rule] = frozenset()) -> Decision:
    """Whether ``output`` may be produced now, and what it may carry. ``waived`` holds the
    rules a manager has overridden (only those in ``OVERRIDABLE`` are ever waived); the other
    rules still apply, and an override never makes the address on record appear."""
    waived = waived & OVERRIDABLE
    person, rules = facts.addressee, facts.rules
    subject = shared_address(facts.subject) if facts.subject is not None else ()

    def refuse(rule: Rule, reason: str) -> Decision:
        return Decision(output, rule, reason, subject_address=subject)

    if output is not Output.SAR_COVER and facts.role is CaseRole.ALLEGED_PERPETRATOR:
        return refuse(
            Rule.PERPETRATOR,
            "Nothing is sent to an alleged perpetrator from their victim's case: it would tell "
            "them the victim is in touch with the service.",
        )
    if output is Output.AGENCY_LETTER and facts.role is not CaseRole.PROFESSIONAL:
        return refuse(
            Rule.NOT_A_PROFESSIONAL,
            "A letter to another agency goes to a professional on the case; add them to the "
            "case as a professional first.",
        )
    if output in TO_OTHERS and facts.restricted and Rule.RESTRICTED not in waived:
        return refuse(
            Rule.RESTRICTED,
            "Processing of the data it would carry is restricted, so it does not go to another "
            "agency unless a manager names the Article 18(2) ground for it.",
        )
    if output is Output.MARAC_FORM:
        return Decision(output, None, "", subject_address=subject)
    if output is Output.AGENCY_LETTER:
        d = person.details
        to = (person.name, *([d.organisation] if d.organisation else ()), *shared_address(person))
        return Decision(output, None, "", address=to, subject_address=subject)
    if rules is None and Rule.NO_DETAILS not in waived:
        return refuse(
            Rule.NO_DETAILS,
            "No safe-contact details are recorded for this person, so nobody has checked it is "
            "safe to send them anything; record them with the client first.",
        )
    if rules is not None and rules.do_not_contact and Rule.DO_NOT_CONTACT not in waived:
        return refuse(
            Rule.DO_NOT_CONTACT,
            "The safe-contact details say do not contact this person at all.",
        )
    if output is Output.TEXT:
        return _text(output, rules or SafeContact(person.id), facts.now)
    if (rules is None or not rules.letters_ok) and Rule.NO_LETTERS not in waived:
        return refuse(
            Rule.NO_LETTERS,
            "The safe-contact details say letters are not safe for this person.",
        )
    if waived & {Rule.NO_LETTERS, Rule.DO_NOT_CONTACT, Rule.NO_DETAILS}:
        # A manager overrode a rule against post: the letter is handed over, never posted.
        return Decision(output, None, "", subject_address=subject)
    assert rules is not None
    address = _lines(rules.safe_address, rules.safe_postcode)
    if not address and Rule.NO_SAFE_ADDRESS not in waived:
        return refuse(
            Rule.NO_SAFE_ADDRESS,
            "No safe address for letters is recorded in the safe-contact details, and a letter "
            "never goes to the address on record; record the safe address with the client first.",
        )
    to = (person.name, *address) if address else ()
    return Decision(output, None, "", address=to, subject_address=subject)


def _text(output: Output, rules: SafeContact, now: dt.datetime) -> Decision:
    def refuse(rule: Rule, reason: str) -> Decision:
        return Decision(output, rule, reason, number=rules.safe_number.strip())

    if not rules.text_ok:
        return refuse(Rule.NO_TEXTS, "The safe-contact details say texts are not safe.")
    if not rules.safe_number.strip():
        return refuse(
            Rule.NO_SAFE_NUMBER,
            "No safe number is recorded in the safe-contact details, so there is nowhere safe to "
            "text.",
        )
    if not rules.safe_times.strip():
        return refuse(
            Rule.NO_SAFE_TIMES,
            "No safe times are recorded in the safe-contact details; check with the client when "
            "a text is safe and record it first.",
        )
    windows = read_safe_times(rules.safe_times)
    if windows is None:
        return refuse(
            Rule.UNREAD_SAFE_TIMES,
            f"Safecase cannot check the safe times ({rules.safe_times.strip()}) against the "
            "clock: confirm it is a safe time to text now.",
        )
    if not windows.contains(now):
        return refuse(
            Rule.OUTSIDE_SAFE_TIMES,
            f"It is {now:%A %H:%M}, outside the safe times for a text "
            f"({rules.safe_times.strip()}); wait until a safe time.",
        )
    return Decision(output, None, "", number=rules.safe_number.strip())


# -- safe times ------------------------------------------------------------------------------------

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_WORD = re.compile(
    r"\b(mon(?:day)?s?|tue(?:s|sday)?s?|wed(?:nesday)?s?|thu(?:r|rs|rsday)?s?|fri(?:day)?s?|"
    r"sat(?:urday)?s?|sun(?:day)?s?|weekdays?|weekends?|daily|every ?day)\b"
)
_CLOCK = r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?"
_RANGE = re.compile(rf"\b{_CLOCK}\s*(?:-|–|to|until|till)\s*{_CLOCK}")
_BEFORE = re.compile(rf"\b(?:before|until|till)\s+{_CLOCK}")
_AFTER = re.compile(rf"\b(?:after|from)\s+{_CLOCK}")
_PERIODS = {
    "morning": (8 * 60, 12 * 60),
    "lunchtime": (12 * 60, 14 * 60),
    "afternoon": (12 * 60, 17 * 60),
    "evening": (17 * 60, 21 * 60),
}
_PERIOD = re.compile(r"\b(morning|lunchtime|afternoon|evening)s?\b")
_ANY_TIME = re.compile(r"\bany ?time\b")
# Conditions the clock cannot check: such safe times are confirmed by the sender.
_CONDITION = re.compile(
    r"\b(not|never|except|unless|only when|only if|if|when|but|no|avoid|apart)\b"
)
# Words that carry no condition ("school hours", "at work", "at a relative's").
_LEFTOVER = re.compile(r"\(.*?\)|\b(at|in|on|and|or|the|a|only|hours?|school|work|home)\b")


@dataclass(frozen=True)
class SafeWindows:
    days: frozenset[int]  # 0 Monday .. 6 Sunday
    minutes: tuple[tuple[int, int], ...]  # [start, end) minutes after midnight, any of them

    def contains(self, moment: dt.datetime) -> bool:
        minute = moment.hour * 60 + moment.minute
        return moment.weekday() in self.days and any(a <= minute < b for a, b in self.minutes)


def _minute(hour: str, minute: str | None, half: str | None) -> int | None:
    h, m = int(hour), int(minute or 0)
    if half == "pm" and h < 12:
        h += 12
    elif half == "am" and h == 12:
        h = 0
    if h > 24 or m > 59 or (h == 24 and m):
        return None
    return h * 60 + m


def _range(match: re.Match[str]) -> tuple[int, int] | None:
    h1, m1, p1, h2, m2, p2 = match.groups()
    if p1 is None and p2 is not None:  # "2-4pm": both in the afternoon
        start, finish = _minute(h1, m1, p2), _minute(h2, m2, p2)
        if start is not None and finish is not None and start < finish:
            p1 = p2
    start, finish = _minute(h1, m1, p1), _minute(h2, m2, p2)
    if start is None or finish is None:
        return None
    if finish <= start and p2 is None and finish + 12 * 60 > start:
        finish += 12 * 60  # "10-2" means ten in the morning to two in the afternoon
    return (start, finish) if start < finish else None


def _days(text: str) -> frozenset[int] | None:
    found: set[int] = set()
    spans = list(_DAY_WORD.finditer(text))
    for one in spans:
        word = one.group(1).replace(" ", "")
        if word.startswith("weekday"):
            found |= {0, 1, 2, 3, 4}
        elif word.startswith("weekend"):
            found |= {5, 6}
        elif word in ("daily", "everyday"):
            found |= set(range(7))
        else:
            found.add(_DAYS.index(word[:3]))
    # "Mon-Fri" / "Monday to Thursday": a range of days.
    for first, second in itertools.pairwise(spans):
        between = text[first.end() : second.start()].strip()
        a, b = first.group(1)[:3], second.group(1)[:3]
        if between in ("-", "–", "to") and a in _DAYS and b in _DAYS:
            i, j = _DAYS.index(a), _DAYS.index(b)
            if i > j:
                return None
            found |= set(range(i, j + 1))
    return frozenset(found) if spans else frozenset(range(7))


def read_safe_times(text: str) -> SafeWindows | None:
    """The safe times as days and hours, when they say only that ("Weekdays 9:30-14:30",
    "Tuesday and Thursday afternoons", "Mornings before 11", "any time"); None when they
    carry a condition the clock cannot check ("only when she calls first") or cannot be read."""
    lowered = " ".join(text.lower().split())
    if not lowered or _CONDITION.search(lowered):
        return None
    days = _days(lowered)
    if days is None:
        return None
    windows: list[tuple[int, int]] = []
    rest = lowered
    for match in _RANGE.finditer(lowered):
        window = _range(match)
        if window is None:
            return None
        windows.append(window)
        rest = rest.replace(match.group(0), " ")
    for match in _PERIOD.finditer(lowered):
        windows.append(_PERIODS[match.group(1)])
        rest = rest.replace(match.group(0), " ")
    if _ANY_TIME.search(lowered):
        windows.append((0, 24 * 60))
        rest = _ANY_TIME.sub(" ", rest)
    bounds: list[tuple[int, int]] = []
    for pattern, make in (
        (_BEFORE, lambda m: (0, m)),
        (_AFTER, lambda m: (m, 24 * 60)),
    ):
        for match in pattern.finditer(rest):
            h, mm, half = match.groups()
            if half is None and int(h) < 8:
                half = "pm"  # "after 6", "before 5": the evening, the afternoon
            minute = _minute(h, mm, half)
            if minute is None:
                return None
            bounds.append(make(minute))
        rest = pattern.sub(" ", rest)
    if bounds:
        low = max(b[0] for b in bounds)
        high = min(b[1] for b in bounds)
        windows = [(max(a, low), min(b, high)) for a, b in windows] or [(low, high)]
        windows = [(a, b) for a, b in windows if a < b]
        if not windows:
            return None
    rest = _DAY_WORD.sub(" ", rest)
    rest = _LEFTOVER.sub(" ", rest)
    if re.search(r"[a-z0-9]", rest) or not windows:
        return None  # words left over: read by a person, not guessed at
    return SafeWindows(days, tuple(windows))
