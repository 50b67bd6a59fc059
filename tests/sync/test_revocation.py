"""Revocation and the lost laptop, several laptops in one process (separate stores, a tmp folder).

The admin's laptop (its user also a manager) makes the team with a case allocated to the
caseworker Cole; Cole, Cara (a caseworker) and Mina (a manager) join. Cole's laptop is the one
lost. A laptop that ignores its order (someone holding its keys) is played by syncing its store
through the engine directly, without the service's first step that reads the order.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.crypto.device import ACCOUNT, SERVICE
from app.crypto.envelopes import envelope_scope
from app.crypto.team import DeviceKeys, seal_key, sign_directory
from app.errors import SafecaseError
from app.models.db import transaction
from app.models.records import NoteKind
from app.models.users import Role
from app.services import accounts, cases, notes
from app.services import team as team_service
from app.services.session import Session
from app.sync import engine, ops
from app.sync.folder import FolderTransport, parse_name, unframe
from tests.helpers import (
    ADMIN,
    CASEWORKER,
    CASEWORKER2,
    MANAGER,
    MemoryKeyring,
    StoreCopy,
)
from tests.services.casework import new_case, person, signed_in, user_id
from tests.sync.team_world import case_by_gid, give_roles, join_laptop

GIVEN, FAMILY = "Qzrevokegiven", "Qzrevokefamily"
FIRST_NOTE = "Qzrevokefirst note before the laptop was lost."
LATE_NOTE = "Qzrevokelate note signed after the revocation."
EARLY_NOTE = "Qzrevokeearly note read before the news came."
PASSWORDS = {
    CASEWORKER: "birch-canyon-ember-58",
    CASEWORKER2: "saffron-glacier-quill-36",
    MANAGER: "hollow-meadow-copper-91",
}
DESTROYED = "This laptop was removed from the team; its records have been destroyed."


@dataclass
class World:
    admin: Session
    cole: Session
    cara: Session
    mina: Session
    shared: Path
    case_id: int
    case_gid: str
    cole_keyring: MemoryKeyring

    @property
    def scope(self) -> str:
        return f"case:{self.case_gid}"

    @property
    def laptops(self) -> tuple[Session, ...]:
        return (self.admin, self.cole, self.cara, self.mina)


def device_of(session: Session) -> str:
    return engine.load(session.conn).device.device_id


def sync_all(world: World, rounds: int = 2) -> None:
    for _ in range(rounds):
        for laptop in world.laptops:
            if laptop.active:
                team_service.sync(laptop)


def rogue_sync(session: Session, shared: Path) -> None:
    """A sync by someone holding the laptop's keys who ignores its order."""
    engine.sync(session.conn, session.user_id, session.now(), FolderTransport(shared))


def note_bodies(session: Session) -> list[str]:
    return [str(r[0]) for r in session.conn.execute("SELECT body FROM notes").fetchall()]


def key_ids(session: Session, scope: str) -> set[str]:
    rows = session.conn.execute("SELECT key_id FROM team_keys WHERE scope = ?", (scope,))
    return {str(r[0]) for r in rows.fetchall()}


def newest_key(session: Session, scope: str) -> tuple[str, list[str]]:
    row = session.conn.execute(
        "SELECT key_id, holders FROM team_keys WHERE scope = ? ORDER BY made_at DESC, "
        "key_id DESC LIMIT 1",
        (scope,),
    ).fetchone()
    return str(row[0]), list(json.loads(str(row[1])))


def sync_log(session: Session) -> str:
    return "\n".join(sentence for _, sentence in engine.sync_log(session.conn, 500))


