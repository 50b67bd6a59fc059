"""Argon2id calibration never goes below the RFC 9106 floor."""

from __future__ import annotations

from app.crypto.kdf import FLOOR, Argon2Params, argon2id, calibrate


class FakeClock:
    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_slow_machine_gets_the_floor() -> None:
    tiny = Argon2Params(256, 3, 1)
    params = calibrate(target_seconds=0.5, floor=tiny, clock=FakeClock(5.0))
    assert params == tiny


def test_a_fast_machine_gets_a_higher_time_cost() -> None:
    tiny = Argon2Params(256, 3, 1)
    params = calibrate(target_seconds=0.5, floor=tiny, clock=FakeClock(0.05))
    assert params.time_cost == 30
    assert params.memory_kib == tiny.memory_kib


def test_the_product_floor_is_rfc_9106_low_memory() -> None:
    assert (FLOOR.memory_kib, FLOOR.time_cost, FLOOR.parallelism) == (65536, 3, 4)


def test_passwords_are_normalised_before_hashing() -> None:
    params = Argon2Params(256, 1, 1)
    composed, decomposed = "caf\u00e9-long-passphrase", "cafe\u0301-long-passphrase"
    assert argon2id(composed, b"s" * 16, params) == argon2id(decomposed, b"s" * 16, params)
