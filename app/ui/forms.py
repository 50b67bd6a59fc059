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
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from PySide6.QtCore import QDate, QEvent, QObject, QPoint, QSize, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QCalendarWidget,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTimeEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import InvalidInput, SafecaseError
from app.models.records import CaseMember, CaseRole
from app.services import drafts
from app.services.drafts import NewDraft
from app.services.session import Session
from app.ui.errors import error_sentence, log_unexpected
from app.ui.i18n import translate
from app.ui.screen_fit import fit_to_screen, usable_area
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


class FieldInvalid(InvalidInput):
    """A sentence about one field: the form shows it next to that field."""

    def __init__(self, field: QWidget, message: str) -> None:
        super().__init__(message)
        self.field = field


def _ignore_wheel_unless_focused(widget: QWidget, event: QWheelEvent) -> bool:
    """A wheel turned over a field the user is not in scrolls the form instead (True)."""
    if widget.hasFocus():
        return False
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    if parent is None:
        event.ignore()  # nothing to scroll: the window may use it
    else:
        QApplication.sendEvent(parent.verticalScrollBar(), event)
        event.accept()
    return True


class ChoiceBox(QComboBox):
    """A drop-down whose items carry Python values.

    (Qt turns item data that is a ``str`` subclass, like our enums, into a plain string, so
    the values are kept here instead.) The wheel changes it only once it has the focus, and a
    stored value it does not list is shown as recorded and kept (see :meth:`set_value`).
    """

    def __init__(self, accessible_name: str = "") -> None:
        super().__init__()
        if accessible_name:
            self.setAccessibleName(accessible_name)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._values: list[Any] = []

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not _ignore_wheel_unless_focused(self, event):
            super().wheelEvent(event)

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

    def show_recorded(self, value: object) -> None:
        """Select a value read from the store; one the list lacks is added, marked as recorded,
        so saving keeps it until the user picks another."""
        if value is None or value == "" or self.set_value(value):
            return
        self.add_choice(translate("forms", "{value} (as recorded)").format(value=value), value)
        self.setCurrentIndex(self.count() - 1)

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


def client_first(members: Iterable[CaseMember]) -> list[CaseMember]:
    """Case members for a "whose" list: the client first (the default), then the others in
    their order; an alleged perpetrator is never first."""
    listed = list(members)
    rank = {CaseRole.CLIENT: 0, CaseRole.ALLEGED_PERPETRATOR: 2}
    return sorted(listed, key=lambda m: rank.get(m.role, 1))


class NumberBox(QSpinBox):
    """A whole number; the wheel changes it only once it has the focus."""

    def __init__(self) -> None:
        super().__init__()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not _ignore_wheel_unless_focused(self, event):
            super().wheelEvent(event)


class TimeBox(QTimeEdit):
    """A time of day (HH:mm); the wheel changes it only once it has the focus."""

    def __init__(self) -> None:
        super().__init__()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setDisplayFormat("HH:mm")

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not _ignore_wheel_unless_focused(self, event):
            super().wheelEvent(event)


# -- dates: typed the way people in the UK write them ---------------------------------------------

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "january february march april may june july august september october november december"
).split()
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})\s*[-/.\s]\s*(\d{1,2})\s*[-/.\s]\s*(\d{4}|\d{2})")
_NAMED = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[\s\-/.,]*([a-z]+)[\s\-/.,]*(\d{4}|\d{2})")
DATE_HINT = "Type the date as 15/03/2026, 15-3-26, 15 Mar 2026 or 2026-03-15."


def show_date(day: dt.date) -> str:
    """A date as every date field shows it: dd MMM yyyy (15 Mar 2026)."""
    return f"{day.day:02d} {MONTHS[day.month - 1]} {day.year}"


def _month_number(name: str) -> int | None:
    if len(name) >= 3:
        for number, full in enumerate(_MONTH_NAMES, 1):
            if full.startswith(name) or (name == "sept" and number == 9):
                return number
    return None


def _full_year(year: str, pivot_year: int) -> int:
    """A two-digit year is the one within 80 years before and 20 after ``pivot_year``."""
    if len(year) == 4:
        return int(year)
    value = pivot_year // 100 * 100 + int(year)
    if value > pivot_year + 20:
        value -= 100
    elif value <= pivot_year - 80:
        value += 100
    return value


