"""Preparing an access pack (managers): preview with redactions, reviewer decisions,
sign-off, export and print.

Printing saves the pack's PDF where the manager chooses (it is then printed from there); the
folder is never remembered. Export and print are refused by the service until the pack is
ready (identity confirmed, and signed off when the subject is an alleged perpetrator).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.crypto.files import atomic_write
from app.errors import InvalidInput
from app.models.redaction import Exemption, Span, code_label
from app.models.rights import RightsRequest
from app.services import sar
from app.services.sar import ExportResult, PackItem, SarPack, SignOffFacts
from app.services.session import Session
from app.ui import printing
from app.ui.errors import show_error
from app.ui.forms import FormDialog, button, enum_combo, text_box
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls
from app.ui.widgets import heading, message_label, paragraph, set_message

KEY_ROLE = Qt.ItemDataRole.UserRole
DRAFT_PREFIX = "sar:"  # the kinds of draft the register's forms are kept as


def exemption_label(code: Exemption) -> str:
    return {
        Exemption.THIRD_PARTY: translate("SarPage", "Third party"),
        Exemption.SERIOUS_HARM: translate("SarPage", "Serious harm"),
        Exemption.CRIME_PREVENTION: translate("SarPage", "Crime prevention"),
        Exemption.LEGAL_PRIVILEGE: translate("SarPage", "Legal privilege"),
        Exemption.OTHER: translate("SarPage", "Other"),
    }[code]


def redacted_html(item: PackItem) -> str:
    """The item as it will be sent: each redacted run a black box labelled with its code."""
    parts: list[str] = []
    cursor = 0
    for span in sorted(item.spans, key=lambda s: s.start):
        if span.start > cursor:
            parts.append(html.escape(item.text[cursor : span.start]))
        if span.end > cursor:
            parts.append(
                '<span style="background-color:#000000; color:#ffffff;">&nbsp;'
                + html.escape(
                    translate("SarPage", "REDACTED: {code}").format(code=code_label(span.code))
                )
                + "&nbsp;</span>"
            )
            cursor = span.end
    parts.append(html.escape(item.text[cursor:]))
    return "<p style='white-space:pre-wrap'>" + "".join(parts) + "</p>"


class ProgressRelay(QObject):
    """Carries a service's ``progress(step, total, what)`` to the main thread."""

    moved = Signal(int, int, str)

    def report(self, step: int, total: int, what: str) -> None:
        self.moved.emit(step, total, what)


def follow_progress(calls: StoreCalls, step: int, total: int, what: str) -> None:
    dialog = calls.progress_dialog
    if dialog is not None and total:
        dialog.setRange(0, total)
        dialog.setValue(step)
        dialog.setLabelText(translate("sar", what))


# -- the pack --------------------------------------------------------------------------------------


class RedactDialog(FormDialog):
    """Redact the chosen characters of one item, with the exemption that applies."""

    def __init__(
        self,
        calls: StoreCalls,
        request_id: int,
        item_key: str,
        start: int,
        end: int,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("RedactDialog", "Redact the selection"),
            parent,
            save_text=translate("RedactDialog", "&Redact"),
            lock_action=lock_action,
        )
        self.request_id, self.item_key, self.start, self.end = request_id, item_key, start, end
        self.code_field = enum_combo(
            translate("RedactDialog", "Exemption"), Exemption, exemption_label
        )
        self.reason_field = text_box(translate("RedactDialog", "Reason"), lines=3)
        self.add_field(translate("RedactDialog", "&Exemption"), self.code_field)
        self.add_field(translate("RedactDialog", "R&eason"), self.reason_field)
        self.code_field.setFocus()

    def make_call(self) -> Callable[[Session], object]:
        code: Exemption = self.code_field.value()
        reason = self.reason_field.toPlainText().strip()
        if not reason:
            raise InvalidInput("Say why the text is withheld.")
        request_id, key, start, end = self.request_id, self.item_key, self.start, self.end
        return lambda s: sar.redact(s, request_id, key, start, end, code, reason)


