"""Where the window starts: managers on Team cases, caseworkers on their cases still being
worked; both newest activity first, and the list says the order it is in."""

from __future__ import annotations

import datetime as dt
import itertools

from pytestqt.qtbot import QtBot

from app.models.records import NoteKind
from app.services import cases, notes
from app.ui.case_list import CaseListPage
from tests.helpers import CASEWORKER, CASEWORKER_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import new_referral, person, signed_in, user_id
from tests.services.closed_cases import make_closed_case
from tests.ui.conftest import MakeApp, open_main, wait_calls

# Activity in this order: the closed case first (long ago), then Ames, Bell and Cole; then a
# note on Ames makes it the newest.
CLIENTS = ("Ames", "Bell", "Cole")


def _worked_cases(store: StoreCopy) -> None:
    ticks = itertools.count()
    # A minute between one change and the next, from yesterday.
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)

    def clock() -> str:
        return (start + dt.timedelta(minutes=next(ticks))).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    with signed_in(store, MANAGER) as s:
        s.now = clock
        worker = user_id(s, CASEWORKER)
        make_closed_case(s, person("Zed", "Closed"), allocate_to=worker)
        made = {
            family: new_referral(s, person("Pat", family), allocate_to=worker) for family in CLIENTS
        }
        for case_id in made.values():
            cases.open_referral(s, case_id, s.today() - dt.timedelta(days=2))
        notes.add_note(s, made["Ames"], NoteKind.CALL, "Rang back", s.moment())


def _clients(page: CaseListPage) -> list[str]:
    rows = [page.model.summary(r) for r in range(page.model.rowCount())]
    return [r.client_name.split()[-1] for r in rows if r is not None]


def test_a_manager_starts_on_team_cases_newest_activity_first(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    _worked_cases(store)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    page = main.team_cases
    assert main.pages.currentWidget() is page
    assert main.navigation.currentItem().text() == "Team cases"
    qtbot.waitUntil(lambda: page.model.exhausted)
    wait_calls(qtbot, main)
    assert _clients(page) == ["Ames", "Cole", "Bell"]  # the closed case waits under a filter
    assert page.status_filter.currentText() == "Open and referrals"
    assert page.sort_choice.currentText() == "Sorted newest activity first"


def test_a_caseworker_starts_on_their_open_cases_newest_activity_first(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    _worked_cases(store)
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    page = main.my_cases
    assert main.pages.currentWidget() is page
    qtbot.waitUntil(lambda: page.model.exhausted)
    wait_calls(qtbot, main)
    assert _clients(page) == ["Ames", "Cole", "Bell"]
    assert page.sort_choice.isVisible()
    assert page.sort_choice.currentText() == "Sorted newest activity first"

    # Closed cases are one choice away.
    page.status_filter.set_value(None)
    qtbot.waitUntil(lambda: page.model.exhausted)
    wait_calls(qtbot, main)
    assert _clients(page) == ["Ames", "Cole", "Bell", "Closed"]

    # A search shows best matches first: the list no longer claims an order it is not in.
    page.search_field.setText("Pat")
    page.run_search()
    wait_calls(qtbot, main)
    assert page.table.model() is page.search_model
    assert not page.sort_choice.isVisible()
