"""Small building blocks shared by the windows, so every field and message looks and reads alike."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWidget


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
    return label


def message_label(accessible_name: str, object_name: str = "problem") -> QLabel:
    """An inline message (a problem or a status), hidden while it has nothing to say."""
    label = QLabel()
    label.setObjectName(object_name)
    label.setAccessibleName(accessible_name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setVisible(False)
    return label


def set_message(label: QLabel, text: str | None) -> None:
    label.setText(text or "")
    label.setAccessibleDescription(text or "")
    label.setVisible(bool(text))
