"""The two stores under test, and the unlock measurements.

Nothing here touches the operating system's keyring or the user's data folder: the device
secret lives in ``MemoryKeyring`` (a dictionary) and every file lives in a folder the caller
made with ``tempfile.TemporaryDirectory``.
"""

from __future__ import annotations

import secrets
import sqlite3
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from app.crypto.connection import PRAGMAS, connect, zero
from app.crypto.device import DeviceSecrets
from app.crypto.kdf import Argon2Params, argon2id
from app.crypto.memory_keyring import MemoryKeyring
from app.crypto.slots import SlotFile
from app.crypto.vault import keys_path
from app.models.schema import migrate
from app.services import accounts
from app.services.session import Session

SERVICE_NAME = "Bench Service"
ADMIN_NAME = "bench-admin"

# The same settings Safecase gives every connection, less the cipher-only ones.
PLAIN_PRAGMAS = tuple(p for p in PRAGMAS if not p.startswith("cipher_"))


def synthetic_passphrase() -> str:
    """A strong throwaway passphrase (zxcvbn scores 24 random URL-safe characters 4)."""
    return "bench-" + secrets.token_urlsafe(18)


@dataclass(frozen=True)
class BenchStore:
    """A freshly created Safecase store and what it takes to sign in to it."""

    path: Path
    password: str
    device: DeviceSecrets
    kdf: Argon2Params  # as read back from the admin's slot

    def sign_in(self) -> Session:
        return accounts.sign_in(self.path, ADMIN_NAME, self.password, device=self.device)


def create_store(folder: Path, kdf: Argon2Params | None) -> BenchStore:
    """Create a store in ``folder``; ``kdf`` None calibrates Argon2id as the product does."""
    path = folder / "bench.safecase"
    password = synthetic_passphrase()
    device = DeviceSecrets(MemoryKeyring())
    session, _recovery = accounts.create_store(
        path,
        service_name=SERVICE_NAME,
        admin_name=ADMIN_NAME,
        password=password,
        device=device,
        kdf=kdf,
    )
    accounts.sign_out(session)
    slot = SlotFile.load(keys_path(path)).find_user(ADMIN_NAME)
    if slot is None or slot.kdf is None:
        raise RuntimeError("the new store has no password slot for the bench admin")
    return BenchStore(path, password, device, slot.kdf)


def open_plain(path: Path) -> sqlite3.Connection:
    """A stdlib sqlite3 connection with Safecase's settings and no encryption."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    for pragma in PLAIN_PRAGMAS:
        conn.execute(f"PRAGMA {pragma}").fetchall()
    return conn


# -- unlock ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timings:
    """Repeated timings of one step, in milliseconds."""

    samples_ms: list[float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def max_ms(self) -> float:
        return max(self.samples_ms)

    def to_json(self) -> dict[str, object]:
        return {
            "runs": len(self.samples_ms),
            "median_ms": round(self.median_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "samples_ms": [round(s, 3) for s in self.samples_ms],
        }


@dataclass(frozen=True)
class UnlockResult:
    kdf: Argon2Params
    unlock: Timings  # accounts.sign_in + accounts.sign_out
    sign_in: Timings  # accounts.sign_in alone
    argon2id: Timings  # one derivation with the slot's parameters, nothing else
    connect: Timings  # app.crypto.connection.connect with the raw key

    def to_json(self) -> dict[str, object]:
        return {
            "argon2id": {
                "memory_kib": self.kdf.memory_kib,
                "time_cost": self.kdf.time_cost,
                "parallelism": self.kdf.parallelism,
            },
            "sign_in_plus_sign_out": self.unlock.to_json(),
            "sign_in_only": self.sign_in.to_json(),
            "argon2id_derivation": self.argon2id.to_json(),
            "raw_key_connect": self.connect.to_json(),
        }


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def time_unlock(store: BenchStore, runs: int) -> tuple[Timings, Timings]:
    """Sign in and out ``runs`` times; returns (sign_in + sign_out, sign_in alone)."""
    both: list[float] = []
    sign_in: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        session = store.sign_in()
        opened = _ms(start)
        accounts.sign_out(session)
        both.append(_ms(start))
        sign_in.append(opened)
    return Timings(both), Timings(sign_in)


def time_argon2id(store: BenchStore, runs: int) -> Timings:
    salt = secrets.token_bytes(16)
    samples: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        argon2id(store.password, salt, store.kdf)
        samples.append(_ms(start))
    return Timings(samples)


def time_connect(folder: Path, runs: int) -> Timings:
    """Open a SQLCipher file carrying Safecase's schema with a raw 256-bit key.

    A scratch file keyed by the benchmark stands in for the store, whose data key stays
    sealed inside the Vault; ``connect`` is the same call the Vault makes on sign-in.
    """
    path = folder / "connect.safecase"
    key = bytearray(secrets.token_bytes(32))
    try:
        conn = connect(path, key, create=True)
        migrate(conn)
        conn.close()
        samples: list[float] = []
        for _ in range(runs):
            start = time.perf_counter()
            conn = connect(path, key)
            samples.append(_ms(start))
            conn.close()
    finally:
        zero(key)
    return Timings(samples)


def measure_unlock(store: BenchStore, folder: Path, runs: int, connect_runs: int) -> UnlockResult:
    unlock, sign_in = time_unlock(store, runs)
    return UnlockResult(
        kdf=store.kdf,
        unlock=unlock,
        sign_in=sign_in,
        argon2id=time_argon2id(store, runs),
        connect=time_connect(folder, connect_runs),
    )
