"""Emitting from Python must not wear away ``True``.

PySide6 6.12.0 drops a reference to ``True`` on every ``emit()`` made from Python, and on
Python 3.11 the interpreter aborts a few hundred emits later; pyproject.toml keeps it out.
This test fails on any PySide6 with that fault.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class Source(QObject):
    happened = Signal(object)


def test_many_emits_leave_true_alone() -> None:
    source = Source()
    seen: list[object] = []
    source.happened.connect(seen.append)
    before = sys.getrefcount(True)
    for i in range(200):
        source.happened.emit(i)
    assert len(seen) == 200
    assert abs(sys.getrefcount(True) - before) < 20
