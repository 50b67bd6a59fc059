"""Rights decisions recorded against notes: a note the person disputes (the note stays as it
is, with what they dispute beside it), and a refused rectification or erasure request, kept as
a note so the person's view stays with the record."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from app.models.records import Note, NoteKind
from app.services import notes
from app.services.notes import REFUSED_REQUESTS
from app.services.session import Session
from app.ui import labels
from app.ui.forms import FieldInvalid, FormDialog, enum_combo, text_box
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls

Call = Callable[[Session], object]


class DisputeNoteDialog(FormDialog):
    """Mark a note as disputed by the person, saying what they dispute."""

    def __init__(
        self,
        calls: StoreCalls,
        note: Note,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("DisputeNoteDialog", "Mark a note as disputed"),
            parent,
            intro=translate(
                "DisputeNoteDialog",
                "The note stays as written; what the person disputes is kept beside it and "
                "shown with it, and goes into their subject access pack.",
            ),
            save_text=translate("DisputeNoteDialog", "&Mark as disputed"),
            lock_action=lock_action,
        )
        self.note_id = note.id
        self.current_view = text_box(translate("DisputeNoteDialog", "The note"), note.body)
        self.current_view.setReadOnly(True)
        self.add_field(translate("DisputeNoteDialog", "The &note"), self.current_view)
        self.reason_field = text_box(translate("DisputeNoteDialog", "What the person disputes"))
        self.add_field(translate("DisputeNoteDialog", "&What they dispute"), self.reason_field)
        self.reason_field.setFocus()

    def make_call(self) -> Call:
        reason = self.reason_field.toPlainText().strip()
        if not reason:
            raise FieldInvalid(
                self.reason_field, translate("DisputeNoteDialog", "Say what the person disputes.")
            )
        note_id = self.note_id
        return lambda s: notes.mark_disputed(s, note_id, reason)


class RefusedRequestDialog(FormDialog):
    """Record a refused rectification or erasure request as a note on the case."""

    def __init__(
        self,
        calls: StoreCalls,
        case_id: int,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("RefusedRequestDialog", "Record a refused request"),
            parent,
            intro=translate(
                "RefusedRequestDialog",
                "When a request to correct or delete information is refused, record what "
                "was asked, the reason for refusing and the person's view, as a note on the "
                "record.",
            ),
            lock_action=lock_action,
        )
        self.case_id = case_id
        self.kind_field = enum_combo(
            translate("RefusedRequestDialog", "Request refused"), REFUSED_REQUESTS, labels.note_kind
        )
        self.add_field(translate("RefusedRequestDialog", "&Request refused"), self.kind_field)
        self.body_field = text_box(
            translate("RefusedRequestDialog", "What was asked, why it was refused"), lines=6
        )
        self.add_field(
            translate("RefusedRequestDialog", "&What was asked, why it was refused"),
            self.body_field,
        )

    def make_call(self) -> Call:
        body = self.body_field.toPlainText().strip()
        if not body:
            raise FieldInvalid(
                self.body_field,
                translate("RefusedRequestDialog", "Say what was asked and why it was refused."),
            )
        kind: NoteKind = self.kind_field.value()
        case_id, when = self.case_id, self.calls.moment()
        return lambda s: notes.record_refused_request(s, case_id, kind, body, when)
