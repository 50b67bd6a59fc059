"""The MARAC referral form benchmark: issue the form for a full case (pre-fill from the case,
checks, the PDF laid out in memory, the share and the form recorded) and print it again from
what was kept (goal: 0.5 s or less each, reported, never asserted), beside the pre-fill's
reads on the Safecase store and on a plain sqlite3 copy of it in the same run.

The store is made in a folder the caller made, with its device secret in a ``MemoryKeyring``
and a small Argon2id cost (unlocking is measured elsewhere), and filled with demo cases so the
reads run on a store that is not empty. The case referred is synthetic and everyone on it is
invented: a woman in a refuge with a code word, two alleged perpetrators, three children,
another household member, agencies, consent and several DASH checklists. The plain copy exists
only for the comparison, in the benchmark's temporary folder, and is deleted straight after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import cast

from app.crypto.connection import Connection
from app.crypto.device import DeviceSecrets
from app.crypto.kdf import Argon2Params
from app.crypto.memory_keyring import MemoryKeyring
from app.models.categories import (
    Agency,
    AgencyType,
    ChildDetails,
    ChildProtection,
    Ethnicity,
    GenderIdentity,
    LivesWith,
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
    PersonDetails,
    RecipientCategory,
    SafeContact,
)
from app.models.users import Role
from app.services import accounts, cases, categories, consent, demo, marac_form, risk
from app.services.session import Session
from bench.cases import Comparison, compare, export_plain, remove_plain
from bench.store import open_plain

GOAL_SECONDS = 0.5
RUNS = 10
READS = 50
FILLER_CASES = 1_000
QUICK_FILLER = 100
KDF = Argon2Params(memory_kib=1024, time_cost=1, parallelism=1)
OUT = Path(__file__).resolve().parent / "out" / "marac.json"
SERVICE_NAME = "Bench MARAC Service"
ADMIN_NAME = "bench-admin"
MANAGER_NAME = "bench-manager"


@dataclass(frozen=True)
class MaracBench:
    filler_cases: int
    people: int  # on the referred case
    issue_seconds: tuple[float, ...]  # marac_form.issue, each run
    print_seconds: tuple[float, ...]  # marac_form.form_pdf of the issued form, each run
    pdf_bytes: int
    pdf_pages: int
    reads: Comparison  # marac_form.gather on Safecase and on plain sqlite3, in ms

    @property
    def issue_best(self) -> float:
        return min(self.issue_seconds)

    @property
    def print_best(self) -> float:
        return min(self.print_seconds)

    def to_json(self) -> dict[str, object]:
        return {
            "filler_cases": self.filler_cases,
            "people_on_the_case": self.people,
            "issue_seconds": [round(s, 4) for s in self.issue_seconds],
            "issue_best_seconds": round(self.issue_best, 4),
            "issue_median_seconds": round(statistics.median(self.issue_seconds), 4),
            "print_seconds": [round(s, 4) for s in self.print_seconds],
            "print_best_seconds": round(self.print_best, 4),
            "print_median_seconds": round(statistics.median(self.print_seconds), 4),
            "pdf_bytes": self.pdf_bytes,
            "pdf_pages": self.pdf_pages,
            "prefill_reads_ms": self.reads.to_json(),
            "goal_seconds": GOAL_SECONDS,
        }


def _person(given: str, family: str, **more: object) -> PersonDetails:
    return PersonDetails(given_name=given, family_name=family, **more)  # type: ignore[arg-type]


def _referred_case(session: Session) -> tuple[int, int]:
    """The case to refer, through the services; returns (case id, people on it)."""
    today = session.today()
    case_id = cases.create_referral(
        session,
        _person(
            "Morwenna",
            "Trellick",
            aliases=("Wenna Pryce", "Morwenna Łukasiewicz"),  # set in the Unicode font
            date_of_birth=dt.date(1988, 6, 14),
            address="Flat 9, Larkspur Court, 5 Heron Row, Eastmere",
            postcode="EM3 8QT",
            address_confidential=True,
            phones=("07700 900214",),
        ),
        CaseDetails(referral_date=today - dt.timedelta(days=60), referral_source="Police"),
    )
    client = cases.contact_rules(session, case_id).client_id
    assert client is not None
    people = [
        (
            _person("Gareth", "Vellacott", date_of_birth=dt.date(1984, 2, 3)),
            CaseRole.ALLEGED_PERPETRATOR,
        ),
        (
            _person("Conrad", "Ashby", address="10 Quarry Lane, Westcombe"),
            CaseRole.ALLEGED_PERPETRATOR,
        ),
        (_person("Tamsin", "Trellick", date_of_birth=dt.date(2015, 3, 11)), CaseRole.CHILD),
        (_person("Ellis", "Trellick", date_of_birth=dt.date(2018, 7, 2)), CaseRole.CHILD),
        (_person("Nia", "Trellick", date_of_birth=dt.date(2022, 1, 20)), CaseRole.CHILD),
        (_person("Rosen", "Pryce"), CaseRole.HOUSEHOLD_MEMBER),
    ]
    for details, role in people:
        person_id = cases.add_person(session, case_id, details, role)
        if role is CaseRole.CHILD:
            categories.set_child(
                session,
                case_id,
                ChildDetails(
                    person_id, "Larkrise Primary", ChildProtection.CHILD_IN_NEED, LivesWith.CLIENT
                ),
            )
    categories.set_person_categories(
        session,
        client,
        PersonCategories(
            ethnicity=Ethnicity.WHITE_BRITISH,
            gender_identity=GenderIdentity.WOMAN,
            first_language="Cornish",
        ),
    )
    for kind, name in (
        (AgencyType.POLICE, "Eastmere Police"),
        (AgencyType.CHILDRENS_SOCIAL_CARE, "Eastmere Children's Services"),
        (AgencyType.HOUSING, "Eastmere Homes"),
        (AgencyType.REFUGE, "Larkspur Refuge"),
        (AgencyType.GP, "Heron Row Surgery"),
    ):
        categories.add_agency(session, case_id, Agency(kind, name, "Duty worker"))
    cases.set_safe_contact(
        session,
        case_id,
        SafeContact(
            person_id=client,
            safe_number="07700 900800",
            safe_times="Weekdays after 10am",
            text_ok=True,
            code_word="heather",
            safe_people="Her sister",
        ),
    )
    consent.record_consent(
        session,
        case_id,
        client,
        ConsentPurpose.SHARING,
        RecipientCategory.MARAC.value,
        ConsentState.GIVEN,
        decided_on=today,
        how=ConsentHow.VERBAL,
    )
    for weeks, score in ((8, 11), (4, 13), (0, 16)):
        answers = {q: Answer.YES if q <= score else Answer.NO for q in range(1, 25)}
        risk.record_dash(
            session,
            case_id,
            client,
            answers,
            completed_on=today - dt.timedelta(weeks=weeks),
            police_callouts_12m=2,
        )
    return case_id, 1 + len(people)


def time_form(folder: Path, filler: int = FILLER_CASES, runs: int = RUNS) -> MaracBench:
    path = folder / "marac.safecase"
    device = DeviceSecrets(MemoryKeyring())
    admin, _recovery = accounts.create_store(
        path,
        service_name=SERVICE_NAME,
        admin_name=ADMIN_NAME,
        password="bench-" + secrets.token_urlsafe(18),
        device=device,
        kdf=KDF,
        training=True,  # synthetic records only
    )
    manager_password = "bench-" + secrets.token_urlsafe(18)
    try:
        if filler:
            demo.generate_cases(admin, filler, 1)
        accounts.add_user(
            admin, MANAGER_NAME, manager_password, frozenset({Role.MANAGER}), must_change=False
        )
    finally:
        accounts.sign_out(admin)
    session = accounts.sign_in(path, MANAGER_NAME, manager_password, device=device)
    plain_path = folder / "plain-copy.db"
    try:
        case_id, people = _referred_case(session)
        edits = marac_form.MaracEdits(
            marac="Eastmere MARAC coordinator",
            reason=marac_form.ReferralReason.VISIBLE_HIGH_RISK,
            risk_summary="Threats to kill since she left; he has found the children's school.",
            lawful_basis=LawfulBasis.PUBLIC_TASK,
            reason_without_consent="Safety planning for her and the children needs the "
            "alleged perpetrators' details.",
        )
        issued: list[float] = []
        printed: list[float] = []
        for _ in range(max(1, runs)):
            started = time.perf_counter()
            result = marac_form.issue(session, case_id, edits)
            issued.append(time.perf_counter() - started)
            started = time.perf_counter()
            pdf = marac_form.form_pdf(session, result.form_id)
            printed.append(time.perf_counter() - started)
        today = session.today()
        export_plain(session.conn, plain_path)
        plain_conn = open_plain(plain_path)
        try:
            reads = compare(
                "marac_prefill",
                "MARAC form pre-fill reads",
                [partial(_gather, case_id=case_id, today=today) for _ in range(READS)],
                session.conn,
                cast(Connection, plain_conn),
            )
        finally:
            plain_conn.close()
    finally:
        accounts.sign_out(session)
        remove_plain(plain_path)
    return MaracBench(
        filler_cases=filler,
        people=people,
        issue_seconds=tuple(issued),
        print_seconds=tuple(printed),
        pdf_bytes=len(pdf),
        pdf_pages=len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf)),
        reads=reads,
    )


def _gather(conn: Connection, *, case_id: int, today: dt.date) -> int:
    """The pre-fill's reads (models only), answering something both copies must agree on."""
    return len(repr(marac_form.gather(conn, case_id, today, "bench")))


