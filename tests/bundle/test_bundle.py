"""The Linux bundle, built with PyInstaller and run from a clean environment.

Slow (it builds the bundle unless ``SAFECASE_BUNDLE`` names one already built, as ``make
bundle-test`` does), so it is marked ``bundle`` and left out of the quick suite. The bundle
runs with nothing of the build machine: PATH is /usr/bin:/bin (no virtual environment), HOME
is a fresh folder, no Python variables. Nothing here reaches the machine's own keyring: the
keyring tests start their own D-Bus session with a GNOME Keyring whose throw-away keyring
lives in the test's temporary HOME (installer/linux/build-deps.sh installs both; under CI a
missing one fails the test instead of skipping it).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import __version__
from tests import pgcluster
from tests.pgcluster import Cluster

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


def clean_env(home: Path) -> dict[str, str]:
    """No venv, no Python variables, a fresh HOME, the offscreen platform."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
    }


def run_clean(
    bundle: Path,
    home: Path,
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdin: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run the bundle as a person's double-click would: no venv, a fresh HOME, offscreen
    (and ``env`` besides)."""
    return subprocess.run(
        [str(bundle), *args],
        env={**clean_env(home), **(env or {})},
        cwd=cwd or home,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_bundle_says_its_version(bundle: Path, tmp_path: Path) -> None:
    result = run_clean(bundle, tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Safecase {__version__}"


# The Secret Service of a desktop session, for one command: a private D-Bus session bus with
# GNOME Keyring on it, its login keyring created (or unlocked) in HOME with this password.
KEYRING_PASSWORD = "throw-away keyring of the bundle test"
WITH_KEYRING = (
    'printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets '
    '>/dev/null && exec "$@"'
)


def run_with_keyring(
    bundle: Path, home: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the bundle as ``run_clean`` does, in a session whose Secret Service answers."""
    tools = ("dbus-run-session", "gnome-keyring-daemon")
    missing = [tool for tool in tools if shutil.which(tool, path="/usr/bin:/bin") is None]
    if missing:
        message = f"no Secret Service to test with: {' and '.join(missing)} not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (installer/linux/build-deps.sh installs them as root)")
        pytest.skip(message)
    return subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", WITH_KEYRING, "sh", str(bundle), *args],
        env={**clean_env(home), "KEYRING_PASSWORD": KEYRING_PASSWORD},
        cwd=home,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )


