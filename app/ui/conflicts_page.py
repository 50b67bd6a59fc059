"""Conflicts: fields two laptops set differently without seeing each other's change.

The Conflicts page lists every open conflict on the cases the user may open (a caseworker their
own, a manager the team's), the longest waiting first, with each value and who set it when;
Enter opens the case. The resolve dialog (also opened from the bar on the case screen) shows
every value and lets the user choose the one to keep, after a confirmation; the choice travels
to the other laptops as an operation and is audited (``conflicts.resolve``).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import InvalidInput
from app.services import conflicts
from app.services.conflicts import Conflict
from app.services.session import Session
from app.ui import conflict_labels
from app.ui.errors import error_sentence
from app.ui.forms import FormDialog, button
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable
from app.ui.store_calls import StoreCalls
from app.ui.widgets import fit_columns, heading, message_label, paragraph, set_message, table_view

CODE_WORD = "safe_contacts.code_word"


class ResolveDialog(FormDialog):
    """Choose which of a conflict's values to keep."""

    def __init__(
        self,
        calls: StoreCalls,
        conflict: Conflict,
        parent: QWidget | None = None,
        *,
        reference: str = "",
        lock_action: QAction | None = None,
    ) -> None:
        field = conflict_labels.field_name(conflict.field)
        super().__init__(
            calls,
            translate("ResolveDialog", "Resolve a conflict"),
            parent,
            intro=translate(
                "ResolveDialog",
                "Two laptops recorded different values for {field} on case {reference}, neither "
                "seeing the other's change. Choose the value to keep; every laptop shows it once "
                "they sync, and the other values stay in the case's record of the conflict.",
            ).format(field=field, reference=reference or conflict.reference),
            save_text=translate("ResolveDialog", "&Keep the chosen value"),
            lock_action=lock_action,
        )
        self.conflict = conflict
        self.field = field
        self.choices = QButtonGroup(self)
        box = QWidget()
        box.setAccessibleName(translate("ResolveDialog", "Values recorded"))
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        self.radios: list[QRadioButton] = []
        for _candidate in conflict.candidates:
            radio = QRadioButton()
            radio.toggled.connect(self._chosen)
            self.choices.addButton(radio)
            column.addWidget(radio)
            self.radios.append(radio)
        self.show_code_words: QCheckBox | None = None
        if conflict.field == CODE_WORD:
            self.show_code_words = QCheckBox(translate("ResolveDialog", "Show code &words"))
            self.show_code_words.toggled.connect(self._label_values)
            column.addWidget(self.show_code_words)
        if self.radios:
            box.setFocusProxy(self.radios[0])
        self.add_field(translate("ResolveDialog", "&Value to keep"), box)
        self._label_values()
        self.recheck()
        box.setFocus()

    def _label_values(self, *_args: object) -> None:
        hide = self.show_code_words is not None and not self.show_code_words.isChecked()
        for radio, candidate in zip(self.radios, self.conflict.candidates, strict=True):
            text = conflict_labels.candidate_text(self.conflict.field, candidate, hide=hide)
            radio.setText(text.replace("&", "&&"))
            radio.setAccessibleName(text)

    def chosen(self) -> int | None:
        for index, radio in enumerate(self.radios):
            if radio.isChecked():
                return index
        return None

    def _chosen(self, *_args: object) -> None:
        self.mark_dirty()
        self.show_problem(None)
        index = self.chosen()
        if index is None:
            return
        candidate = self.conflict.candidates[index]
        hide = self.show_code_words is not None and not self.show_code_words.isChecked()
        self.confirm_before_saving(
            translate(
                "ResolveDialog", "Keep {value} as the {field}, set by {who}, on every laptop?"
            ).format(
                value=conflict_labels.value_text(self.conflict.field, candidate, hide=hide),
                field=self.field.lower(),
                who=candidate.username or translate("ResolveDialog", "someone on another laptop"),
            ),
            translate("ResolveDialog", "&Keep this value"),
        )

    def make_call(self) -> Callable[[Session], object]:
        index = self.chosen()
        if index is None:
            raise InvalidInput("Choose the value to keep.")
        conflict_id = self.conflict.id
        op_id = self.conflict.candidates[index].op_id
        return lambda s: conflicts.resolve(s, conflict_id, op_id)

    def busy_text(self) -> str:
        return translate("ResolveDialog", "Keeping the chosen value…")


