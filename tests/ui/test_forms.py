"""Forms never lose or bend what a caseworker types (issue 11): stored values kept, the wheel
ignored by fields not in use, UK dates read as typed, the client first, messages beside their
field, Enter never submitting, and the share form checked as it is filled in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.models import cases as case_model
from app.models.records import CaseRole, LawfulBasis, RecipientCategory
from app.ui.case_dialogs import (
    CloseCaseDialog,
    ConsentDialog,
    LegalHoldDialog,
    NoteDialog,
    OpenWorkDialog,
    PersonDialog,
    SafeContactDialog,
)
from app.ui.case_view import CasePage
from app.ui.forms import DateField, FormDialog, OptionalDate, parse_date, show_date
from app.ui.main_window import MainWindow
from app.ui.referral_dialog import NewReferralDialog
from app.ui.retention_page import ExtendDialog
from app.ui.sar_page import NewRequestDialog
from app.ui.share_dialog import ShareDialog
from tests.helpers import CASEWORKER, CASEWORKER_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import signed_in
from tests.ui.conftest import MakeApp, answer, confirmation, wait_calls
from tests.ui.test_case_view import TODAY, RichCase, gone, make_rich_case, open_case_as


@pytest.fixture
def rich(store: StoreCopy) -> RichCase:
    return make_rich_case(store)


# -- item 1: a stored value the list lacks is shown and kept -------------------------------------


def test_safe_contact_keeps_a_recorded_way_the_list_lacks(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    with signed_in(store, CASEWORKER) as s:  # as an older store or the old demo wrote it
        s.conn.execute(
            "UPDATE safe_contacts SET method = 'text first' WHERE case_id = ?", [rich.case_id]
        )
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    page.safe_contact_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, SafeContactDialog)
    assert dialog.method_field.currentText() == "text first (as recorded)"
    dialog.times_field.clear()
    qtbot.keyClicks(dialog.times_field, "Weekday mornings only")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert page.view is not None
    rules = page.view.contact.rules
    assert rules is not None
    assert (rules.method, rules.safe_times) == ("text first", "Weekday mornings only")


# -- item 2: the wheel scrolls the form, not the field under the pointer --------------------------


def wheel(widget: QWidget, down: bool = True) -> None:
    """Turn the mouse wheel one notch over ``widget``, as the pointer passes over it."""
    centre = QPointF(widget.rect().center())
    delta = QPoint(0, -120 if down else 120)
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(widget.rect().center())),
        QPoint(0, 0),
        delta,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_the_wheel_over_a_share_form_scrolls_it_and_changes_no_field(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    _main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    page.record_share_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, ShareDialog)
    dialog.recipient_field.set_value(RecipientCategory.HOUSING)
    qtbot.waitUntil(lambda: dialog.gaps is not None)
    assert dialog.manager_field.isVisible()
    dialog.resize(dialog.width(), 300)
    area = dialog.scroll_area
    assert area is not None
    qtbot.waitUntil(lambda: area.verticalScrollBar().maximum() > 0)
    dialog.organisation_field.setFocus()
    flagged = dialog.manager_field.value()
    assert flagged is None  # no manager: flagged for review within 48 hours
    for field in (dialog.manager_field, dialog.recipient_field, dialog.when_field.time_field):
        before = (
            field.currentIndex() if hasattr(field, "currentIndex") else field.time()  # type: ignore[attr-defined]
        )
        wheel(field)
        after = field.currentIndex() if hasattr(field, "currentIndex") else field.time()  # type: ignore[attr-defined]
        assert after == before, field.accessibleName()
    assert dialog.manager_field.value() is None
    assert dialog.recipient_field.value() is RecipientCategory.HOUSING
    assert area.verticalScrollBar().value() > 0  # the form scrolled instead

    dialog.manager_field.setFocus()  # once in the field, the wheel is the user's choice
    wheel(dialog.manager_field)
    assert dialog.manager_field.value() is not None


def test_every_wheel_field_in_the_app_is_built_from_the_guarded_kinds() -> None:
    """The wheel rule lives in forms.py's ChoiceBox, NumberBox and time box: a drop-down,
    number or date box made straight from Qt anywhere else in the app would change under a
    scrolling wheel again, so none may be."""
    import re
    from pathlib import Path

    import app.ui

    raw = re.compile(r"\bQ(ComboBox|SpinBox|DoubleSpinBox|DateEdit|TimeEdit|DateTimeEdit)\(")
    offenders = [
        f"{path.name}:{number}"
        for path in Path(app.ui.__file__).parent.rglob("*.py")
        if path.name != "forms.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if raw.search(line)
    ]
    assert offenders == []


# -- item 3: the client first; an alleged perpetrator never the default ----------------------


def test_consent_and_new_people_never_default_to_the_alleged_perpetrator(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    assert page.view is not None
    perpetrator_first = sorted(page.view.members, key=lambda m: m.role is CaseRole.CLIENT)
    assert perpetrator_first[0].role is not CaseRole.CLIENT
    dialog = ConsentDialog(main.calls, rich.case_id, perpetrator_first, page)
    qtbot.addWidget(dialog)
    assert dialog.person_field.value() == rich.client_id
    assert dialog.person_field.currentText().startswith("Robin Ashdown")

    page.record_consent_action.trigger()
    opened = page.dialog
    assert isinstance(opened, ConsentDialog)
    assert opened.person_field.value() == rich.client_id
    opened.discard()

    page.record_share_action.trigger()
    share = page.dialog
    assert isinstance(share, ShareDialog)
    assert share.people_field.item(0).data(Qt.ItemDataRole.UserRole) == rich.client_id
    share.discard()

    page.add_person_action.trigger()
    adding = page.dialog
    assert isinstance(adding, PersonDialog) and adding.role_field is not None
    assert adding.role_field.value() is None
    qtbot.keyClicks(adding.given_field, "Lee")
    qtbot.mouseClick(adding.save_button, Qt.MouseButton.LeftButton)
    said = adding.message_for(adding.role_field)
    assert said is not None and said.text() == "Choose the person's role on this case."
    assert adding.isVisible()


# -- item 6: dates typed the UK way --------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["15/03/1985", "15-3-85", "15 Mar 1985", "15 March 1985", "1985-03-15", "15.03.1985"],
)
def test_a_date_is_read_as_typed_and_shown_dd_mmm_yyyy(qtbot: QtBot, typed: str) -> None:
    field = DateField("Date of birth", dt.date(2026, 1, 1), pivot=dt.date(2026, 12, 1))
    qtbot.addWidget(field)
    field.show()
    field.line.setFocus()
    field.line.selectAll()
    qtbot.keyClicks(field.line, typed)
    qtbot.keyClick(field.line, Qt.Key.Key_Return)
    assert field.line.text() == "15 Mar 1985"
    assert field.date() == dt.date(1985, 3, 15)
    assert not field.message.isVisible()


def test_two_digit_years_and_month_names() -> None:
    assert parse_date("1-12-26", 2026) == dt.date(2026, 12, 1)
    assert parse_date("29 feb 24", 2026) == dt.date(2024, 2, 29)
    assert parse_date("3rd sept 2025", 2026) == dt.date(2025, 9, 3)
    assert parse_date("  ", 2026) is None
    assert show_date(dt.date(2026, 3, 5)) == "05 Mar 2026"


def dialogs_with_dates(
    main: MainWindow, page: CasePage, rich: RichCase
) -> list[Callable[[], FormDialog]]:
    view = page.view
    assert view is not None
    case = view.case
    calls = main.calls
    return [
        lambda: SafeContactDialog(calls, case.id, rich.client_id, None, page),
        lambda: ConsentDialog(calls, case.id, view.members, page),
        lambda: NoteDialog(calls, case.id, page),
        lambda: OpenWorkDialog(calls, case, page),
        lambda: CloseCaseDialog(calls, case, page),
        lambda: LegalHoldDialog(calls, case, page),
        lambda: PersonDialog(calls, case.id, None, page, role=CaseRole.CHILD),
        lambda: NewReferralDialog(calls, user_id=1, is_manager=False, team=[], parent=page),
        lambda: ExtendDialog(calls, case.reference, page),
        lambda: NewRequestDialog(calls, page),
    ]


def test_every_date_field_refuses_an_impossible_date_beside_it(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    for make in dialogs_with_dates(main, page, rich):
        dialog = make()
        qtbot.addWidget(dialog)
        dialog.show()
        for optional in dialog.findChildren(OptionalDate):
            optional.known.setChecked(True)
        fields = dialog.findChildren(DateField)
        assert fields, dialog.accessibleName()
        for field in fields:
            field.line.setFocus()
            field.line.selectAll()
            qtbot.keyClicks(field.line, "31/02/2026")
            qtbot.keyClick(field.line, Qt.Key.Key_Return)
            name = f"{dialog.accessibleName()}: {field.accessibleName()}"
            assert field.message.isVisible(), name
            assert field.message.text().startswith("There is no day 31 in February 2026"), name
            assert field.line.text() == "31/02/2026", name  # kept as typed, to be corrected
        saved: list[object] = []
        dialog.saved.connect(saved.append)
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        wait_calls(qtbot, main)
        assert confirmation() is None
        assert dialog.isVisible() and not saved, dialog.accessibleName()
        dialog.discard()


def test_a_typed_date_is_saved_as_typed(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, MANAGER, MANAGER_PW)
    page.hold_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, LegalHoldDialog)
    qtbot.keyClicks(dialog.reason_field, "Domestic homicide review")
    review = TODAY + dt.timedelta(days=200)
    dialog.review_field.line.setFocus()
    dialog.review_field.line.selectAll()
    qtbot.keyClicks(dialog.review_field.line, review.strftime("%d/%m/%Y"))
    qtbot.keyClick(dialog.review_field.line, Qt.Key.Key_Return)
    assert dialog.isVisible()  # Enter moved on; it did not save
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    qtbot.waitUntil(lambda: gone(dialog))
    assert page.view is not None and page.view.case.legal_hold_review == review


# -- item 7: a new MARAC referral does not keep the last one's meeting -----------------------------


def test_a_new_marac_referral_shows_no_earlier_meeting(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    earlier = TODAY - dt.timedelta(days=200)
    with signed_in(store, CASEWORKER) as s:
        case_model.set_fields(
            s.conn,
            rich.case_id,
            s.now(),
            marac_referral_date=earlier,
            marac_meeting_date=earlier + dt.timedelta(days=14),
        )
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    assert "(meeting" in page.marac_label.text()
    page.marac_action.trigger()
    answer(qtbot, yes=True)
    wait_calls(qtbot, main)
    qtbot.waitUntil(lambda: page.view is not None and page.view.case.marac_referral_date == TODAY)
    assert "(meeting" not in page.marac_label.text()
    assert page.view is not None and page.view.case.marac_meeting_date is None


# -- item 14: the share form checks as it is filled in; Enter never submits ----------------------


def test_a_share_without_consent_never_offers_consent_and_says_why_save_is_off(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    _main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    page.record_share_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, ShareDialog)
    dialog.recipient_field.set_value(RecipientCategory.HOUSING)
    qtbot.waitUntil(lambda: dialog.gaps is not None)
    assert LawfulBasis.CONSENT not in dialog.basis_field.values()
    assert dialog.basis_field.value() is None
    qtbot.keyClicks(dialog.organisation_field, "Northshire Homes")
    qtbot.keyClick(dialog.organisation_field, Qt.Key.Key_Return)  # Enter: never the whole form
    assert confirmation() is None and dialog.isVisible()
    assert not dialog.save_button.isEnabled()
    said = dialog.message_for(dialog.basis_field)
    assert said is not None and said.isVisible()
    assert said.text() == "Choose the lawful basis for this share."

    dialog.basis_field.set_value(LawfulBasis.VITAL_INTERESTS)
    reason = dialog.message_for(dialog.reason_field)
    assert reason is not None and reason.text().startswith("Give the reason")
    assert not said.isVisible()  # fixed: the old message goes

    # with consent given (police, in the rich case), consent is offered and chosen
    dialog.recipient_field.set_value(RecipientCategory.POLICE)
    qtbot.waitUntil(lambda: dialog.gaps == {})
    assert LawfulBasis.CONSENT in dialog.basis_field.values()


# -- items 15 and 16: messages beside the field, in view, gone once fixed; the dialog grows --------


def test_a_message_sits_under_its_field_and_goes_when_the_field_changes(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    _main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    page.new_note_action.trigger()
    dialog = page.dialog
    assert isinstance(dialog, NoteDialog)
    qtbot.waitExposed(dialog)
    dialog.resize(dialog.minimumSizeHint())
    height = dialog.height()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    said = dialog.message_for(dialog.body_field)
    assert said is not None and said.isVisible() and said.text() == "The note is empty."
    assert said.geometry().top() >= dialog.body_field.geometry().bottom()  # under, not over
    assert dialog.body_field.height() >= dialog.body_field.minimumHeight()  # not squeezed
    assert dialog.height() > height  # the dialog grew to fit the message
    qtbot.keyClicks(dialog.body_field, "Called")
    assert not said.isVisible()


def test_a_dash_problem_is_brought_into_view(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, rich: RichCase
) -> None:
    main, page = open_case_as(qtbot, make_app, store, rich.case_id, CASEWORKER, CASEWORKER_PW)
    page.tabs.setCurrentWidget(page.dash_form)
    form = page.dash_form
    main.resize(1000, 420)
    side = form.side_area
    qtbot.waitUntil(lambda: side.verticalScrollBar().maximum() > 0)
    side.verticalScrollBar().setValue(side.verticalScrollBar().maximum())  # down at Save
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert form.problem_label.text().startswith("Answer every question")
    qtbot.waitUntil(lambda: not form.problem_label.visibleRegion().isEmpty())
