"""Risk over time (every DASH with its date, the MARAC meeting and the actions agreed there) and
the outcomes recorded when a case closes: through the services, into the store, the subject
access pack and out again with a purge."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.crypto.connection import connect
from app.errors import InvalidInput, PermissionDenied
from app.models import retention as retention_model
from app.models.records import (
    AbuseChange,
    Answer,
    CaseOutcome,
    ClosureReason,
    Engagement,
    ExitRisk,
    FeelingSafer,
    QualityOfLife,
    RiskLevel,
)
from app.models.rights import RightKind
from app.models.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from app.services import audit, cases, rights, risk, sar
from tests.helpers import CASEWORKER, CASEWORKER2, MANAGER, StoreCopy
from tests.services.casework import TODAY, audit_head, audit_since, new_case, signed_in

DAY = dt.timedelta(days=1)


def yes_answers(count: int) -> dict[int, Answer]:
    return {q: Answer.YES if q <= count else Answer.NO for q in range(1, 25)}


def test_every_dash_is_kept_with_its_date_and_the_case_shows_the_history(
    store: StoreCopy,
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        risk.record_dash(s, case_id, client, yes_answers(15), completed_on=TODAY - 20 * DAY)
        risk.record_dash(s, case_id, client, yes_answers(11), completed_on=TODAY - 10 * DAY)
        risk.record_dash(s, case_id, client, yes_answers(4), completed_on=TODAY)
        view = cases.open_case(s, case_id)
    history = [(d.completed_on, d.yes_count, d.level) for d in view.dash_history]
    assert history == [
        (TODAY, 4, RiskLevel.STANDARD),
        (TODAY - 10 * DAY, 11, RiskLevel.MEDIUM),
        (TODAY - 20 * DAY, 15, RiskLevel.HIGH),
    ]
    assert view.case.risk_level is RiskLevel.STANDARD  # the current level is the newest


def test_a_marac_referral_keeps_its_meeting_date_and_the_actions_until_done(
    store: StoreCopy,
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _client = new_case(s)
        with pytest.raises(InvalidInput, match="MARAC referral before"):
            risk.set_marac_meeting(s, case_id, TODAY)
        with pytest.raises(InvalidInput, match="MARAC referral before"):
            risk.add_marac_action(s, case_id, "Refuge place", "Housing", TODAY)
        risk.record_marac_referral(s, case_id, TODAY - 5 * DAY)
        with pytest.raises(InvalidInput, match="before the MARAC referral"):
            risk.set_marac_meeting(s, case_id, TODAY - 6 * DAY)
        risk.set_marac_meeting(s, case_id, TODAY + 9 * DAY)
        with pytest.raises(InvalidInput, match="who owns"):
            risk.add_marac_action(s, case_id, "Police marker", " ", TODAY)
        head = audit_head(s)
        first = risk.add_marac_action(
            s, case_id, "Flag the address", "Northfield Police", TODAY + 7 * DAY
        )
        second = risk.add_marac_action(s, case_id, "Refuge place", "Housing team", TODAY + 2 * DAY)
        risk.mark_marac_action_done(s, first, TODAY)
        with pytest.raises(InvalidInput, match="already marked done"):
            risk.mark_marac_action_done(s, first, TODAY)
        view = cases.open_case(s, case_id)
        entries = audit_since(s, head)
    assert view.case.marac_meeting == TODAY + 9 * DAY
    shown = [(a.id, a.owner, a.due_on, a.done_on) for a in view.marac_actions]
    assert shown == [
        (second, "Housing team", TODAY + 2 * DAY, None),  # open first, soonest due
        (first, "Northfield Police", TODAY + 7 * DAY, TODAY),
    ]
    actions = [e for e in entries if e.action.startswith("marac_action")]
    assert [e.action for e in actions] == [
        audit.MARAC_ACTION_ADDED,
        audit.MARAC_ACTION_ADDED,
        audit.MARAC_ACTION_DONE,
    ]
    for entry in actions:  # ids only, never what the action says or who owns it
        assert "Police" not in entry.detail and "Refuge" not in entry.detail
        assert entry.detail.startswith("marac_action:")


def test_someone_elses_caseworker_cannot_see_or_mark_the_actions(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _client = new_case(s)
        risk.record_marac_referral(s, case_id, TODAY)
        action = risk.add_marac_action(s, case_id, "Refuge place", "Housing", TODAY)
    with signed_in(store, CASEWORKER2) as s, pytest.raises(PermissionDenied):
        risk.mark_marac_action_done(s, action, TODAY)


OUTCOME = CaseOutcome(
    reason=ClosureReason.SUPPORT_COMPLETED,
    risk_at_exit=ExitRisk.MEDIUM,
    abuse=AbuseChange.REDUCED,
    feeling_safer=FeelingSafer.DECLINED,
    quality_of_life=QualityOfLife.IMPROVED,
    engagement=Engagement.PARTLY,
)


def test_closing_records_the_outcomes_and_reopening_clears_them(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _client = new_case(s)
    with signed_in(store, MANAGER) as s:
        head = audit_head(s)
        cases.close_case(s, case_id, TODAY, "Support completed", OUTCOME)
        assert cases.open_case(s, case_id).outcome == OUTCOME
        [closed] = [e for e in audit_since(s, head) if e.action == audit.CASE_CLOSED]
        assert closed.detail == "outcome=yes"
        cases.reopen_case(s, case_id)
        assert cases.open_case(s, case_id).outcome is None
        cases.close_case(s, case_id, TODAY, "Moved out of the area")
        assert cases.open_case(s, case_id).outcome is None


def test_the_subject_access_pack_holds_the_outcomes_and_the_marac_actions(
    store: StoreCopy,
) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, client = new_case(s)
        risk.record_marac_referral(s, case_id, TODAY)
        risk.add_marac_action(s, case_id, "Sanctuary scheme fitting", "Housing team", TODAY)
    with signed_in(store, MANAGER) as s:
        cases.close_case(s, case_id, TODAY, "Support completed", OUTCOME)
        draft = rights.RequestDraft(
            kind=RightKind.ACCESS,
            requester="The data subject",
            received_on=TODAY,
            subject_person_id=client,
            identity_confirmed_on=TODAY,
        )
        request = rights.create_request(s, draft).id
        text = "\n".join(item.text for item in sar.preview(s, request).items())
    assert "Sanctuary scheme fitting" in text and "Housing team" in text
    assert "partly" in text and "declined" in text and "reduced" in text


def test_destroying_a_case_removes_its_outcomes_and_marac_actions(store: StoreCopy) -> None:
    with signed_in(store, CASEWORKER) as s:
        case_id, _client = new_case(s)
        risk.record_marac_referral(s, case_id, TODAY)
        risk.add_marac_action(s, case_id, "Refuge place", "Housing", TODAY)
    with signed_in(store, MANAGER) as s:
        cases.close_case(s, case_id, TODAY, "Support completed", OUTCOME)
        counts = retention_model.destroy_case(s.conn, case_id)
        left = [
            s.conn.execute(sql, (case_id,)).fetchone()[0]
            for sql in (
                "SELECT count(*) FROM marac_actions WHERE case_id = ?",
                "SELECT count(*) FROM case_outcomes WHERE case_id = ?",
            )
        ]
    assert counts["marac_actions"] == counts["case_outcomes"] == 1
    assert left == [0, 0]


def test_a_store_from_before_these_records_migrates_with_its_cases(tmp_path: Path) -> None:
    conn = connect(tmp_path / "old.safecase", bytes(range(32)), create=True)
    try:
        migrate(conn, MIGRATIONS[:9])
        now = "2026-01-05T10:00:00.000000Z"
        conn.execute(
            "INSERT INTO cases (id, reference, status, referral_date, closed_date, "
            "closed_reason, created_at, updated_at) "
            "VALUES (1, 'SC-2026-000001', 'closed', '2026-01-05', '2026-02-01', 'Done', ?, ?)",
            (now, now),
        )
        assert migrate(conn) == SCHEMA_VERSION
        row = conn.execute("SELECT closed_reason FROM cases WHERE id = 1").fetchone()
        assert row[0] == "Done"
        assert conn.execute("SELECT count(*) FROM case_outcomes").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM marac_actions").fetchone()[0] == 0
    finally:
        conn.close()
