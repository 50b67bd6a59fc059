"""The case-records benchmark: a demo store of many synthetic cases, then search, the case
screen and saving a note through the real services, and the same reads on plain sqlite3.

The store is a real Safecase store (``accounts.create_store``) with its device secret in a
``MemoryKeyring`` and a small, explicit Argon2id cost (unlocking is measured elsewhere). The
plain sqlite3 copy exists only for the comparison, in the benchmark's temporary folder, and is
deleted as soon as the comparison is done.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets
import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TextIO, cast

from app.crypto.connection import Connection
from app.crypto.device import DeviceSecrets
from app.crypto.kdf import Argon2Params
from app.crypto.memory_keyring import MemoryKeyring
from app.models import cases as case_model
from app.models import consent as consent_model
from app.models import notes as note_model
from app.models import risk as risk_model
from app.models import search as search_model
from app.models import sharing as share_model
from app.models import users as user_model
from app.models.records import CaseRole, NoteKind
from app.services import access, accounts, demo, notes, search
from app.services.cases import open_case
from app.services.session import Session
from bench import figures as figures_bench
from bench.figures import FiguresBench
from bench.store import open_plain

SERVICE_NAME = "Bench Cases Service"
ADMIN_NAME = "bench-admin"
# Unlocking is timed on its own store with the real cost; here it only has to work.
CASES_KDF = Argon2Params(memory_kib=1024, time_cost=1, parallelism=1)
MANAGER = "demo-manager-1"
CASEWORKER = "demo-caseworker-1"
QUERY_KINDS = ("surname", "phone", "postcode", "reference")
# The targets the issue set, at 100,000 cases (reported, never asserted).
TARGET_P95_MS = {"search": 50.0, "open": 30.0, "note": 20.0}
TARGET_READ_RATIO = 1.3


@dataclass(frozen=True)
class Latency:
    """One operation's timings in milliseconds."""

    samples_ms: list[float]

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile (p in 0..100)."""
        ordered = sorted(self.samples_ms)
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[rank - 1]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    def to_json(self) -> dict[str, object]:
        return {
            "n": len(self.samples_ms),
            "p50_ms": round(self.p50, 3),
            "p95_ms": round(self.p95, 3),
            "mean_ms": round(statistics.fmean(self.samples_ms), 3),
            "max_ms": round(max(self.samples_ms), 3),
        }


@dataclass(frozen=True)
class Comparison:
    """The same model-level reads on the Safecase store and on its plain sqlite3 copy."""

    key: str
    label: str
    safecase: Latency
    sqlite3: Latency

    @property
    def ratio_p50(self) -> float:
        return self.safecase.p50 / self.sqlite3.p50

    @property
    def ratio_p95(self) -> float:
        return self.safecase.p95 / self.sqlite3.p95

    def to_json(self) -> dict[str, object]:
        return {
            "label": self.label,
            "safecase": self.safecase.to_json(),
            "sqlite3": self.sqlite3.to_json(),
            "ratio_p50": round(self.ratio_p50, 3),
            "ratio_p95": round(self.ratio_p95, 3),
        }


@dataclass(frozen=True)
class CasesResult:
    cases: int
    seed: int
    summary: demo.DemoSummary
    store_mib: float
    queries: dict[str, int]
    # role -> operation ("search", "open", "note") -> latency through the services
    services: dict[str, dict[str, Latency]]
    comparisons: list[Comparison]
    versions: dict[str, str]
    then: object = None  # what ``run_cases``'s ``then`` returned
    figures: FiguresBench | None = None  # a year's figures through the service

    def to_json(self) -> dict[str, object]:
        s = self.summary
        return {
            "cases": self.cases,
            "seed": self.seed,
            "kdf": CASES_KDF.to_json(),
            "generation": {
                "cases": s.cases,
                "people": s.people,
                "notes": s.notes,
                "consents": s.consents,
                "shares": s.shares,
                "assessments": s.assessments,
                "seconds": round(s.seconds, 3),
                "cases_per_s": round(s.cases_per_second, 1),
            },
            "store_mib": round(self.store_mib, 1),
            "queries": self.queries,
            "services": {
                role: {op: lat.to_json() for op, lat in ops.items()}
                for role, ops in self.services.items()
            },
            "targets_p95_ms": TARGET_P95_MS,
            "model_reads": {c.key: c.to_json() for c in self.comparisons},
            "target_read_ratio": TARGET_READ_RATIO,
            "versions": self.versions,
            "figures": None if self.figures is None else self.figures.to_json(),
        }


# -- what the benchmark asks ---------------------------------------------------------------------


@dataclass
class Workload:
    """Queries and cases drawn from the generated data with ``random.Random(seed)``."""

    queries: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)
    opens: dict[str, list[int]] = field(default_factory=dict)  # role -> case ids
    notes: dict[str, list[int]] = field(default_factory=dict)  # role -> open case ids


def _ids(conn: Connection, sql: str, params: tuple[object, ...] = ()) -> list[int]:
    return [int(r[0]) for r in conn.execute(sql, params).fetchall()]


def draw_workload(
    conn: Connection, rng: random.Random, worker_id: int, searches: int, opens: int, saves: int
) -> Workload:
    """Surnames, phone numbers, postcodes and references as someone would type them, taken
    from random cases; cases to open and to note on, for the manager and for one caseworker."""
    everyone = _ids(conn, "SELECT id FROM cases ORDER BY id")
    work = Workload()
    while len(work.queries) < searches:
        case_id = rng.choice(everyone)
        case = case_model.get(conn, case_id)
        members = case_model.members(conn, case_id)
        client = next((m.person for m in members if m.role is CaseRole.CLIENT), None)
        if case is None or client is None:
            continue
        kind = QUERY_KINDS[len(work.queries) % len(QUERY_KINDS)]
        phones = [
            p
            for m in members
            if m.role is not CaseRole.PROFESSIONAL
            for p in m.person.details.phones
        ]
        if kind == "surname":
            text = client.details.family_name
        elif kind == "phone":
            if not phones:
                continue
            text = rng.choice(phones)
        elif kind == "postcode":
            if not client.details.postcode:
                continue
            text = client.details.postcode
        else:
            text = case.reference
        work.queries.append((kind, text))
    mine = _ids(conn, "SELECT id FROM cases WHERE allocated_user_id = ? ORDER BY id", (worker_id,))
    open_all = _ids(conn, "SELECT id FROM cases WHERE status != 'closed' ORDER BY id")
    open_mine = _ids(
        conn,
        "SELECT id FROM cases WHERE status != 'closed' AND allocated_user_id = ? ORDER BY id",
        (worker_id,),
    )
    for role, pool, open_pool in (
        ("manager", everyone, open_all),
        ("caseworker", mine, open_mine),
    ):
        work.opens[role] = [rng.choice(pool) for _ in range(opens)] if pool else []
        work.notes[role] = [rng.choice(open_pool) for _ in range(saves)] if open_pool else []
    return work


# -- the same reads at model level, on either connection -----------------------------------------


def search_reads(conn: Connection, text: str, where: str, params: tuple[object, ...]) -> int:
    """What ``search.search`` reads: the matching cases, then their list rows."""
    found = search_model.matching_cases(conn, text, where, params, 50)
    if not found:
        return 0
    ids = [case_id for case_id, _ in found]
    marks = ", ".join("?" * len(ids))
    rows = case_model.summaries(conn, where=f"c.id IN ({marks})", params=tuple(ids), limit=len(ids))
    return len(rows)


def case_screen_reads(conn: Connection, case_id: int) -> int:
    """What ``cases.open_case`` reads for the case screen."""
    case = case_model.get(conn, case_id)
    assert case is not None
    members = case_model.members(conn, case_id)
    people = sorted({m.person.id for m in members})
    consents = [c for pid in people for c in consent_model.current(conn, pid)]
    client = next((m.person for m in members if m.role is CaseRole.CLIENT), None)
    rules = case_model.safe_contact(conn, case_id, client.id) if client else None
    shares = share_model.for_case(conn, case_id)
    timeline = note_model.timeline(conn, case_id, limit=200)
    dash = risk_model.latest(conn, case_id)
    worker = user_model.by_id(conn, case.allocated_user_id) if case.allocated_user_id else None
    return (
        len(members)
        + len(consents)
        + len(shares)
        + len(timeline)
        + (dash.yes_count if dash else 0)
        + (1 if rules else 0)
        + (worker.id if worker else 0)
    )


# -- running it ----------------------------------------------------------------------------------


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def progress_lines(stream: TextIO) -> demo.Progress:
    """A line at every twentieth of the generation (the benchmark usually runs unattended)."""
    started = time.perf_counter()
    shown = [-1]

    def report(done: int, total: int) -> None:
        step = 20 * done // total if total else 20
        if step == shown[0]:
            return
        shown[0] = step
        seconds = time.perf_counter() - started
        rate = done / seconds if seconds > 0 else 0.0
        print(
            f"  demo: {done:,}/{total:,} cases, {seconds:,.0f} s, {rate:,.0f} cases/s",
            file=stream,
            flush=True,
        )

    return report


def _service_latencies(session: Session, role: str, work: Workload) -> dict[str, Latency]:
    searches: list[float] = []
    for _, text in work.queries:
        start = time.perf_counter()
        search.search(session, text)
        searches.append(_ms(start))
    opens: list[float] = []
    for case_id in work.opens[role]:
        start = time.perf_counter()
        open_case(session, case_id)
        opens.append(_ms(start))
    saves: list[float] = []
    for number, case_id in enumerate(work.notes[role]):
        when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        body = (
            f"Benchmark note {number}: called at the safe time; the safety plan was "
            "reviewed and the next contact agreed."
        )
        start = time.perf_counter()
        notes.add_note(session, case_id, NoteKind.CALL, body, when)
        saves.append(_ms(start))
    result = {"search": Latency(searches), "open": Latency(opens)}
    if saves:
        result["note"] = Latency(saves)
    return result


def export_plain(conn: Connection, path: Path) -> None:
    """A plaintext copy of the store, for the comparison only (bench code, temp folder)."""
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        conn.execute("ATTACH DATABASE ? AS plain KEY ''", (str(path),))
        try:
            conn.execute("SELECT sqlcipher_export('plain')").fetchall()
        finally:
            conn.execute("DETACH DATABASE plain")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


def remove_plain(path: Path) -> None:
    for leftover in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        leftover.unlink(missing_ok=True)


def compare(
    key: str,
    label: str,
    items: list[Callable[[Connection], int]],
    safecase: Connection,
    plain: Connection,
) -> Comparison:
    """Run each item on both connections, taking turns (the order flips each item) after one
    untimed pass on each; both sides must get the same answer."""
    for item in items:
        item(safecase)
        item(plain)
    times: dict[str, list[float]] = {"safecase": [], "sqlite3": []}
    for number, item in enumerate(items):
        sides = [("safecase", safecase), ("sqlite3", plain)]
        if number % 2:
            sides.reverse()
        answers = []
        for name, conn in sides:
            start = time.perf_counter()
            answers.append(item(conn))
            times[name].append(_ms(start))
        if answers[0] != answers[1]:
            raise RuntimeError(f"{key}: the two copies answered differently")
    return Comparison(key, label, Latency(times["safecase"]), Latency(times["sqlite3"]))


def run_cases(
    folder: Path,
    cases: int,
    seed: int,
    *,
    searches: int,
    opens: int,
    saves: int,
    stream: TextIO | None = None,
    then: Callable[[Session, str, MemoryKeyring], object] | None = None,
) -> CasesResult:
    """Build a store of ``cases`` demo cases in ``folder`` and measure it.

    ``then``, if given, runs last with the store's admin signed in, and is handed the admin's
    password and the keyring holding the device secret (the retention benchmark purges this
    same store in a child process, so a second 100,000-case store is never built); what it
    returns is kept as ``CasesResult.then``.
    """
    path = folder / "cases.safecase"
    keyring = MemoryKeyring()
    device = DeviceSecrets(keyring)
    admin_password = "bench-" + secrets.token_urlsafe(18)
    admin, _recovery = accounts.create_store(
        path,
        service_name=SERVICE_NAME,
        admin_name=ADMIN_NAME,
        password=admin_password,
        device=device,
        kdf=CASES_KDF,
        training=True,  # synthetic records only
    )
    try:
        progress = progress_lines(stream) if stream is not None else None
        summary = demo.generate_cases(admin, cases, seed, progress)
        passwords = {a.username: a.password for a in demo.demo_accounts(seed)}
        worker = user_model.by_name(admin.conn, CASEWORKER)
        assert worker is not None
        work = draw_workload(admin.conn, random.Random(seed), worker.id, searches, opens, saves)
        versions = {
            "sqlcipher": str(admin.conn.execute("PRAGMA cipher_version").fetchone()[0]),
            "safecase_sqlite": str(admin.conn.execute("SELECT sqlite_version()").fetchone()[0]),
            "stdlib_sqlite": sqlite3.sqlite_version,
        }
    finally:
        accounts.sign_out(admin)
    store_mib = path.stat().st_size / (1024 * 1024)

    services: dict[str, dict[str, Latency]] = {}
    conditions: dict[str, tuple[str, tuple[object, ...]]] = {}
    for role, name in (("manager", MANAGER), ("caseworker", CASEWORKER)):
        session = accounts.sign_in(path, name, passwords[name], device=device)
        try:
            conditions[role] = access.condition(session)
            services[role] = _service_latencies(session, role, work)
        finally:
            accounts.sign_out(session)

    plain_path = folder / "plain-copy.db"
    session = accounts.sign_in(path, MANAGER, passwords[MANAGER], device=device)
    try:
        export_plain(session.conn, plain_path)
        plain_conn = open_plain(plain_path)
        try:
            plain = cast(Connection, plain_conn)
            comparisons = []
            for role in ("manager", "caseworker"):
                where, params = conditions[role]
                comparisons.append(
                    compare(
                        f"search_{role}",
                        f"search ({role})",
                        [
                            partial(search_reads, text=text, where=where, params=params)
                            for _, text in work.queries
                        ],
                        session.conn,
                        plain,
                    )
                )
            comparisons.append(
                compare(
                    "case_screen",
                    "case screen reads",
                    [partial(case_screen_reads, case_id=i) for i in work.opens["manager"]],
                    session.conn,
                    plain,
                )
            )
            year_figures = figures_bench.time_figures(session)
            comparisons.append(
                compare(
                    "figures",
                    "a year's figures",
                    figures_bench.reads(session),
                    session.conn,
                    plain,
                )
            )
        finally:
            plain_conn.close()
    finally:
        accounts.sign_out(session)
        remove_plain(plain_path)

    counts = {kind: sum(1 for k, _ in work.queries if k == kind) for kind in QUERY_KINDS}
    after: object = None
    if then is not None:
        session = accounts.sign_in(path, ADMIN_NAME, admin_password, device=device)
        try:
            after = then(session, admin_password, keyring)
        finally:
            accounts.sign_out(session)
    return CasesResult(
        cases=cases,
        seed=seed,
        summary=summary,
        store_mib=store_mib,
        queries=counts,
        services=services,
        comparisons=comparisons,
        versions=versions,
        then=after,
        figures=year_figures,
    )


def format_cases(result: CasesResult) -> list[str]:
    """The case-records part of the printed table."""
    s, v = result.summary, result.versions
    lines = [
        "",
        f"Case records ({result.cases:,} synthetic cases, seed {result.seed})",
        f"  demo generation: {s.cases:,} cases, {s.people:,} people, {s.notes:,} notes, "
        f"{s.consents:,} consents, {s.shares:,} shares, {s.assessments:,} DASH",
        f"    in {s.seconds:,.1f} s = {s.cases_per_second:,.0f} cases/s; "
        f"store {result.store_mib:,.1f} MiB",
        f"  queries: {', '.join(f'{n} {k}' for k, n in result.queries.items())}",
        "",
        "  Through the services (audit entry and commit included)",
        f"  {'role':<12}{'operation':<16}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'target p95':>12}",
    ]
    labels = {"search": "search", "open": "open a case", "note": "save a note"}
    for role, ops in result.services.items():
        for op, lat in ops.items():
            target = TARGET_P95_MS[op]
            mark = "" if lat.p95 <= target else "  over"
            lines.append(
                f"  {role:<12}{labels[op]:<16}{len(lat.samples_ms):>6}{lat.p50:>10.2f}"
                f"{lat.p95:>10.2f}{target:>10.0f} ms{mark}"
            )
    lines += [
        "",
        f"  Model-level reads: Safecase (SQLCipher {v['sqlcipher']}, SQLite "
        f"{v['safecase_sqlite']}) vs plain sqlite3 (SQLite {v['stdlib_sqlite']})",
        f"  {'reads':<22}{'n':>5}{'Safecase p50':>14}{'p95':>8}{'sqlite3 p50':>13}{'p95':>8}"
        f"{'ratio p50':>11}{'p95':>7}",
    ]
    for c in result.comparisons:
        lines.append(
            f"  {c.label:<22}{len(c.safecase.samples_ms):>5}{c.safecase.p50:>14.2f}"
            f"{c.safecase.p95:>8.2f}{c.sqlite3.p50:>13.2f}{c.sqlite3.p95:>8.2f}"
            f"{c.ratio_p50:>10.2f}x{c.ratio_p95:>6.2f}x"
        )
    lines.append(f"  (ms; target ratio <= {TARGET_READ_RATIO}x)")
    if result.figures is not None:
        lines += figures_bench.format_figures(result.figures)
    return lines
