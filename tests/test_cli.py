"""The command line: exit codes, one-line messages, passwords on standard input."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import Context, progress_bar, run
from app.crypto.device import DeviceSecrets
from app.errors import EXIT_DAMAGED, EXIT_FAILED, EXIT_OK, EXIT_SIGN_IN, EXIT_USAGE
from tests.helpers import ADMIN, ADMIN_PW, TEST_KDF, MemoryKeyring, StoreCopy


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def cli(args: list[str], stdin: str = "", keyring: MemoryKeyring | None = None) -> Result:
    memory = keyring if keyring is not None else MemoryKeyring()
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(
        stdin=io.StringIO(stdin),
        stdout=out,
        stderr=err,
        device=lambda: DeviceSecrets(memory),
        kdf=TEST_KDF,
    )
    code = run(args, ctx)
    assert "Traceback" not in err.getvalue()
    return Result(code, out.getvalue(), err.getvalue())


def test_a_whole_admin_session_from_the_command_line(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    store = str(tmp_path / "cases.safecase")
    made = cli(
        ["init", "--store", store, "--admin", "ops-admin", "--service", "Test IDVA"],
        "ember-falcon-quartz-river\n",
        keyring,
    )
    assert made.code == EXIT_OK, made.err
    recovery = next(line.strip() for line in made.out.splitlines() if line.count("-") == 12)
    assert len(recovery.split("-")) == 13

    added = cli(
        [
            "user",
            "add",
            "--store",
            store,
            "--user",
            "ops-admin",
            "--new",
            "case-1",
            "--role",
            "caseworker,manager",
        ],
        "ember-falcon-quartz-river\nlinen-oasis-umber-sage\n",
        keyring,
    )
    assert added.code == EXIT_OK, added.err
    listed = cli(
        ["user", "list", "--store", store, "--user", "ops-admin"],
        "ember-falcon-quartz-river\n",
        keyring,
    )
    assert "case-1\tcaseworker,manager\tenabled" in listed.out

    # The admin chose that password: the new user changes it before doing anything else.
    refused = cli(
        ["audit", "verify", "--store", store, "--user", "case-1"],
        "linen-oasis-umber-sage\n",
        keyring,
    )
    assert refused.code != EXIT_OK
    assert "Change your password" in refused.err
    changed = cli(
        ["user", "passwd", "--store", store, "--user", "case-1"],
        "linen-oasis-umber-sage\ncopper-meadow-thistle-glow\n",
        keyring,
    )
    assert changed.code == EXIT_OK, changed.err
    verified = cli(
        ["audit", "verify", "--store", store, "--user", "case-1"],
        "copper-meadow-thistle-glow\n",
        keyring,
    )
    assert verified.code == EXIT_OK
    assert "the audit trail is intact" in verified.out

    out = tmp_path / "nightly.backup"
    made_backup = cli(
        ["backup", "--store", store, "--user", "ops-admin", "--out", str(out)],
        "ember-falcon-quartz-river\n",
        keyring,
    )
    assert made_backup.code == EXIT_OK and out.exists()

    restored = cli(
        [
            "restore",
            "--backup",
            str(out),
            "--store",
            str(tmp_path / "new" / "c.safecase"),
            "--admin",
            "ops-admin",
        ],
        f"{recovery}\nharbour-cinder-moss-plume\n",
        MemoryKeyring(),
    )
    assert restored.code == EXIT_OK, restored.err
    assert "1 other user(s) need a password reset" in restored.out


def test_wrong_password_exits_3_with_one_line(store: StoreCopy) -> None:
    result = cli(
        ["audit", "verify", "--store", str(store.path), "--user", ADMIN],
        "not-the-password\n",
        store.keyring,
    )
    assert result.code == EXIT_SIGN_IN
    assert result.err.count("\n") == 1
    assert "username or password is wrong" in result.err


def test_damaged_store_exits_4(store: StoreCopy) -> None:
    raw = bytearray(store.path.read_bytes())
    raw[200] ^= 1
    store.path.write_bytes(bytes(raw))
    result = cli(
        ["audit", "verify", "--store", str(store.path), "--user", ADMIN],
        f"{ADMIN_PW}\n",
        store.keyring,
    )
    assert result.code == EXIT_DAMAGED
    assert "damaged" in result.err


def test_a_broken_audit_chain_exits_4_and_names_the_entry(store: StoreCopy) -> None:
    from app.services import accounts

    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    session.conn.execute("DROP TRIGGER audit_no_update")
    session.conn.execute("UPDATE audit SET action = 'sign_out' WHERE id = 2")
    session.vault.close()
    result = cli(
        ["audit", "verify", "--store", str(store.path), "--user", ADMIN],
        f"{ADMIN_PW}\n",
        store.keyring,
    )
    assert result.code == EXIT_DAMAGED
    assert "broken at entry 2" in result.err


@pytest.mark.parametrize(
    "args",
    [["user"], ["init", "--store", "x"], ["frobnicate"], ["user", "add", "--store", "x"]],
)
def test_usage_mistakes_exit_2_with_one_line(args: list[str]) -> None:
    result = cli(args)
    assert result.code == EXIT_USAGE
    assert result.err.count("\n") == 1


def test_a_missing_password_on_stdin_is_a_usage_error(store: StoreCopy) -> None:
    result = cli(["audit", "verify", "--store", str(store.path), "--user", ADMIN], "")
    assert result.code == EXIT_USAGE
    assert "standard input" in result.err


def test_a_weak_password_is_refused_at_init(tmp_path: Path) -> None:
    result = cli(
        ["init", "--store", str(tmp_path / "c.safecase"), "--admin", "ops-admin"],
        "password1234\n",
    )
    assert result.code == EXIT_USAGE
    assert "too easy to guess" in result.err
    assert list(tmp_path.iterdir()) == []


def test_demo_adds_synthetic_accounts_that_can_sign_in(training_store: StoreCopy) -> None:
    store = training_store
    result = cli(
        ["demo", "--store", str(store.path), "--user", ADMIN, "--seed", "7"],
        f"{ADMIN_PW}\n",
        store.keyring,
    )
    assert result.code == EXIT_OK
    accounts = {
        name.strip(): (roles, password)
        for name, roles, password in (line.split("\t") for line in result.out.splitlines()[1:])
    }
    assert len(accounts) == 5
    roles, password = accounts["demo-manager-1"]
    assert roles == "manager"
    verified = cli(
        ["audit", "verify", "--store", str(store.path), "--user", "demo-manager-1"],
        f"{password}\n",
        store.keyring,
    )
    assert verified.code == EXIT_OK
    _, password = accounts["demo-caseworker-1"]
    refused = cli(
        ["audit", "verify", "--store", str(store.path), "--user", "demo-caseworker-1"],
        f"{password}\n",
        store.keyring,
    )
    assert refused.code == EXIT_FAILED
    assert "role" in refused.err
    again = cli(
        ["demo", "--store", str(store.path), "--user", ADMIN, "--seed", "7"],
        f"{ADMIN_PW}\n",
        store.keyring,
    )
    assert "Added 0" in again.out


def test_demo_adds_synthetic_cases_with_a_summary_line(training_store: StoreCopy) -> None:
    store = training_store
    result = cli(
        ["demo", "--store", str(store.path), "--user", ADMIN, "--cases", "15", "--seed", "4"],
        f"{ADMIN_PW}\n",
        store.keyring,
    )
    assert result.code == EXIT_OK, result.err
    summary = result.out.splitlines()[-1]
    assert summary.startswith("Added 15 synthetic cases (") and summary.endswith(" s.")
    assert " people, " in summary and " notes) in " in summary
    assert result.err == ""  # not a terminal: no progress bar, only the summary line


def test_demo_on_a_store_of_real_records_is_refused_in_one_sentence(store: StoreCopy) -> None:
    result = cli(
        ["demo", "--store", str(store.path), "--user", ADMIN, "--cases", "72"],
        f"{ADMIN_PW}\n",
        store.keyring,
    )
    assert result.code == EXIT_FAILED
    assert "training store" in result.err and result.err.count("\n") == 1
    assert "Added" not in result.out


def test_init_training_makes_a_store_that_demo_fills(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    store = str(tmp_path / "training.safecase")
    made = cli(
        ["init", "--store", store, "--admin", "ops-admin", "--training"],
        "ember-falcon-quartz-river\n",
        keyring,
    )
    assert made.code == EXIT_OK, made.err
    assert "training store" in made.out
    filled = cli(
        ["demo", "--store", store, "--user", "ops-admin", "--cases", "3"],
        "ember-falcon-quartz-river\n",
        keyring,
    )
    assert filled.code == EXIT_OK, filled.err
    assert filled.out.splitlines()[-1].startswith("Added 3 synthetic cases")


def test_demo_cases_must_be_a_count(store: StoreCopy) -> None:
    result = cli(
        ["demo", "--store", str(store.path), "--user", ADMIN, "--cases", "-3"],
        f"{ADMIN_PW}\n",
        store.keyring,
    )
    assert result.code == EXIT_USAGE
    assert result.err.count("\n") == 1


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_redraws_in_place_at_a_terminal() -> None:
    assert progress_bar(io.StringIO(), "cases") is None
    screen = Terminal()
    show = progress_bar(screen, "cases", width=10)
    assert show is not None
    for done in (0, 500, 1000):
        show(done, 1000)
    text = screen.getvalue()
    assert text.count("\r") == 3 and text.endswith("[##########] 1,000/1,000 cases\n")
    assert "\r[#####.....] 500/1,000 cases" in text


def test_the_installed_command_runs_with_the_real_key_cost(tmp_path: Path) -> None:
    """End to end in a real process: the product's own Argon2id calibration, no keyring."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    command = [sys.executable, "-m", "app"]
    version = subprocess.run([*command, "--version"], capture_output=True, text=True, env=env)
    assert version.returncode == 0 and version.stdout.startswith("Safecase ")
    store = str(tmp_path / "c.safecase")
    made = subprocess.run(
        [*command, "init", "--store", store, "--admin", "ops-admin", "--password-only"],
        input="ember-falcon-quartz-river\n",
        capture_output=True,
        text=True,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    assert "recovery key" in made.stdout
    assert "passwords alone" in made.stderr
    refused = subprocess.run(
        [*command, "audit", "verify", "--store", store, "--user", "ops-admin"],
        input="wrong-password-typed\n",
        capture_output=True,
        text=True,
        env=env,
    )
    assert refused.returncode == EXIT_SIGN_IN
    assert "Traceback" not in refused.stderr and refused.stderr.count("\n") == 1


def test_init_without_a_keyring_points_at_password_only(tmp_path: Path) -> None:
    from keyring.backends import fail

    out, err = io.StringIO(), io.StringIO()
    ctx = Context(
        stdin=io.StringIO("ember-falcon-quartz-river\n"),
        stdout=out,
        stderr=err,
        device=lambda: DeviceSecrets(fail.Keyring()),
        kdf=TEST_KDF,
    )
    code = run(["init", "--store", str(tmp_path / "c.safecase"), "--admin", "ops"], ctx)
    assert code == EXIT_FAILED
    assert "--password-only" in err.getvalue()
    assert list(tmp_path.iterdir()) == []
