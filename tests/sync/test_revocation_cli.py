"""``safecase team revoke`` and ``safecase user disable`` in a team, from the command line: each
laptop cut off destroys its store at its next sync (exit 1, one sentence), and the admin's
``team devices`` then says its destruction was confirmed."""

from __future__ import annotations

from pathlib import Path

from app.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from tests.helpers import MemoryKeyring
from tests.test_cli import cli

ADMIN_PW = "ember-falcon-quartz-river"
WORKER_PW = "linen-oasis-umber-sage"
LAPTOP_PW = "copper-meadow-lantern-93"
DESTROYED = "safecase: This laptop was removed from the team; its records have been destroyed."


def test_a_revoked_and_a_disabled_users_laptop_destroy_their_stores_at_their_next_sync(
    tmp_path: Path,
) -> None:
    office = MemoryKeyring()
    store, folder = str(tmp_path / "office.safecase"), tmp_path / "shared"
    folder.mkdir()
    me = ["--store", store, "--user", "ops-admin"]
    assert (
        cli(["init", "--store", store, "--admin", "ops-admin"], f"{ADMIN_PW}\n", office).code == 0
    )
    for name in ("case-1", "case-2"):
        added = cli(
            ["user", "add", *me, "--new", name, "--role", "caseworker"],
            f"{ADMIN_PW}\n{WORKER_PW}\n{WORKER_PW}\n",
            office,
        )
        assert added.code == EXIT_OK, added.err
    assert cli(["team", "create", *me, "--folder", str(folder)], f"{ADMIN_PW}\n", office).code == 0

    laptops: dict[str, tuple[list[str], MemoryKeyring, Path]] = {}
    for name in ("case-1", "case-2"):
        invitation = tmp_path / f"{name}.invitation"
        invited = cli(
            ["team", "invite", *me, "--name", name, "--out", str(invitation)],
            f"{ADMIN_PW}\n",
            office,
        )
        assert invited.code == EXIT_OK, invited.err
        passphrase = invited.out.splitlines()[-1].strip()
        laptop, keyring = tmp_path / name / "laptop.safecase", MemoryKeyring()
        laptop.parent.mkdir()
        joined = cli(
            ["team", "join", "--invitation", str(invitation), "--store", str(laptop)],
            f"{passphrase}\n{LAPTOP_PW}\n{LAPTOP_PW}\n",
            keyring,
        )
        assert joined.code == EXIT_OK, joined.err
        laptops[name] = (["--store", str(laptop), "--user", name], keyring, laptop)
    for _ in range(2):
        assert cli(["team", "sync", *me], f"{ADMIN_PW}\n", office).code == EXIT_OK
        for args, keyring, _path in laptops.values():
            synced = cli(["team", "sync", *args], f"{LAPTOP_PW}\n", keyring)
            assert synced.code == EXIT_OK, synced.err

    listed = cli(["team", "devices", *me], f"{ADMIN_PW}\n", office).out.splitlines()
    second = next(line.split()[0] for line in listed if "case-2" in line)
    assert all("last seen 20" in line for line in listed if "this laptop" not in line)

    # Case-1 is disabled (their laptop goes with them); case-2's laptop is revoked.
    disabled = cli(["user", "disable", *me, "--name", "case-1"], f"{ADMIN_PW}\n", office)
    assert disabled.code == EXIT_OK, disabled.err
    revoked = cli(["team", "revoke", *me, "--device", second], f"{ADMIN_PW}\n", office)
    assert revoked.code == EXIT_OK, revoked.err
    assert revoked.out.strip() == (
        f"Device {second} revoked: the team ignores what it sends from now on, and it destroys "
        "its store when it next syncs."
    )
    again = cli(["team", "revoke", *me, "--device", second], f"{ADMIN_PW}\n", office)
    assert (again.code, again.err.strip()) == (
        EXIT_USAGE,
        "safecase: That device is revoked already.",
    )

    for args, keyring, path in laptops.values():
        ended = cli(["team", "sync", *args], f"{LAPTOP_PW}\n", keyring)
        assert (ended.code, ended.err.strip()) == (EXIT_FAILED, DESTROYED)
        assert not path.exists() and list(path.parent.iterdir()) == []
        assert keyring.values == {}

    assert cli(["team", "sync", *me], f"{ADMIN_PW}\n", office).code == EXIT_OK
    listed = cli(["team", "devices", *me], f"{ADMIN_PW}\n", office).out.splitlines()
    others = [line for line in listed if "this laptop" not in line]
    assert len(others) == 2
    assert all("revoked, destruction confirmed" in line for line in others)
