"""``safecase audit``: verify checks before it writes and exits 4 on tampering; the
verification key is shown once at init; the DPO's checkpoints."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.crypto import anchor
from app.crypto import vault as vaultlib
from app.crypto.device import DeviceSecrets
from app.errors import EXIT_DAMAGED, EXIT_OK, EXIT_USAGE
from app.models import audit as audit_model
from app.models.users import Role
from app.services import accounts
from tests import helpers
from tests.helpers import DPO, DPO_PW, MemoryKeyring, StoreCopy
from tests.test_cli import Result, cli

ADMIN, ADMIN_PW = "ops-admin", "ember-falcon-quartz-river"


def init(tmp_path: Path, keyring: MemoryKeyring) -> tuple[str, str, str]:
    """A new store from the command line: its path, recovery key and verification key."""
    store = str(tmp_path / "cases.safecase")
    made = cli(["init", "--store", store, "--admin", ADMIN], f"{ADMIN_PW}\n", keyring)
    assert made.code == EXIT_OK, made.err
    keys = [line.strip() for line in made.out.splitlines() if line.count("-") == 12]
    assert len(keys) == 2 and keys[0] != keys[1]
    assert "audit verification key, for the data protection officer" in made.out
    return store, keys[0], keys[1]


FIRST_PW = "lantern-velvet-orchid-53"  # the admin's choice, changed at first sign-in


def add_dpo(store: str, keyring: MemoryKeyring) -> None:
    added = cli(
        ["user", "add", "--store", store, "--user", ADMIN, "--new", DPO, "--role", "dpo"],
        f"{ADMIN_PW}\n{FIRST_PW}\n",
        keyring,
    )
    assert added.code == EXIT_OK, added.err
    changed = cli(
        ["user", "passwd", "--store", store, "--user", DPO], f"{FIRST_PW}\n{DPO_PW}\n", keyring
    )
    assert changed.code == EXIT_OK, changed.err


def verify(store: str, keyring: MemoryKeyring, *extra: str, key: str | None = None) -> Result:
    args = ["audit", "verify", "--store", store, "--user", DPO, *extra]
    if key is not None:
        args.append("--with-key")
    return cli(args, f"{DPO_PW}\n" + (f"{key}\n" if key else ""), keyring)


def test_init_shows_the_verification_key_and_verify_checks_the_seals_with_it(
    tmp_path: Path,
) -> None:
    keyring = MemoryKeyring()
    store, _recovery, key = init(tmp_path, keyring)
    add_dpo(store, keyring)

    result = verify(store, keyring, key=key)

    assert result.code == EXIT_OK, result.err
    assert "the audit trail is intact" in result.out
    assert "are sealed and check out" in result.out


def test_a_rewrite_sealed_again_under_another_key_exits_4(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    store, _recovery, key = init(tmp_path, keyring)
    add_dpo(store, keyring)
    v = vaultlib.open_with_password(Path(store), DPO, DPO_PW, device=DeviceSecrets(keyring))
    v.conn.execute("DROP TRIGGER audit_seals_no_delete")
    v.conn.execute("DELETE FROM audit_seals")
    v.conn.execute("UPDATE audit_seal_key SET epoch = 1")
    v.close()

    result = verify(store, keyring, key=key)

    assert result.code == EXIT_DAMAGED
    assert "sealing key does not follow" in result.err


def test_a_cut_off_tail_exits_4_and_verify_writes_nothing(store: StoreCopy) -> None:
    v = vaultlib.open_with_password(store.path, DPO, DPO_PW, device=DeviceSecrets(store.keyring))
    v.conn.execute("DROP TRIGGER audit_no_delete")
    last = audit_model.head(v.conn)[0]
    v.conn.execute("DELETE FROM audit WHERE id > ?", (last - 3,))
    v.close()
    anchor.forget(store.path)
    size = store.path.stat().st_size

    result = verify(str(store.path), store.keyring)

    assert result.code == EXIT_DAMAGED
    assert "The last 3 entries were cut off" in result.err
    assert store.path.stat().st_size == size
    assert not store.path.with_name(store.path.name + "-wal").exists()


def put_back_an_older_copy(store: StoreCopy, tmp_path: Path) -> None:
    """Copy the store file aside, sign in and out (two entries), and copy it back."""
    older = tmp_path / "older.safecase"
    shutil.copyfile(store.path, older)
    session = accounts.sign_in(store.path, DPO, DPO_PW, device=DeviceSecrets(store.keyring))
    accounts.sign_out(session)
    shutil.copyfile(older, store.path)


def test_a_store_that_lost_acknowledged_entries_is_refused_with_exit_4(
    store: StoreCopy, tmp_path: Path
) -> None:
    put_back_an_older_copy(store, tmp_path)

    result = cli(
        ["user", "list", "--store", str(store.path), "--user", helpers.ADMIN],
        f"{helpers.ADMIN_PW}\n",
        store.keyring,
    )

    assert result.code == EXIT_DAMAGED
    assert result.err.count("\n") == 1
    assert "an older copy of the store was put back" in result.err
    assert "Restore the newest backup" in result.err


def test_the_dpo_checkpoint_and_verify_against_it(store: StoreCopy, tmp_path: Path) -> None:
    started = cli(
        ["audit", "start-sealing", "--store", str(store.path), "--user", DPO],
        f"{DPO_PW}\n",
        store.keyring,
    )
    assert started.code == EXIT_OK, started.err
    key = next(line.strip() for line in started.out.splitlines() if line.count("-") == 12)
    point = tmp_path / "checkpoint.json"
    made = cli(
        ["audit", "checkpoint", "--store", str(store.path), "--user", DPO, "--out", str(point)],
        f"{DPO_PW}\n{key}\n",
        store.keyring,
    )
    assert made.code == EXIT_OK, made.err
    assert point.exists()

    intact = verify(str(store.path), store.keyring, "--checkpoint", str(point), key=key)
    assert intact.code == EXIT_OK, intact.err

    # Rolled back to before the checkpoint, with the anchor beside the store thrown away.
    v = vaultlib.open_with_password(store.path, DPO, DPO_PW, device=DeviceSecrets(store.keyring))
    v.conn.execute("DROP TRIGGER audit_no_delete")
    v.conn.execute("DELETE FROM audit WHERE id > 2")
    v.conn.execute(
        "UPDATE settings SET value = (SELECT '2:' || hash FROM audit WHERE id = 2) "
        "WHERE key = 'audit_head'"
    )
    v.close()
    anchor.forget(store.path)

    rolled = verify(str(store.path), store.keyring, "--checkpoint", str(point))
    assert rolled.code == EXIT_DAMAGED
    assert "rolled back to an older copy" in rolled.err
    assert "checkpoint.json" in rolled.err


def test_a_mistyped_verification_key_is_a_usage_error(store: StoreCopy) -> None:
    result = verify(str(store.path), store.keyring, key="ABCDE-FGHJK")
    assert result.code == EXIT_USAGE
    assert "audit verification key" in result.err


def test_verify_without_reader_role_is_refused(store: StoreCopy) -> None:
    from tests.helpers import CASEWORKER, CASEWORKER_PW

    result = cli(
        ["audit", "verify", "--store", str(store.path), "--user", CASEWORKER],
        f"{CASEWORKER_PW}\n",
        store.keyring,
    )
    assert result.code != EXIT_OK
    assert "role" in result.err
    assert Role.DPO.value in result.err


def test_an_admin_keeps_a_store_that_lost_entries_and_the_loss_is_recorded(
    store: StoreCopy, tmp_path: Path
) -> None:
    put_back_an_older_copy(store, tmp_path)
    args = ["audit", "accept-loss", "--store", str(store.path), "--user"]

    refused = cli([*args, DPO], f"{DPO_PW}\n", store.keyring)
    assert refused.code != EXIT_OK and "Only an admin" in refused.err
    kept = cli([*args, helpers.ADMIN], f"{helpers.ADMIN_PW}\n", store.keyring)
    assert kept.code == EXIT_OK, kept.err
    assert "are lost, and the loss is recorded" in kept.out

    assert verify(str(store.path), store.keyring).code == EXIT_OK
    v = vaultlib.open_with_password(store.path, DPO, DPO_PW, device=DeviceSecrets(store.keyring))
    details = [e.detail for e in audit_model.walk(v.conn) if e.action == "audit_loss_accepted"]
    v.close()
    assert len(details) == 1 and details[0].startswith("seen=")
