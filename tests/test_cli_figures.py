"""``safecase figures``: a year's or a quarter's figures as CSV on standard output or as files,
for managers and the DPO; existing files are kept unless --replace is given."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from pypdf import PdfReader

from app.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from app.models.records import CaseDetails
from app.services import cases
from tests.helpers import CASEWORKER, CASEWORKER_PW, DPO, DPO_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import person, signed_in
from tests.test_cli import Result, cli

NAMES = ("Perpetua", "Windlesham")


def figures(store: StoreCopy, user: str, password: str, *extra: str) -> Result:
    return cli(
        ["figures", "--store", str(store.path), "--user", user, *extra],
        f"{password}\n",
        store.keyring,
    )


def _referrals(store: StoreCopy, count: int, day: dt.date) -> None:
    with signed_in(store, MANAGER) as s:
        for _ in range(count):
            cases.create_referral(s, person(*NAMES), CaseDetails(referral_date=day))


def test_the_dpo_prints_a_quarter_as_csv(store: StoreCopy) -> None:
    _referrals(store, 6, dt.date(2026, 8, 3))
    _referrals(store, 2, dt.date(2026, 5, 3))
    result = figures(store, DPO, DPO_PW, "--quarter", "2026-Q3")
    assert result.code == EXIT_OK, result.err
    assert "figures for 2026-Q3" in result.out
    assert "Not recorded,0,0,0,6,6" in result.out  # source and risk not recorded yet
    assert "Counts from 1 to 4 are shown as 'fewer than 5'" in result.out
    assert not any(name in result.out for name in NAMES)
    year = figures(store, DPO, DPO_PW, "--year", "2026")
    assert "Not recorded,0,0,0,8,8" in year.out


def test_a_manager_writes_files_that_are_kept_unless_replace(
    store: StoreCopy, tmp_path: Path
) -> None:
    _referrals(store, 6, dt.date(2026, 8, 3))
    csv_file, pdf_file = tmp_path / "q3.csv", tmp_path / "q3.pdf"
    done = figures(
        store,
        MANAGER,
        MANAGER_PW,
        "--quarter",
        "2026-q3",
        "--csv",
        str(csv_file),
        "--pdf",
        str(pdf_file),
    )
    assert done.code == EXIT_OK, done.err
    assert "not encrypted" in done.out
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_file.read_bytes())).pages)
    assert "Referrals by source and risk level" in pdf_text
    assert not any(name in pdf_text for name in NAMES)

    csv_file.write_text("the commissioner's own notes", encoding="utf-8")
    again = figures(store, MANAGER, MANAGER_PW, "--quarter", "2026-Q3", "--csv", str(csv_file))
    assert again.code == EXIT_FAILED
    assert len(again.err.strip().splitlines()) == 1 and "--replace" in again.err
    assert csv_file.read_text(encoding="utf-8") == "the commissioner's own notes"
    replaced = figures(
        store, MANAGER, MANAGER_PW, "--quarter", "2026-Q3", "--csv", str(csv_file), "--replace"
    )
    assert replaced.code == EXIT_OK, replaced.err
    assert "Not recorded,0,0,0,6,6" in csv_file.read_text(encoding="utf-8-sig")


def test_a_caseworker_is_refused_and_a_bad_period_is_a_usage_error(store: StoreCopy) -> None:
    refused = figures(store, CASEWORKER, CASEWORKER_PW, "--year", "2026")
    assert refused.code == EXIT_FAILED
    assert len(refused.err.strip().splitlines()) == 1 and "Traceback" not in refused.err
    for bad in (("--quarter", "2026-Q5"), ("--quarter", "2026"), ()):
        result = figures(store, MANAGER, MANAGER_PW, *bad)
        assert result.code == EXIT_USAGE, bad
        assert len(result.err.strip().splitlines()) == 1
