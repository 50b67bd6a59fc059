"""Crypto-shredding against every key still held anywhere, device keys included: after the
admin's purge and two rounds of syncing, nothing any laptop holds (its case and register keys,
its device keys, retired keys not yet destroyed, the keyring's device secrets) opens the purged
case's envelopes, or any grant envelope that carried its key, in the folder taken before
compaction. And the team goes on: other cases still open for their holders, new cases and
grants reach the laptops whose keys changed, a grant sealed to a key destroyed meanwhile is
sent again, and a laptop offline during the purge rotates when it next syncs. A caseworker's
laptop that loses a re-allocated case cannot read it again with what it keeps."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import json
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from pypdf import PdfReader

from app.crypto import envelopes
from app.crypto.kdf import hkdf
from app.crypto.team import DeviceKeys, SealedKeyRejected, open_sealed_key
from app.models.records import NoteKind
from app.services import notes, retention
from app.services import team as team_service
from app.services.session import Session
from app.sync import engine, ops
from app.sync.folder import unframe
from tests.helpers import CASEWORKER, MANAGER, MemoryKeyring, StoreCopy
from tests.services.casework import new_case, person
from tests.sync.team_world import case_by_gid
from tests.sync.test_team_purge import World, case_keys, purge_on_admin, team_world

OTHER_NOTE = "Qzshredother note that stays readable."
LATER_NOTE = "Qzshredlater note after the rotation."


# -- what an attacker holding every key and the folder can do ----------------------------------


def _secrets(laptops: tuple[Session, ...], keyring: MemoryKeyring) -> list[bytes]:
    """Every 32-byte secret held on ``laptops``: their team keys, device keys (both kinds),
    any X25519 key kept beside them, and the keyring's device secrets."""
    found: list[bytes] = []
    for laptop in laptops:
        conn = laptop.conn
        found += [bytes(r[0]) for r in conn.execute("SELECT key FROM team_keys").fetchall()]
        state = engine.load(conn)
        found += [
            state.device.encryption.private_bytes_raw(),
            state.device.signing.private_bytes_raw(),
        ]
        tables = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master").fetchall()}
        if "team_device_keys" in tables:
            found += [
                bytes(r[0])
                for r in conn.execute(
                    "SELECT private FROM team_device_keys WHERE private IS NOT NULL"
                ).fetchall()
            ]
    for value in keyring.values.values():
        for decode in (base64.b64decode, base64.urlsafe_b64decode, bytes.fromhex):
            try:
                raw = decode(value)
            except (binascii.Error, ValueError):
                continue
            if len(raw) == 32:
                found.append(raw)
    return list(dict.fromkeys(found))


def _publics(world: World) -> dict[str, set[bytes]]:
    return {
        d.id: {d.encryption_public}
        for laptop in world.laptops
        for d in engine.load(laptop.conn).directory.devices
    }


def _folder(shared: Path) -> list[bytes]:
    found = []
    for path in sorted(shared.rglob("*.env")):
        data = unframe(path.read_bytes())
        if data is not None:
            found.append(data)
    return found


def _opened(data: bytes, key: bytes) -> bytes | None:
    env = envelopes._parse(data)
    header = envelopes._header(env.team, env.sender, env.seq, env.previous, env.scope, env.key_id)
    try:
        return ChaCha20Poly1305(key).decrypt(env.nonce, env.ciphertext, header)
    except (InvalidTag, ValueError):
        return None


def _grant_candidates(
    data: bytes, secrets: list[bytes], publics: dict[str, set[bytes]]
) -> list[bytes]:
    """Every key an attacker could derive for a grant envelope from ``secrets``: static-static
    with either end's public keys, or ephemeral-static when the key id carries one."""
    env = envelopes._parse(data)
    recipient = env.scope.partition(":")[2]
    sender, _, tail = env.key_id.rpartition("#")[2].partition(".")
    ephemeral = tail.partition(".")[2]
    found = list(secrets)
    others = publics.get(sender, set()) | publics.get(recipient, set())
    for secret in secrets:
        private = X25519PrivateKey.from_private_bytes(secret)
        own = private.public_key().public_bytes_raw()
        for public in others:
            shared = private.exchange(X25519PublicKey.from_public_bytes(public))
            salt = f"{sender}|{recipient}".encode()
            found.append(hkdf(shared, salt=salt, info=b"safecase grant envelope v1"))
        if ephemeral:
            eph = bytes.fromhex(ephemeral)
            shared = private.exchange(X25519PublicKey.from_public_bytes(eph))
            info = f"safecase grant envelope v2|{sender}|{recipient}".encode()
            found.append(hkdf(shared, salt=eph + own, info=info))
    return found


