"""The breach log (the DPO): every personal data breach with its 72-hour clock counting down,
and the form that records and updates one. The clocks are worked out again every half minute
on the session's clock, without reading the store.

Times are typed and shown on UK clocks. In the hour that happens twice when the clocks go back,
the form asks which of the two was meant, so every time is kept without doubt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QTime, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.errors import InvalidInput
from app.models.breaches import Breach, Clock, ClockState, Facts, PeopleTold, Risk, Source, Version
from app.models.drafts import Draft
from app.services import breaches
from app.services.session import UK, Session
from app.ui import labels
from app.ui.errors import error_sentence
from app.ui.forms import (
    ChoiceBox,
    DateTimeField,
    FieldInvalid,
    FormDialog,
    NumberBox,
    button,
    check_box,
    date_edit,
    date_of,
    datetime_edit,
    enum_combo,
    spin_box,
    text_box,
)
from app.ui.forms import (
    confirm as confirm_box,
)
from app.ui.i18n import translate
from app.ui.record_table import Column, RecordTable, select_record
from app.ui.store_calls import StoreCalls
from app.ui.widgets import fit_columns, heading, message_label, paragraph, set_message, table_view

DRAFT_NEW = "breach_new"
DRAFT_EDIT = "breach_edit"
TICK_MS = 30_000  # the clocks count minutes: twice a minute keeps them right
NOT_KNOWN = -1  # a count box at its lowest reads "Not known"


# -- words -----------------------------------------------------------------------------------------


def risk_label(value: Risk) -> str:
    return {
        Risk.NOT_ASSESSED: translate("BreachLog", "Not assessed yet"),
        Risk.NO_RISK: translate("BreachLog", "No risk to people: not reported"),
        Risk.RISK: translate("BreachLog", "A risk to people: report to the ICO"),
        Risk.HIGH_RISK: translate("BreachLog", "High risk: report, and tell the people affected"),
    }[value]


def risk_short(value: Risk) -> str:
    """The risk as the log's column shows it."""
    return {
        Risk.NOT_ASSESSED: translate("BreachLog", "Not assessed"),
        Risk.NO_RISK: translate("BreachLog", "No risk"),
        Risk.RISK: translate("BreachLog", "Risk"),
        Risk.HIGH_RISK: translate("BreachLog", "High risk"),
    }[value]


def told_label(value: PeopleTold) -> str:
    return {
        PeopleTold.NOT_DECIDED: translate("BreachLog", "Not decided yet"),
        PeopleTold.TOLD: translate("BreachLog", "Told"),
        PeopleTold.NOT_TOLD: translate("BreachLog", "Not told (give the reason)"),
    }[value]


def span(minutes: int) -> str:
    """41 h 12 min, 3 h, 12 min."""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return translate("BreachLog", "{h} h {m} min").format(h=hours, m=rest)
    if hours:
        return translate("BreachLog", "{h} h").format(h=hours)
    return translate("BreachLog", "{m} min").format(m=rest)


def uk_time(moment: dt.datetime, *, year: bool = True) -> str:
    """A moment on a UK clock: 2 Dec 2026 10:42 (BST or GMT added in the hour that happens
    twice)."""
    local = moment.astimezone(UK)
    day = labels.date(local.date())
    if not year:
        day = day.rsplit(" ", 1)[0]
    text = f"{day} {local:%H:%M}"
    if breaches.is_ambiguous(local.date(), local.hour, local.minute):
        text += f" {local.tzname()}"
    return text


def clock_text(breach: Breach, clock: Clock) -> str:
    """Where the breach's clock stands, as the log shows it."""
    t = translate
    facts = breach.facts
    if clock.state is ClockState.REPORTED and facts.reported_at is not None:
        text = t("BreachLog", "Reported {when}, ICO ref {reference}").format(
            when=uk_time(facts.reported_at, year=False), reference=facts.ico_reference
        )
        return text + (t("BreachLog", " (after the 72 hours)") if clock.late else "")
    if clock.state is ClockState.NOT_REPORTABLE:
        return t("BreachLog", "Not reportable: {reason}").format(reason=facts.not_reported_reason)
    if clock.state is ClockState.OVERDUE:
        return t("BreachLog", "Overdue by {span}").format(span=span(clock.minutes))
    return t("BreachLog", "{span} left to report").format(span=span(clock.minutes))


def _first_line(text: str, most: int = 70) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= most else line[: most - 1] + "…"


# -- the form --------------------------------------------------------------------------------------


