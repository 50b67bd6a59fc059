"""Redaction for subject access packs: finding other people's identifying data in text, and
laying automatic redactions, defaults and a reviewer's decisions over it, character by character.

Pure functions, no store. Patterns never hold personal data in their descriptions: ``why`` says
which kind of identifier matched and by which rule ("part of a name", "street name without its
house number"), never the data itself, so the reviewer can see, and undo, an over-redaction.

Text and identifiers are compared in a folded form (``fold``): case folded, curly apostrophes,
quotes, hyphens and dashes made plain, runs of white space made one space. Matches are found in
the folded text and mapped back to the offsets of the original.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from app.models.search import phone_digits


class Exemption(enum.StrEnum):
    THIRD_PARTY = "third_party"
    SERIOUS_HARM = "serious_harm"
    CRIME_PREVENTION = "crime_prevention"
    LEGAL_PRIVILEGE = "legal_privilege"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


def code_label(codes: str) -> str:
    """A span's codes as people read them: "third_party, serious_harm" becomes
    "third party, serious harm" (the PDF's boxes and the preview use the same words)."""
    labels = []
    for code in codes.split(", "):
        try:
            labels.append(Exemption(code).label)
        except ValueError:
            labels.append(code.replace("_", " "))
    return ", ".join(labels)


class Source(enum.StrEnum):
    AUTOMATIC = "automatic"  # another person's identifying data, found in the text
    DEFAULT = "default"  # the whole text withheld by default until a reviewer decides
    REVIEWER = "reviewer"
    STALE = "changed since review"  # the text changed after a reviewer's redaction


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    code: Exemption
    protected: bool  # never disclosed, whatever a reviewer decides
    why: str


@dataclass(frozen=True)
class Span:
    """A redacted run of characters ``[start, end)`` in one item's text."""

    start: int
    end: int
    code: str
    source: Source
    protected: bool = False
    why: str = ""


@dataclass(frozen=True)
class Overlay:
    """A reviewer's decision on the current version of an item's text, in the order made."""

    redact: bool
    start: int
    end: int
    code: str


_FLAGS = re.IGNORECASE | re.UNICODE
_WORD_BEFORE = r"(?<!\w)"
_WORD_AFTER = r"(?!\w)"
_NAME_WORD = re.compile(r"[^\W\d_][\w'-]*")  # in folded text: apostrophes and hyphens plain
_NAME_PART = re.compile(r"[^\W\d_]+")
MIN_NAME_PART = 3  # a part of a hyphenated or apostrophed name ("Al" of "Al-Sayed") shorter
# than this is matched only inside the whole name, or it would be redacted everywhere

_PLAIN = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u02bc\u2032\u00b4`", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d", "-"),
    }
)


def fold(text: str) -> tuple[str, list[int]]:
    """``text`` case folded, with plain apostrophes, quotes and hyphens and single spaces, and
    for each character of the result the offset of the original character it came from (plus
    one more entry: the original length)."""
    out: list[str] = []
    where: list[int] = []
    space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not space:
                out.append(" ")
                where.append(i)
            space = True
            continue
        space = False
        for c in ch.translate(_PLAIN).casefold():
            out.append(c)
            where.append(i)
    where.append(len(text))
    return "".join(out), where


def normal(text: str) -> str:
    """The folded form of ``text``, trimmed: how identifiers are compared."""
    return fold(text)[0].strip()


def _flex(text: str) -> str:
    """``text`` folded, as a pattern in which any run of spaces matches any run of white space."""
    return r"\s+".join(re.escape(word) for word in normal(text).split())


def _compile(body: str, code: Exemption, protected: bool, why: str) -> Pattern:
    return Pattern(re.compile(body, _FLAGS), code, protected, why)


def _name_words(name: str) -> tuple[set[str], set[str]]:
    """The folded words of a name, two letters or longer, and the parts of its hyphenated or
    apostrophed words ("ellery-pike": "ellery", "pike"), ``MIN_NAME_PART`` letters or longer."""
    words = {w for w in _NAME_WORD.findall(normal(name)) if len(w) > 1}
    parts = {p for w in words for p in _NAME_PART.findall(w) if p != w and len(p) >= MIN_NAME_PART}
    return words, parts - words


def name_tokens(*names: str) -> set[str]:
    """The folded words of names, two letters or longer, and the parts of their hyphenated or
    apostrophed words."""
    found: set[str] = set()
    for name in names:
        words, parts = _name_words(name)
        found |= words | parts
    return found


def name_patterns(
    names: Iterable[str],
    code: Exemption = Exemption.THIRD_PARTY,
    *,
    exclude: AbstractSet[str] = frozenset(),
    protected: bool = False,
) -> list[Pattern]:
    """Whole names, each word of them and each part of a hyphenated or apostrophed word, as
    words in any case and however their apostrophes and hyphens are written; words in
    ``exclude`` (the subject's own names, folded) are matched only inside a whole name."""
    patterns: list[Pattern] = []
    seen: set[str] = set()
    for name in names:
        whole = normal(name)
        if not whole:
            continue
        words, parts = _name_words(whole)
        candidates = [(whole, "full name")] if len(whole.split()) > 1 else []
        candidates += [(w, "name") for w in sorted(words)]
        candidates += [(p, "part of a name") for p in sorted(parts)]
        for text, why in candidates:
            if text in seen or text in exclude:
                continue
            seen.add(text)
            patterns.append(
                _compile(_WORD_BEFORE + _flex(text) + _WORD_AFTER, code, protected, why)
            )
    return patterns


def phone_pattern(
    number: str, code: Exemption = Exemption.THIRD_PARTY, *, protected: bool = False, why: str = ""
) -> Pattern | None:
    """A phone number however it is written: spaces, dashes, brackets, +44 or 0044 for 0."""
    digits = phone_digits(number)
    if len(digits) < 6:
        return None
    sep = r"[\s().-]*"
    if digits.startswith("0"):
        head, rest = r"(?:\(?0|(?:\+|00)?\s*44\s*(?:\(0\)\s*)?)", digits[1:]
    else:
        head, rest = "", digits
    body = head + sep + sep.join(rest) if head else sep.join(rest)
    return _compile(rf"(?<!\d){body}(?!\d)", code, protected, why or "phone number")


def postcode_pattern(
    postcode: str, code: Exemption = Exemption.THIRD_PARTY, *, protected: bool = False
) -> Pattern | None:
    compact = re.sub(r"\s+", "", postcode).upper()
    if len(compact) < 4:
        return None
    body = re.escape(compact[:-3]) + r"\s*" + re.escape(compact[-3:])
    why = "confidential address" if protected else "postcode"
    return _compile(rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])", code, protected, why)


def email_pattern(email: str, code: Exemption = Exemption.THIRD_PARTY) -> Pattern | None:
    email = email.strip()
    if "@" not in email:
        return None
    return _compile(rf"(?<![\w.+-]){re.escape(normal(email))}(?!\w)", code, False, "email address")


_STREET = "street name without its house number"
_HOUSE_NUMBER = re.compile(
    r"^(?:(?:flat|apartment|unit)\s+)?\d+[a-z]?(?:\s*[-/]\s*\d+[a-z]?)?,?\s+"
)


def _address_lines(address: str) -> list[str]:
    return [p for p in (" ".join(p.split()) for p in re.split(r"[,\n;]+", address)) if p]


def street_names(address: str) -> set[str]:
    """The folded street names of an address's lines that start with a house number."""
    names = set()
    for part in _address_lines(address):
        street = _HOUSE_NUMBER.sub("", normal(part), count=1)
        if street != normal(part) and len(street.split()) > 1 and not re.search(r"\d", street):
            names.add(street)
    return names


def address_patterns(
    address: str,
    code: Exemption = Exemption.THIRD_PARTY,
    *,
    protected: bool = False,
    exclude_streets: AbstractSet[str] = frozenset(),
) -> list[Pattern]:
    """The whole address, each line of it but a lone word (a town, most likely), and a street
    line's street name without its house number ("Kestrel Lane" of "27 Kestrel Lane"), unless
    it is in ``exclude_streets`` (the subject's own street, folded: see ``street_names``)."""
    parts = _address_lines(address)
    if not parts:
        return []
    why = "confidential address" if protected else "address"
    patterns = [
        _compile(
            _WORD_BEFORE + r"[\s,]+".join(_flex(p) for p in parts) + _WORD_AFTER,
            code,
            protected,
            why,
        )
    ]
    for part in parts:
        if len(parts) > 1 and len(part.split()) < 2 and not re.search(r"\d", part):
            continue
        if len(part) < 4:
            continue
        patterns.append(_compile(_WORD_BEFORE + _flex(part) + _WORD_AFTER, code, protected, why))
    for street in sorted(street_names(address) - exclude_streets):
        patterns.append(
            _compile(
                _WORD_BEFORE + _flex(street) + _WORD_AFTER,
                code,
                protected,
                f"{why}: street name without its house number" if protected else _STREET,
            )
        )
    return patterns


_MONTHS = (
    "january february march april may june july august september october november december"
).split()


def date_patterns(day: dt.date, code: Exemption = Exemption.THIRD_PARTY) -> list[Pattern]:
    """A date of birth written the common UK ways: 2010-03-07, 07/03/2010, 7-3-2010, 7.3.10,
    7th March 2010, 7th of March 2010, 7 Mar 2010, 07-Mar-2010, 7.Mar.10, March 7, 2010."""
    d, m, y = day.day, day.month, day.year
    month = _MONTHS[m - 1]
    dd, mm = rf"0?{d}", rf"0?{m}"
    year = rf"(?:{y}|{y % 100:02d})"
    month_name = rf"(?:{month}|{month[:3]}|{month[:4]})\.?"  # "Sept" as well as "Sep"
    ordinal = r"(?:st|nd|rd|th)?"
    between = r"(?:\s*[/.-]\s*|\s+)"  # a space, or a slash, dot or hyphen
    bodies = [
        (rf"(?<!\d){y}[/.-]{mm}[/.-]{dd}(?!\d)", "date of birth, year first"),
        (rf"(?<!\d){dd}[/.-]{mm}[/.-]{year}(?!\d)", "date of birth, in figures"),
        (
            rf"(?<!\d){dd}{ordinal}{between}(?:of\s+)?{month_name}\s*,?{between}{year}(?!\d)",
            "date of birth, with the month's name",
        ),
        (
            rf"(?<!\w){month_name}\s+{dd}{ordinal}\s*,?\s+{year}(?!\d)",
            "date of birth, month first",
        ),
    ]
    return [_compile(body, code, False, why) for body, why in bodies]


def word_pattern(
    text: str, code: Exemption = Exemption.THIRD_PARTY, *, protected: bool = False, why: str = ""
) -> Pattern | None:
    text = " ".join(text.split())
    if len(text) < 2:
        return None
    return _compile(_WORD_BEFORE + _flex(text) + _WORD_AFTER, code, protected, why or "word")


def mentions(text: str, patterns: Sequence[Pattern]) -> bool:
    folded = fold(text)[0]
    return any(p.regex.search(folded) for p in patterns)


def find(text: str, patterns: Sequence[Pattern]) -> list[Span]:
    """Every match of every pattern in ``text``, found in its folded form and given as offsets
    in ``text`` itself (overlaps are resolved by ``overlay``)."""
    folded, where = fold(text)
    spans = []
    for pattern in patterns:
        for match in pattern.regex.finditer(folded):
            if match.end() > match.start():
                spans.append(
                    Span(
                        where[match.start()],
                        where[match.end() - 1] + 1,
                        pattern.code.value,
                        Source.AUTOMATIC,
                        pattern.protected,
                        pattern.why,
                    )
                )
    return spans


@dataclass(frozen=True)
class _Mark:
    code: str
    source: Source
    protected: bool
    why: str


def overlay(
    text: str,
    found: Sequence[Span],
    *,
    default: Exemption | None = None,
    default_why: str = "",
    stale_code: str | None = None,
    decisions: Sequence[Overlay] = (),
) -> tuple[Span, ...]:
    """The redacted runs of ``text``: automatic matches, then the whole-text default (or the
    whole text again when it changed after a reviewer redacted part of it), then the reviewer's
    decisions in order. A protected character stays redacted whatever is decided."""
    marks: list[_Mark | None] = [None] * len(text)

    def lay(start: int, end: int, mark: _Mark) -> None:
        for i in range(max(0, start), min(len(text), end)):
            current = marks[i]
            if current is not None and current.protected and not mark.protected:
                continue
            marks[i] = mark

    whole = len(text)
    if default is not None:
        lay(0, whole, _Mark(default.value, Source.DEFAULT, False, default_why))
    # Shorter matches first, so the longest match over a run names it ("full name", not "name").
    for span in sorted(found, key=lambda s: (s.protected, s.end - s.start, s.start)):
        lay(span.start, span.end, _Mark(span.code, span.source, span.protected, span.why))
    if stale_code is not None:
        lay(0, whole, _Mark(stale_code, Source.STALE, False, "text changed after review"))
    for decision in decisions:
        for i in range(max(0, decision.start), min(whole, decision.end)):
            current = marks[i]
            if current is not None and current.protected:
                continue
            marks[i] = _Mark(decision.code, Source.REVIEWER, False, "") if decision.redact else None
    runs: list[Span] = []
    i = 0
    while i < whole:
        mark = marks[i]
        if mark is None:
            i += 1
            continue
        j = i
        while j < whole and marks[j] == mark:
            j += 1
        runs.append(Span(i, j, mark.code, mark.source, mark.protected, mark.why))
        i = j
    return tuple(runs)


def json_marker(code: str) -> str:
    return f"[REDACTED: {code}]"


def _codes(codes: list[str]) -> str:
    """Codes in a fixed order: the exemptions' own order, then any other code."""
    order = [e.value for e in Exemption]
    return ", ".join(sorted(codes, key=lambda c: (order.index(c) if c in order else 99, c)))


def disclosed(text: str, spans: Sequence[Span], marker: Callable[[str], str] = json_marker) -> str:
    """``text`` with each redacted run replaced by ``marker(codes)``. Touching runs become one
    marker naming each of their codes once ("third_party, serious_harm")."""
    out: list[str] = []
    pos = 0
    group: list[str] = []
    for span in sorted(spans, key=lambda s: s.start):
        if group and span.start != pos:
            out.append(marker(_codes(group)))
            group = []
        if not group:
            out.append(text[pos : span.start])
        if span.code not in group:
            group.append(span.code)
        pos = span.end
    if group:
        out.append(marker(_codes(group)))
    out.append(text[pos:])
    return "".join(out)