def attack(
    world: World, keyring: MemoryKeyring, folder: list[bytes], laptops: tuple[Session, ...] = ()
) -> set[bytes]:
    """Every key recoverable from what the laptops hold (all of them unless ``laptops``) and
    the folder: the secrets, and each key inside any grant envelope they open, again until
    nothing new comes."""
    pool = set(_secrets(laptops or world.laptops, keyring))
    publics = _publics(world)
    grants = [d for d in folder if str(envelopes.envelope_scope(d)).startswith("grant:")]
    while True:
        before = len(pool)
        for data in grants:
            recipient = str(envelopes.envelope_scope(data)).partition(":")[2]
            for key in _grant_candidates(data, sorted(pool), publics):
                body = _opened(data, key)
                if body is None:
                    continue
                for item in json.loads(body).get("keys") or []:
                    sealed = base64.b64decode(item["sealed"])
                    for secret in sorted(pool):
                        holder = DeviceKeys(
                            recipient,
                            X25519PrivateKey.from_private_bytes(secret),
                            DeviceKeys.generate(recipient).signing,
                        )
                        try:
                            pool.add(open_sealed_key(sealed, key_id=item["key_id"], device=holder))
                        except SealedKeyRejected:
                            continue
        if len(pool) == before:
            return pool


def assert_shredded(world: World, keyring: MemoryKeyring, purged: list[bytes]) -> None:
    folder = _folder(world.shared)
    mine = [d for d in folder if envelopes.envelope_scope(d) == f"case:{world.case_gid}"]
    assert mine
    pool = attack(world, keyring, folder)
    recovered = len(set(purged) & pool)  # the purged case's keys someone could still recover
    assert recovered == 0
    readable = [d for d in mine if any(_opened(d, k) is not None for k in pool)]
    assert len(readable) == 0


def rounds(laptops: tuple[Session, ...], count: int = 2) -> None:
    for _ in range(count):
        for laptop in laptops:
            team_service.sync(laptop)


def certificate_text(world: World, run_id: str) -> str:
    pdf = retention.certificate(world.admin, run_id)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


def device_key(session: Session) -> bytes:
    return engine.load(session.conn).device.encryption_public


# -- the tests ---------------------------------------------------------------------------------


