"""Purge across the team, in one process: five laptops (the admin's, a caseworker's, a
manager's, a second caseworker's that never held the case, the DPO's that never syncs after
joining), one shared folder. The admin's purge destroys the case everywhere it was held, the
case's keys are gone from every laptop, the certificate names who confirmed and who has not,
and compaction empties the folder of the case."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from pypdf import PdfReader

from app.crypto import envelopes
from app.crypto.connection import Connection
from app.errors import InvalidInput, PermissionDenied
from app.models.db import transaction
from app.models.records import NoteKind
from app.services import accounts, cases, notes, retention
from app.services import team as team_service
from app.services.session import Session
from app.sync import engine, ops
from app.sync.clock import HlcClock, new_uuid7
from app.sync.folder import unframe
from tests.helpers import ADMIN, CASEWORKER, CASEWORKER2, DPO, MANAGER, MemoryKeyring, StoreCopy
from tests.services import forensics
from tests.services.casework import person, signed_in, user_id
from tests.services.closed_cases import make_closed_case
from tests.sync.team_world import case_by_gid, join_laptop

GIVEN, FAMILY = "Qzpurgegiven", "Qzpurgefamily"
NOTE = "Qzpurgenote about the refuge visit."
SENTINELS = (GIVEN, FAMILY, "Qzpurgenote")
PASSWORDS = {
    CASEWORKER: "birch-canyon-ember-58",
    MANAGER: "saffron-glacier-quill-36",
    CASEWORKER2: "tundra-pepper-velvet-41",
    DPO: "marble-fennel-comet-93",
}


@dataclass
class World:
    admin: Session
    cole: Session
    mina: Session
    cara: Session
    dora: Session
    shared: Path
    case_gid: str
    reference: str

    @property
    def laptops(self) -> tuple[Session, ...]:
        return (self.admin, self.cole, self.mina, self.cara, self.dora)


def device(session: Session) -> str:
    return engine.load(session.conn).device.device_id


def case_keys(session: Session, case_gid: str) -> list[bytes]:
    rows = session.conn.execute(
        "SELECT key FROM team_keys WHERE scope = ?", (f"case:{case_gid}",)
    ).fetchall()
    return [bytes(r[0]) for r in rows]


def every_key(session: Session) -> list[bytes]:
    return [bytes(r[0]) for r in session.conn.execute("SELECT key FROM team_keys").fetchall()]


def case_envelopes(shared: Path, case_gid: str) -> list[bytes]:
    found = []
    for path in sorted(shared.rglob("*.env")):
        data = unframe(path.read_bytes())
        if data is not None and envelopes.envelope_scope(data) == f"case:{case_gid}":
            found.append(data)
    return found


def opens(data: bytes, key: bytes) -> bool:
    env = envelopes._parse(data)
    header = envelopes._header(env.team, env.sender, env.seq, env.previous, env.scope, env.key_id)
    try:
        ChaCha20Poly1305(key).decrypt(env.nonce, env.ciphertext, header)
    except (InvalidTag, ValueError):
        return False
    return True


def table_text(conn: Connection) -> str:
    """Every value of every table of a store, as text (the search index's own tables too)."""
    names = [
        str(r[0])
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    ]
    parts: list[str] = []
    for name in names:
        for row in conn.execute(f'SELECT * FROM "{name}"').fetchall():
            parts.extend(
                v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row
            )
    return "\n".join(parts)


@contextlib.contextmanager
def team_world(store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path) -> Iterator[World]:
    """A closed case made on the store before the team (allocated to the caseworker, with a
    note), the admin's laptop the team's first; four more laptops join; all but the DPO's sync
    until the case is on the caseworker's and the manager's laptops."""
    shared = tmp_path / "shared"
    shared.mkdir()
    with signed_in(store, MANAGER) as manager:
        cole_id = user_id(manager, CASEWORKER)

        def fill(case_id: int) -> None:
            notes.add_note(manager, case_id, NoteKind.VISIT, NOTE, dt.datetime.now(dt.UTC))

        case_id = make_closed_case(manager, person(GIVEN, FAMILY), fill=fill, allocate_to=cole_id)
        case_gid = ops.gid_of(manager.conn, "cases", case_id) or ""
        reference = str(
            manager.conn.execute("SELECT reference FROM cases WHERE id = ?", (case_id,)).fetchone()[
                0
            ]
        )
    joined: list[Session] = []
    with signed_in(store, ADMIN) as admin:
        team_service.create_team(admin, shared)
        try:
            for name in (CASEWORKER, MANAGER, CASEWORKER2, DPO):
                joined.append(
                    join_laptop(admin, name, tmp_path / "laptops", keyring, PASSWORDS[name])
                )
            cole, mina, cara, dora = joined
            world = World(admin, cole, mina, cara, dora, shared, case_gid, reference)
            for _ in range(2):
                for laptop in world.laptops:
                    team_service.sync(laptop)
            assert case_by_gid(world.cole.conn, case_gid) is not None
            assert case_by_gid(world.mina.conn, case_gid) is not None
            assert case_by_gid(world.cara.conn, case_gid) is None
            yield world
        finally:
            for laptop in joined:
                if laptop.active:
                    accounts.sign_out(laptop)


def purge_on_admin(world: World) -> retention.PurgeResult:
    retention.approve(world.admin, [world.reference], "Retention period ended; reviewed.")
    result = retention.purge(world.admin)
    assert [e.reference for e in result.destroyed] == [world.reference]
    return result


def test_the_admins_purge_destroys_the_case_on_every_laptop_and_no_key_opens_its_envelopes(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    with team_world(store, keyring, tmp_path) as world:
        gid = world.case_gid
        before = case_envelopes(world.shared, gid)
        held_before = case_keys(world.cole, gid)
        # The check below can tell: before the purge the caseworker's key opens them.
        assert before and any(opens(e, k) for e in before for k in held_before)

        result = purge_on_admin(world)
        team_service.sync(world.admin)
        for laptop in (world.cole, world.mina, world.cara):
            report = team_service.sync(laptop)
            assert report.destroyed == (0 if laptop is world.cara else 1)
        team_service.sync(world.admin)

        for laptop in world.laptops:
            assert case_by_gid(laptop.conn, gid) is None
            assert case_keys(laptop, gid) == []
        for laptop in (world.cole, world.mina):
            destroyed = laptop.conn.execute(
                "SELECT count(*) FROM audit WHERE action = 'case_destroyed' AND detail LIKE ?",
                (f"%case_gid={gid}%",),
            ).fetchone()[0]
            assert destroyed == 1
        # Crypto-shredded: no key held anywhere in the team opens any envelope of the case.
        held = [k for laptop in world.laptops for k in every_key(laptop)]
        still = case_envelopes(world.shared, gid)
        assert still and not any(opens(e, k) for e in still for k in held)

        # The certificate names who confirmed and who has not synced since.
        from app.services import team_purge

        pdf = retention.certificate(world.admin, result.run_id)
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        text = " ".join(text.split())
        assert "The team's laptops" in text
        line = text[text.index(f"{world.reference}: destroyed") :]
        confirmed, _, rest = line.partition("held nothing")
        for name in (ADMIN, CASEWORKER, MANAGER):
            assert f"{name} (" in confirmed
        never, _, waiting = rest.partition("not synced since the purge:")
        assert f"{CASEWORKER2} (" in never
        assert f"{DPO} (…{device(world.dora)[-8:]})" in waiting.split(".")[0]
        [late] = team_purge.outstanding(world.admin)
        assert (late.username, late.device_id, late.cases) == (DPO, device(world.dora), 1)

        # Compaction leaves no file of the case in the folder; audited with counts only.
        assert team_purge.compact(world.admin) == len(still)
        assert case_envelopes(world.shared, gid) == []
        keys = {
            forensics.data_key(laptop): laptop.vault.path for laptop in (world.cole, world.mina)
        }
        for laptop in (world.cole, world.mina):
            assert [s for s in SENTINELS if s.lower() in table_text(laptop.conn).lower()] == []
            accounts.sign_out(laptop)
    for key, path in keys.items():
        assert forensics.found(forensics.read_pages(path, key), SENTINELS) == {}


def _op(
    session: Session,
    kind: str,
    scope: str,
    target: str,
    payload: dict[str, object],
    later_ms: int = 0,
) -> ops.Operation:
    dev = device(session)
    ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000) + later_ms
    return ops.Operation(
        op_id=new_uuid7(ms),
        hlc=HlcClock(dev).tick(ms).encode(),
        device=dev,
        user=ops.gid_of(session.conn, "users", session.user_id) or "",
        kind=kind,
        scope=scope,
        target=target,
        payload=payload,
    )


def test_orders_and_confirmations_apply_once_in_any_order_and_later_changes_are_dropped(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    from app.sync import purge  # the operations this test applies are new

    with team_world(store, keyring, tmp_path) as world:
        gid, conn = world.case_gid, world.mina.conn
        order = _op(world.admin, purge.DESTROYED, purge.TEAM, gid, {})
        confirmed = _op(world.cole, purge.CONFIRMED, purge.TEAM, gid, {"held": True})
        late = _op(world.cole, "note.added", f"case:{gid}", "01-not-here", {"row": {}})
        # The caseworker's confirmation arrives before the order, then the order twice.
        with transaction(conn):
            assert (
                purge.take(conn, device(world.cole), [confirmed], "2026-12-01T10:00:00.000000Z")
                == []
            )
        for _ in range(2):
            with transaction(conn):
                assert (
                    purge.take(conn, device(world.admin), [order], "2026-12-01T10:00:00.000000Z")
                    == []
                )
                purge.carry_out(conn, world.mina.user_id, "2026-12-01T10:00:01.000000Z")
        assert case_by_gid(conn, gid) is None
        assert (
            conn.execute(
                "SELECT count(*) FROM audit WHERE action = 'case_destroyed' AND detail LIKE ?",
                (f"%case_gid={gid}%",),
            ).fetchone()[0]
            == 1
        )
        outbox = [op for _, op in ops.outbox(conn) if op.kind == purge.CONFIRMED]
        assert [(op.target, op.payload) for op in outbox] == [(gid, {"held": True})]
        # A change of the destroyed case arriving later is dropped, not left waiting.
        with transaction(conn):
            assert purge.take(conn, device(world.cole), [late], "2026-12-01T10:00:02.000000Z") == []
            engine._retry_pending(conn)
        assert conn.execute("SELECT count(*) FROM team_pending").fetchone()[0] == 0
        acks = {(r[0], r[1]) for r in conn.execute("SELECT device, held FROM team_purge_acks")}
        assert acks == {(device(world.cole), 1), (device(world.admin), 1), (device(world.mina), 1)}


def test_a_caseworker_cannot_order_a_team_purge(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    from app.sync import purge

    with team_world(store, keyring, tmp_path) as world:
        gid = world.case_gid
        with pytest.raises(PermissionDenied):
            retention.purge(world.cole)
        # Nor by writing the order itself: the other laptops ignore it.
        with transaction(world.cole.conn):
            purge.order_destruction(
                world.cole.conn, gid, "", "forged", world.cole.user_id, world.cole.now()
            )
        team_service.sync(world.cole)
        team_service.sync(world.mina)
        assert case_by_gid(world.mina.conn, gid) is not None
        assert purge.REFUSED_ORDER in [s for _, s in engine.sync_log(world.mina.conn)]


def test_the_admin_lists_and_purges_a_case_held_only_on_the_team_laptops(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    with team_world(store, keyring, tmp_path) as world:
        mina = world.mina
        cole_here = int(
            mina.conn.execute("SELECT id FROM users WHERE username = ?", (CASEWORKER,)).fetchone()[
                0
            ]
        )
        case_id = make_closed_case(
            mina, person("Qzremotegiven", "Qzremotefamily"), allocate_to=cole_here
        )
        gid = ops.gid_of(mina.conn, "cases", case_id) or ""
        reference = str(
            mina.conn.execute("SELECT reference FROM cases WHERE id = ?", (case_id,)).fetchone()[0]
        )
        for laptop in (mina, world.admin, world.cole, world.admin):
            team_service.sync(laptop)
        assert case_by_gid(world.admin.conn, gid) is None  # the admin holds no case key
        due = {i.reference: i for i in retention.due_items(world.admin)}
        assert reference in due
        assert due[reference].closed_date == dt.date(2019, 3, 31)
        assert due[reference].due_date == dt.date(2026, 3, 31)
        # Only references and dates travelled to the admin's laptop: no name.
        assert "Qzremote" not in table_text(world.admin.conn)

        # A legal hold placed on the manager's laptop reaches the admin's list; lifted, it goes.
        later = mina.today() + dt.timedelta(days=90)
        cases.place_legal_hold(mina, case_id, "Domestic homicide review", later)
        for laptop in (mina, world.admin):
            team_service.sync(laptop)
        [held] = [i for i in retention.due_items(world.admin) if i.reference == reference]
        assert held.blocked and held.hold_review == later
        with pytest.raises(InvalidInput, match="legal hold"):
            retention.approve(world.admin, [reference], "Retention period ended; reviewed.")
        cases.lift_legal_hold(mina, case_id)
        for laptop in (mina, world.admin):
            team_service.sync(laptop)
        retention.approve(world.admin, [reference], "Retention period ended; reviewed.")
        result = retention.purge(world.admin)
        assert [e.reference for e in result.destroyed] == [reference]
        for laptop in (world.admin, mina, world.cole, world.admin):
            team_service.sync(laptop)
        assert case_by_gid(mina.conn, gid) is None
        assert case_by_gid(world.cole.conn, gid) is None
        assert reference not in {i.reference for i in retention.due_items(world.admin)}
        from app.services import team_purge

        [acks] = team_purge.case_acknowledgements(world.admin, result.run_id)
        assert {d.username for d in acks.confirmed if d.held} == {MANAGER, CASEWORKER}
        assert ADMIN in {d.username for d in acks.confirmed if not d.held}


def test_a_carried_out_erasure_destroys_the_case_on_every_laptop_that_holds_it(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    from app.models import cases as case_model
    from app.models.users import Role
    from tests.services.test_erasure import granted_erasure
    from tests.sync.team_world import give_roles

    with team_world(store, keyring, tmp_path) as world:
        admin, gid = world.admin, world.case_gid
        give_roles(admin, frozenset({Role.ADMIN, Role.MANAGER}))  # keeps the register here too
        here = case_by_gid(admin.conn, gid)
        assert here is not None
        client = case_model.client_id(admin.conn, here)
        assert client is not None
        request = granted_erasure(admin, client)
        retention.propose_erasure(admin, request)
        retention.carry_out_erasure(
            admin, request, sole_admin_reason="The only admin of this small team."
        )
        for laptop in (admin, world.cole, world.mina):
            team_service.sync(laptop)
        for laptop in world.laptops:
            assert case_by_gid(laptop.conn, gid) is None
            assert case_keys(laptop, gid) == []
        for laptop in (world.cole, world.mina):
            assert [s for s in SENTINELS if s.lower() in table_text(laptop.conn).lower()] == []


def test_facts_from_a_laptop_that_had_not_seen_a_legal_hold_do_not_lift_it(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    from app.sync import purge

    with team_world(store, keyring, tmp_path) as world:
        admin, conn = world.admin, world.admin.conn
        gid, reference = "01-a-case-held-elsewhere", "SC-2019-Z-000001"
        facts = {"closed_date": "2019-03-31", "hold": True, "hold_review": "2030-01-01"}
        held = _op(world.mina, purge.FACTS, purge.RETENTION, gid, {})
        stale = _op(world.mina, purge.FACTS, purge.RETENTION, gid, {}, later_ms=1000)
        assert stale.hlc > held.hlc
        held_payload = {"reference": reference, "facts": facts, "version": "2"}
        stale_payload = {**held_payload, "facts": {**facts, "hold": False}, "version": "1"}
        # Sent later (a later stamp), but computed before the hold was seen (an older version).
        for op, payload in ((held, held_payload), (stale, stale_payload)):
            with transaction(conn):
                purge.take(conn, device(world.mina), [replace(op, payload=payload)], admin.now())
        [item] = [i for i in retention.due_items(admin) if i.reference == reference]
        assert item.blocked and item.gid == gid
        # A caseworker's laptop may not say anything about retention.
        lifted = {**held_payload, "facts": {**facts, "hold": False}, "version": "3"}
        forged = replace(_op(world.cole, purge.FACTS, purge.RETENTION, gid, {}), payload=lifted)
        with transaction(conn):
            purge.take(conn, device(world.cole), [forged], admin.now())
        [item] = [i for i in retention.due_items(admin) if i.reference == reference]
        assert item.blocked
