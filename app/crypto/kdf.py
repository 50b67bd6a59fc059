"""Password key derivation: Argon2id, calibrated once at enrolment, then HKDF-SHA256."""

from __future__ import annotations

import math
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@dataclass(frozen=True)
class Argon2Params:
    memory_kib: int
    time_cost: int
    parallelism: int

    def to_json(self) -> dict[str, int]:
        return {"m": self.memory_kib, "t": self.time_cost, "p": self.parallelism}

    @classmethod
    def from_json(cls, data: dict[str, int]) -> Argon2Params:
        return cls(memory_kib=int(data["m"]), time_cost=int(data["t"]), parallelism=int(data["p"]))

    def strengthened(self) -> Argon2Params:
        """The stronger cost used for a slot that has no device secret behind it."""
        return Argon2Params(self.memory_kib * 2, self.time_cost * 2, self.parallelism)


# RFC 9106 section 4, the second recommended (low-memory) option: 64 MiB, t=3, p=4.
FLOOR = Argon2Params(memory_kib=64 * 1024, time_cost=3, parallelism=4)
TARGET_SECONDS = 0.5
MAX_TIME_COST = 40


def normalise_password(password: str) -> bytes:
    """NIST SP 800-63B asks for Unicode normalisation before hashing."""
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def argon2id(password: str, salt: bytes, params: Argon2Params) -> bytes:
    return hash_secret_raw(
        normalise_password(password),
        salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def hkdf(ikm: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def calibrate(
    target_seconds: float = TARGET_SECONDS,
    floor: Argon2Params = FLOOR,
    clock: Callable[[], float] = time.perf_counter,
) -> Argon2Params:
    """Raise the time cost until one derivation takes about ``target_seconds`` on this machine.

    Never returns less than ``floor``: a fast machine gets a higher cost, a slow one the floor.
    """
    start = clock()
    argon2id("calibration", b"\0" * 16, floor)
    elapsed = max(clock() - start, 1e-6)
    wanted = math.ceil(floor.time_cost * target_seconds / elapsed)
    return Argon2Params(
        floor.memory_kib, min(max(floor.time_cost, wanted), MAX_TIME_COST), floor.parallelism
    )
