"""Faults no test can cause inside its own process: a disk that fills part-way and a process
killed with SIGKILL. ``run`` starts a child Python that signs in to a test store (its device
secret handed over on standard input, never written to a file), sets the fault and does one
thing; the test then opens the store itself and checks what a user would find.

The child prints a refused action's message on standard output and exits 1, as the command
line does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import StoreCopy

ROOT = Path(__file__).resolve().parent.parent
# File size limits and SIGKILL are POSIX's.
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals and limits")


@dataclass(frozen=True)
class Outcome:
    returncode: int  # negative: killed by that signal
    stdout: str
    stderr: str


def run(
    store: StoreCopy,
    username: str,
    password: str,
    action: str,
    *,
    file_size_limit: int | None = None,
    die: str = "",
) -> Outcome:
    """Run ``action`` ("rotate", "purge" or "sync") as ``username`` in a child process.

    ``file_size_limit`` (bytes): no file the child writes may grow past it, as on a disk that
    fills. ``die``: "progress" kills the child with SIGKILL at a purge's first progress call
    after a case; "before-swap" ends it abruptly after a rotation's pending slot file is
    written, before its copy replaces the store; "read", "batch" and "publish" kill a team
    sync (``_sync_then_die``).
    """
    order = {
        "store": str(store.path),
        "keyring": [[s, u, v] for (s, u), v in store.keyring.values.items()],
        "username": username,
        "password": password,
        "action": action,
        "file_size_limit": file_size_limit,
        "die": die,
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.crashes"],
        input=json.dumps(order),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def _child() -> int:
    from app.crypto import vault as vaultlib
    from app.crypto.device import DeviceSecrets
    from app.errors import SafecaseError
    from app.services import accounts, retention
    from tests.helpers import MemoryKeyring

    order = json.loads(sys.stdin.read())
    keyring = MemoryKeyring()
    keyring.values = {(s, u): v for s, u, v in order["keyring"]}
    session = accounts.sign_in(
        Path(order["store"]), order["username"], order["password"], device=DeviceSecrets(keyring)
    )
    session.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    if order["die"] == "before-swap":

        def stop(*_args: object) -> None:
            os._exit(9)

        vaultlib._close_for_swap = stop  # type: ignore[assignment]
    if order["file_size_limit"] is not None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a dead process
        limit = int(order["file_size_limit"])
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        if order["action"] == "rotate":
            accounts.rotate_keys(session)
        elif order["action"] == "sync":
            _sync_then_die(session, order["die"])
        elif order["action"] == "purge":

            def progress(done: int, total: int) -> None:
                if order["die"] == "progress" and done >= 2:
                    os.kill(os.getpid(), signal.SIGKILL)

            retention.purge(session, progress=progress)
        else:
            raise AssertionError(order["action"])
    except SafecaseError as exc:
        print(exc)
        # The session goes on after a refusal: signing out still writes its audit entry.
        accounts.sign_out(session)
        return 1
    accounts.sign_out(session)
    return 0


def _sync_then_die(session: object, die: str) -> None:
    """A team sync killed with SIGKILL: "read" once the first envelope is read (before its
    batch commits), "batch" once the first batch of two envelopes is committed, "publish" once
    the first envelope is in the folder but before the store says so."""
    from app.services import team
    from app.sync import engine, folder, guard

    def kill() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if die == "read":
        read_one = engine._read_one

        def read_then_die(*args: object, **kwargs: object) -> bool:
            read_one(*args, **kwargs)  # type: ignore[arg-type]
            kill()
            return False

        engine._read_one = read_then_die  # type: ignore[assignment]
    elif die == "batch":
        guard.BATCH_ENVELOPES = 2
        commit = guard.Batches.commit

        def commit_then_die(self: guard.Batches) -> None:
            committing = self._open is not None
            commit(self)
            if committing:
                kill()

        guard.Batches.commit = commit_then_die  # type: ignore[method-assign]
    elif die == "publish":
        publish = folder.FolderTransport.publish

        def publish_then_die(self: folder.FolderTransport, *args: object) -> None:
            publish(self, *args)  # type: ignore[arg-type]
            kill()

        folder.FolderTransport.publish = publish_then_die  # type: ignore[method-assign]
    team.sync(session)  # type: ignore[arg-type]


if __name__ == "__main__":
    raise SystemExit(_child())
