"""Test helpers: an in-memory keyring and a small, explicit Argon2id cost."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from app.crypto.kdf import Argon2Params
from app.crypto.memory_keyring import MemoryKeyring
from app.crypto.vault import keys_path

__all__ = ["MemoryKeyring", "StoreCopy", "copy_store"]

# Far below the product's floor, on purpose: tests pass it explicitly to stay fast.
TEST_KDF = Argon2Params(memory_kib=256, time_cost=1, parallelism=1)

ADMIN, ADMIN_PW = "ada", "quiet-harbour-lantern-47"
CASEWORKER, CASEWORKER_PW = "cole", "maple-thistle-orbit-19"
CASEWORKER2, CASEWORKER2_PW = "cara", "lichen-otter-summit-72"
MANAGER, MANAGER_PW = "mina", "copper-willow-fjord-83"
DPO, DPO_PW = "dora", "granite-heron-velvet-26"
SERVICE = "Northfield IDVA"


@dataclass
class StoreCopy:
    """A store for one test, copied from the session's template."""

    path: Path
    keyring: MemoryKeyring
    recovery_key: str


def copy_store(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    shutil.copyfile(source, target)
    shutil.copyfile(keys_path(source), keys_path(target))
    return target
