"""Running the real command line in a child process, for faults only a process can meet:
SQLCipher's own lines on standard error, a full disk (a file-size limit), a file the user
may not write (with root's power to override file permissions dropped, when the tests
run as root, as they do in CI)."""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from app.services import accounts
from tests.helpers import ADMIN, ADMIN_PW, SERVICE, TEST_KDF

# prctl(PR_CAPBSET_DROP, cap): the capabilities that let root read and write any file.
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE = 1
CAP_DAC_READ_SEARCH = 2


def make_password_only_store(folder: Path, *, training: bool = False) -> Path:
    """A store a child process can open without a keyring, at the tests' cheap key cost
    (``training``: a training store, which takes demo records)."""
    path = folder / "cases.safecase"
    session, _ = accounts.create_store(
        path,
        service_name=SERVICE,
        admin_name=ADMIN,
        password=ADMIN_PW,
        device=None,
        kdf=TEST_KDF,
        training=training,
    )
    accounts.sign_out(session)
    return path


def _obey_file_permissions() -> None:
    """Drop root's override of file permissions for the program about to run."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")


def _limits(file_size: int | None, unprivileged: bool) -> Callable[[], None]:
    def apply() -> None:
        if file_size is not None:
            # A write past the limit fails with EFBIG, as on a full disk, instead of a signal.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        if unprivileged and os.geteuid() == 0:
            _obey_file_permissions()

    return apply


def run_cli(
    args: list[str],
    stdin: str,
    home: Path,
    *,
    file_size: int | None = None,
    unprivileged: bool = False,
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        preexec_fn=_limits(file_size, unprivileged),
        timeout=120,
    )
