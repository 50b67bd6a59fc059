"""Small building blocks shared by the windows, so every field and message looks and reads alike."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QTabWidget,
    QWidget,
)


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
    return view


def tab_widget(name: str) -> QTabWidget:
    """Tabs whose bar (which takes the keyboard focus) has a name for screen readers."""
    tabs = QTabWidget()
    tabs.setAccessibleName(name)
    tabs.tabBar().setAccessibleName(name)
    return tabs


def fit_columns(view: QTableView, most_ems: int = 24) -> None:
    """Size every column but the last (which stretches) to the rows in view, within reason."""
    model = view.model()
    if model is None:
        return
    limit = view.fontMetrics().horizontalAdvance("M") * most_ems
    for column in range(model.columnCount() - 1):
        view.resizeColumnToContents(column)
        if view.columnWidth(column) > limit:
            view.setColumnWidth(column, limit)
