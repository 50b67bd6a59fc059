"""``safecase backup`` and ``safecase restore``: what a backup may replace, and what a restore
brings back after a purge."""

from __future__ import annotations

import os
from pathlib import Path

from app.crypto.vault import keys_path
from app.errors import EXIT_FAILED, EXIT_OK
from tests.helpers import ADMIN, ADMIN_PW, StoreCopy
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
    for target in (store.path, keys_path(store.path), link):
        for extra in ((), ("--replace",)):
            result = backup_to(store, target, *extra)
            assert result.code == EXIT_FAILED, (target, extra)
            assert len(result.err.strip().splitlines()) == 1
            assert "store's own files" in result.err
    for own in (store.path, keys_path(store.path)):
        assert not own.read_bytes().startswith(b"SAFECASE-BACKUP")
    assert os.path.islink(link)
    # The store and its key file still open, with the trail intact.
    verify = cli(
        ["audit", "verify", "--store", str(store.path), "--user", ADMIN],
        f"{ADMIN_PW}\n",
        store.keyring,
    )
    assert verify.code == EXIT_OK, verify.err
