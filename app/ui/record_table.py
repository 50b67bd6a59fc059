"""A read-only table model over a short list of records (the people, consents, shares and notes
of one case; audit entries; users).

Lists that can grow without bound (the case list) have their own lazy model in case_list.py;
these lists are bounded by the service that returns them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QApplication, QStyle

from app.ui.i18n import translate

R = TypeVar("R")

RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
FLAGGED_ROLE = Qt.ItemDataRole.UserRole + 2  # True for a row the list marks as overdue
Index = QModelIndex | QPersistentModelIndex
OVERDUE_RED = "#b00020"  # the warning banner's red, readable on white and on the row colours


def overdue_text() -> str:
    return translate("RecordTable", "Overdue")


@dataclass(frozen=True)
class Column(Generic[R]):
    header: str
    text: Callable[[R], str]
    tooltip: Callable[[R], str] | None = None


class RecordTable(QAbstractTableModel, Generic[R]):
    """Rows are records; each column turns a record into text.

    ``flagged(record)`` marks a row as overdue: red bold text, a warning icon in its first
    cell, and "Overdue" read out first by screen readers (never colour alone).
    """

    def __init__(
        self,
        columns: Sequence[Column[R]],
        parent: QObject | None = None,
        *,
        flagged: Callable[[R], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self._columns = tuple(columns)
        self._records: list[R] = []
        self._flagged = flagged

    @property
    def records(self) -> list[R]:
        return list(self._records)

    def set_records(self, records: Sequence[R]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def clear(self) -> None:
        self.set_records([])

    def texts_changed(self) -> None:
        """Every cell's text may read differently (names arrived for the ids it shows)."""
        if self._records:
            last = self.index(len(self._records) - 1, len(self._columns) - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def record(self, row: int) -> R | None:
        return self._records[row] if 0 <= row < len(self._records) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.parent().isValid():
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < len(self._records) and 0 <= column < len(self._columns)):
            return None
        record = self._records[row]
        spec = self._columns[column]
        flagged = self._flagged is not None and self._flagged(record)
        if flagged and column == 0:
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return f"{overdue_text()}: {spec.text(record)}"
            if role == Qt.ItemDataRole.DecorationRole:
                return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        if flagged and role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor(OVERDUE_RED))
        if flagged and role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if role == FLAGGED_ROLE:
            return flagged
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return spec.text(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            # The full text, for a cell too narrow for it (the view shows it only then).
            return spec.tooltip(record) if spec.tooltip is not None else spec.text(record)
        if role == RECORD_ROLE:
            return record
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._columns):
            return self._columns[section].header
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._records):
            return str(section + 1)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
