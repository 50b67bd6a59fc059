"""The first-run window: the form's checks, the printed key, and the key never lingering."""

from __future__ import annotations

import io
import re
import stat
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app.crypto import sealing
from app.crypto.device import DeviceSecrets
from app.services import accounts
from app.services.session import Session
from app.ui.first_run import FirstRunWindow, build_key_document, key_pdf, key_rows
from tests.helpers import TEST_KDF, MemoryKeyring

KEY = "-".join(f"{chr(65 + i)}{i:02d}X{i % 10}" for i in range(13))
PASSWORD = "tidal-beacon-orchard-52"


class FakePrinter:
    """Stands in for the print dialog: keeps the text of what would have been printed."""

    def __init__(self) -> None:
        self.printed: list[str] = []

    def __call__(self, document: QTextDocument, parent: QWidget) -> bool:
        self.printed.append(document.toPlainText())
        return True


def created_window(
    qtbot: QtBot,
    tmp_path: Path,
    printer: FakePrinter,
    *,
    training: bool = False,
    seen: Callable[[Session], object] = lambda _session: None,
) -> FirstRunWindow:
    """Fill in the form as a user would (ticking the training box when ``training``) and
    create the store; ``seen`` is shown the new admin's session before it is signed out."""
    window = FirstRunWindow(tmp_path / "cases.safecase", kdf=TEST_KDF, print_document=printer)
    qtbot.addWidget(window)
    window.show()
    sessions: list[Session] = []
    window.store_created.connect(sessions.append)
    qtbot.keyClicks(window.service_field, "Demo Service")
    qtbot.keyClicks(window.admin_field, "demo-admin")
    qtbot.keyClicks(window.password_field, PASSWORD)
    qtbot.keyClicks(window.confirm_field, PASSWORD)
    assert not window.training_box.isChecked()  # a store for real records unless ticked
    if training:
        qtbot.mouseClick(window.training_box, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.store_created, timeout=5000):
        qtbot.keyClick(window.confirm_field, Qt.Key.Key_Return)  # Enter creates
    try:
        for session in sessions:
            seen(session)
    finally:
        for session in sessions:
            accounts.sign_out(session)
    return window


def test_the_key_page_prints_only_the_key_service_and_date(qtbot: QtBot, tmp_path: Path) -> None:
    printer = FakePrinter()
    window = created_window(qtbot, tmp_path, printer)
    shown = window.key_label.text()
    qtbot.mouseClick(window.print_button, Qt.MouseButton.LeftButton)
    assert len(printer.printed) == 1
    page = printer.printed[0]
    for group in re.findall(r"\b[0-9A-Z]{5}\b", shown):
        assert group in page
    assert "Demo Service" in page
    assert str(QDate.currentDate().year()) in page
    assert "demo-admin" not in page
    assert PASSWORD not in page


def test_the_key_is_not_put_on_the_clipboard(qtbot: QtBot, tmp_path: Path) -> None:
    clipboard = QApplication.clipboard()
    clipboard.setText("something the user copied earlier")
    window = created_window(qtbot, tmp_path, FakePrinter())
    assert window.showing_key
    assert clipboard.text() == "something the user copied earlier"
    # Not selectable either, so no X11 primary selection picks it up.
    assert window.key_label.textInteractionFlags() == Qt.TextInteractionFlag.NoTextInteraction


def test_closing_before_the_key_is_stored_is_refused_then_the_key_is_cleared(
    qtbot: QtBot, tmp_path: Path
) -> None:
    window = created_window(qtbot, tmp_path, FakePrinter())
    assert not window.close()
    assert window.isVisible() and window.key_label.text()
    assert "tick the box" in window.key_note.text()
    window.stored_box.click()
    assert window.close()
    assert window.key_label.text() == ""
    assert not window.showing_key


