"""Overdue items stand out (red, bold, a warning icon, "Overdue" read out) and the navigation
counts them: shares waiting past their 48 hours, consent reviews, subject access deadlines."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QFont, QFontMetrics
from pytestqt.qtbot import QtBot

from app.models.records import (
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    LawfulBasis,
    RecipientCategory,
)
from app.models.rights import RightKind
from app.services import consent, rights, sharing
from app.ui.main_window import MainWindow
from app.ui.record_table import FLAGGED_ROLE, OVERDUE_RED, RecordTable
from tests.helpers import CASEWORKER, CASEWORKER_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import TODAY, new_case, signed_in
from tests.services.test_consent_and_sharing import share_to_police
from tests.ui.conftest import MakeApp, open_main, wait_calls

THREE_DAYS_AGO = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _share(s: object, case_id: int, client: int, reason: str) -> None:
    sharing.record_share(
        s,  # type: ignore[arg-type]
        share_to_police(
            case_id,
            (client,),
            shared_at=_stamp(THREE_DAYS_AGO)
            if "old" in reason
            else _stamp(dt.datetime.now(dt.UTC)),
            lawful_basis=LawfulBasis.SAFEGUARDING,
            reason=reason,
        ),
    )


def _overdue_world(store: StoreCopy) -> int:
    """One share three days old (late), one new; a consent review past its date; a request
    received two months ago. Returns the case's id."""
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        s.now = lambda: _stamp(THREE_DAYS_AGO)
        _share(s, case_id, client, "old: threat reported at night")
        s.now = lambda: _stamp(dt.datetime.now(dt.UTC))
        _share(s, case_id, client, "new: threat reported this morning")
        consent.record_consent(
            s,
            case_id,
            client,
            ConsentPurpose.SHARING,
            RecipientCategory.HOUSING.value,
            ConsentState.GIVEN,
            decided_on=TODAY - dt.timedelta(days=20),
            how=ConsentHow.VERBAL,
            review_date=TODAY - dt.timedelta(days=2),
        )
    with signed_in(store, MANAGER) as s:
        rights.create_request(
            s,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="The data subject",
                received_on=TODAY - dt.timedelta(days=70),
                subject_person_id=client,
                identity_confirmed_on=TODAY - dt.timedelta(days=70),
            ),
        )
    return case_id


def _nav(main: MainWindow) -> dict[str, str]:
    items = [main.navigation.item(i) for i in range(main.navigation.count())]
    return {item.text(): str(item.data(Qt.ItemDataRole.AccessibleTextRole)) for item in items}


def _flags(model: RecordTable[object]) -> list[bool]:
    return [bool(model.index(r, 0).data(FLAGGED_ROLE)) for r in range(model.rowCount())]


def test_a_manager_sees_what_is_overdue_counted_and_marked(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    _overdue_world(store)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    nav = _nav(main)
    assert "Shares to review (1 overdue)" in nav
    assert "Subject access (1 overdue)" in nav
    assert "Team cases (1 consent review overdue)" in nav
    assert nav["Shares to review (1 overdue)"] == "Shares to review (1 overdue)"
    assert "My cases" in nav  # nothing of hers is overdue
    # The list is wide enough for its longest title: none is cut short.
    widest = max(
        main.navigation.fontMetrics().horizontalAdvance(title) for title in main.area_titles()
    )
    assert main.navigation.viewport().width() >= widest

    page = main.reviews_page
    main.show_area(page)
    wait_calls(qtbot, main)
    model = page.model
    assert _flags(model) == [True, False]  # the late one first: soonest due first
    late = model.index(0, 0)
    assert str(late.data(Qt.ItemDataRole.AccessibleTextRole)).startswith("Overdue: ")
    assert late.data(Qt.ItemDataRole.DecorationRole) is not None  # the warning icon
    brush = model.index(0, 3).data(Qt.ItemDataRole.ForegroundRole)
    assert isinstance(brush, QBrush) and brush.color().name() == OVERDUE_RED
    font = model.index(0, 3).data(Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont) and font.bold()
    current = model.index(1, 0)
    assert current.data(Qt.ItemDataRole.ForegroundRole) is None
    assert not str(current.data(Qt.ItemDataRole.AccessibleTextRole)).startswith("Overdue")

    sar = main.sar_page
    main.show_area(sar)
    wait_calls(qtbot, main)
    assert _flags(sar.model) == [True]
    # The marked row's bold text and icon still fit: its reference is not cut short.
    cell = sar.table.visualRect(sar.model.index(0, 0))
    assert sar.table.columnWidth(0) >= cell.width()
    bold = QFontMetrics(
        sar.model.index(0, 0).data(Qt.ItemDataRole.FontRole).resolve(sar.table.font())
    )
    reference = str(sar.model.index(0, 0).data())
    assert bold.horizontalAdvance(reference) + 16 < sar.table.columnWidth(0)


def test_a_caseworker_sees_their_consent_reviews_counted(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    case_id = _overdue_world(store)
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    assert "My cases (1 consent review overdue)" in _nav(main)
    # On the case, the consent past its review date is marked in the Consent tab's list.
    main.open_case(case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    assert main.case_page is not None
    assert _flags(main.case_page.consent_model) == [True]
