"""Small building blocks shared by the windows, so every field and message looks and reads alike."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QEvent, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QFontMetrics, QHelpEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QToolTip,
    QWidget,
)

CELL_PADDING_EMS = 1.5  # a cell's margins and the room its text needs beside them
FIT_ROWS = 200  # columns fit the first rows of a list (a lazy list holds a page or two)


def line_edit(accessible_name: str, *, password: bool = False) -> QLineEdit:
    """A text field with an accessible name; a password field hides its text but allows paste."""
    field = QLineEdit()
    field.setAccessibleName(accessible_name)
    if password:
        field.setEchoMode(QLineEdit.EchoMode.Password)
        field.setInputMethodHints(
            Qt.InputMethodHint.ImhHiddenText
            | Qt.InputMethodHint.ImhNoPredictiveText
            | Qt.InputMethodHint.ImhSensitiveData
        )
    return field


def add_row(form: QFormLayout, label_text: str, field: QWidget) -> QLabel:
    """Add ``field`` to ``form`` under a label whose mnemonic (the & letter) focuses it."""
    label = QLabel(label_text)
    label.setBuddy(field)
    form.addRow(label, field)
    return label


def keep_left_to_right(label: QLabel) -> QLabel:
    """Keep ``label`` laid out left to right whatever it shows. Qt aligns a label's text to
    the side its first letter reads from, so a name in Arabic or Hebrew jumped to the right
    edge of the panel; now only the words themselves run right to left."""
    label.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    vertical = label.alignment() & Qt.AlignmentFlag.AlignVertical_Mask
    label.setAlignment(vertical | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignAbsolute)
    return label


def heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("heading")
    label.setAccessibleName(text)
    label.setWordWrap(True)
    return label


def paragraph(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return keep_left_to_right(label)


def message_label(accessible_name: str, object_name: str = "problem") -> QLabel:
    """An inline message (a problem or a status), hidden while it has nothing to say."""
    label = QLabel()
    label.setObjectName(object_name)
    label.setAccessibleName(accessible_name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setVisible(False)
    return keep_left_to_right(label)


def set_message(label: QLabel, text: str | None) -> None:
    label.setText(text or "")
    label.setAccessibleDescription(text or "")
    label.setVisible(bool(text))


def table_view(name: str, model: QAbstractItemModel) -> QTableView:
    """A read-only table of rows, one selected at a time; Tab leaves it."""
    view = QTableView()
    view.setAccessibleName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setTabKeyNavigation(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    show_cut_text(view)
    # Every list fits its columns to what it holds, each time it is filled.
    model.modelReset.connect(lambda: fit_columns(view))
    return view


class CutTextTips(QStyledItemDelegate):
    """Shows a cell's full text as its tooltip when the column is too narrow for it (the text
    is elided, "demo-cas…"), and no tooltip when it fits. A cell whose model gives a tooltip
    of its own (other than its text) always shows that."""

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        if event.type() == QEvent.Type.ToolTip and index.isValid():
            text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
            tip = index.data(Qt.ItemDataRole.ToolTipRole)
            if tip is None or str(tip) == text:
                if not text or text_fits(view, index, text):
                    QToolTip.hideText()
                    event.ignore()
                    return True
                QToolTip.showText(event.globalPos(), text, view.viewport(), view.visualRect(index))
                return True
        return super().helpEvent(event, view, option, index)


def text_fits(
    view: QAbstractItemView, index: QModelIndex | QPersistentModelIndex, text: str
) -> bool:
    """Whether ``text`` shows whole in its cell (not elided): a fitted column leaves the text
    a padding's room; the cell's own margins take about half of it."""
    needed = view.fontMetrics().horizontalAdvance(text) + padding(view) // 2
    return needed <= view.visualRect(index).width()


def padding(view: QAbstractItemView) -> int:
    return int(view.fontMetrics().horizontalAdvance("M") * CELL_PADDING_EMS)


def show_cut_text(view: QAbstractItemView) -> None:
    """Text too long for its column ends in "…", and pointing at it shows all of it."""
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setItemDelegate(CutTextTips(view))


def tab_widget(name: str) -> QTabWidget:
    """Tabs whose bar (which takes the keyboard focus) has a name for screen readers."""
    tabs = QTabWidget()
    tabs.setAccessibleName(name)
    tabs.tabBar().setAccessibleName(name)
    return tabs


def fit_columns(view: QTableView, most_ems: int = 24) -> None:
    """Size every column but the last (which stretches) to its heading and the text of its
    first rows, never wider than ``most_ems``; longer text is elided and shows in full as the
    cell's tooltip. Measured from the model, so a list filled before it is shown fits too."""
    model = view.model()
    if model is None:
        return
    metrics = view.fontMetrics()
    limit = metrics.horizontalAdvance("M") * most_ems
    header = view.horizontalHeader()
    rows = min(model.rowCount(), FIT_ROWS)
    icon = view.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize) + 4
    for column in range(model.columnCount() - 1):
        width = header.sectionSizeFromContents(column).width()
        for row in range(rows):
            index = model.index(row, column)
            text = index.data(Qt.ItemDataRole.DisplayRole)
            if not text:
                continue
            font = index.data(Qt.ItemDataRole.FontRole)  # a bold (overdue) row is wider
            # The cell's font is the view's with only what the model sets changed.
            cell = QFontMetrics(font.resolve(view.font())) if isinstance(font, QFont) else metrics
            needed = cell.horizontalAdvance(str(text)) + padding(view)
            if index.data(Qt.ItemDataRole.DecorationRole) is not None:
                needed += icon
            width = max(width, needed)
        view.setColumnWidth(column, min(width, limit))
