"""Search: what a worker types finds their cases, never anyone else's, and leaves no trace of
what was typed; the duplicate check on a new referral counts what it may not show."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass

import pytest

from app.errors import InvalidInput
from app.models.records import NoteKind
from app.services import audit, cases, notes, rights, search
from app.services.session import Session
from tests.helpers import CASEWORKER, CASEWORKER2, MANAGER, StoreCopy
from tests.services.casework import (
    audit_head,
    audit_since,
    new_referral,
    person,
    signed_in,
)

JO = person(
    "Jo",
    "Thornbury",
    aliases=("Joanne Marsh",),
    phones=("07700 900123",),
    postcode="LS6 2QT",
)
SAM = person("Sam", "Thornbury", phones=("07700 900999",), postcode="LS6 3AB")


@dataclass(frozen=True)
class Records:
    mine: int  # CASEWORKER's case, client Jo Thornbury
    my_client: int
    my_reference: str
    theirs: int  # CASEWORKER2's case, client Sam Thornbury


@pytest.fixture
def records(store: StoreCopy) -> Records:
    with signed_in(store, CASEWORKER) as s:
        mine = new_referral(s, JO)
        notes.add_note(
            s,
            mine,
            NoteKind.CALL,
            "Discussed the refuge vacancy in Harrogate",
            dt.datetime.now(dt.UTC) - dt.timedelta(hours=2),
        )
        view = cases.open_case(s, mine)
        client = view.contact.client_id
        assert client is not None
    with signed_in(store, CASEWORKER2) as s:
        theirs = new_referral(s, SAM)
    return Records(mine, client, view.case.reference, theirs)


def _ids(session: Session, text: str) -> list[int]:
    return [hit.case.id for hit in search.search(session, text)]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param("Marsh", "person", id="alias surname"),
        pytest.param("joanne", "person", id="alias given name, lower case"),
        pytest.param("07700 900 123", "person", id="phone with spaces"),
        pytest.param("07700900123", "person", id="phone without spaces"),
        pytest.param("+44 7700 900123", "person", id="phone with +44 and spaces"),
        pytest.param("+447700900123", "person", id="phone with +44"),
        pytest.param("LS6 2QT", "person", id="postcode"),
        pytest.param("ls6 2qt", "person", id="postcode lower case"),
        pytest.param("LS62QT", "person", id="postcode without the space"),
        pytest.param("ls62qt", "person", id="postcode lower case without the space"),
        pytest.param("<reference>", "reference", id="reference"),
        pytest.param("<reference lower, unpadded>", "reference", id="reference as typed"),
        pytest.param("refuge", "note", id="word from a note"),
        pytest.param("harrogate", "note", id="another note word, lower case"),
        pytest.param("Thornb", "person", id="surname prefix"),
    ],
)
def test_search_finds_the_case(store: StoreCopy, records: Records, text: str, kind: str) -> None:
    year, number = records.my_reference.split("-")[1:]
    typed = {
        "<reference>": records.my_reference,
        "<reference lower, unpadded>": f" sc-{year}-{int(number)} ",
    }.get(text, text)
    with signed_in(store, CASEWORKER) as s:
        hits = search.search(s, typed)
    assert [h.case.id for h in hits] == [records.mine], f"{typed!r} did not find the case"
    assert kind in hits[0].matched, f"{typed!r} matched {hits[0].matched}, expected {kind}"
    assert hits[0].case.client_name == "Jo Thornbury"
    assert hits[0].case.reference == records.my_reference


def test_search_finds_nothing_for_an_unknown_word(store: StoreCopy, records: Records) -> None:
    with signed_in(store, CASEWORKER) as s:
        assert search.search(s, "Zebedee") == []
        assert search.search(s, "07700 900000") == []


def test_a_shared_surname_shows_each_caseworker_only_their_own_case(
    store: StoreCopy, records: Records
) -> None:
    with signed_in(store, CASEWORKER) as s:
        assert _ids(s, "Thornbury") == [records.mine]
        assert _ids(s, "Thorn") == [records.mine]
        assert _ids(s, "07700 900999") == []  # the other worker's client's phone
        assert _ids(s, "LS6 3AB") == []
    with signed_in(store, CASEWORKER2) as s:
        assert _ids(s, "Thornbury") == [records.theirs]
        assert _ids(s, "Harrogate") == []  # a word from the other worker's note
        assert _ids(s, records.my_reference) == []
    with signed_in(store, MANAGER) as s:
        assert sorted(_ids(s, "Thornbury")) == sorted([records.mine, records.theirs])


def test_people_found_by_name_come_before_a_mention_in_a_note_and_newest_first(
    store: StoreCopy, records: Records
) -> None:
    with signed_in(store, CASEWORKER) as s:
        mention = new_referral(s, person("Ali", "Khan"))
        notes.add_note(
            s,
            mention,
            NoteKind.MEETING,
            "Met the Thornbury family's solicitor about the hearing",
            dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        )
    with signed_in(store, MANAGER) as s:
        hits = search.search(s, "Thornbury")
    # Sam's case is newer than Jo's; Ali's case is the newest but only a note names Thornbury.
    assert [h.case.id for h in hits] == [records.theirs, records.mine, mention]
    assert [h.matched for h in hits] == [("person",), ("person",), ("note",)]


def test_the_search_audit_records_the_count_never_the_text(
    store: StoreCopy, records: Records
) -> None:
    typed = ["Thornbury", "Zebedee", "+44 7700 900123"]
    with signed_in(store, CASEWORKER) as s:
        head = audit_head(s)
        counts = [len(search.search(s, text)) for text in typed]
        entries = audit_since(s, head)
    assert counts == [1, 0, 1]
    searched = [e for e in entries if e.action == audit.SEARCHED]
    assert len(searched) == len(typed), "each search writes one audit entry"
    for entry, count in zip(searched, counts, strict=True):
        assert re.search(rf"(?<!\d){count}(?!\d)", entry.detail), (
            f"the entry {entry.detail!r} does not give the result count {count}"
        )
        assert entry.user_id == s.user_id
    for entry in entries:
        text = f"{entry.record} {entry.detail}".lower()
        for secret in ("thornbury", "zebedee", "7700", "900123"):
            assert secret not in text, f"the audit entry {entry.action} holds what was typed"


def test_duplicate_check_counts_a_case_it_may_not_show(store: StoreCopy, records: Records) -> None:
    new_referral = dataclasses.replace(SAM, phones=("+44 7700 900999",), postcode="")
    with signed_in(store, CASEWORKER) as s:
        head = audit_head(s)
        report = cases.find_matches(s, new_referral)
        trail = audit_since(s, head)
    assert report.hidden == 1, "the name and the phone match one case, counted once"
    assert report.visible == ()
    assert report.any, "the worker must be warned that this person may already be on record"
    for entry in trail:
        text = f"{entry.record} {entry.detail}".lower()
        assert "thornbury" not in text and "900999" not in text
    with signed_in(store, MANAGER) as s:
        report = cases.find_matches(s, new_referral)
    assert [c.id for c in report.visible] == [records.theirs]
    assert report.visible[0].client_name == "Sam Thornbury"
    assert report.hidden == 0


def test_duplicate_check_shows_the_workers_own_match_and_ignores_strangers(
    store: StoreCopy, records: Records
) -> None:
    with signed_in(store, CASEWORKER) as s:
        own = cases.find_matches(s, person("Jo", "Thornbury"))
        stranger = cases.find_matches(s, person("Priya", "Okafor", phones=("07700 900444",)))
    assert [c.id for c in own.visible] == [records.mine] and own.hidden == 0
    assert stranger.visible == () and stranger.hidden == 0 and not stranger.any


def test_a_changed_phone_number_is_found_and_the_old_one_is_not(
    store: StoreCopy, records: Records
) -> None:
    with signed_in(store, CASEWORKER) as s:
        assert _ids(s, "07700 900123") == [records.mine]
        current = cases.get_person(s, records.my_client)
        cases.update_person(
            s, records.my_client, dataclasses.replace(current.details, phones=("07700 900555",))
        )
        assert _ids(s, "07700 900123") == []
        assert _ids(s, "+44 7700 900123") == []
        assert _ids(s, "07700 900555") == [records.mine]
        assert _ids(s, "+44 7700 900555") == [records.mine]
        # The rest of the person's details still find the case.
        assert _ids(s, "Marsh") == [records.mine]
        assert _ids(s, "ls62qt") == [records.mine]
    with signed_in(store, CASEWORKER2) as s:
        # The duplicate check no longer matches the old number either.
        old = cases.find_matches(s, dataclasses.replace(JO, given_name="", family_name=""))
        new = cases.find_matches(s, person("", "", phones=("07700 900555",)))
        assert old.hidden == 0 and old.visible == ()
        assert new.hidden == 1 and new.visible == ()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Thornbury " * 1100, "at most 200 characters"),
        (" ".join(f"w{i}" for i in range(11)), "at most 10 words"),
    ],
)
def test_a_query_too_long_to_be_a_name_is_refused_at_once(
    store: StoreCopy, records: Records, text: str, said: str
) -> None:
    """A 10 KB query held the store for 4.9 s on a 3,000-case store; now it is refused with
    a sentence before any query runs, in search and in the SAR register's person finder."""
    with signed_in(store, MANAGER) as s:
        head = audit_head(s)
        with pytest.raises(InvalidInput, match=said):
            search.search(s, text)
        with pytest.raises(InvalidInput, match=said):
            rights.find_subjects(s, text)
        assert audit_since(s, head) == []
        assert search.search(s, "Thornbury " * 10)  # ten words still search
