"""The 3-laptop journey of tests/sync/test_team_journey.py through the PostgreSQL team server,
then a scan of the server: every table dumped (pg_dump and SELECT) and every file of the
cluster's data folder read raw after a checkpoint find none of the journey's names, address,
numbers or note texts.

The team starts as the folder journey does (create, invite, join); its folder is then taken
away before anyone joins, so every envelope, the enrolment requests included, travels through
the server: each laptop syncs with ``engine.sync`` and its own ``PostgresTransport`` (the
services' wiring to a server is not part of this test).
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import subprocess
from pathlib import Path

import psycopg

from app.models import cases as case_model
from app.models.records import NoteKind
from app.models.users import Role
from app.services import accounts, cases, conflicts, notes
from app.services import team as team_service
from app.services.session import Session
from app.sync import engine, ops
from tests import pgcluster
from tests.helpers import ADMIN, CASEWORKER, CASEWORKER2, MemoryKeyring, StoreCopy
from tests.pgcluster import Cluster
from tests.services.casework import new_case, person, signed_in, user_id
from tests.sync.team_world import case_by_gid, give_roles, join_laptop, later
from tests.sync.test_team_journey import NUMBERS, W1_PW, W2_PW, _number, _shown_number

GIVEN, FAMILY = "Qzservergiven", "Qzserverfamily"
ADDRESS, POSTCODE = "14 Qzlarkspur Terrace", "QZ9 4XY"
FIRST_NOTE = "Qzserverfirstnote before the team."
OFFLINE_NOTE = "Qzserverofflinenote written in the field."
SENTINELS = (GIVEN, FAMILY, "Qzlarkspur", "QZ9 4XY", "Qzserverfirstnote", "Qzserverofflinenote")


def _device(session: Session) -> str:
    return engine.load(session.conn).device.device_id


def _found_in(blob: bytes, words: tuple[str, ...]) -> set[str]:
    """Which words ``blob`` holds, as UTF-8 text or as the hex pg_dump writes bytea in."""
    lower = blob.lower()
    return {w for w in words if w.encode().lower() in lower or w.encode().hex().encode() in lower}


def scan_server(cluster: Cluster, database: str, words: tuple[str, ...]) -> dict[str, set[str]]:
    """Where any of ``words`` is on the server: pg_dump's output, every row of every table, and
    every file of the data folder (after a checkpoint, so the tables' pages are written)."""
    found: dict[str, set[str]] = {}
    dump = subprocess.run(
        [
            str(cluster.bin / "pg_dump"),
            "--host",
            str(cluster.folder),
            "--port",
            str(cluster.port),
            "--username",
            pgcluster.SUPERUSER,
            "--dbname",
            database,
        ],
        capture_output=True,
        check=True,
    ).stdout
    assert b"COPY safecase.envelopes" in dump and len(dump) > 10_000
    if hit := _found_in(dump, words):
        found["pg_dump"] = hit
    with psycopg.connect(cluster.owner_conninfo(database), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        assert ("safecase", "envelopes") in tables
        for schema, table in tables:
            for row in conn.execute(f'SELECT * FROM "{schema}"."{table}"'):
                for value in row:
                    raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value)
                    blob = raw if isinstance(raw, bytes) else raw.encode()
                    if hit := _found_in(blob, words):
                        found.setdefault(f"{schema}.{table}", set()).update(hit)
        conn.execute("CHECKPOINT")
    files = 0
    for path in cluster.data.rglob("*"):
        if path.is_file():
            files += 1
            if hit := _found_in(path.read_bytes(), words):
                found.setdefault(str(path.relative_to(cluster.data)), set()).update(hit)
    assert files > 100
    return found


def test_three_laptops_through_the_server_and_the_server_never_sees_the_records(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path, pg_cluster: Cluster
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    laptops = tmp_path / "laptops"
    with signed_in(store, ADMIN) as s:
        give_roles(s, frozenset({Role.ADMIN, Role.MANAGER}))
    with signed_in(store, ADMIN) as admin:
        admin.roles = frozenset({Role.ADMIN, Role.MANAGER})
        case_id, _client = new_case(
            admin, person(GIVEN, FAMILY, address=ADDRESS, postcode=POSTCODE)
        )
        cases.open_referral(admin, case_id, admin.today())
        cole, cara = user_id(admin, CASEWORKER), user_id(admin, CASEWORKER2)
        cases.allocate(admin, case_id, cole)
        _number(admin, case_id, NUMBERS[0])
        notes.add_note(admin, case_id, NoteKind.CALL, FIRST_NOTE, dt.datetime.now(dt.UTC))
        case_gid = ops.gid_of(admin.conn, "cases", case_id)
        assert case_gid is not None

        team_id = team_service.create_team(admin, shared)
        shutil.rmtree(shared / "devices")  # from here on, only the server carries envelopes
        w1 = join_laptop(admin, CASEWORKER, laptops, keyring, W1_PW)
        w2 = join_laptop(admin, CASEWORKER2, laptops, keyring, W2_PW)
        server = pgcluster.team_server(pg_cluster, "journey", team_id)
        transports = {
            id(laptop): server.enrol(_device(laptop), admin=laptop is admin)
            for laptop in (admin, w1, w2)
        }

        def sync(*order: Session) -> None:
            for laptop in order:
                engine.sync(laptop.conn, laptop.user_id, laptop.now(), transports[id(laptop)])

        try:
            sync(admin, w1, w2, admin, w1, w2)
            w1_case = case_by_gid(w1.conn, case_gid)
            assert w1_case is not None and case_by_gid(w2.conn, case_gid) is None
            assert len(team_service.devices(admin)) == 3

            # The first worker, offline, adds a note and changes the safe number; meanwhile
            # the manager re-allocates the case and changes the number too.
            later(w1, 5)
            notes.add_note(w1, w1_case, NoteKind.VISIT, OFFLINE_NOTE, dt.datetime.now(dt.UTC))
            _number(w1, w1_case, NUMBERS[1])
            later(admin, 6)
            cases.allocate(admin, case_id, cara)
            _number(admin, case_id, NUMBERS[2])

            sync(w1, admin, w2, w1, admin, w2, w1)
            w2_case = case_by_gid(w2.conn, case_gid)
            assert w2_case is not None
            for laptop, here in ((admin, case_id), (w2, w2_case)):
                [held] = [c for c in conflicts.on_case(laptop, here) if c.open]
                assert sorted(str(c.value) for c in held.candidates) == [NUMBERS[1], NUMBERS[2]]
                bodies = {
                    str(r[0])
                    for r in laptop.conn.execute(
                        "SELECT body FROM notes WHERE case_id = ?", (here,)
                    ).fetchall()
                }
                assert OFFLINE_NOTE in bodies and FIRST_NOTE in bodies
            contact = case_model.client_id(w2.conn, w2_case)
            assert contact is not None

            [held] = [c for c in conflicts.on_case(admin, case_id) if c.open]
            chosen = next(c for c in held.candidates if c.value == NUMBERS[1])
            conflicts.resolve(admin, held.id, chosen.op_id)
            sync(admin, w2)
            assert [c for c in conflicts.on_case(w2, w2_case) if c.open] == []
            assert _shown_number(w2, w2_case) == NUMBERS[1]
            # The first worker's laptop no longer holds the case.
            assert case_by_gid(w1.conn, case_gid) is None
            # Every envelope went through the server, none through the folder.
            assert not (shared / "devices").exists()
            counts = transports[id(admin)].status().published
            assert set(counts) == {_device(laptop) for laptop in (admin, w1, w2)}
        finally:
            for transport in transports.values():
                transport.close()
            for laptop in (w1, w2):
                if laptop.active:
                    accounts.sign_out(laptop)

    numbers = tuple(itertools.chain(NUMBERS, SENTINELS))
    assert scan_server(pg_cluster, "journey", numbers) == {}


def test_the_scan_finds_plaintext_wherever_the_server_keeps_it(pg_cluster: Cluster) -> None:
    server = pgcluster.team_server(pg_cluster, "scanned", "team-scan")
    with psycopg.connect(server.owner_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO safecase.envelopes (team, sender, seq, data) VALUES (%s, %s, 1, %s)",
            ("team-scan", "dev-scan", f"left in clear: {GIVEN}".encode()),
        )
    found = scan_server(pg_cluster, "scanned", (GIVEN, FAMILY))
    assert found["pg_dump"] == {GIVEN}
    assert found["safecase.envelopes"] == {GIVEN}
    assert any(place.startswith("base/") for place in found)
