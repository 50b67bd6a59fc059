"""`safecase breach list`: the log with each clock, and --check for a scheduled job."""

from __future__ import annotations

import datetime as dt

from app.errors import EXIT_FAILED, EXIT_OK
from app.models.breaches import Facts, Risk
from app.services import breaches
from tests.helpers import CASEWORKER, CASEWORKER_PW, DPO, DPO_PW, StoreCopy
from tests.services.casework import signed_in
from tests.test_cli import Result, cli


def _list(store: StoreCopy, *args: str, user: str = DPO, password: str = DPO_PW) -> Result:
    return cli(
        ["breach", "list", "--store", str(store.path), "--user", user, *args],
        f"{password}\n",
        store.keyring,
    )


def _record(store: StoreCopy, hours_ago: float, what: str, **fields: object) -> str:
    aware = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    with signed_in(store, DPO) as s:
        facts = Facts(aware_at=aware, what_happened=what, **fields)  # type: ignore[arg-type]
        return breaches.record_breach(s, facts).reference


def test_breach_list_shows_each_clock_and_check_fails_on_an_overdue_breach(
    store: StoreCopy,
) -> None:
    empty = _list(store, "--check")
    assert (empty.code, empty.out.strip()) == (EXIT_OK, "No breaches recorded.")

    fresh = _record(store, 2, "Email to the wrong school about one family")
    quiet = _record(
        store, 100, "Fax misdialled", risk=Risk.NO_RISK, not_reported_reason="Went to our fax"
    )
    running = _list(store, "--check")
    assert running.code == EXIT_OK, running.err
    lines = {line.split("\t")[0]: line for line in running.out.splitlines()}
    assert "h " in lines[fresh] and "left to report" in lines[fresh]
    assert lines[fresh].split("\t")[3].startswith(("69 h", "70 h"))
    assert "not reportable" in lines[quiet]

    late = _record(store, 75.5, "Laptop left on a bus")
    checked = _list(store, "--check")
    assert checked.code == EXIT_FAILED
    assert checked.err.strip() == (
        "safecase: 1 breach is past the 72 hours and not reported to the ICO."
    )
    overdue = next(line for line in checked.out.splitlines() if line.startswith(late))
    assert "OVERDUE by 3 h 30 min" in overdue or "OVERDUE by 3 h 31 min" in overdue
    for said in ("school", "Fax", "bus", "our fax"):
        assert said not in checked.out
    assert _list(store).code == EXIT_OK  # without --check it only lists


def test_breach_list_is_the_dpos(store: StoreCopy) -> None:
    refused = _list(store, user=CASEWORKER, password=CASEWORKER_PW)
    assert refused.code == EXIT_FAILED
    assert refused.err.count("\n") == 1 and "dpo role" in refused.err
