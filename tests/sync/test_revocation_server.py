"""Revocation through the PostgreSQL team server: the admin's laptop has the server refuse the
lost laptop and leaves it a signed order; the laptop reconnects, destroys its store and
answers with a receipt the admin's laptop audits. Each laptop syncs with ``engine.sync`` and
its own ``PostgresTransport``, and the revocation steps of a sync are called as
``team.sync`` calls them (the services' wiring to a server is not part of this test)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from app.crypto.device import ACCOUNT, SERVICE
from app.models.records import NoteKind
from app.models.users import Role
from app.services import accounts, cases, notes
from app.services import revocation as revocation_service
from app.services import team as team_service
from app.sync import engine, ops
from app.sync.revocation import StoreDestroyed
from tests import pgcluster
from tests.helpers import ADMIN, CASEWORKER, MemoryKeyring, StoreCopy
from tests.pgcluster import Cluster
from tests.services.casework import new_case, person, signed_in, user_id
from tests.sync.team_world import case_by_gid, give_roles, join_laptop

GIVEN, FAMILY = "Qzrevserverg", "Qzrevserverf"
NOTE = "Qzrevservernote before the laptop was lost."


def test_a_revoked_laptop_that_reconnects_to_the_server_destroys_its_store(
    store: StoreCopy, tmp_path: Path, pg_cluster: Cluster
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    with signed_in(store, ADMIN) as s:
        give_roles(s, frozenset({Role.ADMIN, Role.MANAGER}))
    with signed_in(store, ADMIN) as admin:
        admin.roles = frozenset({Role.ADMIN, Role.MANAGER})
        case_id, _ = new_case(admin, person(GIVEN, FAMILY))
        cases.open_referral(admin, case_id, admin.today())
        cases.allocate(admin, case_id, user_id(admin, CASEWORKER))
        notes.add_note(admin, case_id, NoteKind.CALL, NOTE, dt.datetime.now(dt.UTC))
        case_gid = ops.gid_of(admin.conn, "cases", case_id)
        assert case_gid is not None
        team_id = team_service.create_team(admin, shared)
        shutil.rmtree(shared / "devices")  # from here on, only the server carries envelopes
        own_keyring = MemoryKeyring()
        cole = join_laptop(admin, CASEWORKER, tmp_path / "laptops", own_keyring, "birch-ember-58x")
        try:
            server = pgcluster.team_server(pg_cluster, "revocation", team_id)
            admin_device = engine.load(admin.conn).device.device_id
            cole_device = engine.load(cole.conn).device.device_id
            to_admin = server.enrol(admin_device, admin=True)
            to_cole = server.enrol(cole_device)
            for laptop, transport in ((admin, to_admin), (cole, to_cole)) * 2:
                engine.sync(laptop.conn, laptop.user_id, laptop.now(), transport)
            assert case_by_gid(cole.conn, case_gid) is not None
            store_path = cole.vault.path

            revocation_service.revoke_device(admin.conn, cole_device, admin.user_id, admin.now())
            sent = revocation_service.post_orders(admin.conn, admin.user_id, admin.now(), to_admin)
            assert sent == 1
            assert to_cole.order_for(cole_device) is not None

            with pytest.raises(StoreDestroyed):
                revocation_service.obey_order(cole.vault, engine.load(cole.conn), cole.now, to_cole)
            assert not store_path.exists()
            assert own_keyring.get_password(SERVICE, ACCOUNT) is None

            found = revocation_service.check_receipts(
                admin.conn, admin.user_id, admin.now(), to_admin
            )
            assert found == 1
            [line] = [d for d in team_service.devices(admin) if d.device_id == cole_device]
            assert line.state == "revoked, destruction confirmed"
        finally:
            if cole.active:
                accounts.sign_out(cole)
