"""A name in Arabic or Hebrew reads right to left, but never moves the panel it is in: the
labels stay laid out left to right, the name's words alone run the other way."""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app.ui.widgets import paragraph
from tests.helpers import CASEWORKER, CASEWORKER_PW, StoreCopy
from tests.services.casework import new_case, person, signed_in
from tests.ui.conftest import MakeApp, open_main, wait_calls

NAME = ("ليلى", "حسن")  # Layla Hassan, invented


def ink_starts_at(label: QLabel, rows: int = 0) -> int:
    """The leftmost column where the label draws text (in its first ``rows`` rows, if given),
    as a user would see it on screen."""
    image = QImage(label.size(), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    label.render(image)
    height = rows or image.height()
    for x in range(image.width()):
        if any(QColor(image.pixel(x, y)).lightness() < 128 for y in range(height)):
            return x
    raise AssertionError("the label drew no text")


def test_a_paragraph_that_starts_with_an_arabic_name_stays_at_the_left(qtbot: QtBot) -> None:
    english, arabic = paragraph("Layla Hassan"), paragraph(" ".join(NAME))
    for label in (english, arabic):
        qtbot.addWidget(label)
        label.resize(400, 40)
    assert arabic.layoutDirection() == english.layoutDirection()
    assert ink_starts_at(arabic) < 20 and ink_starts_at(english) < 20


def test_the_case_screen_keeps_an_arabic_client_name_on_the_left(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _client = new_case(s, person(*NAME, phones=("07700 900222",)))
    _app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    main.open_case(case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)
    wait_calls(qtbot, main)
    page = main.case_page
    assert page is not None
    page.tabs.setCurrentWidget(page.contact_tab)
    details = page.contact_details
    assert details.text().startswith(" ".join(NAME))
    line = details.fontMetrics().height()
    assert details.layoutDirection().name == "LeftToRight"
    # The name's line starts at the left edge, where the address and phone lines start.
    assert ink_starts_at(details, rows=line) < 20
    assert page.client_label.layoutDirection().name == "LeftToRight"
    assert ink_starts_at(page.client_label) < 20
