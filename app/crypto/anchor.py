"""The audit anchor beside a store: the last audit entry this computer saw committed.

``cases.safecase.anchor`` holds the count and head hash of the audit trail as of the last
commit that added entries. It is written after the commit (which SQLite has already synced to
the write-ahead log), through a temporary file and a rename, so it can lag the store but never
run ahead of it. A store that opens shorter than its anchor, or with a different entry at the
anchor's count, lost entries it had acknowledged: a damaged write-ahead log (SQLite replays
it only up to the first bad frame) or an older copy of the file put back.

The anchor is not secret and not signed: it catches accidents and careless rollbacks. Someone
who holds the data key can rewrite it along with the store; the sealed trail, the backups'
anchors and the DPO's checkpoints are what catch them.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

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


def write(store: Path, count: int, head: str) -> None:
    """Record ``count`` and ``head``; replaces the old record atomically, without an fsync
    (the store's own commit was synced first, so a lost write only leaves the anchor behind)."""
    target = anchor_path(store)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps({"format": 1, "count": count, "head": head}), encoding="ascii")
    os.replace(tmp, target)


def read(store: Path) -> Anchor | None:
    """This computer's record for ``store``, or None when there is none (a new or copied
    store) or it cannot be read (then it is ignored, with a log line)."""
    try:
        data = json.loads(anchor_path(store).read_text(encoding="ascii"))
        return Anchor("this computer", int(data["count"]), str(data["head"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("the audit anchor beside the store is unreadable; ignored")
        return None


def forget(store: Path) -> None:
    """Drop the record, when a store is rebuilt at the same place from a backup."""
    anchor_path(store).unlink(missing_ok=True)
