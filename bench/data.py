"""Synthetic, seeded note-like rows: the same data for the Safecase store and plain sqlite3."""

from __future__ import annotations

import random
from dataclasses import dataclass

KINDS = ("note", "call", "visit", "email", "referral", "meeting")
BODY_CHARS = 300
ROWS_PER_CASE = 50
VOCABULARY = 2_000
SYLLABLES = (
    "ba be bi bo bu da de di do du fa fe fi fo ka ke ki ko la le li lo lu ma me mi mo mu "
    "na ne ni no nu pa pe pi po ra re ri ro ru sa se si so ta te ti to tu va ve vi wa we "
    "za zo an en in on ar er or al el il ol"
).split()

Row = tuple[int, int, str, str, str]


@dataclass(frozen=True)
class Workload:
    """Everything both sides do, drawn once from ``random.Random(seed)``."""

    rows: list[Row]
    cases: int
    point_ids: list[int]
    range_case_ids: list[int]


def _words(rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))))
    return sorted(words)


def _body(rng: random.Random, words: list[str]) -> str:
    parts: list[str] = []
    length = -1
    while length < BODY_CHARS:
        word = rng.choice(words)
        parts.append(word)
        length += len(word) + 1
    return " ".join(parts).capitalize() + "."


def _at(rng: random.Random) -> str:
    return (
        f"20{rng.randint(20, 25):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.000000Z"
    )


def make_workload(rows: int, seed: int, point_lookups: int, range_lookups: int) -> Workload:
    """``rows`` notes over about ``rows / 50`` cases, plus the ids both sides will look up."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    rng = random.Random(seed)
    words = _words(rng)
    cases = max(1, rows // ROWS_PER_CASE)
    data: list[Row] = [
        (i, rng.randint(1, cases), _at(rng), rng.choice(KINDS), _body(rng, words))
        for i in range(1, rows + 1)
    ]
    point_ids = [rng.randint(1, rows) for _ in range(point_lookups)]
    range_case_ids = [rng.randint(1, cases) for _ in range(range_lookups)]
    return Workload(data, cases, point_ids, range_case_ids)
