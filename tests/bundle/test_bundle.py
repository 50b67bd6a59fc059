"""The Linux bundle, built with PyInstaller and run from a clean environment.

Slow (it builds the bundle unless ``SAFECASE_BUNDLE`` names one already built, as ``make
bundle-test`` does), so it is marked ``bundle`` and left out of the quick suite. The bundle
runs with nothing of the build machine: PATH is /usr/bin:/bin (no virtual environment), HOME
is a fresh folder, no Python variables. Nothing here reaches a real keyring: the self-test
only reports which backend answers, and the sign-in window opens no store.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import __version__

pytestmark = pytest.mark.bundle

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = os.environ.get("SAFECASE_BUNDLE")
    if built:
        return Path(built).resolve()
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
            "--distpath", str(dist), "--workpath", str(tmp_path_factory.mktemp("build")),
            str(ROOT / "installer" / "safecase.spec"),
        ],
        check=True,
        cwd=ROOT,
    )  # fmt: skip
    return dist / "safecase" / "safecase"


def run_clean(
    bundle: Path, home: Path, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the bundle as a person's double-click would: no venv, a fresh HOME, offscreen."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
    }
    return subprocess.run(
        [str(bundle), *args],
        env=env,
        cwd=cwd or home,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_bundle_says_its_version(bundle: Path, tmp_path: Path) -> None:
    result = run_clean(bundle, tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Safecase {__version__}"


def test_the_bundle_passes_its_self_test_but_the_keyring_this_machine_lacks(
    bundle: Path, tmp_path: Path
) -> None:
    result = run_clean(bundle, tmp_path, "--self-test")
    lines = result.stdout.splitlines()
    assert "Traceback" not in result.stdout + result.stderr
    names = [line[5:].split(":", 1)[0] for line in lines]
    assert names == ["store", "keyring", "PDF", "windows"]
    by_name = dict(zip(names, lines, strict=True))
    assert by_name["store"].startswith("ok   store: SQLCipher 4.")
    assert "FTS5 present, store encrypted" in by_name["store"]
    assert by_name["PDF"].startswith("ok   PDF: Unicode font embedded")
    assert by_name["windows"] == "ok   windows: " + by_name["windows"][14:]
    assert "offscreen platform plugin" in by_name["windows"]
    # A build or CI machine has no Secret Service running: the check says so in a sentence,
    # and the exit code tells the helpdesk something failed. Where one answers, all pass.
    # Either way the backend's modules are in the bundle (else the line says they are missing).
    if by_name["keyring"].startswith("ok"):
        assert "SecretService backend in use" in by_name["keyring"]
        assert result.returncode == 0
    else:
        assert by_name["keyring"].startswith("FAIL keyring: No secure keyring is available")
        assert result.returncode == 1


def test_the_bundle_opens_its_first_window_and_the_sign_in_window(
    bundle: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    first = run_clean(bundle, home, "--exit-when-shown")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "shown: first-run window"
    # Where a store exists the bundle asks for a password before it reads a byte of it.
    store = home / "cases.safecase"
    store.write_bytes(os.urandom(4096))
    shown = run_clean(bundle, home, "--store", str(store), "--exit-when-shown")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "shown: sign-in window"
    assert "Traceback" not in shown.stderr
    # Nothing was written into the fresh home folder (no store, no keyring file).
    assert sorted(p.name for p in home.iterdir()) == ["cases.safecase"]


def test_the_bundle_keeps_only_the_british_demo_names(bundle: Path) -> None:
    """Faker is trimmed to en_GB (and the English it falls back to) in the bundle."""
    faker = bundle.parent / "_internal" / "faker" / "providers" / "person"
    kept = sorted(p.name for p in faker.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert "en_GB" in kept
    assert "de_DE" not in kept


def _tarball_layout(folder: Path, bundle_folder: Path) -> Path:
    """What the Linux tarball unpacks to: the bundle, install.sh and the menu entry."""
    folder.mkdir(parents=True)
    for name in ("install.sh",):
        shutil.copy2(ROOT / "installer" / "linux" / name, folder / name)
    shutil.copy2(ROOT / "installer" / "safecase.desktop.in", folder / "safecase.desktop.in")
    (folder / "safecase").symlink_to(bundle_folder)
    return folder / "install.sh"


def test_the_linux_installer_puts_safecase_in_the_users_own_folders_and_rolls_back(
    bundle: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    data = home / ".local" / "share" / "safecase"
    data.mkdir(parents=True)
    # The store and key file an older version left; no installer step may touch them.
    (data / "cases.safecase").write_bytes(b"store bytes")
    (data / "cases.safecase.keys").write_bytes(b"key file bytes")
    # An "older version": a stand-in executable that only says its version.
    old_bundle = tmp_path / "old-bundle"
    old_bundle.mkdir()
    (old_bundle / "safecase").write_text("#!/bin/sh\necho 'Safecase 0.0.9'\n")
    (old_bundle / "safecase").chmod(0o755)
    old_installer = _tarball_layout(tmp_path / "old", old_bundle)
    new_installer = _tarball_layout(tmp_path / "new", bundle.parent)

    def sh(installer: Path, *args: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
        return subprocess.run(
            ["/bin/sh", str(installer), *args], env=env, capture_output=True, text=True
        )

    assert sh(old_installer).returncode == 0
    done = sh(new_installer)
    assert done.returncode == 0, done.stderr
    assert f"Safecase {__version__} installed for" in done.stdout
    command = home / ".local" / "bin" / "safecase"
    shown = run_clean(command, home, "--version")
    assert shown.stdout.strip() == f"Safecase {__version__}"
    entry = (home / ".local" / "share" / "applications" / "safecase.desktop").read_text()
    assert f"Exec={data}/current/safecase" in entry.splitlines()

    back = sh(new_installer, "--rollback")
    assert back.returncode == 0, back.stderr
    assert "Safecase is back to Safecase 0.0.9." in back.stdout
    assert run_clean(command, home, "--version").stdout.strip() == "Safecase 0.0.9"
    assert (data / "cases.safecase").read_bytes() == b"store bytes"
    assert (data / "cases.safecase.keys").read_bytes() == b"key file bytes"

    gone = sh(new_installer, "--uninstall")
    assert "The store and its backups" in gone.stdout
    assert not command.exists()
    assert sorted(p.name for p in data.iterdir()) == ["cases.safecase", "cases.safecase.keys"]
