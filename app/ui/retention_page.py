"""Retention (admins): what is due for destruction as of a date, approving or extending it,
running the purge, and the destruction log with its certificate.

The page shows references, dates, the rule that set each date and what blocks it: never case
content and never names. The certificate is written only where the admin chooses, and the
folder is not remembered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractItemView, QFileDialog, QHBoxLayout, QVBoxLayout, QWidget

from app.errors import InvalidInput
from app.models.drafts import Draft
from app.models.retention import LogEntry, RunSummary, Schedule
from app.services import backup, membership, retention, team_purge
from app.services.backup import BackupChoice
from app.services.retention import PurgeResult
from app.services.session import Session
from app.services.team_purge import Outstanding
from app.ui import labels, printing
from app.ui.erasure import ErasureDialog
from app.ui.errors import error_sentence
from app.ui.forms import (
    FieldInvalid,
    FormDialog,
    button,
    confirm,
    date_edit,
    date_of,
    enum_combo,
    text_box,
)
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable, select_record
from app.ui.store_calls import StoreCalls
from app.ui.widgets import (
    fit_columns,
    heading,
    message_label,
    paragraph,
    set_message,
    tab_widget,
    table_view,
)

MIN_REASON = retention.MIN_REASON


def _backup_choice_text(choice: BackupChoice) -> str:
    return {
        BackupChoice.REWRITE: translate("RetentionPage", "Rewrite older backups without them"),
        BackupChoice.DESTROY: translate("RetentionPage", "Delete older backups"),
        BackupChoice.KEEP: translate("RetentionPage", "Keep older backups as they are"),
    }[choice]


def _rule(item: Schedule) -> str:
    return item.rule.value.replace("_", " ")


DRAFT_PREFIX = "retention:"  # the kinds of draft the decisions are kept as
DRAFT_CASES = "cases"  # in a decision's draft: the ids of the cases it was about


class ProgressRelay(QObject):
    """Carries ``progress(done, total)`` from the worker to the main thread (queued signal)."""

    moved = Signal(int, int)

    def report(self, done: int, total: int) -> None:
        self.moved.emit(done, total)


LISTED_REFERENCES = 20  # a summary names this many references, then "and N more"


def references_text(references: list[str]) -> str:
    """The references a decision covers, shortened after LISTED_REFERENCES."""
    shown = ", ".join(references[:LISTED_REFERENCES])
    more = len(references) - LISTED_REFERENCES
    if more > 0:
        shown += translate("RetentionPage", " and {n} more").format(n=more)
    return shown


def left_out_text(left_out: dict[str, list[str]]) -> str:
    """Why some chosen cases are not in the decision (blocked, approved already)."""
    lines = [
        translate("RetentionPage", "Left out, {why}: {references}.").format(
            why=why, references=references_text(refs)
        )
        for why, refs in left_out.items()
        if refs
    ]
    return "\n".join(lines)


class ApproveDialog(FormDialog):
    """Approve the destruction of the chosen due cases, with one reason; a summary first."""

    def __init__(
        self,
        calls: StoreCalls,
        references: list[str],
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
        left_out: dict[str, list[str]] | None = None,
    ) -> None:
        intro = translate(
            "ApproveDialog",
            "Approve {n} case(s) for destruction: {references}. Nothing is destroyed until "
            "the purge runs.",
        ).format(n=len(references), references=references_text(references))
        skipped = left_out_text(left_out or {})
        super().__init__(
            calls,
            translate("ApproveDialog", "Approve destruction"),
            parent,
            intro=intro + ("\n\n" + skipped if skipped else ""),
            save_text=translate("ApproveDialog", "&Approve"),
            lock_action=lock_action,
        )
        self.references = references
        self.reason_field = text_box(translate("ApproveDialog", "Reason"), lines=3)
        self.add_field(translate("ApproveDialog", "&Reason"), self.reason_field)
        self.reason_field.setFocus()
        if len(references) > 1:
            self.confirm_before_saving(
                translate(
                    "ApproveDialog",
                    "Approve {n} cases for destruction with this one reason? The purge will "
                    "destroy them for good.",
                ).format(n=len(references)),
                translate("ApproveDialog", "&Approve {n} cases").format(n=len(references)),
            )

    def make_call(self) -> Callable[[Session], object]:
        reason = self.reason_field.toPlainText().strip()
        if len(reason) < MIN_REASON:
            raise InvalidInput("Give the reason for approving the destruction (a short sentence).")
        references = list(self.references)
        return lambda s: retention.approve(s, references, reason)


class ExtendDialog(FormDialog):
    """Keep the chosen due cases until a review date, with one reason; a summary first."""

    def __init__(
        self,
        calls: StoreCalls,
        references: str | list[str],
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
        left_out: dict[str, list[str]] | None = None,
    ) -> None:
        chosen = [references] if isinstance(references, str) else list(references)
        intro = (
            translate("ExtendDialog", "Keep case {reference} until the review date below.").format(
                reference=chosen[0]
            )
            if len(chosen) == 1
            else translate(
                "ExtendDialog", "Keep {n} cases until the review date below: {references}."
            ).format(n=len(chosen), references=references_text(chosen))
        )
        skipped = left_out_text(left_out or {})
        super().__init__(
            calls,
            translate("ExtendDialog", "Keep the case longer")
            if len(chosen) == 1
            else translate("ExtendDialog", "Keep the cases longer"),
            parent,
            intro=intro + ("\n\n" + skipped if skipped else ""),
            save_text=translate("ExtendDialog", "&Extend"),
            lock_action=lock_action,
        )
        self.references = chosen
        self.reference = chosen[0]
        self.reason_field = text_box(translate("ExtendDialog", "Reason"), lines=3)
        self.until_field = date_edit(
            translate("ExtendDialog", "Review date"), self.calls.today() + dt.timedelta(days=365)
        )
        self.add_field(translate("ExtendDialog", "&Reason"), self.reason_field)
        self.add_field(translate("ExtendDialog", "Review &date"), self.until_field)
        self.reason_field.setFocus()
        if len(chosen) > 1:
            self.confirm_before_saving(
                translate(
                    "ExtendDialog",
                    "Keep {n} cases until the review date with this one reason?",
                ).format(n=len(chosen)),
                translate("ExtendDialog", "&Keep {n} cases").format(n=len(chosen)),
            )

    def make_call(self) -> Callable[[Session], object]:
        reason = self.reason_field.toPlainText().strip()
        if len(reason) < MIN_REASON:
            raise InvalidInput("Give the reason for keeping the case longer (a short sentence).")
        until = date_of(self.until_field)
        if until <= self.calls.today():
            raise InvalidInput("The new review date must be in the future.")
        references = list(self.references)
        return lambda s: retention.extend_many(s, references, reason, until)


def _team_view(session: Session) -> tuple[bool, list[Outstanding]]:
    """Whether this laptop is in a team, and the laptops that have not confirmed destroying
    the purged cases (one call, off the UI thread)."""
    joined = membership.in_team(session)
    return joined, team_purge.outstanding(session) if joined else []


class RetentionPage(QWidget):
    """Admins: the due list, approvals, the purge and the destruction log."""

    purged = Signal(object)  # the PurgeResult of a finished run
    records_loaded = Signal()  # the due list arrived (a form kept at a lock can open again)

    def __init__(
        self,
        calls: StoreCalls,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
        can_erase: bool = False,
    ) -> None:
        super().__init__(parent)
        self.calls = calls
        self.lock_action = lock_action
        self.can_erase = can_erase
        self.dialog: FormDialog | None = None
        self.last_result: PurgeResult | None = None
        # Where the certificate goes: a save dialog, replaceable in tests. Never remembered.
        self.choose_certificate_file: Callable[[str], str] = self._ask_certificate_file
        self.ask_printer: printing.AskPrinter = printing.ask_with_dialog
        self.setAccessibleName(translate("RetentionPage", "Retention"))
        t = translate

        self.as_of_field = date_edit(t("RetentionPage", "Due as of"), self.calls.today())
        self.show_button = button(t("RetentionPage", "Sh&ow what is due"))
        self.model: RecordTable[Schedule] = RecordTable(
            [
                Column(t("RetentionPage", "Reference"), lambda i: i.reference),
                Column(t("RetentionPage", "Closed"), lambda i: labels.date(i.closed_date)),
                Column(t("RetentionPage", "Due"), lambda i: labels.date(i.due_date)),
                Column(t("RetentionPage", "Rule"), _rule),
                Column(
                    t("RetentionPage", "Holds and blocks"),
                    lambda i: translate("retention", retention.status_text(i)),
                ),
            ],
            self,
        )
        self.table = table_view(t("RetentionPage", "Cases due for destruction"), self.model)
        # Many at once: Shift/Ctrl-click, Shift+arrows, Ctrl+A or Select all.
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.select_all_button = button(t("RetentionPage", "Select &all"))
        self.summary_label = message_label(t("RetentionPage", "Summary"), "status")
        self.approve_button = button(t("RetentionPage", "A&pprove…"))
        self.extend_button = button(t("RetentionPage", "E&xtend…"))
        self.purge_button = button(t("RetentionPage", "&Run purge"))
        self.erasure_button = button(t("RetentionPage", "Carry out an &erasure…"))
        self.erasure_button.setVisible(can_erase)
        # What the purge does with the backups made before it; shown again in the confirmation.
        self.backups_choice = enum_combo(
            t("RetentionPage", "Backups made before the purge"), BackupChoice, _backup_choice_text
        )
        self.status_label = message_label(t("RetentionPage", "Status"), "status")
        self.problem_label = message_label(t("RetentionPage", "Problem"))

        self.runs_model: RecordTable[RunSummary] = RecordTable(
            [
                Column(t("RetentionPage", "Run"), lambda r: r.run_id),
                Column(t("RetentionPage", "Started"), lambda r: labels.moment(r.started)),
                Column(t("RetentionPage", "Destroyed by"), lambda r: r.destroyed_by_name),
                Column(t("RetentionPage", "Cases"), lambda r: f"{r.cases:,}"),
            ],
            self,
        )
        self.runs_table = table_view(t("RetentionPage", "Purge runs"), self.runs_model)
        self.entries_model: RecordTable[LogEntry] = RecordTable(
            [
                Column(t("RetentionPage", "Reference"), lambda e: e.reference),
                Column(t("RetentionPage", "Closed"), lambda e: labels.date(e.closed_date)),
                Column(t("RetentionPage", "Due"), lambda e: labels.date(e.due_date)),
                Column(t("RetentionPage", "Rule"), lambda e: e.rule.value.replace("_", " ")),
                Column(t("RetentionPage", "Approved by"), lambda e: e.approved_by_name),
                Column(t("RetentionPage", "Destroyed"), lambda e: labels.moment(e.destroyed_at)),
            ],
            self,
        )
        self.entries_table = table_view(
            t("RetentionPage", "Cases destroyed in the run"), self.entries_model
        )
        self.laptops_model: RecordTable[Outstanding] = RecordTable(
            [
                Column(t("RetentionPage", "Laptop"), lambda o: o.label),
                Column(t("RetentionPage", "Cases not confirmed"), lambda o: f"{o.cases:,}"),
                Column(t("RetentionPage", "Waiting since"), lambda o: labels.moment(o.since)),
            ],
            self,
        )
        self.laptops_table = table_view(
            t("RetentionPage", "Laptops that have not confirmed destroying purged cases"),
            self.laptops_model,
        )
        self.laptops_label = message_label(t("RetentionPage", "Team laptops"), "status")
        self.compact_button = button(t("RetentionPage", "Co&mpact the team's folder…"))
        self.compact_button.setEnabled(False)
        self.certificate_button = button(t("RetentionPage", "Save &certificate…"))
        self.print_certificate_button = button(t("RetentionPage", "Pr&int certificate…"))

        due_row = QHBoxLayout()
        due_row.addWidget(self.as_of_field)
        due_row.addWidget(self.show_button)
        due_row.addStretch(1)
        due_row.addWidget(self.select_all_button)
        due_row.addWidget(self.approve_button)
        due_row.addWidget(self.extend_button)
        # The purge under the list, on a row of its own, so the page fits a laptop's width.
        purge_row = QHBoxLayout()
        purge_row.addStretch(1)
        purge_row.addWidget(self.backups_choice)
        purge_row.addWidget(self.purge_button)
        purge_row.addWidget(self.erasure_button)
        due_tab = QWidget()
        due_layout = QVBoxLayout(due_tab)
        due_layout.addLayout(due_row)
        due_layout.addWidget(self.table, 1)
        due_layout.addWidget(self.summary_label)
        due_layout.addLayout(purge_row)

        log_row = QHBoxLayout()
        log_row.addStretch(1)
        log_row.addWidget(self.print_certificate_button)
        log_row.addWidget(self.certificate_button)
        log_tab = QWidget()
        log_layout = QVBoxLayout(log_tab)
        log_layout.addWidget(self.runs_table, 1)
        log_layout.addWidget(self.entries_table, 2)
        log_layout.addLayout(log_row)

        team_row = QHBoxLayout()
        team_row.addWidget(self.laptops_label, 1)
        team_row.addWidget(self.compact_button)
        team_tab = QWidget()
        team_layout = QVBoxLayout(team_tab)
        team_layout.addWidget(
            paragraph(
                t(
                    "RetentionPage",
                    "Each laptop of the team destroys a purged case when it next syncs, and "
                    "confirms it. These laptops have not confirmed yet. Compacting deletes the "
                    "purged cases' envelopes from the team's folder; no key opens them any more.",
                )
            )
        )
        team_layout.addWidget(self.laptops_table, 1)
        team_layout.addLayout(team_row)

        self.tabs = tab_widget(t("RetentionPage", "Retention sections"))
        self.tabs.addTab(due_tab, t("RetentionPage", "&Due for destruction"))
        self.tabs.addTab(log_tab, t("RetentionPage", "Destruction &log"))
        self.tabs.addTab(team_tab, t("RetentionPage", "&Team laptops"))

        layout = QVBoxLayout(self)
        layout.addWidget(heading(t("RetentionPage", "Retention")))
        layout.addWidget(
            paragraph(
                t(
                    "RetentionPage",
                    "Closed cases whose retention period has ended, by reference only. Choose "
                    "one or many, then approve or extend them with one reason; the purge "
                    "destroys only approved cases, for good.",
                )
            )
        )
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problem_label)

        self.relay = ProgressRelay(self)
        self.relay.moved.connect(self._purge_moved)
        self.show_button.clicked.connect(self.refresh_due)
        self.as_of_field.changed.connect(lambda *_a: self.refresh_due())
        self.approve_button.clicked.connect(self.approve)
        self.extend_button.clicked.connect(self.extend)
        self.purge_button.clicked.connect(self.run_purge)
        self.erasure_button.clicked.connect(self.carry_out_erasure)
        self.certificate_button.clicked.connect(self.save_certificate)
        self.print_certificate_button.clicked.connect(self.print_certificate)
        self.compact_button.clicked.connect(self.compact)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.select_all_button.clicked.connect(self.select_all)
        self.runs_table.selectionModel().currentRowChanged.connect(self._run_chosen)
        QWidget.setTabOrder(self.as_of_field, self.show_button)
        self._selection_changed()
        self._certificate_buttons(False)

    # -- loading ----------------------------------------------------------------------------------

    def start(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.refresh_due()
        self.refresh_runs()
        self.refresh_team()

    def refresh_team(self, *_args: object) -> None:
        """The laptops that have not confirmed destroying purged cases (after each sync)."""
        self.calls.run(_team_view, self._team_arrived, self._failed, receiver=self)

    def _team_arrived(self, view: tuple[bool, list[Outstanding]]) -> None:
        joined, waiting = view
        self.laptops_model.set_records(waiting)
        fit_columns(self.laptops_table)
        self.compact_button.setEnabled(joined)
        if not joined:
            text = translate("RetentionPage", "This laptop is not in a team.")
        elif waiting:
            text = translate(
                "RetentionPage", "{n} laptop(s) have not confirmed destroying purged cases."
            ).format(n=len(waiting))
        else:
            text = translate(
                "RetentionPage", "Every laptop has confirmed destroying the purged cases."
            )
        set_message(self.laptops_label, text)

    def compact(self) -> None:
        """Ask, then delete the purged cases' envelopes from the team's folder."""
        confirm(
            self,
            translate("RetentionPage", "Compact the team's folder"),
            translate(
                "RetentionPage",
                "Delete every envelope of the purged cases from the team's folder? No key "
                "opens them any more; this cannot be undone.",
            ),
            translate("RetentionPage", "&Delete envelopes"),
            self._compact,
            lock_action=self.lock_action,
        )

    def _compact(self) -> None:
        self.calls.run(
            team_purge.compact,
            self._compacted,
            self._failed,
            receiver=self,
            label=translate("RetentionPage", "Compacting the team's folder…"),
        )

    def _compacted(self, deleted: int) -> None:
        set_message(
            self.status_label,
            translate(
                "RetentionPage", "{n} envelope(s) of purged cases deleted from the team's folder."
            ).format(n=deleted),
        )
        self.refresh_team()

    @property
    def as_of(self) -> dt.date:
        return date_of(self.as_of_field)

    def refresh_due(self) -> None:
        try:
            day = self.as_of
        except FieldInvalid:
            return  # the field says what is wrong under itself
        self.calls.run(
            lambda s: retention.due_items(s, day),
            self._due_arrived,
            self._failed,
            receiver=self,
            label=translate("RetentionPage", "Reading what is due…"),
        )

    def _due_arrived(self, items: list[Schedule]) -> None:
        self.model.set_records(items)
        fit_columns(self.table)
        set_message(self.summary_label, translate("retention", retention.summary(items)))
        set_message(self.problem_label, None)
        self._selection_changed()
        self.records_loaded.emit()

    def refresh_runs(self) -> None:
        self.calls.run(retention.runs, self._runs_arrived, self._failed, receiver=self)

    def _runs_arrived(self, runs: list[RunSummary]) -> None:
        self.runs_model.set_records(runs)
        self.entries_model.clear()
        fit_columns(self.runs_table)
        self._certificate_buttons(False)

    def _certificate_buttons(self, enabled: bool) -> None:
        self.certificate_button.setEnabled(enabled)
        self.print_certificate_button.setEnabled(enabled)

    def _run_chosen(self, *_args: object) -> None:
        run = self.selected_run()
        self._certificate_buttons(run is not None)
        if run is None:
            self.entries_model.clear()
            return
        run_id = run.run_id
        self.calls.run(
            lambda s: retention.log_entries(s, run_id),
            self._entries_arrived,
            self._failed,
            receiver=self,
        )

    def _entries_arrived(self, entries: list[LogEntry]) -> None:
        self.entries_model.set_records(entries)
        fit_columns(self.entries_table)

    def _failed(self, error: BaseException) -> None:
        set_message(self.problem_label, error_sentence(error))

    # -- choosing ---------------------------------------------------------------------------------

    def selected(self) -> Schedule | None:
        index = self.table.currentIndex()
        return self.model.record(index.row()) if index.isValid() else None

    def selected_items(self) -> list[Schedule]:
        """Every chosen row, in the table's order."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [item for row in rows if (item := self.model.record(row)) is not None]

    def select_all(self) -> None:
        self.table.selectAll()
        self.table.setFocus()

    def select_reference(self, reference: str) -> bool:
        for row, item in enumerate(self.model.records):
            if item.reference == reference:
                self.table.selectRow(row)
                self.table.setCurrentIndex(self.model.index(row, 0))
                return True
        return False

    def selected_run(self) -> RunSummary | None:
        index = self.runs_table.currentIndex()
        return self.runs_model.record(index.row()) if index.isValid() else None

    def _selection_changed(self, *_args: object) -> None:
        items = self.selected_items()
        self.approve_button.setEnabled(any(not i.blocked and not i.approved for i in items))
        self.extend_button.setEnabled(any(not i.blocked for i in items))
        self.purge_button.setEnabled(any(i.approved and not i.blocked for i in self.model.records))
        self.select_all_button.setEnabled(bool(self.model.records))

    # -- deciding ---------------------------------------------------------------------------------

    def _blocked(self, items: list[Schedule]) -> list[str]:
        return [i.reference for i in items if i.blocked]

    def approve(self) -> None:
        items = self.selected_items()
        left_out = {
            translate("RetentionPage", "held or blocked"): self._blocked(items),
            translate("RetentionPage", "approved already"): [
                i.reference for i in items if i.approved and not i.blocked
            ],
        }
        self._decide(
            ApproveDialog,
            [i for i in items if not i.blocked and not i.approved],
            left_out,
            translate("RetentionPage", "Approved for destruction."),
            translate("RetentionPage", "{n} cases approved for destruction."),
        )

    def extend(self) -> None:
        items = self.selected_items()
        self._decide(
            ExtendDialog,
            [i for i in items if not i.blocked],
            {translate("RetentionPage", "held or blocked"): self._blocked(items)},
            translate("RetentionPage", "Kept until the review date."),
            translate("RetentionPage", "{n} cases kept until the review date."),
        )

    def _decide(
        self,
        dialog_class: type[ApproveDialog] | type[ExtendDialog],
        free: list[Schedule],
        left_out: dict[str, list[str]],
        done_one: str,
        done_many: str,
    ) -> None:
        """Open the decision on the ``free`` cases (saying which chosen ones are left out)."""
        if not free:
            return
        chosen = [i.reference for i in free]
        dialog = dialog_class(
            self.calls, chosen, self, lock_action=self.lock_action, left_out=left_out
        )
        done = done_one if len(chosen) == 1 else done_many.format(n=len(chosen))
        self._open(dialog, done, free)

    def _open(self, dialog: FormDialog, done: str, items: list[Schedule]) -> None:
        self.dialog = dialog
        dialog.draft_kind = DRAFT_PREFIX + type(dialog).__name__
        # A team's case held on other laptops only is known by its global id (case_id 0).
        dialog.draft_case = items[0].case_id or None
        # A decision about many cases comes back after a lock on all of them.
        dialog.draft_also = {DRAFT_CASES: [i.gid or i.case_id for i in items]}

        def saved(_value: object) -> None:
            set_message(self.status_label, done)
            self.refresh_due()

        dialog.saved.connect(saved)
        dialog.open()

    def reopen_draft(self, draft: Draft) -> bool:
        """Open again a decision kept at a lock, on its cases still due, with what was typed."""
        openers = {DRAFT_PREFIX + ApproveDialog.__name__: self.approve}
        openers[DRAFT_PREFIX + ExtendDialog.__name__] = self.extend
        opener = openers.get(draft.kind)
        if opener is None:
            return False
        kept = draft.fields.get(DRAFT_CASES)
        case_ids = set(kept) if isinstance(kept, list) else {draft.case_id}
        if not select_record(
            self.table, self.model, lambda i: (i.gid or i.case_id) in case_ids, every=True
        ):
            return False
        before = self.dialog
        opener()
        if not isinstance(self.dialog, FormDialog) or self.dialog is before:
            return False
        self.dialog.restore_draft(draft.id, draft.fields)
        return True

    # -- the purge --------------------------------------------------------------------------------

    def approved_count(self) -> int:
        return sum(1 for i in self.model.records if i.approved and not i.blocked)

    def run_purge(self) -> None:
        count = self.approved_count()
        if count == 0:
            set_message(
                self.status_label, translate("RetentionPage", "No approved cases to destroy.")
            )
            return
        day = self.as_of
        self.calls.run(
            backup.known_backups,
            lambda older: self._confirm_purge(day, count, older),
            self._failed,
            receiver=self,
        )

    def _confirm_purge(self, day: dt.date, count: int, older: list[Path]) -> None:
        """Ask before the purge, naming how many cases go and what happens to older backups."""
        text = (
            translate("RetentionPage", "Destroy {n} cases? This cannot be undone.").format(n=count)
            if count != 1
            else translate("RetentionPage", "Destroy 1 case? This cannot be undone.")
        )
        choice: BackupChoice | None = None
        if older:
            choice = self.backups_choice.value()
            folders = ", ".join(sorted({str(p.resolve().parent) for p in older}))
            text += "\n\n" + {
                BackupChoice.REWRITE: translate(
                    "RetentionPage",
                    "{n} backup(s) made before now, in {folders}, will be rewritten without "
                    "the destroyed cases.",
                ),
                BackupChoice.DESTROY: translate(
                    "RetentionPage",
                    "{n} backup(s) made before now, in {folders}, will be deleted (after a new "
                    "backup into the backup folder, when there is one). Deleted files may "
                    "survive on an SSD until reused.",
                ),
                BackupChoice.KEEP: translate(
                    "RetentionPage",
                    "Warning: {n} backup(s) made before now, in {folders}, will keep the "
                    "destroyed cases until they are rotated out; the certificate will say so.",
                ),
            }[BackupChoice(choice)].format(n=len(older), folders=folders)
        confirm(
            self,
            translate("RetentionPage", "Run purge"),
            text,
            translate("RetentionPage", "&Destroy"),
            lambda: self._purge(day, choice),
            lock_action=self.lock_action,
        )

    def _purge(self, day: dt.date, backups: BackupChoice | None = None) -> None:
        relay = self.relay
        self.purge_button.setEnabled(False)
        self.calls.run(
            lambda s: retention.purge(s, as_of=day, progress=relay.report, backups=backups),
            self._purged,
            self._purge_failed,
            receiver=self,
            label=translate("RetentionPage", "Destroying approved cases…"),
        )

    def _purge_moved(self, done: int, total: int) -> None:
        dialog = self.calls.progress_dialog
        if dialog is not None and total:
            dialog.setRange(0, total)
            dialog.setValue(done)
            dialog.setLabelText(
                translate("RetentionPage", "Destroyed {done} of {total} cases…").format(
                    done=done, total=total
                )
            )

    def _purged(self, result: PurgeResult) -> None:
        self.last_result = result
        text = translate("RetentionPage", "Purge run {run}: {n} case(s) destroyed.").format(
            run=result.run_id, n=len(result.destroyed)
        )
        if result.changed:
            text += " " + translate(
                "RetentionPage", "{n} changed since approval and were kept."
            ).format(n=len(result.changed))
        if result.backups is not None and result.backups.files:
            text += " " + translate("retention", result.backups.lines()[0])
        set_message(self.status_label, text)
        self.refresh()
        self.purged.emit(result)

    def _purge_failed(self, error: BaseException) -> None:
        self._failed(error)
        self.refresh()

    # -- a granted erasure request ----------------------------------------------------------------

    def carry_out_erasure(self) -> None:
        """Choose a proposed erasure, see what it destroys, and carry it out (admins)."""
        if self.can_erase:
            self.calls.run(
                retention.proposed_erasures, self._erasures_arrived, self._failed, receiver=self
            )

    def _erasures_arrived(self, plans: list[retention.ErasurePlan]) -> None:
        if not plans:
            set_message(
                self.status_label,
                translate("RetentionPage", "No erasure is proposed; a manager proposes one."),
            )
            return
        dialog = ErasureDialog(
            self.calls,
            plans,
            self,
            lock_action=self.lock_action,
            carry_out=True,
            backups=self.backups_choice.value(),
        )
        self.dialog = dialog

        def saved(result: object) -> None:
            if isinstance(result, PurgeResult):
                self._purged(result)

        dialog.saved.connect(saved)
        dialog.open()

    # -- the certificate --------------------------------------------------------------------------

    def _ask_certificate_file(self, suggested: str) -> str:
        path, _filter = QFileDialog.getSaveFileName(
            self,
            translate("RetentionPage", "Save certificate of destruction"),
            suggested,
            translate("RetentionPage", "PDF files (*.pdf)"),
        )
        return path

    def save_certificate(self) -> None:
        run = self.selected_run()
        if run is None:
            return
        chosen = self.choose_certificate_file(f"certificate-{run.run_id}.pdf")
        if not chosen:
            return
        out = Path(chosen)
        if out.suffix.lower() != ".pdf":
            out = out.with_name(out.name + ".pdf")
        run_id = run.run_id
        self.calls.run(
            lambda s: retention.save_certificate(s, run_id, out),
            lambda n: set_message(
                self.status_label,
                translate("RetentionPage", "Certificate saved ({n} cases).").format(n=n),
            ),
            receiver=self,
            label=translate("RetentionPage", "Writing the certificate…"),
        )

    def print_certificate(self) -> None:
        """Print the selected run's certificate through the system print dialog (audited)."""
        run = self.selected_run()
        if run is None:
            return
        run_id = run.run_id
        printing.print_from_store(
            self.calls,
            self,
            self.ask_printer,
            f"certificate-{run_id}",
            lambda s: retention.certificate(s, run_id),
            lambda pages: set_message(
                self.status_label,
                translate("RetentionPage", "Certificate sent to the printer. Pages: {n}.").format(
                    n=pages
                ),
            ),
            self._failed,
            label=translate("RetentionPage", "Laying out the certificate…"),
        )

    def clear(self) -> None:
        self.model.clear()
        self.runs_model.clear()
        self.entries_model.clear()
        self.laptops_model.clear()