def parse_date(text: str, pivot_year: int) -> dt.date | None:
    """The date in ``text`` (None when it is empty), read the UK way: day before month.

    Raises InvalidInput with the sentence to show for a date that cannot be read or does not
    exist (31/02/2026).
    """
    typed = " ".join(text.strip().lower().split())
    if not typed:
        return None
    if match := _ISO.fullmatch(typed):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    elif match := _NUMERIC.fullmatch(typed):
        day, month, year = int(match[1]), int(match[2]), _full_year(match[3], pivot_year)
    elif match := _NAMED.fullmatch(typed):
        number = _month_number(match[2])
        if number is None:
            raise InvalidInput(f"{match[2]} is not a month. {DATE_HINT}")
        day, month, year = int(match[1]), number, _full_year(match[3], pivot_year)
    else:
        raise InvalidInput(f"That is not a date Safecase can read. {DATE_HINT}")
    if not 1 <= month <= 12:
        raise InvalidInput(f"There is no month {month}. {DATE_HINT}")
    if not 1800 <= year <= 2999:
        raise InvalidInput(f"Check the year: {year} is not a year Safecase records.")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise InvalidInput(
            f"There is no day {day} in {_MONTH_NAMES[month - 1].title()} {year}: check the date."
        ) from None


class DateField(QWidget):
    """A date typed the UK way or picked from a calendar, shown as dd MMM yyyy.

    Qt's own date field edits a date in sections, which bends typed dates (15 Mar 1985 became
    1 Mar 1985, 31 then Feb became 31 Dec); this one reads the whole text when the user leaves
    the field, and says under it when the text is not a date that exists.
    """

    changed = Signal()  # the date in the field changed (typed and left, or picked)

    def __init__(self, accessible_name: str, day: dt.date | None, *, pivot: dt.date) -> None:
        """``pivot`` (the session's date) decides the century of a two-digit year."""
        super().__init__()
        self.setAccessibleName(accessible_name)
        self._pivot_year = pivot.year
        self._last: dt.date | None = day
        self.line = QLineEdit(show_date(day) if day else "")
        self.line.setAccessibleName(accessible_name)
        self.line.setAccessibleDescription(translate("forms", "Alt+Down opens a calendar."))
        self.line.setPlaceholderText(translate("forms", "dd/mm/yyyy"))
        # Wide enough for a whole date however narrow its form's column.
        widest = show_date(dt.date(2000, 12, 28)) + "MMMM"  # and room for the frame
        self.line.setMinimumWidth(self.line.fontMetrics().horizontalAdvance(widest))
        self.pick_button = QToolButton()
        self.pick_button.setObjectName("datePick")  # a narrow button (the style sheet)
        self.pick_button.setText("▾")
        self.pick_button.setAccessibleName(
            translate("forms", "{name}: pick from a calendar").format(name=accessible_name)
        )
        self.pick_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Alt+Down does it by keyboard
        self.pick_button.setMaximumHeight(self.line.sizeHint().height())
        self.message = message_label(
            translate("forms", "{name}: problem").format(name=accessible_name)
        )
        self.calendar: QCalendarWidget | None = None
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.line, 1)
        row.addWidget(self.pick_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(row)
        column.addWidget(self.message)
        self.setFocusProxy(self.line)
        self.line.textEdited.connect(lambda _t: set_message(self.message, None))
        self.line.editingFinished.connect(self._typed)
        self.pick_button.clicked.connect(self.open_calendar)
        self.line.installEventFilter(self)

    # -- reading and setting ----------------------------------------------------------------

    def date(self) -> dt.date | None:
        """The date typed, or None when the field is empty or not a date."""
        try:
            return parse_date(self.line.text(), self._pivot_year)
        except InvalidInput:
            return None

    def value(self) -> dt.date:
        """The date typed; raises FieldInvalid (shown under the field) when there is none."""
        try:
            day = parse_date(self.line.text(), self._pivot_year)
        except InvalidInput as exc:
            problem = FieldInvalid(self, str(exc))
        else:
            if day is not None:
                return day
            problem = FieldInvalid(self, translate("forms", "Give the date. ") + DATE_HINT)
        set_message(self.message, str(problem))  # under the field, wherever it is
        raise problem

    def set_date(self, day: dt.date) -> None:
        self.line.setText(show_date(day))
        set_message(self.message, None)
        self._note(day)

    def _note(self, day: dt.date | None) -> None:
        if day != self._last:
            self._last = day
            self.changed.emit()

    def _typed(self) -> None:
        try:
            day = parse_date(self.line.text(), self._pivot_year)
        except InvalidInput as exc:
            set_message(self.message, str(exc))
            self._note(None)
            return
        set_message(self.message, None)
        if day is not None:
            self.line.setText(show_date(day))
        self._note(day)

    # -- the calendar -----------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.line
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and (
                event.key() == Qt.Key.Key_F4
                or (
                    event.key() == Qt.Key.Key_Down
                    and event.modifiers() & Qt.KeyboardModifier.AltModifier
                )
            )
        ):
            self.open_calendar()
            return True
        return super().eventFilter(watched, event)

    def open_calendar(self) -> None:
        if not self.isEnabled():
            return
        if self.calendar is None:
            self.calendar = QCalendarWidget(self)
            self.calendar.setWindowFlags(Qt.WindowType.Popup)
            self.calendar.setAccessibleName(self.accessibleName())
            self.calendar.setGridVisible(True)
            self.calendar.setFirstDayOfWeek(Qt.DayOfWeek.Monday)
            self.calendar.clicked.connect(self._picked)
            self.calendar.activated.connect(self._picked)
        day = self.date() or self._last or dt.date(self._pivot_year, 1, 1)
        self.calendar.setSelectedDate(QDate(day.year, day.month, day.day))
        self.calendar.move(self.line.mapToGlobal(QPoint(0, self.line.height())))
        self.calendar.show()
        self.calendar.setFocus()

    def _picked(self, chosen: QDate) -> None:
        if self.calendar is not None:
            self.calendar.hide()
        self.set_date(dt.date(chosen.year(), chosen.month(), chosen.day()))
        self.line.setFocus()


