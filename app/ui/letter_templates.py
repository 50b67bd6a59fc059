"""The letter templates an admin keeps: change one, see it filled with invented sample values as
it is typed (an unknown placeholder is named at once), save it, or put back the built-in one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.errors import SafecaseError
from app.services import letters
from app.services.contact_rules import Output
from app.services.letters import Template
from app.ui.forms import ChoiceBox, button, confirm
from app.ui.i18n import translate
from app.ui.letters_dialog import output_label
from app.ui.store_calls import StoreCalls
from app.ui.widgets import add_row, message_label, set_message


class TemplatesDialog(QDialog):
    """Edit the templates for letters and texts (admins)."""

    def __init__(
        self,
        calls: StoreCalls,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(parent)
        t = translate
        self.calls = calls
        self.lock_action = lock_action
        self.templates: dict[Output, Template] = {}
        self.question: QMessageBox | None = None
        self._showing: Output | None = None
        self.setWindowTitle(t("TemplatesDialog", "Letter templates"))
        self.setAccessibleName(t("TemplatesDialog", "Letter templates"))
        self.setModal(True)
        if lock_action is not None:
            self.addAction(lock_action)
        self.kind_field = ChoiceBox(t("TemplatesDialog", "Template"))
        for kind in letters.TEMPLATE_KINDS:
            self.kind_field.add_choice(output_label(kind), kind)
        self.subject_field = QLineEdit()
        self.subject_field.setAccessibleName(t("TemplatesDialog", "Heading"))
        self.body_field = QPlainTextEdit()
        self.body_field.setAccessibleName(t("TemplatesDialog", "Text"))
        self.body_field.setMinimumHeight(150)
        self.preview_field = QPlainTextEdit()
        self.preview_field.setAccessibleName(t("TemplatesDialog", "Preview with sample values"))
        self.preview_field.setReadOnly(True)
        self.preview_field.setMinimumHeight(110)
        self.problem_label = message_label(t("TemplatesDialog", "Problem"))
        self.status_label = message_label(t("TemplatesDialog", "Status"), "status")
        known = QLabel(
            t("TemplatesDialog", "Placeholders: {names}").format(
                names=" ".join(f"{{{name}}}" for name in letters.PLACEHOLDERS)
            )
        )
        known.setWordWrap(True)
        known.setTextFormat(Qt.TextFormat.PlainText)
        known.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        known.setToolTip(
            "\n".join(f"{{{name}}}: {what}" for name, what in letters.PLACEHOLDERS.items())
        )
        self.known_label = known

        form = QFormLayout()
        add_row(form, t("TemplatesDialog", "&Template"), self.kind_field)
        add_row(form, t("TemplatesDialog", "&Heading"), self.subject_field)
        add_row(form, t("TemplatesDialog", "Te&xt"), self.body_field)
        add_row(form, t("TemplatesDialog", "Pre&view"), self.preview_field)
        self.save_button = button(t("TemplatesDialog", "&Save the template"))
        self.reset_button = button(t("TemplatesDialog", "&Reset to the built-in one…"))
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.save_button)
        row.addWidget(self.reset_button)
        row.addStretch(1)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(known)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.status_label)
        layout.addLayout(row)

        self.kind_field.currentIndexChanged.connect(self._show_chosen)
        self.subject_field.textChanged.connect(self.refresh_preview)
        self.body_field.textChanged.connect(self.refresh_preview)
        self.save_button.clicked.connect(self.save)
        self.reset_button.clicked.connect(self.reset)
        self.save_button.setEnabled(False)
        self.reset_button.setEnabled(False)
        self.load()

    @property
    def kind(self) -> Output:
        return Output(self.kind_field.value())

    def load(self) -> None:
        def arrived(found: list[Template]) -> None:
            self.templates = {template.kind: template for template in found}
            self._show_chosen()

        self.calls.run(letters.templates, arrived, receiver=self)

    def _show_chosen(self, *_args: object) -> None:
        template = self.templates.get(self.kind)
        if template is None:
            return
        self._showing = template.kind
        self.subject_field.setText(template.subject)
        self.body_field.setPlainText(template.body)
        self.subject_field.setEnabled(template.kind is not Output.TEXT)
        self.reset_button.setEnabled(template.custom)
        self.refresh_preview()

    def refresh_preview(self) -> None:
        """Fill the template with the sample values as it is typed; name an unknown
        placeholder at once."""
        try:
            shown = letters.preview(self.subject_field.text(), self.body_field.toPlainText())
        except SafecaseError as problem:
            set_message(self.problem_label, str(problem))
            self.preview_field.clear()
            self.save_button.setEnabled(False)
            return
        set_message(self.problem_label, None)
        self.preview_field.setPlainText(shown)
        self.save_button.setEnabled(bool(self.templates))

    def _stored(self, template: Template) -> None:
        self.templates[template.kind] = template
        self._show_chosen()

    def save(self) -> None:
        kind, subject, body = self.kind, self.subject_field.text(), self.body_field.toPlainText()

        def saved(template: Template) -> None:
            self._stored(template)
            set_message(self.status_label, translate("TemplatesDialog", "Template saved."))

        self.calls.run(
            lambda s: letters.set_template(s, kind, subject, body),
            saved,
            lambda error: set_message(self.problem_label, str(error)),
            receiver=self,
        )

    def reset(self) -> None:
        kind = self.kind

        def reset_now() -> None:
            def done(template: Template) -> None:
                self._stored(template)
                set_message(
                    self.status_label,
                    translate("TemplatesDialog", "The built-in template is back."),
                )

            self.calls.run(lambda s: letters.reset_template(s, kind), done, receiver=self)

        self.question = confirm(
            self,
            translate("TemplatesDialog", "Reset the template"),
            translate(
                "TemplatesDialog",
                "Put back Safecase's built-in template? The service's own wording is lost.",
            ),
            translate("TemplatesDialog", "&Reset it"),
            reset_now,
            lock_action=self.lock_action,
        )