def format_form(result: MaracBench) -> list[str]:
    mark = "" if result.issue_best <= GOAL_SECONDS else "  over"
    reads = result.reads
    return [
        "",
        f"MARAC referral form ({result.people} people on the case, "
        f"{result.filler_cases:,} other demo cases; best of {len(result.issue_seconds)} runs)",
        f"  issue (pre-fill, checks, PDF, share, kept){'':<2}{result.issue_best:>8.3f} s"
        f"   (goal <= {GOAL_SECONDS} s){mark}"
        f"   median {statistics.median(result.issue_seconds):.3f} s",
        f"  PDF again from the kept form{'':<16}{result.print_best:>8.3f} s"
        f"   median {statistics.median(result.print_seconds):.3f} s",
        f"  PDF {result.pdf_pages} page(s), {result.pdf_bytes / 1024:,.0f} KiB",
        f"  pre-fill reads: Safecase p50 {reads.safecase.p50:.2f} ms, p95 "
        f"{reads.safecase.p95:.2f} ms; plain sqlite3 p50 {reads.sqlite3.p50:.2f} ms, p95 "
        f"{reads.sqlite3.p95:.2f} ms (x{reads.ratio_p50:.2f} at p50)",
    ]


# -- the command line (python -m bench) --------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--marac-cases",
        type=int,
        help=f"demo cases beside the MARAC referral's (default {FILLER_CASES:,}; --quick "
        f"{QUICK_FILLER:,}; -1 skips the MARAC form)",
    )


def filler(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--quick", action="store_true")
    add_arguments(parser)
    args, _ = parser.parse_known_args(argv)
    if args.marac_cases is not None:
        return int(args.marac_cases)
    return QUICK_FILLER if args.quick else FILLER_CASES


def run_from_args(argv: list[str] | None, out: Path = OUT) -> MaracBench | None:
    """The MARAC part of ``python -m bench``: build, time, print, save; None if skipped."""
    cases_beside = filler(argv)
    if cases_beside < 0:
        return None
    with tempfile.TemporaryDirectory(prefix="safecase-bench-marac-") as name:
        result = time_form(Path(name), cases_beside)
    print("\n".join(format_form(result)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    print(f"\nWrote {out}")
    return result


if __name__ == "__main__":
    import sys

    run_from_args(sys.argv[1:])
