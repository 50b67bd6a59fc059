"""Finding other people's identifying data in free text, and laying decisions over it."""

from __future__ import annotations

import datetime as dt

from app.models import redaction as rx
from app.models.redaction import Exemption, Overlay, Source


def _hidden(text: str, patterns: list[rx.Pattern]) -> str:
    return rx.disclosed(text, rx.overlay(text, rx.find(text, patterns)), lambda c: "#")


def test_names_match_as_whole_words_in_any_case() -> None:
    patterns = rx.name_patterns(["Kai Lindqvist", "Kai", "Lindqvist", "K-Dog"])
    assert _hidden("kai said LINDQVIST and Kai Lindqvist; K-Dog too", patterns) == (
        "# said # and #; # too"
    )
    assert _hidden("Kaiser and Lindqvists", patterns) == "Kaiser and Lindqvists"


def test_the_subjects_own_names_are_matched_only_inside_another_persons_full_name() -> None:
    patterns = rx.name_patterns(["Mia Holt", "Mia", "Holt"], exclude=rx.name_tokens("Dan Holt"))
    assert _hidden("Dan Holt collected Mia Holt; Mia waved at Holt", patterns) == (
        "Dan Holt collected #; # waved at Holt"
    )


def test_phone_numbers_match_by_their_digits_however_written() -> None:
    pattern = rx.phone_pattern("07700 900461")
    assert pattern is not None
    for written in (
        "07700900461",
        "07700 900 461",
        "(07700) 900-461",
        "+44 7700 900461",
        "+44 (0)7700 900461",
        "0044 7700 900461",
    ):
        assert _hidden(f"rang {written} twice", [pattern]) == "rang # twice", written
    assert _hidden("ref 1077009004612", [pattern]) == "ref 1077009004612"
    assert rx.phone_pattern("999") is None


def test_postcodes_emails_addresses_and_dates_of_birth() -> None:
    postcode = rx.postcode_pattern("nf4 7qx")
    email = rx.email_pattern("A.Person@example.org")
    assert postcode is not None and email is not None
    assert _hidden("near NF47QX and nf4  7qx, not XNF4 7QX", [postcode]) == (
        "near # and #, not XNF4 7QX"
    )
    assert _hidden("mail a.person@example.org.", [email]) == "mail #."
    address = rx.address_patterns("Flat 3, Orchard House, 27 Kestrel Lane, Northfield")
    assert _hidden("at Flat 3, Orchard House, 27 Kestrel Lane, Northfield today", address) == (
        "at # today"
    )
    assert _hidden("seen at orchard house; lives in Northfield", address) == (
        "seen at #; lives in Northfield"
    )
    born = rx.date_patterns(dt.date(2016, 2, 9))
    for written in (
        "2016-02-09",
        "09/02/2016",
        "9/2/2016",
        "9.2.16",
        "9th February 2016",
        "9 Feb 2016",
        "February 9, 2016",
    ):
        assert _hidden(f"born {written}.", born) == "born #.", written
    assert _hidden("on 19/02/2016", born) == "on 19/02/2016"


def test_overlay_defaults_decisions_and_protection() -> None:
    text = "Call 07700 900582 about Kai"
    number = rx.phone_pattern("07700 900582", Exemption.SERIOUS_HARM, protected=True)
    assert number is not None
    found = rx.find(text, [number, *rx.name_patterns(["Kai"])])
    whole = rx.overlay(text, found, default=Exemption.SERIOUS_HARM)
    assert rx.disclosed(text, whole) == "[REDACTED: third_party, serious_harm]"
    # Disclosing everything lifts all but the protected number.
    lifted = rx.overlay(
        text, found, default=Exemption.SERIOUS_HARM, decisions=[Overlay(False, 0, len(text), "")]
    )
    assert rx.disclosed(text, lifted) == "Call [REDACTED: serious_harm] about Kai"
    assert [s.protected for s in lifted] == [True]
    # A reviewer's redaction, then a later disclosure of part of it: the later one wins.
    decided = rx.overlay(
        text, [], decisions=[Overlay(True, 0, 4, "other"), Overlay(False, 0, 2, "")]
    )
    assert rx.disclosed(text, decided) == "Ca[REDACTED: other] 07700 900582 about Kai"
    assert decided[0].source is Source.REVIEWER
    # A text changed after review is withheld whole, but protection still shows as such.
    stale = rx.overlay(text, found, stale_code="other")
    assert {s.source for s in stale} == {Source.STALE, Source.AUTOMATIC}
    assert rx.disclosed(text, stale) == "[REDACTED: serious_harm, other]"