def test_the_form_names_each_problem_before_creating(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "cases.safecase"
    window = FirstRunWindow(path, kdf=TEST_KDF, print_document=FakePrinter())
    qtbot.addWidget(window)
    window.show()
    qtbot.mouseClick(window.create_button, Qt.MouseButton.LeftButton)
    assert window.problem_label.text() == "Give the service's name."
    qtbot.keyClicks(window.service_field, "Demo Service")
    qtbot.keyClicks(window.admin_field, "-x")
    qtbot.mouseClick(window.create_button, Qt.MouseButton.LeftButton)
    assert window.problem_label.text().startswith("A username is 2 to 64")
    window.admin_field.setText("demo-admin")
    qtbot.keyClicks(window.password_field, PASSWORD)
    qtbot.keyClicks(window.confirm_field, PASSWORD + "!")
    assert window.problem_label.text() == "The two passwords differ."
    qtbot.mouseClick(window.create_button, Qt.MouseButton.LeftButton)
    assert not window.busy and not path.exists()


def test_key_rows_keep_all_thirteen_groups() -> None:
    rows = key_rows(KEY)
    assert rows.count("\n") == 2
    assert rows.replace("\n", "  ").split("  ") == KEY.split("-")


def test_the_printed_document_has_a_title_and_the_date(qtbot: QtBot) -> None:
    day = QDate(2026, 3, 14)
    text = build_key_document("Demo Service", KEY, day).toPlainText()
    assert "Safecase recovery key" in text
    assert "2026" in text and "Demo Service" in text


def test_every_control_on_both_pages_has_an_accessible_name(qtbot: QtBot, tmp_path: Path) -> None:
    window = FirstRunWindow(tmp_path / "cases.safecase", kdf=TEST_KDF)
    qtbot.addWidget(window)
    for widget in window.findChildren(QWidget):
        if widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
            assert widget.accessibleName(), type(widget).__name__


@pytest.mark.parametrize("training", [True, False])
def test_the_training_box_makes_a_training_store_and_is_off_by_default(
    qtbot: QtBot, tmp_path: Path, training: bool
) -> None:
    kinds: list[bool] = []
    created_window(
        qtbot,
        tmp_path,
        FakePrinter(),
        training=training,
        seen=lambda s: kinds.append(accounts.is_training_store(s)),
    )
    assert kinds == [training]


# -- no printer: the key goes to a file only where the user chooses, after a warning ------------


class Modals:
    """Answers each modal window as it opens, in turn, and keeps what the message boxes said.
    An unexpected window is closed and noted, so a test never hangs on it."""

    def __init__(self, *answers: Callable[[QWidget], bool]) -> None:
        self.answers = list(answers)
        self.seen: list[QWidget] = []
        self.said: list[str] = []
        self.unexpected: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._answer)
        self.timer.start()

    def _answer(self) -> None:
        widget = QApplication.activeModalWidget()
        if widget is None or widget in self.seen:
            return
        self.seen.append(widget)
        if isinstance(widget, QMessageBox):
            self.said.append(f"{widget.text()} {widget.informativeText()}")
        if not self.answers or not self.answers.pop(0)(widget):
            self.unexpected.append(type(widget).__name__)
            widget.close()


def click_button(label: str) -> Callable[[QWidget], bool]:
    def answer(widget: QWidget) -> bool:
        if not isinstance(widget, QMessageBox):
            return False
        button = next(b for b in widget.buttons() if label in b.text().replace("&", ""))
        button.click()
        return True

    return answer


def save_to(path: Path) -> Callable[[QWidget], bool]:
    def answer(widget: QWidget) -> bool:
        if not isinstance(widget, QFileDialog):
            return False
        widget.setDirectory(str(path.parent))
        name = widget.findChild(QLineEdit, "fileNameEdit")  # typed, as a user would
        name.setText(path.name)
        widget.accept()
        return True

    return answer


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home folder, where Qt's print dialog used to drop the key's PDF unasked."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.chdir(folder)
    return folder


def pdfs_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.pdf"))