@pytest.fixture
def world(store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path) -> Iterator[World]:
    shared = tmp_path / "shared"
    shared.mkdir()
    laptops = tmp_path / "laptops"
    with signed_in(store, ADMIN) as s:
        give_roles(s, frozenset({Role.ADMIN, Role.MANAGER}))
    with signed_in(store, ADMIN) as admin:
        admin.roles = frozenset({Role.ADMIN, Role.MANAGER})
        case_id, _ = new_case(admin, person(GIVEN, FAMILY))
        cases.open_referral(admin, case_id, admin.today())
        cases.allocate(admin, case_id, user_id(admin, CASEWORKER))
        notes.add_note(admin, case_id, NoteKind.CALL, FIRST_NOTE, dt.datetime.now(dt.UTC))
        case_gid = ops.gid_of(admin.conn, "cases", case_id)
        assert case_gid is not None
        team_service.create_team(admin, shared)
        cole_keyring = MemoryKeyring()  # Cole's laptop is a computer of its own
        cole = join_laptop(admin, CASEWORKER, laptops, cole_keyring, PASSWORDS[CASEWORKER])
        cara = join_laptop(admin, CASEWORKER2, laptops, keyring, PASSWORDS[CASEWORKER2])
        mina = join_laptop(admin, MANAGER, laptops, keyring, PASSWORDS[MANAGER])
        world = World(admin, cole, cara, mina, shared, case_id, case_gid, cole_keyring)
        try:
            sync_all(world)
            assert case_by_gid(cole.conn, case_gid) is not None
            assert case_by_gid(mina.conn, case_gid) is not None
            yield world
        finally:
            for laptop in (cole, cara, mina):
                if laptop.active:
                    accounts.sign_out(laptop)


def add_note(session: Session, gid: str, body: str) -> None:
    case_id = case_by_gid(session.conn, gid)
    assert case_id is not None
    notes.add_note(session, case_id, NoteKind.VISIT, body, dt.datetime.now(dt.UTC))


def test_what_a_revoked_laptop_signs_afterwards_is_ignored_by_every_other_laptop(
    world: World,
) -> None:
    cole_device = device_of(world.cole)
    team_service.revoke(world.admin, cole_device)
    # Cole's laptop, not told yet, writes a note; the manager's laptop reads it before the
    # new directory reaches it, and applies it (it cannot know yet).
    add_note(world.cole, world.case_gid, EARLY_NOTE)
    rogue_sync(world.cole, world.shared)
    team_service.sync(world.mina)
    assert EARLY_NOTE in note_bodies(world.mina)
    # The admin's laptop knows: it refuses the note and sends the directory on.
    team_service.sync(world.admin)
    assert EARLY_NOTE not in note_bodies(world.admin)
    # Another note from the revoked laptop: refused on every laptop, the manager's included,
    # which adopts the directory first and says what it had applied before.
    add_note(world.cole, world.case_gid, LATE_NOTE)
    rogue_sync(world.cole, world.shared)
    for laptop in (world.mina, world.admin, world.cara, world.mina):
        team_service.sync(laptop)
    for laptop in (world.admin, world.mina):
        assert LATE_NOTE not in note_bodies(laptop)
        assert "An envelope was sent by a device after it was revoked" in sync_log(laptop)
    log = sync_log(world.mina)
    assert f"Device {cole_device} was revoked in team directory version" in log
    assert "this laptop applied envelope(s)" in log and f"from device {cole_device}" in log
    assert EARLY_NOTE in note_bodies(world.mina)  # stays, and the log says so


def test_the_cases_a_revoked_laptop_held_get_a_new_key_it_never_receives(world: World) -> None:
    cole_device = device_of(world.cole)
    before = key_ids(world.cole, world.scope)
    sealed_before = engine.load(world.admin.conn).seq
    team_service.revoke(world.admin, cole_device)
    for _ in range(2):
        team_service.sync(world.admin)
        team_service.sync(world.mina)
        rogue_sync(world.cole, world.shared)
    newest, holders = newest_key(world.admin, world.scope)
    assert newest not in before
    assert cole_device not in holders and device_of(world.mina) in holders
    # What the managers write now goes under the new key: the manager's laptop reads it, the
    # revoked one never gets the key.
    after = "Qzrevoke written under the new key."
    add_note(world.admin, world.case_gid, after)
    for _ in range(2):
        team_service.sync(world.admin)
        team_service.sync(world.mina)
        rogue_sync(world.cole, world.shared)
    assert newest in key_ids(world.mina, world.scope)
    assert after in note_bodies(world.mina)
    assert key_ids(world.cole, world.scope) == before
    assert after not in note_bodies(world.cole)
    # Its grants: none sealed to it after its revocation.
    assert f"grant:{cole_device}" not in published_scopes(world, after_seq=sealed_before)


