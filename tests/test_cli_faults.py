"""Faults a user can meet on the command line each give one clear line and the right exit
code, and leave the store file as it was: a damaged, empty or cut-short store, a full disk,
a read-only file or folder, a store path that names a folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.crypto.device import DeviceSecrets
from app.crypto.vault import keys_path
from app.errors import EXIT_DAMAGED, EXIT_FAILED, EXIT_OK, EXIT_USAGE, SafecaseError
from app.services import accounts
from tests.cli_process import make_password_only_store, run_cli
from tests.helpers import ADMIN, ADMIN_PW, MemoryKeyring, StoreCopy
from tests.test_cli import cli

PAGE = 4096


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _signed_in_args(command: list[str], store: Path | str) -> list[str]:
    return [*command, "--store", str(store), "--user", ADMIN]


def _signs_in(path: Path) -> bool:
    try:
        session = accounts.sign_in(path, ADMIN, ADMIN_PW, device=None)
    except SafecaseError:
        return False
    accounts.sign_out(session)
    return True


# -- item 8: a store file that is empty, cut short or not a store --------------------------


@pytest.mark.parametrize("damage", ["empty", "cut short", "not a store"])
def test_a_store_file_that_is_not_a_whole_store_is_refused_and_left_as_it_was(
    store: StoreCopy, damage: str
) -> None:
    original = store.path.read_bytes()
    content = {
        "empty": b"",
        "cut short": original[:100],
        "not a store": b"Minutes of the team meeting\n" * 200,
    }[damage]
    store.path.write_bytes(content)
    keys_before = keys_path(store.path).read_bytes()
    result = cli(_signed_in_args(["user", "list"], store.path), f"{ADMIN_PW}\n", store.keyring)
    assert result.code == EXIT_DAMAGED
    assert result.err.count("\n") == 1
    assert "disabled" not in result.err
    assert "damaged" in result.err or "empty" in result.err
    assert store.path.read_bytes() == content
    assert keys_path(store.path).read_bytes() == keys_before


def test_signing_in_to_an_empty_store_file_never_makes_a_new_store(store: StoreCopy) -> None:
    store.path.write_bytes(b"")
    for _ in range(2):
        with pytest.raises(Exception) as refused:
            accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
        assert "empty" in str(refused.value)
    assert store.path.stat().st_size == 0


def test_init_onto_an_existing_empty_file_refuses_with_exit_1(tmp_path: Path) -> None:
    target = tmp_path / "cases.safecase"
    target.write_bytes(b"")
    result = cli(
        ["init", "--store", str(target), "--admin", ADMIN],
        f"{ADMIN_PW}\n",
        MemoryKeyring(),
    )
    assert result.code == EXIT_FAILED
    assert "already exists" in result.err and result.err.count("\n") == 1
    assert target.read_bytes() == b""
    assert not keys_path(target).exists()


# -- item 10: errors that used to reach users as "an unexpected problem" ------------------------


def test_sqlcipher_s_own_lines_never_reach_the_user(tmp_path: Path) -> None:
    """A damaged first page: SQLCipher logs "hmac check failed" from C unless told not to
    before the key is set. The user sees Safecase's one line and exit code 4."""
    path = make_password_only_store(tmp_path)
    _flip(path, 200)
    result = run_cli(_signed_in_args(["user", "list"], path), f"{ADMIN_PW}\n", tmp_path)
    assert result.returncode == EXIT_DAMAGED
    assert "hmac" not in result.stderr.lower()
    assert result.stderr.count("\n") == 1 and "damaged" in result.stderr


def test_a_damaged_page_during_a_backup_says_damaged(tmp_path: Path) -> None:
    """A page that signing in never reads but the backup does: the damage is reported, not
    hidden behind the sign-out that fails after it."""
    source = make_password_only_store(tmp_path / "source")
    pages = source.stat().st_size // PAGE
    for page in range(pages - 1, 1, -1):
        folder = tmp_path / f"page{page}"
        folder.mkdir()
        path = folder / source.name
        shutil.copyfile(source, path)
        shutil.copyfile(keys_path(source), keys_path(path))
        _flip(path, page * PAGE + 100)
        if not _signs_in(path):
            continue
        result = cli(
            _signed_in_args(["backup", "--out", str(folder / "b.backup")], path),
            f"{ADMIN_PW}\n",
        )
        assert "unexpected problem" not in result.err
        if result.code != EXIT_OK:
            assert result.code == EXIT_DAMAGED, result.err
            assert "damaged" in result.err
            assert not (folder / "b.backup").exists()
            return
    pytest.fail("no damaged page both let the admin sign in and stopped the backup")


def test_a_full_disk_during_a_write_says_the_disk_is_full(tmp_path: Path) -> None:
    """A file-size limit makes writes past it fail as a full disk does (SQLITE_FULL, then
    I/O errors), in the middle of a transaction whose rollback then fails too."""
    path = make_password_only_store(tmp_path, training=True)
    before = path.read_bytes()
    result = run_cli(
        _signed_in_args(["demo", "--cases", "400"], path),
        f"{ADMIN_PW}\n",
        tmp_path,
        file_size=path.stat().st_size,
    )
    assert result.returncode == EXIT_FAILED, result.stderr
    assert "unexpected problem" not in result.stderr
    assert "disk" in result.stderr and "full" in result.stderr
    assert path.read_bytes()[:PAGE] == before[:PAGE]
    assert accounts.sign_in(path, ADMIN, ADMIN_PW, device=None).username == ADMIN


def test_a_read_only_store_file_says_so(tmp_path: Path) -> None:
    path = make_password_only_store(tmp_path)
    path.chmod(0o444)
    before = path.read_bytes()
    result = run_cli(
        _signed_in_args(["user", "list"], path), f"{ADMIN_PW}\n", tmp_path, unprivileged=True
    )
    assert result.returncode == EXIT_FAILED, result.stderr
    assert "unexpected problem" not in result.stderr
    assert "read-only" in result.stderr
    assert path.read_bytes() == before


def test_a_backup_into_a_read_only_folder_says_so(tmp_path: Path) -> None:
    path = make_password_only_store(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    result = run_cli(
        _signed_in_args(["backup", "--out", str(locked / "b.backup")], path),
        f"{ADMIN_PW}\n",
        tmp_path,
        unprivileged=True,
    )
    assert result.returncode == EXIT_FAILED, result.stderr
    assert "unexpected problem" not in result.stderr
    assert "may not write there" in result.stderr
    assert list(locked.iterdir()) == []


@pytest.mark.parametrize("where", ["folder", "empty"])
def test_a_store_path_that_names_a_folder_is_a_usage_error(store: StoreCopy, where: str) -> None:
    named = str(store.path.parent) if where == "folder" else ""
    result = cli(_signed_in_args(["user", "list"], named), f"{ADMIN_PW}\n", store.keyring)
    assert result.code == EXIT_USAGE, result.err
    assert "names a folder" in result.err and result.err.count("\n") == 1
