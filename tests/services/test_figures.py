"""Figures for commissioners (app/services/figures.py) on a small store with known counts.

The world, all in 2025: 23 referrals. 12 from the police (high risk), their clients called on
the day of referral, 8 of them closed (6 support completed, 2 moved away) and 4 still open at
the end of the year; 3 from a GP (medium risk); 7 self-referrals (standard), one of them the
second referral of a police case's client within 12 months; 1 from housing (not assessed).
Six shares out to the police on crime prevention, two to housing on vital interests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.errors import InvalidInput, PermissionDenied
from app.models import cases as case_model
from app.models import categories as category_model
from app.models import sharing as share_model
from app.models.categories import AgencyType, ReferralSource
from app.models.db import transaction
from app.models.records import (
    CaseDetails,
    CaseOutcome,
    ClosureReason,
    Direction,
    LawfulBasis,
    NoteKind,
    RecipientCategory,
    ShareApproval,
    ShareRecord,
)
from app.services import cases, figures, notes
from app.services.figures import FiguresFileExists, Period
from app.services.session import Session
from tests.helpers import ADMIN, CASEWORKER, DPO, MANAGER, StoreCopy, copy_store
from tests.services.casework import audit_head, audit_since, person, signed_in
from tests.services.test_suppression import recovered

YEAR = Period.year(2025)
NAMES = ("Zephyrine", "Quillfeather")


def _referral(
    s: Session, day: dt.date, source: AgencyType, risk: str | None, existing: int | None = None
) -> int:
    case_id = cases.create_referral(
        s,
        person(*NAMES),
        CaseDetails(referral_date=day, referral_source=source.value),
        existing_client_id=existing,
    )
    with transaction(s.conn):
        category_model.put_referral_source(s.conn, case_id, ReferralSource(source), 1, s.now())
        if risk:
            case_model.set_fields(s.conn, case_id, s.now(), risk_level=risk)
    return case_id


@pytest.fixture(scope="module")
def world(training_template: StoreCopy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from app.crypto.memory_keyring import MemoryKeyring

    path = copy_store(training_template.path, tmp_path_factory.mktemp("figures-world"))
    store = dataclasses.replace(training_template, path=path)
    assert isinstance(store.keyring, MemoryKeyring)
    with signed_in(store, MANAGER) as s:
        police = [
            _referral(s, dt.date(2025, 2, 1) + dt.timedelta(days=i), AgencyType.POLICE, "high")
            for i in range(12)
        ]
        for case_id in police:
            case = case_model.get(s.conn, case_id)
            assert case is not None
            referred = case.details.referral_date
            cases.open_referral(s, case_id, referred)
            notes.add_note(
                s,
                case_id,
                NoteKind.CALL,
                "Called Zephyrine on her safe number.",
                dt.datetime.combine(referred, dt.time(12), dt.UTC),
            )
        for number, case_id in enumerate(police[:8]):
            reason = ClosureReason.MOVED_AWAY if number < 2 else ClosureReason.SUPPORT_COMPLETED
            cases.close_case(
                s, case_id, dt.date(2025, 6, 1), "Closed for the test", CaseOutcome(reason)
            )
        for i in range(3):
            _referral(s, dt.date(2025, 3, 1 + i), AgencyType.GP, "medium")
        repeat_client = case_model.client_id(s.conn, police[0])
        for i in range(7):
            existing = repeat_client if i == 0 else None
            _referral(s, dt.date(2025, 9, 1 + i), AgencyType.SELF, "standard", existing)
        _referral(s, dt.date(2025, 10, 1), AgencyType.HOUSING, None)
        # Not in 2025: counted in no table.
        _referral(s, dt.date(2024, 12, 31), AgencyType.POLICE, "high")
        client = case_model.client_id(s.conn, police[6])
        assert client is not None
        with transaction(s.conn):
            for number in range(8):
                housing = number >= 6
                share_model.insert(
                    s.conn,
                    ShareRecord(
                        case_id=police[6],
                        direction=Direction.OUT,
                        shared_at=f"2025-04-0{number + 1}T10:00:00+00:00",
                        organisation="Northshire Homes" if housing else "Northshire Police",
                        recipient_category=(
                            RecipientCategory.HOUSING if housing else RecipientCategory.POLICE
                        ),
                        person_ids=(client,),
                        data_categories=("address",),
                        purpose="Safety",
                        method="phone",
                        lawful_basis=(
                            LawfulBasis.VITAL_INTERESTS if housing else LawfulBasis.CRIME_PREVENTION
                        ),
                        reason="Immediate risk at the current address",
                    ),
                    ShareApproval.APPROVED,
                    "",
                    1,
                    s.now(),
                )
    return path


@pytest.fixture
def store(world: Path, training_template: StoreCopy, tmp_path: Path) -> StoreCopy:
    return dataclasses.replace(training_template, path=copy_store(world, tmp_path / "store"))


def _figures(store: StoreCopy, user: str) -> figures.Figures:
    with signed_in(store, user) as s:
        return figures.figures(s, YEAR)


def _row(table: figures.FigureTable, label: str) -> list[str]:
    return next(row[1:] for row in table.texts() if row[0] == label)


def test_referrals_by_source_and_risk_hide_small_counts(store: StoreCopy) -> None:
    result = _figures(store, MANAGER)
    table = result.table("referrals_by_source_and_risk")
    assert table.columns == ("High risk", "Medium risk", "Standard risk", "Not assessed")
    assert _row(table, "Police") == ["12", "0", "0", "0", "12"]
    assert _row(table, "GP") == ["0", "fewer than 5", "0", "0", "fewer than 5"]
    assert _row(table, "Self-referral") == ["0", "0", "7", "0", "7"]
    assert _row(table, "Housing") == ["0", "0", "0", "fewer than 5", "fewer than 5"]
    assert _row(table, "Total") == ["12", "fewer than 5", "7", "fewer than 5", "23"]
    assert recovered(table.published) == []


def test_a_small_outcome_is_protected_by_withholding_another(store: StoreCopy) -> None:
    """6 + 2 = 8 closed: with the total shown, showing the 6 would give the 2 away."""
    result = _figures(store, DPO)
    table = result.table("outcomes_reason")
    assert _row(table, "Support completed") == ["withheld"]
    assert _row(table, "Moved away") == ["fewer than 5"]
    assert _row(table, "Total") == ["8"]
    assert recovered(table.published) == []


def test_caseload_repeats_and_first_contact(store: StoreCopy) -> None:
    result = _figures(store, MANAGER)
    caseload = result.table("caseload")
    assert _row(caseload, "Open at the end of the period") == ["fewer than 5"]
    assert _row(caseload, "Closed during the period") == ["8"]
    repeats = result.table("repeats")
    assert _row(repeats, "Referrals to the service") == ["fewer than 5", "withheld", "23"]
    assert _row(repeats, "Referrals to MARAC") == ["0", "0", "0"]
    contact = result.table("first_contact")
    assert _row(contact, "Same day") == ["12"]
    assert _row(contact, "No contact recorded yet") == ["11"]
    assert _row(contact, "Total") == ["23"]
    assert result.median_text == "0 days"


def test_demographics_count_each_client_once(store: StoreCopy) -> None:
    result = _figures(store, MANAGER)
    sex = result.table("clients_by_sex")
    # 23 referrals, one client referred twice: 22 clients, none asked.
    assert _row(sex, "Not asked") == ["22"]
    assert _row(sex, "Total") == ["22"]
    ages = result.table("clients_by_age")
    assert _row(ages, "Not recorded") == ["22"]


def test_shares_by_recipient_and_lawful_basis(store: StoreCopy) -> None:
    result = _figures(store, MANAGER)
    table = result.table("shares_by_recipient_and_basis")
    # 6 + 2 = 8: the 6 (and the totals equal to it) is withheld, or the 2 would follow.
    assert _row(table, "Police") == ["0", "0", "0", "0", "withheld", "0", "0", "withheld"]
    housing = ["0", "0", "fewer than 5", "0", "0", "0", "0", "fewer than 5"]
    assert _row(table, "Housing") == housing
    assert _row(table, "Total") == ["0", "0", "fewer than 5", "0", "withheld", "0", "0", "8"]
    assert table.columns.index("Crime prevention") == 4
    assert recovered(table.published) == []


def test_the_csv_and_pdf_name_nobody_and_state_the_method(store: StoreCopy, tmp_path: Path) -> None:
    with signed_in(store, MANAGER) as s:
        references = [r[0] for r in s.conn.execute("SELECT reference FROM cases")]
        before = audit_head(s)
        written = figures.export(
            s, YEAR, csv_file=tmp_path / "year.csv", pdf_file=tmp_path / "year.pdf"
        )
        entries = audit_since(s, before)
    assert written == [tmp_path / "year.csv", tmp_path / "year.pdf"]
    csv_text = (tmp_path / "year.csv").read_text(encoding="utf-8-sig")
    pdf_text = "\n".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO((tmp_path / "year.pdf").read_bytes())).pages
    )
    for text in (csv_text, pdf_text):
        assert "fewer than 5" in text
        assert "Counts from 1 to 4 are shown as 'fewer than 5'" in " ".join(text.split())
        for secret in (*NAMES, *references, "Northshire"):
            assert secret not in text
    assert "Referrals by source and risk level" in pdf_text
    [entry] = [e for e in entries if e.action == figures.FIGURES_EXPORTED]
    assert entry.detail.startswith("period=2025 formats=csv,pdf tables=referrals_by_source")
    assert entry.record == ""


def test_an_existing_file_is_kept_unless_replace_is_asked(store: StoreCopy, tmp_path: Path) -> None:
    target = tmp_path / "figures.csv"
    target.write_text("keep me", encoding="utf-8")
    with signed_in(store, MANAGER) as s:
        with pytest.raises(FiguresFileExists):
            figures.export(s, YEAR, csv_file=target)
        assert target.read_text(encoding="utf-8") == "keep me"
        figures.export(s, YEAR, csv_file=target, replace=True)
    assert "Referrals by source" in target.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("user", [CASEWORKER, ADMIN])
def test_caseworkers_and_admins_are_refused(store: StoreCopy, user: str, tmp_path: Path) -> None:
    with signed_in(store, user) as s:
        assert not figures.may_see_figures(s)
        with pytest.raises(PermissionDenied):
            figures.figures(s, YEAR)
        with pytest.raises(PermissionDenied):
            figures.export(s, YEAR, csv_file=tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_periods() -> None:
    assert Period.parse("2026-Q3") == Period(dt.date(2026, 7, 1), dt.date(2026, 9, 30), "2026-Q3")
    assert Period.parse("2026") == Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31), "2026")
    assert Period.quarter(2026, 4).end == dt.date(2026, 12, 31)
    with pytest.raises(InvalidInput):
        Period.parse("2026-Q5")


def test_repeat_marac_referrals_are_counted_by_client_within_12_months(store: StoreCopy) -> None:
    """The true counts under the suppression: the repeat client's police case went to MARAC in
    March 2025, their self-referral in September. Published, both show as "fewer than 5"."""
    from app.models import figures as figures_model

    with signed_in(store, MANAGER) as s:
        rows = s.conn.execute(
            "SELECT c.id, c.referral_date FROM cases c JOIN case_people p ON p.case_id = c.id "
            "AND p.role = 'client' WHERE p.person_id = (SELECT person_id FROM case_people "
            "WHERE role = 'client' GROUP BY person_id HAVING count(*) = 2) ORDER BY c.id"
        ).fetchall()
        [(first, _), (second, _)] = rows
        with transaction(s.conn):
            case_model.set_fields(s.conn, first, s.now(), marac_referral_date="2025-03-01")
            case_model.set_fields(s.conn, second, s.now(), marac_referral_date="2025-09-10")
        counts = figures_model.repeats(s.conn, YEAR.start, YEAR.end)
        result = figures.figures(s, YEAR)
    assert counts[("marac", "repeat")] == 1 and counts[("marac", "not_repeat")] == 1
    assert counts[("referrals", "repeat")] == 1 and counts[("referrals", "not_repeat")] == 22
    row = _row(result.table("repeats"), "Referrals to MARAC")
    assert row == ["fewer than 5", "fewer than 5", "fewer than 5"]
