"""First run: create the store and its first admin, then show the recovery key and the audit
verification key (for the DPO) once."""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable
from pathlib import Path
from typing import cast

from PySide6.QtCore import QBuffer, QByteArray, QDate, QIODevice, QLocale, Qt, Signal
from PySide6.QtGui import QCloseEvent, QFont, QFontDatabase, QPdfWriter, QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app import paths, policy
from app.crypto.device import DeviceSecrets
from app.crypto.files import atomic_write
from app.crypto.kdf import Argon2Params
from app.errors import InvalidInput, KeyringUnavailable, SafecaseError
from app.services import accounts, audit
from app.services.accounts import Restored
from app.services.session import Session
from app.ui.errors import error_sentence, log_unexpected
from app.ui.i18n import translate
from app.ui.restore_dialog import RestoreDialog
from app.ui.tasks import Task, run_in_background
from app.ui.widgets import add_row, heading, line_edit, message_label, paragraph, set_message

log = logging.getLogger("safecase.ui")

GROUPS_PER_ROW = 5

PrintDocument = Callable[[QTextDocument, QWidget], bool]


def key_rows(recovery_key: str) -> str:
    """The recovery key laid out for reading aloud or copying by hand: five groups a line."""
    groups = recovery_key.split("-")
    rows = [groups[i : i + GROUPS_PER_ROW] for i in range(0, len(groups), GROUPS_PER_ROW)]
    return "\n".join("  ".join(row) for row in rows)


@functools.cache
def unicode_font_family() -> str | None:
    """The shipped Unicode font (DejaVu Sans) registered with Qt, so the printed key shows a
    service name in any script and a saved PDF embeds it; None if it cannot be loaded."""
    font_id = QFontDatabase.addApplicationFont(
        str(paths.resources_dir() / "fonts" / "DejaVuSans.ttf")
    )
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    return families[0] if families else None


def build_key_document(
    service_name: str, recovery_key: str, day: QDate, *, for_audit: bool = False
) -> QTextDocument:
    """The printed page: the service's name, the date and the key. Nothing else.

    ``for_audit`` prints the audit verification key, for the data protection officer."""
    title = translate("FirstRunWindow", "Safecase recovery key")
    advice = translate(
        "FirstRunWindow",
        "This key opens the store if a password or this computer is lost. "
        "Keep it locked away, apart from the computer.",
    )
    if for_audit:
        title = translate("FirstRunWindow", "Safecase audit verification key")
        advice = translate(
            "FirstRunWindow",
            "For the data protection officer: this key checks that nobody changed, cut or "
            "rolled back the audit trail. Whoever holds it could forge the trail's seals: keep "
            "it apart from the computer, and give it to nobody else.",
        )
    service_line = translate("FirstRunWindow", "Service: {name}").format(name=service_name)
    date_line = translate("FirstRunWindow", "Printed on {date}").format(
        date=QLocale().toString(day, QLocale.FormatType.LongFormat)
    )
    key_html = "<br>".join(html.escape(row) for row in key_rows(recovery_key).split("\n"))
    document = QTextDocument()
    document.setMetaInformation(QTextDocument.MetaInformation.DocumentTitle, title)
    family = unicode_font_family()
    if family:
        document.setDefaultFont(QFont(family))
    document.setHtml(
        f"<h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(service_line)}<br>{html.escape(date_line)}</p>"
        f'<p style="font-family: monospace; font-size: 20pt">{key_html}</p>'
        f"<p>{html.escape(advice)}</p>"
    )
    return document


def print_with_dialog(document: QTextDocument, parent: QWidget) -> bool:
    """Ask the user for a printer and print ``document``; False when they cancel. With no
    printer, offer to save a PDF, with a warning, only where the user chooses."""
    from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter, QPrinterInfo

    if not QPrinterInfo.availablePrinters():
        return save_key_pdf(document, parent)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(translate("FirstRunWindow", "Safecase recovery key"))
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(translate("FirstRunWindow", "Print the recovery key"))
    # Qt's "Print to file" would write the key to a file with no word of warning.
    dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintToFile, False)
    if dialog.exec() != QPrintDialog.DialogCode.Accepted:
        return False
    document.print_(printer)
    return True


