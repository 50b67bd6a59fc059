"""Global ids and the hybrid logical clock."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.sync.clock import Hlc, HlcClock, new_uuid7, uuid7_ms

HOUR_MS = 3_600_000
NOW = 1_790_000_000_000  # a Unix time in milliseconds, late 2026


def test_a_uuid7_is_an_rfc_9562_version_7_id_holding_its_time() -> None:
    text = new_uuid7(NOW, bytes(range(10)))
    parsed = uuid.UUID(text)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert str(parsed) == text
    assert uuid7_ms(text) == NOW


def test_uuid7s_made_later_sort_later_and_never_repeat() -> None:
    ids = [new_uuid7(NOW + n // 10) for n in range(1000)]
    assert len(set(ids)) == 1000
    assert [uuid7_ms(i) for i in sorted(ids)] == sorted(uuid7_ms(i) for i in ids)


def test_a_uuid7_refuses_a_time_it_cannot_hold() -> None:
    with pytest.raises(ValueError):
        new_uuid7(-1)
    with pytest.raises(ValueError):
        new_uuid7(1 << 48)


def test_a_stamp_encodes_to_fixed_width_text_and_back() -> None:
    stamp = Hlc(NOW, 7, "dev-a")
    assert Hlc.decode(stamp.encode()) == stamp
    assert len(Hlc(1, 0, "d").encode()) == len(Hlc(NOW, 999, "d").encode())
    for bad in ("", "12:3:d", "x" * 15 + ":000000:d", f"{NOW:015d}:000000:"):
        with pytest.raises(ValueError):
            Hlc.decode(bad)


def test_a_laptop_hours_behind_still_stamps_after_what_it_received() -> None:
    ahead, behind = HlcClock("ahead"), HlcClock("behind")
    sent = ahead.tick(NOW)
    behind.receive(sent, NOW - 5 * HOUR_MS)
    later = behind.tick(NOW - 5 * HOUR_MS + 1000)
    assert later > sent
    assert later.encode() > sent.encode()


stamps = st.builds(
    Hlc,
    st.integers(0, 10**14),
    st.integers(0, 999),
    st.sampled_from(["a", "b", "device-c"]),
)


@given(st.lists(st.integers(NOW - 10 * HOUR_MS, NOW + 10 * HOUR_MS), min_size=1, max_size=50))
def test_local_stamps_always_increase_whatever_the_wall_clock_does(walls: list[int]) -> None:
    clock = HlcClock("a")
    issued = [clock.tick(w) for w in walls]
    assert issued == sorted(issued)
    assert len(set(issued)) == len(issued)
    assert [s.encode() for s in issued] == sorted(s.encode() for s in issued)


@given(stamps, st.integers(0, 10**14), st.lists(st.integers(0, 10**14), max_size=10))
def test_after_a_receipt_every_later_tick_is_after_the_remote_stamp(
    remote: Hlc, local_wall: int, walls: list[int]
) -> None:
    clock = HlcClock("me")
    clock.tick(local_wall)
    got = clock.receive(remote, local_wall)
    assert got > remote
    for wall in walls:
        assert clock.tick(wall) > remote


@given(st.lists(stamps, min_size=2, max_size=30))
def test_stamps_from_all_devices_are_totally_ordered_in_text_as_in_value(
    many: list[Hlc],
) -> None:
    by_value = sorted(set(many))
    by_text = sorted({s.encode() for s in many})
    assert [s.encode() for s in by_value] == by_text
    assert [Hlc.decode(t) for t in by_text] == by_value
