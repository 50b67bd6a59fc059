"""Small-number suppression for published tables of counts, with secondary suppression.

A published table has cells, and may show row totals, column totals and a grand total.
Counts from 1 to 4 are never shown ("fewer than 5", primary suppression); zero is shown.
Then, while any suppressed count could be worked out exactly from what is shown (the other
cells, the totals, and the known bounds: 1 to 4 for "fewer than 5", 5 or more for a withheld
cell, 0 or more for a total that is not shown), another cell of 5 or more is withheld
(secondary suppression). The grand total is never withheld, nor any total that another table
shows too (the number of referrals, of clients, of closures): a table whose other totals
appear nowhere else may withhold them, after its cells. When that cannot protect every
suppressed count, the whole table is withheld.

The check is exact. Think of the table with its totals as an (m+1) x (n+1) grid where every
row and column sums to zero once the totals are negated. Two tables consistent with what is
shown differ by a combination of cycles through suppressed entries (adding 1 and taking 1
away in turn along each row and column). So a suppressed entry can take another value if and
only if one such cycle through it moves it by one with every entry on the cycle staying
within its bounds: a path search in a small directed graph.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

SMALL = 5  # counts below this (and above zero) are never shown

METHOD = (
    "Counts from 1 to 4 are shown as 'fewer than 5'; zero is shown as 0. Where a count shown "
    "as 'fewer than 5' could be worked out from the other counts and the row, column or grand "
    "totals, other counts of 5 or more (or a row or column total seen in no other table) are "
    "withheld too, so that no suppressed count can be recovered from what a table shows. "
    "Totals count everything, suppressed or not. A table whose counts cannot be protected "
    "that way is not published. No names, references or other identifiers are included."
)


class Mark(enum.StrEnum):
    SHOWN = "shown"
    FEWER_THAN_5 = "fewer_than_5"  # primary: a count from 1 to 4
    WITHHELD = "withheld"  # secondary: a count of 5 or more, withheld to protect another
    NOT_SHOWN = "not_shown"  # a total this table does not show


@dataclass(frozen=True)
class Cell:
    """One published entry: its count only when shown."""

    mark: Mark
    count: int | None = None

    def text(self) -> str:
        if self.mark is Mark.SHOWN:
            return str(self.count)
        if self.mark is Mark.FEWER_THAN_5:
            return "fewer than 5"
        if self.mark is Mark.WITHHELD:
            return "withheld"
        return ""


@dataclass(frozen=True)
class Layout:
    """Which totals a table shows."""

    row_totals: bool = True
    column_totals: bool = True
    total: bool = True


@dataclass(frozen=True)
class Published:
    """A table as it may be published: nothing in it holds a suppressed count."""

    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...]  # Mark.NOT_SHOWN when the layout has none
    column_totals: tuple[Cell, ...]
    total: Cell
    withheld: bool = False  # the whole table is not published

    def grid(self) -> list[list[Cell]]:
        """The (m+1) x (n+1) grid: cells, row totals in the last column, column totals in the
        last row, the grand total in the corner."""
        rows = [[*row, self.row_totals[i]] for i, row in enumerate(self.cells)]
        return [*rows, [*self.column_totals, self.total]]


_UNBOUNDED = 1 << 62


def bounds(mark: Mark, count: int) -> tuple[int, int]:
    """What a reader knows of an entry from its mark (and its count when shown)."""
    if mark is Mark.SHOWN:
        return count, count
    if mark is Mark.FEWER_THAN_5:
        return 1, SMALL - 1
    if mark is Mark.WITHHELD:
        return SMALL, _UNBOUNDED
    return 0, _UNBOUNDED


def _extended(counts: Sequence[Sequence[int]]) -> list[list[int]]:
    rows = [[*row, sum(row)] for row in counts]
    columns = [sum(col) for col in zip(*counts, strict=True)] if counts else []
    return [*rows, [*columns, sum(sum(row) for row in counts)]]


def recoverable(values: list[list[int]], marks: list[list[Mark]]) -> list[tuple[int, int]]:
    """The suppressed entries of the extended grid whose count a reader could work out
    exactly: those on no feasible cycle (see the module's docstring)."""
    rows, columns = len(values), len(values[0])
    suppressed = [
        (i, j)
        for i in range(rows)
        for j in range(columns)
        if marks[i][j] in (Mark.FEWER_THAN_5, Mark.WITHHELD)
    ]
    # Nodes: rows 0..rows-1, then columns as rows+j. An entry's signed value (a total is
    # negated) may rise by one (arc row -> column) or fall by one (arc column -> row).
    arcs: dict[int, set[int]] = {n: set() for n in range(rows + columns)}
    for i in range(rows):
        for j in range(columns):
            if marks[i][j] is Mark.SHOWN:
                continue
            low, high = bounds(marks[i][j], values[i][j])
            sign = 1 if (i < rows - 1) == (j < columns - 1) else -1
            if low <= values[i][j] + sign <= high:
                arcs[i].add(rows + j)
            if low <= values[i][j] - sign <= high:
                arcs[rows + j].add(i)

    def path(start: int, goal: int, banned: tuple[int, int]) -> bool:
        seen, queue = {start}, deque([start])
        while queue:
            node = queue.popleft()
            for nxt in arcs[node]:
                if {node, nxt} == set(banned) or nxt in seen:
                    continue
                if nxt == goal:
                    return True
                seen.add(nxt)
                queue.append(nxt)
        return False

    found = []
    for i, j in suppressed:
        row, column = i, rows + j
        up = column in arcs[row] and path(column, row, (row, column))
        down = row in arcs[column] and path(row, column, (row, column))
        if not (up or down):
            found.append((i, j))
    return found


def primary_marks(
    counts: Sequence[Sequence[int]], layout: Layout
) -> tuple[list[list[int]], list[list[Mark]]]:
    """The extended grid's counts and the marks of primary suppression alone."""
    values = _extended(counts)
    rows, columns = len(values), len(values[0])

    def mark(i: int, j: int) -> Mark:
        last_row, last_column = i == rows - 1, j == columns - 1
        shown = (
            (not last_row and not last_column)
            or (last_row and last_column and layout.total)
            or (last_column and not last_row and layout.row_totals)
            or (last_row and not last_column and layout.column_totals)
        )
        if not shown:
            return Mark.NOT_SHOWN
        return Mark.FEWER_THAN_5 if 0 < values[i][j] < SMALL else Mark.SHOWN

    return values, [[mark(i, j) for j in range(columns)] for i in range(rows)]


def protect(
    counts: Sequence[Sequence[int]], layout: Layout = Layout(), *, withhold_totals: bool = False
) -> Published:
    """Suppress ``counts`` (rows of cells) for publication under ``layout``. Cells are
    withheld to protect others first; with ``withhold_totals``, row and column totals may be
    too (never the grand total), for tables whose totals are published nowhere else."""
    if not counts or not counts[0]:
        raise ValueError("a table needs at least one cell")
    values, marks = primary_marks(counts, layout)
    rows, columns = len(counts), len(counts[0])
    allowed = [
        (i, j)
        for i in range(rows + 1)
        for j in range(columns + 1)
        if (i < rows and j < columns) or (withhold_totals and (i < rows or j < columns))
    ]
    while weak := recoverable(values, marks):
        target = weak[0]
        candidates = sorted(
            (i == rows or j == columns, values[i][j], i != target[0] and j != target[1], i, j)
            for i, j in allowed
            if marks[i][j] is Mark.SHOWN and values[i][j] >= SMALL
        )
        if not candidates:
            return _withheld(rows, columns, layout)
        chosen = candidates[0]
        for candidate in candidates:
            i, j = candidate[-2:]
            marks[i][j] = Mark.WITHHELD
            fixed = target not in recoverable(values, marks)
            marks[i][j] = Mark.SHOWN
            if fixed:
                chosen = candidate
                break
        marks[chosen[-2]][chosen[-1]] = Mark.WITHHELD
    return _published(values, marks)


def primary_only(counts: Sequence[Sequence[int]], layout: Layout = Layout()) -> Published:
    """Primary suppression alone: NOT safe to publish (a weakened method, for tests that
    show the check catching what it lets through)."""
    return _published(*primary_marks(counts, layout))


def _cell(mark: Mark, count: int) -> Cell:
    return Cell(mark, count if mark is Mark.SHOWN else None)


def _published(values: list[list[int]], marks: list[list[Mark]]) -> Published:
    grid = [
        [_cell(m, v) for m, v in zip(mr, vr, strict=True)]
        for mr, vr in zip(marks, values, strict=True)
    ]
    return Published(
        cells=tuple(tuple(row[:-1]) for row in grid[:-1]),
        row_totals=tuple(row[-1] for row in grid[:-1]),
        column_totals=tuple(grid[-1][:-1]),
        total=grid[-1][-1],
    )


def _withheld(rows: int, columns: int, layout: Layout) -> Published:
    gone = Cell(Mark.WITHHELD)
    return Published(
        cells=tuple(tuple(gone for _ in range(columns)) for _ in range(rows)),
        row_totals=tuple(gone if layout.row_totals else Cell(Mark.NOT_SHOWN) for _ in range(rows)),
        column_totals=tuple(
            gone if layout.column_totals else Cell(Mark.NOT_SHOWN) for _ in range(columns)
        ),
        total=gone if layout.total else Cell(Mark.NOT_SHOWN),
        withheld=True,
    )