def test_after_a_purge_no_key_held_anywhere_opens_the_case_or_the_grants_that_carried_its_key(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    with team_world(store, keyring, tmp_path) as world:
        gid = world.case_gid
        purged = case_keys(world.cole, gid) + case_keys(world.admin, gid)
        assert purged
        # The check can tell: before the purge the keys held open the case's envelopes.
        folder = _folder(world.shared)
        held = attack(world, keyring, folder)
        assert set(purged) <= held
        before = [device_key(laptop) for laptop in world.laptops]

        purge_on_admin(world)
        rounds(world.laptops)

        for laptop in world.laptops:
            assert case_by_gid(laptop.conn, gid) is None
        assert_shredded(world, keyring, purged)
        changed = [
            device_key(laptop) != old for laptop, old in zip(world.laptops, before, strict=True)
        ]
        assert changed == [True] * len(before)


def test_a_laptop_offline_during_the_purge_rotates_when_it_next_syncs(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    with team_world(store, keyring, tmp_path) as world:
        gid = world.case_gid
        purged = case_keys(world.cole, gid)
        old = device_key(world.cole)
        result = purge_on_admin(world)
        online = tuple(laptop for laptop in world.laptops if laptop is not world.cole)
        rounds(online)
        assert case_by_gid(world.cole.conn, gid) is not None  # still offline: it holds the case
        while_away = engine.load(world.admin.conn).directory
        away_text = certificate_text(world, result.run_id)

        rounds(world.laptops)  # the caseworker's laptop is back
        assert case_by_gid(world.cole.conn, gid) is None
        assert_shredded(world, keyring, purged)
        assert device_key(world.cole) != old

        # What the admin's Retention page reads: whose key changed since the purge.
        from app.sync import shred

        ordered = str(
            world.admin.conn.execute(
                "SELECT ordered_at FROM team_purged WHERE case_gid = ?", (gid,)
            ).fetchone()[0]
        )
        cole, mina = (engine.load(s.conn).device.device_id for s in (world.cole, world.mina))
        assert not shred.rotated_since(while_away, cole, ordered)
        assert shred.rotated_since(while_away, mina, ordered)
        assert shred.rotated_since(engine.load(world.admin.conn).directory, cole, ordered)
        # The purge certificate says whose old device key was still in use, and then nobody's.
        waiting = away_text.partition("old device key not yet replaced on:")[2].split(".")[0]
        assert f"{CASEWORKER} (" in waiting and f"{MANAGER} (" not in waiting
        now_text = certificate_text(world, result.run_id)
        assert "old device key not yet replaced on: none." in now_text


def test_other_cases_new_cases_and_grants_keep_flowing_after_the_keys_change(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    with team_world(store, keyring, tmp_path) as world:
        mina, cole = world.mina, world.cole
        cole_here = int(
            mina.conn.execute(
                "SELECT allocated_user_id FROM cases WHERE gid = ?", (world.case_gid,)
            ).fetchone()[0]
        )
        other, _ = new_case(mina, person("Qzshredothergiven", "Qzshredotherfamily"))
        other_gid = ops.gid_of(mina.conn, "cases", other) or ""
        from app.services import cases

        cases.allocate(mina, other, cole_here)
        rounds((mina, cole))
        assert case_by_gid(cole.conn, other_gid) is not None
        old = device_key(cole)

        purge_on_admin(world)
        rounds((world.admin, cole, mina, world.cara), count=1)  # each asks for its new key
        team_service.sync(world.admin)  # lists the new keys of the other laptops
        team_service.sync(cole)  # adopts its new key, destroys the old one
        assert device_key(cole) != old

        # The manager, before hearing of the caseworker's new key, opens a case for them: the
        # grant is sealed to the key the caseworker has just destroyed.
        new, _ = new_case(mina, person("Qzshrednewgiven", "Qzshrednewfamily"))
        new_gid = ops.gid_of(mina.conn, "cases", new) or ""
        cases.allocate(mina, new, cole_here)
        team_service.sync(mina)
        team_service.sync(cole)
        from app.sync import shred

        assert shred.LOST_GRANT in [s for _, s in engine.sync_log(cole.conn)]
        rounds((mina, cole))
        here = case_by_gid(cole.conn, new_gid)
        assert here is not None  # sent again under the new key: nothing lost

        # The case held before the purge still opens and still travels both ways.
        there = case_by_gid(cole.conn, other_gid)
        assert there is not None
        notes.add_note(cole, there, NoteKind.VISIT, LATER_NOTE, dt.datetime.now(dt.UTC))
        notes.add_note(cole, here, NoteKind.VISIT, OTHER_NOTE, dt.datetime.now(dt.UTC))
        rounds((cole, mina))
        bodies = {
            str(r[0])
            for r in mina.conn.execute(
                "SELECT body FROM notes WHERE case_id IN (?, ?)", (other, new)
            ).fetchall()
        }
        assert {LATER_NOTE, OTHER_NOTE} <= bodies


def test_a_caseworker_whose_case_is_re_allocated_cannot_read_it_again_with_what_it_keeps(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    with team_world(store, keyring, tmp_path) as world:
        mina, cole, gid = world.mina, world.cole, world.case_gid
        from app.services import cases

        case_here = case_by_gid(mina.conn, gid)
        cara_here = int(
            mina.conn.execute(
                "SELECT id FROM users WHERE username = ?", (world.cara.username,)
            ).fetchone()[0]
        )
        assert case_here is not None
        held = case_keys(cole, gid)
        assert set(held) <= attack(world, keyring, _folder(world.shared), (cole,))
        old = device_key(cole)
        cases.allocate(mina, case_here, cara_here)
        rounds((mina, cole, world.admin, world.cara), count=3)
        assert case_by_gid(cole.conn, gid) is None
        assert case_by_gid(world.cara.conn, gid) is not None
        # Everything the former caseworker's laptop holds, with the whole folder: no key of
        # the case comes out of it.
        pool = attack(world, keyring, _folder(world.shared), (cole,))
        recovered = len(set(held) & pool)
        assert recovered == 0
        assert device_key(cole) != old
