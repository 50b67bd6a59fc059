"""The team benchmark (``python -m bench.team``, and part of ``python -m bench``).

A team of 10 laptops in one process, each its own store (in-memory keyring, a small Argon2id
cost, synthetic records only), sharing a folder in a temporary directory: the admin's laptop
(its user also a manager), managers, and caseworkers whose cases are allocated to them. Each
laptop, offline for a simulated week, makes 500 operations on the cases it holds (notes
mostly, some safe numbers set, consents, shares and DASH checklists) and publishes them. Then,
timed:

- catch-up: one manager's laptop (a manager may see every case) syncs once and takes in the
  other nine laptops' operations (4,500 by default; goal 5 s or less on a 2-core machine);
- a sync with nothing new on that laptop (goal 100 ms or less);
- beside them, in the same run, a plain baseline: reading the same envelope files and
  inserting as many rows as there were operations into plain sqlite3 in one transaction.

Reported too: envelope bytes per operation (bytes in the folder / operations), and whether all
ten stores end identical for what each may see (every laptop syncs until nothing moves; the
travelling tables, restricted to the cases each laptop holds, with links as global ids, are
compared with the manager's). A difference fails the run. Goals are reported, never asserted.

Cases reach the laptops that hold them by syncing only: the office store becomes the team's
first laptop with the operations for every record it held (``create_team``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from app.crypto.connection import Connection
from app.crypto.device import DeviceSecrets
from app.crypto.kdf import Argon2Params
from app.crypto.memory_keyring import MemoryKeyring
from app.models import cases as case_model
from app.models.db import transaction
from app.models.records import (
    Answer,
    CaseDetails,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    Direction,
    LawfulBasis,
    NoteKind,
    PersonDetails,
    RecipientCategory,
    SafeContact,
    ShareRecord,
)
from app.models.users import Role, encode_roles
from app.services import accounts, cases, consent, notes, risk, sharing
from app.services import team as team_service
from app.services.session import Session
from app.sync import engine
from bench.store import open_plain

LAPTOPS = 10
MANAGERS = 3  # the admin's laptop and two more; the rest are caseworkers
OPERATIONS = 500  # per laptop
CASES_EACH = 3  # cases allocated to each caseworker (the managers' are unallocated)
RUNS = 5  # syncs with nothing new
KDF = Argon2Params(memory_kib=1024, time_cost=1, parallelism=1)
CATCH_UP_GOAL_S = 5.0
NOOP_GOAL_MS = 100.0
OUT = Path(__file__).resolve().parent / "out" / "team.json"
# The tables that travel, compared across laptops (each row by its case).
COMPARED = ("cases", "safe_contacts", "notes", "consents", "shares", "dash_assessments")
# Not compared: local ids, and who last wrote a case or safe contact row on this laptop and
# when (applying a field set does not set them: they are the laptop's own bookkeeping).
LOCAL_COLUMNS = frozenset({"id", "search_text", "updated_at", "updated_by"})


@dataclass(frozen=True)
class TeamBench:
    laptops: int
    operations: int  # per laptop
    foreign: int  # operations the catching-up laptop took in
    catch_up_s: float
    baseline_s: float  # read the same files, insert as many rows into plain sqlite3
    noop_ms: tuple[float, ...]
    folder_bytes: int
    envelopes: int
    identical: bool
    differences: tuple[str, ...]

    @property
    def bytes_per_operation(self) -> float:
        return self.folder_bytes / max(1, self.laptops * self.operations)

    def to_json(self) -> dict[str, object]:
        return {
            "laptops": self.laptops,
            "operations_per_laptop": self.operations,
            "foreign_operations": self.foreign,
            "catch_up_seconds": round(self.catch_up_s, 4),
            "catch_up_baseline_seconds": round(self.baseline_s, 4),
            "catch_up_ratio": round(self.catch_up_s / max(self.baseline_s, 1e-9), 2),
            "noop_ms_best": round(min(self.noop_ms), 3),
            "noop_ms_median": round(statistics.median(self.noop_ms), 3),
            "folder_bytes": self.folder_bytes,
            "envelopes": self.envelopes,
            "envelope_bytes_per_operation": round(self.bytes_per_operation, 1),
            "identical": self.identical,
            "differences": list(self.differences),
            "catch_up_goal_seconds": CATCH_UP_GOAL_S,
            "noop_goal_ms": NOOP_GOAL_MS,
        }


# -- the team ----------------------------------------------------------------------------------


@dataclass
class Laptop:
    name: str
    session: Session
    manager: bool
    cases: list[int]  # ids in the admin's store of the cases it works on


def _password() -> str:
    return "bench-" + secrets.token_urlsafe(18)


def _found(folder: Path, keyring: MemoryKeyring, workers: int, cases_each: int) -> Laptop:
    admin, _ = accounts.create_store(
        folder / "admin" / "cases.safecase",
        service_name="Bench Team Service",
        admin_name="bench-admin",
        password=_password(),
        device=DeviceSecrets(keyring),
        kdf=KDF,
        training=True,  # synthetic records only
    )
    roles = frozenset({Role.ADMIN, Role.MANAGER})
    with transaction(admin.conn):
        admin.conn.execute(
            "UPDATE users SET roles = ? WHERE id = ?", (encode_roles(roles), admin.user_id)
        )
    admin.roles = roles
    mine: list[int] = []
    for n in range(workers):
        role = Role.MANAGER if n < MANAGERS - 1 else Role.CASEWORKER
        accounts.add_user(admin, f"bench-{n}", _password(), frozenset({role}), must_change=False)
    made = 0
    for n in range(MANAGERS - 1, workers):
        user = accounts_user(admin, f"bench-{n}")
        for _ in range(cases_each):
            _case(admin, made, user)
            made += 1
    for _ in range(cases_each):
        mine.append(_case(admin, made, None))
        made += 1
    return Laptop("bench-admin", admin, True, mine)


def accounts_user(session: Session, username: str) -> int:
    row = session.conn.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()
    return int(row[0])


def _case(admin: Session, n: int, worker: int | None) -> int:
    client = PersonDetails(given_name=f"Benchclient{n:03d}", family_name="Synthetic")
    details = CaseDetails(
        referral_date=admin.today() - dt.timedelta(days=30), referral_source="police"
    )
    case_id = cases.create_referral(admin, client, details)
    cases.open_referral(admin, case_id, admin.today())
    if worker is not None:
        cases.allocate(admin, case_id, worker)
    _safe_number(admin, case_id, "07700 900000")
    return case_id


def _safe_number(session: Session, case_id: int, number: str) -> None:
    client = case_model.client_id(session.conn, case_id)
    assert client is not None
    current = case_model.safe_contact(session.conn, case_id, client) or SafeContact(client)
    cases.set_safe_contact(session, case_id, replace(current, safe_number=number))


def _join(admin: Session, username: str, folder: Path, keyring: MemoryKeyring) -> Session:
    invitation = folder / f"{username}.invitation"
    passphrase = team_service.invite(admin, username, invitation, params=KDF)
    store = folder / username / "cases.safecase"
    store.parent.mkdir(parents=True)
    session, _ = team_service.join(
        invitation, passphrase, store, _password(), device=DeviceSecrets(keyring), kdf=KDF
    )
    invitation.unlink()
    return session


def _gid(conn: Connection, case_id: int) -> str:
    return str(conn.execute("SELECT gid FROM cases WHERE id = ?", (case_id,)).fetchone()[0])


def _local(conn: Connection, gid: str) -> int:
    return int(conn.execute("SELECT id FROM cases WHERE gid = ?", (gid,)).fetchone()[0])


def build_team(folder: Path, keyring: MemoryKeyring, laptops: int, cases_each: int) -> list[Laptop]:
    """The admin's laptop founds the team and invites the others; every laptop then holds the
    cases it may see, and every key it needs."""
    shared = folder / "shared"
    shared.mkdir()
    admin = _found(folder, keyring, laptops - 1, cases_each)
    team_service.create_team(admin.session, shared)
    team = [admin]
    for n in range(laptops - 1):
        name = f"bench-{n}"
        session = _join(admin.session, name, folder, keyring)
        manager = Role.MANAGER in session.roles
        worker = accounts_user(admin.session, name)
        held = [
            int(r[0])
            for r in admin.session.conn.execute(
                "SELECT id FROM cases WHERE allocated_user_id = ? ORDER BY id", (worker,)
            )
        ]
        team.append(Laptop(name, session, manager, held if not manager else admin.cases))
    _sync_all(team, 2)  # enrolled, and the directory (its users) reaches everyone
    _sync_all(team, 2)  # the case keys reach everyone
    return team


def _sync_all(team: list[Laptop], rounds: int) -> int:
    """Every laptop syncs in turn, ``rounds`` times or until nothing moves; returns how many
    envelopes moved in the last round."""
    moved = 0
    for _ in range(rounds):
        moved = 0
        for laptop in team:
            report = team_service.sync(laptop.session)
            moved += report.received + report.sent
        if not moved:
            break
    return moved


# -- a week offline ------------------------------------------------------------------------------


def _made(conn: Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM operations WHERE local = 1").fetchone()[0])


def _work(session: Session, case_id: int, step: int) -> None:
    """One piece of work on a case: a note mostly, sometimes a safe number, a consent
    decision, a share or a DASH checklist."""
    client = case_model.client_id(session.conn, case_id)
    assert client is not None
    when = session.moment() - dt.timedelta(minutes=step)
    kind = step % 25
    if kind == 1:
        _safe_number(session, case_id, f"07700 9{step % 100000:05d}")
    elif kind == 2:
        consent.record_consent(
            session,
            case_id,
            client,
            ConsentPurpose.SUPPORT,
            "",
            ConsentState.GIVEN,
            decided_on=session.today(),
            how=ConsentHow.VERBAL,
        )
    elif kind == 3:
        sharing.record_share(
            session,
            ShareRecord(
                case_id=case_id,
                direction=Direction.OUT,
                shared_at=(when - dt.timedelta(hours=1)).isoformat(),
                organisation="Northshire Homes",
                recipient_category=RecipientCategory.HOUSING,
                person_ids=(client,),
                data_categories=("address",),
                purpose="Emergency rehousing",
                method="phone",
                lawful_basis=LawfulBasis.VITAL_INTERESTS,
                reason="Immediate risk at the current address",
            ),
        )
    elif kind == 4 and step % 100 == 4:
        answers = {q: (Answer.YES if q <= step % 24 else Answer.NO) for q in range(1, 25)}
        risk.record_dash(session, case_id, client, answers, completed_on=session.today())
    else:
        body = f"Synthetic visit note {step}: talked through the safety plan and next steps."
        notes.add_note(session, case_id, NoteKind.VISIT, body, when)


def offline_week(team: list[Laptop], operations: int) -> None:
    """Each laptop makes ``operations`` operations on its cases, then publishes them (without
    reading anyone else's)."""
    admin = team[0].session.conn
    for laptop in team:
        conn = laptop.session.conn
        held = [_local(conn, _gid(admin, c)) for c in laptop.cases]
        goal = _made(conn) + operations
        step = 0
        while (left := goal - _made(conn)) > 0:
            # A DASH checklist makes two operations (its risk level too); the last is a note.
            _work(laptop.session, held[step % len(held)], step if left > 1 else 0)
            step += 1


def publish_only(laptop: Laptop) -> None:
    conn = laptop.session.conn
    state = engine.load(conn)
    engine.seal_outgoing(conn, state, laptop.session.user_id, laptop.session.now())
    engine.publish(conn, state, team_service._transport(state.folder))


# -- the baseline and the comparison -------------------------------------------------------------


def baseline(shared: Path, skip: str, rows: int, folder: Path) -> float:
    """Read every other device's envelope files and insert ``rows`` rows (slices of those
    bytes) into plain sqlite3, one transaction per envelope as the sync commits."""
    path = folder / "baseline.sqlite3"
    plain = open_plain(path)
    try:
        plain.execute("CREATE TABLE ops (n INTEGER PRIMARY KEY, payload BLOB)")
        start = time.perf_counter()
        files = [
            entry
            for device in sorted((shared / "devices").iterdir())
            if device.name != skip
            for entry in sorted(device.iterdir())
        ]
        row = 0
        for n, entry in enumerate(files):
            data = entry.read_bytes()
            count = rows // len(files) + (1 if n < rows % len(files) else 0)
            size = max(1, len(data) // max(1, count))
            plain.execute("BEGIN")
            plain.executemany(
                "INSERT INTO ops VALUES (?, ?)",
                ((row + i, data[i * size : (i + 1) * size]) for i in range(count)),
            )
            plain.execute("COMMIT")
            row += count
        return time.perf_counter() - start
    finally:
        plain.close()
        path.unlink(missing_ok=True)


def _columns(conn: Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})")]


def _links(conn: Connection, table: str) -> dict[str, str]:
    return {str(r[3]): str(r[2]) for r in conn.execute(f"PRAGMA foreign_key_list({table})")}


def snapshot(conn: Connection, case_gids: set[str]) -> dict[str, list[str]]:
    """The travelling tables' rows of these cases (consents: of the people on them), links as
    global ids, in a set order."""
    marks = ", ".join("?" * len(case_gids))
    people = {
        str(r[0])
        for r in conn.execute(
            "SELECT p.gid FROM people p JOIN case_people cp ON cp.person_id = p.id "
            f"JOIN cases c ON c.id = cp.case_id WHERE c.gid IN ({marks})",
            sorted(case_gids),
        )
    }
    gids: dict[tuple[str, int], str | None] = {}

    def gid(table: str, row_id: int) -> str | None:
        if (table, row_id) not in gids:
            found = conn.execute(f"SELECT gid FROM {table} WHERE id = ?", (row_id,)).fetchone()
            gids[table, row_id] = None if found is None else str(found[0])
        return gids[table, row_id]

    out: dict[str, list[str]] = {}
    for table in COMPARED:
        names = [n for n in _columns(conn, table) if n not in LOCAL_COLUMNS]
        links = _links(conn, table)
        owner, within = ("people", people) if table == "consents" else ("cases", case_gids)
        key = {"cases": "id", "consents": "person_id"}.get(table, "case_id")
        rows = conn.execute(f"SELECT {key}, {', '.join(names)} FROM {table}").fetchall()
        seen: list[str] = []
        for row in rows:
            if gid(owner, int(row[0])) not in within:
                continue
            values = dict(zip(names, row[1:], strict=True))
            for column, parent in links.items():
                if "gid" not in _columns(conn, parent):
                    values.pop(column, None)  # a local record (the store's team of workers)
                elif values.get(column) is not None:
                    values[column] = gid(parent, int(values[column]))
            seen.append(json.dumps(values, sort_keys=True, default=str))
        out[table] = sorted(seen)
    return out


def compare(team: list[Laptop], reference: Laptop) -> tuple[str, ...]:
    """Each laptop against the reference (a manager's, which holds every case), restricted to
    the cases the laptop holds; one line per table that differs."""
    ref = reference.session.conn
    differences = []
    for laptop in team:
        conn = laptop.session.conn
        held = {str(r[0]) for r in conn.execute("SELECT gid FROM cases")}
        expected = {_gid(team[0].session.conn, c) for c in laptop.cases}
        if not expected <= held:
            differences.append(f"{laptop.name}: holds {len(held)} case(s), missing some")
        mine, theirs = snapshot(conn, held), snapshot(ref, held)
        for table in COMPARED:
            if mine[table] != theirs[table]:
                columns = sorted(
                    {
                        k
                        for a, b in zip(mine[table], theirs[table], strict=False)
                        for k, v in json.loads(a).items()
                        if json.loads(b).get(k) != v
                    }
                )
                differences.append(
                    f"{laptop.name}: {table} differs ({len(mine[table])} rows here, "
                    f"{len(theirs[table])} on {reference.name}; columns {', '.join(columns)})"
                )
    return tuple(differences)


# -- the run -------------------------------------------------------------------------------------


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def time_team(
    folder: Path,
    laptops: int = LAPTOPS,
    operations: int = OPERATIONS,
    cases_each: int = CASES_EACH,
    runs: int = RUNS,
) -> TeamBench:
    keyring = MemoryKeyring()
    team = build_team(folder, keyring, laptops, cases_each)
    try:
        offline_week(team, operations)
        reader = team[1]  # a manager's laptop, which may see every case
        assert reader.manager
        for laptop in team:
            publish_only(laptop)
        shared = folder / "shared"
        files = [p for p in (shared / "devices").rglob("*.env")]
        folder_bytes = sum(p.stat().st_size for p in files)
        me = engine.load(reader.session.conn).device.device_id
        before = int(reader.session.conn.execute("SELECT count(*) FROM operations").fetchone()[0])
        catch_up = _timed(lambda: team_service.sync(reader.session))
        after = int(reader.session.conn.execute("SELECT count(*) FROM operations").fetchone()[0])
        base = baseline(shared, me, after - before, folder)
        noop = [_timed(lambda: team_service.sync(reader.session)) * 1000 for _ in range(runs)]
        _sync_all(team, 4)  # everyone else catches up until nothing moves
        differences = compare(team, reader)
    finally:
        for laptop in team:
            if laptop.session.active:
                accounts.sign_out(laptop.session)
    return TeamBench(
        laptops=laptops,
        operations=operations,
        foreign=after - before,
        catch_up_s=catch_up,
        baseline_s=base,
        noop_ms=tuple(noop),
        folder_bytes=folder_bytes,
        envelopes=len(files),
        identical=not differences,
        differences=differences,
    )


def format_team(result: TeamBench) -> list[str]:
    ratio = result.catch_up_s / max(result.baseline_s, 1e-9)
    verdict = "PASS" if result.identical else "FAIL"
    lines = [
        f"Team of {result.laptops} laptops, {result.operations} operations each, through a "
        "shared folder",
        f"  catch-up, {result.foreign:,} foreign operations   {result.catch_up_s:8.3f} s   "
        f"goal <= {CATCH_UP_GOAL_S:.0f} s",
        f"    plain read + sqlite3 insert        {result.baseline_s:8.3f} s   (x{ratio:.1f})",
        f"  sync with nothing new            best {min(result.noop_ms):8.2f} ms   median "
        f"{statistics.median(result.noop_ms):8.2f} ms   goal <= {NOOP_GOAL_MS:.0f} ms",
        f"  envelope bytes per operation     {result.bytes_per_operation:8.1f}   "
        f"({result.folder_bytes:,} bytes in {result.envelopes:,} envelopes)",
        f"  all {result.laptops} stores identical for what each may see: {verdict}",
    ]
    lines += [f"    {d}" for d in result.differences]
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--team-operations",
        type=int,
        help=f"operations per laptop in the team benchmark (default {OPERATIONS}; --quick 50; "
        "0 skips it)",
    )


def operations_from(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--quick", action="store_true")
    add_arguments(parser)
    args, _ = parser.parse_known_args(argv)
    if args.team_operations is not None:
        return max(0, int(args.team_operations))
    return 50 if args.quick else OPERATIONS


def run_from_args(argv: list[str] | None, out: Path = OUT) -> TeamBench | None:
    """Build, time, print, save; None if skipped. A team whose stores differ fails loudly."""
    operations = operations_from(argv)
    if operations == 0:
        return None
    with tempfile.TemporaryDirectory(prefix="safecase-bench-team-") as name:
        result = time_team(Path(name), LAPTOPS, operations)
    print("\n".join(format_team(result)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    print(f"\nWrote {out}")
    if not result.identical:
        raise SystemExit("The team's stores did not end identical for what each may see.")
    return result


if __name__ == "__main__":
    run_from_args(sys.argv[1:])
