"""The writes on personal data that travel beside the case's own records (break-glass records,
retention decisions, contact overrides, people on no case, a person put on another case), a
store of many records becoming a team's first laptop, and what a re-allocation in the middle
of a manager's changes lets the old caseworker's laptop read."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from app.crypto import envelopes
from app.crypto.device import DeviceSecrets
from app.crypto.team import open_sealed_key
from app.models import cases as case_model
from app.models import settings as settings_model
from app.models.db import transaction
from app.models.records import CaseDetails, CaseRole, NoteKind, SafeContact
from app.models.users import Role
from app.services import access, accounts, cases, letters, notes, retention
from app.services import team as team_service
from app.services.contact_rules import Output
from app.services.session import Session
from app.sync import engine, ops
from app.sync.clock import Hlc, HlcClock
from app.sync.folder import FolderTransport
from tests.helpers import (
    ADMIN,
    CASEWORKER,
    CASEWORKER2,
    MANAGER,
    MemoryKeyring,
    StoreCopy,
    copy_store,
)
from tests.services import forensics
from tests.services.casework import PASSWORDS, new_case, person, signed_in, user_id
from tests.services.closed_cases import make_closed_case, reference_of
from tests.sync.team_world import case_by_gid, give_roles, join_laptop, later
from tests.sync.test_apply import _deliver

BEFORE = "Qzbeforenote made while the first worker held the case."
AFTER = ("Qzafternote one made for the second worker.", "Qzafternote two made unallocated.")
W1_PW, W2_PW = "birch-canyon-ember-58", "saffron-glacier-quill-36"


@contextlib.contextmanager
def managing_admin(store: StoreCopy) -> Iterator[Session]:
    """The admin, who also manages, signed in on the office laptop; signed out after."""
    with signed_in(store, ADMIN) as s:
        give_roles(s, frozenset({Role.ADMIN, Role.MANAGER}))
    with signed_in(store, ADMIN) as admin:
        admin.roles = frozenset({Role.ADMIN, Role.MANAGER})
        yield admin


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
    with managing_admin(store) as admin:
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


# -- records beside a case, on copies of one store exchanging operations directly -------------


def _laptop(store: StoreCopy, folder: Path, user: str, device: str) -> Session:
    path = copy_store(store.path, folder)
    session = accounts.sign_in(path, user, PASSWORDS[user], device=DeviceSecrets(store.keyring))
    with transaction(session.conn):
        settings_model.put(session.conn, ops.DEVICE_SETTING, device)
    return session


def _switch(session: Session, store: StoreCopy, user: str) -> Session:
    path = session.vault.path
    accounts.sign_out(session)
    return accounts.sign_in(path, user, PASSWORDS[user], device=DeviceSecrets(store.keyring))


def test_break_glass_retention_decisions_and_overrides_reach_another_managers_laptop(
    store: StoreCopy, tmp_path: Path
) -> None:
    with signed_in(store, MANAGER) as s:
        case_id, client = new_case(s)
        cases.set_safe_contact(s, case_id, SafeContact(client, letters_ok=False))
        closed_id = make_closed_case(s)
        closed_ref = reference_of(s, closed_id)
    office = _laptop(store, tmp_path / "office", CASEWORKER, "office")
    other = _laptop(store, tmp_path / "other", MANAGER, "other")
    try:
        access.break_glass(office, case_id, "Qzglass client rang the out-of-hours line")
        office = _switch(office, store, MANAGER)
        letters.letter(
            office, case_id, client, Output.CLOSURE, override_reason="Qzhanded at the office"
        )
        office = _switch(office, store, ADMIN)
        other = _switch(other, store, ADMIN)
        assert closed_ref in [i.reference for i in retention.due_items(other)]
        other = _switch(other, store, MANAGER)
        until = office.today() + dt.timedelta(days=90)
        retention.extend(office, closed_ref, "Qzkept for the review of the case", until)
        assert _deliver(office, other, [], []) == 0

        # The other manager sees the break-glass opening with its reason, the override with
        # its reason, and the case kept longer, on their own laptop.
        [glass] = access.break_glass_log(other)
        assert glass.reason == "Qzglass client rang the out-of-hours line"
        assert [o.reason for o in letters.overrides(other)] == ["Qzhanded at the office"]
        # The case kept longer is no longer due on the other laptop either.
        other = _switch(other, store, ADMIN)
        assert closed_ref not in [i.reference for i in retention.due_items(other)]
    finally:
        for laptop in (office, other):
            if laptop.active:
                accounts.sign_out(laptop)


# -- people who move between cases, or are on none -------------------------------------------


def test_a_person_put_on_another_case_or_given_a_new_case_reaches_that_cases_worker(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    laptops = tmp_path / "laptops"
    with managing_admin(store) as admin:
        first, _ = new_case(admin, person("Qzfirst", "Client"))
        second, _ = new_case(admin, person("Qzsecond", "Client"))
        child = cases.add_person(admin, first, person("Qzchild", "Shared"), CaseRole.CHILD)
        cole, cara = user_id(admin, CASEWORKER), user_id(admin, CASEWORKER2)
        cases.allocate(admin, first, cole)
        cases.allocate(admin, second, cara)
        gids = [ops.gid_of(admin.conn, "cases", c) for c in (first, second)]
        team_service.create_team(admin, shared)
        w2 = join_laptop(admin, CASEWORKER2, laptops, keyring, W2_PW)
        try:
            for laptop in (admin, w2, admin, w2):
                team_service.sync(laptop)
            assert case_by_gid(w2.conn, str(gids[1])) is not None
            assert case_by_gid(w2.conn, str(gids[0])) is None

            # The child of the first case is put on the second too: its worker receives them.
            later(admin, 5)
            cases.link_person(admin, second, child, CaseRole.CHILD)
            # A new case for the second case's client, reusing their record, allocated to the
            # second worker.
            client2 = case_model.client_id(admin.conn, second)
            assert client2 is not None
            third = cases.create_referral(
                admin,
                person("Qzsecond", "Client"),
                CaseDetails(referral_date=admin.today(), referral_source="GP"),
                allocate_to=cara,
                existing_client_id=client2,
            )
            third_gid = ops.gid_of(admin.conn, "cases", third)
            for laptop in (admin, w2, admin, w2):
                team_service.sync(laptop)
            w2_second = case_by_gid(w2.conn, str(gids[1]))
            w2_third = case_by_gid(w2.conn, str(third_gid))
            assert w2_second is not None and w2_third is not None
            on_second = {m.person.name for m in case_model.members(w2.conn, w2_second)}
            assert "Qzchild Shared" in on_second
            assert [m.person.name for m in case_model.members(w2.conn, w2_third)] == [
                "Qzsecond Client"
            ]
            assert w2.conn.execute("SELECT count(*) FROM team_pending").fetchone()[0] == 0

        finally:
            if w2.active:
                accounts.sign_out(w2)