def date_edit(accessible_name: str, day: dt.date) -> DateField:
    """A date field showing ``day`` (a form passes the session's date: ``calls.today()``)."""
    return DateField(accessible_name, day, pivot=day)


def date_of(edit: DateField) -> dt.date:
    """The date in the field; FieldInvalid (shown under it) when it is not a date that exists."""
    return edit.value()


class DateTimeField(QWidget):
    """A date typed the UK way and a time of day."""

    changed = Signal()

    def __init__(self, accessible_name: str, when: dt.datetime) -> None:
        super().__init__()
        self.setAccessibleName(accessible_name)
        self.date_field = DateField(accessible_name, when.date(), pivot=when.date())
        self.time_field = TimeBox()
        self.time_field.setAccessibleName(
            translate("forms", "{name}: time").format(name=accessible_name)
        )
        self.time_field.setTime(QTime(when.hour, when.minute))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.date_field, 1)
        layout.addWidget(self.time_field, 0, Qt.AlignmentFlag.AlignTop)
        self.setFocusProxy(self.date_field)
        self.date_field.changed.connect(self.changed)
        self.time_field.timeChanged.connect(lambda _t: self.changed.emit())


def datetime_edit(accessible_name: str, when: dt.datetime) -> DateTimeField:
    """A date and time field showing ``when`` (a form passes ``calls.moment()``)."""
    return DateTimeField(accessible_name, when)


def datetime_of(edit: DateTimeField) -> dt.datetime:
    """The local time in the field, as an aware datetime."""
    d, t = date_of(edit.date_field), edit.time_field.time()
    return dt.datetime(d.year, d.month, d.day, t.hour(), t.minute()).astimezone()


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


def spin_box(accessible_name: str, low: int, high: int, value: int) -> NumberBox:
    box = NumberBox()
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