class ConflictsPage(QWidget):
    case_chosen = Signal(int)
    resolved = Signal(int)  # a conflict on this case was resolved: counts and lists change

    def __init__(
        self,
        calls: StoreCalls,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(parent)
        self.calls = calls
        self.lock_action = lock_action
        self.dialog: ResolveDialog | None = None
        self.setAccessibleName(translate("ConflictsPage", "Conflicts"))
        self.model: RecordTable[Conflict] = RecordTable(
            [
                Column(translate("ConflictsPage", "Case"), lambda k: k.reference),
                Column(
                    translate("ConflictsPage", "Field"),
                    lambda k: conflict_labels.field_name(k.field),
                ),
                Column(
                    translate("ConflictsPage", "Values recorded"),
                    lambda k: conflict_labels.values_text(k, hide=True),
                ),
                Column(
                    translate("ConflictsPage", "Waiting since"),
                    lambda k: conflict_labels.when_text(k.candidates[0]) if k.candidates else "",
                ),
            ],
            self,
        )
        self.table = table_view(translate("ConflictsPage", "Open conflicts"), self.model)
        self.open_button = button(translate("ConflictsPage", "O&pen the case"))
        self.resolve_button = button(translate("ConflictsPage", "&Resolve…"))
        # The chosen conflict's values in full, one a line (a narrow screen cuts the table).
        self.values_label = QLabel()
        self.values_label.setObjectName("conflicts")
        self.values_label.setAccessibleName(translate("ConflictsPage", "Values of the conflict"))
        self.values_label.setTextFormat(Qt.TextFormat.PlainText)
        self.values_label.setWordWrap(True)
        self.status_label = message_label(translate("ConflictsPage", "Status"), "status")
        self.problem_label = message_label(translate("ConflictsPage", "Problem"))
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(self.resolve_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(translate("ConflictsPage", "Conflicts")))
        layout.addWidget(
            paragraph(
                translate(
                    "ConflictsPage",
                    "Fields two laptops changed differently, longest waiting first. Each case "
                    "shows the newest value meanwhile: choose the one to keep.",
                )
            )
        )
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.values_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problem_label)
        self.open_button.clicked.connect(self._open_case)
        self.resolve_button.clicked.connect(self.resolve)
        self.table.selectionModel().currentRowChanged.connect(self._selection_changed)
        self.table.activated.connect(self._open_case)
        self._selection_changed()

    def start(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.calls.run(conflicts.open_conflicts, self._arrived, self._failed, receiver=self)

    def _arrived(self, found: list[Conflict]) -> None:
        self.model.set_records(found)
        fit_columns(self.table, most_ems=60)
        set_message(self.problem_label, None)
        if found and not self.table.currentIndex().isValid():
            self.table.setCurrentIndex(self.model.index(0, 0))
        self._selection_changed()

    def _failed(self, error: BaseException) -> None:
        set_message(self.problem_label, error_sentence(error))

    def selected(self) -> Conflict | None:
        index = self.table.currentIndex()
        return self.model.record(index.row()) if index.isValid() else None

    def _selection_changed(self, *_args: object) -> None:
        conflict = self.selected()
        chosen = conflict is not None
        self.values_label.setText(
            translate("ConflictsPage", "{field} on {reference}:\n{values}").format(
                field=conflict_labels.field_name(conflict.field),
                reference=conflict.reference,
                values=conflict_labels.values_lines(conflict, hide=True),
            )
            if conflict is not None
            else ""
        )
        self.values_label.setVisible(chosen)
        self.open_button.setEnabled(chosen)
        self.resolve_button.setEnabled(chosen)

    def _open_case(self, *_args: object) -> None:
        conflict = self.selected()
        if conflict is not None:
            self.case_chosen.emit(conflict.case_id)

    def resolve(self) -> None:
        conflict = self.selected()
        if conflict is None:
            return
        dialog = ResolveDialog(self.calls, conflict, self, lock_action=self.lock_action)
        self.dialog = dialog

        def saved(_value: object) -> None:
            set_message(
                self.status_label,
                translate("ConflictsPage", "Conflict resolved: {field} on {reference}.").format(
                    field=conflict_labels.field_name(conflict.field), reference=conflict.reference
                ),
            )
            self.refresh()
            self.resolved.emit(conflict.case_id)

        dialog.saved.connect(saved)
        dialog.open()

    def clear(self) -> None:
        """Forget what was shown: nothing from the cases stays in a widget."""
        self.model.clear()
        self._selection_changed()
        set_message(self.status_label, None)
