"""A conflict on the rights register (in a team): two laptops changed one field of a request
without seeing each other's change. The register marks the request; a manager or the DPO
chooses the value to keep here, and the choice travels like any change."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from app.services import rights
from app.services.rights import RegisterConflict
from app.services.session import Session
from app.ui.conflict_labels import candidate_text
from app.ui.forms import ChoiceBox, FormDialog
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls


def register_field_name(field: str) -> str:
    """``rights_requests.requester`` as a person calls it: "Requester"."""
    t = translate
    names = {
        "rights_requests.kind": t("RegisterConflicts", "Type of request"),
        "rights_requests.requester": t("RegisterConflicts", "Requester"),
        "rights_requests.subject_gid": t("RegisterConflicts", "Who it is about"),
        "rights_requests.subject_name": t("RegisterConflicts", "Who it is about (name)"),
        "rights_requests.subject_note": t("RegisterConflicts", "Who it is about (note)"),
        "rights_requests.by_agent": t("RegisterConflicts", "Made by an agent"),
        "rights_requests.authority_seen": t("RegisterConflicts", "Agent's authority seen"),
        "rights_requests.received_on": t("RegisterConflicts", "Received on"),
        "rights_requests.identity_confirmed_on": t("RegisterConflicts", "Identity confirmed on"),
        "rights_requests.extension_told_on": t("RegisterConflicts", "Extension given on"),
        "rights_requests.status": t("RegisterConflicts", "Status"),
        "rights_requests.outcome": t("RegisterConflicts", "Decision"),
        "rights_requests.refusal_reason": t("RegisterConflicts", "Reasons for refusal"),
        "rights_requests.responded_on": t("RegisterConflicts", "Responded on"),
        "rights_pauses.to_date": t("RegisterConflicts", "Clock restarted on"),
    }
    return names.get(field, field)


class RegisterConflictDialog(FormDialog):
    """Choose which value of one conflicting field of a request to keep."""

    def __init__(
        self,
        calls: StoreCalls,
        conflict: RegisterConflict,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        t = translate
        name = register_field_name(conflict.field)
        super().__init__(
            calls,
            t("RegisterConflicts", "Conflict on {reference}: {field}").format(
                reference=conflict.reference, field=name
            ),
            parent,
            intro=t(
                "RegisterConflicts",
                "Two laptops changed this without seeing each other's change. Choose the value "
                "to keep; every laptop holding the register keeps it once they sync.",
            ),
            save_text=t("RegisterConflicts", "&Keep this value"),
            lock_action=lock_action,
        )
        self.conflict = conflict
        self.choice = ChoiceBox(t("RegisterConflicts", "Value to keep"))
        for candidate in conflict.candidates:
            self.choice.add_choice(candidate_text(conflict.field, candidate), candidate.op_id)
        self.add_field(t("RegisterConflicts", "&Value to keep"), self.choice)

    def make_call(self) -> Callable[[Session], object]:
        conflict_id, chosen = self.conflict.id, str(self.choice.value())
        return lambda s: rights.resolve_conflict(s, conflict_id, chosen)
