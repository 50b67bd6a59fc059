"""A read-only table model over a short list of records (the people, consents, shares and notes
of one case; audit entries; users).

Lists that can grow without bound have lazy models: the case list its own in case_list.py,
the audit trail one built on this (audit_trail.py); the other lists are bounded by the service
that returns them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QApplication, QStyle

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

    def append_records(self, records: Sequence[R]) -> None:
        """Add rows at the end (the next page), keeping the selection on the rows held."""
        if not records:
            return
        first = len(self._records)
        self.beginInsertRows(QModelIndex(), first, first + len(records) - 1)
        self._records.extend(records)
        self.endInsertRows()

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


def select_record(
    table: QAbstractItemView,
    model: RecordTable[R],
    chosen: Callable[[R], bool],
    *,
    every: bool = False,
) -> bool:
    """Make the first record ``chosen`` picks the table's current row, and with ``every`` select
    each other record it picks too; False if there is none (a form kept at a lock opens again
    on the records it was about)."""
    rows = [row for row, record in enumerate(model.records) if chosen(record)]
    if not rows:
        return False
    flags = QItemSelectionModel.SelectionFlag
    selection = table.selectionModel()
    selection.setCurrentIndex(model.index(rows[0], 0), flags.ClearAndSelect | flags.Rows)
    for row in rows[1:] if every else []:
        selection.select(model.index(row, 0), flags.Select | flags.Rows)
    return True
