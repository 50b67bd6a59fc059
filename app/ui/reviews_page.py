"""Shares to review (managers): disclosures made without consent and without a manager, which a
manager must review within 48 hours. The share stays in the log either way; the review is added
beside it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from app.errors import InvalidInput
from app.models.drafts import Draft
from app.models.records import Share, ShareToReview
from app.services import sharing
from app.services.session import Session
from app.ui import labels
from app.ui.errors import error_sentence
from app.ui.forms import FormDialog, button, text_box
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable, select_record
from app.ui.store_calls import StoreCalls
from app.ui.widgets import fit_columns, heading, message_label, paragraph, set_message, table_view


class ReviewDialog(FormDialog):
    """Approve a share, or record that it is not approved and what happens now."""

    def __init__(
        self,
        calls: StoreCalls,
        share: Share,
        approve: bool,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("ReviewDialog", "Approve the share")
            if approve
            else translate("ReviewDialog", "Do not approve the share"),
            parent,
            intro=translate(
                "ReviewDialog",
                "Shared with {organisation} ({recipient}) on the basis of {basis}. Reason given: "
                "{reason}",
            ).format(
                organisation=share.record.organisation,
                recipient=labels.recipient(share.record.recipient_category),
                basis=labels.lawful_basis(share.record.lawful_basis).lower(),
                reason=share.record.reason,
            ),
            save_text=translate("ReviewDialog", "&Approve")
            if approve
            else translate("ReviewDialog", "&Record: not approved"),
            lock_action=lock_action,
        )
        self.share = share
        self.approve = approve
        self.note_field = text_box(translate("ReviewDialog", "Review note"), lines=3)
        self.add_field(
            translate("ReviewDialog", "&Note")
            if approve
            else translate("ReviewDialog", "&What happens now"),
            self.note_field,
        )
        self.note_field.setFocus()

    def make_call(self) -> Callable[[Session], object]:
        note = self.note_field.toPlainText().strip()
        if not self.approve and not note:
            raise InvalidInput("Say what should happen now the share is not approved.")
        share_id, approve = self.share.id, self.approve
        return lambda s: sharing.review_share(s, share_id, approve, note)


REVIEW_DRAFTS = {True: "review:approve", False: "review:refuse"}  # kept at a lock, by decision


class ReviewsPage(QWidget):
    case_chosen = Signal(int)
    reviewed = Signal()  # a review was recorded: the overdue count may change
    records_loaded = Signal()  # the shares arrived (a form kept at a lock can open again)

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
        self.dialog: ReviewDialog | None = None
        self.setAccessibleName(translate("ReviewsPage", "Shares to review"))
        self.model: RecordTable[ShareToReview] = RecordTable(
            [
                Column(
                    translate("ReviewsPage", "Review by"),
                    lambda s: labels.moment(s.share.review_due),
                ),
                Column(translate("ReviewsPage", "Case"), lambda s: s.reference),
                Column(
                    translate("ReviewsPage", "Shared"),
                    lambda s: labels.moment(s.share.record.shared_at),
                ),
                Column(translate("ReviewsPage", "With"), lambda s: s.share.record.organisation),
                Column(
                    translate("ReviewsPage", "Lawful basis"),
                    lambda s: labels.lawful_basis(s.share.record.lawful_basis),
                ),
                Column(translate("ReviewsPage", "Recorded by"), lambda s: s.recorded_by_name),
                Column(translate("ReviewsPage", "Reason"), lambda s: s.share.record.reason),
            ],
            self,
            flagged=lambda s: s.overdue,  # its 48 hours have passed
        )
        self.table = table_view(translate("ReviewsPage", "Shares waiting for review"), self.model)
        self.open_button = button(translate("ReviewsPage", "O&pen the case"))
        self.approve_button = button(translate("ReviewsPage", "Appro&ve…"))
        self.refuse_button = button(translate("ReviewsPage", "&Do not approve…"))
        self.status_label = message_label(translate("ReviewsPage", "Status"), "status")
        self.problem_label = message_label(translate("ReviewsPage", "Problem"))
        row = QHBoxLayout()
        for widget in (self.open_button, self.approve_button, self.refuse_button):
            row.addWidget(widget)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(translate("ReviewsPage", "Shares to review")))
        layout.addWidget(
            paragraph(
                translate(
                    "ReviewsPage",
                    "Shares made without consent and without a manager, soonest due first. "
                    "Review each within 48 hours of it being recorded.",
                )
            )
        )
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problem_label)
        self.open_button.clicked.connect(self._open_case)
        self.approve_button.clicked.connect(lambda: self.review(True))
        self.refuse_button.clicked.connect(lambda: self.review(False))
        self.table.selectionModel().currentRowChanged.connect(self._selection_changed)
        self.table.activated.connect(self._open_case)
        self._selection_changed()

    def start(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.calls.run(sharing.awaiting_review, self._arrived, self._failed, receiver=self)

    def _arrived(self, shares: list[ShareToReview]) -> None:
        self.model.set_records(shares)
        fit_columns(self.table)
        set_message(self.problem_label, None)
        self._selection_changed()
        self.records_loaded.emit()

    def _failed(self, error: BaseException) -> None:
        set_message(self.problem_label, error_sentence(error))

    def selected(self) -> Share | None:
        index = self.table.currentIndex()
        item = self.model.record(index.row()) if index.isValid() else None
        return item.share if item is not None else None

    def _selection_changed(self, *_args: object) -> None:
        chosen = self.selected() is not None
        for widget in (self.open_button, self.approve_button, self.refuse_button):
            widget.setEnabled(chosen)

    def _open_case(self, *_args: object) -> None:
        share = self.selected()
        if share is not None:
            self.case_chosen.emit(share.record.case_id)

    def review(self, approve: bool) -> None:
        share = self.selected()
        if share is None:
            return
        dialog = ReviewDialog(self.calls, share, approve, self, lock_action=self.lock_action)
        dialog.draft_kind = REVIEW_DRAFTS[approve]
        dialog.draft_case = share.record.case_id
        dialog.draft_target = share.id
        self.dialog = dialog

        def saved(_value: object) -> None:
            set_message(
                self.status_label,
                translate("ReviewsPage", "Review recorded beside the share."),
            )
            self.refresh()
            self.reviewed.emit()

        dialog.saved.connect(saved)
        dialog.open()

    def reopen_draft(self, draft: Draft) -> bool:
        """Open again a review kept at a lock, on its share, with the reason as typed."""
        approve = next((a for a, kind in REVIEW_DRAFTS.items() if kind == draft.kind), None)
        if approve is None:
            return False
        if not select_record(self.table, self.model, lambda s: s.share.id == draft.target_id):
            return False
        before = self.dialog
        self.review(approve)
        if not isinstance(self.dialog, FormDialog) or self.dialog is before:
            return False
        self.dialog.restore_draft(draft.id, draft.fields)
        return True

    def clear(self) -> None:
        self.model.clear()
