"""The Risk tab: the SafeLives DASH checklist with its live score and the MARAC criteria.

The score is worked out by ``risk.assess`` as each answer is given (a pure function: nothing is
read or saved), with unanswered questions counted as don't-know so far. Saving records the
checklist through ``risk.record_dash``, which sets the case's risk level.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.errors import InvalidInput
from app.models import risk as risk_model
from app.models.records import Answer, DashResult, RiskLevel
from app.services import risk
from app.ui import labels
from app.ui.errors import error_sentence
from app.ui.forms import (
    button,
    date_edit,
    enum_combo,
    field_value,
    set_field_value,
    spin_box,
)
from app.ui.i18n import translate
from app.ui.widgets import add_row, message_label, set_message

ANSWERS = (Answer.YES, Answer.NO, Answer.DONT_KNOW)


class DashQuestion(QWidget):
    """One question: yes, no or don't know, and where the answer came from."""

    changed = Signal()

    def __init__(self, number: int, text: str) -> None:
        super().__init__()
        self.number = number
        self.setAccessibleName(translate("DashForm", "Question {n}").format(n=number))
        self.label = QLabel(f"{number}. {text}")
        self.label.setWordWrap(True)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[Answer, QRadioButton] = {}
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for answer in ANSWERS:
            radio = QRadioButton(labels.answer(answer))
            radio.setAccessibleName(
                translate("DashForm", "Question {n}: {answer}").format(
                    n=number, answer=labels.answer(answer)
                )
            )
            self.group.addButton(radio)
            self.buttons[answer] = radio
            row.addWidget(radio)
        self.source_field = QLineEdit()
        self.source_field.setAccessibleName(
            translate("DashForm", "Question {n}: source, if not the person").format(n=number)
        )
        self.source_field.setPlaceholderText(translate("DashForm", "Source, if not the person"))
        row.addWidget(self.source_field, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addWidget(self.label)
        layout.addLayout(row)
        self.group.buttonToggled.connect(lambda *_: self.changed.emit())
        self.source_field.textEdited.connect(lambda *_: self.changed.emit())

    def answer(self) -> Answer | None:
        for answer, radio in self.buttons.items():
            if radio.isChecked():
                return answer
        return None

    def set_answer(self, answer: Answer | None) -> None:
        if answer is None:
            self.group.setExclusive(False)
            for radio in self.buttons.values():
                radio.setChecked(False)
            self.group.setExclusive(True)
        else:
            self.buttons[answer].setChecked(True)


class DashForm(QWidget):
    """The checklist, the live score, the MARAC criteria and Save."""

    save_requested = Signal()
    marac_requested = Signal()

    def __init__(self, today: Callable[[], dt.date], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.today = today  # the session's date: the form's default days
        self.setAccessibleName(translate("DashForm", "DASH risk checklist"))
        self._dirty = False
        self._last_marac: dt.date | None = None
        self._latest: DashResult | None = None
        self.live_level: RiskLevel = RiskLevel.STANDARD
        self.live_yes = 0
        self.live_reasons: tuple[str, ...] = ()

        self.latest_label = QLabel()
        self.latest_label.setWordWrap(True)
        self.latest_label.setAccessibleName(translate("DashForm", "Last checklist"))
        self.copy_button = button(translate("DashForm", "Start from the last chec&klist"))
        self.marac_button = button(translate("DashForm", "Record a MARAC referral…"))

        self.questions = [
            DashQuestion(i + 1, translate("dash", text))
            for i, text in enumerate(risk_model.QUESTIONS)
        ]
        questions = QWidget()
        grid = QGridLayout(questions)
        for i, question in enumerate(self.questions):
            grid.addWidget(question, i, 0)
            question.changed.connect(self._changed)
            if i:
                QWidget.setTabOrder(
                    self.questions[i - 1].source_field, question.buttons[Answer.YES]
                )
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setWidget(questions)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setAccessibleName(translate("DashForm", "The 24 questions"))
        self.scroll_area = area

        self.callouts_field = spin_box(
            translate("DashForm", "Police call-outs in the last 12 months"), 0, 999, 0
        )
        day = today()
        self.incident_field = date_edit(translate("DashForm", "Date of the latest incident"), day)
        self.completed_field = date_edit(translate("DashForm", "Checklist completed on"), day)
        self.judgement_field = enum_combo(
            translate("DashForm", "Professional judgement"),
            (RiskLevel.MEDIUM, RiskLevel.HIGH),
            labels.risk,
            none_text=translate("DashForm", "None: go by the score"),
        )
        self.judgement_reason_field = QLineEdit()
        self.judgement_reason_field.setAccessibleName(
            translate("DashForm", "Reason for the professional judgement")
        )
        details = QFormLayout()
        details.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        add_row(
            details, translate("DashForm", "Police call-outs, last &12 months"), self.callouts_field
        )
        add_row(details, translate("DashForm", "Latest &incident"), self.incident_field)
        add_row(details, translate("DashForm", "Com&pleted on"), self.completed_field)
        add_row(details, translate("DashForm", "Professional &judgement"), self.judgement_field)
        add_row(details, translate("DashForm", "Jud&gement reason"), self.judgement_reason_field)

        self.score_label = QLabel()
        self.score_label.setObjectName("dashScore")
        self.score_label.setAccessibleName(translate("DashForm", "Live score"))
        self.score_label.setWordWrap(True)
        self.criteria_label = QLabel()
        self.criteria_label.setObjectName("maracCriteria")
        self.criteria_label.setAccessibleName(translate("DashForm", "MARAC referral criteria"))
        self.criteria_label.setWordWrap(True)
        self.criteria_label.setTextFormat(Qt.TextFormat.PlainText)
        self.problem_label = message_label(translate("DashForm", "Checklist problem"))
        self.save_button = QPushButton(translate("DashForm", "Sa&ve the checklist"))
        self.save_button.setAccessibleName(translate("DashForm", "Save the checklist"))
        self.save_button.setAutoDefault(False)

        top = QHBoxLayout()
        top.addWidget(self.latest_label, 1)
        top.addWidget(self.copy_button)
        top.addWidget(self.marac_button)
        side_panel = QWidget()
        side = QVBoxLayout(side_panel)
        side.addWidget(self.score_label)
        side.addWidget(self.criteria_label)
        side.addWidget(self.problem_label)
        side.addLayout(details)
        side.addWidget(self.save_button)
        side.addStretch(1)
        side_area = QScrollArea()
        side_area.setWidgetResizable(True)
        side_area.setWidget(side_panel)
        side_area.setFrameShape(QFrame.Shape.NoFrame)
        side_area.setAccessibleName(translate("DashForm", "Score, MARAC criteria and details"))
        self.side_area = side_area
        self.side_layout = side
        middle = QHBoxLayout()
        middle.addWidget(area, 3)
        middle.addWidget(side_area, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(middle, 1)

        for field in (self.callouts_field,):
            field.valueChanged.connect(self._changed)
        self.incident_field.changed.connect(self._changed)
        self.judgement_field.currentIndexChanged.connect(self._changed)
        self.judgement_reason_field.textEdited.connect(self._changed)
        self.copy_button.clicked.connect(self.copy_latest)
        self.save_button.clicked.connect(self.save_requested)
        self.marac_button.clicked.connect(self.marac_requested)
        self.update_score()
        self._dirty = False

    # -- state ---------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return self._dirty

    def set_case(
        self, latest: DashResult | None, last_marac: dt.date | None, writable: bool
    ) -> None:
        """Show the case's last checklist; the form itself keeps what is being typed."""
        self._latest = latest
        self._last_marac = last_marac
        if latest is None:
            text = translate("DashForm", "No DASH checklist has been recorded for this case.")
        else:
            text = translate("DashForm", "Last checklist {date}: {yes} yes, {level} risk.").format(
                date=labels.date(latest.completed_on),
                yes=latest.yes_count,
                level=labels.risk(latest.level),
            )
            if latest.marac_reasons:
                text += " " + translate("DashForm", "MARAC: {reasons}.").format(
                    reasons="; ".join(labels.marac_reason(r) for r in latest.marac_reasons)
                )
        self.latest_label.setText(text)
        self.copy_button.setEnabled(latest is not None and writable)
        self.save_button.setEnabled(writable)
        self.marac_button.setEnabled(writable)
        self.update_score()

    def answers(self) -> dict[int, Answer]:
        return {q.number: a for q in self.questions if (a := q.answer()) is not None}

    def sources(self) -> dict[int, str]:
        return {q.number: q.source_field.text() for q in self.questions if q.source_field.text()}

    def set_answer(self, number: int, answer: Answer | None) -> None:
        self.questions[number - 1].set_answer(answer)

    def copy_latest(self) -> None:
        if self._latest is None:
            return
        for question in self.questions:
            question.set_answer(self._latest.answers.get(question.number))
            question.source_field.setText(self._latest.sources.get(question.number, ""))
        self.callouts_field.setValue(self._latest.police_callouts_12m)

    def reset(self) -> None:
        for question in self.questions:
            question.set_answer(None)
            question.source_field.clear()
        self.callouts_field.setValue(0)
        self.judgement_field.setCurrentIndex(0)
        self.judgement_reason_field.clear()
        today = self.today()
        for field in (self.incident_field, self.completed_field):
            field.set_date(today)
        set_message(self.problem_label, None)
        self.update_score()
        self._dirty = False

    # -- kept at a lock ------------------------------------------------------------------------

    def draft_values(self) -> dict[str, Any]:
        """Everything answered and typed, as JSON-ready values (for a draft)."""
        return {
            "answers": {str(n): a.value for n, a in self.answers().items()},
            "sources": {str(n): text for n, text in self.sources().items()},
            "fields": [field_value(f) for f in self._draft_fields()],
        }

    def restore_values(self, values: dict[str, Any]) -> None:
        """Put back what :meth:`draft_values` read; the form counts as changed."""
        answers, sources = values.get("answers", {}), values.get("sources", {})
        for question in self.questions:
            answer = answers.get(str(question.number))
            question.set_answer(Answer(answer) if answer in set(Answer) else None)
            question.source_field.setText(str(sources.get(str(question.number), "")))
        for field, value in zip(self._draft_fields(), values.get("fields", []), strict=False):
            set_field_value(field, value)
        self.update_score()
        self._dirty = True

    def _draft_fields(self) -> list[QWidget]:
        return [
            self.callouts_field,
            self.incident_field,
            self.completed_field,
            self.judgement_field,
            self.judgement_reason_field,
        ]

    # -- the live score ------------------------------------------------------------------------

    def _changed(self, *_args: object) -> None:
        self._dirty = True
        self.update_score()

    def judgement(self) -> RiskLevel | None:
        value = self.judgement_field.value()
        return value if isinstance(value, RiskLevel) else None

    def update_score(self) -> None:
        given = self.answers()
        missing = len(risk_model.QUESTIONS) - len(given)
        so_far = {q.number: given.get(q.number, Answer.DONT_KNOW) for q in self.questions}
        judgement = self.judgement()
        problem = None
        try:
            yes, _scored, level, reasons = risk.assess(
                so_far,
                judgement=judgement,
                judgement_reason=self.judgement_reason_field.text(),
                police_callouts_12m=self.callouts_field.value(),
                incident_on=self.incident_on(),
                last_marac_referral=self._last_marac,
            )
        except InvalidInput as exc:
            problem = error_sentence(exc)
            yes, _scored, level, reasons = risk.assess(
                so_far,
                judgement=None,
                judgement_reason="",
                police_callouts_12m=self.callouts_field.value(),
                incident_on=self.incident_on(),
                last_marac_referral=self._last_marac,
            )
        self.live_yes, self.live_level, self.live_reasons = yes, level, reasons
        text = translate("DashForm", "{yes} of 24 answered yes: {level} risk.").format(
            yes=yes, level=labels.risk(level)
        )
        if missing:
            text += " " + translate("DashForm", "{n} not answered yet.").format(n=missing)
        self.score_label.setText(text)
        self.score_label.setProperty("level", level.value)
        self.score_label.style().unpolish(self.score_label)
        self.score_label.style().polish(self.score_label)
        lines = [
            translate("DashForm", "MARAC referral: due.")
            if reasons
            else translate("DashForm", "MARAC referral: not indicated by the criteria.")
        ]
        for reason in (
            risk_model.REASON_SCORE,
            risk_model.REASON_JUDGEMENT,
            risk_model.REASON_ESCALATION,
            risk_model.REASON_REPEAT,
        ):
            mark = "✔" if reason in reasons else "–"
            lines.append(f"{mark} {labels.marac_reason(reason)}")
        self.criteria_label.setText("\n".join(lines))
        self.criteria_label.setAccessibleDescription(" ".join(lines))
        set_message(self.problem_label, problem)

    def incident_on(self) -> dt.date:
        """The incident date for the live score (today until a real date is typed)."""
        return self.incident_field.date() or self.today()

    def first_unanswered(self) -> QWidget | None:
        return next((q for q in self.questions if q.answer() is None), None)

    def show_problem(self, text: str | None, *, at: QWidget | None = None) -> None:
        """Say what is wrong beside Save, and bring it (and ``at``, what it is about) into view."""
        set_message(self.problem_label, text)
        if not text:
            return
        self.side_layout.activate()
        self.side_area.ensureWidgetVisible(self.problem_label)
        if isinstance(at, DashQuestion):
            self.scroll_area.ensureWidgetVisible(at)
            at.buttons[Answer.YES].setFocus()
        elif at is not None:
            self.side_area.ensureWidgetVisible(at)
            at.setFocus()
