"""``safecase team compact`` and ``safecase purge --dry-run`` on the admin's laptop of a team
(the laptops of tests/sync/test_team_purge.py)."""

from __future__ import annotations

from pathlib import Path

from app.errors import EXIT_FAILED, EXIT_OK
from app.services import team as team_service
from tests.helpers import ADMIN, ADMIN_PW, CASEWORKER, CASEWORKER_PW, MemoryKeyring, StoreCopy
from tests.services.casework import person
from tests.services.closed_cases import make_closed_case
from tests.sync.test_team_purge import case_envelopes, purge_on_admin, team_world
from tests.test_cli import cli


def test_the_admin_lists_the_teams_due_cases_and_compacts_the_folder_from_the_command_line(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    with team_world(store, keyring, tmp_path) as world:
        # A case held only on the manager's and caseworker's laptops, closed long ago.
        mina = world.mina
        cole = int(
            mina.conn.execute("SELECT id FROM users WHERE username = ?", (CASEWORKER,)).fetchone()[
                0
            ]
        )
        case_id = make_closed_case(mina, person("Qzcligiven", "Qzclifamily"), allocate_to=cole)
        remote = str(
            mina.conn.execute("SELECT reference FROM cases WHERE id = ?", (case_id,)).fetchone()[0]
        )
        purge_on_admin(world)
        for laptop in (world.admin, world.cole, mina, world.admin):
            team_service.sync(laptop)
        gid = world.case_gid
        assert case_envelopes(world.shared, gid)
    me = ["--store", str(store.path), "--user", ADMIN]

    listed = cli(["purge", *me, "--dry-run"], f"{ADMIN_PW}\n", keyring)
    assert listed.code == EXIT_OK, listed.err
    assert any(
        line.startswith(f"{remote}\t2019-03-31\t2026-03-31") for line in listed.out.splitlines()
    ), listed.out
    assert "Qzcli" not in listed.out

    refused = cli(
        ["team", "compact", "--store", str(store.path), "--user", CASEWORKER],
        f"{CASEWORKER_PW}\n",
        keyring,
    )
    assert refused.code == EXIT_FAILED and "role" in refused.err
    assert case_envelopes(world.shared, gid)

    done = cli(["team", "compact", *me], f"{ADMIN_PW}\n", keyring)
    assert done.code == EXIT_OK, done.err
    assert done.out.startswith("Compacted: ") and "0 envelope" not in done.out
    assert case_envelopes(world.shared, gid) == []
