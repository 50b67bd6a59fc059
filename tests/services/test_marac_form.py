"""The MARAC referral form: pre-filled from the case, checked, issued as a PDF that carries no
refuge address or code word, recorded in the sharing log as a share to the MARAC (consent rule
and manager review included), kept as issued, in the subject access pack and gone after a
purge."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.crypto.connection import connect
from app.errors import InvalidInput, PermissionDenied
from app.models import cases as case_model
from app.models import retention as retention_model
from app.models.categories import (
    Agency,
    AgencyType,
    ChildDetails,
    ChildProtection,
    Ethnicity,
    GenderIdentity,
    PersonCategories,
)
from app.models.records import (
    Answer,
    CaseDetails,
    CaseRole,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    LawfulBasis,
    RecipientCategory,
    SafeContact,
    ShareApproval,
)
from app.models.rights import RightKind
from app.models.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from app.services import (
    audit,
    cases,
    categories,
    consent,
    drafts,
    marac_form,
    rights,
    risk,
    sar,
    sharing,
)
from app.services.drafts import NewDraft
from app.services.marac_form import MaracEdits, ReferralReason
from app.services.session import Session
from tests.helpers import ADMIN, CASEWORKER, CASEWORKER2, DPO, MANAGER, SERVICE, StoreCopy
from tests.services import forensics
from tests.services.casework import TODAY, audit_head, audit_since, person, signed_in, user_id
from tests.services.closed_cases import clock

DAY = dt.timedelta(days=1)
REFUGE_STREET = "12 Marrowby Road"
REFUGE_BUILDING = "Quillon House"
REFUGE_POSTCODE = "QZ9 8XY"
CODE_WORD = "Zephyrine"
SAFE_NUMBER = "07700 900456"
SEVEN_YEARS_AGO = TODAY.replace(year=TODAY.year - 7)


def yes_answers(count: int) -> dict[int, Answer]:
    return {q: Answer.YES if q <= count else Answer.NO for q in range(1, 25)}


@dataclass(frozen=True)
class Referral:
    case_id: int
    client: int
    perpetrator: int
    child: int
    household: int


def make_case(
    session: Session,
    *,
    score: int = 15,
    consent_given: bool = True,
    referred: dt.date | None = None,
    dash_on: dt.date = TODAY,
    child_born: dt.date = SEVEN_YEARS_AGO,
) -> Referral:
    """A case with a client in a refuge (confidential address), safe contact with a code word,
    an alleged perpetrator, a child, another household member, agencies and a DASH."""
    client = person(
        "Imogen",
        "Farrowdale",
        date_of_birth=dt.date(1991, 4, 2),
        address=f"Flat 3, {REFUGE_BUILDING}, {REFUGE_STREET}, Northfield",
        postcode=REFUGE_POSTCODE,
        address_confidential=True,
    )
    case_id = cases.create_referral(
        session,
        client,
        CaseDetails(referral_date=referred or TODAY - 20 * DAY, referral_source="Police"),
    )
    client_id = case_model.client_id(session.conn, case_id)
    assert client_id is not None
    perp = cases.add_person(
        session,
        case_id,
        person(
            "Brannock",
            "Farrowdale",
            date_of_birth=dt.date(1988, 9, 9),
            address="40 Tanner Street, Westcombe",
            postcode="WC1 4JD",
        ),
        CaseRole.ALLEGED_PERPETRATOR,
    )
    child = cases.add_person(
        session,
        case_id,
        person("Pip", "Farrowdale", date_of_birth=child_born),
        CaseRole.CHILD,
    )
    household = cases.add_person(
        session, case_id, person("Maud", "Ellery"), CaseRole.HOUSEHOLD_MEMBER
    )
    categories.set_person_categories(
        session,
        client_id,
        PersonCategories(ethnicity=Ethnicity.WHITE_IRISH, gender_identity=GenderIdentity.WOMAN),
    )
    categories.set_child(
        session,
        case_id,
        ChildDetails(child, "Larkrise Primary", ChildProtection.CHILD_IN_NEED),
    )
    categories.add_agency(
        session, case_id, Agency(AgencyType.POLICE, "Northfield Police", "DC Harrow")
    )
    categories.add_agency(session, case_id, Agency(AgencyType.HOUSING, "Northfield Homes"))
    cases.set_safe_contact(
        session,
        case_id,
        SafeContact(
            person_id=client_id,
            safe_number=SAFE_NUMBER,
            safe_times="Weekdays 10 to 12",
            voicemail_ok=False,
            text_ok=True,
            code_word=CODE_WORD,
        ),
    )
    if consent_given:
        consent.record_consent(
            session,
            case_id,
            client_id,
            ConsentPurpose.SHARING,
            RecipientCategory.MARAC.value,
            ConsentState.GIVEN,
            decided_on=dash_on,
            how=ConsentHow.VERBAL,
        )
    risk.record_dash(
        session,
        case_id,
        client_id,
        yes_answers(score),
        completed_on=dash_on,
        judgement=None,
        police_callouts_12m=1,
    )
    return Referral(case_id, client_id, perp, child, household)


def edits(prefilled: marac_form.Prefilled, **changes: object) -> MaracEdits:
    base = MaracEdits.of(prefilled.form)
    base = dataclasses.replace(
        base,
        marac="Northfield MARAC coordinator",
        lawful_basis=prefilled.bases[0]
        if LawfulBasis.CONSENT not in prefilled.bases
        else LawfulBasis.CONSENT,
        reason_without_consent="Crime prevention: the alleged perpetrator's details are shared "
        "to plan the safety of the person at risk and her child.",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


# -- pre-filled from the case -------------------------------------------------------------------


def test_the_form_is_pre_filled_from_the_case(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        r = make_case(s)
        prefilled = marac_form.prefill(s, r.case_id)
    form = prefilled.form
    assert form.victim_name == "Imogen Farrowdale" and form.date_of_birth == "1991-04-02"
    assert form.ethnicity == "White irish" and form.gender == "Woman"
    assert form.address == "" and form.address_confidential
    assert (form.safe_number, form.safe_times, form.voicemail_ok, form.text_ok) == (
        SAFE_NUMBER,
        "Weekdays 10 to 12",
        False,
        True,
    )
    assert [p.name for p in form.perpetrators] == ["Brannock Farrowdale"]
    assert "40 Tanner Street" in form.perpetrators[0].details  # not confidential: printed
    [child] = form.children
    assert child.name == "Pip Farrowdale" and "Larkrise Primary" in child.details
    assert "child in need" in child.details
    assert [p.name for p in form.household] == ["Maud Ellery"]
    assert (form.dash_score, form.dash_date) == (15, TODAY.isoformat())
    assert form.reason == ReferralReason.VISIBLE_HIGH_RISK and not form.repeat
    assert form.agencies.splitlines() == [
        "Police - Northfield Police - DC Harrow",
        "Housing - Northfield Homes",
    ]
    assert form.consent == ConsentState.GIVEN
    # The client consented; the alleged perpetrator, the child and the household member did
    # not, so the share needs another lawful basis (consent is not offered).
    assert set(prefilled.gaps) == {r.perpetrator, r.child, r.household}
    assert LawfulBasis.CONSENT not in prefilled.bases


def test_a_refuge_address_and_the_code_word_never_reach_the_pdf(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        r = make_case(s)
        prefilled = marac_form.prefill(s, r.case_id)
        issued = marac_form.issue(s, r.case_id, edits(prefilled))
    text = pdf_text(issued.pdf)
    assert "Imogen Farrowdale" in text and SAFE_NUMBER in text
    assert "Brannock Farrowdale" in text and "Larkrise Primary" in text
    assert f"Confidential: held by {SERVICE}" in " ".join(text.split())
    flat = " ".join(text.split()).lower()
    for secret in (REFUGE_STREET, REFUGE_BUILDING, REFUGE_POSTCODE, CODE_WORD):
        assert secret.lower() not in flat
    raw = issued.pdf
    for secret in (REFUGE_STREET, REFUGE_POSTCODE, CODE_WORD):
        assert secret.encode() not in raw


@pytest.mark.parametrize(
    ("field", "typed", "said"),
    [
        ("risk_summary", f"She said the word {CODE_WORD.lower()} on the phone.", "code word"),
        ("perpetrator_notes", f"He has found out she is near {REFUGE_POSTCODE}.", "address"),
        ("contact_notes", f"Visit at {REFUGE_BUILDING} only.", "address"),
        ("agencies", f"Refuge - {REFUGE_STREET.upper()}", "address"),
    ],
)
def test_a_form_mentioning_the_refuge_or_code_word_is_refused_and_nothing_recorded(
    store: StoreCopy, field: str, typed: str, said: str
) -> None:
    with signed_in(store, CASEWORKER) as s:
        r = make_case(s)
        prefilled = marac_form.prefill(s, r.case_id)
        before = len(sharing.shares(s, r.case_id))
        with pytest.raises(InvalidInput, match=said):
            marac_form.issue(s, r.case_id, edits(prefilled, **{field: typed}))
        assert len(sharing.shares(s, r.case_id)) == before
        assert marac_form.issued_forms(s, r.case_id) == []
        assert case_model.get(s.conn, r.case_id).marac_referral_date is None  # type: ignore[union-attr]


# -- the reason for referral ---------------------------------------------------------------------


def test_each_reason_must_be_borne_out_by_the_case(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        r = make_case(s, score=9)
        prefilled = marac_form.prefill(s, r.case_id)
        assert prefilled.form.reason == ReferralReason.PROFESSIONAL_JUDGEMENT
        refusals = [
            (ReferralReason.VISIBLE_HIGH_RISK, {}, "score of 14 or more"),
            (ReferralReason.PROFESSIONAL_JUDGEMENT, {"judgement_reason": " "}, "reason for your"),
            (ReferralReason.POTENTIAL_ESCALATION, {"police_callouts_12m": 2}, "3 or more"),
            (ReferralReason.REPEAT, {}, "not a repeat"),
        ]
        for reason, more, said in refusals:
            with pytest.raises(InvalidInput, match=said):
                marac_form.issue(s, r.case_id, edits(prefilled, reason=reason, **more))
        assert marac_form.issued_forms(s, r.case_id) == []
        issued = marac_form.issue(
            s,
            r.case_id,
            edits(
                prefilled,
                reason=ReferralReason.POTENTIAL_ESCALATION,
                police_callouts_12m=4,
            ),
        )
    text = " ".join(pdf_text(issued.pdf).split())
    assert "Potential escalation" in text and "9 of 24" in text


def test_a_referral_within_12_months_of_the_last_is_a_repeat(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        earlier = make_case(s, referred=TODAY - 200 * DAY, dash_on=TODAY - 120 * DAY)
        # The first referral, issued 100 days ago from the first case.
        s.now = clock(TODAY - 100 * DAY)
        first = marac_form.prefill(s, earlier.case_id)
        marac_form.issue(s, earlier.case_id, edits(first))
        s.now = clock(TODAY)
        # A new case for the same person today: the MARAC history makes it a repeat.
        again = cases.create_referral(
            s,
            person(),
            CaseDetails(referral_date=TODAY - DAY, referral_source="GP"),
            existing_client_id=earlier.client,
        )
        risk.record_dash(s, again, earlier.client, yes_answers(6), completed_on=TODAY)
        prefilled = marac_form.prefill(s, again)
        assert prefilled.form.repeat
        assert prefilled.form.previous_referral == (TODAY - 100 * DAY).isoformat()
        assert prefilled.form.reason == ReferralReason.REPEAT
        issued = marac_form.issue(s, again, edits(prefilled))
        # A referral recorded on a case more than 12 months ago is not a repeat.
        old = make_case(s, score=16)
        risk.record_marac_referral(s, old.case_id, TODAY - 400 * DAY)
        assert not marac_form.prefill(s, old.case_id).form.repeat
        # Nor is the referral a case recorded after its checklist: that is this referral.
        same = make_case(s, dash_on=TODAY - 11 * DAY)
        risk.record_marac_referral(s, same.case_id, TODAY - 10 * DAY)
        assert not marac_form.prefill(s, same.case_id).form.repeat
    text = " ".join(pdf_text(issued.pdf).split())
    assert f"previous MARAC referral on {(TODAY - 100 * DAY).isoformat()}" in text


# -- the sharing log ---------------------------------------------------------------------------


def test_issuing_records_a_share_to_the_marac_that_waits_for_a_managers_review(
    store: StoreCopy,
) -> None:
    with signed_in(store, CASEWORKER) as s:
        r = make_case(s)
        prefilled = marac_form.prefill(s, r.case_id)
        # Consent is not everyone's: a share resting on consent is refused, and nothing stays.
        with pytest.raises(InvalidInput, match="choose another lawful basis"):
            marac_form.issue(s, r.case_id, edits(prefilled, lawful_basis=LawfulBasis.CONSENT))
        with pytest.raises(InvalidInput, match="reason for sharing without consent"):
            marac_form.issue(
                s,
                r.case_id,
                edits(prefilled, lawful_basis=LawfulBasis.PUBLIC_TASK, reason_without_consent=""),
            )
        assert marac_form.issued_forms(s, r.case_id) == []
        head = audit_head(s)
        issued = marac_form.issue(
            s, r.case_id, edits(prefilled, lawful_basis=LawfulBasis.CRIME_PREVENTION)
        )
        entries = audit_since(s, head)
        shares = sharing.shares(s, r.case_id)
        case = case_model.get(s.conn, r.case_id)
    share = issued.share
    assert share.approval is ShareApproval.AWAITING_REVIEW
    assert [x.id for x in shares] == [share.id]
    record = share.record
    assert record.recipient_category is RecipientCategory.MARAC
    assert record.organisation == "Northfield MARAC coordinator"
    assert record.lawful_basis is LawfulBasis.CRIME_PREVENTION
    assert set(record.person_ids) == {r.client, r.perpetrator, r.child, r.household}
    assert {"risks", "children and vulnerable adults", "relationships"} <= set(
        record.data_categories
    )
    assert "address" not in record.data_categories  # a confidential address is not sent
    assert case is not None and case.marac_referral_date == TODAY
    # Audited by id only.
    [entry] = [e for e in entries if e.action == audit.MARAC_FORM_ISSUED]
    assert entry.record == f"case:{r.case_id}"
    assert entry.detail.startswith(f"marac_form:{issued.form_id} share:{share.id} ")
    for entry in entries:
        for word in ("Imogen", "Farrowdale", "Marrowby", CODE_WORD, "Northfield"):
            assert word not in entry.detail
    with signed_in(store, MANAGER) as s:
        waiting = [w.share.id for w in sharing.awaiting_review(s)]
    assert share.id in waiting


def test_a_caseworker_who_decided_with_a_manager_or_full_consent_needs_no_review(
    store: StoreCopy,
) -> None:
    with signed_in(store, CASEWORKER) as s:
        r = make_case(s)
        manager = user_id(s, MANAGER)
        prefilled = marac_form.prefill(s, r.case_id)
        decided = marac_form.issue(s, r.case_id, edits(prefilled, consulted_manager_id=manager))
        alone = cases.create_referral(s, person("Wren", "Solace"), CaseDetails(TODAY - DAY, "GP"))
        client = case_model.client_id(s.conn, alone)
        assert client is not None
        consent.record_consent(
            s,
            alone,
            client,
            ConsentPurpose.SHARING,
            "marac",
            ConsentState.GIVEN,
            decided_on=TODAY,
            how=ConsentHow.WRITTEN,
        )
        own = marac_form.prefill(s, alone)
        assert own.gaps == {} and LawfulBasis.CONSENT in own.bases
        with_consent = marac_form.issue(
            s,
            alone,
            edits(
                own,
                reason=ReferralReason.PROFESSIONAL_JUDGEMENT,
                judgement_reason="Stalking escalating since she left; he found her workplace.",
            ),
        )
    assert decided.share.approval is ShareApproval.APPROVED
    assert with_consent.share.approval is ShareApproval.NOT_NEEDED
    assert with_consent.share.record.lawful_basis is LawfulBasis.CONSENT
    text = " ".join(pdf_text(with_consent.pdf).split())
    assert "Consent of the person at risk to share with MARAC Given" in text
    assert "he found her workplace" in text


# -- what went out ---------------------------------------------------------------------------


def test_the_service_keeps_exactly_what_was_issued(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        r = make_case(s)
        prefilled = marac_form.prefill(s, r.case_id)
        issued = marac_form.issue(
            s, r.case_id, edits(prefilled, risk_summary="Threats to kill after the hearing.")
        )
        # The record changes afterwards; the issued form does not.
        cases.update_person(s, r.perpetrator, person("Brannock", "Renamed"))
        [kept] = marac_form.issued_forms(s, r.case_id)
        head = audit_head(s)
        again = marac_form.form_pdf(s, kept.id)
        [printed] = [e for e in audit_since(s, head) if e.action == audit.MARAC_FORM_PRINTED]
    assert kept.id == issued.form_id and kept.share_id == issued.share.id
    assert marac_form.stored_form(kept) == issued.form
    assert kept.fields["risk_summary"] == "Threats to kill after the hearing."
    assert pdf_text(again) == pdf_text(issued.pdf)
    assert "Renamed" not in pdf_text(again)
    assert printed.detail == f"marac_form:{kept.id}"


def test_the_draft_a_form_was_kept_in_goes_when_it_is_issued_not_when_refused(
    store: StoreCopy,
) -> None:
    with signed_in(store, CASEWORKER) as s:
        r = make_case(s)
        prefilled = marac_form.prefill(s, r.case_id)
        kept = drafts.save(s, NewDraft("open_marac_form", {"0": "Northfield"}, r.case_id))
        with pytest.raises(InvalidInput, match="code word"):
            marac_form.issue(s, r.case_id, edits(prefilled, risk_summary=CODE_WORD), draft_id=kept)
        assert [d.id for d in drafts.list_drafts(s)] == [kept]  # nothing typed is lost
        head = audit_head(s)
        issued = marac_form.issue(s, r.case_id, edits(prefilled), draft_id=kept)
        assert drafts.list_drafts(s) == []
        entries = audit_since(s, head)
    assert [e.action for e in entries if e.action == audit.DRAFT_DISCARDED] == [
        audit.DRAFT_DISCARDED
    ]
    assert f"marac_form:{issued.form_id}" in " ".join(e.detail for e in entries)


def test_only_the_cases_workers_and_managers_refer_it(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        r = make_case(s)
        prefilled = marac_form.prefill(s, r.case_id)
        form_id = marac_form.issue(s, r.case_id, edits(prefilled)).form_id
    for user in (CASEWORKER2, ADMIN, DPO):
        with signed_in(store, user) as s:
            head = audit_head(s)
            for call in (
                lambda: marac_form.prefill(s, r.case_id),
                lambda: marac_form.issue(s, r.case_id, edits(prefilled)),
                lambda: marac_form.issued_forms(s, r.case_id),
                lambda: marac_form.form_pdf(s, form_id),
            ):
                with pytest.raises(PermissionDenied):
                    call()
            assert audit_since(s, head) == []
            assert marac_form.may_issue(s) is (user == CASEWORKER2)
    with signed_in(store, MANAGER) as s:
        assert marac_form.prefill(s, r.case_id).form.victim_id == r.client
        assert [f.id for f in marac_form.issued_forms(s, r.case_id)] == [form_id]


# -- the subject access pack and a purge --------------------------------------------------------


def test_the_issued_form_is_in_the_persons_subject_access_pack(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        r = make_case(s)
        prefilled = marac_form.prefill(s, r.case_id)
        marac_form.issue(
            s, r.case_id, edits(prefilled, risk_summary="Escalating threats since the move.")
        )
    with signed_in(store, MANAGER) as s:
        request = rights.create_request(
            s,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="The data subject",
                received_on=TODAY,
                subject_person_id=r.client,
                identity_confirmed_on=TODAY,
            ),
        )
        pack = sar.preview(s, request.id)
    headings = [e.heading for section in pack.sections for e in section.entries]
    assert "MARAC referral form sent" in headings
    text = "\n".join(item.text for item in pack.items())
    assert "Escalating threats since the move." in text
    assert "Northfield MARAC coordinator" in text
    assert any("marac" in c.lower() for c in pack.cover.recipients)


def test_a_purge_destroys_the_issued_form_leaving_no_trace(store: StoreCopy) -> None:
    sentinel = "Qzmaracsentinelform"
    with signed_in(store, MANAGER) as s:
        # The child is grown up: the case is not kept for a child's 25th birthday.
        r = make_case(
            s,
            referred=TODAY - 3000 * DAY,
            dash_on=TODAY - 2990 * DAY,
            child_born=dt.date(1990, 1, 1),
        )
        s.now = clock(TODAY - 2990 * DAY)
        prefilled = marac_form.prefill(s, r.case_id)
        marac_form.issue(s, r.case_id, edits(prefilled, risk_summary=f"Summary {sentinel}"))
        s.now = clock(TODAY)
        cases.open_referral(s, r.case_id, TODAY - 2990 * DAY)
        cases.close_case(s, r.case_id, TODAY - 2900 * DAY, "Support completed")
        reference = case_model.get(s.conn, r.case_id).reference  # type: ignore[union-attr]
        key = forensics.data_key(s)
    assert forensics.found(forensics.read_pages(store.path, key), [sentinel])
    with signed_in(store, ADMIN) as s:
        from app.services import retention

        retention.approve(s, [reference], "Seven years since closure; reviewed.")
        result = retention.purge(s)
        assert [e.reference for e in result.destroyed] == [reference]
        assert result.destroyed[0].counts["marac_referrals"] == 1
        count = s.conn.execute("SELECT count(*) FROM marac_referrals").fetchone()[0]
        key = forensics.data_key(s)
    assert count == 0
    assert forensics.found(forensics.read_pages(store.path, key), [sentinel]) == {}


def test_destroying_a_case_counts_its_forms(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        r = make_case(s)
        marac_form.issue(s, r.case_id, edits(marac_form.prefill(s, r.case_id)))
    with signed_in(store, MANAGER) as s:
        counts = retention_model.destroy_case(s.conn, r.case_id)
    assert counts["marac_referrals"] == 1


def test_a_store_from_before_the_forms_migrates_with_its_cases(tmp_path: Path) -> None:
    conn = connect(tmp_path / "old.safecase", bytes(range(32)), create=True)
    try:
        migrate(conn, MIGRATIONS[:-1])
        now = "2026-01-05T10:00:00.000000Z"
        conn.execute(
            "INSERT INTO cases (id, reference, status, referral_date, marac_referral_date, "
            "created_at, updated_at) "
            "VALUES (1, 'SC-2026-000001', 'open', '2026-01-05', '2026-01-06', ?, ?)",
            (now, now),
        )
        assert migrate(conn) == SCHEMA_VERSION
        row = conn.execute("SELECT marac_referral_date FROM cases WHERE id = 1").fetchone()
        assert row[0] == "2026-01-06"
        assert conn.execute("SELECT count(*) FROM marac_referrals").fetchone()[0] == 0
    finally:
        conn.close()
