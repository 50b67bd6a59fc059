"""Retention purges: who may run them, what the preview shows, review decisions, destruction
that leaves no trace (checked page by page, free pages and the log included), the log and its
certificate, and a purge interrupted part-way."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import signal
import zlib
from pathlib import Path

import pytest

from app.crypto import vault as vaultlib
from app.errors import InvalidInput, PermissionDenied
from app.models import cases as case_model
from app.models import consent as consent_model
from app.models import people as people_model
from app.models import retention as retention_model
from app.models.categories import (
    Agency,
    AgencyType,
    ChildDetails,
    Ethnicity,
    LegalItem,
    LegalKind,
    PersonCategories,
    ReferralSource,
)
from app.models.records import (
    AbuseChange,
    Answer,
    CaseDetails,
    CaseOutcome,
    CaseRole,
    ClosureReason,
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
from app.models.retention import Rule, Status
from app.services import (
    access,
    audit,
    cases,
    categories,
    consent,
    letters,
    notes,
    retention,
    risk,
    search,
    sharing,
)
from app.services.contact_rules import Output
from app.services.session import Session, uk_today
from tests import crashes
from tests.helpers import ADMIN, ADMIN_PW, CASEWORKER, CASEWORKER2, DPO, MANAGER, StoreCopy
from tests.services import forensics
from tests.services.casework import person, signed_in, user_id
from tests.services.closed_cases import (
    CLOSED,
    REFERRED,
    clock,
    make_closed_case,
    open_rights_request,
    reference_of,
)

D = dt.date
TODAY = uk_today()


def wal(store: StoreCopy) -> Path:
    return store.path.with_name(store.path.name + "-wal")


def approve_all(session: Session) -> list[str]:
    references = [
        i.reference for i in retention.due_items(session) if i.status is Status.AWAITING_REVIEW
    ]
    if references:
        retention.approve(session, references, "Reviewed")
    return references


# -- roles --------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", [CASEWORKER, MANAGER, DPO])
def test_only_an_admin_reviews_or_purges(store: StoreCopy, user: str) -> None:
    with signed_in(store, MANAGER) as session:
        reference = reference_of(session, make_closed_case(session))
    with signed_in(store, user) as session:
        with pytest.raises(PermissionDenied):
            retention.due_items(session)
        with pytest.raises(PermissionDenied):
            retention.approve(session, [reference])
        with pytest.raises(PermissionDenied):
            retention.extend(session, reference, "Keep it for the inquiry", D(2030, 1, 1))
        with pytest.raises(PermissionDenied):
            retention.purge(session)
        with pytest.raises(PermissionDenied):
            retention.set_policy(session, 8, 25)
    with signed_in(store, ADMIN) as session:
        assert [i.reference for i in retention.due_items(session)] == [reference]


@pytest.mark.parametrize(("user", "may"), [(DPO, True), (CASEWORKER, False), (MANAGER, False)])
def test_the_destruction_log_is_for_admins_and_the_dpo(
    store: StoreCopy, user: str, may: bool
) -> None:
    with signed_in(store, user) as session:
        if may:
            assert retention.runs(session) == []
            assert retention.log_entries(session, "none") == []
        else:
            with pytest.raises(PermissionDenied):
                retention.runs(session)
            with pytest.raises(PermissionDenied):
                retention.certificate(session, "none")


def test_the_schedule_of_one_case_is_for_its_workers_and_admins(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        case_id = make_closed_case(session)
        item = retention.case_schedule(session, case_id)
        assert item is not None and item.due_date == D(2026, 3, 31)
    with signed_in(store, ADMIN) as session:
        assert retention.case_schedule(session, case_id) == item
    for user in (CASEWORKER, DPO):
        with signed_in(store, user) as session, pytest.raises(PermissionDenied):
            retention.case_schedule(session, case_id)


# -- the preview --------------------------------------------------------------------------------

CONTENT = (
    "Wrenna",
    "Quillfeather",
    "07700 900123",
    "07700900123",
    "QX4 9ZZ",
    "Larkspur Mews",
    "Tuesday visit notes",
)


def test_the_preview_shows_dates_and_rules_and_no_case_content(store: StoreCopy) -> None:
    client = person(
        "Wrenna",
        "Quillfeather",
        phones=("07700 900123",),
        address="4 Larkspur Mews",
        postcode="QX4 9ZZ",
    )

    def fill(case_id: int) -> None:
        notes.add_note(
            session,
            case_id,
            NoteKind.VISIT,
            "Tuesday visit notes",
            dt.datetime(2018, 7, 1, tzinfo=dt.UTC),
        )

    with signed_in(store, MANAGER) as session:
        case_id = make_closed_case(session, client, fill=fill)
        cases.place_legal_hold(session, case_id, "Wrenna Quillfeather's inquest", D(2030, 1, 1))
    with signed_in(store, ADMIN) as session:
        with pytest.raises(PermissionDenied):
            cases.open_case(session, case_id)
        [item] = retention.due_items(session)
        shown = repr(item) + retention.status_text(item) + retention.summary([item])
        for text in (*CONTENT, "inquest"):
            assert text not in shown
        assert item.reference.startswith("SC-2018-")
        assert (item.closed_date, item.due_date, item.rule) == (
            CLOSED,
            D(2026, 3, 31),
            Rule.CLOSURE,
        )
        assert item.status is Status.BLOCKED
        assert retention.status_text(item) == "blocked: legal hold (hold review 2030-01-01)"
        entry = audit.recent(session, 1)[0]
        assert entry.action == audit.RETENTION_REVIEWED and "due=1" in entry.detail


# -- review -------------------------------------------------------------------------------------


def test_approve_and_extend_check_what_is_due_and_blocked(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        due_id = make_closed_case(session)
        later_id = make_closed_case(session, closed=uk_today() - dt.timedelta(days=10))
        held_id = make_closed_case(session)
        cases.place_legal_hold(session, held_id, "Court proceedings", D(2030, 1, 1))
        requested_id = make_closed_case(session)
        open_rights_request(session, case_model.client_id(session.conn, requested_id) or 0)
        due, later, held, requested = (
            reference_of(session, c) for c in (due_id, later_id, held_id, requested_id)
        )
    with signed_in(store, ADMIN) as session:
        with pytest.raises(InvalidInput, match="not due until"):
            retention.approve(session, [later])
        with pytest.raises(InvalidInput, match="legal hold"):
            retention.approve(session, [due, held])
        with pytest.raises(InvalidInput, match="open rights request"):
            retention.approve(session, [requested])
        with pytest.raises(InvalidInput, match="no case"):
            retention.approve(session, ["SC-1999-999999"])
        # All or none: the refusal above approved nothing.
        assert retention.case_schedule(session, due_id).approval is None  # type: ignore[union-attr]
        assert retention.approve(session, [due]) == 1
        assert retention.approve(session, [due]) == 0
        approved = retention.case_schedule(session, due_id)
        assert approved is not None and approved.approval is not None
        assert approved.approval.decided_by_name == ADMIN
        with pytest.raises(InvalidInput, match="reason"):
            retention.extend(session, due, "short", TODAY + dt.timedelta(days=30))
        with pytest.raises(InvalidInput, match="future"):
            retention.extend(session, due, "Proceedings expected soon", TODAY)
        retention.extend(session, due, "Proceedings expected soon", TODAY + dt.timedelta(days=30))
        assert due not in {i.reference for i in retention.due_items(session)}
        # On its review date it comes back, set by the extension, needing a fresh approval.
        [back] = [
            i
            for i in retention.due_items(session, TODAY + dt.timedelta(days=30))
            if i.reference == due
        ]
        assert back.rule is Rule.EXTENSION and back.status is Status.AWAITING_REVIEW
        actions = [e.action for e in audit.recent(session, 20)]
        assert actions.count(audit.RETENTION_APPROVED) == 1
        assert actions.count(audit.RETENTION_EXTENDED) == 1


def test_a_purge_destroys_only_approved_items_still_free_to_go(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        approved_id = make_closed_case(session)
        waiting_id = make_closed_case(session)
        held_later_id = make_closed_case(session)
        refs = {c: reference_of(session, c) for c in (approved_id, waiting_id, held_later_id)}
    with signed_in(store, ADMIN) as session:
        retention.approve(session, [refs[approved_id], refs[held_later_id]])
    with signed_in(store, MANAGER) as session:
        cases.place_legal_hold(session, held_later_id, "Inquest opened", D(2030, 1, 1))
    with signed_in(store, ADMIN) as session:
        result = retention.purge(session)
        assert [e.reference for e in result.destroyed] == [refs[approved_id]]
        assert (result.awaiting_review, result.blocked) == (1, 1)
        assert case_model.get(session.conn, approved_id) is None
        assert case_model.get(session.conn, waiting_id) is not None
        assert case_model.get(session.conn, held_later_id) is not None
        again = retention.purge(session)
        assert again.destroyed == ()
        last = audit.recent(session, 1)[0]
        assert last.action == audit.PURGE_RUN and last.detail.endswith("destroyed=0")


def test_a_purge_cannot_run_as_of_a_future_date(store: StoreCopy) -> None:
    with signed_in(store, ADMIN) as session, pytest.raises(InvalidInput, match="future"):
        retention.purge(session, as_of=TODAY + dt.timedelta(days=1))


def test_the_session_clock_decides_what_is_due_today(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        reference = reference_of(session, make_closed_case(session))
    with signed_in(store, ADMIN) as session:
        session.now = clock(D(2026, 3, 30))
        assert retention.due_items(session) == []
        with pytest.raises(InvalidInput, match="not due until 2026-03-31"):
            retention.approve(session, [reference])
        session.now = clock(D(2026, 3, 31))
        assert retention.approve(session, [reference]) == 1


def test_policy_changes_are_for_admins_and_checked(store: StoreCopy) -> None:
    with signed_in(store, ADMIN) as session:
        with pytest.raises(InvalidInput):
            retention.set_policy(session, 0, 25)
        with pytest.raises(InvalidInput):
            retention.set_policy(session, 7, 12)
        retention.set_policy(session, 8, 25)
        assert retention.current_policy(session) == retention_model.Policy(8, 25)
        assert audit.recent(session, 1)[0].action == audit.SETTINGS_CHANGED


# -- destruction that leaves no trace -----------------------------------------------------------


def mark(kind: str) -> str:
    """A word found nowhere else: 'Qz' + kind + 6 letters of its hash."""
    tail = "".join(chr(97 + b % 26) for b in hashlib.sha256(kind.encode()).digest()[:6])
    return f"Qz{kind}{tail}"


PHONE, SAFE_PHONE, POSTCODE = "07700 900461", "07700 900462", "ZQ7 3XW"
S = {
    k: mark(k)
    for k in (
        "given",
        "family",
        "alias",
        "address",
        "email",
        "health",
        "child",
        "perp",
        "referral",
        "needs",
        "plan",
        "services",
        "note",
        "correction",
        "correctwhy",
        "dispute",
        "consent",
        "organisation",
        "sharepurpose",
        "sharereason",
        "nottold",
        "review",
        "codeword",
        "safepeople",
        "dashsource",
        "judgement",
        "breakglass",
        "closedwhy",
        "maracaction",
        "maracowner",
        "hold",
        "extension",
        "approval",
        "language",
        "court",
        "bail",
        "agency",
        "agencycontact",
        "referrer",
        "school",
        "safeaddress",
        "overridewhy",
    )
}
# Not expected even before the purge: the hold is lifted (overwritten) first, and only the
# client's own phone numbers go into the search index as bare digits.
NOT_BEFORE = {S["hold"], SAFE_PHONE.replace(" ", "")}
EVERY_FORM = [
    *S.values(),
    PHONE,
    PHONE.replace(" ", ""),
    SAFE_PHONE,
    SAFE_PHONE.replace(" ", ""),
    POSTCODE,
    POSTCODE.replace(" ", ""),
]


def build_marked_case(store: StoreCopy) -> tuple[int, str]:
    """A closed case with a unique word in every kind of record it has; returns its id and
    reference. Closed on 31 December 2018, extended once and approved."""
    client = person(
        S["given"],
        S["family"],
        aliases=(S["alias"],),
        phones=(PHONE,),
        address=f"12 {S['address']} Road",
        postcode=POSTCODE,
        email=f"{S['email']}@example.org",
        health_notes=S["health"],
    )
    details = CaseDetails(
        referral_date=REFERRED,
        referral_source=S["referral"],
        needs_assessment=S["needs"],
        safety_plan=S["plan"],
        other_services=S["services"],
    )
    with signed_in(store, MANAGER) as session:
        worker = user_id(session, CASEWORKER)
        case_id = cases.create_referral(session, client, details, allocate_to=worker)
        cases.open_referral(session, case_id, REFERRED)
        cases.add_person(
            session,
            case_id,
            person(S["child"], "Child", date_of_birth=D(1995, 1, 1)),
            CaseRole.CHILD,
        )
        cases.add_person(session, case_id, person(S["perp"], "Other"), CaseRole.ALLEGED_PERPETRATOR)
        client_id = case_model.client_id(session.conn, case_id)
        assert client_id is not None
    with signed_in(store, CASEWORKER) as session:
        categories.set_person_categories(
            session,
            client_id,
            PersonCategories(ethnicity=Ethnicity.WHITE_IRISH, first_language=S["language"]),
        )
        categories.add_legal_item(
            session,
            case_id,
            LegalItem(
                LegalKind.BAIL_CONDITIONS,
                REFERRED,
                REFERRED + dt.timedelta(days=28),
                court=S["court"],
                conditions=f"Not to contact {S['bail']}",
            ),
        )
        categories.add_agency(
            session, case_id, Agency(AgencyType.HOUSING, S["agency"], S["agencycontact"])
        )
        categories.set_referral_source(
            session, case_id, ReferralSource(AgencyType.POLICE, S["referrer"])
        )
        [child_id] = [
            m.person.id
            for m in case_model.members(session.conn, case_id)
            if m.role is CaseRole.CHILD
        ]
        categories.set_child(session, case_id, ChildDetails(child_id, S["school"]))
        note_id = notes.add_note(
            session,
            case_id,
            NoteKind.VISIT,
            f"Home visit {S['note']}",
            dt.datetime(2018, 7, 1, tzinfo=dt.UTC),
        )
        notes.correct_note(session, note_id, f"Home visit {S['correction']}", S["correctwhy"])
        notes.mark_disputed(session, note_id, S["dispute"])
        consent.record_consent(
            session,
            case_id,
            client_id,
            ConsentPurpose.SUPPORT,
            "",
            ConsentState.GIVEN,
            decided_on=REFERRED,
            how=ConsentHow.VERBAL,
            note=S["consent"],
        )
        share = sharing.record_share(
            session,
            ShareRecord(
                case_id=case_id,
                direction=Direction.OUT,
                shared_at="2018-07-02T10:00:00+00:00",
                organisation=f"{S['organisation']} Housing",
                recipient_category=RecipientCategory.HOUSING,
                person_ids=(client_id,),
                data_categories=("address",),
                purpose=S["sharepurpose"],
                method="email",
                lawful_basis=LawfulBasis.SAFEGUARDING,
                reason=f"Risk to life {S['sharereason']}",
                person_told=False,
                not_told_reason=S["nottold"],
            ),
        )
        cases.set_safe_contact(
            session,
            case_id,
            SafeContact(
                person_id=client_id,
                safe_number=SAFE_PHONE,
                code_word=S["codeword"],
                safe_people=S["safepeople"],
                safe_address=f"Flat 2 {S['safeaddress']} Court",
            ),
        )
        answers = {q: Answer.YES if q < 5 else Answer.NO for q in range(1, 25)}
        risk.record_dash(
            session,
            case_id,
            client_id,
            answers,
            completed_on=REFERRED,
            sources={3: S["dashsource"]},
            judgement=risk.RiskLevel.MEDIUM,
            judgement_reason=S["judgement"],
        )
        risk.record_marac_referral(session, case_id, REFERRED)
        risk.set_marac_meeting(session, case_id, REFERRED + dt.timedelta(days=7))
        risk.add_marac_action(
            session,
            case_id,
            f"Target hardening {S['maracaction']}",
            f"{S['maracowner']} Police",
            REFERRED + dt.timedelta(days=14),
        )
    with signed_in(store, CASEWORKER2) as session:
        access.break_glass(session, case_id, f"Covering the duty desk {S['breakglass']}")
    with signed_in(store, MANAGER) as session:
        sharing.review_share(session, share.id, False, S["review"])
        # Letters are not OK for the client: a manager overrode that, with a reason.
        letters.letter(
            session,
            case_id,
            client_id,
            Output.CLOSURE,
            override_reason=f"Handed over at the office {S['overridewhy']}",
        )
        cases.close_case(
            session,
            case_id,
            D(2018, 12, 31),
            S["closedwhy"],
            CaseOutcome(ClosureReason.SUPPORT_COMPLETED, abuse=AbuseChange.STOPPED),
        )
        cases.place_legal_hold(session, case_id, S["hold"], D(2030, 1, 1))
        cases.lift_legal_hold(session, case_id)
    with signed_in(store, ADMIN) as session:
        reference = reference_of(session, case_id)
        session.now = clock(D(2026, 1, 2))
        retention.extend(session, reference, f"Pending review {S['extension']}", D(2026, 6, 1))
        session.now = clock(TODAY)
        retention.approve(session, [reference], S["approval"])
    return case_id, reference


def survivor_case(store: StoreCopy) -> int:
    with signed_in(store, MANAGER) as session:
        case_id = cases.create_referral(
            session,
            person("Qzsurvivorkeep", "Present"),
            CaseDetails(referral_date=TODAY - dt.timedelta(days=3), referral_source="GP"),
        )
    return case_id


def test_destruction_leaves_no_trace_in_any_page_or_the_log(store: StoreCopy) -> None:
    case_id, reference = build_marked_case(store)
    survivor_case(store)
    with signed_in(store, ADMIN) as session:
        old_key = forensics.data_key(session)
        assert not forensics.dbpage_available(session.conn)
    old_file = store.path.stat().st_ino
    # Before: every word is somewhere in the decrypted pages (the scan can see them).
    before = forensics.found(forensics.read_pages(store.path, old_key), EVERY_FORM)
    missing = {s for s in EVERY_FORM if s not in before} - NOT_BEFORE
    assert missing == set()

    with signed_in(store, ADMIN) as session:
        [item] = retention.due_items(session)
        assert (item.reference, item.rule, item.due_date) == (
            reference,
            Rule.EXTENSION,
            D(2026, 6, 1),
        )
        result = retention.purge(session)
        assert [e.reference for e in result.destroyed] == [reference]
        counts = result.destroyed[0].counts
        assert counts["people"] == 3 and counts["notes"] == 1 and counts["note_revisions"] == 2
        assert counts["shares"] == counts["share_people"] == counts["share_reviews"] == 1
        assert counts["dash_assessments"] == counts["safe_contacts"] == counts["break_glass"] == 1
        assert counts["consents"] == 1 and counts["retention_decisions"] == 2
        assert counts["marac_actions"] == counts["case_outcomes"] == 1
        assert counts["search_entries"] == 5 and counts["case_people"] == 3
        assert counts["person_categories"] == counts["case_legal"] == counts["case_agencies"] == 1
        assert counts["case_referral_sources"] == counts["case_children"] == 1
        assert counts["contact_overrides"] == 1
        # The log has been emptied into the file while the store is still open.
        assert not wal(store).exists() or wal(store).stat().st_size == 0
        assert case_model.get(session.conn, case_id) is None
        new_key = forensics.data_key(session)
    assert not wal(store).exists() or wal(store).stat().st_size == 0

    # The run ended by giving the store a new key: the file is a new one, and nothing in it
    # or its log decrypts under the old key, which no slot holds any more.
    assert new_key != old_key
    assert store.path.stat().st_ino != old_file
    assert forensics.pages_readable(store.path, old_key) == 0
    assert forensics.pages_readable(wal(store), old_key) == 0
    recovered = vaultlib.open_with_recovery(store.path, store.recovery_key, device=None)
    assert bytes(recovered._payload.data_key) == new_key
    recovered.close()
    # Under the new key, no page (free pages and the log included) holds a destroyed word.
    pages = forensics.read_pages(store.path, new_key)
    assert forensics.found(pages, EVERY_FORM) == {}
    assert forensics.found(pages, ["Qzsurvivorkeep", reference]) != {}
    assert forensics.found(pages, ["Qzsurvivorkeep"]) != {}
    assert reference.encode() in b"".join(pages.all)  # the log keeps the reference
    raw = store.path.read_bytes()
    assert not any(form.encode() in raw for form in EVERY_FORM)
    # Nothing else is left beside the store: no old copy, no half-made new one.
    assert {p.name for p in store.path.parent.iterdir()} <= {
        store.path.name,
        store.path.name + ".keys",
        store.path.name + ".lock",
        store.path.name + ".anchor",
        store.path.name + "-wal",
        store.path.name + "-shm",
    }


def test_a_person_on_another_case_survives_with_that_case(store: StoreCopy) -> None:
    shared = person("Tamsin", "Oakridge", phones=("07700 900777",))
    with signed_in(store, MANAGER) as session:
        old_id = make_closed_case(
            session, shared, others=((person("Idris", "Vane"), CaseRole.ALLEGED_PERPETRATOR),)
        )
        shared_id = case_model.client_id(session.conn, old_id)
        assert shared_id is not None
        perp_id = next(
            m.person.id
            for m in case_model.members(session.conn, old_id)
            if m.role is CaseRole.ALLEGED_PERPETRATOR
        )
        new_id = cases.create_referral(
            session,
            shared,
            CaseDetails(referral_date=TODAY - dt.timedelta(days=5), referral_source="GP"),
            existing_client_id=shared_id,
        )
        notes.add_note(
            session, new_id, NoteKind.CALL, "Called back", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        )
        consent.record_consent(
            session,
            new_id,
            shared_id,
            ConsentPurpose.SUPPORT,
            "",
            ConsentState.GIVEN,
            decided_on=TODAY - dt.timedelta(days=5),
            how=ConsentHow.WRITTEN,
        )
        before = {
            "members": case_model.members(session.conn, new_id),
            "notes": notes.timeline(session, new_id),
            "search": session.conn.execute(
                "SELECT id, person_id, kind FROM search_rows WHERE case_id = ? ORDER BY id",
                (new_id,),
            ).fetchall(),
        }
    with signed_in(store, ADMIN) as session:
        approve_all(session)
        [entry] = retention.purge(session).destroyed
        assert entry.counts["people"] == 1 and entry.counts["people_kept"] == 1
    with signed_in(store, MANAGER) as session:
        assert case_model.get(session.conn, old_id) is None
        assert people_model.get(session.conn, perp_id) is None
        assert people_model.get(session.conn, shared_id) is not None
        assert len(consent_model.history(session.conn, shared_id)) == 1
        assert case_model.members(session.conn, new_id) == before["members"]
        assert notes.timeline(session, new_id) == before["notes"]
        assert (
            session.conn.execute(
                "SELECT id, person_id, kind FROM search_rows WHERE case_id = ? ORDER BY id",
                (new_id,),
            ).fetchall()
            == before["search"]
        )
        assert [h.case.id for h in search.search(session, "Oakridge")] == [new_id]
        assert [h.case.id for h in search.search(session, "07700 900777")] == [new_id]
        assert search.search(session, "Vane") == []


# -- the log and the certificate ----------------------------------------------------------------


def pdf_text(pdf: bytes) -> bytes:
    """The PDF with every stream decoded (reportlab writes ASCII85 over Flate), joined."""
    parts = [pdf]
    for head, stream in re.findall(
        rb"<<([^>]*?)>>\s*stream\r?\n(.*?)\r?\n?endstream", pdf, re.DOTALL
    ):
        if b"/ASCII85Decode" in head:
            body = stream.strip().removeprefix(b"<~").removesuffix(b"~>")
            stream = base64.a85decode(body)
        if b"/FlateDecode" in head:
            stream = zlib.decompress(stream)
        parts.append(stream)
    assert len(parts) > 1, "no stream found in the PDF"
    return b"\n".join(parts)


def test_the_log_and_certificate_hold_no_personal_data(store: StoreCopy, tmp_path: Path) -> None:
    _case_id, reference = build_marked_case(store)
    with signed_in(store, ADMIN) as session:
        result = retention.purge(session)
        run_id = result.run_id
        [run] = retention.runs(session)
        assert (run.run_id, run.cases, run.destroyed_by_name) == (run_id, 1, ADMIN)
        [entry] = retention.log_entries(session, run_id)
        assert entry == result.destroyed[0]
        assert (entry.reference, entry.closed_date, entry.due_date) == (
            reference,
            D(2018, 12, 31),
            D(2026, 6, 1),
        )
        assert entry.rule is Rule.EXTENSION and entry.approved_by_name == ADMIN
        assert entry.destroyed_by_name == ADMIN and entry.approved_at
        rows = session.conn.execute("SELECT * FROM destruction_log").fetchall()
        assert len(rows) == 1
        stored = repr(rows) + repr(entry)
        for form in EVERY_FORM:
            assert form not in stored and form.lower() not in stored.lower()
        pdf = retention.certificate(session, run_id)
        assert audit.recent(session, 1)[0].action == audit.CERTIFICATE_PRINTED
        with pytest.raises(InvalidInput, match="no purge run"):
            retention.certificate(session, "no-such-run")
        out = tmp_path / "certificate.pdf"
        assert retention.save_certificate(session, run_id, out) == 1
        assert out.read_bytes().startswith(b"%PDF")
    plain = retention.certificate_pdf([entry], "Northfield IDVA", "now", compress=False)
    for document in (pdf_text(pdf), plain):
        assert reference.encode() in document and b"Certificate of destruction" in document
        assert run_id.encode() in document
        for form in EVERY_FORM:
            assert form.encode() not in document
            assert form.lower().encode() not in document.lower()


# -- an interrupted purge -----------------------------------------------------------------------


def snapshot(session: Session, case_id: int) -> dict[str, object]:
    """Everything that belongs to a case, row by row."""
    conn = session.conn
    people = [m.person.id for m in case_model.members(conn, case_id)]

    def each_person(sql: str) -> list[object]:
        return [row for p in sorted(people) for row in conn.execute(sql, (p,)).fetchall()]

    return {
        "case": conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchall(),
        "members": conn.execute(
            "SELECT * FROM case_people WHERE case_id = ? ORDER BY person_id", (case_id,)
        ).fetchall(),
        "people": each_person("SELECT * FROM people WHERE id = ?"),
        "consents": each_person("SELECT * FROM consents WHERE person_id = ? ORDER BY id"),
        "notes": conn.execute("SELECT * FROM notes WHERE case_id = ?", (case_id,)).fetchall(),
        "search": conn.execute(
            "SELECT r.*, i.text FROM search_rows r JOIN search_index i ON i.rowid = r.id "
            "WHERE r.case_id = ? ORDER BY r.id",
            (case_id,),
        ).fetchall(),
        "decisions": conn.execute(
            "SELECT * FROM retention_decisions WHERE case_id = ?", (case_id,)
        ).fetchall(),
    }


def test_an_interrupted_purge_leaves_each_case_whole_or_gone(
    store: StoreCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fill(case_id: int) -> None:
        notes.add_note(
            session, case_id, NoteKind.NOTE, "A note", dt.datetime(2018, 7, 1, tzinfo=dt.UTC)
        )

    with signed_in(store, MANAGER) as session:
        ids = [make_closed_case(session, person(f"Name{n}", "Family"), fill=fill) for n in range(3)]
        references = [reference_of(session, c) for c in ids]
    with signed_in(store, ADMIN) as session:
        retention.approve(session, references)
        before = {c: snapshot(session, c) for c in ids}
        calls = []
        real = retention_model.delete_people

        def failing(conn: object, person_ids: object, *_: object) -> dict[str, int]:
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("disk pulled out mid-way")
            return real(conn, person_ids)  # type: ignore[arg-type]

        monkeypatch.setattr(retention_model, "delete_people", failing)
        seen: list[tuple[int, int]] = []
        with pytest.raises(RuntimeError):
            retention.purge(session, progress=lambda done, total: seen.append((done, total)))
        monkeypatch.undo()
        assert seen == [(0, 3), (1, 3)]
        assert case_model.get(session.conn, ids[0]) is None
        assert snapshot(session, ids[1]) == before[ids[1]]
        assert snapshot(session, ids[2]) == before[ids[2]]
        logged = session.conn.execute("SELECT reference FROM destruction_log").fetchall()
        assert [r[0] for r in logged] == [references[0]]
        assert audit.check_chain(session.conn).ok
        # The run is recorded as interrupted, and still closed by giving the store a new key.
        run, rotated = audit.recent(session, 2)
        assert run.action == audit.PURGE_RUN and "interrupted" in run.detail
        assert rotated.action == audit.KEYS_ROTATED
        assert not wal(store).exists() or wal(store).stat().st_size == 0
        # The next run finishes the job.
        again = retention.purge(session)
        assert [e.reference for e in again.destroyed] == references[1:]
        assert all(case_model.get(session.conn, c) is None for c in ids)


@crashes.posix_only
def test_a_purge_killed_part_way_is_closed_at_the_next_sign_in(store: StoreCopy) -> None:
    words = [f"Qzkilled{n}marker" for n in range(4)]

    with signed_in(store, MANAGER) as session:
        ids = []
        for word in words:

            def fill(case_id: int, word: str = word) -> None:
                notes.add_note(
                    session,
                    case_id,
                    NoteKind.NOTE,
                    f"Visit {word}",
                    dt.datetime(2018, 7, 1, tzinfo=dt.UTC),
                )

            ids.append(make_closed_case(session, person(word, "Family"), fill=fill))
        references = [reference_of(session, c) for c in ids]
    with signed_in(store, ADMIN) as session:
        retention.approve(session, references)
        old_key = forensics.data_key(session)
    # kill -9 after the second of four cases: the index still holds their words, marked
    # deleted, with its secure-delete and automerge off.
    done = crashes.run(store, ADMIN, ADMIN_PW, "purge", die="progress")
    assert done.returncode == -signal.SIGKILL, done.stderr

    # The next sign-in, by anyone, merges the index and puts its settings back.
    with signed_in(store, MANAGER) as session:
        assert [case_model.get(session.conn, c) is None for c in ids] == [True, True, False, False]
        pages = forensics.read_pages(store.path, forensics.data_key(session))
        assert forensics.found(pages, words[:2]) == {}
        assert set(forensics.found(pages, words[2:])) == set(words[2:])
        assert [h.case.id for h in search.search(session, words[2])] == [ids[2]]
        assert retention_model.index_deletes_securely(session.conn)
        assert session.conn.execute(
            "SELECT v FROM search_index_config WHERE k = 'automerge'"
        ).fetchone() == (4,)
    # The run's audit entry is written, marked recovered; the next admin's sign-in gives the
    # store its new key.
    with signed_in(store, ADMIN) as session:
        entries = audit.recent(session, 10)
        [run] = [e for e in entries if e.action == audit.PURGE_RUN]
        assert "destroyed=2" in run.detail and "recovered" in run.detail
        assert any(e.action == audit.KEYS_ROTATED for e in entries if e.id > run.id)
        assert audit.check_chain(session.conn).ok
        assert forensics.data_key(session) != old_key
        assert forensics.pages_readable(store.path, old_key) == 0
        # The cases it did not reach go in the next run.
        again = retention.purge(session)
        assert [e.reference for e in again.destroyed] == references[2:]
    with signed_in(store, ADMIN) as session:
        # Closed once: no second recovered entry.
        assert sum(e.action == audit.PURGE_RUN for e in audit.recent(session, 20)) == 2


def test_a_purge_is_audited_by_id_and_reports_progress(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        ids = [make_closed_case(session) for _ in range(3)]
    with signed_in(store, ADMIN) as session:
        approve_all(session)
        first = audit.recent(session, 1)[0].id
        seen: list[tuple[int, int]] = []
        result = retention.purge(session, progress=lambda d, t: seen.append((d, t)))
        assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
        entries = [e for e in audit.recent(session, 50) if e.id > first]
        destroyed = [e for e in entries if e.action == audit.CASE_DESTROYED]
        assert sorted(e.record for e in destroyed) == sorted(f"case:{c}" for c in ids)
        [run] = [e for e in entries if e.action == audit.PURGE_RUN]
        assert f"run={result.run_id}" in run.detail and "destroyed=3" in run.detail
        assert audit.check_chain(session.conn).ok
        assert result.scrub_seconds > 0
        # What the run relaxed for speed is back as it was.
        assert retention_model.index_deletes_securely(session.conn)
        assert session.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert session.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        assert session.conn.execute(
            "SELECT v FROM search_index_config WHERE k = 'automerge'"
        ).fetchone() == (4,)


def test_a_new_case_never_takes_a_destroyed_cases_id_or_its_history(store: StoreCopy) -> None:
    with signed_in(store, MANAGER) as session:
        older = make_closed_case(session)
        newest = make_closed_case(session, person("Dee", "Hollis"))
        newest_client = cases.open_case(session, newest).contact.client_id
    with signed_in(store, ADMIN) as session:
        approve_all(session)
        assert len(retention.purge(session).destroyed) == 2
    with signed_in(store, MANAGER) as session:
        fresh = cases.create_referral(
            session, person("Ivy", "Marsh"), CaseDetails(referral_date=TODAY)
        )
        fresh_client = cases.open_case(session, fresh).contact.client_id
        assert fresh > max(older, newest)
        assert fresh_client is not None and newest_client is not None
        assert fresh_client > newest_client
        # The History tab of the new case shows its own entries, none of the destroyed case's.
        history = cases.history(session, fresh)
        assert history and all(e.at[:10] == session.now()[:10] for e in history)
        assert not any(e.action == audit.CASE_DESTROYED for e in history)