class FormScroll(QScrollArea):
    """The body of a form, scrolling up and down as one when the screen is too small for it.

    It asks for the whole form's size (a plain scroll area asks for at most 24 lines, so a
    form opened needlessly small) and never scrolls sideways: it is always as wide as the
    form needs, with room for the scroll bar."""

    def __init__(self, body: QWidget, accessible_name: str) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setWidget(body)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no tab stop of its own: the fields are
        self.setAccessibleName(accessible_name)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # fields came or went: the form's size has changed
        return super().eventFilter(watched, event)

    def _around(self, size: QSize) -> QSize:
        edge = 2 * self.frameWidth()
        return QSize(
            size.width() + edge + self.verticalScrollBar().sizeHint().width(), size.height() + edge
        )

    def sizeHint(self) -> QSize:
        body = self.widget()
        return self._around(body.sizeHint()) if body is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        body = self.widget()
        if body is None:
            return super().minimumSizeHint()
        least = body.minimumSizeHint()
        lines = self.fontMetrics().lineSpacing() * 6
        return self._around(QSize(least.width(), min(least.height(), lines)))


class FormDialog(QDialog):
    """A form that saves through one service call.

    Subclasses add fields with :meth:`add_field`, and implement :meth:`make_call`, which checks
    the form and returns the call to run (or raises :class:`SafecaseError` with the sentence to
    show; :class:`FieldInvalid` puts it under the field concerned, scrolled into view, until
    that field changes). :meth:`live_problem` checks the form as it is filled in: while it
    names a problem, Save is off and the reason shows under its field. Enter never submits:
    in a one-line field it moves to the next field. The dialog grows to fit a message rather
    than squeezing its fields. ``saved`` carries what the service returned. The fields scroll
    up and down as one when the screen is too small for the form (``scroll`` False keeps them
    fixed).
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
        scroll: bool = True,
    ) -> None:
        super().__init__(parent)
        self.calls = calls
        self.lock_action = lock_action
        self._busy = False
        self._dirty = False
        self._confirm_text = ""
        self._confirm_yes = ""
        self._messages: dict[QWidget, QLabel] = {}
        self._live: FieldInvalid | None = None
        self.result_value: object = None
        self.discard_box: QMessageBox | None = None
        self.scroll_area: QScrollArea | None = None
        # Set by whoever opened the form when it can be opened again after a lock: what to keep
        # its unsaved values as (see :meth:`unsaved_draft`), and the draft it was reopened from.
        self.draft_kind = ""
        self.draft_case: int | None = None
        self.draft_target: int | None = None
        self.draft_id: int | None = None
        # More the opener needs to open it again, kept beside the values (the records chosen).
        self.draft_also: dict[str, Any] = {}
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
        self.save_button = button(save_text or translate("forms", "&Save"))
        self.save_button.setAccessibleName(
            (save_text or translate("forms", "Save")).replace("&", "")
        )
        self.cancel_button = button(translate("forms", "Cancel"))

        self.body = QVBoxLayout()
        self.body.addWidget(heading(title))
        if intro:
            self.body.addWidget(paragraph(intro))
        # Side by side when a long form starts a second column (:meth:`start_column`).
        self.columns = QHBoxLayout()
        self._add_column(self.form)
        self.body.addLayout(self.columns)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)

        outer = QVBoxLayout(self)
        outer.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        if scroll:
            inner = QWidget()
            inner.setLayout(self.body)
            area = FormScroll(inner, title)
            outer.addWidget(area, 1)
            self.scroll_area = area
        else:
            outer.addLayout(self.body, 1)
        outer.addWidget(self.problem_label)
        outer.addLayout(buttons)

        self.save_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        self.finished.connect(self._drop_draft)

    # -- building -----------------------------------------------------------------------------

    def add_field(self, label: str, field: QWidget) -> QLabel:
        """Add a labelled field, with a line under it for what is wrong with it; any change
        to it makes the form dirty and clears that line."""
        if not field.accessibleName():
            field.setAccessibleName(label.replace("&", ""))
        row = add_row(self.form, label, field)
        own = _own_message(field)
        if own is None:
            own = message_label(
                translate("forms", "{name}: problem").format(name=field.accessibleName())
            )
            self.form.addRow(own)
        self._messages[field] = own
        self.watch(field)
        return row

    def start_column(self) -> QFormLayout:
        """Put the fields added from now on in a new column beside the others, so a long form
        is wide rather than tall."""
        # Beside each other, labels stay left of their fields: wrapping some rows and not
        # others makes a ragged, taller form.
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.columns.addSpacing(self.fontMetrics().horizontalAdvance("M") * 2)
        self._add_column(self.form)
        return self.form

    def _add_column(self, form: QFormLayout) -> None:
        column = QVBoxLayout()
        column.addLayout(form)
        column.addStretch(1)  # rows stay together at the top of a column
        self.columns.addLayout(column, 1)

    def watch(self, field: QWidget) -> None:
        """Count a change to ``field`` as an unsaved change (and check the form again); keep
        its value in a draft at a lock."""
        self._fields.append(field)

        def changed(*_args: object) -> None:
            self._field_changed(field)

        if isinstance(field, QLineEdit):
            field.textEdited.connect(changed)
            field.textChanged.connect(lambda *_a: self.recheck())
        elif isinstance(field, QPlainTextEdit):
            field.textChanged.connect(changed)
        elif isinstance(field, QComboBox):
            field.activated.connect(changed)
            field.currentIndexChanged.connect(lambda *_a: self.recheck())
        elif isinstance(field, QAbstractButton):
            field.toggled.connect(changed)
        elif isinstance(field, QAbstractSpinBox):
            field.editingFinished.connect(changed)
        elif isinstance(field, QListWidget):
            field.itemChanged.connect(changed)
        elif isinstance(field, DateField | DateTimeField):
            field.changed.connect(changed)
        elif isinstance(field, OptionalDate):
            field.known.toggled.connect(changed)
            field.edit.changed.connect(changed)

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
        self._fit()

    def _field_changed(self, field: QWidget) -> None:
        self.mark_dirty()
        label = self._messages.get(field)
        if label is not None and label is not _own_message(field):
            set_message(label, None)
        self.show_problem(None)
        self.recheck()

    def message_for(self, field: QWidget) -> QLabel | None:
        """The line under ``field`` (or under the form field holding it)."""
        widget: QWidget | None = field
        while widget is not None and widget is not self:
            if widget in self._messages:
                return self._messages[widget]
            widget = widget.parentWidget()
        return None

    def show_field_problem(self, problem: FieldInvalid, *, focus: bool = True) -> None:
        """Show the sentence under its field and scroll both into view."""
        label = self.message_for(problem.field)
        if label is None:
            self.show_problem(str(problem))
            return
        set_message(label, str(problem))
        self._fit()
        if focus:
            problem.field.setFocus()
            self._scroll_to(label)

    def _scroll_to(self, widget: QWidget) -> None:
        area = self.scroll_area
        if area is None:
            return
        self.body.activate()
        inner = area.widget()
        if inner is not None:
            inner.resize(area.viewport().width(), max(inner.sizeHint().height(), inner.height()))
        area.ensureWidgetVisible(widget)
        QTimer.singleShot(0, self, lambda: area.ensureWidgetVisible(widget))

    def _fit(self) -> None:
        """Grow (never squeeze) so every field and message keeps its height."""
        layout = self.layout()
        if layout is None:
            return
        if self.scroll_area is not None:
            self.scroll_area.updateGeometry()  # the form inside it has grown
        layout.activate()
        # A scrolling form asks for its whole height: it grows to show it, up to the screen.
        need = max(layout.totalMinimumSize().height(), layout.totalSizeHint().height())
        if layout.hasHeightForWidth():
            need = max(need, layout.totalHeightForWidth(self.width()))
        need = min(need, usable_area(self).height())
        if self.height() < need:
            self.resize(self.width(), need)
            fit_to_screen(self)  # growing never pushes it off the screen

    # -- checking as the form is filled in --------------------------------------------------

    def live_problem(self) -> FieldInvalid | None:
        """What stops the form being saved as it stands (None: nothing). Cheap, no store."""
        return None

    def recheck(self) -> None:
        """Check the form again: Save is off while there is a problem, shown by its field."""
        problem = self.live_problem()
        old = self._live
        self._live = problem
        if old is not None and (problem is None or problem.field is not old.field):
            label = self.message_for(old.field)
            if label is not None and label.text() == str(old):
                set_message(label, None)
        if problem is not None:
            self.show_field_problem(problem, focus=False)
        self.save_button.setEnabled(not self._busy and problem is None)

    # -- keys ---------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter moves on from a one-line field and presses a focused button; it never
        submits the whole form."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            focused = QApplication.focusWidget()
            if isinstance(focused, QAbstractButton) and focused.isEnabled():
                focused.animateClick()
            elif isinstance(focused, QLineEdit | QAbstractSpinBox | QComboBox):
                self.focusNextChild()
            event.accept()
            return
        super().keyPressEvent(event)

    # -- saving -------------------------------------------------------------------------------

    def make_call(self) -> Callable[[Session], object]:
        raise NotImplementedError

    def submit(self) -> None:
        if self._busy:
            return
        try:
            call = self.live_problem_or_call()
        except FieldInvalid as exc:
            self.show_field_problem(exc)
            return
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

    def live_problem_or_call(self) -> Callable[[Session], object]:
        problem = self.live_problem()
        if problem is not None:
            raise problem
        return self.make_call()

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
        self.save_button.setEnabled(not busy and self._live is None)
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
        values = {**self.draft_also}
        values.update((str(i), field_value(field)) for i, field in enumerate(self._fields))
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
            let_draft_go(self.calls, draft_id)

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


def let_draft_go(calls: StoreCalls, draft_id: int) -> None:
    """Remove a draft whose work was saved or discarded (one already gone is no problem)."""

    def ignore(_value: object) -> None:
        pass

    calls.run(lambda s: drafts.discard(s, draft_id), ignore, ignore)


TIME_FORMAT = "HH:mm"


def field_value(field: QWidget) -> Any:
    """What a form field holds, as JSON-ready values (for a draft). A date is kept as typed,
    even half-typed, so it comes back as the user left it."""
    if isinstance(field, QLineEdit):
        # A password is never kept, not even encrypted: it is typed again.
        return field.text() if field.echoMode() == QLineEdit.EchoMode.Normal else None
    if isinstance(field, QPlainTextEdit):
        return field.toPlainText()
    if isinstance(field, QComboBox):
        return {"index": field.currentIndex(), "text": field.currentText()}
    if isinstance(field, QAbstractButton):
        return field.isChecked()
    if isinstance(field, QTimeEdit):
        return field.time().toString(TIME_FORMAT)
    if isinstance(field, QSpinBox):
        return field.value()
    if isinstance(field, QListWidget):
        return [field.item(i).checkState() == Qt.CheckState.Checked for i in range(field.count())]
    if isinstance(field, DateField):
        return field.line.text()
    if isinstance(field, DateTimeField):
        return {"date": field.date_field.line.text(), "time": field_value(field.time_field)}
    if isinstance(field, OptionalDate):
        return {"known": field.known.isChecked(), "date": field.edit.line.text()}
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
    elif isinstance(field, QTimeEdit) and isinstance(value, str):
        time = QTime.fromString(value, TIME_FORMAT)
        if time.isValid():
            field.setTime(time)
    elif isinstance(field, QSpinBox) and isinstance(value, int):
        field.setValue(value)
    elif isinstance(field, QListWidget) and isinstance(value, list):
        for i, checked in enumerate(value[: field.count()]):
            state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
            field.item(i).setCheckState(state)
    elif isinstance(field, DateField) and isinstance(value, str):
        field.line.setText(value)
    elif isinstance(field, DateTimeField) and isinstance(value, dict):
        set_field_value(field.date_field, value.get("date"))
        set_field_value(field.time_field, value.get("time"))
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
        self.edit = DateField(accessible_name, value or today, pivot=today)
        self.edit.setEnabled(value is not None)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.known, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.edit, 1)
        self.known.toggled.connect(self.edit.setEnabled)
        self.setFocusProxy(self.known)

    def value(self) -> dt.date | None:
        """The date when ticked; FieldInvalid (shown under it) when it is not a real date."""
        return date_of(self.edit) if self.known.isChecked() else None

    def set_value(self, value: dt.date | None) -> None:
        self.known.setChecked(value is not None)
        if value is not None:
            self.edit.set_date(value)


def _own_message(field: QWidget) -> QLabel | None:
    """A date field says what is wrong under itself; other fields get a line from the form."""
    if isinstance(field, DateField):
        return field.message
    if isinstance(field, DateTimeField):
        return field.date_field.message
    if isinstance(field, OptionalDate):
        return field.edit.message
    return None