NO_PRINTER_WARNING = (
    "A PDF file of the key holds the key unencrypted: anyone who opens the file can use it. "
    "Save it only to print it, then delete the file and empty the bin."
)


def _title(document: QTextDocument) -> str:
    return document.metaInformation(QTextDocument.MetaInformation.DocumentTitle)


def ask_key_pdf_path(document: QTextDocument, parent: QWidget) -> str:
    """The file the user chose for the key's PDF, or "" when they cancelled."""
    path, _filter = QFileDialog.getSaveFileName(
        parent,
        translate("FirstRunWindow", "Save {title} as a PDF").format(title=_title(document)),
        "-".join(_title(document).lower().split()) + ".pdf",
        translate("FirstRunWindow", "PDF files (*.pdf)"),
    )
    return path


def key_pdf(document: QTextDocument) -> bytes:
    """``document`` as PDF bytes, built in memory, with its fonts embedded."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setTitle(_title(document))
    document.print_(writer)
    del writer  # finishes the file
    buffer.close()
    return bytes(data.data())


def save_key_pdf(document: QTextDocument, parent: QWidget) -> bool:
    """No printer: warn that a PDF holds the key unencrypted, and save one only where the user
    chooses; then say where it went. False when they decline or cancel."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        translate("FirstRunWindow", "No printer"),
        translate("FirstRunWindow", "There is no printer set up on this computer."),
        QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setObjectName("noPrinterWarning")
    box.setInformativeText(translate("FirstRunWindow", NO_PRINTER_WARNING))
    save = box.addButton(
        translate("FirstRunWindow", "&Save as PDF…"), QMessageBox.ButtonRole.AcceptRole
    )
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    chosen = box.clickedButton() is save
    box.deleteLater()
    path = ask_key_pdf_path(document, parent) if chosen else ""
    if not path:
        return False
    target = Path(path)
    atomic_write(target, key_pdf(document))  # private to the user, like every file we write
    done = QMessageBox(
        QMessageBox.Icon.Information,
        translate("FirstRunWindow", "Key saved"),
        translate(
            "FirstRunWindow",
            "{title} was saved to {path}. Print it, then delete the file and empty the bin: "
            "until then anyone who opens the file can read the key.",
        ).format(title=_title(document), path=str(target)),
        QMessageBox.StandardButton.Ok,
        parent,
    )
    done.setObjectName("keySavedNote")
    done.exec()
    done.deleteLater()
    return True


JOIN_PAGE = 2


