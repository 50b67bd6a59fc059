"""The subject access benchmark: build the pack for a subject with about 2,000 entries across
several cases and time the preview and the export (PDF + JSON + manifest) (goal: 5 s or less
for the two together, reported, never asserted).

``time_pack`` makes its own store in a folder the caller made, with its device secret in a
``MemoryKeyring`` and a small Argon2id cost (unlocking is measured elsewhere). The world is
synthetic and every person in it is invented: one woman supported on several cases, each with
an alleged perpetrator, a child and a police officer, and notes, shares and consent decisions
enough for the pack's size. The bulk is written through the models in one transaction (setup
is not timed); the request and everything timed go through the services as a manager.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from app.crypto.device import DeviceSecrets
from app.crypto.kdf import Argon2Params
from app.crypto.memory_keyring import MemoryKeyring
from app.models import cases as case_model
from app.models import consent as consent_model
from app.models import notes as note_model
from app.models import sharing as share_model
from app.models.db import transaction
from app.models.records import (
    CaseDetails,
    CaseRole,
    Consent,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    Direction,
    GivenBy,
    LawfulBasis,
    NoteKind,
    PersonDetails,
    RecipientCategory,
    SafeContact,
    ShareApproval,
    ShareRecord,
)
from app.models.rights import RightKind
from app.models.users import Role
from app.services import accounts, cases, rights, sar
from app.services.session import Session

GOAL_SECONDS = 5.0
RUNS = 3  # preview and export timed this many times; the best run is reported
ENTRIES = 2_000
QUICK_ENTRIES = 200
CASES = 5
SAR_KDF = Argon2Params(memory_kib=1024, time_cost=1, parallelism=1)
OUT = Path(__file__).resolve().parent / "out" / "sar.json"
SERVICE_NAME = "Bench Subject Access Service"
ADMIN_NAME = "bench-admin"
MANAGER_NAME = "bench-manager"

# Invented people: the subject, and per case an alleged perpetrator, a child and an officer.
SUBJECT = PersonDetails(
    given_name="Morwenna",
    family_name="Trellick",
    aliases=("Wenna Pryce",),
    date_of_birth=dt.date(1988, 6, 14),
    address="Flat 9, Larkspur Court, 5 Heron Row, Eastmere",
    postcode="EM3 8QT",
    address_confidential=True,
    phones=("07700 900214",),
    email="m.trellick@example.org",
)
_PERPETRATORS = ("Gareth Vellacott", "Conrad Ashby", "Lyle Penhallow", "Dominic Frane", "Rory Keld")
_CHILDREN = ("Tamsin", "Ellis", "Nia", "Jory", "Wren")
_OFFICERS = ("Priya Lanyon", "Owen Castell", "Hollie Brace", "Idris Mabe", "Clare Tonkin")
_NOTE_KINDS = (NoteKind.CALL, NoteKind.VISIT, NoteKind.MEETING, NoteKind.NOTE)
_NOTES = (
    "Called {subject} on her safe number. {perp} has been messaging her from {perp_phone}; "
    "she has kept screenshots. {child} is settled at school.",
    "Home visit to {subject}. {perp} was seen outside {postcode} twice this week. "
    "DC {officer} has been told. Safety plan reviewed with her.",
    "Met {subject} at the office about her housing options. She asked that {perp} is not "
    "told where {child} goes to after-school club.",
    "{subject} rang to say {perp} turned up at the school gate; staff refused to release "
    "{child} (born {child_dob}). Police log number given to DC {officer}.",
    "Outreach session with {subject}: benefits check, court date reminder, support for {child}.",
)


@dataclass(frozen=True)
class PackBench:
    cases: int
    notes: int
    shares: int
    consents: int
    sections: int
    entries: int  # entries in the built pack (a note, a share, a consent decision, ...)
    items: int  # fields in those entries, each redacted on its own
    setup_seconds: float  # building the synthetic world (not timed in the goal)
    preview_seconds: float  # sar.preview: gathering and redacting (in the best run)
    export_seconds: float  # sar.export_pack: gathering again, the PDF, the JSON, the manifest
    pdf_bytes: int
    json_bytes: int
    pdf_pages: int
    # Preview plus export, each run: the machine is shared, so the best run is the figure.
    runs_seconds: tuple[float, ...] = ()

    @property
    def total_seconds(self) -> float:
        return self.preview_seconds + self.export_seconds

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.runs_seconds) if self.runs_seconds else self.total_seconds

    @property
    def within_goal(self) -> bool:
        return self.total_seconds <= GOAL_SECONDS

    def to_json(self) -> dict[str, object]:
        return {
            "cases": self.cases,
            "notes": self.notes,
            "shares": self.shares,
            "consents": self.consents,
            "sections": self.sections,
            "entries": self.entries,
            "items": self.items,
            "setup_seconds": round(self.setup_seconds, 3),
            "preview_seconds": round(self.preview_seconds, 3),
            "export_seconds": round(self.export_seconds, 3),
            "total_seconds": round(self.total_seconds, 3),
            "runs_seconds": [round(r, 3) for r in self.runs_seconds],
            "median_seconds": round(self.median_seconds, 3),
            "pdf_bytes": self.pdf_bytes,
            "json_bytes": self.json_bytes,
            "pdf_pages": self.pdf_pages,
            "goal_seconds": GOAL_SECONDS,
        }


@dataclass(frozen=True)
class _World:
    subject: int
    cases: int
    notes: int
    shares: int
    consents: int


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _build_world(session: Session, entries: int, case_count: int, seed: int) -> _World:
    """The subject on ``case_count`` cases with notes, shares and consents enough for about
    ``entries`` pack entries in all."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = now.date()
    subject = None
    case_ids: list[int] = []
    others: list[dict[str, str]] = []
    perpetrators: list[int] = []
    for n in range(case_count):
        details = CaseDetails(
            referral_date=today - dt.timedelta(days=700 - n * 120),
            referral_source=f"Police, DC {_OFFICERS[n % len(_OFFICERS)]}",
            other_services="Housing options team",
            needs_assessment="Needs support with housing, benefits and the family court.",
            safety_plan="Phone kept charged; the school knows who may collect the children.",
        )
        case_id = cases.create_referral(session, SUBJECT, details, existing_client_id=subject)
        if subject is None:
            subject = case_model.client_id(session.conn, case_id)
            assert subject is not None
        given, family = _PERPETRATORS[n % len(_PERPETRATORS)].split()
        perp_phone = f"07700 9005{n:02d}"
        perp = cases.add_person(
            session,
            case_id,
            PersonDetails(
                given_name=given,
                family_name=family,
                date_of_birth=dt.date(1984, 1 + n, 3),
                address=f"{10 + n} Quarry Lane, Westcombe",
                postcode=f"WC{n + 1} 4JD",
                phones=(perp_phone,),
            ),
            CaseRole.ALLEGED_PERPETRATOR,
        )
        child_name = _CHILDREN[n % len(_CHILDREN)]
        child_dob = dt.date(2014 + n % 5, 3 + n, 11)
        cases.add_person(
            session,
            case_id,
            PersonDetails(
                given_name=child_name,
                family_name="Trellick",
                date_of_birth=child_dob,
                address=SUBJECT.address,
                postcode=SUBJECT.postcode,
                address_confidential=True,
            ),
            CaseRole.CHILD,
        )
        off_given, off_family = _OFFICERS[n % len(_OFFICERS)].split()
        cases.add_person(
            session,
            case_id,
            PersonDetails(
                given_name=off_given,
                family_name=off_family,
                organisation="Eastmere Police",
                job_title="Detective Constable",
            ),
            CaseRole.PROFESSIONAL,
        )
        cases.set_safe_contact(
            session,
            case_id,
            SafeContact(
                person_id=subject,
                safe_number=f"07700 9008{n:02d}",
                method="phone",
                safe_times="weekdays after 10am",
                text_ok=True,
                code_word=f"heather{n}",
                last_checked=today - dt.timedelta(days=5),
            ),
        )
        case_ids.append(case_id)
        perpetrators.append(perp)
        others.append(
            {
                "subject": "Morwenna",
                "perp": f"{given} {family}",
                "perp_phone": perp_phone,
                "child": child_name,
                "child_dob": child_dob.strftime("%d/%m/%Y"),
                "officer": _OFFICERS[n % len(_OFFICERS)],
                "postcode": SUBJECT.postcode,
            }
        )
    assert subject is not None

    # Fixed entries: the subject's details, and per case the case record, three other people
    # and the safe contact details. The rest: about 2% consents, 5% shares, notes.
    fixed = 1 + case_count * 5
    consent_count = max(1, entries // 50)
    share_count = max(case_count, entries // 20)
    note_count = max(0, entries - fixed - consent_count - share_count)
    user, stamp = session.user_id, session.now()
    conn = session.conn
    with transaction(conn):
        for i in range(note_count):
            n = i % case_count
            when = now - dt.timedelta(hours=1 + (note_count - i) * 6)
            body = rng.choice(_NOTES).format(**others[n])
            note_model.insert(
                conn, case_ids[n], rng.choice(_NOTE_KINDS), _stamp(when), body, user, stamp
            )
        for i in range(share_count):
            n = i % case_count
            when = now - dt.timedelta(hours=2 + (share_count - i) * 24)
            record = ShareRecord(
                case_id=case_ids[n],
                direction=Direction.OUT if i % 3 else Direction.IN,
                shared_at=_stamp(when),
                organisation="Eastmere Police",
                recipient_category=RecipientCategory.POLICE,
                person_ids=(subject, perpetrators[n]),
                data_categories=("risks", "perpetrator_details"),
                purpose=f"MARAC referral about {others[n]['perp']}",
                method="secure email",
                lawful_basis=LawfulBasis.PUBLIC_TASK,
                reason=f"High risk to Morwenna and {others[n]['child']}",
            )
            share_model.insert(conn, record, ShareApproval.NOT_NEEDED, "", user, stamp)
        for i in range(consent_count):
            consent_model.insert(
                conn,
                Consent(
                    id=0,
                    person_id=subject,
                    purpose=ConsentPurpose.SUPPORT,
                    target="",
                    state=ConsentState.GIVEN if i % 4 else ConsentState.WITHDRAWN,
                    decided_on=today - dt.timedelta(days=consent_count - i),
                    how=ConsentHow.VERBAL,
                    given_by=GivenBy.PERSON,
                    recorded_by=user,
                    recorded_at=stamp,
                    review_date=None,
                ),
            )
    return _World(subject, case_count, note_count, share_count, consent_count)


_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def _pages(pdf: bytes) -> int:
    return len(_PAGE.findall(pdf))


def time_pack(
    folder: Path,
    entries: int = ENTRIES,
    seed: int = 1,
    case_count: int = CASES,
    runs: int = RUNS,
) -> PackBench:
    """Build a store in ``folder`` whose subject has about ``entries`` pack entries, then time
    the preview and the export of their access pack as a manager, ``runs`` times; the
    figures are the best run's."""
    path = folder / "sar.safecase"
    device = DeviceSecrets(MemoryKeyring())
    admin, _recovery = accounts.create_store(
        path,
        service_name=SERVICE_NAME,
        admin_name=ADMIN_NAME,
        password="bench-" + secrets.token_urlsafe(18),
        device=device,
        kdf=SAR_KDF,
    )
    manager_password = "bench-" + secrets.token_urlsafe(18)
    try:
        accounts.add_user(
            admin, MANAGER_NAME, manager_password, frozenset({Role.MANAGER}), must_change=False
        )
    finally:
        accounts.sign_out(admin)
    session = accounts.sign_in(path, MANAGER_NAME, manager_password, device=device)
    try:
        started = time.perf_counter()
        world = _build_world(session, entries, case_count, seed)
        received = session.today() - dt.timedelta(days=3)
        request = rights.create_request(
            session,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="Morwenna Trellick",
                received_on=received,
                subject_person_id=world.subject,
                identity_confirmed_on=received,
            ),
        )
        setup = time.perf_counter() - started

        timings: list[tuple[float, float]] = []
        for run in range(max(1, runs)):
            started = time.perf_counter()
            pack = sar.preview(session, request.id)
            preview_seconds = time.perf_counter() - started
            if pack.needs_signoff and not pack.signed_off:
                sar.sign_off(session, request.id, "benchmark")
            out = folder / f"pack-{run + 1}"
            started = time.perf_counter()
            result = sar.export_pack(session, request.id, out)
            timings.append((preview_seconds, time.perf_counter() - started))
    finally:
        accounts.sign_out(session)
    best = min(timings, key=sum)
    sizes = {name: size for name, size, _ in result.files}
    pdf_name = next(n for n in sizes if n.endswith(".pdf"))
    json_name = next(n for n in sizes if n.endswith(".json") and "manifest" not in n)
    return PackBench(
        cases=world.cases,
        notes=world.notes,
        shares=world.shares,
        consents=world.consents,
        sections=len(pack.sections),
        entries=sum(len(s.entries) for s in pack.sections),
        items=sum(1 for _ in pack.items()),
        setup_seconds=setup,
        preview_seconds=best[0],
        export_seconds=best[1],
        pdf_bytes=sizes[pdf_name],
        json_bytes=sizes[json_name],
        pdf_pages=_pages((out / pdf_name).read_bytes()),
        runs_seconds=tuple(p + e for p, e in timings),
    )


def format_pack(result: PackBench) -> list[str]:
    """The subject access part of the printed table."""
    mark = "" if result.within_goal else "  over"
    return [
        "",
        f"Subject access pack ({result.entries:,} entries, {result.items:,} items, "
        f"{result.sections} sections; {result.cases} cases, {result.notes:,} notes, "
        f"{result.shares:,} shares, {result.consents:,} consents)",
        f"  synthetic world (not timed in the goal) {result.setup_seconds:,.1f} s",
        f"  preview (gather + redact){'':<10}{result.preview_seconds:>10.2f} s",
        f"  export (PDF + JSON + manifest){'':<5}{result.export_seconds:>10.2f} s",
        f"  pack total{'':<25}{result.total_seconds:>10.2f} s"
        f"   (goal <= {GOAL_SECONDS:.0f} s){mark}",
        f"  (best of {len(result.runs_seconds)} runs; median {result.median_seconds:.2f} s)",
        f"  PDF {result.pdf_pages:,} pages, {result.pdf_bytes / 1024:,.0f} KiB; "
        f"JSON {result.json_bytes / 1024:,.0f} KiB",
    ]


# -- the command line (python -m bench) --------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sar-entries",
        type=int,
        help=f"entries in the subject access pack to time (default {ENTRIES:,}; --quick "
        f"{QUICK_ENTRIES:,}; 0 skips it)",
    )


def size(argv: list[str] | None) -> int:
    """The pack's entries from the command line, --quick giving a small one."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--quick", action="store_true")
    add_arguments(parser)
    args, _ = parser.parse_known_args(argv)
    if args.sar_entries is not None:
        return max(0, int(args.sar_entries))
    return QUICK_ENTRIES if args.quick else ENTRIES


def run_from_args(argv: list[str] | None, seed: int = 1, out: Path = OUT) -> PackBench | None:
    """The subject access part of ``python -m bench``: build, time, print, save; None if
    skipped."""
    entries = size(argv)
    if entries == 0:
        return None
    with tempfile.TemporaryDirectory(prefix="safecase-bench-sar-") as name:
        result = time_pack(Path(name), entries, seed)
    print("\n".join(format_pack(result)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    print(f"\nWrote {out}")
    return result
