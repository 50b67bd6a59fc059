"""Redaction for subject access packs: finding other people's identifying data in text, and
laying automatic redactions, defaults and a reviewer's decisions over it, character by character.

Pure functions, no store. Patterns never hold personal data in their descriptions: ``why`` says
what kind of data matched ("name", "phone number"), never the data itself.
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
_NAME_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def _flex(text: str) -> str:
    """``text`` as a pattern in which any run of spaces matches any run of white space."""
    return r"\s+".join(re.escape(word) for word in text.split())


def _compile(body: str, code: Exemption, protected: bool, why: str) -> Pattern:
    return Pattern(re.compile(body, _FLAGS), code, protected, why)


def name_tokens(*names: str) -> set[str]:
    """The lower-cased words of names, two letters or longer."""
    return {
        w.lower() for name in names for w in re.findall(r"[^\W\d_][\w'’-]*", name) if len(w) > 1
    }


def name_patterns(
    names: Iterable[str],
    code: Exemption = Exemption.THIRD_PARTY,
    *,
    exclude: AbstractSet[str] = frozenset(),
    protected: bool = False,
) -> list[Pattern]:
    """Whole names and each word of them, as words in any case; words in ``exclude`` (the
    subject's own names) are matched only inside a whole name."""
    patterns: list[Pattern] = []
    seen: set[str] = set()
    for name in names:
        whole = " ".join(name.split())
        if not whole:
            continue
        candidates = [whole] if len(whole.split()) > 1 else []
        candidates += [w for w in sorted(name_tokens(whole)) if w not in exclude]
        for text in candidates:
            key = text.lower()
            if key in seen or key in exclude:
                continue
            seen.add(key)
            patterns.append(
                _compile(_WORD_BEFORE + _flex(text) + _WORD_AFTER, code, protected, "name")
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
    return _compile(rf"(?<![\w.+-]){re.escape(email)}(?!\w)", code, False, "email address")


def address_patterns(
    address: str, code: Exemption = Exemption.THIRD_PARTY, *, protected: bool = False
) -> list[Pattern]:
    """The whole address, and each line of it but a lone word (a town, most likely)."""
    parts = [" ".join(p.split()) for p in re.split(r"[,\n;]+", address)]
    parts = [p for p in parts if p]
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
    return patterns


_MONTHS = (
    "january february march april may june july august september october november december"
).split()


def date_patterns(day: dt.date, code: Exemption = Exemption.THIRD_PARTY) -> list[Pattern]:
    """A date of birth written the common ways: 2010-03-07, 07/03/2010, 7.3.10, 7th March 2010,
    7 Mar 2010, March 7, 2010."""
    d, m, y = day.day, day.month, day.year
    month = _MONTHS[m - 1]
    dd, mm = rf"0?{d}", rf"0?{m}"
    year = rf"(?:{y}|{y % 100:02d})"
    month_name = rf"(?:{month}|{month[:3]}\.?)"
    ordinal = r"(?:st|nd|rd|th)?"
    bodies = [
        rf"(?<!\d){y}-{m:02d}-{d:02d}(?!\d)",
        rf"(?<!\d){dd}[/.-]{mm}[/.-]{year}(?!\d)",
        rf"(?<!\d){dd}{ordinal}\s+(?:of\s+)?{month_name}\s*,?\s+{y}(?!\d)",
        rf"(?<!\w){month_name}\s+{dd}{ordinal}\s*,?\s+{y}(?!\d)",
    ]
    return [_compile(b, code, False, "date of birth") for b in bodies]


def word_pattern(
    text: str, code: Exemption = Exemption.THIRD_PARTY, *, protected: bool = False, why: str = ""
) -> Pattern | None:
    text = " ".join(text.split())
    if len(text) < 2:
        return None
    return _compile(_WORD_BEFORE + _flex(text) + _WORD_AFTER, code, protected, why or "word")


def mentions(text: str, patterns: Sequence[Pattern]) -> bool:
    return any(p.regex.search(text) for p in patterns)


def find(text: str, patterns: Sequence[Pattern]) -> list[Span]:
    """Every match of every pattern in ``text`` (overlaps are resolved by ``overlay``)."""
    spans = []
    for pattern in patterns:
        for match in pattern.regex.finditer(text):
            if match.end() > match.start():
                spans.append(
                    Span(
                        match.start(),
                        match.end(),
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
    for span in sorted(found, key=lambda s: (s.protected, s.start)):
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
