"""Drafts survive a lock: a half-written form comes back, with the open case and the lists'
filters, after the same user signs in again through the sign-in window; the text is never
on disk in plaintext, and another user signing in on the same laptop never sees it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
)
from pytestqt.qtbot import QtBot

from app.models.drafts import Draft
from app.models.records import (
    Answer,
    CaseStatus,
    NoteKind,
)
from app.services import drafts, notes
from app.ui.app import SafecaseApp
from app.ui.case_dialogs import ConsentDialog
from app.ui.forms import DateField, FormDialog, field_value
from app.ui.main_window import MainWindow
from app.ui.retention_page import ExtendDialog
from app.ui.reviews_page import ReviewDialog
from app.ui.rights_dialogs import CloseRequestDialog
from app.ui.sar_register import NewRequestDialog
from app.ui.users_page import AddUserDialog
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER2,
    CASEWORKER2_PW,
    CASEWORKER_PW,
    MANAGER,
    MANAGER_PW,
    StoreCopy,
)
from tests.services.casework import new_case, person, share_without_consent, signed_in
from tests.services.closed_cases import make_closed_case
from tests.services.forensics import data_key, found, read_pages
from tests.ui.conftest import MakeApp, open_main, sign_in, texts_on_screen, wait_calls
from tests.ui.test_case_view import make_rich_case
from tests.ui.test_lock import note_dialog_back
from tests.ui.test_sar_page import _register_with_a_new_request as register_with_a_new_request

HALF_NOTE = "Tamsin Quillfeather rang from the refuge about the hearing"
SEARCH_TEXT = "Quillfeather"
PLAN = "Keep the phone charged; Quillfeather's sister has a key"
LEFT = Qt.MouseButton.LeftButton


def a_case(store: StoreCopy) -> int:
    with signed_in(store, CASEWORKER) as session:
        case_id, _ = new_case(session, person("Tamsin", "Quillfeather"))
    return case_id


def open_the_case(qtbot: QtBot, main: MainWindow, case_id: int) -> None:
    main.open_case(case_id)
    qtbot.waitUntil(lambda: main.case_page is not None and main.case_page.view is not None)


def lock_with_ctrl_l(qtbot: QtBot, app: SafecaseApp) -> None:
    """Press Ctrl+L in the window that has focus (the open form, when there is one)."""
    target = QApplication.activeModalWidget() or app.main_window
    assert target is not None
    target.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is target)
    with qtbot.waitSignal(app.locked, timeout=5000):
        qtbot.keyClick(target, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)


def sign_in_again(qtbot: QtBot, app: SafecaseApp, username: str, password: str) -> MainWindow:
    window = app.sign_in_window
    assert window is not None
    with qtbot.waitSignal(app.signed_in, timeout=5000):
        sign_in(qtbot, window, username, password)
    main = app.main_window
    assert main is not None
    wait_calls(qtbot, main)
    return main


def files_holding(folder: Path, text: str) -> list[str]:
    needle = text.lower().encode("utf-8")
    return [
        str(path)
        for path in folder.rglob("*")
        if path.is_file() and needle in path.read_bytes().lower()
    ]


def test_a_half_written_note_survives_ctrl_l_and_is_saved_after_sign_in(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy, tmp_path: Path
) -> None:
    case_id = a_case(store)
    app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    open_the_case(qtbot, main, case_id)
    main.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is main)
    qtbot.keyClick(main, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = note_dialog_back(qtbot, main)
    qtbot.keyClicks(form.body_field, HALF_NOTE)
    form.kind_field.setCurrentIndex(form.kind_field.index_of(NoteKind.CALL))

    lock_with_ctrl_l(qtbot, app)
    assert app.main_window is None and HALF_NOTE not in texts_on_screen()
    # Kept only encrypted: in no file in plaintext (the store, its log, settings, temp files),
    # though the store's decrypted pages hold it.
    settings = QSettings()
    for folder in {store.path.parent, tmp_path, Path(settings.fileName()).parent}:
        if folder.exists():
            assert files_holding(folder, SEARCH_TEXT) == []
    with signed_in(store, CASEWORKER) as session:
        kept = drafts.list_drafts(session)
        assert [d.kind for d in kept] == ["window", "new_note"]
        key = data_key(session)
        session.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert SEARCH_TEXT in found(read_pages(store.path, key), [SEARCH_TEXT])

    main = sign_in_again(qtbot, app, CASEWORKER, CASEWORKER_PW)
    form = note_dialog_back(qtbot, main)
    page = main.case_page
    assert page is not None and page.case_id == case_id and page.view is not None
    assert main.pages.currentWidget() is page and page.tabs.currentWidget() is page.notes_tab
    assert form.body_field.toPlainText() == HALF_NOTE
    assert form.kind_field.value() is NoteKind.CALL
    assert form.dirty  # cancelling still asks before throwing it away

    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    assert page.note_model.rowCount() == 1
    assert page.note_model.record(0) is not None
    app.shutdown()
    with signed_in(store, CASEWORKER) as session:
        assert [n.body for n in notes.timeline(session, case_id)] == [HALF_NOTE]
        assert drafts.list_drafts(session) == []  # gone once the note was saved


def test_another_user_on_the_same_laptop_never_sees_the_draft(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    case_id = a_case(store)
    app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    open_the_case(qtbot, main, case_id)
    assert main.case_page is not None
    main.case_page.new_note()
    form = note_dialog_back(qtbot, main)
    qtbot.keyClicks(form.body_field, HALF_NOTE)
    lock_with_ctrl_l(qtbot, app)

    other = sign_in_again(qtbot, app, CASEWORKER2, CASEWORKER2_PW)
    wait_calls(qtbot, other)
    assert other.case_page is None and other.waiting_drafts == []
    assert HALF_NOTE not in texts_on_screen() and SEARCH_TEXT not in texts_on_screen()
    lock_with_ctrl_l(qtbot, app)

    # The owner still finds it; discarding it removes it.
    main = sign_in_again(qtbot, app, CASEWORKER, CASEWORKER_PW)
    form = note_dialog_back(qtbot, main)
    assert form.body_field.toPlainText() == HALF_NOTE
    form.discard()
    wait_calls(qtbot, main)
    app.shutdown()
    with signed_in(store, CASEWORKER) as session:
        assert drafts.list_drafts(session) == []
        assert notes.timeline(session, case_id) == []


def test_the_lists_filters_search_text_and_a_consent_form_come_back(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    case_id = a_case(store)
    app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    mine = main.my_cases
    mine.status_filter.setCurrentIndex(mine.status_filter.index_of(CaseStatus.REFERRAL))
    search = main.search_page
    qtbot.keyClicks(search.search_field, SEARCH_TEXT)
    open_the_case(qtbot, main, case_id)
    page = main.case_page
    assert page is not None
    page.record_consent()
    form = page.dialog
    assert isinstance(form, ConsentDialog) and form.isVisible()
    qtbot.keyClick(form.state_field, Qt.Key.Key_Down)  # the decision, by keyboard
    state_index = form.state_field.currentIndex()
    assert state_index > 0 and form.dirty
    lock_with_ctrl_l(qtbot, app)

    main = sign_in_again(qtbot, app, CASEWORKER, CASEWORKER_PW)
    qtbot.waitUntil(lambda: isinstance(getattr(main.case_page, "dialog", None), ConsentDialog))
    assert main.case_page is not None
    form = main.case_page.dialog
    assert isinstance(form, ConsentDialog) and form.isVisible()
    assert form.state_field.currentIndex() == state_index
    assert main.my_cases.status_filter.value() is CaseStatus.REFERRAL
    assert main.search_page.search_field.text() == SEARCH_TEXT


def change_every_field(qtbot: QtBot, dialog: FormDialog) -> None:
    """Change each field of a form the way a user would (typing, keys, clicks)."""
    for field in dialog._fields:
        if not field.isEnabled() or not field.isVisibleTo(dialog):
            continue
        if isinstance(field, QLineEdit) and not field.isReadOnly():
            qtbot.keyClicks(field, " Quillfeather")
        elif isinstance(field, QPlainTextEdit) and not field.isReadOnly():
            qtbot.keyClicks(field, "Synthetic words typed here")
        elif isinstance(field, QComboBox) and field.count() > 1:
            qtbot.keyClick(field, Qt.Key.Key_Down if field.currentIndex() < 1 else Qt.Key.Key_Up)
        elif isinstance(field, QAbstractButton) and field.isCheckable():
            qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
        elif isinstance(field, DateField):
            field.line.clear()
            qtbot.keyClicks(field.line, "3/4/25")
            qtbot.keyClick(field.line, Qt.Key.Key_Return)  # leaves the date as read
        elif isinstance(field, QListWidget) and field.count():
            item = field.item(0)
            checked = item.checkState() == Qt.CheckState.Checked
            item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)


def test_every_form_on_the_case_screen_comes_back_with_what_was_in_it(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    rich = make_rich_case(store)
    _app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    open_the_case(qtbot, main, rich.case_id)
    page = main.case_page
    assert page is not None
    page.select_note(0)
    page.people_table.setCurrentIndex(page.people_model.index(0, 0))
    kinds = list(page._reopeners())
    assert len(kinds) == 17
    for kind in kinds:
        page._reopeners()[kind]()
        dialog = page.open_form()
        assert dialog is not None and dialog.draft_kind == kind, kind
        wait_calls(qtbot, main)  # a form filled in from the store (MARAC) has it now
        change_every_field(qtbot, dialog)
        kept = dialog.unsaved_draft()
        assert kept is not None, kind
        typed = [field_value(f) for f in dialog._fields]
        dialog.discard()
        qtbot.waitUntil(lambda: page.open_form() is None)

        draft = Draft(-1, kept.kind, kept.case_id, kept.target_id, kept.fields, "")
        assert page.reopen_draft(draft), kind
        back = page.open_form()
        assert back is not None and back is not dialog
        wait_calls(qtbot, main)  # the pre-fill arrives, and never writes over the draft
        assert [field_value(f) for f in back._fields] == typed, kind
        assert back.dirty
        back.discard()  # its draft (a made-up one here) is then let go
        qtbot.waitUntil(lambda: page.open_form() is None)
        wait_calls(qtbot, main)


def test_a_safety_plan_and_dash_answers_survive_the_idle_lock_with_the_note_form(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    case_id = a_case(store)
    app, main = open_main(qtbot, make_app, store, CASEWORKER, CASEWORKER_PW)
    open_the_case(qtbot, main, case_id)
    page = main.case_page
    assert page is not None
    page.tabs.setCurrentWidget(page.plan_tab)
    qtbot.keyClicks(page.plan_field, PLAN)
    page.tabs.setCurrentWidget(page.dash_form)
    for number, answer in ((1, Answer.YES), (2, Answer.NO), (24, Answer.DONT_KNOW)):
        qtbot.mouseClick(page.dash_form.questions[number - 1].buttons[answer], LEFT)
    qtbot.keyClicks(page.dash_form.questions[1].source_field, "Quillfeather's neighbour")
    page.new_note()
    form = note_dialog_back(qtbot, main)
    qtbot.keyClicks(form.body_field, HALF_NOTE)
    with qtbot.waitSignal(app.locked, timeout=5000):
        main.idle_timer.setInterval(20)
        main.idle_timer.start()

    main = sign_in_again(qtbot, app, CASEWORKER, CASEWORKER_PW)
    form = note_dialog_back(qtbot, main)
    page = main.case_page
    assert page is not None
    assert (
        page.plan_field.toPlainText() == "Keep the phone charged; Quillfeather's sister has a key"
    )
    assert form.body_field.toPlainText() == HALF_NOTE
    answers = {1: Answer.YES, 2: Answer.NO, 24: Answer.DONT_KNOW}
    assert page.dash_form.answers() == answers
    assert page.dash_form.sources() == {2: "Quillfeather's neighbour"}
    form.discard()
    assert page.unsaved_changes() == ["the safety plan", "the DASH checklist"]
    page.discard_changes()  # as when leaving the case: both drafts go
    qtbot.mouseClick(page.plan_save_button, Qt.MouseButton.LeftButton)
    wait_calls(qtbot, main)
    app.shutdown()
    with signed_in(store, CASEWORKER) as session:
        assert drafts.list_drafts(session) == []


def test_a_register_form_comes_back_on_the_subject_access_page(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    app, main, reference = register_with_a_new_request(qtbot, make_app, store)
    page = main.sar_page
    page.new_request()
    form = page.dialog
    assert isinstance(form, NewRequestDialog) and form.isVisible()
    qtbot.keyClicks(form.requester_field, "Tamsin Quillfeather's solicitor")
    lock_with_ctrl_l(qtbot, app)

    main = sign_in_again(qtbot, app, MANAGER, MANAGER_PW)
    page = main.sar_page
    qtbot.waitUntil(lambda: isinstance(page.dialog, NewRequestDialog) and page.dialog.isVisible())
    assert main.pages.currentWidget() is page
    back = page.dialog
    assert isinstance(back, NewRequestDialog)
    assert back.requester_field.text() == "Tamsin Quillfeather's solicitor"

    # A step on a request comes back on that request.
    back.discard()
    assert page.select_reference(reference)
    qtbot.mouseClick(page.close_button, Qt.MouseButton.LeftButton)
    step = page.dialog
    assert isinstance(step, CloseRequestDialog)
    qtbot.keyClicks(step.reasons_field, "Quillfeather asked for the request to stop")
    lock_with_ctrl_l(qtbot, app)
    main = sign_in_again(qtbot, app, MANAGER, MANAGER_PW)
    page = main.sar_page
    qtbot.waitUntil(lambda: isinstance(page.dialog, CloseRequestDialog))
    step = page.dialog
    assert isinstance(step, CloseRequestDialog) and step.isVisible()
    assert step.reasons_field.toPlainText() == "Quillfeather asked for the request to stop"
    assert page.selected() is not None and page.selected().reference == reference


def test_a_password_typed_into_a_form_is_never_kept_in_a_draft(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    _app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    form = AddUserDialog(main.calls, "Safecase test", main)
    qtbot.addWidget(form)
    form.draft_kind = "add_user"  # as if it could be opened again
    qtbot.keyClicks(form.username_field, "new-worker")
    qtbot.keyClicks(form.password_field, "violet-harbour-lantern-93")
    qtbot.keyClicks(form.confirm_field, "violet-harbour-lantern-93")
    kept = form.unsaved_draft()
    assert kept is not None and "new-worker" in kept.fields.values()
    assert "violet-harbour-lantern-93" not in repr(kept.fields)
    form.discard()


def test_a_review_and_a_retention_decision_come_back_on_their_record(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    share_without_consent(store)
    with signed_in(store, MANAGER) as session:
        make_closed_case(session)
    app, main = open_main(qtbot, make_app, store, MANAGER, MANAGER_PW)
    reviews = main.reviews_page
    main.show_area(reviews)
    wait_calls(qtbot, main)
    reviews.table.selectRow(0)
    qtbot.mouseClick(reviews.refuse_button, Qt.MouseButton.LeftButton)
    review = reviews.dialog
    assert isinstance(review, ReviewDialog)
    qtbot.keyClicks(review.note_field, "Ask Quillfeather's housing officer to delete it")
    lock_with_ctrl_l(qtbot, app)
    main = sign_in_again(qtbot, app, MANAGER, MANAGER_PW)
    reviews = main.reviews_page
    qtbot.waitUntil(lambda: isinstance(reviews.dialog, ReviewDialog) and reviews.dialog.isVisible())
    assert isinstance(reviews.dialog, ReviewDialog)
    assert reviews.dialog.note_field.toPlainText() == (
        "Ask Quillfeather's housing officer to delete it"
    )
    app.shutdown()

    app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.retention_page
    main.show_area(page)
    wait_calls(qtbot, main)
    page.table.selectRow(0)
    chosen = page.selected()
    assert chosen is not None
    qtbot.mouseClick(page.extend_button, Qt.MouseButton.LeftButton)
    extend = page.dialog
    assert isinstance(extend, ExtendDialog)
    qtbot.keyClicks(extend.reason_field, "Court proceedings expected")
    lock_with_ctrl_l(qtbot, app)
    main = sign_in_again(qtbot, app, ADMIN, ADMIN_PW)
    page = main.retention_page
    qtbot.waitUntil(lambda: isinstance(page.dialog, ExtendDialog) and page.dialog.isVisible())
    assert isinstance(page.dialog, ExtendDialog)
    assert page.dialog.reason_field.toPlainText() == "Court proceedings expected"
    assert page.selected() == chosen


def test_a_decision_about_several_cases_comes_back_on_all_of_them(
    qtbot: QtBot, make_app: MakeApp, store: StoreCopy
) -> None:
    with signed_in(store, MANAGER) as session:
        for _ in range(3):
            make_closed_case(session)
    app, main = open_main(qtbot, make_app, store, ADMIN, ADMIN_PW)
    page = main.retention_page
    main.show_area(page)
    wait_calls(qtbot, main)
    page.table.selectRow(0)
    page.table.selectionModel().select(
        page.model.index(2, 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )
    chosen = [i.reference for i in page.selected_items()]
    assert len(chosen) == 2
    qtbot.mouseClick(page.extend_button, LEFT)
    assert isinstance(page.dialog, ExtendDialog)
    qtbot.keyClicks(page.dialog.reason_field, "Civil claims expected for both")
    lock_with_ctrl_l(qtbot, app)
    main = sign_in_again(qtbot, app, ADMIN, ADMIN_PW)
    page = main.retention_page
    qtbot.waitUntil(lambda: isinstance(page.dialog, ExtendDialog) and page.dialog.isVisible())
    assert isinstance(page.dialog, ExtendDialog)
    assert page.dialog.reason_field.toPlainText() == "Civil claims expected for both"
    assert page.dialog.references == chosen  # both cases, not just the first
    assert "Keep 2 cases until the review date below" in texts_on_screen()
    assert [i.reference for i in page.selected_items()] == chosen
