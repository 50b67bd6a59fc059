"""A synthetic world for subject access tests: a survivor, her child, the alleged perpetrator
(on two cases), a police officer acting in her role, notes, a safety plan, safe contact
details, a risk checklist, a share and a consent. Every person here is invented."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from app.crypto.memory_keyring import MemoryKeyring
from app.models import cases as case_model
from app.models.records import (
    Answer,
    CaseDetails,
    CaseRole,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    Direction,
    LawfulBasis,
    NoteKind,
    RecipientCategory,
    SafeContact,
    ShareRecord,
)
from app.models.rights import RightKind
from app.services import cases, consent, notes, rights, risk, sharing
from tests.helpers import MANAGER, StoreCopy
from tests.services.casework import TODAY, person, signed_in

JANE = person(
    "Jane",
    "Wexford",
    aliases=("Janey Marsh",),
    date_of_birth=dt.date(1990, 4, 12),
    address="Flat 3, Orchard House, 27 Kestrel Lane, Northfield",
    postcode="NF4 7QX",
    phones=("07700 900461",),
    email="jane.wexford@example.org",
    address_confidential=True,
)
DARREN = person(
    "Darren",
    "Holt",
    aliases=("Daz Holt",),
    date_of_birth=dt.date(1986, 9, 3),
    address="14 Mill Road, Southgate",
    postcode="SG2 1AB",
    phones=("07700 900777",),
    email="d.holt@example.net",
)
POPPY = person(
    "Poppy",
    "Wexford",
    date_of_birth=dt.date(2016, 2, 19),
    address=JANE.address,
    postcode=JANE.postcode,
    address_confidential=True,
)
DANA = person("Dana", "Whitlock", organisation="Northfield Police", job_title="Detective Constable")
SASHA = person(
    "Sasha",
    "Brennan",
    date_of_birth=dt.date(1995, 7, 30),
    postcode="NF9 2ZZ",
    phones=("07700 900313",),
)
JANE_SAFE_NUMBER = "07700 900582"
JANE_CODE_WORD = "bluebell"
SASHA_SAFE_NUMBER = "07700 900999"
SASHA_CODE_WORD = "kingfisher"

SAFETY_PLAN = (
    "Jane keeps her phone charged. Poppy's school knows not to release her to Darren Holt. "
    "Call 999 if Darren appears at 27 Kestrel Lane."
)
VISIT = (
    "Home visit to Jane at Flat 3, Orchard House. Darren Holt has been calling her on "
    "07700 900461 again. Poppy (born 19/02/2016) stayed with her gran. DC Dana Whitlock attended."
)
VISIT_CORRECTED = VISIT.replace(" again.", " every night.")
CALL = (
    "Spoke to Jane on her safe number 07700 900582 (code word bluebell). She says Daz threatened "
    "her at the school gate near NF4 7QX. Copy sent to jane.wexford@example.org."
)
HOUSING = "Jane attended her housing appointment."
OFFICE_CALL = "Darren Holt rang the office from 07700 900777 asking where Jane lives; refused."
SASHA_NOTE = "Sasha says Darren Holt followed her to NF9 2ZZ last Saturday."

# What must never reach the alleged perpetrator: the survivors', the child's and others'
# names, aliases, addresses, postcodes, phone numbers, emails, dates of birth, safe contact.
NOT_FOR_DARREN = (
    "Jane",
    "Wexford",
    "Janey",
    "Marsh",
    "Poppy",
    "Orchard House",
    "Kestrel",
    "NF4 7QX",
    "NF47QX",
    "jane.wexford@example.org",
    "bluebell",
    "1990-04-12",
    "12/04/1990",
    "2016-02-19",
    "19/02/2016",
    "Sasha",
    "Brennan",
    "NF9 2ZZ",
    "kingfisher",
    "1995-07-30",
    "Marie",
)
NOT_FOR_DARREN_DIGITS = ("07700900461", "07700900582", "07700900313", "07700900999")
DARREN_OWN = (
    "Darren",
    "Holt",
    "Daz Holt",
    "14 Mill Road",
    "SG2 1AB",
    "d.holt@example.net",
    "1986-09-03",
    "07700 900777",
    "alleged perpetrator",
)


@dataclass(frozen=True)
class SarWorld:
    path: Path
    keyring: MemoryKeyring
    case: int
    second_case: int
    jane: int
    darren: int
    poppy: int
    dana: int
    sasha: int
    visit: int
    call: int
    housing: int
    office_call: int
    share: int

    @property
    def store(self) -> StoreCopy:
        return StoreCopy(self.path, self.keyring, "")


def _hours_ago(hours: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)


def build_world(store: StoreCopy) -> SarWorld:
    """Make the world in ``store`` (as the manager) and return its ids."""
    with signed_in(store, MANAGER) as s:
        details = CaseDetails(
            referral_date=TODAY - dt.timedelta(days=60),
            referral_source="Police, DC Dana Whitlock",
            other_services="Housing options team",
            needs_assessment="Jane needs housing support; Janey Marsh is the name she used before.",
            safety_plan=SAFETY_PLAN,
        )
        case = cases.create_referral(s, JANE, details)
        jane = case_model.client_id(s.conn, case)
        assert jane is not None
        darren = cases.add_person(s, case, DARREN, CaseRole.ALLEGED_PERPETRATOR)
        poppy = cases.add_person(s, case, POPPY, CaseRole.CHILD)
        dana = cases.add_person(s, case, DANA, CaseRole.PROFESSIONAL)
        cases.set_safe_contact(
            s,
            case,
            SafeContact(
                person_id=jane,
                safe_number=JANE_SAFE_NUMBER,
                method="phone",
                safe_times="weekdays after 10am",
                text_ok=True,
                code_word=JANE_CODE_WORD,
                safe_people="her sister Marie",
                unsafe_people="Darren Holt and his brother",
                last_checked=TODAY - dt.timedelta(days=5),
            ),
        )
        visit = notes.add_note(s, case, NoteKind.VISIT, VISIT, _hours_ago(50))
        notes.correct_note(s, visit, VISIT_CORRECTED, "Jane said the calls come every night")
        call = notes.add_note(s, case, NoteKind.CALL, CALL, _hours_ago(40))
        housing = notes.add_note(s, case, NoteKind.MEETING, HOUSING, _hours_ago(30))
        office_call = notes.add_note(s, case, NoteKind.CALL, OFFICE_CALL, _hours_ago(20))
        answers = {q: (Answer.YES if q <= 15 else Answer.NO) for q in range(1, 25)}
        risk.record_dash(
            s,
            case,
            jane,
            answers,
            completed_on=TODAY - dt.timedelta(days=3),
            sources={8: "police report"},
        )
        share = sharing.record_share(
            s,
            ShareRecord(
                case_id=case,
                direction=Direction.OUT,
                shared_at=_hours_ago(10).isoformat(),
                organisation="Northfield Police",
                recipient_category=RecipientCategory.POLICE,
                person_ids=(jane, darren),
                data_categories=("risks", "perpetrator_details"),
                purpose="MARAC referral about Darren Holt",
                method="secure email",
                lawful_basis=LawfulBasis.PUBLIC_TASK,
                reason="High risk to Jane and Poppy from Darren",
                person_told=True,
            ),
        )
        consent.record_consent(
            s,
            case,
            jane,
            ConsentPurpose.SUPPORT,
            "",
            ConsentState.GIVEN,
            decided_on=TODAY - dt.timedelta(days=50),
            how=ConsentHow.VERBAL,
        )

        second = cases.create_referral(
            s,
            SASHA,
            CaseDetails(referral_date=TODAY - dt.timedelta(days=20), referral_source="GP"),
        )
        sasha = case_model.client_id(s.conn, second)
        assert sasha is not None
        cases.link_person(s, second, darren, CaseRole.ALLEGED_PERPETRATOR)
        cases.set_safe_contact(
            s,
            second,
            SafeContact(person_id=sasha, safe_number=SASHA_SAFE_NUMBER, code_word=SASHA_CODE_WORD),
        )
        notes.add_note(s, second, NoteKind.NOTE, SASHA_NOTE, _hours_ago(5))
    return SarWorld(
        path=store.path,
        keyring=store.keyring,
        case=case,
        second_case=second,
        jane=jane,
        darren=darren,
        poppy=poppy,
        dana=dana,
        sasha=sasha,
        visit=visit,
        call=call,
        housing=housing,
        office_call=office_call,
        share=share.id,
    )


# -- reading what a pack contains ---------------------------------------------------------------

_PDF_STRING = re.compile(rb"\((?:\\.|[^\\)])*\)", re.DOTALL)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def new_request(
    store: StoreCopy, person_id: int, received: dt.date, confirmed: dt.date | None = None
) -> str:
    """An access request about ``person_id`` from the person themselves, entered by a manager;
    returns its reference."""
    with signed_in(store, MANAGER) as s:
        draft = rights.RequestDraft(
            kind=RightKind.ACCESS,
            requester="The data subject",
            received_on=received,
            subject_person_id=person_id,
            identity_confirmed_on=confirmed,
        )
        return rights.create_request(s, draft).reference


def pdf_text(data: bytes) -> str:
    """Every text string in an uncompressed PDF (reportlab's standard fonts write text as
    literal strings), unescaped, one per line."""
    assert data.startswith(b"%PDF")
    assert b"/FlateDecode" not in data, "build the PDF uncompressed to read it"
    parts = []
    for raw in _PDF_STRING.findall(data):
        body = re.sub(rb"\\([0-7]{1,3})", lambda m: bytes([int(m.group(1), 8) & 0xFF]), raw[1:-1])
        body = re.sub(rb"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)
        parts.append(body.decode("cp1252", "replace"))
    return "\n".join(parts)


def leaks(texts: list[str], tokens: tuple[str, ...], digits: tuple[str, ...] = ()) -> list[str]:
    """The tokens (any case) and digit strings (ignoring spaces and punctuation) found."""
    found = [t for t in tokens for text in texts if t.lower() in text.lower()]
    only_digits = [re.sub(r"\D", "", text) for text in texts]
    found += [d for d in digits for text in only_digits if d in text]
    return sorted(set(found))
