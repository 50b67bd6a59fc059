"""The PostgreSQL transport against a real private cluster: it behaves as the shared folder does,
and the server itself refuses what a device may not do.

Each test gets its own database on the session's cluster (``pg_cluster``), set up by
``init_server`` as an owner role that is not a superuser, and devices enrolled on it.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import errors as pg_errors

from app.crypto.envelopes import envelope_digest, seal_envelope
from app.crypto.team import GENESIS, DeviceKeys
from app.errors import EXIT_SIGN_IN
from app.sync.folder import FolderTransport
from app.sync.server import (
    INCOMING_SQL,
    DeviceRefused,
    PostgresTransport,
    ServerAddress,
    ServerCertificateRefused,
    ServerRightsMissing,
    ServerSignInRefused,
    init_server,
    missing_ranges,
)
from app.sync.transport import EnvelopeNumberTaken, Incoming, TransportUnavailable
from tests import pgcluster
from tests.pgcluster import Cluster, TeamServer

_numbers = itertools.count()


def _id(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def server(pg_cluster: Cluster) -> TeamServer:
    return pgcluster.team_server(pg_cluster, f"team_{next(_numbers)}", _id("team"))


def envelope(sender: str, seq: int, size: int = 300) -> bytes:
    """Synthetic opaque bytes standing in for a sealed envelope."""
    head = f"{sender}/{seq}/".encode()
    return (head * (size // len(head) + 1))[:size]


def received(got: list[Incoming]) -> dict[tuple[str, int], bytes]:
    pairs = {(item.sender, item.seq): item.data for item in got}
    assert len(pairs) == len(got), "an envelope was handed over twice"
    return pairs


# -- as the folder does ------------------------------------------------------------------------


def test_what_one_laptop_publishes_another_receives_once(server: TeamServer) -> None:
    alice, bob = _id("alice"), _id("bob")
    with server.enrol(alice) as a, server.enrol(bob) as b:
        a.publish(alice, 0, envelope(alice, 0))
        a.publish(alice, 1, envelope(alice, 1))
        got = received(list(b.incoming({})))
        assert got == {(alice, 0): envelope(alice, 0), (alice, 1): envelope(alice, 1)}
        assert list(b.incoming({alice: {0, 1}})) == []
        assert b.status().reachable and b.status().published == {alice: 2}


def test_publishing_the_same_envelope_again_changes_nothing_and_different_bytes_are_refused(
    server: TeamServer,
) -> None:
    alice, bob = _id("alice"), _id("bob")
    with server.enrol(alice) as a, server.enrol(bob) as b:
        a.publish(alice, 3, envelope(alice, 3))
        a.publish(alice, 3, envelope(alice, 3))  # a retry after a crash
        with pytest.raises(EnvelopeNumberTaken, match="team server already holds"):
            a.publish(alice, 3, envelope(alice, 3, size=301))
        assert received(list(b.incoming({}))) == {(alice, 3): envelope(alice, 3)}


def test_incoming_skips_what_is_held_and_fills_the_gaps(server: TeamServer) -> None:
    alice, bob, cara = _id("alice"), _id("bob"), _id("cara")
    with server.enrol(alice) as a, server.enrol(bob) as b, server.enrol(cara) as c:
        for seq in (0, 1, 2, 3, 5, 6, 9, 10):
            a.publish(alice, seq, envelope(alice, seq))
        for seq in (0, 1):
            b.publish(bob, seq, envelope(bob, seq))
        have = {alice: {0, 1, 3, 6, 7, 8, 10}, bob: set[int]()}
        got = received(list(c.incoming(have)))
        assert set(got) == {(alice, 2), (alice, 5), (alice, 9), (bob, 0), (bob, 1)}
        assert got[alice, 9] == envelope(alice, 9)


def test_a_laptop_up_to_date_asks_one_range_per_sender() -> None:
    senders, lows, highs = missing_ranges({"a": set(range(5000)), "b": {0, 1, 2, 7}})
    assert senders == ["a", "b", "b"]
    assert list(zip(lows, highs, strict=True))[:2] == [(5000, 2**63 - 1), (3, 6)]
    assert lows[2] == 8


def test_a_sync_with_nothing_new_reads_no_envelope_from_the_server(server: TeamServer) -> None:
    """Whatever the planner guesses, the ranges are looked up in the primary key one by one:
    never a scan of the table (with a million rows that cost a second a sync)."""
    alice, bob = _id("alice"), _id("bob")
    with server.enrol(alice) as a, server.enrol(bob) as b:
        for seq in range(50):
            a.publish(alice, seq, envelope(alice, seq))
        have = {alice: set(range(50)), bob: {0, 3}}
        senders, lows, highs = missing_ranges(have)
        params = {"senders": senders, "lows": lows, "highs": highs, "held": sorted(have)}
        with server.device_conn(bob) as conn:
            conn.execute("SET enable_indexscan = off")  # the cheapest plan is now a scan...
            conn.execute("SET enable_bitmapscan = off")
            plan = conn.execute(f"EXPLAIN {INCOMING_SQL}", params).fetchall()
        lines = "\n".join(str(r[0]) for r in plan)
        # ... yet each range is still a lookup of its own, run once per range.
        assert "Nested Loop" in lines and "Hash Join" not in lines, lines
        assert list(b.incoming(have)) == []


def test_an_unreachable_server_says_so_and_status_says_not_reachable(server: TeamServer) -> None:
    alice = _id("alice")
    server.enrol(alice).close()
    nowhere = ServerAddress(
        host="/nonexistent-safecase-socket", database=server.database, tls="disable"
    )
    lost = PostgresTransport(nowhere, alice, f"pw-{alice}")
    assert lost.status().reachable is False
    with pytest.raises(TransportUnavailable, match="cannot be reached"):
        lost.publish(alice, 1, envelope(alice, 1))


def test_a_wrong_password_is_refused_with_one_sentence(server: TeamServer) -> None:
    alice = _id("alice")
    server.enrol(alice).close()
    with pytest.raises(ServerSignInRefused, match="refused the user name or password") as err:
        PostgresTransport(server.address(), alice, "not-the-password").publish(alice, 1, b"x")
    assert err.value.exit_code == EXIT_SIGN_IN


# -- what the server refuses -------------------------------------------------------------------


def test_a_device_may_not_change_delete_or_write_as_another_device(server: TeamServer) -> None:
    alice, bob = _id("alice"), _id("bob")
    with server.enrol(alice) as a:
        a.publish(alice, 1, envelope(alice, 1))
    server.enrol(bob).close()
    with server.device_conn(bob) as conn:
        for statement, params in (
            ("UPDATE safecase.envelopes SET data = 'x'::bytea", ()),
            ("DELETE FROM safecase.envelopes", ()),
            ("TRUNCATE safecase.envelopes", ()),
            (
                "INSERT INTO safecase.envelopes (sender, seq, data) VALUES (%s, 2, 'x'::bytea)",
                (alice,),
            ),
            ("SELECT * FROM safecase.devices", ()),
            ("SELECT safecase.refuse_device(%s)", (alice,)),
            (
                "INSERT INTO safecase.orders (device, kind, data) VALUES (%s, 'order', 'x')",
                (alice,),
            ),
        ):
            with pytest.raises(pg_errors.InsufficientPrivilege):
                conn.execute(statement.encode(), params)
    with server.enrol(alice) as a:
        assert received(list(a.incoming({}))) == {(alice, 1): envelope(alice, 1)}


def test_another_teams_envelopes_are_out_of_sight(server: TeamServer) -> None:
    alice, stranger = _id("alice"), _id("stranger")
    with server.enrol(alice) as a, server.enrol(stranger, team=_id("other-team")) as s:
        a.publish(alice, 1, envelope(alice, 1))
        s.publish(stranger, 1, envelope(stranger, 1))
        assert set(received(list(a.incoming({})))) == {(alice, 1)}
        assert set(received(list(s.incoming({alice: set()})))) == {(stranger, 1)}


def _sealed(keys: DeviceKeys) -> Iterator[tuple[int, str, bytes]]:
    previous = GENESIS
    for seq, scope in enumerate(("case:gone", "case:kept", "case:gone", "register"), start=1):
        data = seal_envelope(
            b"x",
            team="t",
            sender=keys,
            seq=seq,
            previous=previous,
            scope=scope,
            key_id=f"{scope}#1",
            key=bytes(32),
        )
        previous = envelope_digest(data)
        yield seq, scope, data


def test_only_the_admins_device_compacts_and_it_deletes_only_the_purged_cases(
    server: TeamServer,
) -> None:
    admin, bob = _id("admin"), _id("bob")
    keys = DeviceKeys.generate(bob)
    with server.enrol(admin, admin=True) as a, server.enrol(bob) as b:
        for seq, _scope, data in _sealed(keys):
            b.publish(bob, seq, data)
        with pytest.raises(ServerRightsMissing, match="does not allow this laptop"):
            b.compact({"case:gone"})
        assert a.compact({"case:gone"}) == 2
        assert sorted(inc.seq for inc in b.incoming({})) == [2, 4]
        assert a.compact({"case:gone"}) == 0


def test_a_refused_device_cannot_publish_but_reads_its_order_and_writes_its_receipt(
    server: TeamServer,
) -> None:
    admin, bob = _id("admin"), _id("bob")
    with server.enrol(admin, admin=True) as a, server.enrol(bob) as b:
        b.publish(bob, 1, envelope(bob, 1))
        a.publish(admin, 1, envelope(admin, 1))
        a.refuse_device(bob)
        with pytest.raises(DeviceRefused) as refused:
            b.publish(bob, 2, envelope(bob, 2))
        assert str(refused.value) == (
            "The team server refuses this laptop: it was removed from the team."
        )
        assert list(b.incoming({})) == []  # nothing of the team any more
        a.post_order(bob, b"signed order: destroy your store")
        assert b.order_for(bob) == b"signed order: destroy your store"
        b.post_receipt(bob, b"signed receipt: destroyed")
        assert a.receipt_for(bob) == b"signed receipt: destroyed"
        # What it sent before it was refused stays for the others; nothing after.
        assert set(received(list(a.incoming({admin: {1}})))) == {(bob, 1)}
    with server.device_conn(bob) as conn, pytest.raises(psycopg.DatabaseError) as raw:
        conn.execute(
            "INSERT INTO safecase.envelopes (sender, seq, data) VALUES (%s, 3, 'x')", (bob,)
        )
    assert raw.value.sqlstate == "SC403"


def test_orders_are_carried_one_per_device_and_the_newest_counts(server: TeamServer) -> None:
    admin, bob, cara = _id("admin"), _id("bob"), _id("cara")
    with server.enrol(admin, admin=True) as a, server.enrol(bob) as b, server.enrol(cara) as c:
        assert b.order_for(bob) is None
        a.post_order(bob, b"first")
        a.post_order(bob, b"second")
        assert b.order_for(bob) == b"second"
        assert c.order_for(bob) is None  # another device's order is out of sight
        assert b.receipt_for(bob) is None
        with pytest.raises(ServerRightsMissing):
            c.post_receipt(bob, b"forged")


# -- waking up ---------------------------------------------------------------------------------


def test_a_second_laptop_wakes_when_the_first_publishes_and_not_for_its_own(
    server: TeamServer,
) -> None:
    alice, bob = _id("alice"), _id("bob")
    with server.enrol(alice) as a, server.enrol(bob) as b:
        b.listen()
        b.publish(bob, 1, envelope(bob, 1))
        assert b.wait(0.3) is False  # its own envelope does not wake it
        timer = threading.Timer(0.2, lambda: a.publish(alice, 1, envelope(alice, 1)))
        timer.start()
        try:
            assert b.wait(30) is True
        finally:
            timer.join()
        assert set(received(list(b.incoming({bob: {1}})))) == {(alice, 1)}


# -- setting the server up ---------------------------------------------------------------------


def test_init_runs_again_without_changing_anything_and_without_rights_says_so(
    server: TeamServer, pg_cluster: Cluster
) -> None:
    again = init_server(server.owner_dsn)
    assert again.made == ()
    assert "table safecase.envelopes" in again.present
    pg_cluster.sql("CREATE ROLE no_rights LOGIN PASSWORD 'no-rights-pw'")
    pg_cluster.sql("CREATE DATABASE no_rights_db")
    with pytest.raises(ServerRightsMissing, match="CREATEROLE"):
        init_server(pg_cluster.conninfo("no_rights", "no-rights-pw", "no_rights_db"))


# -- TLS ---------------------------------------------------------------------------------------


def test_over_the_network_only_the_pinned_certificate_is_trusted(pg_cluster: Cluster) -> None:
    cert, key = pgcluster.self_signed()
    try:
        tls = pgcluster.start(certificate=(cert, key))
    except pgcluster.NoPostgres as exc:
        pgcluster.skip_or_fail(str(exc))
        return
    try:
        served = pgcluster.team_server(tls, "tls_team", _id("team"))
        alice = _id("alice")
        server_address = ServerAddress(
            host="127.0.0.1", port=tls.port, database="tls_team", certificate=cert.decode()
        )
        served.enrol(alice).close()
        with PostgresTransport(server_address, alice, f"pw-{alice}") as pinned:
            pinned.publish(alice, 1, envelope(alice, 1))
            assert pinned.status().reachable
        other, _ = pgcluster.self_signed()
        impostor = ServerAddress(
            host="127.0.0.1", port=tls.port, database="tls_team", certificate=other.decode()
        )
        with (
            PostgresTransport(impostor, alice, f"pw-{alice}") as refused,
            pytest.raises(ServerCertificateRefused, match="certificate pinned for this team"),
        ):
            refused.publish(alice, 2, envelope(alice, 2))
        with pytest.raises(ValueError, match="pinned certificate"):
            ServerAddress(host="127.0.0.1", port=tls.port, database="tls_team")
    finally:
        tls.stop()


def test_a_server_address_round_trips_through_the_teams_settings() -> None:
    cert, _key = pgcluster.self_signed()
    address = ServerAddress(
        host="db.example.org", port=6432, database="team", certificate=cert.decode()
    )
    assert ServerAddress.from_json(address.to_json()) == address
    assert len(address.fingerprint.split(":")) == 32
    with pytest.raises(ValueError, match="no TLS"):
        ServerAddress(host="/run/postgresql", tls="verify-full")


def test_wait_returns_false_after_its_timeout(server: TeamServer) -> None:
    alice = _id("alice")
    with server.enrol(alice) as a:
        start = time.monotonic()
        assert a.wait(0.2) is False
        assert time.monotonic() - start < 30


def test_starting_the_app_or_the_command_line_never_loads_psycopg() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys, app.cli, app.services.team, app.sync.engine, app.sync.server; "
        "print(sorted(m for m in sys.modules if m.startswith('psycopg')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_without_postgresql_the_server_tests_skip_with_a_reason_and_fail_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("SAFECASE_PG_BIN", str(tmp_path))  # a folder with no initdb in it
    with pytest.raises(pgcluster.NoPostgres, match="No PostgreSQL binaries") as missing:
        pgcluster.start()
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="needs PostgreSQL: No PostgreSQL"):
        pgcluster.skip_or_fail(str(missing.value))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the PostgreSQL tests"):
        pgcluster.skip_or_fail(str(missing.value))


def test_the_admin_moves_the_folders_envelopes_to_the_server_without_losing_any(
    server: TeamServer, tmp_path: Path
) -> None:
    admin, bob, gone = _id("admin"), _id("bob"), _id("gone")
    folder = FolderTransport(tmp_path)
    folder.prepare()
    sent = {}
    for sender, count in ((admin, 3), (bob, 4), (gone, 2)):  # "gone" has no login any more
        for seq in range(count):
            folder.publish(sender, seq, envelope(sender, seq))
            sent[sender, seq] = envelope(sender, seq)
    with server.enrol(admin, admin=True) as a, server.enrol(bob) as b:
        b.publish(bob, 4, envelope(bob, 4))  # published to the server after the move began
        sent[bob, 4] = envelope(bob, 4)
        with pytest.raises(ServerRightsMissing):
            b.import_from(folder)
        moved = a.import_from(folder)
        assert (moved.added, moved.held, moved.different) == (9, 0, 0)
        assert received(list(b.incoming({}))) == sent
        folder.publish(bob, 5, envelope(bob, 5, size=299))
        b.publish(bob, 5, envelope(bob, 5))
        again = a.import_from(folder)
        assert (again.added, again.held, again.different) == (0, 9, 1)
        assert received(list(a.incoming({})))[bob, 5] == envelope(bob, 5)
