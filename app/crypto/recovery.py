"""The recovery key: 256 random bits shown once, in checked groups a person can copy by hand.

Thirteen groups of five characters (Crockford base32). Each group holds four characters of key
and one check character computed over the group and its position, so a group with one mistyped
character, or groups copied in the wrong order, are named rather than silently producing a
wrong key.
"""

from __future__ import annotations

import secrets

from app.errors import RecoveryKeyMistyped

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_ALIASES = {"O": "0", "I": "1", "L": "1", "U": "V"}
KEY_BYTES = 32
GROUPS = 13
DATA_CHARS = 4


def _check_char(index: int, chars: str) -> str:
    """A weighted sum mod 32. Odd weights make every single mistyped character change it, and
    the group's position term makes a group copied into the wrong place fail too."""
    total = sum((2 * i + 1) * _VALUE[c] for i, c in enumerate(chars)) + 7 * (index + 1)
    return ALPHABET[total % 32]


def new_recovery_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def format_recovery_key(key: bytes) -> str:
    """Render the key as ``XXXXX-XXXXX-...``; 260 bits of groups carry the 256 of key."""
    if len(key) != KEY_BYTES:
        raise ValueError("a recovery key is 32 bytes")
    number = int.from_bytes(key, "big")
    data = "".join(
        ALPHABET[(number >> (5 * (GROUPS * DATA_CHARS - 1 - i))) & 31]
        for i in range(GROUPS * DATA_CHARS)
    )
    groups = []
    for g in range(GROUPS):
        chunk = data[g * DATA_CHARS : (g + 1) * DATA_CHARS]
        groups.append(chunk + _check_char(g, chunk))
    return "-".join(groups)


def parse_recovery_key(text: str) -> bytes:
    """Read a typed recovery key, forgiving case, spaces and look-alike letters."""
    cleaned = "".join(_ALIASES.get(c, c) for c in text.upper() if c.isalnum())
    if len(cleaned) != GROUPS * (DATA_CHARS + 1) or any(c not in _VALUE for c in cleaned):
        raise RecoveryKeyMistyped(
            f"A recovery key is {GROUPS} groups of {DATA_CHARS + 1} letters and digits; "
            "check it against the printed copy."
        )
    number = 0
    for g in range(GROUPS):
        group = cleaned[g * 5 : (g + 1) * 5]
        chunk, check = group[:DATA_CHARS], group[DATA_CHARS]
        if _check_char(g, chunk) != check:
            raise RecoveryKeyMistyped(
                f"Group {g + 1} of the recovery key is mistyped; check it against the printed copy."
            )
        for c in chunk:
            number = (number << 5) | _VALUE[c]
    if number >> (8 * KEY_BYTES):
        raise RecoveryKeyMistyped()
    return number.to_bytes(KEY_BYTES, "big")
