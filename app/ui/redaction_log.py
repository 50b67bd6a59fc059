"""The redaction log of one request (managers and the DPO): who redacted or disclosed which
part of the pack, when, and under which exemption. Kept with the request; never sent."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QHBoxLayout, QVBoxLayout, QWidget

from app.models.redaction import code_label
from app.models.rights import Action, Decision, RightsRequest
from app.services import sar
from app.ui import labels
from app.ui.errors import error_sentence
from app.ui.forms import button
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable
from app.ui.store_calls import StoreCalls
from app.ui.widgets import heading, message_label, paragraph, set_message, table_view


def _action_text(action: Action) -> str:
    return (
        translate("RedactionLog", "Redacted")
        if action is Action.REDACT
        else translate("RedactionLog", "Disclosed")
    )


class RedactionLogDialog(QDialog):
    """Read-only: every redaction decision on one request's pack, oldest first."""

    def __init__(
        self,
        calls: StoreCalls,
        request: RightsRequest,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(parent)
        t = translate
        self.calls = calls
        title = t("RedactionLog", "Redaction log for {reference}").format(
            reference=request.reference
        )
        self.setWindowTitle(t("RedactionLog", "Safecase"))
        self.setAccessibleName(title)
        self.setModal(True)
        self.resize(900, 480)
        if lock_action is not None:
            self.addAction(lock_action)
        self.model: RecordTable[Decision] = RecordTable(
            [
                Column(t("RedactionLog", "When"), lambda d: labels.moment(d.decided_at)),
                Column(
                    t("RedactionLog", "Who"),
                    lambda d: d.decided_by_name or t("RedactionLog", "the export"),
                ),
                Column(t("RedactionLog", "Decision"), lambda d: _action_text(d.action)),
                Column(t("RedactionLog", "Exemption"), lambda d: code_label(d.code)),
                Column(t("RedactionLog", "Part of the pack"), lambda d: d.item.split("@")[0]),
                Column(t("RedactionLog", "Characters"), lambda d: f"{d.start}–{d.end}"),
                Column(t("RedactionLog", "Reason"), lambda d: d.reason, tooltip=lambda d: d.reason),
            ],
            self,
        )
        self.table = table_view(t("RedactionLog", "Redaction decisions"), self.model)
        self.problem_label = message_label(t("RedactionLog", "Problem"))
        self.close_button = button(t("RedactionLog", "&Close"))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(title))
        layout.addWidget(
            paragraph(
                t(
                    "RedactionLog",
                    "Every decision on what the pack leaves out or discloses, oldest first. "
                    "The log is kept with the request and is never sent to the requester.",
                )
            )
        )
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem_label)
        layout.addLayout(buttons)
        self.close_button.clicked.connect(self.accept)
        request_id = request.id
        calls.run(
            lambda s: sar.redaction_log(s, request_id),
            self.model.set_records,
            lambda error: set_message(self.problem_label, error_sentence(error)),
            receiver=self,
        )
