"""The writes on personal data that travel beside the case's own records (break-glass records,
retention decisions, contact overrides, people on no case, a person put on another case), a
store of many records becoming a team's first laptop, and what a re-allocation in the middle
of a manager's changes lets the old caseworker's laptop read."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from app.crypto import envelopes
from app.crypto.team import open_sealed_key
from app.models import cases as case_model
from app.models.db import transaction
from app.models.records import CaseRole, NoteKind
from app.models.users import Role
from app.services import access, accounts, cases, notes
from app.services import team as team_service
from app.services.session import Session
from app.sync import engine, ops
from app.sync.clock import Hlc, HlcClock
from app.sync.folder import FolderTransport
from tests.helpers import ADMIN, CASEWORKER, CASEWORKER2, MemoryKeyring, StoreCopy
from tests.services import forensics
from tests.services.casework import new_case, person, signed_in, user_id
from tests.sync.team_world import case_by_gid, give_roles, join_laptop, later

BEFORE = "Qzbeforenote made while the first worker held the case."
AFTER = ("Qzafternote one made for the second worker.", "Qzafternote two made unallocated.")
W1_PW, W2_PW = "birch-canyon-ember-58", "saffron-glacier-quill-36"


def _envelopes(shared: Path) -> list[bytes]:
    """Every envelope in the folder (number 0 of each device is its enrolment request)."""
    return [inc.data for inc in FolderTransport(shared).incoming({}) if inc.seq]


def _keys_ever_sealed_to(laptop: Session, shared: Path) -> dict[str, bytes]:
    """Every key the laptop holds or was ever sent in a grant envelope, opened with its own
    device keys, whether or not it still keeps them."""
    state = engine.load(laptop.conn)
    me = state.device.device_id
    found = engine.held_keys(laptop.conn)
    grant_keys = engine._grant_keys(state)
    for data in _envelopes(shared):
        env = envelopes._parse(data)
        if env.scope != f"{engine.GRANT}:{me}":
            continue
        header = envelopes._header(
            env.team, env.sender, env.seq, env.previous, env.scope, env.key_id
        )
        body = json.loads(
            ChaCha20Poly1305(grant_keys[env.key_id]).decrypt(env.nonce, env.ciphertext, header)
        )
        for item in body.get("keys") or []:
            sealed = base64.b64decode(str(item["sealed"]))
            found[str(item["key_id"])] = open_sealed_key(
                sealed, key_id=str(item["key_id"]), device=state.device
            )
    return found


def _readable(keys: dict[str, bytes], shared: Path) -> str:
    """The plaintext of every case envelope in the folder that one of ``keys`` opens."""
    texts = []
    for data in _envelopes(shared):
        env = envelopes._parse(data)
        key = keys.get(env.key_id)
        if key is None or not env.scope.startswith("case:"):
            continue
        header = envelopes._header(
            env.team, env.sender, env.seq, env.previous, env.scope, env.key_id
        )
        texts.append(ChaCha20Poly1305(key).decrypt(env.nonce, env.ciphertext, header).decode())
    return "\n".join(texts)


def test_what_a_manager_writes_after_re_allocating_never_reaches_the_old_worker(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    with signed_in(store, ADMIN) as s:
        give_roles(s, frozenset({Role.ADMIN, Role.MANAGER}))
    with signed_in(store, ADMIN) as admin:
        admin.roles = frozenset({Role.ADMIN, Role.MANAGER})
        case_id, _ = new_case(admin, person("Qzrealloc", "Qzclient"))
        cases.open_referral(admin, case_id, admin.today())
        cole, cara = user_id(admin, CASEWORKER), user_id(admin, CASEWORKER2)
        cases.allocate(admin, case_id, cole)
        case_gid = ops.gid_of(admin.conn, "cases", case_id)
        assert case_gid is not None
        team_service.create_team(admin, shared)
        w1 = join_laptop(admin, CASEWORKER, tmp_path / "laptops", keyring, W1_PW)
        w2 = join_laptop(admin, CASEWORKER2, tmp_path / "laptops", keyring, W2_PW)
        try:
            for laptop in (admin, w1, w2, admin, w1, w2):
                team_service.sync(laptop)
            assert case_by_gid(w1.conn, case_gid) is not None

            # Between two syncs the manager writes a note, re-allocates the case, writes
            # another, takes the case off every worker and writes a third.
            later(admin, 5)
            when = dt.datetime.now(dt.UTC)
            notes.add_note(admin, case_id, NoteKind.CALL, BEFORE, when)
            cases.allocate(admin, case_id, cara)
            notes.add_note(admin, case_id, NoteKind.CALL, AFTER[0], when)
            cases.allocate(admin, case_id, None)
            notes.add_note(admin, case_id, NoteKind.CALL, AFTER[1], when)
            for laptop in (admin, w1, w2, admin, w1, w2):
                team_service.sync(laptop)

            # The old worker's laptop could read the note made while it held the case and the
            # re-allocation, and nothing made after it: no key it was ever sent opens it.
            readable = _readable(_keys_ever_sealed_to(w1, shared), shared)
            assert "Qzbeforenote" in readable
            assert "Qzafternote" not in readable
            # Nor did the second worker get what was written once the case was taken off them.
            later_text = _readable(_keys_ever_sealed_to(w2, shared), shared)
            assert "Qzafternote two" not in later_text
            # A case taken off every worker leaves the old worker's laptop as a re-allocation
            # does, and no page of its store holds the case's text.
            assert case_by_gid(w1.conn, case_gid) is None
            key, w1_path = forensics.data_key(w1), w1.vault.path
        finally:
            for laptop in (w1, w2):
                if laptop.active:
                    accounts.sign_out(laptop)
    pages = forensics.read_pages(w1_path, key)
    assert forensics.found(pages, ["Qzafternote", "Qzrealloc"]) == {}


def test_a_million_changes_in_one_millisecond_keep_their_order() -> None:
    """A store of 20,000 demo cases makes over 800,000 operations in one go when it becomes a
    team's first laptop; the clock's counter carries into the next millisecond instead of
    refusing the stamp (which failed the team's creation)."""
    clock = HlcClock("laptop-a")
    last = clock.tick(1_000)
    for _ in range(1_000_001):
        stamp = clock.tick(1_000)
    assert stamp > last and stamp.wall_ms == 1_001
    assert Hlc.decode(stamp.encode()) == stamp
    received = clock.receive(Hlc(1_001, 999_999, "laptop-b"), 1_000)
    assert received > Hlc(1_001, 999_999, "laptop-b")
    assert Hlc.decode(received.encode()) == received


__all__ = ["CaseRole", "access", "case_model", "transaction"]
