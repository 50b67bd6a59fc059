"""What a backup may replace: never the store's own files, and no other file unless asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.crypto.device import DeviceSecrets
from app.crypto.vault import keys_path, store_files
from app.errors import SafecaseError
from app.services import accounts, backup
from tests.helpers import ADMIN, ADMIN_PW, StoreCopy


def test_the_service_refuses_the_stores_own_files_and_existing_files(
    store: StoreCopy, tmp_path: Path
) -> None:
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    try:
        link = tmp_path / "link-to-keys"
        link.symlink_to(keys_path(store.path))
        keys_before = keys_path(store.path).read_bytes()
        for own in (*store_files(store.path), link):
            with pytest.raises(SafecaseError, match="store's own files"):
                backup.backup(session, own, replace=True)
        assert keys_path(store.path).read_bytes() == keys_before
        assert not store.path.read_bytes().startswith(b"SAFECASE-BACKUP")

        other = tmp_path / "report.pdf"
        other.write_bytes(b"%PDF-1.4 not a backup")
        with pytest.raises(SafecaseError, match="never replaces a file"):
            backup.backup(session, other)
        assert other.read_bytes() == b"%PDF-1.4 not a backup"
        assert backup.backup(session, other, replace=True) > 0
    finally:
        accounts.sign_out(session)