class UkTime:
    """A date and time on a UK clock, with the question asked only in the hour that happens
    twice: which of the two it was."""

    def __init__(self, form: FormDialog, label: str, when: dt.datetime) -> None:
        t = translate
        self.rows = form.form  # the column the two rows are in
        self.field: DateTimeField = datetime_edit(label.replace("&", ""), when.astimezone(UK))
        form.add_field(label, self.field)
        self.which = ChoiceBox(t("BreachDialog", "Which time: the clocks went back"))
        self.which.add_choice(t("BreachDialog", "Choose: the clocks went back that night"), None)
        self.which.add_choice(t("BreachDialog", "The first, in summer time (BST)"), False)
        self.which.add_choice(t("BreachDialog", "The second, in winter time (GMT)"), True)
        form.add_field(t("BreachDialog", "Which time"), self.which)
        self.field.changed.connect(self.update)
        self.update()

    def _reading(self) -> tuple[dt.date, int, int] | None:
        day = self.field.date_field.date()
        if day is None:
            return None
        time = self.field.time_field.time()
        return day, time.hour(), time.minute()

    def ambiguous(self) -> bool:
        reading = self._reading()
        return reading is not None and breaches.is_ambiguous(*reading)

    def update(self) -> None:
        self.rows.setRowVisible(self.which, self.ambiguous())

    def set_value(self, moment: dt.datetime) -> None:
        local = moment.astimezone(UK)
        self.field.date_field.set_date(local.date())
        self.field.time_field.setTime(QTime(local.hour, local.minute))
        self.which.set_value(bool(local.fold) if self.ambiguous() else None)
        self.update()

    def value(self) -> dt.datetime:
        """The moment typed, or FieldInvalid under the field that needs attention."""
        day = date_of(self.field.date_field)
        time = self.field.time_field.time()
        try:
            return breaches.uk_moment(day, time.hour(), time.minute(), self.which.value())
        except InvalidInput as exc:
            field: QWidget = self.which if self.ambiguous() else self.field
            raise FieldInvalid(field, str(exc)) from None


def _count(box: NumberBox) -> int | None:
    return None if box.value() == NOT_KNOWN else box.value()


