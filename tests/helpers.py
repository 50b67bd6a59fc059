"""Test helpers: an in-memory keyring and a small, explicit Argon2id cost."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from keyring.backend import KeyringBackend

from app.crypto.kdf import Argon2Params
from app.crypto.vault import keys_path

# Far below the product's floor, on purpose: tests pass it explicitly to stay fast.
TEST_KDF = Argon2Params(memory_kib=256, time_cost=1, parallelism=1)

ADMIN, ADMIN_PW = "ada", "quiet-harbour-lantern-47"
CASEWORKER, CASEWORKER_PW = "cole", "maple-thistle-orbit-19"
MANAGER, MANAGER_PW = "mina", "copper-willow-fjord-83"
DPO, DPO_PW = "dora", "granite-heron-velvet-26"
SERVICE = "Northfield IDVA"


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in one dictionary; never the operating system's."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.values.pop((service, username), None)


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
