"""A team's laptops make references that never collide, and a store that becomes a team's first
laptop sends the records it already held."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from app.crypto.connection import Connection
from app.models import cases as case_model
from app.models import users as user_model
from app.models.users import Role
from app.services import accounts, demo
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


# What a case is made of, counted on a laptop by the case's local id.
_PARTS = {
    "people": "SELECT count(*) FROM case_people WHERE case_id = ?",
    "notes": "SELECT count(*) FROM notes WHERE case_id = ?",
    "corrections": "SELECT count(*) FROM note_revisions r JOIN notes n ON n.id = r.note_id "
    "WHERE n.case_id = ?",
    "consents": "SELECT count(*) FROM consents c JOIN case_people m ON m.person_id = c.person_id "
    "WHERE m.case_id = ?",
    "shares": "SELECT count(*) FROM shares WHERE case_id = ?",
    "dash": "SELECT count(*) FROM dash_assessments WHERE case_id = ?",
    "safe contacts": "SELECT count(*) FROM safe_contacts WHERE case_id = ?",
    "children": "SELECT count(*) FROM case_children WHERE case_id = ?",
}


def _parts(conn: Connection, case_id: int) -> dict[str, int]:
    found = {name: int(conn.execute(q, (case_id,)).fetchone()[0]) for name, q in _PARTS.items()}
    case = case_model.get(conn, case_id)
    assert case is not None
    return {**found, f"reference {case.reference}": 1, f"status {case.status.value}": 1}


def test_a_store_that_becomes_the_first_laptop_sends_the_cases_it_held_whole(
    training_store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    with signed_in(training_store, ADMIN) as s:
        give_roles(s, frozenset({Role.ADMIN, Role.MANAGER}))
    with signed_in(training_store, ADMIN) as admin:
        admin.roles = frozenset({Role.ADMIN, Role.MANAGER})
        demo.generate_cases(admin, 12, 7, today=dt.date(2026, 11, 1))
        worker_id = user_model.by_name(admin.conn, CASEWORKER)
        assert worker_id is not None
        theirs = {
            str(r[1]): int(r[0])
            for r in admin.conn.execute(
                "SELECT id, gid FROM cases WHERE allocated_user_id = ?", (worker_id.id,)
            ).fetchall()
        }
        assert theirs
        team_service.create_team(admin, shared)
        w1 = join_laptop(admin, CASEWORKER, tmp_path / "laptops", keyring, W1_PW)
        try:
            for laptop in (admin, w1, admin, w1):
                team_service.sync(laptop)
            for gid, case_id in theirs.items():
                held = case_by_gid(w1.conn, gid)
                assert held is not None
                assert _parts(w1.conn, held) == _parts(admin.conn, case_id)
            total = admin.conn.execute("SELECT count(*) FROM cases").fetchone()[0]
            assert w1.conn.execute("SELECT count(*) FROM cases").fetchone()[0] == len(theirs)
            assert total > len(theirs)
        finally:
            if w1.active:
                accounts.sign_out(w1)