class BreachDialog(FormDialog):
    """Record a breach, or (given ``breach``) save what is known now as a new version. Without
    ``can_decide`` (an admin reporting a lost laptop) only the facts are asked for: the risk
    and the decisions about reporting are the DPO's."""

    def __init__(
        self,
        calls: StoreCalls,
        parent: QWidget | None = None,
        *,
        breach: Breach | None = None,
        facts: Facts | None = None,
        source: Source = Source.RECORDED,
        can_decide: bool = True,
        lock_action: QAction | None = None,
    ) -> None:
        t = translate
        editing = breach is not None
        super().__init__(
            calls,
            t("BreachDialog", "Update breach {reference}").format(reference=breach.reference)
            if breach is not None
            else t("BreachDialog", "Record a breach"),
            parent,
            intro=t(
                "BreachDialog",
                "Describe people by kind and number, never by name: the log is about the "
                "service. The 72-hour clock runs from when the service became aware.",
            ),
            save_text=t("BreachDialog", "&Save the changes")
            if editing
            else t("BreachDialog", "&Save the breach"),
            lock_action=lock_action,
        )
        self.breach = breach
        self.source = source
        self.can_decide = can_decide
        now = calls.moment()
        known = breach.facts if breach is not None else facts
        self.aware = UkTime(self, t("BreachDialog", "&Became aware"), now)
        self.what_field = text_box(t("BreachDialog", "What happened"), lines=3)
        self.add_field(t("BreachDialog", "&What happened"), self.what_field)
        self.categories_field = text_box(t("BreachDialog", "Kinds of data"), lines=2)
        self.add_field(t("BreachDialog", "&Kinds of data"), self.categories_field)
        if not can_decide:
            self.start_column()  # two columns of facts, as wide as the DPO's form
        self.people_field = self._count_box(t("BreachDialog", "People affected, roughly"))
        self.add_field(t("BreachDialog", "&People affected (about)"), self.people_field)
        self.records_field = self._count_box(t("BreachDialog", "Records affected, roughly"))
        self.add_field(t("BreachDialog", "Rec&ords affected (about)"), self.records_field)
        self.consequences_field = text_box(t("BreachDialog", "Likely consequences"), lines=2)
        self.add_field(t("BreachDialog", "Likely &consequences"), self.consequences_field)
        self.measures_field = text_box(t("BreachDialog", "Measures taken"), lines=2)
        self.add_field(t("BreachDialog", "&Measures taken"), self.measures_field)

        for box in (
            self.what_field,
            self.categories_field,
            self.consequences_field,
            self.measures_field,
        ):
            box.setMinimumWidth(box.fontMetrics().horizontalAdvance("M") * 18)
        if can_decide:
            self.start_column()
            self.risk_field = enum_combo(t("BreachDialog", "Risk to people"), Risk, risk_label)
            self.add_field(t("BreachDialog", "R&isk to people"), self.risk_field)
            self.not_reported_field = self.line(t("BreachDialog", "W&hy not reported"))
            self.reported_field = check_box(t("BreachDialog", "Repo&rted to the ICO"))
            self.add_field("", self.reported_field)
            self.reported_at = UkTime(self, t("BreachDialog", "Reported &at"), now)
            self.ico_field = self.line(t("BreachDialog", "ICO r&eference"))
            self.delay_field = self.line(t("BreachDialog", "Reasons for &delay"))
            self.told_field = enum_combo(
                t("BreachDialog", "People affected told"), PeopleTold, told_label
            )
            self.add_field(t("BreachDialog", "People &told"), self.told_field)
            self.told_on_field = date_edit(t("BreachDialog", "Told on"), calls.today())
            self.add_field(t("BreachDialog", "Told o&n"), self.told_on_field)
            self.not_told_field = self.line(t("BreachDialog", "&Grounds for not telling"))
            self.reported_field.toggled.connect(self._enable)
            self.told_field.currentIndexChanged.connect(self._enable)
            self.risk_field.currentIndexChanged.connect(self._enable)
        self.reason_field = self.line(t("BreachDialog", "Wh&y the time was corrected"))
        self.form.setRowVisible(self.reason_field, editing)
        if known is not None:
            self._fill(known)
        self._enable()
        self.what_field.setFocus()

    def _count_box(self, name: str) -> NumberBox:
        box = spin_box(name, NOT_KNOWN, 10_000_000, NOT_KNOWN)
        box.setSpecialValueText(translate("BreachDialog", "Not known"))
        return box

    def _enable(self, *_args: object) -> None:
        if not self.can_decide:
            return
        reported = self.reported_field.isChecked()
        for widget in (self.reported_at.field, self.reported_at.which, self.ico_field):
            widget.setEnabled(reported)
        self.delay_field.setEnabled(reported)
        self.not_reported_field.setEnabled(not reported and self.risk_field.value() is Risk.NO_RISK)
        told = self.told_field.value()
        self.told_on_field.setEnabled(told is PeopleTold.TOLD)
        self.not_told_field.setEnabled(told is PeopleTold.NOT_TOLD)

    def _fill(self, facts: Facts) -> None:
        self.aware.set_value(facts.aware_at)
        self.what_field.setPlainText(facts.what_happened)
        self.categories_field.setPlainText(facts.data_categories)
        self.people_field.setValue(
            NOT_KNOWN if facts.people_affected is None else facts.people_affected
        )
        self.records_field.setValue(
            NOT_KNOWN if facts.records_affected is None else facts.records_affected
        )
        self.consequences_field.setPlainText(facts.consequences)
        self.measures_field.setPlainText(facts.measures)
        if not self.can_decide:
            return
        self.risk_field.set_value(facts.risk)
        self.not_reported_field.setText(facts.not_reported_reason)
        self.reported_field.setChecked(facts.reported_at is not None)
        if facts.reported_at is not None:
            self.reported_at.set_value(facts.reported_at)
        self.ico_field.setText(facts.ico_reference)
        self.delay_field.setText(facts.delay_reason)
        self.told_field.set_value(facts.people_told)
        if facts.people_told_on is not None:
            self.told_on_field.set_date(facts.people_told_on)
        self.not_told_field.setText(facts.not_told_reason)

    def live_problem(self) -> FieldInvalid | None:
        if not self.what_field.toPlainText().strip():
            return FieldInvalid(self.what_field, translate("BreachDialog", "Say what happened."))
        if (
            self.can_decide
            and self.risk_field.value() is Risk.NO_RISK
            and not self.reported_field.isChecked()
            and not self.not_reported_field.text().strip()
        ):
            return FieldInvalid(
                self.not_reported_field,
                translate(
                    "BreachDialog",
                    "Give the reason for not reporting it to the ICO: why the breach is "
                    "unlikely to result in a risk to people.",
                ),
            )
        return None

    def facts(self) -> Facts:
        """What the form says, or FieldInvalid for the field to put right."""
        facts = Facts(
            aware_at=self.aware.value(),
            what_happened=self.what_field.toPlainText(),
            data_categories=self.categories_field.toPlainText(),
            people_affected=_count(self.people_field),
            records_affected=_count(self.records_field),
            consequences=self.consequences_field.toPlainText(),
            measures=self.measures_field.toPlainText(),
        )
        if not self.can_decide:
            return facts
        reported = self.reported_field.isChecked()
        told = self.told_field.value()
        return Facts(
            **{
                **facts.__dict__,
                "risk": self.risk_field.value(),
                "not_reported_reason": self.not_reported_field.text(),
                "reported_at": self.reported_at.value() if reported else None,
                "ico_reference": self.ico_field.text() if reported else "",
                "delay_reason": self.delay_field.text() if reported else "",
                "people_told": told,
                "people_told_on": date_of(self.told_on_field) if told is PeopleTold.TOLD else None,
                "not_told_reason": self.not_told_field.text(),
            }
        )

    def make_call(self) -> Callable[[Session], object]:
        facts = self.facts()
        if self.breach is not None:
            breach_id, reason = self.breach.id, self.reason_field.text()
            return lambda s: breaches.update_breach(s, breach_id, facts, reason)
        source = self.source
        return lambda s: breaches.record_breach(s, facts, source=source)


