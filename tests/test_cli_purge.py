"""``safecase purge``: the dry run, approving and extending, the real run, the log and the
certificate, and the mistakes that are usage errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from app.models import cases as case_model
from app.models.records import CaseRole
from app.services import cases
from app.services.session import uk_today
from tests.helpers import ADMIN, ADMIN_PW, CASEWORKER, CASEWORKER_PW, MANAGER, StoreCopy
from tests.services.casework import person, signed_in
from tests.services.closed_cases import make_closed_case, reference_of
from tests.test_cli import Result, cli

NAMES = ("Marigold", "Featherstone", "Ottoline", "Brackwater")


def admin(store: StoreCopy, *args: str) -> Result:
    return cli(
        ["purge", *args, "--store", str(store.path), "--user", ADMIN],
        f"{ADMIN_PW}\n",
        store.keyring,
    )


def three_cases(store: StoreCopy) -> tuple[str, str, str]:
    """A plain due case, one with a child who keeps it, and one under a legal hold."""
    with signed_in(store, MANAGER) as session:
        plain = make_closed_case(session, person("Marigold", "Featherstone"))
        child = person("Ottoline", "Brackwater", date_of_birth=dt.date(2012, 2, 29))
        kept = make_closed_case(session, person("Ivy", "Holt"), others=((child, CaseRole.CHILD),))
        held = make_closed_case(
            session,
            person("Rowan", "Ashby"),
            closed=dt.date(2018, 1, 15),
            referred=dt.date(2017, 9, 1),
        )
        cases.place_legal_hold(session, held, "Proceedings", dt.date(2030, 1, 1))
        return (
            reference_of(session, plain),
            reference_of(session, kept),
            reference_of(session, held),
        )


def test_a_dry_run_lists_what_is_due_and_why_and_destroys_nothing(store: StoreCopy) -> None:
    plain, kept, held = three_cases(store)
    result = admin(store, "--dry-run")
    assert result.code == EXIT_OK, result.err
    lines = result.out.splitlines()
    assert lines[0] == "Due for destruction as of " + uk_today().isoformat() + (
        ": 2 case(s): 0 approved, 1 awaiting review, 1 blocked."
    )
    assert lines[1] == "reference\tclosed\tdue\trule\tstatus"
    assert lines[2:] == [
        f"{held}\t2018-01-15\t2025-01-15\tclosure\tblocked: legal hold (hold review 2030-01-01)",
        f"{plain}\t2019-03-31\t2026-03-31\tclosure\tawaiting review",
    ]
    assert kept not in result.out  # a child born 29 Feb 2012 keeps it until 28 Feb 2037
    later = admin(store, "--dry-run", "--as-of", "2037-02-28")
    assert f"{kept}\t2019-03-31\t2037-02-28\tchild\tawaiting review" in later.out
    for name in NAMES:
        assert name not in result.out + later.out
    with signed_in(store, MANAGER) as session:
        assert case_model.by_reference(session.conn, plain) is not None


def test_approve_purge_log_and_certificate(store: StoreCopy, tmp_path: Path) -> None:
    plain, _kept, _held = three_cases(store)
    with signed_in(store, MANAGER) as session:
        other = reference_of(session, make_closed_case(session))
    nothing = admin(store)
    assert nothing.code == EXIT_OK
    assert "Nothing was destroyed" in nothing.out and "2 awaiting review, 1 blocked" in nothing.out

    approved = admin(store, "approve", "--reference", plain, "--reason", "Reviewed at audit")
    assert approved.code == EXIT_OK, approved.err
    assert approved.out == f"{plain}: approved for destruction.\n"
    assert admin(store, "approve", "--reference", plain).out == f"{plain}: already approved.\n"
    until = (uk_today() + dt.timedelta(days=60)).isoformat()
    extended = admin(
        store, "extend", "--reference", other, "--reason", "Complaint still open", "--until", until
    )
    assert extended.code == EXIT_OK, extended.err
    assert f"kept until {until}" in extended.out

    purged = admin(store)
    assert purged.code == EXIT_OK, purged.err
    first = purged.out.splitlines()[0]
    assert first.startswith("Purge run ") and "destroyed 1 case(s)" in first
    run_id = first.split()[2]
    assert f"{plain}\t2019-03-31\t2026-03-31\tclosure\tpeople=1 notes=0" in purged.out
    assert "Left alone: 0 awaiting review, 1 blocked, 0 changed since approval." in purged.out
    for name in NAMES:
        assert name not in purged.out

    listed = admin(store, "log")
    assert listed.out.startswith(f"{run_id}\t") and listed.out.rstrip().endswith(f"\t1\t{ADMIN}")
    out = tmp_path / "certificate.pdf"
    printed = admin(store, "certificate", "--run", run_id, "--out", str(out))
    assert printed.code == EXIT_OK, printed.err
    assert out.read_bytes().startswith(b"%PDF") and "1 case(s)" in printed.out
    unknown = admin(store, "certificate", "--run", "nope", "--out", str(tmp_path / "x.pdf"))
    assert unknown.code == EXIT_USAGE and "no purge run" in unknown.err
    assert not (tmp_path / "x.pdf").exists()
    with signed_in(store, MANAGER) as session:
        assert case_model.by_reference(session.conn, plain) is None
        assert case_model.by_reference(session.conn, other) is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dry-run", "--as-of", "2026-02-30"], "--as-of takes a real date written YYYY-MM-DD"),
        (["--as-of", "31/03/2026"], "--as-of takes a real date written YYYY-MM-DD"),
        (
            ["extend", "--reference", "SC-1", "--reason", "Proceedings", "--until", "soon"],
            "--until takes a real date written YYYY-MM-DD",
        ),
        (["extend", "--reference", "SC-1", "--reason", "x"], "needs --until"),
        (["approve"], "needs --reference"),
        (["--reference", "SC-1"], "does not take --reference"),
        (["certificate", "--run", "r"], "needs --out"),
        (["approve", "--reference", "SC-1", "--dry-run"], "does not take --dry-run"),
    ],
)
def test_mistakes_are_one_line_and_exit_2_before_the_password(
    store: StoreCopy, args: list[str], message: str
) -> None:
    # No password on standard input: reaching sign-in would be a different error.
    result = cli(["purge", *args, "--store", str(store.path), "--user", ADMIN], "", store.keyring)
    assert result.code == EXIT_USAGE
    assert message in result.err and result.err.count("\n") == 1


def test_a_real_run_as_of_a_future_date_is_refused(store: StoreCopy) -> None:
    tomorrow = (uk_today() + dt.timedelta(days=1)).isoformat()
    result = admin(store, "--as-of", tomorrow)
    assert result.code == EXIT_USAGE and "future" in result.err
    assert admin(store, "--dry-run", "--as-of", tomorrow).code == EXIT_OK


def test_a_caseworker_cannot_purge(store: StoreCopy) -> None:
    for args in (["--dry-run"], [], ["log"]):
        result = cli(
            ["purge", *args, "--store", str(store.path), "--user", CASEWORKER],
            f"{CASEWORKER_PW}\n",
            store.keyring,
        )
        assert result.code == EXIT_FAILED and "role" in result.err
