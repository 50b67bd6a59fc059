"""The running process keeps its memory (keys, decrypted records) to itself."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Run in a child process: the guards cannot be undone, and pytest's own process keeps its own.
PROBE = """
import resource, sys
from app.crypto import process
process.harden()
print(resource.getrlimit(resource.RLIMIT_CORE))
if sys.platform.startswith("linux"):
    libc = process._libc()
    print(libc.prctl(process.PR_GET_DUMPABLE, 0, 0, 0, 0))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="no core file limit on Windows")
def test_the_process_can_write_no_core_dump_and_cannot_be_read_by_other_programs() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "(0, 0)"
    if sys.platform.startswith("linux"):
        assert lines[1] == "0"  # not dumpable: no core, no ptrace, no /proc/<pid>/mem by others