def _fact_lines(facts: Facts) -> list[tuple[str, str]]:
    """Each fact with its name, as the history lists it (empty ones left out)."""
    t = translate
    count = t("BreachLog", "not known")
    lines = [
        (t("BreachLog", "Became aware"), uk_time(facts.aware_at)),
        (t("BreachLog", "What happened"), facts.what_happened),
        (t("BreachLog", "Kinds of data"), facts.data_categories),
        (
            t("BreachLog", "People affected"),
            count if facts.people_affected is None else str(facts.people_affected),
        ),
        (
            t("BreachLog", "Records affected"),
            count if facts.records_affected is None else str(facts.records_affected),
        ),
        (t("BreachLog", "Likely consequences"), facts.consequences),
        (t("BreachLog", "Measures taken"), facts.measures),
        (t("BreachLog", "Risk"), risk_label(facts.risk)),
        (t("BreachLog", "Why not reported"), facts.not_reported_reason),
        (
            t("BreachLog", "Reported"),
            uk_time(facts.reported_at) if facts.reported_at is not None else "",
        ),
        (t("BreachLog", "ICO reference"), facts.ico_reference),
        (t("BreachLog", "Reasons for delay"), facts.delay_reason),
        (t("BreachLog", "People told"), told_label(facts.people_told)),
        (
            t("BreachLog", "Told on"),
            labels.date(facts.people_told_on) if facts.people_told_on else "",
        ),
        (t("BreachLog", "Grounds for not telling"), facts.not_told_reason),
    ]
    return [(name, value) for name, value in lines if value]


