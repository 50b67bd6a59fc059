"""The recovery key a person copies by hand."""

from __future__ import annotations

import pytest

from app.crypto.recovery import format_recovery_key, new_recovery_key, parse_recovery_key
from app.errors import RecoveryKeyMistyped


def test_round_trip_and_shape() -> None:
    key = new_recovery_key()
    text = format_recovery_key(key)
    groups = text.split("-")
    assert len(groups) == 13
    assert all(len(g) == 5 for g in groups)
    assert parse_recovery_key(text) == key


def test_look_alike_letters_are_read_as_digits() -> None:
    key = bytes(32)  # all zeros: every data character is "0"
    text = format_recovery_key(key)
    assert parse_recovery_key(text.replace("0", "O")) == key


def test_swapped_groups_are_caught() -> None:
    for _ in range(20):
        groups = format_recovery_key(new_recovery_key()).split("-")
        if groups[0] == groups[1]:
            continue
        groups[0], groups[1] = groups[1], groups[0]
        with pytest.raises(RecoveryKeyMistyped, match="Group 1"):
            parse_recovery_key("-".join(groups))


def test_every_single_mistyped_character_is_caught() -> None:
    text = format_recovery_key(new_recovery_key())
    for position, original in enumerate(text):
        if original == "-":
            continue
        for typo in "0123456789ABCDEFGHJKMNPQRSTVWXYZ":
            if typo == original:
                continue
            with pytest.raises(RecoveryKeyMistyped, match=f"Group {position // 6 + 1} "):
                parse_recovery_key(text[:position] + typo + text[position + 1 :])


def test_a_missing_group_says_how_long_a_key_is() -> None:
    text = format_recovery_key(new_recovery_key())
    with pytest.raises(RecoveryKeyMistyped, match="13 groups"):
        parse_recovery_key(text[:-6])
