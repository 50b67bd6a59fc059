"""The team's audit trail, several laptops in one process: each device's entries reach the
managers' and the DPO's laptops (never a caseworker's), and a laptop whose trail was rewritten,
cut short or rolled back is named by ``safecase audit verify --team`` on the DPO's laptop."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.crypto import anchor
from app.crypto import vault as vaultlib
from app.crypto.connection import Connection
from app.crypto.device import DeviceSecrets
from app.errors import EXIT_DAMAGED, EXIT_OK
from app.models import audit as audit_model
from app.models.users import Role
from app.services import accounts, audit
from app.services import team as team_service
from app.services.session import Session
from app.sync import engine
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER2,
    DPO,
    DPO_PW,
    MemoryKeyring,
    StoreCopy,
)
from tests.services.casework import signed_in
from tests.sync.team_world import give_roles, join_laptop
from tests.test_cli import Result, cli

COLE_PW, CARA_PW, DORA_PW = "harbor-meadow-violet-61", "quarry-linen-falcon-27", "ochre-tide-58x"


@dataclass
class Team:
    admin: Session
    dora: Session
    cole: Session
    cara: Session
    keyring: MemoryKeyring
    passwords: dict[str, str]

    def laptops(self) -> list[Session]:
        return [self.admin, self.dora, self.cole, self.cara]

    def sync_all(self, rounds: int = 2) -> None:
        for _ in range(rounds):
            for laptop in self.laptops():
                team_service.sync(laptop)

    def again(self, session: Session) -> Session:
        """Sign out and in again (two entries in the laptop's trail)."""
        path, name = session.vault.path, session.username
        accounts.sign_out(session)
        return accounts.sign_in(
            path, name, self.passwords[name], device=DeviceSecrets(self.keyring)
        )

    def verify_on_dora(self) -> Result:
        """``safecase audit verify --team`` on the DPO's laptop, signed out first."""
        path = self.dora.vault.path
        accounts.sign_out(self.dora)
        try:
            return cli(
                ["audit", "verify", "--team", "--store", str(path), "--user", DPO],
                f"{DORA_PW}\n",
                self.keyring,
            )
        finally:
            self.dora = accounts.sign_in(path, DPO, DORA_PW, device=DeviceSecrets(self.keyring))


@contextlib.contextmanager
def team_of(store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path) -> Iterator[Team]:
    """The admin's laptop (an admin who also manages), the DPO's and two caseworkers', synced
    twice round; every laptop signed out at the end."""
    shared, laptops = tmp_path / "shared", tmp_path / "laptops"
    shared.mkdir()
    with signed_in(store, ADMIN) as s:
        give_roles(s, frozenset({Role.ADMIN, Role.MANAGER}))
    admin = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(keyring))
    team_service.create_team(admin, shared)
    world = Team(
        admin,
        join_laptop(admin, DPO, laptops, keyring, DORA_PW),
        join_laptop(admin, CASEWORKER, laptops, keyring, COLE_PW),
        join_laptop(admin, CASEWORKER2, laptops, keyring, CARA_PW),
        keyring,
        {ADMIN: ADMIN_PW, DPO: DORA_PW, CASEWORKER: COLE_PW, CASEWORKER2: CARA_PW},
    )
    try:
        world.sync_all()
        yield world
    finally:
        for laptop in world.laptops():
            if laptop.active:
                accounts.sign_out(laptop)


@pytest.fixture
def team(store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path) -> Iterator[Team]:
    with team_of(store, keyring, tmp_path) as world:
        yield world


def device(session: Session) -> str:
    return engine.load(session.conn).device.device_id


def cole_entries(world: Team, on: Session) -> list[audit.TeamEntry]:
    return audit.team_trail(on, device(world.cole))


def test_a_caseworkers_entries_reach_the_dpo_and_the_manager_with_device_and_user(
    team: Team,
) -> None:
    team.cole = team.again(team.cole)
    own = audit_model.entries(team.cole.conn)
    team.sync_all()

    for reader in (team.dora, team.admin):
        seen = cole_entries(team, reader)
        assert {e.username for e in seen} >= {CASEWORKER}
        assert {e.action for e in seen} >= {audit.SIGN_IN, audit.SIGN_OUT}
        assert all(e.device == device(team.cole) and not e.own for e in seen)
        # Every entry as it was written, under its own number in the device's chain.
        assert {(e.position, e.action) for e in seen} >= {(x.id, x.action) for x in own}
    # The DPO's whole trail holds their own entries beside the caseworker's.
    everyone = {e.device for e in audit.team_trail(team.dora)}
    assert {device(team.dora), device(team.cole)} <= everyone

    result = team.verify_on_dora()
    assert result.code == EXIT_OK, result.err
    assert "the audit trail is intact" in result.out
    assert "each continues what it sent before" in result.out


