"""Atomic file writes and the single-copy lock on a store."""

from __future__ import annotations

import errno
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from app.errors import DiskFull, SafecaseError, StoreLocked


def fsync_dir(folder: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def os_error(exc: OSError) -> SafecaseError:
    """Turn an operating-system error into one the user can act on."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull()
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return SafecaseError("Safecase may not write there. Choose a folder you can write to.")
    return SafecaseError("Safecase could not write the file; nothing was changed.")


def atomic_write(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync, then replace ``path``.

    Either the old file or the whole new one is there afterwards, never half of either.
    """
    folder = path.parent
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    except OSError as exc:
        raise os_error(exc) from None
    tmp = Path(tmp_name)
    chunks = [data] if isinstance(data, bytes) else data
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_dir(folder)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise os_error(exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class StoreLock:
    """An advisory lock held while a store is open, so a second copy cannot open it too."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None

    def acquire(self) -> None:
        try:
            handle = open(self.path, "a+b")  # noqa: SIM115 - held until release()
        except OSError as exc:
            raise os_error(exc) from None
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise StoreLocked() from None
        self._handle = handle

    def release(self) -> None:
        if self._handle is None:
            return
        # Closing the handle releases the lock on every platform.
        self._handle.close()
        self._handle = None
