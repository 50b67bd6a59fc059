"""This week: what is due for the signed-in user from today to seven days on, anything overdue
first. A caseworker sees their cases, a manager the team's, the DPO the register's deadlines.
Each row opens its case, or its entry in the rights-request register."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from app.models.categories import OrderType
from app.models.records import ConsentPurpose
from app.models.rights import RightKind
from app.services import categories
from app.services.categories import DueItem, DueKind
from app.ui import category_labels, labels
from app.ui.errors import error_sentence
from app.ui.forms import button
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable
from app.ui.sar_register import kind_label
from app.ui.store_calls import StoreCalls
from app.ui.widgets import fit_columns, heading, message_label, paragraph, set_message, table_view


def kind_text(item: DueItem) -> str:
    t = translate
    text = {
        DueKind.CASE_REVIEW: t("ThisWeekPage", "Case review"),
        DueKind.MARAC_MEETING: t("ThisWeekPage", "MARAC meeting"),
        DueKind.MARAC_ACTION: t("ThisWeekPage", "MARAC action"),
        DueKind.COURT_DATE: t("ThisWeekPage", "Court date"),
        DueKind.ORDER_ENDS: t("ThisWeekPage", "Protective order ends"),
        DueKind.BAIL_ENDS: t("ThisWeekPage", "Bail conditions end"),
        DueKind.CONSENT_REVIEW: t("ThisWeekPage", "Consent review"),
        DueKind.SHARE_REVIEW: t("ThisWeekPage", "Share to review"),
        DueKind.RIGHTS_REQUEST: t("ThisWeekPage", "Rights request deadline"),
    }[item.kind]
    detail = ""
    if item.kind is DueKind.CONSENT_REVIEW and item.detail in set(ConsentPurpose):
        detail = labels.consent_purpose(ConsentPurpose(item.detail))
    elif item.kind is DueKind.ORDER_ENDS and item.detail in set(OrderType):
        detail = category_labels.order_type(OrderType(item.detail))
    elif item.kind is DueKind.RIGHTS_REQUEST and item.detail in set(RightKind):
        detail = kind_label(RightKind(item.detail))
    return f"{text}: {detail}" if detail else text


class ThisWeekPage(QWidget):
    case_chosen = Signal(int)
    request_chosen = Signal(str)  # a rights request's reference

    def __init__(self, calls: StoreCalls, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.calls = calls
        t = translate
        self.setAccessibleName(t("ThisWeekPage", "This week"))
        self.model: RecordTable[DueItem] = RecordTable(
            [
                Column(t("ThisWeekPage", "Due"), lambda i: labels.date(i.due_on)),
                Column(
                    t("ThisWeekPage", "State"),
                    lambda i: t("ThisWeekPage", "Overdue") if i.overdue else "",
                ),
                Column(t("ThisWeekPage", "What"), kind_text),
                Column(t("ThisWeekPage", "Case or request"), lambda i: i.reference),
            ],
            self,
            flagged=lambda i: i.overdue,
        )
        self.table = table_view(t("ThisWeekPage", "What is due this week"), self.model)
        self.open_button = button(t("ThisWeekPage", "&Open it"))
        self.status_label = message_label(t("ThisWeekPage", "Status"), "status")
        self.problem_label = message_label(t("ThisWeekPage", "Problem"))
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(t("ThisWeekPage", "This week")))
        layout.addWidget(
            paragraph(
                t(
                    "ThisWeekPage",
                    "What is due from today to seven days on, anything overdue first: reviews, "
                    "MARAC meetings and actions, court dates, orders and bail ending, consent "
                    "reviews, shares to review and rights-request deadlines.",
                )
            )
        )
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problem_label)
        self.open_button.clicked.connect(self.open_selected)
        self.table.activated.connect(self.open_selected)

    def start(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.calls.run(categories.this_week, self._arrived, self._failed, receiver=self)

    def _arrived(self, items: list[DueItem]) -> None:
        self.model.set_records(items)
        fit_columns(self.table)
        set_message(self.problem_label, None)
        overdue = sum(1 for i in items if i.overdue)
        set_message(
            self.status_label,
            translate("ThisWeekPage", "{n} due this week, {overdue} overdue.").format(
                n=len(items) - overdue, overdue=overdue
            )
            if items
            else translate("ThisWeekPage", "Nothing is due this week."),
        )
        if items:
            self.table.setCurrentIndex(self.model.index(0, 0))

    def _failed(self, error: BaseException) -> None:
        set_message(self.problem_label, error_sentence(error))

    def open_selected(self, *_args: object) -> None:
        index = self.table.currentIndex()
        item = self.model.record(index.row()) if index.isValid() else None
        if item is None:
            set_message(self.problem_label, translate("ThisWeekPage", "Choose a row first."))
            return
        if item.case_id is not None:
            self.case_chosen.emit(item.case_id)
        else:
            self.request_chosen.emit(item.reference)

    def clear(self) -> None:
        self.model.clear()
        set_message(self.status_label, None)
        set_message(self.problem_label, None)
