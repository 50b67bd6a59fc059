"""The service's settings an admin keeps: the letterhead printed on letters (the subject access
cover letter) and the retention period, within the range the retention service allows."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from app.models.retention import Policy
from app.services import retention, sar
from app.services.sar import Letterhead
from app.services.session import Session
from app.ui.forms import FormDialog, spin_box
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls


def load(session: Session) -> tuple[Letterhead, Policy]:
    """What the dialog starts from, read in one call."""
    return sar.letterhead(session), retention.current_policy(session)


class ServiceSettingsDialog(FormDialog):
    """Letterhead (address, phone, email, data protection officer) and retention period."""

    def __init__(
        self,
        calls: StoreCalls,
        head: Letterhead,
        policy: Policy,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        t = translate
        super().__init__(
            calls,
            t("ServiceSettings", "Letterhead and retention"),
            parent,
            intro=t(
                "ServiceSettings",
                "The letterhead is printed on the cover letter of every subject access pack. "
                "Records are destroyed, after review, this many years after a case closes; "
                "every change is written to the audit trail.",
            ),
            lock_action=lock_action,
        )
        self.address_field = self.line(t("ServiceSettings", "&Address"), head.address)
        self.phone_field = self.line(t("ServiceSettings", "&Phone"), head.phone)
        self.email_field = self.line(t("ServiceSettings", "&Email"), head.email)
        self.dpo_field = self.line(t("ServiceSettings", "&Data protection officer"), head.dpo)
        self.years_field = spin_box(
            t("ServiceSettings", "Years to keep records after closure"), 1, 100, policy.years
        )
        self.add_field(t("ServiceSettings", "Keep records for (&years)"), self.years_field)
        self.child_field = spin_box(
            t("ServiceSettings", "Keep a child's records until age"),
            18,
            100,
            policy.child_until_age,
        )
        self.add_field(t("ServiceSettings", "Keep a &child's records until age"), self.child_field)
        self.address_field.setFocus()

    def make_call(self) -> Callable[[Session], object]:
        address, phone = self.address_field.text(), self.phone_field.text()
        email, dpo = self.email_field.text(), self.dpo_field.text()
        years, child = self.years_field.value(), self.child_field.value()

        def call(s: Session) -> None:
            sar.set_letterhead(s, address=address, phone=phone, email=email, dpo=dpo)
            if retention.current_policy(s) != Policy(years, child):
                retention.set_policy(s, years, child)

        return call