# -- written variants of the same identifier ----------------------------------------------------


def _found(text: str, patterns: list[rx.Pattern]) -> list[tuple[str, str]]:
    """What the reviewer sees: each redacted run of the original text, and why."""
    return [(text[s.start : s.end], s.why) for s in rx.overlay(text, rx.find(text, patterns))]


def test_a_name_matches_whichever_apostrophe_and_case_it_is_written_with() -> None:
    patterns = rx.name_patterns(["Siobhan O'Neill", "Siobhan", "O'Neill"])
    text = "SIOBHAN O’NEILL rang; o‘neill’s sister; Neill too"
    assert _found(text, patterns) == [
        ("SIOBHAN O’NEILL", "full name"),
        ("o‘neill", "name"),
        ("Neill", "part of a name"),
    ]


def test_each_half_of_a_double_barrelled_surname_matches_but_not_a_short_one() -> None:
    patterns = rx.name_patterns(["Dana Ellery-Pike", "Dana", "Ellery-Pike"])
    text = "Mr Pike and Ms Ellery; Dana Ellery–Pike (an en dash); Ellery Pike"
    assert _found(text, patterns) == [
        ("Pike", "part of a name"),
        ("Ellery", "part of a name"),
        ("Dana Ellery–Pike", "full name"),
        ("Ellery", "part of a name"),
        ("Pike", "part of a name"),
    ]
    short = rx.name_patterns(["Al-Sayed"])
    assert _found("Al said Al-Sayed and Sayed", short) == [
        ("Al-Sayed", "name"),
        ("Sayed", "part of a name"),
    ]


def test_the_subjects_own_surname_half_is_not_matched_alone() -> None:
    mine = rx.name_tokens("Morgan Ellery-Pike")
    patterns = rx.name_patterns(["Dan Pike", "Dan", "Pike"], exclude=mine)
    assert _found("Dan Pike and Morgan Ellery-Pike", patterns) == [("Dan Pike", "full name")]


def test_a_street_named_without_its_house_number_is_matched() -> None:
    patterns = rx.address_patterns("27 Kestrel Lane, Northfield")
    text = "walked down kestrel  lane; lives at 27 Kestrel Lane"
    assert _found(text, patterns) == [
        ("kestrel  lane", "street name without its house number"),
        ("27 Kestrel Lane", "address"),
    ]
    flat = rx.address_patterns("Flat 2, 14b Mill Road, Northfield")
    assert _found("near Mill Road", flat) == [("Mill Road", "street name without its house number")]
    # A neighbour's street is the subject's own too: only the neighbour's number is withheld.
    mine = rx.street_names("Flat 3, 27 Kestrel Lane, Northfield")
    assert mine == {"kestrel lane"}
    neighbour = rx.address_patterns("29 Kestrel Lane, Northfield", exclude_streets=mine)
    assert _found("I live on Kestrel Lane; he is at 29 Kestrel Lane", neighbour) == [
        ("29 Kestrel Lane", "address")
    ]


def test_a_postcode_matches_with_or_without_its_space() -> None:
    pattern = rx.postcode_pattern("NF4 7QX")
    assert pattern is not None
    assert _found("nf47qx or NF4 7QX", [pattern]) == [
        ("nf47qx", "postcode"),
        ("NF4 7QX", "postcode"),
    ]


def test_a_date_of_birth_matches_in_the_common_uk_formats() -> None:
    born = rx.date_patterns(dt.date(1991, 2, 25))
    for written in (
        "25/02/1991",
        "25-02-1991",
        "25.2.91",
        "25 Feb 1991",
        "25-Feb-1991",
        "25–Feb–91",
        "25th February 1991",
        "25th of February, 1991",
        "February 25, 1991",
        "1991-02-25",
    ):
        text = f"born {written}, per the GP"
        assert _hidden(text, born) == "born #, per the GP", written
    assert _hidden("on 25/02/1992 and 5-Feb-1991", born) == "on 25/02/1992 and 5-Feb-1991"


def test_spans_are_offsets_in_the_original_text_however_it_was_folded() -> None:
    """Folding changes lengths (runs of spaces become one, "ß" becomes "ss"); the redacted runs
    still cover exactly the original characters."""
    patterns = rx.name_patterns(["Jürgen Weiß"])
    text = "Straße:  JÜRGEN \u00a0 WEISS and Jürgen Weiß."
    assert _found(text, patterns) == [
        ("JÜRGEN \u00a0 WEISS", "full name"),
        ("Jürgen Weiß", "full name"),
    ]
    assert _hidden(text, patterns) == "Straße:  # and #."
