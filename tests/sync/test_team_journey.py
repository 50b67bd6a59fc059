"""The 3-laptop journey, in one process: separate stores, one in-memory keyring, a tmp folder.

The admin's laptop (its user also a manager) makes the team and invites two caseworkers, who
join with new stores. The case, made before the team, reaches the laptops that hold it by
syncing only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from app.models import cases as case_model
from app.models.records import (
    Direction,
    LawfulBasis,
    NoteKind,
    RecipientCategory,
    SafeContact,
    ShareRecord,
)
from app.models.users import Role
from app.services import accounts, cases, conflicts, notes, sharing
from app.services import team as team_service
from app.services.session import Session
from app.sync import engine, ops
from tests.helpers import ADMIN, CASEWORKER, CASEWORKER2, MemoryKeyring, StoreCopy
from tests.services import forensics
from tests.services.casework import new_case, person, signed_in, user_id
from tests.sync.team_world import case_by_gid, give_roles, join_laptop, later

CLIENT_GIVEN, CLIENT_FAMILY = "Qzjourneygiven", "Qzjourneyfamily"
OFFLINE_NOTE = "Qzofflinenote written in the field."
FIRST_NOTE = "Qzfirstnote before the team."
NUMBERS = ("07700 900111", "07700 900222", "07700 900333")
W1_PW, W2_PW = "birch-canyon-ember-58", "saffron-glacier-quill-36"


def _number(session: Session, case_id: int, number: str) -> None:
    client = case_model.client_id(session.conn, case_id)
    assert client is not None
    current = case_model.safe_contact(session.conn, case_id, client) or SafeContact(client)
    cases.set_safe_contact(session, case_id, dataclasses.replace(current, safe_number=number))


def _shown_number(session: Session, case_id: int) -> str:
    client = case_model.client_id(session.conn, case_id)
    assert client is not None
    contact = case_model.safe_contact(session.conn, case_id, client)
    assert contact is not None
    return contact.safe_number


def _device(session: Session) -> str:
    return engine.load(session.conn).device.device_id


def test_three_laptops_share_a_case_hold_a_conflict_and_the_old_worker_keeps_nothing(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    laptops = tmp_path / "laptops"
    with signed_in(store, ADMIN) as s:
        give_roles(s, frozenset({Role.ADMIN, Role.MANAGER}))
    with signed_in(store, ADMIN) as admin:
        admin.roles = frozenset({Role.ADMIN, Role.MANAGER})
        case_id, _client = new_case(admin, person(CLIENT_GIVEN, CLIENT_FAMILY))
        cases.open_referral(admin, case_id, admin.today())
        cole, cara = user_id(admin, CASEWORKER), user_id(admin, CASEWORKER2)
        cases.allocate(admin, case_id, cole)
        _number(admin, case_id, NUMBERS[0])
        notes.add_note(admin, case_id, NoteKind.CALL, FIRST_NOTE, dt.datetime.now(dt.UTC))
        case_gid = ops.gid_of(admin.conn, "cases", case_id)
        assert case_gid is not None

        team_service.create_team(admin, shared)
        w1 = join_laptop(admin, CASEWORKER, laptops, keyring, W1_PW)
        w2 = join_laptop(admin, CASEWORKER2, laptops, keyring, W2_PW)
        try:
            for laptop in (admin, w1, w2):
                team_service.sync(laptop)
            for laptop in (admin, w1, w2):
                team_service.sync(laptop)
            w1_case = case_by_gid(w1.conn, case_gid)
            assert w1_case is not None and case_by_gid(w2.conn, case_gid) is None
            # Everyone is in the directory, and the caseworker holds the case's key.
            assert len(team_service.devices(admin)) == 3
            assert team_service.status(w1).joined
            assert (
                w1.conn.execute(
                    "SELECT count(*) FROM team_keys WHERE scope = ?", (f"case:{case_gid}",)
                ).fetchone()[0]
                >= 1
            )
            assert (
                w2.conn.execute(
                    "SELECT count(*) FROM team_keys WHERE scope = ?", (f"case:{case_gid}",)
                ).fetchone()[0]
                == 0
            )

            # The first worker, offline, adds a note and a share, and changes the safe number.
            later(w1, 5)
            notes.add_note(w1, w1_case, NoteKind.VISIT, OFFLINE_NOTE, dt.datetime.now(dt.UTC))
            client_w1 = case_model.client_id(w1.conn, w1_case)
            assert client_w1 is not None
            sharing.record_share(
                w1,
                ShareRecord(
                    case_id=w1_case,
                    direction=Direction.OUT,
                    shared_at=(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
                    organisation="Northshire Homes",
                    recipient_category=RecipientCategory.HOUSING,
                    person_ids=(client_w1,),
                    data_categories=("address",),
                    purpose="Emergency rehousing",
                    method="phone",
                    lawful_basis=LawfulBasis.VITAL_INTERESTS,
                    reason="Immediate risk at the current address",
                ),
            )
            _number(w1, w1_case, NUMBERS[1])

            # Meanwhile the manager re-allocates the case and changes the safe number too.
            later(admin, 6)
            cases.allocate(admin, case_id, cara)
            _number(admin, case_id, NUMBERS[2])

            for laptop in (w1, admin, w2, w1, admin, w2, w1):
                team_service.sync(laptop)
            w2_case = case_by_gid(w2.conn, case_gid)
            assert w2_case is not None

            # What the manager did after re-allocating went under a new key, for the new worker
            # and the managers only.
            newest = admin.conn.execute(
                "SELECT for_user, holders FROM team_keys WHERE scope = ? "
                "ORDER BY made_at DESC LIMIT 1",
                (f"case:{case_gid}",),
            ).fetchone()
            assert newest[0] == ops.gid_of(admin.conn, "users", cara)
            holders = str(newest[1])
            assert _device(w2) in holders and _device(w1) not in holders

            # The conflict is held on the manager's laptop and the second worker's, both values
            # kept; the offline note and share arrived on both.
            for laptop, here in ((admin, case_id), (w2, w2_case)):
                [held] = [c for c in conflicts.on_case(laptop, here) if c.open]
                assert held.field == "safe_contacts.safe_number"
                assert sorted(str(c.value) for c in held.candidates) == [NUMBERS[1], NUMBERS[2]]
                bodies = [
                    str(r[0])
                    for r in laptop.conn.execute(
                        "SELECT body FROM notes WHERE case_id = ?", (here,)
                    ).fetchall()
                ]
                assert OFFLINE_NOTE in bodies
                assert len(sharing.shares(laptop, here)) == 1

            # The manager resolves it; the resolution travels to the second worker.
            [held] = [c for c in conflicts.on_case(admin, case_id) if c.open]
            chosen = next(c for c in held.candidates if c.value == NUMBERS[1])
            conflicts.resolve(admin, held.id, chosen.op_id)
            for laptop in (admin, w2):
                team_service.sync(laptop)
            assert [c for c in conflicts.on_case(w2, w2_case) if c.open] == []
            assert _shown_number(w2, w2_case) == NUMBERS[1]
            assert _shown_number(admin, case_id) == NUMBERS[1]
            assert team_service.status(admin).conflicts == 0

            # The first worker's laptop no longer holds the case: not in its tables, and no page
            # of its store (free pages and the log included) holds the case's text.
            assert case_by_gid(w1.conn, case_gid) is None
            assert (
                w1.conn.execute(
                    "SELECT count(*) FROM team_keys WHERE scope = ?", (f"case:{case_gid}",)
                ).fetchone()[0]
                == 0
            )
            key = forensics.data_key(w1)
            w1_path = w1.vault.path
        finally:
            for laptop in (w1, w2):
                if laptop.active:
                    accounts.sign_out(laptop)
    pages = forensics.read_pages(w1_path, key)
    sentinels = [CLIENT_GIVEN, CLIENT_FAMILY, "Qzofflinenote", "Qzfirstnote"]
    assert forensics.found(pages, sentinels) == {}
