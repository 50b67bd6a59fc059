"""Atomic writes: the old file or the whole new one, never half, and no stray temp files."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from app.crypto import files
from app.errors import DiskFull


def test_replaces_whole(tmp_path: Path) -> None:
    target = tmp_path / "slots"
    target.write_bytes(b"old")
    files.atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slots"]


def test_disk_full_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "slots"
    target.write_bytes(b"old")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(DiskFull, match="disk is full"):
        files.atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slots"]
