"""The Contact details tab: the client's ways of contact, under the safe contact banner."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
)

from app.models.records import (
    CaseRole,
    CaseView,
)
from app.ui.case_dialogs import (
    SafeContactDialog,
)
from app.ui.case_view.base import CasePageBase
from app.ui.i18n import translate
from app.ui.widgets import keep_left_to_right


class ContactTab(CasePageBase):
    def _build_contact_tab(self) -> None:
        t = translate
        self.contact_details = QLabel()
        self.contact_details.setAccessibleName(t("CasePage", "Client's contact details"))
        self.contact_details.setWordWrap(True)
        self.contact_details.setTextFormat(Qt.TextFormat.PlainText)
        self.contact_details.setAlignment(Qt.AlignmentFlag.AlignTop)
        keep_left_to_right(self.contact_details)  # the client's name may read right to left
        self.contact_tab = self._tab_page(
            self.contact_details,
            buttons=((self.safe_contact_action, t("CasePage", "Edit safe con&tact…")),),
            stretch_end=True,
        )
        self._add_tab(self.contact_tab, t("CasePage", "Contact details"))

    def _contact_text(self, view: CaseView) -> str:
        clients = [m.person for m in view.members if m.role is CaseRole.CLIENT]
        if not clients:
            return translate("CasePage", "There is no client on this case.")
        lines: list[str] = []
        for person in clients:
            d = person.details
            lines.append(person.name)
            if d.address_confidential:
                lines.append(
                    translate(
                        "CasePage", "CONFIDENTIAL ADDRESS (refuge): never share or write to it."
                    )
                )
            if d.address or d.postcode:
                lines.append(
                    translate("CasePage", "Address: {address} {postcode}").format(
                        address=d.address.replace("\n", ", "), postcode=d.postcode
                    )
                )
            if d.phones:
                lines.append(
                    translate("CasePage", "Phone: {phones}").format(phones=", ".join(d.phones))
                )
            if d.email:
                lines.append(translate("CasePage", "E-mail: {email}").format(email=d.email))
            if d.language:
                interpreter = (
                    translate("CasePage", " (needs an interpreter)") if d.interpreter_needed else ""
                )
                lines.append(
                    translate("CasePage", "Language: {language}{interpreter}").format(
                        language=d.language, interpreter=interpreter
                    )
                )
            lines.append("")
        lines.append(
            translate(
                "CasePage",
                "Always check the safe contact banner above before using any of these.",
            )
        )
        return "\n".join(lines)

    def edit_safe_contact(self) -> None:
        view = self.view
        if view is None or not self.writable:
            return
        if view.contact.client_id is None:
            self.say(translate("CasePage", "Add the client to the case first."))
            return
        self.tabs.setCurrentWidget(self.contact_tab)
        self._open(
            SafeContactDialog(
                self.calls,
                view.case.id,
                view.contact.client_id,
                view.contact.rules,
                self,
                lock_action=self.lock_action,
            ),
            kind="edit_safe_contact",
        )
