"""The steps of a rights request after it is in the register: identity confirmed (the clock
starts), the clock stopped and restarted for clarification, the extension, and the response
that closes it. Each is one service call in ``app/services/rights.py``, which checks what was
entered; its sentence shows under the form when it refuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from app.errors import InvalidInput
from app.models.rights import Outcome, RightsRequest
from app.services import rights
from app.services.session import Session
from app.ui.forms import FormDialog, check_box, date_edit, date_of, enum_combo, text_box
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls


def outcome_label(outcome: Outcome) -> str:
    return {
        Outcome.COMPLIED: translate("RightsDialogs", "Complied with in full"),
        Outcome.PARTLY_REFUSED: translate("RightsDialogs", "Refused in part"),
        Outcome.REFUSED: translate("RightsDialogs", "Refused"),
        Outcome.NO_DATA_HELD: translate("RightsDialogs", "No data held"),
        Outcome.WITHDRAWN: translate("RightsDialogs", "Withdrawn by the requester"),
    }[outcome]


class RequestStepDialog(FormDialog):
    """One step on one request; the title names the request's reference. Subclasses give
    their words in :meth:`texts` and their fields in :meth:`build`."""

    def __init__(
        self,
        calls: StoreCalls,
        request: RightsRequest,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        title, intro, save_text = self.texts()
        super().__init__(
            calls,
            title.format(reference=request.reference),
            parent,
            intro=intro,
            save_text=save_text,
            lock_action=lock_action,
        )
        self.request = request
        self.build()

    @staticmethod
    def texts() -> tuple[str, str, str]:
        """The title (with ``{reference}``), the line under it, and the save button's text."""
        raise NotImplementedError

    def build(self) -> None:
        """Add the form's fields (each subclass has its own)."""
        raise NotImplementedError

    def day(self, label: str, accessible_name: str) -> Callable[[], dt.date]:
        """A date field that starts at today; returns how to read it."""
        field = date_edit(accessible_name, self.calls.today())
        self.add_field(label, field)
        return lambda: date_of(field)


class ConfirmIdentityDialog(RequestStepDialog):
    """The requester's identity (or an agent's authority) is confirmed: the clock starts."""

    @staticmethod
    def texts() -> tuple[str, str, str]:
        t = translate
        return (
            t("RightsDialogs", "Confirm identity for {reference}"),
            t(
                "RightsDialogs",
                "The one-month clock starts on the day the requester's identity was confirmed.",
            ),
            t("RightsDialogs", "&Confirm and start the clock"),
        )

    def build(self) -> None:
        t = translate
        self.confirmed_on = self.day(
            t("RightsDialogs", "Identity confirmed &on"), t("RightsDialogs", "Confirmed on")
        )
        self.authority_field = check_box(
            t("RightsDialogs", "The agent's &authority to act was seen"),
            self.request.authority_seen,
        )
        if self.request.by_agent:
            self.add_field("", self.authority_field)
        else:
            self.authority_field.hide()

    def make_call(self) -> Callable[[Session], object]:
        on, request_id = self.confirmed_on(), self.request.id
        authority = self.authority_field.isChecked()
        # The service checks the date and, for an agent, that their authority was seen.
        return lambda s: rights.confirm_identity(s, request_id, on, authority_seen=authority)


class PauseClockDialog(RequestStepDialog):
    """Stop the clock while the requester is asked to clarify the request."""

    @staticmethod
    def texts() -> tuple[str, str, str]:
        t = translate
        return (
            t("RightsDialogs", "Stop the clock on {reference}"),
            t(
                "RightsDialogs",
                "Only while waiting for clarification the service reasonably needs. The days "
                "until it arrives are added to the due date.",
            ),
            t("RightsDialogs", "&Stop the clock"),
        )

    def build(self) -> None:
        t = translate
        self.paused_on = self.day(
            t("RightsDialogs", "Clarification &asked for on"), t("RightsDialogs", "Asked on")
        )
        self.reason_field = text_box(t("RightsDialogs", "What was asked"), lines=3)
        self.add_field(t("RightsDialogs", "&What was asked"), self.reason_field)

    def make_call(self) -> Callable[[Session], object]:
        on, request_id = self.paused_on(), self.request.id
        reason = self.reason_field.toPlainText()
        return lambda s: rights.pause_clock(s, request_id, on, reason)


class ResumeClockDialog(RequestStepDialog):
    """The clarification arrived: the clock runs again."""

    @staticmethod
    def texts() -> tuple[str, str, str]:
        t = translate
        return (
            t("RightsDialogs", "Restart the clock on {reference}"),
            t("RightsDialogs", "The clock runs again from the day the clarification arrived."),
            t("RightsDialogs", "&Restart the clock"),
        )

    def build(self) -> None:
        t = translate
        self.resumed_on = self.day(
            t("RightsDialogs", "Clarification &arrived on"), t("RightsDialogs", "Arrived on")
        )

    def make_call(self) -> Callable[[Session], object]:
        on, request_id = self.resumed_on(), self.request.id
        return lambda s: rights.resume_clock(s, request_id, on)


class ExtendDialog(RequestStepDialog):
    """A complex request: two more months, once the requester has been told why."""

    @staticmethod
    def texts() -> tuple[str, str, str]:
        t = translate
        return (
            t("RightsDialogs", "Extend {reference}"),
            t(
                "RightsDialogs",
                "A complex request may take up to three months from the start. The requester "
                "must be told, with the reasons, within the first month.",
            ),
            t("RightsDialogs", "E&xtend to three months"),
        )

    def build(self) -> None:
        t = translate
        self.told_on = self.day(
            t("RightsDialogs", "Requester &told on"), t("RightsDialogs", "Told on")
        )

    def make_call(self) -> Callable[[Session], object]:
        on, request_id = self.told_on(), self.request.id
        return lambda s: rights.extend(s, request_id, on)


class CloseRequestDialog(RequestStepDialog):
    """The response was sent: record its outcome and take the request off the open register."""

    @staticmethod
    def texts() -> tuple[str, str, str]:
        t = translate
        return (
            t("RightsDialogs", "Close {reference}"),
            t(
                "RightsDialogs",
                "Record the response. A refusal, in whole or in part, needs its reasons: the "
                "requester is told them and their right to complain to the ICO.",
            ),
            t("RightsDialogs", "C&lose the request"),
        )

    def build(self) -> None:
        t = translate
        self.outcome_field = enum_combo(t("RightsDialogs", "Outcome"), Outcome, outcome_label)
        self.add_field(t("RightsDialogs", "&Outcome"), self.outcome_field)
        self.responded_on = self.day(
            t("RightsDialogs", "Response &sent on"), t("RightsDialogs", "Sent on")
        )
        self.reasons_field = text_box(t("RightsDialogs", "Reasons for refusal"), lines=3)
        self.add_field(t("RightsDialogs", "&Reasons for refusal"), self.reasons_field)
        self.confirm_before_saving(
            t(
                "RightsDialogs",
                "Close {reference}? It leaves the open register and cannot be reopened.",
            ).format(reference=self.request.reference),
            t("RightsDialogs", "C&lose it"),
        )
        self.outcome_field.setFocus()

    def make_call(self) -> Callable[[Session], object]:
        outcome: Outcome = self.outcome_field.value()
        on, request_id = self.responded_on(), self.request.id
        reasons = self.reasons_field.toPlainText()
        if outcome.needs_reason and not reasons.strip():
            # Asked here too, so the confirmation never comes before this refusal.
            raise InvalidInput("Give the reasons for the refusal; the requester must be told them.")
        return lambda s: rights.close_request(s, request_id, outcome, on, reasons)