def published_scopes(world: World, *, after_seq: int) -> set[str]:
    """The scopes of the admin laptop's envelopes numbered above ``after_seq``."""
    folder = world.shared / "devices" / device_of(world.admin)
    scopes = set()
    for path in folder.iterdir():
        seq = parse_name(path.name)
        data = unframe(path.read_bytes())
        if seq is None or data is None or seq <= after_seq:
            continue
        scope = envelope_scope(data)
        assert scope is not None
        scopes.add(scope)
    assert scopes  # the admin's laptop did publish after the revocation
    return scopes


def test_a_revoked_laptop_that_syncs_destroys_its_store_and_the_admin_audits_its_receipt(
    world: World,
) -> None:
    cole_device = device_of(world.cole)
    store_path = world.cole.vault.path
    team_service.revoke(world.admin, cole_device)
    assert world.cole_keyring.get_password(SERVICE, ACCOUNT) is not None
    with pytest.raises(SafecaseError) as raised:
        team_service.sync(world.cole)
    assert str(raised.value) == DESTROYED
    assert not world.cole.active
    # Nothing of the store is left on the laptop's disk: no store file, and no byte of what
    # it held in anything left in its folder; its device secret is gone from its keyring.
    assert not store_path.exists()
    left = [p for p in store_path.parent.parent.rglob("*") if p.is_file()]
    assert [p.name for p in left if p.parent == store_path.parent] == []
    raw = b"".join(p.read_bytes() for p in left)
    for text in (GIVEN, FAMILY, "Qzrevokefirst"):
        assert text.encode() not in raw
    assert world.cole_keyring.get_password(SERVICE, ACCOUNT) is None
    assert world.cole_keyring.values == {}
    # The admin's laptop sees the signed receipt and audits it, once.
    team_service.sync(world.admin)
    team_service.sync(world.admin)
    audited = world.admin.conn.execute(
        "SELECT count(*) FROM audit WHERE action = ? AND record = ?",
        ("team_device_destroyed", f"device:{cole_device}"),
    ).fetchone()[0]
    assert audited == 1
    [line] = [d for d in team_service.devices(world.admin) if d.device_id == cole_device]
    assert (line.revoked, line.state) == (True, "revoked, destruction confirmed")
    assert line.order_sent and line.confirmed


def _order(world: World, signer: DeviceKeys, *, team: str, device: str) -> bytes:
    from app.sync import revocation

    state = engine.load(world.admin.conn)
    directory = state.directory.with_device_revoked(device, last=(0, "0" * 64), at="now")
    return revocation.make_order(
        team=team,
        device=device,
        at="2026-12-01T10:00:00Z",
        directory=directory,
        signed_dir=sign_directory(directory, signer),
        admin=signer,
    )


