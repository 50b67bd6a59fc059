"""Rights decisions carried out on a case (managers): restricting processing of the client's
record, and lifting the restriction only once the person has been told (when and how)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from app.services import cases
from app.services.cases import ToldBy
from app.services.session import Session
from app.ui.forms import FieldInvalid, FormDialog, date_edit, date_of, enum_combo
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls

Call = Callable[[Session], object]


def told_by_label(value: ToldBy) -> str:
    return {
        ToldBy.LETTER: translate("Restriction", "By letter"),
        ToldBy.PHONE: translate("Restriction", "By phone"),
        ToldBy.EMAIL: translate("Restriction", "By email"),
        ToldBy.IN_PERSON: translate("Restriction", "In person"),
    }[value]


class RestrictDialog(FormDialog):
    """Restrict processing of a person's record: it becomes read-only everywhere."""

    def __init__(
        self,
        calls: StoreCalls,
        person_id: int,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("Restriction", "Restrict processing"),
            parent,
            intro=translate(
                "Restriction",
                "While processing is restricted the client's record is read-only on every "
                "case: for example while a dispute about accuracy or an objection is decided.",
            ),
            save_text=translate("Restriction", "&Restrict"),
            lock_action=lock_action,
        )
        self.person_id = person_id
        self.reason_field = self.line(translate("Restriction", "R&eason"))

    def make_call(self) -> Call:
        reason = self.reason_field.text().strip()
        if not reason:
            raise FieldInvalid(
                self.reason_field,
                translate("RestrictDialog", "Give the reason for the restriction."),
            )
        person_id = self.person_id
        return lambda s: cases.restrict_person(s, person_id, reason)


class LiftRestrictionDialog(FormDialog):
    """Lift a restriction, recording when and how the person was told first."""

    def __init__(
        self,
        calls: StoreCalls,
        person_id: int,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("Restriction", "Lift the restriction"),
            parent,
            intro=translate(
                "Restriction",
                "The person must be told before the restriction is lifted. Record when and "
                "how they were told; it is kept in the audit trail.",
            ),
            save_text=translate("Restriction", "&Lift the restriction"),
            lock_action=lock_action,
        )
        self.person_id = person_id
        self.told_on_field = date_edit(translate("Restriction", "Told on"), self.calls.today())
        self.add_field(translate("Restriction", "&Told on"), self.told_on_field)
        self.told_by_field = enum_combo(
            translate("Restriction", "How they were told"),
            list(ToldBy),
            told_by_label,
            none_text=translate("Restriction", "Not told yet"),
        )
        self.add_field(translate("Restriction", "&How they were told"), self.told_by_field)

    def make_call(self) -> Call:
        told_by = self.told_by_field.value()
        if told_by is None:
            raise FieldInvalid(
                self.told_by_field,
                translate(
                    "LiftRestrictionDialog",
                    "Tell the person before the restriction is lifted, then record it.",
                ),
            )
        told_on, person_id = date_of(self.told_on_field), self.person_id
        return lambda s: cases.lift_restriction(s, person_id, told_on=told_on, told_by=told_by)
