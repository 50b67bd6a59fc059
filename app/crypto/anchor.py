"""The audit anchor beside a store: the last audit entry this computer saw committed.

``cases.safecase.anchor`` holds the count and head hash of the audit trail as of the last
commit that added entries. It is written after the commit (which SQLite has already synced to
the write-ahead log), so it can lag the store but never run ahead of it. A store that opens
shorter than its anchor, or with a different entry at the anchor's count, lost entries it had
acknowledged: a damaged write-ahead log (SQLite replays it only up to the first bad frame) or
an older copy of the file put back.

The anchor is not secret and not signed: it catches accidents and careless rollbacks. Someone
who holds the data key can rewrite it along with the store; the sealed trail, the backups'
anchors and the DPO's checkpoints are what catch them.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from app.crypto.files import atomic_write

log = logging.getLogger("safecase.crypto")


@dataclass(frozen=True)
class Anchor:
    """What one witness outside the store saw of its audit trail."""

    source: str
    count: int
    head: str
    # False when the witness carries a tag and the tag does not check out.
    authentic: bool = True


def anchor_path(store: Path) -> Path:
    return store.with_name(store.name + ".anchor")


# Two fixed-size slots, written in place by the parity of the count: a write torn by a crash
# spoils one slot and leaves the other, older one. In place, because writing a new file and
# renaming it cost more than the commit it follows.
SLOT = 128


def _slot(count: int, head: str) -> bytes:
    body = json.dumps({"count": count, "head": head}, separators=(",", ":")).encode("ascii")
    body = body.ljust(SLOT - 8)
    return body + f"{zlib.crc32(body):08x}".encode("ascii")


def _unslot(raw: bytes) -> tuple[int, str] | None:
    body, check = raw[: SLOT - 8], raw[SLOT - 8 : SLOT]
    if len(raw) < SLOT or check != f"{zlib.crc32(body):08x}".encode("ascii"):
        return None
    data = json.loads(body)
    return int(data["count"]), str(data["head"])


def write(store: Path, count: int, head: str) -> None:
    """Record ``count`` and ``head``, without an fsync: the store's own commit was synced
    first, so a lost write only leaves the anchor behind. Counts only grow (see ``reset``)."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0)
    fd = os.open(anchor_path(store), flags, 0o600)
    try:
        os.lseek(fd, (count % 2) * SLOT, os.SEEK_SET)
        os.write(fd, _slot(count, head))
    finally:
        os.close(fd)


def reset(store: Path, count: int, head: str) -> None:
    """Replace the record outright, for when the trail is shorter on purpose."""
    atomic_write(anchor_path(store), _slot(count, head) * 2)


def read(store: Path) -> Anchor | None:
    """This computer's record for ``store``, or None when there is none (a new or copied
    store) or it cannot be read (then it is ignored, with a log line)."""
    try:
        raw = anchor_path(store).read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        log.warning("the audit anchor beside the store is unreadable; ignored")
        return None
    found = []
    for index in (0, 1):
        try:
            slot = _unslot(raw[index * SLOT : (index + 1) * SLOT])
        except (ValueError, KeyError, TypeError):
            slot = None
        if slot is not None:
            found.append(slot)
    if not found:
        log.warning("the audit anchor beside the store is unreadable; ignored")
        return None
    count, head = max(found)
    return Anchor("this computer", count, head)


def forget(store: Path) -> None:
    """Drop the record, when a store is rebuilt at the same place from a backup."""
    anchor_path(store).unlink(missing_ok=True)