def test_a_forged_foreign_or_misaddressed_order_is_refused_and_logged(world: World) -> None:
    from app.sync import revocation

    transport = FolderTransport(world.shared)
    cole_device = device_of(world.cole)
    admin_state = engine.load(world.admin.conn)
    cara_keys = engine.load(world.cara.conn).device
    forged = _order(world, cara_keys, team=admin_state.team_id, device=cole_device)
    foreign = _order(world, admin_state.device, team="another-team", device=cole_device)
    elsewhere = _order(
        world, admin_state.device, team=admin_state.team_id, device=device_of(world.cara)
    )
    for order, why in (
        (forged, "is not signed by an admin this laptop trusts"),
        (foreign, "is for another team"),
        (elsewhere, "names another device"),
    ):
        transport.post_order(cole_device, order)
        team_service.sync(world.cole)
        assert world.cole.active
        assert case_by_gid(world.cole.conn, world.case_gid) is not None
        assert f"An order to destroy this laptop's store {why}; it was ignored." in sync_log(
            world.cole
        )
    # An order signed by the admin for a device the directory does not revoke is refused too.
    unrevoked = revocation.make_order(
        team=admin_state.team_id,
        device=cole_device,
        at="2026-12-01T10:00:00Z",
        directory=admin_state.directory,
        signed_dir=admin_state.signed_dir or b"",
        admin=admin_state.device,
    )
    transport.post_order(cole_device, unrevoked)
    team_service.sync(world.cole)
    assert world.cole.active
    assert "in which this laptop is not revoked" in sync_log(world.cole)


def test_a_caseworker_cannot_pass_a_case_key_to_another_caseworker(world: World) -> None:
    cole_state = engine.load(world.cole.conn)
    cara_device = device_of(world.cara)
    key_id, key = next(
        (str(r[0]), bytes(r[1]))
        for r in world.cole.conn.execute(
            "SELECT key_id, key FROM team_keys WHERE scope = ?", (world.scope,)
        ).fetchall()
    )
    target = cole_state.directory.device(cara_device)
    assert target is not None
    body = {
        "keys": [
            {
                "key_id": key_id,
                "sealed": base64.b64encode(seal_key(key, key_id=key_id, device=target)).decode(),
                "made_at": "2026-12-01T10:00:00Z",
                "for_user": ops.gid_of(world.cole.conn, "users", world.cole.user_id),
                "holders": [],
            }
        ]
    }
    grant = f"{engine.GRANT}:{cara_device}"
    me = cole_state.device.device_id
    with transaction(world.cole.conn):
        engine._seal(
            world.cole.conn,
            cole_state,
            grant,
            f"{grant}#{me}",
            engine._grant_key(cole_state.device, cole_state.directory, me, cara_device),
            json.dumps(body).encode(),
        )
        engine.save(world.cole.conn, cole_state)
    engine.publish(world.cole.conn, cole_state, FolderTransport(world.shared))
    report = team_service.sync(world.cara)
    # The case never opened on her laptop (old code took the key, applied the case's
    # envelopes with it, then destroyed the case as not hers).
    assert (report.applied, report.destroyed) == (0, 0)
    assert key_ids(world.cara, world.scope) == set()
    assert (
        "A key was offered by a device not entitled to pass it on, or to this laptop; it was "
        "not taken." in sync_log(world.cara)
    )


def test_only_the_founding_admin_laptop_invites(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    with signed_in(store, CASEWORKER2) as s:
        give_roles(s, frozenset({Role.ADMIN}))
    with signed_in(store, ADMIN) as admin:
        team_service.create_team(admin, shared)
        founder = device_of(admin)
        second = join_laptop(admin, CASEWORKER2, tmp_path / "laptops", keyring, "quiet-larch-49x")
        try:
            for laptop in (admin, second, admin, second):
                team_service.sync(laptop)
            assert Role.ADMIN in second.roles
            assert engine.load(second.conn).directory.is_admin_device(device_of(second))
            with pytest.raises(SafecaseError) as refused:
                team_service.invite(second, MANAGER, tmp_path / "mina.invitation")
            assert str(refused.value) == (
                f"Only the team's founding admin laptop (device {founder}) can invite, revoke "
                "or disable in the team; do it on that laptop."
            )
            assert not (tmp_path / "mina.invitation").exists()
            with pytest.raises(SafecaseError, match="founding admin laptop"):
                team_service.revoke(second, founder)
        finally:
            accounts.sign_out(second)
