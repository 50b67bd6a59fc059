"""The Notes and contacts tab: the notes, the chosen note and its history, new notes and
corrections."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QWidget

from app.models.records import (
    Note,
    NoteRevision,
)
from app.services import notes
from app.services.session import Session
from app.ui import labels
from app.ui.case_dialogs import (
    CorrectNoteDialog,
    NoteDialog,
)
from app.ui.case_view.base import CasePageBase
from app.ui.errors import error_sentence
from app.ui.forms import button
from app.ui.i18n import translate
from app.ui.note_rights import DisputeNoteDialog, RefusedRequestDialog
from app.ui.record_table import Column, RecordTable
from app.ui.widgets import table_view

NOTE_PAGE = 100  # notes read at a time: the case opens with the newest, then older on request


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
        self.notes_shown_label = QLabel()
        self.notes_shown_label.setAccessibleName(t("CasePage", "How many notes are shown"))
        self.older_notes_button = button(t("CasePage", "Show &older notes"))
        self.older_notes_button.setToolTip(
            t("CasePage", "The next {n} notes back in time").format(n=NOTE_PAGE)
        )
        self.older_notes_button.clicked.connect(self.load_older_notes)
        self._fetching_notes = False
        self._note_total = 0  # every note on the case, of which the table holds the newest
        paging = QWidget()
        paging_row = QHBoxLayout(paging)
        paging_row.setContentsMargins(0, 0, 0, 0)
        paging_row.addWidget(self.notes_shown_label, 1)
        paging_row.addWidget(self.older_notes_button)
        self.notes_tab = self._tab_page(
            self.note_table,
            paging,
            self.note_text,
            buttons=(
                self.new_note_action,
                (self.correct_note_action, t("CasePage", "Correct the no&te…")),
                (self.dispute_note_action, t("CasePage", "Mark dis&puted…")),
            ),
        )
        self._add_tab(self.notes_tab, t("CasePage", "Notes and contacts"))
        self.note_table.selectionModel().currentRowChanged.connect(self._note_chosen)
        self.note_table.verticalScrollBar().valueChanged.connect(self._notes_scrolled)

    # -- paging back through the notes ----------------------------------------------------------

    def show_notes(self, shown: Sequence[Note], total: int) -> None:
        """The newest notes of the case just read, and how many there are in all."""
        self._fetching_notes = False
        self._note_total = total
        self.note_model.set_records(shown)
        self._update_note_count()

    def _update_note_count(self) -> None:
        shown, total = self.note_model.rowCount(), self._note_total
        if self.view is None:
            text = ""
        elif total == 0:
            text = translate("CasePage", "No notes yet.")
        elif shown >= total:
            text = translate("CasePage", "All {total} notes shown.").format(total=f"{total:,}")
            if total == 1:
                text = translate("CasePage", "The one note shown.")
        else:
            text = translate("CasePage", "Showing {shown} of {total} notes, newest first.").format(
                shown=f"{shown:,}", total=f"{total:,}"
            )
        self.notes_shown_label.setText(text)
        self.notes_shown_label.setAccessibleDescription(text)
        self.older_notes_button.setVisible(self.view is not None and shown < total)
        self.older_notes_button.setEnabled(not self._fetching_notes)

    @property
    def more_notes(self) -> bool:
        return self.view is not None and self.note_model.rowCount() < self._note_total

    def _notes_scrolled(self, value: int) -> None:
        bar = self.note_table.verticalScrollBar()
        if value > 0 and value == bar.maximum():
            self.load_older_notes()

    def load_older_notes(self) -> None:
        """Ask for the next page of older notes (once at a time)."""
        held = self.note_model.records
        if self._fetching_notes or not self.more_notes or not held or self.view is None:
            return
        case_id, oldest = self.view.case.id, held[-1]
        self._fetching_notes = True
        self._update_note_count()

        def older(session: Session) -> list[Note]:
            return notes.timeline(session, case_id, NOTE_PAGE, before=oldest)

        def failed(error: BaseException) -> None:
            self._fetching_notes = False
            self._update_note_count()
            self.say(error_sentence(error))

        self.calls.run(
            older,
            lambda page: self._older_notes_arrived(case_id, page),
            failed,
            receiver=self,
            label=translate("CasePage", "Reading older notes…"),
        )

    def _older_notes_arrived(self, case_id: int, page: list[Note]) -> None:
        self._fetching_notes = False
        if self.view is None or self.view.case.id != case_id:
            return
        held = self.note_model.records
        if held and page and page[0].id in {n.id for n in held}:
            return  # the case was read again meanwhile; its first page is already shown
        self.note_model.append_records(page)
        if not page:  # notes were destroyed meanwhile: what is held is all there is
            self._note_total = self.note_model.rowCount()
        self._update_note_count()

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

    def dispute_note(self) -> None:
        note = self.selected_note()
        if note is None or not self.writable:
            return
        self._open(DisputeNoteDialog(self.calls, note, self, lock_action=self.lock_action))

    def record_refused_request(self) -> None:
        if self.view is None or not self.writable:
            return
        self._open(
            RefusedRequestDialog(self.calls, self.view.case.id, self, lock_action=self.lock_action)
        )

    def _note_chosen(self, *_args: object) -> None:
        note = self.selected_note()
        self.correct_note_action.setEnabled(self.writable and note is not None)
        self.dispute_note_action.setEnabled(self.writable and note is not None)
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