class FirstRunWindow(QWidget):
    """Two pages: the set-up form, then the recovery key shown this once."""

    store_created = Signal(object)  # the new admin's Session; the receiver owns it
    finished = Signal(str)  # the first admin's username, once the key is stored

    def __init__(
        self,
        store_path: Path,
        *,
        kdf: Argon2Params | None = None,
        device_factory: Callable[[], DeviceSecrets] = DeviceSecrets,
        print_document: PrintDocument = print_with_dialog,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._store_path = store_path
        self._kdf = kdf
        self._device_factory = device_factory
        self._print_document = print_document
        self._task: Task | None = None
        self._recovery_key: str | None = None
        self._audit_key: str | None = None
        self._service_name = ""
        self._admin_name = ""
        self._offer_password_only = False

        self.setWindowTitle(translate("FirstRunWindow", "Safecase"))
        self.pages = QStackedWidget()
        self.pages.setAccessibleName(translate("FirstRunWindow", "Set-up steps"))
        self.pages.addWidget(self._build_form_page())
        self.pages.addWidget(self._build_key_page())
        self.pages.addWidget(self._build_join_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        self._wire()

    # -- building ------------------------------------------------------------------------------

    def _build_form_page(self) -> QWidget:
        page = QWidget()
        page.setAccessibleName(translate("FirstRunWindow", "Create the store"))
        self.service_field = line_edit(translate("FirstRunWindow", "Service name"))
        self.admin_field = line_edit(translate("FirstRunWindow", "First admin's username"))
        self.password_field = line_edit(translate("FirstRunWindow", "Password"), password=True)
        self.confirm_field = line_edit(translate("FirstRunWindow", "Password again"), password=True)
        self.problem_label = message_label(translate("FirstRunWindow", "Set-up problem"))
        self.password_only_box = QCheckBox(
            translate("FirstRunWindow", "Create a password-only store (less safe)")
        )
        self.password_only_box.setAccessibleName(
            translate("FirstRunWindow", "Create a password-only store (less safe)")
        )
        self.password_only_box.setToolTip(
            translate(
                "FirstRunWindow",
                "The store will not be tied to this computer, so a copy of it can be attacked "
                "with passwords alone.",
            )
        )
        self.password_only_box.setVisible(False)
        self.training_box = QCheckBox(
            translate("FirstRunWindow", "&Training store: synthetic records only, never real ones")
        )
        self.training_box.setAccessibleName(translate("FirstRunWindow", "Training store"))
        self.training_box.setToolTip(
            translate(
                "FirstRunWindow",
                "For learning Safecase: the store can be filled with made-up demo cases, and "
                "every window says it is a training store. It cannot be changed later.",
            )
        )
        self.status_label = message_label(translate("FirstRunWindow", "Status"), "status")
        self.create_button = QPushButton(translate("FirstRunWindow", "&Create the store"))
        self.create_button.setAccessibleName(translate("FirstRunWindow", "Create the store"))
        self.create_button.setDefault(True)
        self.restore_button = QPushButton(translate("FirstRunWindow", "Restore from a &backup…"))
        self.restore_button.setAccessibleName(translate("FirstRunWindow", "Restore from a backup"))
        self.restore_dialog: RestoreDialog | None = None
        self.join_button = QPushButton(translate("FirstRunWindow", "&Join a team…"))
        self.join_button.setAccessibleName(translate("FirstRunWindow", "Join a team"))

        form = QFormLayout()
        add_row(form, translate("FirstRunWindow", "&Service name"), self.service_field)
        add_row(form, translate("FirstRunWindow", "&First admin's username"), self.admin_field)
        add_row(form, translate("FirstRunWindow", "&Password"), self.password_field)
        add_row(form, translate("FirstRunWindow", "Password &again"), self.confirm_field)

        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label)
        buttons.addStretch(1)
        buttons.addWidget(self.join_button)
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.create_button)

        layout = QVBoxLayout(page)
        layout.addWidget(heading(translate("FirstRunWindow", "Set up Safecase")))
        layout.addWidget(
            paragraph(
                translate(
                    "FirstRunWindow",
                    "Create the encrypted store for your service on this computer. "
                    "You will be its first admin.",
                )
            )
        )
        layout.addLayout(form)
        layout.addWidget(
            paragraph(
                translate(
                    "FirstRunWindow",
                    "Choose a password of at least 12 characters; a few unrelated words "
                    "together work well.",
                )
            )
        )
        layout.addWidget(self.training_box)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.password_only_box)
        layout.addStretch(1)
        layout.addLayout(buttons)

        QWidget.setTabOrder(self.service_field, self.admin_field)
        QWidget.setTabOrder(self.admin_field, self.password_field)
        QWidget.setTabOrder(self.password_field, self.confirm_field)
        QWidget.setTabOrder(self.confirm_field, self.training_box)
        QWidget.setTabOrder(self.training_box, self.password_only_box)
        QWidget.setTabOrder(self.password_only_box, self.create_button)
        return page

    def _build_key_page(self) -> QWidget:
        page = QWidget()
        page.setAccessibleName(translate("FirstRunWindow", "Recovery key"))
        self.key_label = QLabel()
        self.key_label.setObjectName("recoveryKey")
        self.key_label.setAccessibleName(translate("FirstRunWindow", "Recovery key"))
        self.key_label.setTextFormat(Qt.TextFormat.PlainText)
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        # Not selectable: on X11 a selection is offered to every program (the primary
        # selection), which would put the key on a clipboard without the user asking.
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        key_font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        key_font.setPointSize(max(key_font.pointSize(), 10) * 2)
        self.key_label.setFont(key_font)

        self.print_button = QPushButton(translate("FirstRunWindow", "&Print the key…"))
        self.print_button.setAccessibleName(translate("FirstRunWindow", "Print the key"))
        self.audit_key_label = QLabel()
        self.audit_key_label.setObjectName("auditKey")
        self.audit_key_label.setAccessibleName(
            translate("FirstRunWindow", "Audit verification key")
        )
        self.audit_key_label.setTextFormat(Qt.TextFormat.PlainText)
        self.audit_key_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.audit_key_label.setFont(key_font)
        self.print_audit_button = QPushButton(translate("FirstRunWindow", "Print the &DPO's key…"))
        self.print_audit_button.setAccessibleName(
            translate("FirstRunWindow", "Print the DPO's key")
        )
        self.stored_box = QCheckBox(translate("FirstRunWindow", "I have &stored it safely"))
        self.stored_box.setAccessibleName(translate("FirstRunWindow", "I have stored it safely"))
        self.finish_button = QPushButton(translate("FirstRunWindow", "&Finish"))
        self.finish_button.setAccessibleName(translate("FirstRunWindow", "Finish"))
        self.finish_button.setEnabled(False)
        self.key_note = message_label(translate("FirstRunWindow", "Reminder"))

        buttons = QHBoxLayout()
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.print_audit_button)
        buttons.addStretch(1)
        buttons.addWidget(self.finish_button)

        layout = QVBoxLayout(page)
        layout.addWidget(heading(translate("FirstRunWindow", "Your recovery key")))
        layout.addWidget(
            paragraph(
                translate(
                    "FirstRunWindow",
                    "This key opens the store if a password is forgotten or this computer is "
                    "lost. It is shown only now. Print it or write it down, and keep it locked "
                    "away from the computer.",
                )
            )
        )
        layout.addWidget(self.key_label)
        self.audit_paragraph = paragraph(
            translate(
                "FirstRunWindow",
                "Below it, the audit verification key, for your data protection officer: "
                "it checks that nobody changed or cut the audit trail. Print it for them "
                "on its own page and keep no copy yourself.",
            )
        )
        layout.addWidget(self.audit_paragraph)
        layout.addWidget(self.audit_key_label)
        layout.addWidget(self.stored_box)
        layout.addWidget(self.key_note)
        layout.addStretch(1)
        layout.addLayout(buttons)

        QWidget.setTabOrder(self.print_button, self.print_audit_button)
        QWidget.setTabOrder(self.print_audit_button, self.stored_box)
        QWidget.setTabOrder(self.stored_box, self.finish_button)
        return page

    def _build_join_page(self) -> QWidget:
        t = translate
        page = QWidget()
        page.setAccessibleName(t("FirstRunWindow", "Join a team"))
        self.invitation_field = line_edit(t("FirstRunWindow", "Invitation file"))
        self.choose_button = QPushButton(t("FirstRunWindow", "C&hoose…"))
        self.choose_button.setAccessibleName(t("FirstRunWindow", "Choose the invitation file"))
        self.passphrase_field = line_edit(t("FirstRunWindow", "Passphrase"), password=True)
        self.join_password_field = line_edit(t("FirstRunWindow", "Your password"), password=True)
        self.join_confirm_field = line_edit(
            t("FirstRunWindow", "Your password again"), password=True
        )
        self.join_problem_label = message_label(t("FirstRunWindow", "Joining problem"))
        self.back_button = QPushButton(t("FirstRunWindow", "&Back"))
        self.back_button.setAccessibleName(t("FirstRunWindow", "Back"))
        self.join_team_button = QPushButton(t("FirstRunWindow", "&Join the team"))
        self.join_team_button.setAccessibleName(t("FirstRunWindow", "Join the team"))
        self.join_team_button.setDefault(True)

        file_box = QWidget()
        file_row = QHBoxLayout(file_box)
        file_row.setContentsMargins(0, 0, 0, 0)
        file_row.addWidget(self.invitation_field, 1)
        file_row.addWidget(self.choose_button)
        form = QFormLayout()
        add_row(form, t("FirstRunWindow", "&Invitation file"), file_box).setBuddy(
            self.invitation_field
        )
        add_row(form, t("FirstRunWindow", "Pa&ssphrase"), self.passphrase_field)
        add_row(form, t("FirstRunWindow", "Your &password"), self.join_password_field)
        add_row(form, t("FirstRunWindow", "Password &again"), self.join_confirm_field)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.join_team_button)

        layout = QVBoxLayout(page)
        layout.addWidget(heading(t("FirstRunWindow", "Join a team")))
        layout.addWidget(
            paragraph(
                t(
                    "FirstRunWindow",
                    "Your admin gives you an invitation file and reads you its passphrase. "
                    "Choose the file, type the passphrase, and choose your own password for "
                    "this laptop. An invitation works once, within a day.",
                )
            )
        )
        layout.addLayout(form)
        layout.addWidget(self.join_problem_label)
        layout.addStretch(1)
        layout.addLayout(buttons)
        QWidget.setTabOrder(self.invitation_field, self.choose_button)
        QWidget.setTabOrder(self.choose_button, self.passphrase_field)
        QWidget.setTabOrder(self.passphrase_field, self.join_password_field)
        QWidget.setTabOrder(self.join_password_field, self.join_confirm_field)
        QWidget.setTabOrder(self.join_confirm_field, self.join_team_button)
        return page

    def _wire(self) -> None:
        for field in (self.service_field, self.admin_field, self.password_field):
            field.textChanged.connect(self._check_password)
            field.returnPressed.connect(self.submit)
        self.confirm_field.textChanged.connect(self._check_password)
        self.confirm_field.returnPressed.connect(self.submit)
        self.create_button.clicked.connect(self.submit)
        self.restore_button.clicked.connect(self.open_restore)
        self.join_button.clicked.connect(lambda: self._show_join(True))
        self.back_button.clicked.connect(lambda: self._show_join(False))
        self.choose_button.clicked.connect(self.choose_invitation)
        self.join_team_button.clicked.connect(self.join)
        for field in (self.passphrase_field, self.join_password_field, self.join_confirm_field):
            field.returnPressed.connect(self.join)
        self.print_button.clicked.connect(lambda: self.print_key())
        self.print_audit_button.clicked.connect(lambda: self.print_key(for_audit=True))
        self.stored_box.toggled.connect(self.finish_button.setEnabled)
        self.finish_button.clicked.connect(self.finish)

    @property
    def busy(self) -> bool:
        return self._task is not None

    def open_restore(self) -> None:
        """Offer to rebuild the store here from a backup, instead of creating a new one."""
        if self._task is not None:
            return
        dialog = RestoreDialog(self._store_path, device_factory=self._device_factory, parent=self)
        dialog.restored.connect(self._restored)
        self.restore_dialog = dialog
        dialog.open()

    def _restored(self, result: object) -> None:
        session = cast(Restored, result).session
        self.store_created.emit(session)
        self.finished.emit(session.username)

    # -- the form ------------------------------------------------------------------------------

    def _password_problem(self) -> str | None:
        password = self.password_field.text()
        if not password:
            return None
        problem = accounts.password_problem(
            password, self.admin_field.text().strip(), self.service_field.text().strip()
        )
        if problem:
            return translate("errors", problem)
        confirm = self.confirm_field.text()
        if confirm and confirm != password:
            return translate("FirstRunWindow", "The two passwords differ.")
        return None

    def _check_password(self) -> None:
        """Say what is wrong with the password while it is typed, before Create is pressed."""
        if self._task is None:
            set_message(self.problem_label, self._password_problem())

    def _form_problem(self) -> str | None:
        if not self.service_field.text().strip():
            return translate("FirstRunWindow", "Give the service's name.")
        try:
            accounts.check_username(self.admin_field.text())
        except InvalidInput as exc:
            return error_sentence(exc)
        if not self.password_field.text():
            return translate("FirstRunWindow", "Choose a password.")
        problem = self._password_problem()
        if problem:
            return problem
        if self.confirm_field.text() != self.password_field.text():
            return translate("FirstRunWindow", "The two passwords differ.")
        return None

    def submit(self) -> None:
        """Create the store in the background with what the form holds."""
        if self._task is not None or self.pages.currentIndex() != 0:
            return
        problem = self._form_problem()
        if problem:
            set_message(self.problem_label, problem)
            return
        service = self.service_field.text().strip()
        admin = self.admin_field.text().strip()
        password = self.password_field.text()
        password_only = self._offer_password_only and self.password_only_box.isChecked()
        training = self.training_box.isChecked()
        path, kdf, device_factory = self._store_path, self._kdf, self._device_factory

        def create() -> tuple[Session, str, str]:
            device = None if password_only else device_factory()
            session, recovery_key = accounts.create_store(
                path,
                service_name=service,
                admin_name=admin,
                password=password,
                device=device,
                kdf=kdf,
                training=training,
            )
            try:
                return session, recovery_key, audit.start_sealing(session)
            except BaseException:
                accounts.sign_out_after_error(session)
                raise

        self._service_name, self._admin_name = service, admin
        self._set_busy(True)
        self._task = run_in_background(create, on_success=self._created, on_failure=self._failed)

    def _set_busy(self, busy: bool) -> None:
        for widget in (
            self.service_field,
            self.admin_field,
            self.password_field,
            self.confirm_field,
            self.password_only_box,
            self.training_box,
            self.create_button,
            self.restore_button,
        ):
            widget.setEnabled(not busy)
        set_message(
            self.status_label,
            translate("FirstRunWindow", "Creating the store…") if busy else None,
        )
        if busy:
            set_message(self.problem_label, None)

    def _failed(self, error: object) -> None:
        self._task = None
        self._set_busy(False)
        if isinstance(error, KeyringUnavailable) and policy.load().allow_password_only is False:
            set_message(
                self.problem_label,
                translate(
                    "FirstRunWindow",
                    "This computer's keyring is not available, and your organisation does not "
                    "allow password-only stores: unlock the keyring and try again.",
                ),
            )
            return
        if isinstance(error, KeyringUnavailable):
            set_message(
                self.problem_label,
                translate(
                    "FirstRunWindow",
                    "This computer's keyring is not available, so the store cannot be tied "
                    "to this computer: unlock the keyring and try again, or tick the box below.",
                ),
            )
            self._offer_password_only = True
            self.password_only_box.setVisible(True)
            self.password_only_box.setFocus()
            return
        if not isinstance(error, BaseException):
            error = RuntimeError("task failed without an exception")
        if not isinstance(error, SafecaseError):
            log_unexpected(error)
        set_message(self.problem_label, error_sentence(error))
        self.password_field.setFocus()

    def _created(self, result: object) -> None:
        self._task = None
        self._set_busy(False)
        session, recovery_key, audit_key = cast(tuple[Session, str, str], result)
        self.password_field.clear()
        self.confirm_field.clear()
        self.store_created.emit(session)
        self._audit_key = audit_key
        self.audit_key_label.setText(key_rows(audit_key))
        self._show_key(recovery_key)

    # -- joining a team ------------------------------------------------------------------------

    def _show_join(self, join: bool) -> None:
        if self._task is not None:
            return
        self.pages.setCurrentIndex(JOIN_PAGE if join else 0)
        (self.invitation_field if join else self.service_field).setFocus()

    def choose_invitation(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            translate("FirstRunWindow", "Choose the invitation file"),
            "",
            translate("FirstRunWindow", "Safecase invitations (*.invitation);;All files (*)"),
        )
        if path:
            self.invitation_field.setText(path)

    def _join_problem(self) -> str | None:
        if not self.invitation_field.text().strip():
            return translate("FirstRunWindow", "Choose the invitation file your admin gave you.")
        if not self.passphrase_field.text().strip():
            return translate("FirstRunWindow", "Type the passphrase your admin read out.")
        if not self.join_password_field.text():
            return translate("FirstRunWindow", "Choose a password.")
        if self.join_confirm_field.text() != self.join_password_field.text():
            return translate("FirstRunWindow", "The two passwords differ.")
        return None

    def join(self) -> None:
        """Join the team in the background: a new store here for the invited user. A refused
        invitation makes no store and leaves the form as it was."""
        if self._task is not None or self.pages.currentIndex() != JOIN_PAGE:
            return
        problem = self._join_problem()
        if problem:
            set_message(self.join_problem_label, problem)
            return
        invitation = Path(self.invitation_field.text().strip())
        passphrase = self.passphrase_field.text().strip()
        password = self.join_password_field.text()
        path, kdf, device_factory = self._store_path, self._kdf, self._device_factory

        def enrol() -> tuple[Session, str, str]:
            from app.services import team  # the team machinery loads only for a team

            session, recovery_key = team.join(
                invitation, passphrase, path, password, device=device_factory(), kdf=kdf
            )
            try:
                return session, recovery_key, accounts.service_name(session)
            except BaseException:
                accounts.sign_out_after_error(session)
                raise

        self._set_joining(True)
        self._task = run_in_background(enrol, on_success=self._joined, on_failure=self._join_failed)

    def _set_joining(self, busy: bool) -> None:
        for widget in (
            self.invitation_field,
            self.choose_button,
            self.passphrase_field,
            self.join_password_field,
            self.join_confirm_field,
            self.back_button,
            self.join_team_button,
        ):
            widget.setEnabled(not busy)
        set_message(
            self.join_problem_label,
            translate("FirstRunWindow", "Joining the team…") if busy else None,
        )

    def _join_failed(self, error: object) -> None:
        self._task = None
        self._set_joining(False)
        if not isinstance(error, BaseException):
            error = RuntimeError("task failed without an exception")
        if not isinstance(error, SafecaseError):
            log_unexpected(error)
        set_message(self.join_problem_label, error_sentence(error))
        self.passphrase_field.setFocus()

    def _joined(self, result: object) -> None:
        self._task = None
        self._set_joining(False)
        session, recovery_key, service = cast(tuple[Session, str, str], result)
        for field in (self.passphrase_field, self.join_password_field, self.join_confirm_field):
            field.clear()
        self._service_name, self._admin_name = service, session.username
        self.store_created.emit(session)
        # A joining laptop's user need not be an admin: no audit key is made here.
        for widget in (self.audit_paragraph, self.audit_key_label, self.print_audit_button):
            widget.setVisible(False)
        self._show_key(recovery_key)

    # -- the recovery key ----------------------------------------------------------------------

    def _show_key(self, recovery_key: str) -> None:
        self._recovery_key = recovery_key
        self.key_label.setText(key_rows(recovery_key))
        self.stored_box.setChecked(False)
        self.finish_button.setEnabled(False)
        self.pages.setCurrentIndex(1)
        self.print_button.setFocus()

    @property
    def showing_key(self) -> bool:
        return self._recovery_key is not None

    def key_document(self, *, for_audit: bool = False) -> QTextDocument:
        key = self._audit_key if for_audit else self._recovery_key
        if key is None:
            raise RuntimeError("the key is no longer shown")
        return build_key_document(self._service_name, key, QDate.currentDate(), for_audit=for_audit)

    def print_key(self, *, for_audit: bool = False) -> None:
        if (self._audit_key if for_audit else self._recovery_key) is None:
            return
        document = self.key_document(for_audit=for_audit)
        try:
            self._print_document(document, self)
        except SafecaseError as exc:  # the chosen folder could not take the file
            set_message(self.key_note, error_sentence(exc))
        finally:
            document.clear()

    def _clear_key(self) -> None:
        self._recovery_key = self._audit_key = None
        self.key_label.clear()
        self.audit_key_label.clear()

    def finish(self) -> None:
        if not self.stored_box.isChecked() or self._recovery_key is None:
            return
        self._clear_key()
        self.finished.emit(self._admin_name)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._task is not None:
            event.ignore()  # the store is being created; wait for it
            return
        if self._recovery_key is not None and not self.stored_box.isChecked():
            set_message(
                self.key_note,
                translate(
                    "FirstRunWindow",
                    "The key is shown only now: store it and tick the box before closing.",
                ),
            )
            event.ignore()
            return
        self._clear_key()
        super().closeEvent(event)
