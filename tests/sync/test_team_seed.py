"""A team's laptops make references that never collide, and a store that becomes a team's first
laptop sends the records it already held."""

from __future__ import annotations

from pathlib import Path

from app.crypto.connection import Connection
from app.models import cases as case_model
from app.models.users import Role
from app.services import accounts
from app.services import team as team_service
from app.sync import ops
from tests.helpers import ADMIN, CASEWORKER, CASEWORKER2, MemoryKeyring, StoreCopy
from tests.services.casework import new_case, person, signed_in
from tests.sync.team_world import case_by_gid, give_roles, join_laptop

W1_PW, W2_PW = "birch-canyon-ember-58", "saffron-glacier-quill-36"


def _reference(conn: Connection, case_id: int) -> str:
    case = case_model.get(conn, case_id)
    assert case is not None
    return str(case.reference)


def test_two_laptops_make_referrals_offline_and_the_manager_holds_both_with_their_own_references(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    with signed_in(store, ADMIN) as s:
        give_roles(s, frozenset({Role.ADMIN, Role.MANAGER}))
    with signed_in(store, ADMIN) as admin:
        admin.roles = frozenset({Role.ADMIN, Role.MANAGER})
        team_service.create_team(admin, shared)
        w1 = join_laptop(admin, CASEWORKER, tmp_path / "laptops", keyring, W1_PW)
        w2 = join_laptop(admin, CASEWORKER2, tmp_path / "laptops", keyring, W2_PW)
        try:
            for laptop in (admin, w1, w2):
                team_service.sync(laptop)
            gids = []
            for laptop, family in ((w1, "Qzseedone"), (w2, "Qzseedtwo")):
                case_id, _ = new_case(laptop, person("Qzseedgiven", family))
                gids.append(ops.gid_of(laptop.conn, "cases", case_id) or "")
            for laptop in (w1, w2, admin):
                team_service.sync(laptop)
            held = [case_by_gid(admin.conn, gid) for gid in gids]
            assert None not in held
            references = {_reference(admin.conn, int(c or 0)) for c in held}
            assert len(references) == 2
        finally:
            for laptop in (w1, w2):
                if laptop.active:
                    accounts.sign_out(laptop)
