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