def check_lines(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The self-test's lines by check name, in the order printed."""
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    names = [line[5:].split(":", 1)[0] for line in lines]
    assert names == ["store", "keyring", "PDF", "server", "text", "windows"], result.stdout
    return dict(zip(names, lines, strict=True))


def test_the_bundle_passes_every_self_test_check_where_a_secret_service_answers(
    bundle: Path, tmp_path: Path
) -> None:
    result = run_with_keyring(bundle, tmp_path, "--self-test")
    by_name = check_lines(result)
    assert by_name["store"].startswith("ok   store: SQLCipher 4.")
    assert "FTS5 present, store encrypted" in by_name["store"]
    assert by_name["keyring"] == "ok   keyring: SecretService backend in use"
    assert by_name["PDF"].startswith("ok   PDF: Unicode font embedded")
    # psycopg imports Python's ssl on load: the bundle carries it, on libpq's own OpenSSL.
    assert re.fullmatch(
        r"ok   server: psycopg 3\.[\d.]+ \(binary\) with libpq [\d.]+", by_name["server"]
    )
    # Sorting, case and Europe/London's names come from the cut-down ICU data.
    assert by_name["text"].startswith("ok   text: names sort and change case")
    assert by_name["windows"].startswith("ok   windows: Qt 6.")
    assert "offscreen platform plugin" in by_name["windows"]
    assert result.returncode == 0, result.stdout


def test_the_bundle_self_test_fails_where_no_keyring_answers(bundle: Path, tmp_path: Path) -> None:
    """No session bus at all (a bare login, or a keyring that never started): the keyring
    line says so, every other check still runs, and the exit code is 1."""
    env = {**clean_env(tmp_path), "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path / 'no-bus'}"}
    result = subprocess.run(
        [str(bundle), "--self-test"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    by_name = check_lines(result)
    assert by_name["keyring"].startswith("FAIL keyring: No secure keyring is available")
    assert [name for name, line in by_name.items() if line.startswith("FAIL")] == ["keyring"]
    assert result.returncode == 1


def test_the_bundle_keeps_the_device_secret_in_the_keyring_and_verifies_the_trail(
    bundle: Path, tmp_path: Path
) -> None:
    """init from the bundle writes the device secret through the Secret Service; audit
    verify signs in with it (HMAC-SHA256 without Python's OpenSSL) and checks the trail.
    The same store copied to a home folder without that keyring does not open."""
    home = tmp_path / "home"
    home.mkdir()
    store = home / "cases.safecase"
    password = "Tidal-Compass-Orchard-58\n"
    made = run_with_keyring(
        bundle, home, "init", "--store", str(store), "--admin", "ada", stdin=password
    )
    assert made.returncode == 0, made.stderr
    assert "Store created." in made.stdout
    assert (home / ".local" / "share" / "keyrings" / "login.keyring").is_file()
    verified = run_with_keyring(
        bundle, home, "audit", "verify", "--store", str(store), "--user", "ada", stdin=password
    )
    assert verified.returncode == 0, verified.stderr
    assert re.search(r"Checked \d+ entries; the audit trail is intact\.", verified.stdout)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy2(store, elsewhere / store.name)
    shutil.copy2(store.with_name(store.name + ".keys"), elsewhere / (store.name + ".keys"))
    refused = run_with_keyring(
        bundle, elsewhere, "audit", "verify", "--store", str(elsewhere / store.name),
        "--user", "ada", stdin=password,
    )  # fmt: skip
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "This computer does not hold the key for this store." in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.fixture
def team_database(pg_cluster: Cluster) -> tuple[Cluster, str]:
    """A new database on the private cluster, owned by a role allowed to create roles."""
    database = f"bundle_{secrets.token_hex(4)}"
    pgcluster.owner_database(pg_cluster, database)
    return pg_cluster, database


def schema_of(cluster: Cluster, database: str) -> tuple[list[str], list[str]]:
    """The team server's tables and group roles in ``database``, as its superuser sees them."""
    import psycopg

    with psycopg.connect(cluster.owner_conninfo(database), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'safecase' ORDER BY 1"
        ).fetchall()
        groups = conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE 'safecase\\_%' "
            "AND NOT rolcanlogin ORDER BY 1"
        ).fetchall()
    return [str(t) for (t,) in tables], [str(g) for (g,) in groups]


def test_the_bundle_sets_up_a_team_server(
    bundle: Path, tmp_path: Path, team_database: tuple[Cluster, str]
) -> None:
    """``safecase team server init`` from the bundle, as the database's owner over the
    server's Unix socket: psycopg, libpq and the server's schema all come from the bundle."""
    cluster, database = team_database
    dsn = f"host={cluster.folder} port={cluster.port} dbname={database} user={pgcluster.OWNER}"
    owner = {"PGPASSWORD": pgcluster.OWNER_PASSWORD}
    made = run_clean(bundle, tmp_path, "team", "server", "init", "--dsn", dsn, env=owner)
    assert made.returncode == 0, made.stdout + made.stderr
    assert made.stdout.startswith("Team server set up: made role safecase_device, "), made.stdout
    assert schema_of(cluster, database) == (
        ["devices", "envelopes", "orders"],
        ["safecase_admin", "safecase_compactor", "safecase_device"],
    )
    again = run_clean(bundle, tmp_path, "team", "server", "init", "--dsn", dsn, env=owner)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith("The team server was already set up")


def test_the_bundle_reaches_a_team_server_over_tls_with_the_pinned_certificate_only(
    bundle: Path, tmp_path: Path
) -> None:
    """Over the network libpq verifies the server's certificate with the OpenSSL it shares with
    Python's ssl module in the bundle: the server's own certificate is accepted, another
    refused in one sentence before any password is sent."""
    cert, key = pgcluster.self_signed()
    try:
        tls = pgcluster.start(certificate=(cert, key))
    except pgcluster.NoPostgres as exc:
        pgcluster.skip_or_fail(str(exc))
        return
    try:
        pgcluster.owner_database(tls, "bundle_tls")
        pinned, other = tmp_path / "pinned.pem", tmp_path / "other.pem"
        pinned.write_bytes(cert)
        other.write_bytes(pgcluster.self_signed()[0])
        owner = {"PGPASSWORD": pgcluster.OWNER_PASSWORD}

        def init(root: Path) -> subprocess.CompletedProcess[str]:
            dsn = (
                f"host=127.0.0.1 port={tls.port} dbname=bundle_tls user={pgcluster.OWNER} "
                f"sslmode=verify-full sslrootcert={root}"
            )
            return run_clean(bundle, tmp_path, "team", "server", "init", "--dsn", dsn, env=owner)

        refused = init(other)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "did not show the certificate pinned for this team" in refused.stderr
        assert "Traceback" not in refused.stderr
        made = init(pinned)
        assert made.returncode == 0, made.stdout + made.stderr
        assert made.stdout.startswith("Team server set up: made role safecase_device, ")
        assert schema_of(tls, "bundle_tls")[0] == ["devices", "envelopes", "orders"]
    finally:
        tls.stop()


def test_the_bundle_fills_a_training_store_and_writes_an_access_pack_due_after_bank_holidays(
    tmp_path: Path, bundle: Path
) -> None:
    """Faker's British data (the demo), the United Kingdom's bank holidays (the due date) and
    the subject access pack's PDF, all from the trimmed bundle, with a password-only store."""
    from app.models.deadlines import due_date

    store = str(tmp_path / "training.safecase")
    admin = "Tidal-Compass-Orchard-58\n"
    made = run_clean(
        bundle, tmp_path, "init", "--store", store, "--admin", "ada", "--training",
        "--password-only", stdin=admin,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    demo = run_clean(bundle, tmp_path, "demo", "--store", store, "--user", "ada", "--cases", "5",
                     stdin=admin)  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    assert re.search(r"Added 5 synthetic cases \(\d+ people", demo.stdout)
    manager = re.search(r"demo-manager-1\tmanager\t(\S+)", demo.stdout)
    assert manager is not None
    signed_in = ("--store", store, "--user", "demo-manager-1")
    password = manager.group(1) + "\n"
    found = run_clean(bundle, tmp_path, "sar", "find", *signed_in, "--name", "a", stdin=password)
    person = re.search(r"^(\d+)\t.*\tclient on ", found.stdout, re.MULTILINE)
    assert person is not None, found.stdout + found.stderr
    pack = tmp_path / "pack"
    export = ("sar", "export", *signed_in, "--person", person.group(1), "--out", str(pack))
    written = run_clean(bundle, tmp_path, *export, stdin=password)
    assert written.returncode == 0, written.stderr
    (pdf,) = pack.glob("*.pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    listed = run_clean(bundle, tmp_path, "sar", "list", *signed_in, stdin=password)
    dates = re.search(r"received (\d{4}-\d\d-\d\d)\tdue (\d{4}-\d\d-\d\d)", listed.stdout)
    assert dates is not None, listed.stdout
    received, due = (dt.date.fromisoformat(day) for day in dates.groups())
    assert due == due_date(received)


# What the Linux bundle asks of the laptop: the C library, what PEP 513 (manylinux) counts on
# every Linux system having (as PySide6's own wheels do), X11's libxcb and OpenGL, the
# desktop's D-Bus and CUPS, and the MIT Kerberos libraries CUPS itself needs (libpq's GSSAPI).
# Everything else, the xcb helpers Qt's platform plugin needs included, is in the bundle.
FROM_THE_LAPTOP = {
    "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libresolv.so.2",
    "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1",
    "libstdc++.so.6", "libgcc_s.so.1", "libglib-2.0.so.0", "libgthread-2.0.so.0",
    "libX11.so.6", "libGL.so.1", "libEGL.so.1", "libxcb.so.1",
    "libdbus-1.so.3", "libcups.so.2",
    "libgssapi_krb5.so.2", "libkrb5.so.3", "libk5crypto.so.3", "libkrb5support.so.0",
    "libcom_err.so.2",
}  # fmt: skip


def needed_from_outside(folder: Path) -> dict[str, list[str]]:
    """Libraries some file of the bundle needs (readelf's NEEDED) that it does not carry."""
    carried = {path.name for path in folder.rglob("*")}
    outside: dict[str, list[str]] = {}
    for path in folder.rglob("*"):
        if not path.is_file() or path.is_symlink() or path.read_bytes()[:4] != b"\x7fELF":
            continue
        dynamic = subprocess.run(
            ["readelf", "-d", str(path)], capture_output=True, text=True, check=True
        ).stdout
        for name in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic):
            if name not in carried:
                outside.setdefault(name, []).append(path.name)
    return outside


def test_the_bundle_carries_every_library_but_those_every_linux_desktop_has(
    bundle: Path,
) -> None:
    outside = needed_from_outside(bundle.parent)
    assert set(outside) <= FROM_THE_LAPTOP, {
        name: users for name, users in outside.items() if name not in FROM_THE_LAPTOP
    }
    carried = {path.name for path in bundle.parent.rglob("libxcb-*")}
    assert {"libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0"} <= carried


def test_the_bundle_fits_in_120_mb_on_disk(bundle: Path) -> None:
    """What ``make bench-bundle`` reports as the size on disk (blocks, as du counts them)."""
    from bench.bundle import SIZE_GOAL_MB, size_mb

    assert size_mb(bundle.parent) <= SIZE_GOAL_MB


def test_the_bundle_carries_one_copy_of_each_library(bundle: Path) -> None:
    """A library a wheel carries under a renamed copy (libssl-1a2b3c4d.so.3) and the build
    machine's copy of it (libssl.so.3, for Python's ssl module) are one file: the second
    name is a symbolic link to it."""
    copies: dict[str, list[str]] = {}
    for path in bundle.parent.rglob("lib*.so*"):
        if path.is_symlink() or not path.is_file():
            continue
        match = re.match(r"^(lib[\w+]+?)(?:-[0-9a-f]{8})?\.so\.(\d+)", path.name)
        if match:
            key = f"{match.group(1)}.so.{match.group(2)}"
            copies.setdefault(key, []).append(str(path.relative_to(bundle.parent)))
    assert {name: where for name, where in copies.items() if len(where) > 1} == {}
    internal = bundle.parent / "_internal"
    for name in ("libssl.so.3", "libcrypto.so.3"):
        assert (internal / name).resolve().parent.name == "psycopg_binary.libs"


def test_the_bundle_carries_icu_data_for_its_own_languages_only(bundle: Path) -> None:
    """Qt's ICU data is cut from 32 MB to Safecase's languages; the self-test's text line
    (above) proves sorting, case and time-zone names still work from it."""
    (data,) = [path for path in bundle.parent.rglob("libicudata.so.*") if not path.is_symlink()]
    assert data.stat().st_size < 6_000_000


def test_the_text_check_fails_where_the_icu_data_lacks_a_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same cut with English alone (no Welsh collation): Qt, loading it in place of the
    wheel's full data, sorts "chwarae" before "cyfle", and the self-test says so."""
    monkeypatch.syspath_prepend(ROOT / "installer" / "linux")
    import icu_data
    import PySide6

    full = next((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    icu_data.cut_down(full, tmp_path, ("en",))
    probe = (
        "from app.services.self_test import run_check; from app.ui.self_test import text_check;"
        "print(run_check('text', text_check).line())"
    )
    env = {**os.environ, "LD_LIBRARY_PATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert (
        done.stdout.strip()
        == "FAIL text: names do not sort in alphabetical order; reinstall Safecase"
    )


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
