"""Carrying out a granted erasure request: a manager proposes it from the register, an admin
reviews the plan (references and counts only) and carries it out from the Retention page, as an
early destruction logged and certified like a purge (app/services/retention.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from app.errors import InvalidInput
from app.services import retention
from app.services.backup import BackupChoice
from app.services.retention import ErasurePlan
from app.services.session import Session
from app.ui.forms import ChoiceBox, FormDialog, text_box
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls
from app.ui.widgets import paragraph


def plan_text(plan: ErasurePlan) -> str:
    """What the erasure destroys, by reference and count only."""
    t = translate
    none = t("ErasureDialog", "none")
    text = t(
        "ErasureDialog",
        "Request {reference}. Destroyed whole, early: {n} case(s) the person is the client "
        "of ({own}). Their link only is removed from {m} other case(s) ({other}), which keep "
        "everything else. Their own record, consents and safe contact go with them.",
    ).format(
        reference=plan.reference,
        n=len(plan.client_cases),
        own=", ".join(plan.client_cases) or none,
        m=len(plan.party_cases),
        other=", ".join(plan.party_cases) or none,
    )
    if plan.blocked:
        text += " " + t("retention", plan.blocked)
    return text


class ErasureDialog(FormDialog):
    """A manager proposes the erasure of the first of ``plans``; with ``carry_out`` an admin
    chooses one of the proposed ``plans`` and carries it out, after a confirmation."""

    def __init__(
        self,
        calls: StoreCalls,
        plans: Sequence[ErasurePlan],
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
        carry_out: bool = False,
        backups: BackupChoice = BackupChoice.REWRITE,
    ) -> None:
        t = translate
        super().__init__(
            calls,
            t("ErasureDialog", "Carry out the erasure"),
            parent,
            intro=t(
                "ErasureDialog",
                "A granted erasure request destroys the person's data early, through the same "
                "steps as a purge, with a certificate. One person proposes it and an admin "
                "reviews and carries it out.",
            ),
            save_text=t("ErasureDialog", "&Carry out the erasure")
            if carry_out
            else t("ErasureDialog", "&Propose the erasure"),
            lock_action=lock_action,
        )
        self.carry_out = carry_out
        self.backups = backups
        self.plan_box = ChoiceBox(t("ErasureDialog", "Erasure request"))
        for plan in plans:
            self.plan_box.add_choice(plan.reference, plan)
        self.add_field(t("ErasureDialog", "&Request"), self.plan_box)
        self.plan_label = paragraph("")
        self.plan_label.setAccessibleName(t("ErasureDialog", "What is destroyed"))
        self.form.addRow(self.plan_label)
        self.reason_field = text_box(t("ErasureDialog", "Why no other admin"), lines=2)
        if carry_out:
            self.add_field(
                t("ErasureDialog", "If you proposed it, &why no other admin"), self.reason_field
            )
            self.confirm_before_saving(
                t(
                    "ErasureDialog",
                    "Destroy this person's data for good, before its retention date? This "
                    "cannot be undone.",
                ),
                t("ErasureDialog", "&Destroy"),
            )
        else:
            self.reason_field.setParent(self)
            self.reason_field.hide()
        self.plan_box.currentIndexChanged.connect(lambda *_a: self._show_plan())
        self._show_plan()

    def _show_plan(self) -> None:
        plan = self.plan_box.value()
        self.plan_label.setText(plan_text(plan) if isinstance(plan, ErasurePlan) else "")

    def make_call(self) -> Callable[[Session], object]:
        plan = self.plan_box.value()
        if not isinstance(plan, ErasurePlan):
            raise InvalidInput("Choose the erasure request to carry out.")
        if not self.carry_out:
            return lambda s: retention.propose_erasure(s, plan.request_id)
        reason, backups = self.reason_field.toPlainText().strip(), self.backups
        return lambda s: retention.carry_out_erasure(
            s, plan.request_id, backups=backups, sole_admin_reason=reason
        )
