"""Subject access (managers; the DPO reads the register): the rights-request register with its
deadlines, new requests, and the steps of a request; a manager opens the pack screen
(app/ui/sar_pack.py) from here.

The folder a pack is exported to, and the file its PDF is saved in, are asked for here and
never remembered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.errors import InvalidInput
from app.models.drafts import Draft
from app.models.rights import Outcome, RequestStatus, RightKind, RightsRequest
from app.services import retention, rights, sar
from app.services.rights import RegisterConflict
from app.services.session import Session
from app.ui import labels, printing
from app.ui.erasure import ErasureDialog
from app.ui.errors import error_sentence
from app.ui.forms import (
    ChoiceBox,
    FormDialog,
    OptionalDate,
    button,
    check_box,
    date_edit,
    date_of,
    enum_combo,
)
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable, select_record
from app.ui.redaction_log import RedactionLogDialog
from app.ui.register_conflicts import RegisterConflictDialog
from app.ui.rights_dialogs import (
    CloseRequestDialog,
    ConfirmIdentityDialog,
    ExtendDialog,
    PauseClockDialog,
    RequestStepDialog,
    ResumeClockDialog,
    outcome_label,
)
from app.ui.sar_pack import DRAFT_PREFIX, PackDialog, SignOffDialog
from app.ui.store_calls import StoreCalls
from app.ui.widgets import (
    fit_columns,
    heading,
    line_edit,
    message_label,
    paragraph,
    set_message,
    table_view,
)


def kind_label(kind: RightKind) -> str:
    return {
        RightKind.ACCESS: translate("SarPage", "Access"),
        RightKind.RECTIFICATION: translate("SarPage", "Rectification"),
        RightKind.ERASURE: translate("SarPage", "Erasure"),
        RightKind.RESTRICTION: translate("SarPage", "Restriction"),
        RightKind.OBJECTION: translate("SarPage", "Objection"),
        RightKind.PORTABILITY: translate("SarPage", "Portability"),
    }[kind]


def granted_erasure(request: RightsRequest) -> bool:
    """An erasure request closed as granted, whose person is still on record."""
    return (
        request.kind is RightKind.ERASURE
        and request.status is RequestStatus.CLOSED
        and request.outcome == Outcome.COMPLIED
        and request.subject_person_id is not None
    )


def decision_text(request: RightsRequest) -> str:
    """The outcome a closed request was given, with the reasons for a refusal."""
    if not request.outcome:
        return ""
    text = outcome_label(Outcome(request.outcome))
    if request.refusal_reason:
        text += ": " + request.refusal_reason
    return text


def candidate_label(candidate: rights.Candidate) -> str:
    """ "Morgan Ellery-Pike, born 2 Apr 1990: client on SC-2026-000012"."""
    name = candidate.name
    if candidate.date_of_birth is not None:
        name = translate("SarPage", "{name}, born {date}").format(
            name=name, date=labels.date(candidate.date_of_birth)
        )
    return translate("SarPage", "{name}: {role} on {reference}").format(
        name=name, role=labels.case_role(candidate.role).lower(), reference=candidate.reference
    )


@dataclass(frozen=True)
class Register:
    requests: list[RightsRequest]
    overdue: frozenset[int]
    this_week: frozenset[int]
    # In a team, by request: the laptops that have not synced since it arrived (managers).
    team_notes: dict[int, str] = field(default_factory=dict)
    # In a team: the references of requests two laptops changed without seeing each other.
    conflicted: frozenset[str] = frozenset()


def load_register(session: Session) -> Register:
    today = session.today()
    requests = rights.register(session)
    return Register(
        requests,
        frozenset(r.id for r in rights.overdue(session, today)),
        frozenset(r.id for r in rights.due_this_week(session, today)),
        sar.team_notes(session, requests) if sar.may_prepare_packs(session) else {},
        rights.conflicted_references(session),
    )


# -- the register ---------------------------------------------------------------------------------


class NewRequestDialog(FormDialog):
    """Enter a new request in the register, or (given ``request``) change an open one."""

    def __init__(
        self,
        calls: StoreCalls,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
        request: RightsRequest | None = None,
    ) -> None:
        t = translate
        super().__init__(
            calls,
            t("NewRequestDialog", "Change request {reference}").format(reference=request.reference)
            if request is not None
            else t("NewRequestDialog", "New rights request"),
            parent,
            save_text=t("NewRequestDialog", "&Save the changes")
            if request is not None
            else t("NewRequestDialog", "&Add to the register"),
            lock_action=lock_action,
        )
        self.request = request
        self.kind_field = enum_combo(t("NewRequestDialog", "Type"), RightKind, kind_label)
        self.add_field(t("NewRequestDialog", "&Type"), self.kind_field)
        self.requester_field = self.line(t("NewRequestDialog", "Re&quester"))
        # The subject is picked from the people on record who match what is typed.
        self.find_field = line_edit(t("NewRequestDialog", "Name, phone or postcode to find"))
        self.find_button = button(t("NewRequestDialog", "&Find"))
        finder = QWidget()
        finder_row = QHBoxLayout(finder)
        finder_row.setContentsMargins(0, 0, 0, 0)
        finder_row.addWidget(self.find_field, 1)
        finder_row.addWidget(self.find_button)
        finder.setFocusProxy(self.find_field)
        self.add_field(t("NewRequestDialog", "Find the &subject"), finder)
        self.subject_field = ChoiceBox(t("NewRequestDialog", "Who it is about"))
        self.subject_field.add_choice(t("NewRequestDialog", "Nobody on record matched"), None)
        self.add_field(t("NewRequestDialog", "&Who it is about"), self.subject_field)
        self.find_field.returnPressed.connect(self.find_subjects)
        self.find_button.clicked.connect(self.find_subjects)
        self.subject_note_field = self.line(t("NewRequestDialog", "Who it is about (if &no match)"))
        self.agent_field = check_box(t("NewRequestDialog", "Made by an a&gent"))
        self.authority_field = check_box(t("NewRequestDialog", "Agent's authorit&y seen"))
        self.received_field = date_edit(t("NewRequestDialog", "Received"), self.calls.today())
        self.identity_field = OptionalDate(
            t("NewRequestDialog", "Identity confirmed"),
            t("NewRequestDialog", "&Identity confirmed on"),
            None,
            self.calls.today(),
        )
        self.add_field("", self.agent_field)
        self.add_field("", self.authority_field)
        self.add_field(t("NewRequestDialog", "&Received"), self.received_field)
        self.add_field(t("NewRequestDialog", "Identity"), self.identity_field)
        if request is not None:
            self._fill(request)
        self.kind_field.setFocus()

    def _fill(self, request: RightsRequest) -> None:
        """The open request's details, to change."""
        self.kind_field.set_value(request.kind)
        self.requester_field.setText(request.requester)
        if request.subject_person_id is not None:
            self.subject_field.add_choice(
                request.subject_name or translate("NewRequestDialog", "The person on record"),
                request.subject_person_id,
            )
            self.subject_field.set_value(request.subject_person_id)
        self.subject_note_field.setText(request.subject_note)
        self.agent_field.setChecked(request.by_agent)
        self.authority_field.setChecked(request.authority_seen)
        self.received_field.set_date(request.received_on)
        self.identity_field.set_value(request.identity_confirmed_on)

    def find_subjects(self) -> None:
        text = self.find_field.text()
        if not text.strip():
            self.show_problem(translate("NewRequestDialog", "Type a name, phone or postcode."))
            return
        self.show_problem(None)
        self.calls.run(
            lambda s: rights.find_subjects(s, text),
            self._found,
            lambda error: self.show_problem(error_sentence(error)),
            receiver=self,
            label=translate("NewRequestDialog", "Finding…"),
        )

    def _found(self, candidates: list[rights.Candidate]) -> None:
        self.subject_field.clear_choices()
        self.subject_field.add_choice(
            translate("NewRequestDialog", "Nobody on record matched"), None
        )
        for c in candidates:
            self.subject_field.add_choice(candidate_label(c), c.person_id)
        if candidates:
            self.subject_field.setCurrentIndex(1)
            self.mark_dirty()
        set_message(
            self.status_label,
            translate("NewRequestDialog", "{count} found.").format(count=len(candidates))
            if candidates
            else translate("NewRequestDialog", "Nobody on record matches: say who in the note."),
        )

    def make_call(self) -> Callable[[Session], object]:
        person_id = self.subject_field.value()
        draft = rights.RequestDraft(
            kind=self.kind_field.value(),
            requester=self.requester_field.text(),
            received_on=date_of(self.received_field),
            subject_person_id=person_id or None,
            subject_note=self.subject_note_field.text(),
            by_agent=self.agent_field.isChecked(),
            authority_seen=self.authority_field.isChecked(),
            identity_confirmed_on=self.identity_field.value(),
        )
        if not draft.requester.strip():
            raise InvalidInput("Say who made the request.")
        if self.request is not None:
            request_id = self.request.id
            return lambda s: rights.update_request(s, request_id, draft)
        return lambda s: rights.create_request(s, draft)


