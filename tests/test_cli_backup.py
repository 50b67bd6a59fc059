"""``safecase backup`` and ``safecase restore``: what a backup may replace, and what a restore
brings back after a purge."""

from __future__ import annotations

import os
from pathlib import Path

from app.crypto.anchor import anchor_path
from app.crypto.device import DeviceSecrets
from app.crypto.vault import keys_path
from app.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from app.models import cases as case_model
from app.services import accounts, backup
from tests.helpers import ADMIN, ADMIN_PW, MANAGER, MemoryKeyring, StoreCopy
from tests.services.casework import person, signed_in
from tests.services.closed_cases import make_closed_case, reference_of
from tests.test_cli import Result, cli


def backup_to(store: StoreCopy, out: Path, *extra: str) -> Result:
    return cli(
        ["backup", "--store", str(store.path), "--user", ADMIN, "--out", str(out), *extra],
        f"{ADMIN_PW}\n",
        store.keyring,
    )


def test_a_backup_never_replaces_an_existing_file_unless_asked(
    store: StoreCopy, tmp_path: Path
) -> None:
    out = tmp_path / "precious.txt"
    out.write_bytes(b"someone's own file")
    refused = backup_to(store, out)
    assert refused.code == EXIT_FAILED
    assert len(refused.err.strip().splitlines()) == 1
    assert "already exists" in refused.err and "--replace" in refused.err
    assert out.read_bytes() == b"someone's own file"

    replaced = backup_to(store, out, "--replace")
    assert replaced.code == EXIT_OK, replaced.err
    assert out.read_bytes().startswith(b"SAFECASE-BACKUP")


def test_a_backup_never_replaces_the_store_or_its_key_file_even_with_replace(
    store: StoreCopy, tmp_path: Path
) -> None:
    link = tmp_path / "innocent-looking.backup"
    link.symlink_to(store.path)
    anchor = anchor_path(store.path)
    for target in (store.path, keys_path(store.path), anchor, link):
        for extra in ((), ("--replace",)):
            result = backup_to(store, target, *extra)
            assert result.code == EXIT_FAILED, (target, extra)
            assert len(result.err.strip().splitlines()) == 1
            assert "store's own files" in result.err
    for own in (store.path, keys_path(store.path), anchor):
        assert not own.exists() or not own.read_bytes().startswith(b"SAFECASE-BACKUP")
    assert os.path.islink(link)
    # The store and its key file still open, with the trail intact.
    verify = cli(
        ["audit", "verify", "--store", str(store.path), "--user", ADMIN],
        f"{ADMIN_PW}\n",
        store.keyring,
    )
    assert verify.code == EXIT_OK, verify.err


def purge(store: StoreCopy, *args: str) -> Result:
    return cli(
        ["purge", *args, "--store", str(store.path), "--user", ADMIN],
        f"{ADMIN_PW}\n",
        store.keyring,
    )


def test_purge_asks_about_older_backups_and_restore_never_brings_a_case_back(
    store: StoreCopy, tmp_path: Path
) -> None:
    with signed_in(store, MANAGER) as session:
        case_id = make_closed_case(session, person("Wrenna", "Quistelbury"))
        reference = reference_of(session, case_id)
    folder = tmp_path / "nightly"
    folder.mkdir()
    assert backup_to(store, folder).code == EXIT_OK
    [older] = backup.generations(folder)
    assert purge(store, "approve", "--reference", reference).code == EXIT_OK
    dry = purge(store, "--dry-run")
    assert "1 backup(s) of this store made before now" in dry.out

    # Without a choice about the older backup, nothing is destroyed.
    refused = purge(store)
    assert refused.code == EXIT_USAGE
    assert len(refused.err.strip().splitlines()) == 1 and "--backups" in refused.err
    assert reference in purge(store, "--dry-run").out

    kept = purge(store, "--backups", "keep")
    assert kept.code == EXIT_OK, kept.err
    assert "Warning: backups made before this purge keep the destroyed cases" in kept.err
    assert "kept at the admin's choice" in kept.out and str(folder.resolve()) in kept.out
    assert backup_to(store, folder).code == EXIT_OK  # the next night's backup

    new_laptop, target = MemoryKeyring(), tmp_path / "new" / "c.safecase"
    restored = cli(
        ["restore", "--backup", str(older), "--store", str(target), "--admin", ADMIN],
        f"{store.recovery_key}\nharbour-cinder-moss-plume\n",
        new_laptop,
    )
    assert restored.code == EXIT_OK, restored.err
    assert "1 case(s) it still held were destroyed again at once" in restored.out
    session = accounts.sign_in(
        target, ADMIN, "harbour-cinder-moss-plume", device=DeviceSecrets(new_laptop)
    )
    try:
        assert case_model.by_reference(session.conn, reference) is None
    finally:
        accounts.sign_out(session)
