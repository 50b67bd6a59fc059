"""Keeping the running process's memory, which holds keys and decrypted records, to itself.

SQLCipher's memory security is off (see ``connection.PRAGMAS``), so the process guards its
memory as a whole instead: no core dump may write it to disk, and on Linux the process is
marked not dumpable, which also stops other programs of the same user from attaching to it
or reading ``/proc/<pid>/mem``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger("safecase.crypto")

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None


def no_core_dumps() -> bool:
    """Set the core file size limit to zero; False where the system would not."""
    try:
        import resource
    except ImportError:  # Windows: no core files unless the user configured crash dumps
        return False
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        return False
    return True


def not_dumpable() -> bool:
    """Linux: mark the process not dumpable; False elsewhere or where the call failed."""
    if not sys.platform.startswith("linux"):
        return False
    libc = _libc()
    if libc is None:
        return False
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        return False
    return bool(libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0)


def harden() -> None:
    """Apply both guards; a guard the system refuses is logged (no personal data) and skipped."""
    if not no_core_dumps():
        log.info("core dumps could not be turned off on this system")
    if sys.platform.startswith("linux") and not not_dumpable():
        log.info("the process could not be marked not dumpable")