class DiscloseDialog(FormDialog):
    """Lift a redaction because disclosure is reasonable, with the reason."""

    def __init__(
        self,
        calls: StoreCalls,
        request_id: int,
        item_key: str,
        span: Span,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("DiscloseDialog", "Disclose a redacted part"),
            parent,
            intro=translate("DiscloseDialog", "The part is redacted with the code {code}.").format(
                code=span.code
            ),
            save_text=translate("DiscloseDialog", "&Disclose"),
            lock_action=lock_action,
        )
        self.request_id, self.item_key, self.span = request_id, item_key, span
        self.reason_field = text_box(translate("DiscloseDialog", "Reason"), lines=3)
        self.add_field(
            translate("DiscloseDialog", "&Why disclosure is reasonable"), self.reason_field
        )
        self.reason_field.setFocus()

    def make_call(self) -> Callable[[Session], object]:
        reason = self.reason_field.toPlainText().strip()
        if not reason:
            raise InvalidInput("Say why disclosing this is reasonable.")
        request_id, key, span = self.request_id, self.item_key, self.span
        return lambda s: sar.disclose(s, request_id, key, span.start, span.end, reason)


def _fact(text: str) -> QLabel:
    """One fact the signer reads (selectable, so a SHA-256 can be copied and compared)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName(text)
    return label


class SignOffDialog(FormDialog):
    """A manager signs off exactly the pack shown: its reference, subject, entries and SHA-256,
    with a note saying what was checked. A manager who prepared the pack gives the reason no
    other manager could sign it."""

    def __init__(
        self,
        calls: StoreCalls,
        request_id: int,
        facts: SignOffFacts,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        t = translate
        super().__init__(
            calls,
            t("SignOffDialog", "Sign off the access pack"),
            parent,
            intro=t(
                "SignOffDialog",
                "You are signing off this pack exactly as it stands. Any later change to what "
                "goes out needs a new sign-off.",
            ),
            save_text=t("SignOffDialog", "&Sign off"),
            lock_action=lock_action,
        )
        self.request_id, self.facts = request_id, facts
        self.form.addRow(t("SignOffDialog", "Request:"), _fact(facts.reference))
        self.form.addRow(t("SignOffDialog", "Subject:"), _fact(facts.subject))
        self.form.addRow(t("SignOffDialog", "Entries:"), _fact(f"{facts.entries:,}"))
        self.form.addRow(t("SignOffDialog", "SHA-256:"), _fact(facts.digest))
        self.form.addRow(
            t("SignOffDialog", "Prepared by:"),
            _fact(", ".join(facts.prepared_by) or t("SignOffDialog", "nobody yet")),
        )
        self.note_field = text_box(t("SignOffDialog", "Note"), lines=3)
        self.add_field(t("SignOffDialog", "&Note (what you checked)"), self.note_field)
        self.reason_field = text_box(t("SignOffDialog", "Why no other manager can sign"), lines=2)
        if facts.you_prepared:
            self.body.insertWidget(
                2,
                paragraph(
                    t(
                        "SignOffDialog",
                        "You prepared this pack, so another manager should sign it off "
                        "({n} other manager(s) on record). Sign it yourself only if none is "
                        "available, and say why: the reason is kept with the sign-off.",
                    ).format(n=facts.other_managers)
                ),
            )
            self.add_field(t("SignOffDialog", "&Why no other manager can sign"), self.reason_field)
        else:
            self.reason_field.hide()
        self.note_field.setFocus()

    def make_call(self) -> Callable[[Session], object]:
        note = self.note_field.toPlainText().strip()
        if not note:
            raise InvalidInput("Add a note saying what you checked before signing the pack off.")
        reason = self.reason_field.toPlainText().strip() if self.facts.you_prepared else ""
        if self.facts.you_prepared and len(reason) < sar.MIN_SOLE_REASON:
            raise InvalidInput("You prepared this pack: say why no other manager can sign it off.")
        request_id, digest = self.request_id, self.facts.digest
        return lambda s: sar.sign_off(
            s, request_id, note, sole_manager_reason=reason, expected_sha256=digest
        )


class PackDialog(QDialog):
    """Preview an access pack: sections and items, redactions as black boxes, reviewer
    decisions, sign-off, export and print."""

    exported = Signal(object)  # ExportResult

    def __init__(
        self,
        calls: StoreCalls,
        request: RightsRequest,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(parent)
        self.calls = calls
        self.request = request
        self.lock_action = lock_action
        self.pack: SarPack | None = None
        self.dialog: FormDialog | None = None
        self.choose_folder: Callable[[], str] = lambda: ""
        self.choose_pdf_file: Callable[[str], str] = lambda _s: ""
        self.ask_printer: printing.AskPrinter = printing.ask_with_dialog
        self.warning_box: QMessageBox | None = None
        t = translate
        title = t("PackDialog", "Access pack for {reference}").format(reference=request.reference)
        self.setWindowTitle(t("PackDialog", "Safecase"))
        self.setAccessibleName(title)
        self.setModal(True)
        self.resize(1000, 700)
        if lock_action is not None:
            self.addAction(lock_action)

        self.warning_label = QLabel()
        self.warning_label.setObjectName("warningBanner")
        self.warning_label.setAccessibleName(t("PackDialog", "Warning"))
        self.warning_label.setWordWrap(True)
        self.warning_label.setTextFormat(Qt.TextFormat.PlainText)
        self.warning_label.setStyleSheet(
            "QLabel { background: #b00020; color: white; font-weight: bold; padding: 8px; }"
        )
        self.warning_label.setVisible(False)
        self.notes_label = message_label(t("PackDialog", "Notes on the pack"), "status")

        self.tree = QTreeWidget()
        self.tree.setAccessibleName(t("PackDialog", "Sections and items"))
        self.tree.setHeaderLabels([t("PackDialog", "Pack contents")])
        self.sent_view = QTextBrowser()
        self.sent_view.setAccessibleName(t("PackDialog", "As it will be sent"))
        self.sent_view.setOpenLinks(False)
        self.full_view = QPlainTextEdit()
        self.full_view.setReadOnly(True)
        self.full_view.setTabChangesFocus(True)
        self.full_view.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByKeyboard
            | Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.full_view.setAccessibleName(t("PackDialog", "Full text, to select a part"))
        self.spans_list = QListWidget()
        self.spans_list.setAccessibleName(t("PackDialog", "Redacted parts"))

        self.redact_button = button(t("PackDialog", "&Redact selection…"))
        self.disclose_button = button(t("PackDialog", "&Disclose redacted part…"))
        self.sign_off_button = button(t("PackDialog", "&Sign off"))
        self.export_button = button(t("PackDialog", "E&xport…"))
        self.print_button = button(t("PackDialog", "&Print…"))
        self.save_pdf_button = button(t("PackDialog", "Sa&ve as PDF…"))
        self.close_button = button(t("PackDialog", "&Close"))
        self.status_label = message_label(t("PackDialog", "Status"), "status")

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(QLabel(t("PackDialog", "As it will be sent:")))
        right_layout.addWidget(self.sent_view, 2)
        full_label = QLabel(t("PackDialog", "&Full text (select a part to redact):"))
        full_label.setBuddy(self.full_view)
        right_layout.addWidget(full_label)
        right_layout.addWidget(self.full_view, 2)
        spans_label = QLabel(t("PackDialog", "Redacted &parts:"))
        spans_label.setBuddy(self.spans_list)
        right_layout.addWidget(spans_label)
        right_layout.addWidget(self.spans_list, 1)
        decide = QHBoxLayout()
        decide.addWidget(self.redact_button)
        decide.addWidget(self.disclose_button)
        decide.addStretch(1)
        right_layout.addLayout(decide)
        splitter = QSplitter()
        splitter.addWidget(self.tree)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 2)

        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        for widget in (
            self.sign_off_button,
            self.export_button,
            self.print_button,
            self.save_pdf_button,
            self.close_button,
        ):
            buttons.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(title))
        layout.addWidget(self.warning_label)
        layout.addWidget(self.notes_label)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

        self.relay = ProgressRelay(self)
        self.relay.moved.connect(
            lambda step, total, what: follow_progress(calls, step, total, what)
        )
        self.tree.currentItemChanged.connect(self._item_chosen)
        self.spans_list.currentRowChanged.connect(self._span_chosen)
        self.full_view.selectionChanged.connect(self._update_buttons)
        self.redact_button.clicked.connect(self.redact_selection)
        self.disclose_button.clicked.connect(self.disclose_span)
        self.sign_off_button.clicked.connect(self.sign_off)
        self.export_button.clicked.connect(self.export)
        self.print_button.clicked.connect(self.print_on_paper)
        self.save_pdf_button.clicked.connect(self.save_pdf)
        self.close_button.clicked.connect(self.reject)
        QWidget.setTabOrder(self.tree, self.sent_view)
        QWidget.setTabOrder(self.sent_view, self.full_view)
        QWidget.setTabOrder(self.full_view, self.spans_list)
        self._update_buttons()

    # -- loading ----------------------------------------------------------------------------------

    def _show_error(self, error: BaseException) -> None:
        show_error(self, error)

    def load(self) -> None:
        request_id = self.request.id
        self.calls.run(
            lambda s: sar.preview(s, request_id),
            self._arrived,
            self._show_error,
            receiver=self,
            label=translate("PackDialog", "Gathering the pack…"),
        )

    def _arrived(self, pack: SarPack) -> None:
        chosen = self.current_key()
        self.pack = pack
        self.warning_label.setText("\n".join(pack.warnings) if pack.perpetrator else "")
        self.warning_label.setAccessibleDescription(self.warning_label.text())
        self.warning_label.setVisible(pack.perpetrator)
        others = [w for w in pack.warnings if not pack.perpetrator]
        if pack.by_hand:  # the safe-contact rules: the covering letter carries no address
            others.append(
                translate("PackDialog", "Hand the pack over; do not post it. {reason}").format(
                    reason=pack.by_hand
                )
            )
        set_message(self.notes_label, "\n".join(others) or None)
        self.tree.clear()
        select: QTreeWidgetItem | None = None
        for section in pack.sections:
            top = QTreeWidgetItem(
                [f"{section.title} ({section.dates})" if section.dates else section.title]
            )
            self.tree.addTopLevelItem(top)
            for entry in section.entries:
                middle = QTreeWidgetItem([f"{entry.heading} {entry.date}".strip()])
                top.addChild(middle)
                for item in entry.items:
                    text = item.label
                    if item.redacted:
                        text += " " + translate("PackDialog", "(redacted parts: {n})").format(
                            n=len(item.spans)
                        )
                    leaf = QTreeWidgetItem([text])
                    leaf.setData(0, KEY_ROLE, item.key)
                    middle.addChild(leaf)
                    if item.key == chosen:
                        select = leaf
        self.tree.expandAll()
        if select is not None:
            self.tree.setCurrentItem(select)
        else:
            self._show_item(None)
        set_message(
            self.status_label,
            translate("PackDialog", "Signed off; ready to send.")
            if pack.signed_off
            else translate("PackDialog", "Ready to send.")
            if pack.ready
            else translate("PackDialog", "Not ready to send yet."),
        )
        self._update_buttons()

    # -- choosing ---------------------------------------------------------------------------------

    def current_key(self) -> str | None:
        node = self.tree.currentItem()
        key = node.data(0, KEY_ROLE) if node is not None else None
        return key if isinstance(key, str) else None

    def current_item(self) -> PackItem | None:
        key = self.current_key()
        if key is None or self.pack is None:
            return None
        for item in self.pack.items():
            if item.key == key:
                return item
        return None

    def select_item(self, key: str) -> bool:
        for node in self._leaves():
            if node.data(0, KEY_ROLE) == key:
                self.tree.setCurrentItem(node)
                return True
        return False

    def _leaves(self) -> list[QTreeWidgetItem]:
        found: list[QTreeWidgetItem] = []
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            node = stack.pop()
            if node is None:
                continue
            if node.data(0, KEY_ROLE) is not None:
                found.append(node)
            stack.extend(node.child(i) for i in range(node.childCount()))
        return found

    def _item_chosen(self, *_args: object) -> None:
        self._show_item(self.current_item())

    def _show_item(self, item: PackItem | None) -> None:
        self.spans_list.clear()
        if item is None:
            self.sent_view.clear()
            self.full_view.clear()
        else:
            self.sent_view.setHtml(redacted_html(item))
            self.full_view.setPlainText(item.text)
            for span in item.spans:
                why = f" ({span.why})" if span.why else ""
                entry = QListWidgetItem(
                    translate("PackDialog", "{code}: “{text}”{why}").format(
                        code=code_label(span.code), text=item.text[span.start : span.end], why=why
                    )
                )
                self.spans_list.addItem(entry)
        self._update_buttons()

    def _span_chosen(self, row: int) -> None:
        item = self.current_item()
        if item is None or not 0 <= row < len(item.spans):
            return
        span = item.spans[row]
        cursor = self.full_view.textCursor()
        cursor.setPosition(span.start)
        cursor.setPosition(span.end, QTextCursor.MoveMode.KeepAnchor)
        self.full_view.setTextCursor(cursor)
        self._update_buttons()

    def selected_range(self) -> tuple[int, int] | None:
        cursor = self.full_view.textCursor()
        start, end = cursor.selectionStart(), cursor.selectionEnd()
        return (start, end) if end > start else None

    def select_text(self, start: int, end: int) -> None:
        cursor = self.full_view.textCursor()
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        self.full_view.setTextCursor(cursor)

    def selected_span(self) -> Span | None:
        item = self.current_item()
        row = self.spans_list.currentRow()
        if item is None or not 0 <= row < len(item.spans):
            return None
        return item.spans[row]

    def _update_buttons(self, *_args: object) -> None:
        has_item = self.current_item() is not None
        self.redact_button.setEnabled(has_item and self.selected_range() is not None)
        span = self.selected_span()
        self.disclose_button.setEnabled(span is not None and not span.protected)
        loaded = self.pack is not None
        for widget in (
            self.sign_off_button,
            self.export_button,
            self.print_button,
            self.save_pdf_button,
        ):
            widget.setEnabled(loaded)

    # -- deciding ---------------------------------------------------------------------------------

    def redact_selection(self) -> None:
        item, chosen = self.current_item(), self.selected_range()
        if item is None or chosen is None:
            return
        dialog = RedactDialog(
            self.calls, self.request.id, item.key, *chosen, self, lock_action=self.lock_action
        )
        self._open(dialog, translate("PackDialog", "Redacted."))

    def disclose_span(self) -> None:
        item, span = self.current_item(), self.selected_span()
        if item is None or span is None:
            return
        dialog = DiscloseDialog(
            self.calls, self.request.id, item.key, span, self, lock_action=self.lock_action
        )
        self._open(dialog, translate("PackDialog", "Disclosed."))

    def _open(self, dialog: FormDialog, done: str) -> None:
        self.dialog = dialog

        def saved(_value: object) -> None:
            set_message(self.status_label, done)
            self.load()

        dialog.saved.connect(saved)
        dialog.open()

    def sign_off(self, *_args: object, then: Callable[[SignOffDialog], None] | None = None) -> None:
        """Read what would be signed, then ask for the note (and, for the manager who prepared
        the pack, the reason no other could sign); ``then`` gets the dialog once it is open
        (a sign-off kept at a lock puts its draft back)."""
        request_id = self.request.id
        self.calls.run(
            lambda s: sar.signoff_facts(s, request_id),
            lambda facts: self._sign_off_facts(facts, then),
            self._show_error,
            receiver=self,
        )

    def _sign_off_facts(
        self, facts: SignOffFacts, then: Callable[[SignOffDialog], None] | None = None
    ) -> None:
        dialog = SignOffDialog(
            self.calls, self.request.id, facts, self, lock_action=self.lock_action
        )
        # Kept at a lock, as the register's own forms are: it opens again on this request.
        dialog.draft_kind = DRAFT_PREFIX + SignOffDialog.__name__
        dialog.draft_target = self.request.id
        self._open(dialog, translate("PackDialog", "Signed off."))
        if then is not None:
            then(dialog)

    # -- sending ----------------------------------------------------------------------------------

    def not_ready_text(self) -> str | None:
        """Why the pack may not be sent yet, before any file or folder is asked for."""
        pack = self.pack
        if pack is None:
            return translate("PackDialog", "Wait for the pack to be gathered.")
        if pack.request.identity_confirmed_on is None:
            return translate(
                "PackDialog",
                "Not ready: confirm the requester's identity (or an agent's authority) first.",
            )
        if pack.needs_signoff and not pack.signed_off:
            return translate(
                "PackDialog",
                "Needs sign-off: a manager must check this pack and sign it off before it is "
                "exported or printed.",
            )
        return None

    def _refuse_unready(self) -> bool:
        problem = self.not_ready_text()
        if problem is not None:
            set_message(self.status_label, problem)
        return problem is not None

    def export(self) -> None:
        if self._refuse_unready():
            return
        chosen = self.choose_folder()
        if not chosen:
            return
        folder, request_id, relay = Path(chosen), self.request.id, self.relay
        self.calls.run(
            lambda s: sar.export_pack(s, request_id, folder, progress=relay.report),
            self._exported,
            self._show_error,
            receiver=self,
            label=translate("PackDialog", "Exporting the pack…"),
        )

    def _exported(self, result: ExportResult) -> None:
        set_message(
            self.status_label,
            translate("PackDialog", "Exported: {files}.").format(
                files=", ".join(p.name for p in result.written)
            ),
        )
        self.exported.emit(result)

    def print_on_paper(self) -> None:
        """Print the pack through the system print dialog; the print is audited."""
        if self._refuse_unready():
            return
        request_id, relay = self.request.id, self.relay

        def printed(pages: int) -> None:
            set_message(
                self.status_label,
                translate("PackDialog", "Sent to the printer. Pages: {n}.").format(n=pages),
            )

        printing.print_from_store(
            self.calls,
            self,
            self.ask_printer,
            self.request.reference,
            lambda s: sar.print_pack(s, request_id, progress=relay.report),
            printed,
            self._show_error,
            label=translate("PackDialog", "Laying out the pack…"),
        )

    def save_pdf(self) -> None:
        """Save the pack's PDF, after a warning that the file is not encrypted, to a file the
        user picks."""
        if self._refuse_unready():
            return
        self.warning_box = printing.warn_not_encrypted(
            self,
            translate("PackDialog", "Save the pack as a PDF"),
            self._save_pdf_to_chosen_file,
            lock_action=self.lock_action,
        )

    def _save_pdf_to_chosen_file(self) -> None:
        chosen = self.choose_pdf_file(f"{self.request.reference}.pdf")
        if not chosen:
            return
        out, request_id, relay = Path(chosen), self.request.id, self.relay
        if out.suffix.lower() != ".pdf":
            out = out.with_name(out.name + ".pdf")

        def call(s: Session) -> Path:
            if out.is_dir() or not out.parent.is_dir():
                raise InvalidInput("Choose a PDF file in a folder that exists for the pack.")
            atomic_write(out, sar.print_pack(s, request_id, progress=relay.report))
            return out

        self.calls.run(
            call,
            lambda path: set_message(
                self.status_label,
                translate("PackDialog", "PDF saved, not encrypted: {name}.").format(name=path.name),
            ),
            self._show_error,
            receiver=self,
            label=translate("PackDialog", "Laying out the pack…"),
        )
