"""``safecase team ...``: create, invite, join, sync, status and devices from the command line."""

from __future__ import annotations

from pathlib import Path

from app.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from tests.helpers import MemoryKeyring
from tests.test_cli import cli

ADMIN_PW = "ember-falcon-quartz-river"
WORKER_PW = "linen-oasis-umber-sage"
JOINED_PW = "copper-meadow-lantern-93"


def test_an_admin_makes_a_team_and_a_caseworker_joins_it_from_the_command_line(
    tmp_path: Path,
) -> None:
    keyring = MemoryKeyring()
    store, folder = str(tmp_path / "office.safecase"), tmp_path / "shared"
    folder.mkdir()
    me = ["--store", store, "--user", "ops-admin"]
    assert (
        cli(["init", "--store", store, "--admin", "ops-admin"], f"{ADMIN_PW}\n" * 2, keyring).code
        == 0
    )
    added = cli(
        ["user", "add", *me, "--new", "case-1", "--role", "caseworker"],
        f"{ADMIN_PW}\n{WORKER_PW}\n{WORKER_PW}\n",
        keyring,
    )
    assert added.code == EXIT_OK, added.err

    # Not in a team yet: one sentence, exit 1, nothing changed.
    early = cli(["team", "sync", *me], f"{ADMIN_PW}\n", keyring)
    assert (early.code, early.err.strip()) == (
        EXIT_FAILED,
        "safecase: This laptop is not in a team yet.",
    )
    made = cli(["team", "create", *me, "--folder", str(folder)], f"{ADMIN_PW}\n", keyring)
    assert made.code == EXIT_OK, made.err
    assert (folder / "devices").is_dir()

    invitation = tmp_path / "case-1.invitation"
    invited = cli(
        ["team", "invite", *me, "--name", "case-1", "--out", str(invitation)],
        f"{ADMIN_PW}\n",
        keyring,
    )
    assert invited.code == EXIT_OK, invited.err
    passphrase = invited.out.splitlines()[-1].strip()
    assert len(passphrase) == 11 and passphrase[5] == "-"
    assert passphrase not in invitation.read_bytes().decode("latin-1")

    laptop = str(tmp_path / "laptop.safecase")
    wrong = cli(
        ["team", "join", "--invitation", str(invitation), "--store", laptop],
        f"AAAAA-AAAAA\n{JOINED_PW}\n{JOINED_PW}\n",
        keyring,
    )
    assert wrong.code == EXIT_FAILED
    assert "does not open with that passphrase" in wrong.err
    assert not Path(laptop).exists()

    joined = cli(
        ["team", "join", "--invitation", str(invitation), "--store", laptop],
        f"{passphrase}\n{JOINED_PW}\n{JOINED_PW}\n",
        keyring,
    )
    assert joined.code == EXIT_OK, joined.err
    assert any(line.strip().count("-") == 12 for line in joined.out.splitlines())  # recovery key
    worker = ["--store", laptop, "--user", "case-1"]

    assert cli(["team", "sync", *me], f"{ADMIN_PW}\n", keyring).code == EXIT_OK
    synced = cli(["team", "sync", *worker], f"{JOINED_PW}\n", keyring)
    assert synced.code == EXIT_OK, synced.err
    assert synced.out.startswith("Synced:")

    listed = cli(["team", "devices", *me], f"{ADMIN_PW}\n", keyring)
    assert listed.code == EXIT_OK, listed.err
    lines = listed.out.splitlines()
    assert len(lines) == 2
    assert any("case-1" in line and "active" in line for line in lines)
    assert any("(this laptop)" in line and "ops-admin" in line for line in lines)

    status = cli(["team", "status", *worker], f"{JOINED_PW}\n", keyring)
    assert status.code == EXIT_OK, status.err
    assert status.out.startswith("Last synced 20")
    assert "0 conflict(s)" in status.out and "shared folder reachable" in status.out

    # A caseworker may not list the team's devices; a second join with the used invitation is
    # refused by the admin's laptop on its next sync and logged there.
    refused = cli(["team", "devices", *worker], f"{JOINED_PW}\n", keyring)
    assert refused.code == EXIT_FAILED and "role" in refused.err
    again = str(tmp_path / "again.safecase")
    assert (
        cli(
            ["team", "join", "--invitation", str(invitation), "--store", again],
            f"{passphrase}\n{JOINED_PW}\n{JOINED_PW}\n",
            keyring,
        ).code
        == EXIT_OK
    )
    cli(["team", "sync", *me], f"{ADMIN_PW}\n", keyring)
    listed = cli(["team", "devices", *me], f"{ADMIN_PW}\n", keyring)
    assert len(listed.out.splitlines()) == 2
    status = cli(["team", "status", *me], f"{ADMIN_PW}\n", keyring)
    assert "The invitation was used already; no device was added." in status.out

    # The folder goes away (a share unmounted): one sentence, exit 1, the store as it was.
    folder.rename(tmp_path / "unplugged")
    away = cli(["team", "sync", *worker], f"{JOINED_PW}\n", keyring)
    assert away.code == EXIT_FAILED
    assert away.err.strip() == (
        f"safecase: The team's shared folder {folder} cannot be reached. Check that it is "
        "connected, then sync again."
    )
    status = cli(["team", "status", *worker], f"{JOINED_PW}\n", keyring)
    assert status.code == EXIT_OK and "shared folder not reachable" in status.out


def test_team_commands_refuse_bad_usage_in_one_line(tmp_path: Path) -> None:
    missing = cli(["team", "join", "--store", str(tmp_path / "x.safecase")])
    assert missing.code == EXIT_USAGE
    assert len(missing.err.strip().splitlines()) == 1
    gone = cli(
        ["team", "join", "--invitation", str(tmp_path / "none"), "--store", str(tmp_path / "x")],
        f"AAAAA-AAAAA\n{JOINED_PW}\n{JOINED_PW}\n",
    )
    assert gone.code == EXIT_USAGE
    assert gone.err.strip() == "safecase: The invitation file cannot be read."
