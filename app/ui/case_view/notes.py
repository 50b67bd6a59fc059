"""The Notes and contacts tab: the notes, the chosen note and its history, new notes and
corrections."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import (
    QPlainTextEdit,
)

from app.models.records import (
    Note,
    NoteRevision,
)
from app.services import notes
from app.ui import labels
from app.ui.case_dialogs import (
    CorrectNoteDialog,
    NoteDialog,
)
from app.ui.case_view.base import CasePageBase
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable
from app.ui.widgets import table_view


class NotesTab(CasePageBase):
    def _build_notes_tab(self) -> None:
        t = translate
        self.note_model: RecordTable[Note] = RecordTable(
            [
                Column(t("CasePage", "When"), lambda n: labels.moment(n.occurred_at)),
                Column(t("CasePage", "Kind"), lambda n: labels.note_kind(n.kind)),
                Column(t("CasePage", "By"), lambda n: labels.user(self.names, n.author_id)),
                Column(
                    t("CasePage", "Changed"),
                    lambda n: ", ".join(
                        x
                        for x in (
                            t("CasePage", "corrected") if n.corrected else "",
                            t("CasePage", "disputed") if n.disputed else "",
                        )
                        if x
                    ),
                ),
                Column(
                    t("CasePage", "Note"),
                    lambda n: n.body.splitlines()[0] if n.body else "",
                    tooltip=lambda n: n.body,
                ),
            ],
            self,
        )
        self.note_table = table_view(
            t("CasePage", "Notes and contacts, newest first"), self.note_model
        )
        self.note_text = QPlainTextEdit()
        self.note_text.setReadOnly(True)
        self.note_text.setAccessibleName(t("CasePage", "The chosen note and its history"))
        self.note_text.setTabChangesFocus(True)
        self.note_text.setMaximumHeight(self.note_text.fontMetrics().lineSpacing() * 10)
        self.note_history: list[NoteRevision] = []
        self.notes_tab = self._tab_page(
            self.note_table,
            self.note_text,
            buttons=(
                self.new_note_action,
                (self.correct_note_action, t("CasePage", "Correct the no&te…")),
            ),
        )
        self._add_tab(self.notes_tab, t("CasePage", "Notes and contacts"))
        self.note_table.selectionModel().currentRowChanged.connect(self._note_chosen)

    def new_note(self) -> None:
        if self.view is None or not self.new_note_action.isEnabled():
            return
        self.tabs.setCurrentWidget(self.notes_tab)
        self._open(
            NoteDialog(self.calls, self.view.case.id, self, lock_action=self.lock_action),
            kind="new_note",
        )

    def selected_note(self) -> Note | None:
        index = self.note_table.currentIndex()
        return self.note_model.record(index.row()) if index.isValid() else None

    def select_note(self, row: int) -> None:
        index = self.note_model.index(row, 0)
        self.note_table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )

    def correct_note(self) -> None:
        note = self.selected_note()
        if note is None or not self.writable:
            return
        self._open(
            CorrectNoteDialog(self.calls, note, self, lock_action=self.lock_action),
            kind="correct_note",
            target=note.id,
        )

    def _note_chosen(self, *_args: object) -> None:
        note = self.selected_note()
        self.correct_note_action.setEnabled(self.writable and note is not None)
        self._show_note(note)
        if note is None:
            return
        note_id = note.id
        self.calls.run(
            lambda s: notes.history(s, note_id),
            lambda revisions: self._history_of_note(note_id, revisions),
            receiver=self,
        )

    def _show_note(self, note: Note | None, revisions: list[NoteRevision] | None = None) -> None:
        if note is None:
            self.note_text.clear()
            self.note_history = []
            return
        lines = [
            translate("CasePage", "{kind}, {when}, by {who}").format(
                kind=labels.note_kind(note.kind),
                when=labels.moment(note.occurred_at),
                who=labels.user(self.names, note.author_id),
            ),
            "",
            note.body,
        ]
        if note.disputed and note.dispute_reason:
            lines += [
                "",
                translate("CasePage", "Disputed: {reason}").format(reason=note.dispute_reason),
            ]
        if revisions and len(revisions) > 1:
            lines += ["", translate("CasePage", "History")]
            for i, rev in enumerate(revisions):
                if i == 0:
                    lines.append(
                        translate("CasePage", "Original, {when}, by {who}:").format(
                            when=labels.moment(rev.changed_at),
                            who=labels.user(self.names, rev.changed_by),
                        )
                    )
                else:
                    lines.append(
                        translate("CasePage", "Corrected {when} by {who}. Reason: {reason}").format(
                            when=labels.moment(rev.changed_at),
                            who=labels.user(self.names, rev.changed_by),
                            reason=rev.reason,
                        )
                    )
                lines.append("    " + rev.body.replace("\n", "\n    "))
        self.note_text.setPlainText("\n".join(lines))

    def _history_of_note(self, note_id: int, revisions: list[NoteRevision]) -> None:
        note = self.selected_note()
        if note is None or note.id != note_id:
            return
        self.note_history = revisions
        self._show_note(note, revisions)
