"""The dialog every record form is built on, the confirmation box, and form fields.

A :class:`FormDialog` checks what was typed, runs one service call through the window's
:class:`~app.ui.store_calls.StoreCalls` and closes when it is saved. A refusal is one sentence
under the form (the same sentence :func:`~app.ui.errors.show_error` would show). Cancelling a
form with changes asks first. Dialogs open with ``open()`` (window-modal), so Ctrl+L still
reaches the lock action, which each dialog carries.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.errors import SafecaseError
from app.services import drafts
from app.services.drafts import NewDraft
from app.services.session import Session
from app.ui.errors import error_sentence, log_unexpected
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls
from app.ui.widgets import add_row, heading, line_edit, message_label, paragraph, set_message

E = TypeVar("E", bound=enum.Enum)

CONFIRMATION = "confirmation"
CONFIRM_BUTTON = "confirmYes"


def confirm(
    parent: QWidget,
    title: str,
    text: str,
    yes_text: str,
    on_yes: Callable[[], None],
    *,
    lock_action: QAction | None = None,
    on_no: Callable[[], None] | None = None,
) -> QMessageBox:
    """Ask before something that cannot be undone; ``on_yes`` runs only if the user agrees.

    The box opens window-modal and returns at once; the answer arrives through the callbacks.
    """
    box = QMessageBox(parent)
    box.setObjectName(CONFIRMATION)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    box.setAccessibleName(title)
    box.setAccessibleDescription(text)
    yes = box.addButton(yes_text, QMessageBox.ButtonRole.AcceptRole)
    yes.setObjectName(CONFIRM_BUTTON)
    yes.setAccessibleName(yes_text.replace("&", ""))
    no = box.addButton(QMessageBox.StandardButton.Cancel)
    no.setAccessibleName(translate("forms", "Cancel"))
    box.setDefaultButton(no)  # the safe answer is the one Enter gives
    box.setEscapeButton(no)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if lock_action is not None:
        box.addAction(lock_action)

    def answered(_result: int) -> None:
        if box.clickedButton() is yes:
            on_yes()
        elif on_no is not None:
            on_no()

    box.finished.connect(answered)
    box.open()
    return box


# -- fields ------------------------------------------------------------------------------------


class ChoiceBox(QComboBox):
    """A drop-down whose items carry Python values.

    (Qt turns item data that is a ``str`` subclass, like our enums, into a plain string, so
    the values are kept here instead.)
    """

    def __init__(self, accessible_name: str = "") -> None:
        super().__init__()
        if accessible_name:
            self.setAccessibleName(accessible_name)
        self._values: list[Any] = []

    def add_choice(self, text: str, value: object) -> None:
        self._values.append(value)
        self.addItem(text)

    def clear_choices(self) -> None:
        self._values.clear()
        self.clear()

    def value(self) -> Any:
        index = self.currentIndex()
        return self._values[index] if 0 <= index < len(self._values) else None

    def values(self) -> list[Any]:
        return list(self._values)

    def index_of(self, value: object) -> int:
        for i, candidate in enumerate(self._values):
            if candidate == value:
                return i
        return -1

    def set_value(self, value: object) -> bool:
        """Select the item carrying ``value``; False if there is none."""
        index = self.index_of(value)
        if index >= 0:
            self.setCurrentIndex(index)
        return index >= 0

    def text_of(self, value: object) -> str:
        index = self.index_of(value)
        return self.itemText(index) if index >= 0 else ""


def enum_combo(
    accessible_name: str,
    values: Iterable[E],
    label: Callable[[E], str],
    *,
    none_text: str | None = None,
) -> ChoiceBox:
    """A drop-down of enum values; ``none_text`` adds an empty choice (the value None)."""
    combo = ChoiceBox(accessible_name)
    if none_text is not None:
        combo.add_choice(none_text, None)
    for value in values:
        combo.add_choice(label(value), value)
    return combo


def choose(combo: ChoiceBox, value: object) -> None:
    """Select the item whose value is ``value``."""
    combo.set_value(value)


def date_edit(accessible_name: str, day: dt.date) -> QDateEdit:
    """A date field showing ``day`` (a form passes the session's date: ``calls.today()``)."""
    edit = QDateEdit()
    edit.setAccessibleName(accessible_name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("d MMM yyyy")
    edit.setDate(QDate(day.year, day.month, day.day))
    return edit


def date_of(edit: QDateEdit) -> dt.date:
    d = edit.date()
    return dt.date(d.year(), d.month(), d.day())


def datetime_edit(accessible_name: str, when: dt.datetime) -> QDateTimeEdit:
    """A date and time field showing ``when`` (a form passes ``calls.moment()``)."""
    edit = QDateTimeEdit()
    edit.setAccessibleName(accessible_name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("d MMM yyyy HH:mm")
    edit.setDateTime(
        QDateTime(QDate(when.year, when.month, when.day), QTime(when.hour, when.minute))
    )
    return edit


def datetime_of(edit: QDateTimeEdit) -> dt.datetime:
    """The local time in the field, as an aware datetime."""
    value = edit.dateTime()
    d, t = value.date(), value.time()
    return dt.datetime(d.year(), d.month(), d.day(), t.hour(), t.minute()).astimezone()


def text_box(accessible_name: str, text: str = "", *, lines: int = 4) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setAccessibleName(accessible_name)
    box.setPlainText(text)
    box.setTabChangesFocus(True)  # Tab moves on, as in every other field
    spacing = box.fontMetrics().lineSpacing()
    box.setMinimumHeight(spacing * lines + 12)
    box.setMaximumHeight(spacing * lines * 2 + 12)
    return box


def check_box(text: str, checked: bool = False) -> QCheckBox:
    box = QCheckBox(text)
    box.setAccessibleName(text.replace("&", ""))
    box.setChecked(checked)
    return box


def spin_box(accessible_name: str, low: int, high: int, value: int) -> QSpinBox:
    box = QSpinBox()
    box.setAccessibleName(accessible_name)
    box.setRange(low, high)
    box.setValue(value)
    return box


def check_list(accessible_name: str) -> QListWidget:
    """A list of tick boxes (people on a share, categories of data)."""
    widget = QListWidget()
    widget.setAccessibleName(accessible_name)
    spacing = widget.fontMetrics().lineSpacing()
    widget.setMinimumHeight(spacing * 5)
    widget.setMaximumHeight(spacing * 9)
    return widget


def add_check_item(widget: QListWidget, text: str, data: object, checked: bool = False) -> None:
    item = QListWidgetItem(text)
    item.setData(Qt.ItemDataRole.UserRole, data)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
    item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
    widget.addItem(item)


def checked_data(widget: QListWidget) -> list[Any]:
    return [
        widget.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(widget.count())
        if widget.item(i).checkState() == Qt.CheckState.Checked
    ]


def set_checked(widget: QListWidget, data: object, checked: bool = True) -> None:
    for i in range(widget.count()):
        item = widget.item(i)
        if item.data(Qt.ItemDataRole.UserRole) == data:
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)


def button(text: str, accessible_name: str | None = None) -> QPushButton:
    widget = QPushButton(text)
    widget.setAccessibleName(accessible_name or text.replace("&", "").rstrip("…"))
    widget.setAutoDefault(False)
    return widget


# -- the dialog ----------------------------------------------------------------------------------


class FormDialog(QDialog):
    """A form that saves through one service call.

    Subclasses add fields with :meth:`add_field`, and implement :meth:`make_call`, which checks
    the form and returns the call to run (or raises :class:`SafecaseError` with the sentence to
    show). ``saved`` carries what the service returned.
    """

    saved = Signal(object)

    def __init__(
        self,
        calls: StoreCalls,
        title: str,
        parent: QWidget | None = None,
        *,
        intro: str = "",
        save_text: str = "",
        lock_action: QAction | None = None,
        scroll: bool = False,
    ) -> None:
        super().__init__(parent)
        self.calls = calls
        self.lock_action = lock_action
        self._busy = False
        self._dirty = False
        self._confirm_text = ""
        self._confirm_yes = ""
        self.result_value: object = None
        self.discard_box: QMessageBox | None = None
        # Set by whoever opened the form when it can be opened again after a lock: what to keep
        # its unsaved values as (see :meth:`unsaved_draft`), and the draft it was reopened from.
        self.draft_kind = ""
        self.draft_case: int | None = None
        self.draft_target: int | None = None
        self.draft_id: int | None = None
        self._fields: list[QWidget] = []
        self.setWindowTitle(translate("forms", "Safecase"))
        self.setAccessibleName(title)
        self.setModal(True)
        if lock_action is not None:
            self.addAction(lock_action)

        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.problem_label = message_label(translate("forms", "Problem"))
        self.status_label = message_label(translate("forms", "Status"), "status")
        self.save_button = QPushButton(save_text or translate("forms", "&Save"))
        self.save_button.setAccessibleName(
            (save_text or translate("forms", "Save")).replace("&", "")
        )
        self.save_button.setDefault(True)
        self.cancel_button = button(translate("forms", "Cancel"))

        self.body = QVBoxLayout()
        self.body.addWidget(heading(title))
        if intro:
            self.body.addWidget(paragraph(intro))
        self.body.addLayout(self.form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)

        outer = QVBoxLayout(self)
        if scroll:
            inner = QWidget()
            inner.setLayout(self.body)
            area = QScrollArea()
            area.setWidgetResizable(True)
            area.setWidget(inner)
            area.setFrameShape(QScrollArea.Shape.NoFrame)
            area.setAccessibleName(title)
            outer.addWidget(area, 1)
        else:
            outer.addLayout(self.body, 1)
        outer.addWidget(self.problem_label)
        outer.addLayout(buttons)

        self.save_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        self.finished.connect(self._drop_draft)

    # -- building -----------------------------------------------------------------------------

    def add_field(self, label: str, field: QWidget) -> QLabel:
        """Add a labelled field; any change to it makes the form dirty."""
        if not field.accessibleName():
            field.setAccessibleName(label.replace("&", ""))
        self.watch(field)
        return add_row(self.form, label, field)

    def watch(self, field: QWidget) -> None:
        """Count a change to ``field`` as an unsaved change (and keep it in a draft at a lock)."""
        self._fields.append(field)
        if isinstance(field, QLineEdit):
            field.textEdited.connect(self.mark_dirty)
        elif isinstance(field, QPlainTextEdit):
            field.textChanged.connect(self.mark_dirty)
        elif isinstance(field, QComboBox):
            field.activated.connect(self.mark_dirty)
        elif isinstance(field, QAbstractButton):
            field.toggled.connect(self.mark_dirty)
        elif isinstance(field, QDateTimeEdit | QSpinBox):
            field.editingFinished.connect(self.mark_dirty)
        elif isinstance(field, QListWidget):
            field.itemChanged.connect(self.mark_dirty)
        elif isinstance(field, OptionalDate):
            field.known.toggled.connect(self.mark_dirty)
            field.edit.editingFinished.connect(self.mark_dirty)

    def line(self, label: str, text: str = "") -> QLineEdit:
        field = line_edit(label.replace("&", ""))
        field.setText(text)
        self.add_field(label, field)
        return field

    def confirm_before_saving(self, text: str, yes_text: str) -> None:
        """Ask this question before the call runs (for what cannot be undone)."""
        self._confirm_text = text
        self._confirm_yes = yes_text

    # -- state --------------------------------------------------------------------------------

    def mark_dirty(self, *_args: object) -> None:
        self._dirty = True

    @property
    def dirty(self) -> bool:
        return self._dirty

    @property
    def busy(self) -> bool:
        return self._busy

    def show_problem(self, text: str | None) -> None:
        set_message(self.problem_label, text)

    # -- saving -------------------------------------------------------------------------------

    def make_call(self) -> Callable[[Session], object]:
        raise NotImplementedError

    def submit(self) -> None:
        if self._busy:
            return
        try:
            call = self.make_call()
        except SafecaseError as exc:
            self.show_problem(error_sentence(exc))
            return
        self.show_problem(None)
        if self._confirm_text:
            confirm(
                self,
                self.accessibleName(),
                self._confirm_text,
                self._confirm_yes,
                lambda: self._run(call),
                lock_action=self.lock_action,
            )
            return
        self._run(call)

    def _run(self, call: Callable[[Session], object]) -> None:
        if self._busy:
            return
        if not self.calls.run(
            call, self._succeeded, self._failed, receiver=self, label=self.busy_text()
        ):
            self.show_problem(translate("forms", "The store is locked. Sign in again to go on."))
            return
        self._set_busy(True)

    def busy_text(self) -> str:
        return translate("forms", "Saving…")

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.save_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)
        set_message(self.status_label, self.busy_text() if busy else None)

    def _succeeded(self, value: object) -> None:
        self._set_busy(False)
        self.result_value = value
        self._dirty = False
        self.saved.emit(value)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._set_busy(False)
        if not isinstance(error, SafecaseError):
            log_unexpected(error)
        self.show_problem(error_sentence(error))

    # -- drafts -------------------------------------------------------------------------------

    def unsaved_draft(self) -> NewDraft | None:
        """What was typed and not saved, to keep while the store is locked; None when there is
        nothing to keep or the form cannot be opened again."""
        if not self._dirty or self._busy or not self.draft_kind:
            return None
        values = {str(i): field_value(field) for i, field in enumerate(self._fields)}
        return NewDraft(self.draft_kind, values, self.draft_case, self.draft_target)

    def restore_draft(self, draft_id: int, values: dict[str, Any]) -> None:
        """Put a draft's values back; the draft goes once the form is saved or discarded."""
        for i, field in enumerate(self._fields):
            if str(i) in values:
                set_field_value(field, values[str(i)])
        self.draft_id = draft_id
        self._dirty = True

    def _drop_draft(self, _result: int) -> None:
        draft_id, self.draft_id = self.draft_id, None
        if draft_id is not None:
            self.calls.run(lambda s: drafts.discard(s, draft_id), _ignore, _ignore)

    # -- leaving ------------------------------------------------------------------------------

    def reject(self) -> None:
        if self._busy:
            return
        if self._dirty:
            self.discard_box = confirm(
                self,
                translate("forms", "Unsaved changes"),
                translate("forms", "Discard what you typed in this form?"),
                translate("forms", "&Discard"),
                self.discard,
                lock_action=self.lock_action,
            )
            return
        super().reject()

    def discard(self) -> None:
        self._dirty = False
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._busy or self._dirty:
            event.ignore()
            self.reject()
            return
        super().closeEvent(event)


def _ignore(_value: object) -> None:
    """A draft already gone is no problem."""


def _iso(edit: QDateTimeEdit) -> str:
    return edit.dateTime().toString(Qt.DateFormat.ISODate)


def field_value(field: QWidget) -> Any:
    """What a form field holds, as JSON-ready values (for a draft)."""
    if isinstance(field, QLineEdit):
        return field.text()
    if isinstance(field, QPlainTextEdit):
        return field.toPlainText()
    if isinstance(field, QComboBox):
        return {"index": field.currentIndex(), "text": field.currentText()}
    if isinstance(field, QAbstractButton):
        return field.isChecked()
    if isinstance(field, QDateTimeEdit):
        return _iso(field)
    if isinstance(field, QSpinBox):
        return field.value()
    if isinstance(field, QListWidget):
        return [field.item(i).checkState() == Qt.CheckState.Checked for i in range(field.count())]
    if isinstance(field, OptionalDate):
        return {"known": field.known.isChecked(), "date": _iso(field.edit)}
    return None


def set_field_value(field: QWidget, value: Any) -> None:
    """Put back what :func:`field_value` read; a value that no longer fits is left out."""
    if isinstance(field, QLineEdit) and isinstance(value, str):
        field.setText(value)
    elif isinstance(field, QPlainTextEdit) and isinstance(value, str):
        field.setPlainText(value)
    elif isinstance(field, QComboBox) and isinstance(value, dict):
        index = field.findText(str(value.get("text", "")))
        index = index if index >= 0 else int(value.get("index", -1))
        if 0 <= index < field.count():
            field.setCurrentIndex(index)
    elif isinstance(field, QAbstractButton) and isinstance(value, bool):
        field.setChecked(value)
    elif isinstance(field, QDateTimeEdit) and isinstance(value, str):
        moment = QDateTime.fromString(value, Qt.DateFormat.ISODate)
        if moment.isValid():
            field.setDateTime(moment)
    elif isinstance(field, QSpinBox) and isinstance(value, int):
        field.setValue(value)
    elif isinstance(field, QListWidget) and isinstance(value, list):
        for i, checked in enumerate(value[: field.count()]):
            state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
            field.item(i).setCheckState(state)
    elif isinstance(field, OptionalDate) and isinstance(value, dict):
        field.known.setChecked(bool(value.get("known")))
        set_field_value(field.edit, value.get("date"))


class OptionalDate(QWidget):
    """A date that may be left out: a tick box, and the date field it enables."""

    def __init__(
        self, accessible_name: str, check_text: str, value: dt.date | None, today: dt.date
    ) -> None:
        """``today`` is the date the field offers once ticked (the session's date)."""
        super().__init__()
        self.setAccessibleName(accessible_name)
        self.known = check_box(check_text, value is not None)
        self.known.setAccessibleName(check_text.replace("&", ""))
        self.edit = date_edit(accessible_name, value or today)
        self.edit.setEnabled(value is not None)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.known)
        layout.addWidget(self.edit, 1)
        self.known.toggled.connect(self.edit.setEnabled)
        self.setFocusProxy(self.known)

    def value(self) -> dt.date | None:
        return date_of(self.edit) if self.known.isChecked() else None

    def set_value(self, value: dt.date | None) -> None:
        self.known.setChecked(value is not None)
        if value is not None:
            self.edit.setDate(QDate(value.year, value.month, value.day))