class HistoryDialog(QDialog):
    """Every version of one breach, the first first: what changed, who saved it and why."""

    def __init__(
        self, breach: Breach, versions: list[Version], names: dict[int, str], parent: QWidget
    ) -> None:
        super().__init__(parent)
        t = translate
        self.setWindowTitle(t("BreachLog", "Safecase"))
        title = t("BreachLog", "History of {reference}").format(reference=breach.reference)
        self.setAccessibleName(title)
        lines: list[str] = []
        previous: Facts | None = None
        for n, version in enumerate(versions, start=1):
            lines.append(
                t("BreachLog", "Version {n}, saved {when} by {who}").format(
                    n=n,
                    when=labels.moment(version.changed_at),
                    who=labels.user(names, version.changed_by),
                )
            )
            for name, value in _fact_lines(version.facts):
                if previous is None or dict(_fact_lines(previous)).get(name) != value:
                    lines.append(f"  {name}: {value}")
            if version.change_reason:
                lines.append(
                    "  " + t("BreachLog", "Why: {reason}").format(reason=version.change_reason)
                )
            if version.closed_at:
                lines.append("  " + t("BreachLog", "Closed."))
            previous = version.facts
            lines.append("")
        self.text = QPlainTextEdit("\n".join(lines))
        self.text.setReadOnly(True)
        self.text.setAccessibleName(title)
        close = button(t("BreachLog", "Close"))
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(title))
        layout.addWidget(self.text, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        self.resize(640, 420)


# -- the page --------------------------------------------------------------------------------------


class BreachLogPage(QWidget):
    """The log, newest awareness first, each breach's clock counting down."""

    records_loaded = Signal()  # the log arrived (a form kept at a lock may open again)
    overdue_changed = Signal()  # a clock ran out, or the log changed what is overdue

    def __init__(
        self,
        calls: StoreCalls,
        names: dict[int, str] | None = None,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(parent)
        self.calls = calls
        self.names = names if names is not None else {}
        self.lock_action = lock_action
        self.dialog: QDialog | None = None
        self.now = calls.moment()
        self._overdue: frozenset[int] = frozenset()
        t = translate
        self.setAccessibleName(t("BreachLog", "Breach log"))
        self.model: RecordTable[Breach] = RecordTable(
            [
                Column(t("BreachLog", "Reference"), lambda b: b.reference),
                Column(t("BreachLog", "Became aware"), lambda b: uk_time(b.facts.aware_at)),
                Column(t("BreachLog", "72-hour clock"), self.clock_of, self.clock_of),
                Column(
                    t("BreachLog", "Risk"),
                    lambda b: risk_short(b.facts.risk),
                    lambda b: risk_label(b.facts.risk),
                ),
                Column(t("BreachLog", "People told"), self._told),
                Column(
                    t("BreachLog", "Status"),
                    lambda b: t("BreachLog", "Closed") if b.closed else t("BreachLog", "Open"),
                ),
                Column(
                    t("BreachLog", "What happened"),
                    lambda b: _first_line(b.facts.what_happened),
                    lambda b: b.facts.what_happened,
                ),
            ],
            self,
            flagged=lambda b: b.id in self._overdue,
        )
        self.table = table_view(t("BreachLog", "Breaches"), self.model)
        self.new_button = button(t("BreachLog", "&New breach…"))
        self.update_button = button(t("BreachLog", "&Update…"))
        self.close_button = button(t("BreachLog", "Close the &breach…"))
        self.history_button = button(t("BreachLog", "Histor&y…"))
        self.refresh_button = button(t("BreachLog", "Refres&h"))
        self.status_label = message_label(t("BreachLog", "Status"), "status")
        self.problem_label = message_label(t("BreachLog", "Problem"))
        row = QHBoxLayout()
        for widget in (
            self.new_button,
            self.update_button,
            self.close_button,
            self.history_button,
            self.refresh_button,
        ):
            row.addWidget(widget)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(t("BreachLog", "Breach log")))
        layout.addWidget(
            paragraph(
                t(
                    "BreachLog",
                    "Every personal data breach, reported to the ICO or not. A breach that is "
                    "a risk to people must be reported within 72 hours of the service becoming "
                    "aware of it, nights and weekends included; when the risk is high, the "
                    "people affected are told too. Nothing here is ever deleted: an update "
                    "keeps the earlier versions.",
                )
            )
        )
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problem_label)
        self.new_button.clicked.connect(self.new_breach)
        self.update_button.clicked.connect(self.update_breach)
        self.close_button.clicked.connect(self.close_breach)
        self.history_button.clicked.connect(self.show_history)
        self.refresh_button.clicked.connect(self.refresh)
        self.table.selectionModel().currentRowChanged.connect(self._selection_changed)
        self.table.activated.connect(lambda _i: self.update_breach())  # Enter or double-click
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self._selection_changed()

    # -- the clocks ---------------------------------------------------------------------------

    def clock_of(self, breach: Breach) -> str:
        return clock_text(breach, breach.clock(self.now))

    def _told(self, breach: Breach) -> str:
        facts = breach.facts
        if facts.people_told is PeopleTold.TOLD and facts.people_told_on is not None:
            return translate("BreachLog", "Told {date}").format(
                date=labels.date(facts.people_told_on)
            )
        if facts.risk is Risk.HIGH_RISK and facts.people_told is PeopleTold.NOT_DECIDED:
            return translate("BreachLog", "To decide: high risk")
        if facts.people_told is PeopleTold.NOT_DECIDED:
            return ""
        return told_label(facts.people_told)

    def tick(self) -> None:
        """Work every clock out again on the session's clock (no store call)."""
        self.now = self.calls.moment()
        overdue = frozenset(
            b.id
            for b in self.model.records
            if not b.closed and b.clock(self.now).state is ClockState.OVERDUE
        )
        changed = overdue != self._overdue
        self._overdue = overdue
        self.model.texts_changed()
        if changed:
            self.overdue_changed.emit()

    # -- reading --------------------------------------------------------------------------------

    def start(self) -> None:
        self.refresh()
        self.timer.start()

    def refresh(self) -> None:
        self.calls.run(
            breaches.breach_log,
            self._arrived,
            self._failed,
            receiver=self,
            label=translate("BreachLog", "Reading the breach log…"),
        )

    def _arrived(self, found: list[Breach]) -> None:
        chosen = self.selected()
        self.model.set_records(found)
        self.tick()
        fit_columns(self.table)
        if chosen is not None:
            select_record(self.table, self.model, lambda b: b.id == chosen.id)
        set_message(self.problem_label, None)
        self._selection_changed()
        self.records_loaded.emit()

    def _failed(self, error: BaseException) -> None:
        set_message(self.problem_label, error_sentence(error))

    def selected(self) -> Breach | None:
        index = self.table.currentIndex()
        return self.model.record(index.row()) if index.isValid() else None

    def _selection_changed(self, *_args: object) -> None:
        breach = self.selected()
        is_open = breach is not None and not breach.closed
        self.update_button.setEnabled(is_open)
        self.close_button.setEnabled(is_open)
        self.history_button.setEnabled(breach is not None)

    # -- changing -------------------------------------------------------------------------------

    def _open_form(self, dialog: BreachDialog, done: Callable[[Breach], str]) -> None:
        self.dialog = dialog

        def saved(value: object) -> None:
            if isinstance(value, Breach):
                set_message(self.status_label, done(value))
            self.refresh()

        dialog.saved.connect(saved)
        dialog.open()

    def new_breach(self) -> None:
        dialog = BreachDialog(self.calls, self, lock_action=self.lock_action)
        dialog.draft_kind = DRAFT_NEW
        self._open_form(
            dialog,
            lambda b: translate(
                "BreachLog", "Breach {reference} recorded; its clock runs to {when}."
            ).format(reference=b.reference, when=uk_time(b.facts.deadline)),
        )

    def update_breach(self) -> None:
        breach = self.selected()
        if breach is None or breach.closed:
            return
        dialog = BreachDialog(self.calls, self, breach=breach, lock_action=self.lock_action)
        dialog.draft_kind = DRAFT_EDIT
        dialog.draft_target = breach.id
        self._open_form(
            dialog,
            lambda b: translate("BreachLog", "Breach {reference} updated.").format(
                reference=b.reference
            ),
        )

    def close_breach(self) -> None:
        breach = self.selected()
        if breach is None or breach.closed:
            return
        breach_id = breach.id
        t = translate
        confirm_box(
            self,
            t("BreachLog", "Close the breach"),
            t(
                "BreachLog",
                "Close breach {reference}? Its record stays in the log and can no longer change.",
            ).format(reference=breach.reference),
            t("BreachLog", "&Close it"),
            lambda: self._run_close(breach_id),
            lock_action=self.lock_action,
        )

    def _run_close(self, breach_id: int) -> None:
        self.calls.run(
            lambda s: breaches.close_breach(s, breach_id),
            self._closed,
            self._failed,
            receiver=self,
        )

    def _closed(self, breach: Breach) -> None:
        set_message(
            self.status_label,
            translate("BreachLog", "Breach {reference} closed.").format(reference=breach.reference),
        )
        self.refresh()

    def show_history(self) -> None:
        breach = self.selected()
        if breach is None:
            return
        breach_id = breach.id
        self.calls.run(
            lambda s: breaches.breach_history(s, breach_id),
            lambda versions: self._history_arrived(breach, versions),
            self._failed,
            receiver=self,
        )

    def _history_arrived(self, breach: Breach, versions: list[Version]) -> None:
        dialog = HistoryDialog(breach, versions, self.names, self)
        if self.lock_action is not None:
            dialog.addAction(self.lock_action)
        self.dialog = dialog
        dialog.open()

    def reopen_draft(self, draft: Draft) -> bool:
        """Open again a breach form kept at a lock, with what was typed in it."""
        before = self.dialog
        if draft.kind == DRAFT_NEW:
            self.new_breach()
        elif draft.kind == DRAFT_EDIT:
            if not select_record(self.table, self.model, lambda b: b.id == draft.target_id):
                return False
            self.update_breach()
        else:
            return False
        dialog = self.dialog
        if not isinstance(dialog, FormDialog) or dialog is before:
            return False
        dialog.restore_draft(draft.id, draft.fields)
        return True

    def clear(self) -> None:
        self.timer.stop()
        self.model.clear()