def test_with_no_printer_nothing_is_written_unless_the_user_chooses_a_file(
    qtbot: QtBot, tmp_path: Path, home: Path
) -> None:
    window = FirstRunWindow(tmp_path / "store" / "cases.safecase", kdf=TEST_KDF)
    qtbot.addWidget(window)
    window.show()
    window._show_key(KEY)  # the real print path: offscreen Qt has no printer

    declined = Modals(click_button("Cancel"))
    qtbot.mouseClick(window.print_button, Qt.MouseButton.LeftButton)
    declined.timer.stop()
    assert declined.unexpected == []
    assert len(declined.said) == 1
    assert "no printer" in declined.said[0].lower()
    assert "unencrypted" in declined.said[0] and "delete the file" in declined.said[0]
    assert pdfs_under(tmp_path) == []

    cancelled = Modals(click_button("Save as PDF"), lambda dialog: bool(dialog.close()) or True)
    qtbot.mouseClick(window.print_button, Qt.MouseButton.LeftButton)
    cancelled.timer.stop()
    assert cancelled.unexpected == []
    assert pdfs_under(tmp_path) == []


def test_with_no_printer_the_key_goes_where_chosen_and_the_user_is_told_where(
    qtbot: QtBot, tmp_path: Path, home: Path
) -> None:
    window = FirstRunWindow(tmp_path / "store" / "cases.safecase", kdf=TEST_KDF)
    qtbot.addWidget(window)
    window.show()
    window._show_key(KEY)
    target = tmp_path / "chosen" / "key.pdf"
    target.parent.mkdir()

    modals = Modals(click_button("Save as PDF"), save_to(target), click_button("OK"))
    qtbot.mouseClick(window.print_button, Qt.MouseButton.LeftButton)
    modals.timer.stop()
    assert modals.unexpected == []
    assert pdfs_under(tmp_path) == [target]
    assert str(target) in modals.said[-1] and "delete the file" in modals.said[-1]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # the key: for this user's eyes only
    text = "".join(page.extract_text() for page in PdfReader(target).pages)
    assert all(group in text for group in KEY.split("-"))


def test_the_key_pdf_embeds_a_font_with_the_service_names_letters(qtbot: QtBot) -> None:
    document = build_key_document("خدمة الأمان", KEY, QDate(2026, 12, 1))
    pdf = key_pdf(document)
    reader = PdfReader(io.BytesIO(pdf))
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("DejaVuSans" in name for name in fonts), fonts
    text = unicodedata.normalize("NFKC", "".join(p.extract_text() for p in reader.pages))
    assert "خدمة" in text or "خدمة"[::-1] in text  # the letters, not empty boxes


def test_the_dpos_audit_key_is_shown_once_printed_alone_and_checks_the_seals(
    qtbot: QtBot, tmp_path: Path, keyring: MemoryKeyring
) -> None:
    printer = FakePrinter()
    window = created_window(qtbot, tmp_path, printer)
    recovery_groups = re.findall(r"\b[0-9A-Z]{5}\b", window.key_label.text())
    audit_groups = re.findall(r"\b[0-9A-Z]{5}\b", window.audit_key_label.text())
    assert len(audit_groups) == 13 and audit_groups != recovery_groups

    qtbot.mouseClick(window.print_audit_button, Qt.MouseButton.LeftButton)
    page = printer.printed[-1]
    assert "audit verification key" in page and "data protection officer" in page
    assert all(group in page for group in audit_groups)
    assert not any(group in page for group in recovery_groups)

    key = sealing.parse_verification_key("-".join(audit_groups))
    window.stored_box.click()
    qtbot.mouseClick(window.finish_button, Qt.MouseButton.LeftButton)
    assert window.audit_key_label.text() == ""
    result = accounts.verify_audit(
        tmp_path / "cases.safecase",
        "demo-admin",
        PASSWORD,
        device=DeviceSecrets(keyring),
        verification_key=key,
    )
    assert result.ok, result.problems
    assert any("are sealed and check out" in note for note in result.notes)
