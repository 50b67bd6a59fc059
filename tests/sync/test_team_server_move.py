"""A folder team of three laptops moves to the PostgreSQL team server without losing anything.

Work is done offline on two laptops before the admin moves the team; the second caseworker's
laptop moves first, the first caseworker's last (its offline work reaches the folder after the
admin copied it, and it still reaches the server); a laptop that publishes to the old folder
and has not moved yet is still heard by the laptops that moved. Each laptop ends holding what
it held before plus what the others did, the conflict kept on both sides.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.crypto.device import DeviceSecrets
from app.models.records import NoteKind
from app.models.users import Role
from app.services import accounts, cases, conflicts, notes, team_server
from app.services import team as team_service
from app.services.session import Session
from app.sync import engine, moving, ops
from app.sync.folder import FolderTransport
from app.sync.server import PostgresTransport
from tests import pgcluster
from tests.helpers import (
    ADMIN,
    CASEWORKER,
    CASEWORKER2,
    MANAGER,
    TEST_KDF,
    MemoryKeyring,
    StoreCopy,
)
from tests.pgcluster import Cluster
from tests.services.casework import PASSWORDS, new_case, person, signed_in, user_id
from tests.sync.team_world import case_by_gid, give_roles, join_laptop, later
from tests.sync.test_team_journey import NUMBERS, W1_PW, W2_PW, _number

FIRST = "Qzmovefirst note before the move."
OFFLINE_W1 = "Qzmoveoffline note written by the first worker."
OFFLINE_ADMIN = "Qzmoveadmin note written by the manager."
LATE_W1 = "Qzmovelate note published to the old folder."


def _notes(laptop: Session, case_id: int) -> set[str]:
    rows = laptop.conn.execute("SELECT body FROM notes WHERE case_id = ?", (case_id,))
    return {str(r[0]) for r in rows.fetchall()}


def _device(laptop: Session) -> str:
    return engine.load(laptop.conn).device.device_id


def _note(laptop: Session, case_id: int, text: str) -> None:
    notes.add_note(laptop, case_id, NoteKind.VISIT, text, dt.datetime.now(dt.UTC))


@pytest.fixture
def folder_team(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> tuple[Session, Session, Session, str, Path]:
    """The admin's laptop (also a manager) and two caseworkers' on a shared folder, synced:
    the case, allocated to the first caseworker, on the admin's and the first worker's."""
    shared = tmp_path / "shared"
    shared.mkdir()
    with signed_in(store, ADMIN) as s:
        give_roles(s, frozenset({Role.ADMIN, Role.MANAGER}))
    admin = accounts.sign_in(
        store.path, ADMIN, PASSWORDS[ADMIN], device=DeviceSecrets(store.keyring)
    )
    admin.roles = frozenset({Role.ADMIN, Role.MANAGER})
    case_id, _client = new_case(admin, person("Qzmovegiven", "Qzmovefamily"))
    cases.open_referral(admin, case_id, admin.today())
    cases.allocate(admin, case_id, user_id(admin, CASEWORKER))
    _number(admin, case_id, NUMBERS[0])
    _note(admin, case_id, FIRST)
    team_service.create_team(admin, shared)
    laptops = tmp_path / "laptops"
    w1 = join_laptop(admin, CASEWORKER, laptops, keyring, W1_PW)
    w2 = join_laptop(admin, CASEWORKER2, laptops, keyring, W2_PW)
    for laptop in (admin, w1, w2, admin, w1, w2):
        team_service.sync(laptop)
    gid = ops.gid_of(admin.conn, "cases", case_id)
    assert gid is not None
    return admin, w1, w2, gid, shared


def test_a_folder_team_moves_to_the_server_and_nothing_done_offline_is_lost(
    folder_team: tuple[Session, Session, Session, str, Path], pg_cluster: Cluster
) -> None:
    admin, w1, w2, gid, shared = folder_team
    server = pgcluster.team_server(pg_cluster, "moving", "unused")
    admin_case, w1_case = case_by_gid(admin.conn, gid), case_by_gid(w1.conn, gid)
    assert admin_case is not None and w1_case is not None
    try:
        # Offline on both sides: a note each, and the safe number set to two values.
        later(w1, 5)
        _note(w1, w1_case, OFFLINE_W1)
        _number(w1, w1_case, NUMBERS[1])
        later(admin, 6)
        _note(admin, admin_case, OFFLINE_ADMIN)
        _number(admin, admin_case, NUMBERS[2])
        before = {id(admin): _notes(admin, admin_case), id(w1): _notes(w1, w1_case)}
        assert OFFLINE_W1 not in before[id(admin)] and OFFLINE_ADMIN not in before[id(w1)]

        moved = team_server.move_to_server(admin, server.address(), server.owner_dsn)
        assert moved.devices == 3 and moved.copied > 0 and moved.different == 0
        assert team_service.status(admin).server

        # The second worker's laptop moves first; the first worker's last: its offline
        # work reaches the folder only now, after the admin's copy, and still reaches the
        # server.
        for laptop in (w2, w1, admin, w2, w1, admin):
            team_service.sync(laptop)
        for laptop in (admin, w1, w2):
            setting = moving.server_setting(laptop.conn)
            assert setting is not None and setting.state == moving.MOVED
            assert team_service.status(laptop).server
            assert "team server reachable" in team_service.status(laptop).line()

        # Each laptop holds what it held before plus what the other did offline.
        assert _notes(admin, admin_case) == before[id(admin)] | {OFFLINE_W1}
        assert _notes(w1, w1_case) == before[id(w1)] | {OFFLINE_ADMIN}
        assert case_by_gid(w2.conn, gid) is None  # never allocated to the second worker
        # The two numbers set offline are a conflict on both laptops, both values kept.
        for laptop, here in ((admin, admin_case), (w1, w1_case)):
            [held] = [c for c in conflicts.on_case(laptop, here) if c.open]
            assert sorted(str(c.value) for c in held.candidates) == [NUMBERS[1], NUMBERS[2]]

        # Every envelope any laptop published to the folder is on the server too.
        folder_counts = FolderTransport(str(shared)).status().published
        admin_setting = moving.server_setting(admin.conn)
        assert admin_setting is not None
        login = admin_setting.password
        with PostgresTransport(server.address(), _device(admin), login) as transport:
            server_counts = transport.status().published
        for sender, count in folder_counts.items():
            assert server_counts.get(sender, 0) >= count, sender
        assert set(server_counts) == {_device(admin), _device(w1), _device(w2)}
    finally:
        for laptop in (admin, w1, w2):
            if laptop.active:
                accounts.sign_out(laptop)


def test_what_a_laptop_not_yet_moved_publishes_to_the_old_folder_still_arrives(
    folder_team: tuple[Session, Session, Session, str, Path],
    pg_cluster: Cluster,
    keyring: MemoryKeyring,
    tmp_path: Path,
) -> None:
    admin, w1, w2, gid, shared = folder_team
    server = pgcluster.team_server(pg_cluster, "late", "unused")
    admin_case, w1_case = case_by_gid(admin.conn, gid), case_by_gid(w1.conn, gid)
    assert admin_case is not None and w1_case is not None
    try:
        # An invitation made on the folder and not used before the move is withdrawn: it
        # carries no server login. Its request, answered later, adds no device.
        invitation = tmp_path / "mina.invitation"
        passphrase = team_service.invite(admin, MANAGER, invitation, params=TEST_KDF)
        moved = team_server.move_to_server(admin, server.address(), server.owner_dsn)
        assert moved.withdrawn == 1
        mina = team_service.join(
            invitation,
            passphrase,
            tmp_path / "mina.safecase",
            "copper-willow-fjord-83-new",
            device=DeviceSecrets(keyring),
            kdf=TEST_KDF,
        )[0]
        accounts.sign_out(mina)
        # The first worker's laptop writes a note and publishes it to the old folder (as a
        # sync through the folder that stops before it moves: the server never gets it).
        later(w1, 5)
        _note(w1, w1_case, LATE_W1)
        engine.sync(w1.conn, w1.user_id, w1.now(), FolderTransport(str(shared)))
        # The admin's laptop, on the server, reads the old folder too.
        team_service.sync(admin)
        assert LATE_W1 in _notes(admin, admin_case)
        assert len(team_service.devices(admin)) == 3
        assert any("answers no invitation" in s for _, s in team_service.sync_log(admin))
        # The first worker's laptop then moves, and a laptop that reads only the server
        # (the second worker's, once its old folder is gone) finds the note's envelope there.
        team_service.sync(w1)
        setting = moving.server_setting(w1.conn)
        assert setting is not None and setting.state == moving.MOVED
        w1_device = _device(w1)
        sent = FolderTransport(str(shared)).status().published[w1_device]
        with PostgresTransport(server.address(), w1_device, setting.password) as transport:
            assert transport.status().published[w1_device] >= sent
    finally:
        for laptop in (admin, w1, w2):
            if laptop.active:
                accounts.sign_out(laptop)