class SarPage(QWidget):
    """The register; managers add requests and prepare access packs."""

    # The register arrived: what is overdue may differ, and a form kept at a lock can open again.
    records_loaded = Signal()

    def __init__(
        self,
        calls: StoreCalls,
        *,
        can_prepare: bool,
        can_read_log: bool = False,
        can_propose_erasure: bool = False,
        parent: QWidget | None = None,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(parent)
        self.calls = calls
        self.can_prepare = can_prepare
        self.can_propose_erasure = can_propose_erasure
        self.can_read_log = can_read_log
        self.lock_action = lock_action
        self.dialog: QDialog | None = None
        self.register = Register([], frozenset(), frozenset())
        # Replaceable in tests: where a pack is exported, where its PDF is saved for printing.
        self.choose_folder: Callable[[], str] = self._ask_folder
        self.choose_pdf_file: Callable[[str], str] = self._ask_pdf_file
        self.ask_printer: printing.AskPrinter = printing.ask_with_dialog
        t = translate
        self.setAccessibleName(t("SarPage", "Subject access"))
        self.model: RecordTable[RightsRequest] = RecordTable(
            [
                Column(t("SarPage", "Reference"), lambda r: r.reference),
                Column(t("SarPage", "Type"), lambda r: kind_label(r.kind)),
                Column(t("SarPage", "Received"), lambda r: labels.date(r.received_on)),
                Column(
                    t("SarPage", "Due"),
                    lambda r: (
                        labels.date(r.deadline) if r.deadline else t("SarPage", "clock not started")
                    ),
                ),
                Column(t("SarPage", "Deadline"), self.mark),
                Column(
                    t("SarPage", "Status"),
                    lambda r: (
                        t("SarPage", "Open")
                        if r.status is RequestStatus.OPEN
                        else t("SarPage", "Closed")
                    ),
                ),
                Column(t("SarPage", "Requester"), lambda r: r.requester),
                Column(t("SarPage", "About"), lambda r: r.subject_name or r.subject_note),
                Column(t("SarPage", "Decision"), decision_text),
            ],
            self,
            flagged=lambda r: r.id in self.register.overdue,
        )
        self.table = table_view(t("SarPage", "Rights requests"), self.model)
        self.new_button = button(t("SarPage", "&New request…"))
        self.prepare_button = button(t("SarPage", "&Prepare pack…"))
        self.refresh_button = button(t("SarPage", "Refres&h"))
        # The steps of a request once it is in the register.
        self.confirm_button = button(t("SarPage", "Confirm &identity…"))
        self.pause_button = button(t("SarPage", "S&top clock…"))
        self.resume_button = button(t("SarPage", "&Restart clock…"))
        self.extend_button = button(t("SarPage", "E&xtend…"))
        self.close_button = button(t("SarPage", "Clos&e…"))
        self.edit_button = button(t("SarPage", "E&dit the request…"))
        self.log_button = button(t("SarPage", "Redaction lo&g…"))
        self.log_button.setVisible(can_read_log)
        self.erasure_button = button(t("SarPage", "Carry o&ut the erasure…"))
        self.erasure_button.setVisible(can_propose_erasure)
        # In a team, managers and the DPO choose between two laptops' values of one field;
        # shown while the register holds a conflict.
        self.can_resolve = can_prepare or can_read_log
        self.resolve_button = button(t("SarPage", "Resol&ve a conflict…"))
        self.resolve_button.setVisible(False)
        self.step_buttons: list[tuple[QPushButton, type[RequestStepDialog], str]] = [
            (self.confirm_button, ConfirmIdentityDialog, t("SarPage", "identity confirmed")),
            (self.pause_button, PauseClockDialog, t("SarPage", "clock stopped")),
            (self.resume_button, ResumeClockDialog, t("SarPage", "clock restarted")),
            (self.extend_button, ExtendDialog, t("SarPage", "extended")),
            (self.close_button, CloseRequestDialog, t("SarPage", "closed")),
        ]
        self.status_label = message_label(t("SarPage", "Status"), "status")
        self.problem_label = message_label(t("SarPage", "Problem"))
        # Before a pack is gathered: which team laptops may still hold some of it.
        self.team_label = message_label(t("SarPage", "Laptops not synced"), "status")
        row = QHBoxLayout()
        row.addWidget(self.refresh_button)
        row.addWidget(self.log_button)
        row.addWidget(self.erasure_button)
        row.addWidget(self.resolve_button)
        steps = QHBoxLayout()
        if can_prepare:
            row.addWidget(self.new_button)
            row.addWidget(self.prepare_button)
            steps.addWidget(self.edit_button)
            for step_button, _dialog, _done in self.step_buttons:
                steps.addWidget(step_button)
        else:
            for widget in (
                self.edit_button,
                self.new_button,
                self.prepare_button,
                *(b for b, _dialog, _done in self.step_buttons),
            ):
                widget.setParent(self)
                widget.hide()
        row.addStretch(1)
        steps.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(t("SarPage", "Subject access and other rights")))
        layout.addWidget(
            paragraph(
                t(
                    "SarPage",
                    "Every request in the register, soonest deadline first. Overdue requests and "
                    "those due within a week are marked.",
                )
                if can_prepare
                else t(
                    "SarPage",
                    "The register, read-only: every request, soonest deadline first, with "
                    "overdue requests and those due within a week marked.",
                )
            )
        )
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.team_label)
        layout.addLayout(steps)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problem_label)
        self.refresh_button.clicked.connect(self.refresh)
        self.new_button.clicked.connect(self.new_request)
        self.prepare_button.clicked.connect(self.prepare_pack)
        self.log_button.clicked.connect(self.show_redaction_log)
        self.erasure_button.clicked.connect(self.propose_erasure)
        self.resolve_button.clicked.connect(self.resolve_conflict)
        self.edit_button.clicked.connect(self.edit_request)
        for step_button, dialog_class, done in self.step_buttons:
            step_button.clicked.connect(
                lambda _checked=False, d=dialog_class, text=done: self.open_step(d, text)
            )
        self.table.selectionModel().currentRowChanged.connect(self._selection_changed)
        self._selection_changed()

    def mark(self, request: RightsRequest) -> str:
        mark = self._clock_mark(request)
        if request.reference in self.register.conflicted:
            conflict = translate("SarPage", "Conflict")
            return f"{mark}, {conflict}" if mark else conflict
        return mark

    def _clock_mark(self, request: RightsRequest) -> str:
        if request.id in self.register.overdue:
            return translate("SarPage", "OVERDUE")
        if request.id in self.register.this_week:
            return translate("SarPage", "Due this week")
        if request.paused:
            return translate("SarPage", "Paused")
        return ""

    def start(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.calls.run(
            load_register,
            self._arrived,
            self._failed,
            receiver=self,
            label=translate("SarPage", "Reading the register…"),
        )

    def _arrived(self, register: Register) -> None:
        self.register = register
        self.model.set_records(register.requests)
        fit_columns(self.table)
        set_message(self.problem_label, None)
        self._selection_changed()
        self.records_loaded.emit()

    def _failed(self, error: BaseException) -> None:
        set_message(self.problem_label, error_sentence(error))

    def selected(self) -> RightsRequest | None:
        index = self.table.currentIndex()
        return self.model.record(index.row()) if index.isValid() else None

    def select_reference(self, reference: str) -> bool:
        for row, request in enumerate(self.model.records):
            if request.reference == reference:
                self.table.setCurrentIndex(self.model.index(row, 0))
                return True
        return False

    def _selection_changed(self, *_args: object) -> None:
        request = self.selected()
        self.log_button.setEnabled(
            self.can_read_log and request is not None and request.kind in sar.PACK_KINDS
        )
        is_open = self.can_prepare and request is not None and request.status is RequestStatus.OPEN
        self.prepare_button.setEnabled(
            is_open and request is not None and request.kind in sar.PACK_KINDS
        )
        started = is_open and request is not None and request.identity_confirmed_on is not None
        paused = request is not None and request.paused
        self.confirm_button.setEnabled(is_open and not started)
        self.pause_button.setEnabled(started and not paused)
        self.resume_button.setEnabled(is_open and paused)
        self.extend_button.setEnabled(
            started and request is not None and request.extension_told_on is None
        )
        self.close_button.setEnabled(is_open and not paused)
        self.edit_button.setEnabled(is_open)
        self.erasure_button.setEnabled(
            self.can_propose_erasure and request is not None and granted_erasure(request)
        )
        set_message(self.team_label, self.register.team_notes.get(request.id) if request else None)
        self.resolve_button.setVisible(self.can_resolve and bool(self.register.conflicted))
        self.resolve_button.setEnabled(
            self.can_resolve
            and request is not None
            and request.reference in self.register.conflicted
        )

    def open_step(self, dialog_class: type[RequestStepDialog], done: str) -> None:
        """Open the dialog for one step on the selected request; refresh once it is saved."""
        request = self.selected()
        if request is None or not self.can_prepare:
            return
        dialog = dialog_class(self.calls, request, self, lock_action=self.lock_action)
        dialog.draft_kind = DRAFT_PREFIX + dialog_class.__name__
        dialog.draft_target = request.id
        self.dialog = dialog

        def saved(updated: object) -> None:
            if isinstance(updated, RightsRequest):
                due = updated.deadline
                text = translate("SarPage", "Request {reference}: {done}.").format(
                    reference=updated.reference, done=done
                )
                if due is not None and updated.status is RequestStatus.OPEN:
                    text += " " + translate("SarPage", "Due {date}.").format(date=labels.date(due))
                set_message(self.status_label, text)
            self.refresh()

        dialog.saved.connect(saved)
        dialog.open()

    def edit_request(self) -> None:
        """Change the selected open request's details (rights.update_request)."""
        request = self.selected()
        if request is None or not self.can_prepare or request.status is not RequestStatus.OPEN:
            return
        dialog = NewRequestDialog(self.calls, self, lock_action=self.lock_action, request=request)
        self.dialog = dialog

        def saved(updated: object) -> None:
            if isinstance(updated, RightsRequest):
                set_message(
                    self.status_label,
                    translate("SarPage", "Request {reference} changed.").format(
                        reference=updated.reference
                    ),
                )
            self.refresh()

        dialog.saved.connect(saved)
        dialog.open()

    def propose_erasure(self) -> None:
        """Show what the selected granted erasure request destroys, to propose carrying it out."""
        request = self.selected()
        if request is None or not self.can_propose_erasure or not granted_erasure(request):
            return
        request_id = request.id
        self.calls.run(
            lambda s: retention.erasure_plan(s, request_id),
            self._plan_arrived,
            self._failed,
            receiver=self,
        )

    def _plan_arrived(self, plan: retention.ErasurePlan) -> None:
        dialog = ErasureDialog(self.calls, [plan], self, lock_action=self.lock_action)
        self.dialog = dialog

        def saved(_value: object) -> None:
            set_message(
                self.status_label,
                translate(
                    "SarPage",
                    "Request {reference}: erasure proposed; an admin reviews it and carries it "
                    "out from the Retention page.",
                ).format(reference=plan.reference),
            )
            self.refresh()

        dialog.saved.connect(saved)
        dialog.open()

    def show_redaction_log(self) -> None:
        request = self.selected()
        if request is None or not self.can_read_log:
            return
        dialog = RedactionLogDialog(self.calls, request, self, lock_action=self.lock_action)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.open()

    def new_request(self) -> None:
        if not self.can_prepare:
            return
        dialog = NewRequestDialog(self.calls, self, lock_action=self.lock_action)
        dialog.draft_kind = DRAFT_PREFIX + NewRequestDialog.__name__
        self.dialog = dialog

        def saved(request: object) -> None:
            if isinstance(request, RightsRequest):
                set_message(
                    self.status_label,
                    translate("SarPage", "Request {reference} added to the register.").format(
                        reference=request.reference
                    ),
                )
            self.refresh()

        dialog.saved.connect(saved)
        dialog.open()

    def reopen_draft(self, draft: Draft) -> bool:
        """Open again a register form kept at a lock, with what was typed in it; False when it
        is not this page's, the register has not arrived, or the request is gone."""
        if not draft.kind.startswith(DRAFT_PREFIX) or not self.can_prepare:
            return False
        name = draft.kind.removeprefix(DRAFT_PREFIX)
        before = self.dialog
        if name == SignOffDialog.__name__:
            return self._reopen_sign_off(draft)
        if name == NewRequestDialog.__name__:
            self.new_request()
        else:
            step = next((s for s in self.step_buttons if s[1].__name__ == name), None)
            chosen = select_record(self.table, self.model, lambda q: q.id == draft.target_id)
            if step is None or not chosen:
                return False
            self.open_step(step[1], step[2])
        dialog = self.dialog
        if not isinstance(dialog, FormDialog) or dialog is before:
            return False
        dialog.restore_draft(draft.id, draft.fields)
        return True

    def _reopen_sign_off(self, draft: Draft) -> bool:
        """A sign-off kept at a lock: its pack opens again, then the sign-off on what the
        pack holds now, with the note (and reason) as typed."""
        if not select_record(self.table, self.model, lambda q: q.id == draft.target_id):
            return False
        self.prepare_pack()
        pack = self.dialog
        if not isinstance(pack, PackDialog):
            return False
        pack.sign_off(then=lambda signing: signing.restore_draft(draft.id, draft.fields))
        return True

    def resolve_conflict(self) -> None:
        """Open the first open conflict on the selected request, to choose the value kept."""
        request = self.selected()
        if request is None or not self.can_resolve:
            return
        reference = request.reference

        def arrived(found: list[RegisterConflict]) -> None:
            held = [c for c in found if c.reference == reference]
            if not held:
                self.refresh()
                return
            dialog = RegisterConflictDialog(self.calls, held[0], self, lock_action=self.lock_action)
            dialog.saved.connect(lambda _value: self.refresh())
            self.dialog = dialog
            dialog.open()

        self.calls.run(
            rights.register_conflicts,
            arrived,
            self._failed,
            receiver=self,
            label=translate("SarPage", "Reading the conflict…"),
        )

    def prepare_pack(self) -> None:
        request = self.selected()
        if request is None or not self.can_prepare:
            return
        dialog = PackDialog(self.calls, request, self, lock_action=self.lock_action)
        dialog.choose_folder = self.choose_folder
        dialog.choose_pdf_file = self.choose_pdf_file
        dialog.ask_printer = self.ask_printer
        self.dialog = dialog
        dialog.open()
        dialog.load()

    def _ask_folder(self) -> str:
        return QFileDialog.getExistingDirectory(
            self, translate("SarPage", "Choose a folder for the pack")
        )

    def _ask_pdf_file(self, suggested: str) -> str:
        path, _filter = QFileDialog.getSaveFileName(
            self,
            translate("SarPage", "Save the pack's PDF (not encrypted)"),
            suggested,
            translate("SarPage", "PDF files (*.pdf)"),
        )
        return path

    def clear(self) -> None:
        self.model.clear()
