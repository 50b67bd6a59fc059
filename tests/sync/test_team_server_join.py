"""A team that starts on its PostgreSQL server: created there, a new laptop joins through an
invitation that carries the server and the laptop's own login, the status line names the
server, and the command line creates a team on a server and moves a folder team to one; a
server over the network is pinned to the certificate given, and only an admin's device may move
a laptop to a server."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import psycopg
import pytest

from app.crypto.invitation import EnrolmentRefused, make_enrolment_request, read_invitation
from app.crypto.team import DeviceKeys
from app.errors import EXIT_OK, EXIT_USAGE, InvalidInput
from app.models.db import transaction
from app.models.users import Role
from app.services import accounts, cases, team_server
from app.services import team as team_service
from app.sync import engine, moving, ops
from app.sync.server import (
    REFUSED_STATE,
    BadServerAddress,
    DeviceRefused,
    PostgresTransport,
    ServerAddress,
)
from tests import pgcluster
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    TEST_KDF,
    MemoryKeyring,
    StoreCopy,
)
from tests.pgcluster import Cluster
from tests.services.casework import new_case, person, signed_in, user_id
from tests.sync.team_world import case_by_gid, give_roles, join_laptop
from tests.sync.test_server import envelope
from tests.sync.test_team_journey import W1_PW
from tests.test_cli import cli


def test_a_new_laptop_joins_a_team_on_the_server_through_its_invitation(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path, pg_cluster: Cluster
) -> None:
    server = pgcluster.team_server(pg_cluster, "joining", "unused")
    with signed_in(store, ADMIN) as s:
        give_roles(s, frozenset({Role.ADMIN, Role.MANAGER}))
    with signed_in(store, ADMIN) as admin:
        admin.roles = frozenset({Role.ADMIN, Role.MANAGER})
        case_id, _client = new_case(admin, person("Qzjoingiven", "Qzjoinfamily"))
        cases.open_referral(admin, case_id, admin.today())
        cases.allocate(admin, case_id, user_id(admin, CASEWORKER))
        gid = ops.gid_of(admin.conn, "cases", case_id)
        team_server.create_on_server(admin, server.address(), server.owner_dsn)
        assert team_service.status(admin).server
        w1 = join_laptop(admin, CASEWORKER, tmp_path / "laptops", keyring, W1_PW)
        try:
            # No folder anywhere: the request and the case travel through the server.
            setting = moving.server_setting(w1.conn)
            assert setting is not None and setting.state == moving.MOVED
            assert setting.address == server.address()
            for laptop in (admin, w1, admin, w1):
                team_service.sync(laptop)
            assert gid is not None and case_by_gid(w1.conn, gid) is not None
            assert len(team_service.devices(admin)) == 2
            status = team_service.status(w1)
            assert status.server and status.reachable
            assert "team server reachable" in status.line()
            # The laptop's login is its own: its device id, its password in its store only.
            w1_device = engine.load(w1.conn).device.device_id
            login = pg_cluster.conninfo(f"sc_{w1_device}", setting.password, "joining")
            with psycopg.connect(login) as conn:
                assert conn.execute("SELECT safecase.my_device()").fetchone() == (w1_device,)
            # The admin revokes the laptop: the server refuses it from then on, whatever it
            # tries to send.
            team_service.revoke(admin, w1_device)
            with psycopg.connect(login, autocommit=True) as conn:
                with pytest.raises(psycopg.Error) as refused:
                    conn.execute(
                        "INSERT INTO safecase.envelopes (sender, seq, data) VALUES (%s, 99, %s)",
                        (w1_device, b"sealed"),
                    )
                assert refused.value.sqlstate == REFUSED_STATE
            with PostgresTransport(server.address(), w1_device, setting.password) as as_w1:
                with pytest.raises(DeviceRefused, match="removed from the team"):
                    as_w1.publish(w1_device, 99, envelope(w1_device, 99))
                assert as_w1.order_for(w1_device) is not None  # its order to destroy its store
            # A server that cannot be reached is said so on the status line.
            gone = dataclasses.replace(server.address(), host=str(tmp_path / "no-server"))
            with transaction(w1.conn):
                moving.set_server(w1.conn, gone, setting.password, moving.MOVED, "", None)
            status = team_service.status(w1)
            assert not status.reachable and "team server not reachable" in status.line()
        finally:
            if w1.active:
                accounts.sign_out(w1)


def test_the_admins_desk_accepts_the_invited_device_only(
    store: StoreCopy, tmp_path: Path, pg_cluster: Cluster
) -> None:
    server = pgcluster.team_server(pg_cluster, "desk", "unused")
    with signed_in(store, ADMIN) as admin:
        team_server.create_on_server(admin, server.address(), server.owner_dsn)
        out = tmp_path / "cole.invitation"
        passphrase = team_service.invite(admin, CASEWORKER, out, params=TEST_KDF)
        now = dt.datetime.now(dt.UTC)
        invitation = read_invitation(out.read_bytes(), passphrase, now)
        carried = json.loads(invitation.transport)
        assert invitation.device == carried["device"]
        assert carried["server"]["address"] == server.address().to_json()
        assert carried["server"]["password"] not in out.read_bytes().decode("latin-1")
        desk = engine.load(admin.conn).desk
        other = make_enrolment_request(invitation, DeviceKeys.generate("another-device"), now)
        with pytest.raises(EnrolmentRefused, match="another device"):
            desk.accept(other, now)
        chosen = make_enrolment_request(invitation, DeviceKeys.generate(carried["device"]), now)
        assert desk.accept(chosen, now).id == carried["device"]


def test_the_command_line_creates_a_team_on_a_server_and_moves_a_folder_team(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path, pg_cluster: Cluster
) -> None:
    server = pgcluster.team_server(pg_cluster, "cli_move", "unused")
    address = f"host={pg_cluster.folder} port={pg_cluster.port} dbname=cli_move"
    me = ["--store", str(store.path), "--user", ADMIN]
    shared = tmp_path / "shared"
    shared.mkdir()
    made = cli(["team", "create", *me, "--folder", str(shared)], f"{ADMIN_PW}\n", keyring)
    assert made.code == EXIT_OK, made.err
    # Over the network the certificate is needed, before any password is read.
    remote = ["--server", "host=db.example.org dbname=x", "--admin-dsn", server.owner_dsn]
    no_cert = cli(["team", "move-to-server", *me, *remote], "", keyring)
    assert no_cert.code == EXIT_USAGE and "--cert" in no_cert.err
    moved = cli(
        ["team", "move-to-server", *me, "--server", address, "--admin-dsn", server.owner_dsn],
        f"{ADMIN_PW}\n",
        keyring,
    )
    assert moved.code == EXIT_OK, moved.err
    assert moved.out.startswith("The team now syncs through the team server")
    assert pgcluster.OWNER_PASSWORD not in moved.out + moved.err
    status = cli(["team", "status", *me], f"{ADMIN_PW}\n", keyring)
    assert status.code == EXIT_OK and "team server reachable" in status.out
    again = cli(
        ["team", "move-to-server", *me, "--server", address, "--admin-dsn", server.owner_dsn],
        f"{ADMIN_PW}\n",
        keyring,
    )
    assert again.code != EXIT_OK and "already" in again.err


def test_the_command_line_starts_a_team_on_a_server(
    store: StoreCopy, keyring: MemoryKeyring, pg_cluster: Cluster
) -> None:
    server = pgcluster.team_server(pg_cluster, "cli_create", "unused")
    address = f"postgresql:///cli_create?host={pg_cluster.folder}&port={pg_cluster.port}"
    me = ["--store", str(store.path), "--user", ADMIN]
    made = cli(
        ["team", "create", *me, "--server", address, "--admin-dsn", server.owner_dsn],
        f"{ADMIN_PW}\n",
        keyring,
    )
    assert made.code == EXIT_OK, made.err
    assert "sync through the team server" in made.out
    synced = cli(["team", "sync", *me], f"{ADMIN_PW}\n", keyring)
    assert synced.code == EXIT_OK, synced.err


def test_a_server_over_the_network_is_pinned_to_the_certificate_given(tmp_path: Path) -> None:
    cert, _key = pgcluster.self_signed()
    pem = tmp_path / "server.pem"
    pem.write_bytes(cert)
    address = team_server.parse_address("postgresql://someone:secret@127.0.0.1:5433/team", pem)
    assert (address.host, address.port, address.database) == ("127.0.0.1", 5433, "team")
    assert address.tls == "verify-full" and address.certificate == cert.decode()
    assert "secret" not in json.dumps(address.to_json())
    with pytest.raises(team_server.CertificateNeeded):
        team_server.parse_address("host=127.0.0.1 dbname=team")
    not_pem = tmp_path / "notes.txt"
    not_pem.write_text("not a certificate")
    with pytest.raises(InvalidInput, match="not a PEM certificate"):
        team_server.parse_address("host=127.0.0.1 dbname=team", not_pem)
    with pytest.raises(BadServerAddress):
        team_server.parse_address("host=127.0.0.1 dbname=x =oops")


def test_a_notice_to_move_from_a_device_not_an_admins_is_ignored(
    store: StoreCopy, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    with signed_in(store, ADMIN) as admin:
        team_service.create_team(admin, shared)
        directory = engine.load(admin.conn).directory
        address = ServerAddress(host=str(tmp_path), tls="disable")
        body = moving.notice(address, "a-password")
        with transaction(admin.conn):
            said = moving.take_notice(admin.conn, directory, "not-a-device", "", body, "now")
        assert said is not None and "not an admin's" in said
        assert moving.server_setting(admin.conn) is None
        assert team_service.status(admin).line().endswith("shared folder reachable")