def test_a_caseworkers_laptop_holds_no_one_elses_entries(team: Team) -> None:
    team.cole = team.again(team.cole)
    team.sync_all()

    assert audit.team_trail(team.admin, device(team.cole))  # it did travel
    cara_held = team.cara.conn.execute("SELECT count(*) FROM team_audit").fetchone()[0]
    cara_keys = team.cara.conn.execute(
        "SELECT count(*) FROM team_keys WHERE scope LIKE 'audit:%' AND scope != ?",
        (f"audit:{device(team.cara)}",),
    ).fetchone()[0]
    assert (cara_held, cara_keys) == (0, 0)


def named(result: Result, world: Team) -> None:
    assert result.code == EXIT_DAMAGED, result.out
    assert (
        f"Laptop {device(world.cole)} ({CASEWORKER}): its audit trail was rewritten, cut short "
        "or rolled back." in result.err
    )
    assert device(world.dora) not in result.err and device(world.admin) not in result.err


def _rebuild_chain(conn: Connection, kept: list[audit_model.Entry]) -> None:
    """What an insider holding the data key does: the chain and its head built again."""
    conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    conn.execute("DELETE FROM audit")
    prev = audit_model.GENESIS
    for e in kept:
        digest = audit_model.entry_hash(e.id, e.at, e.user_id, e.action, e.record, e.detail, prev)
        conn.execute(
            "INSERT INTO audit (id, at, user_id, action, record, detail, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (e.id, e.at, e.user_id, e.action, e.record, e.detail, prev, digest),
        )
        prev = digest
    conn.execute(
        "UPDATE settings SET value = ? WHERE key = ?",
        (f"{len(kept)}:{prev}", audit_model.HEAD_KEY),
    )


def cut_sent_tail(conn: Connection) -> None:
    """Remove the newest three entries the team has seen, and what came after them."""
    from app.sync import audit_travel  # new in this change: the tests fail one by one without it

    sent, _ = audit_travel.sent(conn)
    _rebuild_chain(conn, list(audit_model.walk(conn))[: sent - 3])


def insider(world: Team, change: Callable[[Connection], None]) -> None:
    """Sign the caseworker out, change their store with the data key, and sign in again (the
    record beside the store rewritten to match, as an insider would)."""
    path = world.cole.vault.path
    accounts.sign_out(world.cole)
    v = vaultlib.open_with_password(path, CASEWORKER, COLE_PW, device=DeviceSecrets(world.keyring))
    change(v.conn)
    count, head = audit_model.head(v.conn)
    v.close()
    anchor.reset(path, count, head)
    world.cole = accounts.sign_in(path, CASEWORKER, COLE_PW, device=DeviceSecrets(world.keyring))


def test_a_rewritten_trail_is_named_on_the_dpos_laptop(team: Team) -> None:
    team.cole = team.again(team.cole)
    team.sync_all()

    def rewrite(conn: Connection) -> None:
        entries = list(audit_model.walk(conn))
        target = next(e for e in entries if e.action == audit.SIGN_IN)
        forged = [
            audit_model.Entry(e.id, e.at, e.user_id, e.action, e.record, "forged", "", "")
            if e.id == target.id
            else e
            for e in entries
        ]
        _rebuild_chain(conn, forged)

    insider(team, rewrite)
    team.sync_all()

    named(team.verify_on_dora(), team)


def test_a_trail_cut_short_is_named_on_the_dpos_laptop(team: Team) -> None:
    team.cole = team.again(team.cole)
    team.sync_all()

    insider(team, cut_sent_tail)
    team.sync_all()

    result = team.verify_on_dora()
    named(result, team)
    assert "now ends at entry" in result.err


def test_a_store_put_back_to_an_older_copy_is_named_on_the_dpos_laptop(
    team: Team, tmp_path: Path
) -> None:
    path = team.cole.vault.path
    accounts.sign_out(team.cole)
    older = tmp_path / "older.safecase"
    shutil.copyfile(path, older)
    team.cole = accounts.sign_in(path, CASEWORKER, COLE_PW, device=DeviceSecrets(team.keyring))
    team.cole = team.again(team.cole)
    team.sync_all()  # what it did after the copy reaches the DPO
    accounts.sign_out(team.cole)
    shutil.copyfile(older, path)
    anchor.forget(path)  # the insider puts back the record beside the store too
    team.cole = accounts.sign_in(path, CASEWORKER, COLE_PW, device=DeviceSecrets(team.keyring))

    team.sync_all()

    result = team.verify_on_dora()
    named(result, team)
    # The laptop put back syncs again (its envelopes go on after the newest it had sent).
    assert any("older copy was put back" in line for _, line in engine.sync_log(team.cole.conn))


def test_verify_team_on_a_laptop_on_its_own_checks_its_own_trail(store: StoreCopy) -> None:
    result = cli(
        ["audit", "verify", "--team", "--store", str(store.path), "--user", DPO],
        f"{DPO_PW}\n",
        store.keyring,
    )

    assert result.code == EXIT_OK, result.err
    assert "This laptop is not in a team: its own trail was checked, and no other." in result.out
