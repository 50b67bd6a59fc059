"""The first-run window: the form's checks, the printed key, and the key never lingering."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.crypto import sealing
from app.crypto.device import DeviceSecrets
from app.services import accounts
from app.services.session import Session
from app.ui.first_run import FirstRunWindow, build_key_document, key_rows
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


def created_window(qtbot: QtBot, tmp_path: Path, printer: FakePrinter) -> FirstRunWindow:
    window = FirstRunWindow(tmp_path / "cases.safecase", kdf=TEST_KDF, print_document=printer)
    qtbot.addWidget(window)
    window.show()
    sessions: list[Session] = []
    window.store_created.connect(sessions.append)
    qtbot.keyClicks(window.service_field, "Demo Service")
    qtbot.keyClicks(window.admin_field, "demo-admin")
    qtbot.keyClicks(window.password_field, PASSWORD)
    qtbot.keyClicks(window.confirm_field, PASSWORD)
    with qtbot.waitSignal(window.store_created, timeout=5000):
        qtbot.keyClick(window.confirm_field, Qt.Key.Key_Return)  # Enter creates
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
