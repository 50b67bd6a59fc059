"""Synthetic demo cases: deterministic, realistic in shape, admin-only, and nothing personal in
the audit trail."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.crypto.device import DeviceSecrets
from app.errors import InvalidInput, NotTrainingStore, PermissionDenied
from app.models import audit as audit_model
from app.models import people as people_model
from app.models import search as search_model
from app.models import users as user_model
from app.models.categories import AgencyType, ChildProtection, Ethnicity, LegalKind
from app.models.records import (
    CaseRole,
    CaseStatus,
    ContactMethod,
    RecipientCategory,
    ShareApproval,
)
from app.services import accounts, audit, demo, marac_form, sharing
from app.services.cases import open_case
from app.services.session import Session
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER_PW,
    MANAGER,
    MANAGER_PW,
    TEST_KDF,
    MemoryKeyring,
    StoreCopy,
    copy_store,
)

TODAY = dt.date(2025, 3, 14)
FULL_RUN = 150
FULL_SEED = 11


def sign_in(store: StoreCopy, name: str = ADMIN, password: str = ADMIN_PW) -> Session:
    return accounts.sign_in(store.path, name, password, device=DeviceSecrets(store.keyring))


def rows(session: Session, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    return [tuple(r) for r in session.conn.execute(sql, params).fetchall()]


@pytest.fixture(scope="module")
def demo_template(
    training_template: StoreCopy, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StoreCopy]:
    """One full demo run per module; each test gets a copy."""
    folder = tmp_path_factory.mktemp("demo")
    path = copy_store(training_template.path, folder)
    generated = StoreCopy(path, training_template.keyring, training_template.recovery_key)
    session = sign_in(generated)
    demo.generate_cases(session, FULL_RUN, FULL_SEED, today=TODAY)
    accounts.sign_out(session)
    yield generated


@pytest.fixture
def demo_store(demo_template: StoreCopy, keyring: MemoryKeyring, tmp_path: Path) -> StoreCopy:
    keyring.values.update(demo_template.keyring.values)
    return StoreCopy(copy_store(demo_template.path, tmp_path / "demo"), keyring, "")


def snapshot(store: StoreCopy, seed: int, cases: int = 30) -> dict[str, list[tuple[object, ...]]]:
    session = sign_in(store)
    try:
        summary = demo.generate_cases(session, cases, seed, today=TODAY)
        assert summary.cases == cases
        return {
            "references": rows(session, "SELECT reference, status FROM cases ORDER BY id"),
            "names": rows(session, "SELECT given_name, family_name, postcode FROM people"),
            "notes": rows(session, "SELECT body, occurred_at FROM notes ORDER BY id"),
            "consents": rows(session, "SELECT person_id, purpose, target, state FROM consents"),
            "forms": rows(
                session,
                "SELECT case_id, share_id, referred_on, reason, fields, issued_by "
                "FROM marac_referrals ORDER BY id",
            ),
        }
    finally:
        accounts.sign_out(session)


def test_the_same_seed_gives_the_same_records(
    training_store: StoreCopy, training_template: StoreCopy, tmp_path: Path
) -> None:
    first = snapshot(training_store, seed=5)
    second = snapshot(
        StoreCopy(copy_store(training_template.path, tmp_path / "b"), training_store.keyring, ""),
        5,
    )
    other = snapshot(
        StoreCopy(copy_store(training_template.path, tmp_path / "c"), training_store.keyring, ""),
        6,
    )

    assert first == second
    assert first["forms"]  # the same forms, issued the same way
    assert first["names"] != other["names"]
    assert first["notes"] != other["notes"]
    assert all(str(ref).startswith("SC-") for ref, _ in first["references"])


def test_every_date_is_before_today_and_closures_span_twelve_years(demo_store: StoreCopy) -> None:
    session = sign_in(demo_store)
    try:
        statuses = dict(
            rows(session, "SELECT status, count(*) FROM cases GROUP BY status")  # type: ignore[arg-type]
        )
        closed = [
            dt.date.fromisoformat(str(r[0]))
            for r in rows(session, "SELECT closed_date FROM cases WHERE status = 'closed'")
        ]
        latest = rows(
            session,
            "SELECT max(referral_date), max(opened_date), max(closed_date) FROM cases",
        )[0]
        latest_note = rows(session, "SELECT max(occurred_at) FROM notes")[0][0]
        latest_dash = rows(session, "SELECT max(completed_on) FROM dash_assessments")[0][0]
        latest_consent = rows(session, "SELECT max(decided_on) FROM consents")[0][0]
        latest_share = rows(session, "SELECT max(shared_at) FROM shares")[0][0]
    finally:
        accounts.sign_out(session)

    assert statuses.keys() == {"referral", "open", "closed"}
    assert sum(statuses.values()) == FULL_RUN
    for value in (*latest, latest_dash, latest_consent):
        assert str(value) < TODAY.isoformat()
    assert str(latest_note) < TODAY.isoformat() and str(latest_share) < TODAY.isoformat()
    # Spread over the last 12 years: some past the 7-year retention, some recent.
    assert min(closed) < TODAY - dt.timedelta(days=10 * 365)
    seven_years_ago = TODAY.replace(year=TODAY.year - 7)
    old = sum(1 for day in closed if day < seven_years_ago)
    assert 0 < old < len(closed)
    assert max(closed) > TODAY - dt.timedelta(days=365)


def test_perpetrators_recur_and_every_case_has_its_people(demo_store: StoreCopy) -> None:
    session = sign_in(demo_store)
    try:
        recurring = rows(
            session,
            "SELECT person_id, count(DISTINCT case_id) FROM case_people "
            "WHERE role = 'alleged_perpetrator' GROUP BY person_id "
            "HAVING count(DISTINCT case_id) > 1",
        )
        per_case = rows(
            session,
            "SELECT c.id, sum(cp.role = 'client'), sum(cp.role = 'alleged_perpetrator'), "
            "sum(cp.role = 'professional') FROM cases c JOIN case_people cp ON cp.case_id = c.id "
            "GROUP BY c.id",
        )
        roles = {str(r[0]) for r in rows(session, "SELECT DISTINCT role FROM case_people")}
        referrers = rows(
            session, "SELECT count(*) FROM cases WHERE referrer_id IS NULL OR referral_source = ''"
        )[0][0]
        do_not_contact = rows(session, "SELECT count(*) FROM safe_contacts WHERE do_not_contact")
        confidential = rows(session, "SELECT count(*) FROM people WHERE address_confidential")
        states = {str(r[0]) for r in rows(session, "SELECT DISTINCT state FROM consents")}
        purposes = {str(r[0]) for r in rows(session, "SELECT DISTINCT purpose FROM consents")}
        bases = {str(r[0]) for r in rows(session, "SELECT DISTINCT lawful_basis FROM shares")}
        without_consent = rows(
            session,
            "SELECT count(*) FROM shares WHERE direction = 'out' AND lawful_basis != 'consent' "
            "AND length(reason) >= 10",
        )[0][0]
        directions = {str(r[0]) for r in rows(session, "SELECT DISTINCT direction FROM shares")}
    finally:
        accounts.sign_out(session)

    assert len(recurring) >= 5
    assert len(per_case) == FULL_RUN
    assert all(r[1] == 1 and int(str(r[2])) >= 1 and r[3] == 1 for r in per_case)
    assert roles == {r.value for r in CaseRole}
    assert referrers == 0
    assert do_not_contact[0][0] and confidential[0][0]
    assert states == {"given", "refused", "withdrawn", "not_asked"}
    assert purposes == {"support", "sharing", "photos", "contact"}
    assert {"consent", "public_task"} <= bases and len(bases) >= 4
    assert int(str(without_consent)) > 0
    assert directions == {"in", "out"}


def test_some_dash_assessments_are_high_risk_with_marac_referrals(demo_store: StoreCopy) -> None:
    session = sign_in(demo_store)
    try:
        answers = rows(session, "SELECT answers, yes_count, level FROM dash_assessments")
        high_cases = rows(
            session,
            "SELECT count(*) FROM cases "
            "WHERE risk_level = 'high' AND marac_referral_date IS NOT NULL",
        )[0][0]
    finally:
        accounts.sign_out(session)

    assert all(str(a).count('"') == 4 * 24 for a, _, _ in answers)  # 24 answers each
    yes = [int(str(y)) for _, y, _ in answers]
    assert max(yes) >= 14 and min(yes) < 10
    assert any(level == "high" for _, y, level in answers if int(str(y)) >= 14)
    assert int(str(high_cases)) > 0


def test_a_few_open_high_risk_cases_have_their_marac_referral_form_issued(
    demo_store: StoreCopy,
) -> None:
    """So the MARAC tab lists forms sent: issued through the form service by the case's
    caseworker on the day of the referral, each with its share to the MARAC in the sharing
    log, and each prints again as issued."""
    session = sign_in(demo_store, MANAGER, MANAGER_PW)
    try:
        referred = rows(
            session,
            "SELECT m.case_id, c.reference, c.status, c.risk_level, c.allocated_user_id, "
            "c.marac_referral_date FROM marac_referrals m JOIN cases c ON c.id = m.case_id "
            "ORDER BY m.id",
        )
        assert referred, "the demo issued no MARAC referral forms"
        assert len(referred) == demo.DEMO_MARAC_FORMS
        for case_id, reference, status, risk_level, worker, referral_date in referred:
            assert (status, risk_level) == ("open", "high")
            [form] = marac_form.issued_forms(session, int(str(case_id)))
            assert form.issued_by == worker and form.referred_on.isoformat() == referral_date
            assert form.fields["reference"] == reference
            assert str(form.fields["marac"]).endswith(" MARAC")
            [share] = [s for s in sharing.shares(session, form.case_id) if s.id == form.share_id]
            assert share.record.recipient_category is RecipientCategory.MARAC
            assert share.record.organisation == form.fields["marac"]
            assert share.record.method == "MARAC referral form"
            assert share.approval in (ShareApproval.NOT_NEEDED, ShareApproval.APPROVED)
        pdf = marac_form.form_pdf(session, form.id)
    finally:
        accounts.sign_out(session)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert str(reference) in text and str(form.fields["victim_name"]) in " ".join(text.split())


def test_the_audit_trail_holds_one_entry_for_the_run_and_nothing_personal(
    demo_store: StoreCopy,
) -> None:
    session = sign_in(demo_store)
    try:
        people = [
            people_model.get(session.conn, int(str(r[0])))
            for r in rows(session, "SELECT id FROM people")
        ]
        entries = list(audit_model.walk(session.conn))
        assert audit.check_chain(session.conn).ok
    finally:
        accounts.sign_out(session)

    demo_entries = [e for e in entries if e.action == audit.DEMO_GENERATED]
    assert len(demo_entries) == 1
    assert demo_entries[0].detail == f"cases={FULL_RUN} seed={FULL_SEED}"
    assert demo_entries[0].record == ""

    personal: set[str] = set()
    for person in people:
        assert person is not None
        d = person.details
        personal |= {d.given_name, d.family_name, *d.aliases, d.postcode}
        personal |= {p for phone in d.phones for p in (phone, search_model.phone_digits(phone))}
    personal.discard("")
    assert len(personal) > 100
    texts = [f"{e.record} {e.detail}".lower() for e in entries]
    for value in personal:
        for text in texts:
            assert value.lower() not in text, f"personal data in the audit trail: {text!r}"


def test_a_caseworker_opens_an_allocated_demo_case(demo_store: StoreCopy) -> None:
    session = sign_in(demo_store, CASEWORKER, CASEWORKER_PW)
    try:
        mine = rows(
            session,
            "SELECT id FROM cases WHERE allocated_user_id = ? AND status = 'open' ORDER BY id",
            (session.user_id,),
        )
        assert mine
        view = open_case(session, int(str(mine[0][0])))
    finally:
        accounts.sign_out(session)

    assert view.case.status is CaseStatus.OPEN
    assert view.allocated_worker == CASEWORKER
    roles = {m.role for m in view.members}
    assert {CaseRole.CLIENT, CaseRole.ALLEGED_PERPETRATOR, CaseRole.PROFESSIONAL} <= roles
    assert view.notes and view.consents
    assert view.contact.client_name == view.members[0].person.name or view.contact.known
    assert view.latest_dash is None or len(view.latest_dash.answers) == 24


def test_cases_are_allocated_across_the_caseworkers(demo_store: StoreCopy) -> None:
    session = sign_in(demo_store)
    try:
        workers = {
            str(r[0])
            for r in rows(
                session,
                "SELECT u.username FROM cases c JOIN users u ON u.id = c.allocated_user_id",
            )
        }
        unallocated = rows(
            session, "SELECT DISTINCT status FROM cases WHERE allocated_user_id IS NULL"
        )
    finally:
        accounts.sign_out(session)
    assert workers == {CASEWORKER, "cara"}
    assert all(r[0] == "referral" for r in unallocated)


@pytest.mark.parametrize(("name", "password"), [(MANAGER, MANAGER_PW), (CASEWORKER, CASEWORKER_PW)])
def test_only_an_admin_can_generate_cases(
    training_store: StoreCopy, name: str, password: str
) -> None:
    session = sign_in(training_store, name, password)
    try:
        with pytest.raises(PermissionDenied):
            demo.generate_cases(session, 5, 1)
        assert rows(session, "SELECT count(*) FROM cases")[0][0] == 0
    finally:
        accounts.sign_out(session)


def test_progress_is_reported_and_the_count_checked(training_store: StoreCopy) -> None:
    seen: list[tuple[int, int]] = []
    session = sign_in(training_store)
    try:
        with pytest.raises(InvalidInput):
            demo.generate_cases(session, 0, 1)
        summary = demo.generate_cases(
            session, 12, 3, lambda done, total: seen.append((done, total)), today=TODAY
        )
    finally:
        accounts.sign_out(session)
    assert seen[0] == (0, 12) and seen[-1] == (12, 12)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert summary.cases == 12 and summary.people >= 12 * 3 and summary.notes >= 12
    assert summary.consents > 0 and summary.seconds > 0 and summary.accounts == ()


def test_a_store_without_caseworkers_gets_the_demo_accounts_first(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    session, _ = accounts.create_store(
        tmp_path / "empty.safecase",
        service_name="Demo IDVA",
        admin_name=ADMIN,
        password=ADMIN_PW,
        device=DeviceSecrets(keyring),
        kdf=TEST_KDF,
        training=True,
    )
    try:
        summary = demo.generate_cases(session, 8, 2, today=TODAY)
        allocated = {
            str(r[0])
            for r in rows(
                session,
                "SELECT u.username FROM cases c JOIN users u ON u.id = c.allocated_user_id",
            )
        }
        manager = user_model.by_name(session.conn, "demo-manager-1")
    finally:
        accounts.sign_out(session)
    assert [a.username for a in summary.accounts] == [a.username for a in demo.demo_accounts(2)]
    assert allocated and allocated <= {
        "demo-caseworker-1",
        "demo-caseworker-2",
        "demo-caseworker-3",
    }
    assert manager is not None


def test_a_store_of_real_records_refuses_demo_cases_and_accounts(store: StoreCopy) -> None:
    """A live store (not created with --training) never takes synthetic records."""
    session = sign_in(store)
    try:
        assert not accounts.is_training_store(session)
        with pytest.raises(NotTrainingStore, match="training store"):
            demo.generate_cases(session, 72, 1, today=TODAY)
        with pytest.raises(NotTrainingStore):
            demo.add_demo_accounts(session, 1)
        assert rows(session, "SELECT count(*) FROM cases")[0][0] == 0
        assert user_model.by_name(session.conn, "demo-caseworker-1") is None
    finally:
        accounts.sign_out(session)


def test_a_training_store_says_so_and_its_creation_is_audited(training_store: StoreCopy) -> None:
    session = sign_in(training_store)
    try:
        assert accounts.is_training_store(session)
        created = [e for e in audit_model.entries(session.conn) if e.action == audit.STORE_CREATED]
    finally:
        accounts.sign_out(session)
    assert [e.detail for e in created] == ["training"]


def test_demo_safe_contacts_use_only_the_ways_the_form_lists(demo_store: StoreCopy) -> None:
    """Demo data once wrote "text first", which the form could not show and erased on save."""
    session = sign_in(demo_store)
    try:
        ways = {str(r[0]) for r in rows(session, "SELECT DISTINCT method FROM safe_contacts")}
    finally:
        accounts.sign_out(session)
    assert ways - {""}, "the demo records some safe ways"
    assert ways <= {m.value for m in ContactMethod} | {""}


def test_demo_cases_record_categories_legal_dates_and_agencies_with_allowed_values(
    demo_store: StoreCopy,
) -> None:
    """The demo data once kept the categories only as free text nobody could count."""
    session = sign_in(demo_store)
    try:
        ethnicities = {str(r[0]) for r in rows(session, "SELECT ethnicity FROM person_categories")}
        kinds = {str(r[0]) for r in rows(session, "SELECT kind FROM case_legal")}
        agencies = {str(r[0]) for r in rows(session, "SELECT agency_type FROM case_agencies")}
        sources = {
            str(r[0]) for r in rows(session, "SELECT agency_type FROM case_referral_sources")
        }
        protection = {str(r[0]) for r in rows(session, "SELECT protection FROM case_children")}
    finally:
        accounts.sign_out(session)
    assert len(ethnicities) > 3 and ethnicities <= {e.value for e in Ethnicity}
    assert kinds == {k.value for k in LegalKind}
    assert agencies and agencies <= {a.value for a in AgencyType}
    assert len(sources) > 3 and sources <= {a.value for a in AgencyType}
    assert protection == {p.value for p in ChildProtection}


def test_every_closed_demo_case_has_its_outcome_for_the_figures(demo_store: StoreCopy) -> None:
    session = sign_in(demo_store)
    try:
        closed_without = rows(
            session,
            "SELECT count(*) FROM cases c LEFT JOIN case_outcomes o ON o.case_id = c.id "
            "WHERE c.closed_date IS NOT NULL AND o.case_id IS NULL",
        )[0][0]
        reasons = rows(session, "SELECT DISTINCT reason FROM case_outcomes")
        still_open = rows(
            session,
            "SELECT count(*) FROM case_outcomes o JOIN cases c ON c.id = o.case_id "
            "WHERE c.closed_date IS NULL",
        )[0][0]
    finally:
        accounts.sign_out(session)
    assert int(str(closed_without)) == 0 and int(str(still_open)) == 0
    assert len(reasons) > 3
