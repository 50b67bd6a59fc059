"""The rights register, the breach log and subject access packs across a team, in one process:
separate stores, one in-memory keyring, a tmp folder.

The admin's laptop (its user also a manager) makes the team with a case allocated to a
caseworker, then the DPO and two caseworkers join with new stores. Everything reaches the
other laptops by syncing only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.models import breaches as breach_model
from app.models import deadlines
from app.models.breaches import ClockState, Facts, Risk, Source
from app.models.records import NoteKind
from app.models.rights import Outcome, RightKind
from app.models.users import Role
from app.services import accounts, breaches, cases, notes, rights, sar
from app.services import team as team_service
from app.services.rights import RequestDraft
from app.services.session import Session
from app.sync import ops
from tests.helpers import ADMIN, CASEWORKER, CASEWORKER2, DPO, MANAGER, MemoryKeyring, StoreCopy
from tests.services.casework import new_case, person, signed_in, user_id
from tests.sync.team_world import case_by_gid, give_roles, join_laptop, later

CLIENT_GIVEN, CLIENT_FAMILY = "Qzregistergiven", "Qzregisterfamily"
PASSWORDS = {
    DPO: "harbour-lantern-quince-64",
    CASEWORKER: "birch-canyon-ember-58",
    CASEWORKER2: "saffron-glacier-quill-36",
}


@dataclasses.dataclass
class Team:
    admin: Session  # an admin who also manages: holds every case and the register
    dpo: Session
    cole: Session  # the caseworker the case is allocated to
    cara: Session  # another caseworker
    case_id: int  # on the admin's laptop
    case_gid: str
    client_id: int  # on the admin's laptop


def sync(*laptops: Session) -> None:
    for laptop in laptops:
        team_service.sync(laptop)


@pytest.fixture
def team(store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path) -> Iterator[Team]:
    shared = tmp_path / "shared"
    shared.mkdir()
    laptops = tmp_path / "laptops"
    with signed_in(store, ADMIN) as s:
        give_roles(s, frozenset({Role.ADMIN, Role.MANAGER}))
    with signed_in(store, ADMIN) as admin:
        admin.roles = frozenset({Role.ADMIN, Role.MANAGER})
        case_id, client_id = new_case(admin, person(CLIENT_GIVEN, CLIENT_FAMILY))
        cases.open_referral(admin, case_id, admin.today())
        cases.allocate(admin, case_id, user_id(admin, CASEWORKER))
        case_gid = ops.gid_of(admin.conn, "cases", case_id)
        assert case_gid is not None
        team_service.create_team(admin, shared)
        joined = [join_laptop(admin, name, laptops, keyring, PASSWORDS[name]) for name in PASSWORDS]
        try:
            dpo, cole, cara = joined
            for _ in range(2):
                sync(admin, dpo, cole, cara)
            yield Team(admin, dpo, cole, cara, case_id, case_gid, client_id)
        finally:
            for laptop in joined:
                if laptop.active:
                    accounts.sign_out(laptop)


def _draft(session: Session, **fields: object) -> RequestDraft:
    base: dict[str, object] = {
        "kind": RightKind.ACCESS,
        "requester": "Qzrequester Person",
        "received_on": session.today() - dt.timedelta(days=3),
        "subject_note": "Qzsubject not on record",
        "identity_confirmed_on": session.today() - dt.timedelta(days=2),
    }
    return RequestDraft(**{**base, **fields})  # type: ignore[arg-type]


def _clock(session: Session, reference: str) -> tuple[object, ...]:
    found = rights.find_request(session, reference)
    return (
        found.reference,
        found.status,
        found.identity_confirmed_on,
        found.due_on,
        found.extended_to,
        found.extension_told_on,
        found.paused,
        found.deadline,
        found.requester,
    )


def test_a_request_logged_on_the_dpos_laptop_keeps_its_reference_and_clock_on_a_managers(
    team: Team,
) -> None:
    today = team.dpo.today()
    logged = rights.create_request(team.dpo, _draft(team.dpo))
    assert logged.due_on is not None
    sync(team.dpo, team.admin)

    there = rights.find_request(team.admin, logged.reference)
    assert _clock(team.admin, logged.reference) == _clock(team.dpo, logged.reference)
    assert there.subject_note == "Qzsubject not on record"

    # The manager extends it; the DPO stops the clock for clarification and restarts it:
    # after syncing both laptops show the same extended deadline, two paused days later.
    rights.extend(team.admin, there.id, today - dt.timedelta(days=1))
    sync(team.admin, team.dpo)
    extended = rights.find_request(team.dpo, logged.reference)
    assert extended.extended_to is not None
    assert _clock(team.dpo, logged.reference) == _clock(team.admin, logged.reference)

    rights.pause_clock(team.dpo, extended.id, today - dt.timedelta(days=1), "Qzwhich records")
    sync(team.dpo, team.admin)
    assert rights.find_request(team.admin, logged.reference).paused
    rights.resume_clock(team.dpo, extended.id, today)
    sync(team.dpo, team.admin)
    moved = rights.find_request(team.admin, logged.reference)
    assert not moved.paused
    assert moved.extended_to is not None and moved.extended_to > extended.extended_to
    assert _clock(team.admin, logged.reference) == _clock(team.dpo, logged.reference)

    # The decision travels too, and the request leaves the open register on both.
    rights.close_request(team.admin, moved.id, Outcome.COMPLIED, today)
    sync(team.admin, team.dpo)
    for laptop in (team.admin, team.dpo):
        assert rights.find_request(laptop, logged.reference).status.value == "closed"
        assert rights.overdue(laptop, today + dt.timedelta(days=400)) == []


def test_requests_logged_offline_on_two_laptops_get_distinct_references_everywhere(
    team: Team,
) -> None:
    on_admin = rights.create_request(
        team.admin, _draft(team.admin, subject_person_id=team.client_id, subject_note="")
    )
    on_dpo = rights.create_request(team.dpo, _draft(team.dpo))
    assert on_admin.reference != on_dpo.reference
    sync(team.admin, team.dpo, team.admin)
    for laptop in (team.admin, team.dpo):
        assert sorted(r.reference for r in rights.register(laptop)) == sorted(
            [on_admin.reference, on_dpo.reference]
        )
    # The DPO's laptop holds no case, yet shows who the request is about.
    [about] = [r for r in rights.register(team.dpo) if r.reference == on_admin.reference]
    assert about.subject_name == f"{CLIENT_GIVEN} {CLIENT_FAMILY}"
    assert about.subject_person_id is None


def test_a_caseworkers_laptop_receives_no_register_operation(team: Team) -> None:
    rights.create_request(team.dpo, _draft(team.dpo))
    rights.create_request(
        team.admin, _draft(team.admin, subject_person_id=team.client_id, subject_note="")
    )
    aware = team.admin.moment() - dt.timedelta(hours=5)
    breaches.record_breach(team.admin, Facts(aware_at=aware, what_happened="Qzbreach email"))
    for _ in range(2):
        sync(team.dpo, team.admin, team.cole, team.cara)
    assert len(rights.register(team.admin)) == 2
    for worker in (team.cole, team.cara):
        conn = worker.conn
        for table in ("rights_requests", "breaches", "breach_versions"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
        held = "SELECT count(*) FROM operations WHERE scope = 'register'"
        assert conn.execute(held).fetchone()[0] == 0
        keys = "SELECT count(*) FROM team_keys WHERE scope = 'register'"
        assert conn.execute(keys).fetchone()[0] == 0
    # The caseworker still has the case allocated to them.
    assert case_by_gid(team.cole.conn, team.case_gid) is not None


def test_a_breach_logged_on_one_laptop_is_on_the_dpos_with_its_72_hour_clock(team: Team) -> None:
    aware = (team.admin.moment() - dt.timedelta(hours=5)).replace(microsecond=0)
    logged = breaches.record_breach(
        team.admin, Facts(aware_at=aware, what_happened="Qzbreach laptop left on a train")
    )
    sync(team.admin, team.dpo)
    there = breaches.find_breach(team.dpo, logged.reference)
    assert there.facts.deadline == aware + dt.timedelta(hours=72)
    clock = there.clock(team.dpo.moment())
    assert clock.state is ClockState.RUNNING
    assert 66 * 60 <= clock.minutes <= 67 * 60
    assert breaches.overdue(team.dpo) == []

    # The DPO's assessment is a new version; it reaches the admin's laptop, the first kept.
    later(team.dpo, 1)
    breaches.update_breach(team.dpo, there.id, dataclasses.replace(there.facts, risk=Risk.RISK))
    sync(team.dpo, team.admin)
    here = breach_model.by_reference(team.admin.conn, logged.reference)
    assert here is not None and here.facts.risk is Risk.RISK and here.versions == 2
    # Three days on, both see it overdue for a report to the ICO.
    for laptop in (team.admin, team.dpo):
        found = breach_model.by_reference(laptop.conn, logged.reference)
        assert found is not None
        assert found.clock(aware + dt.timedelta(hours=73)).state is ClockState.OVERDUE


def test_breaches_logged_offline_on_two_laptops_get_distinct_references(team: Team) -> None:
    aware = (team.admin.moment() - dt.timedelta(hours=1)).replace(microsecond=0)
    one = breaches.record_breach(team.admin, Facts(aware_at=aware, what_happened="Qzone"))
    two = breaches.record_breach(team.dpo, Facts(aware_at=aware, what_happened="Qztwo"))
    assert one.reference != two.reference
    sync(team.admin, team.dpo, team.admin)
    assert sorted(b.reference for b in breaches.breach_log(team.dpo)) == sorted(
        [one.reference, two.reference]
    )


def test_an_admins_laptop_sends_a_lost_laptops_breach_and_then_cannot_read_the_register(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    """An admin who is not a manager records a breach (a laptop reported lost): it reaches the
    DPO, and the key it went under is forgotten on the admin's laptop, so what the DPO seals
    under it afterwards stays unreadable there."""
    (tmp_path / "shared").mkdir()
    with signed_in(store, ADMIN) as admin:
        team_service.create_team(admin, tmp_path / "shared")
        dpo = join_laptop(admin, DPO, tmp_path / "laptops", keyring, PASSWORDS[DPO])
        try:
            sync(admin, dpo, admin, dpo)
            aware = (admin.moment() - dt.timedelta(hours=2)).replace(microsecond=0)
            lost = breaches.record_breach(
                admin, breaches.lost_device_facts(admin, aware), source=Source.DEVICE_LOST
            )
            sync(admin, dpo, admin)
            assert breaches.find_breach(dpo, lost.reference).source is Source.DEVICE_LOST
            keys = "SELECT count(*) FROM team_keys WHERE scope = 'register'"
            assert admin.conn.execute(keys).fetchone()[0] == 0

            later(dpo, 1)
            assessed = breaches.record_breach(
                dpo, Facts(aware_at=aware, what_happened="Qzdpo only breach")
            )
            sync(dpo, admin)
            assert breach_model.by_reference(admin.conn, assessed.reference) is None
            assert [b.reference for b in breach_model.listing(admin.conn)] == [lost.reference]
        finally:
            if dpo.active:
                accounts.sign_out(dpo)


def test_one_field_changed_on_two_laptops_offline_is_a_conflict_on_both(team: Team) -> None:
    logged = rights.create_request(team.dpo, _draft(team.dpo))
    sync(team.dpo, team.admin)
    here = rights.find_request(team.admin, logged.reference)
    rights.update_request(
        team.admin, here.id, dataclasses.replace(_draft(team.admin), requester="Qzfirst Name")
    )
    later(team.dpo, 1)
    rights.update_request(
        team.dpo, logged.id, dataclasses.replace(_draft(team.dpo), requester="Qzsecond Name")
    )
    sync(team.admin, team.dpo, team.admin)
    shown = {rights.find_request(s, logged.reference).requester for s in (team.admin, team.dpo)}
    assert len(shown) == 1  # the same on both meanwhile
    for laptop in (team.admin, team.dpo):
        [held] = rights.register_conflicts(laptop)
        assert held.field == "rights_requests.requester"
        assert held.reference == logged.reference
        assert sorted(str(c.value) for c in held.candidates) == ["Qzfirst Name", "Qzsecond Name"]

    # The DPO chooses; the choice travels and the conflict closes on both.
    [held] = rights.register_conflicts(team.dpo)
    chosen = next(c for c in held.candidates if c.value == "Qzfirst Name")
    rights.resolve_conflict(team.dpo, held.id, chosen.op_id)
    sync(team.dpo, team.admin)
    for laptop in (team.admin, team.dpo):
        assert rights.register_conflicts(laptop) == []
        assert rights.find_request(laptop, logged.reference).requester == "Qzfirst Name"


def test_a_managers_pack_holds_a_caseworkers_note_once_synced_and_names_the_quiet_laptop(
    team: Team,
) -> None:
    # The second caseworker last did anything five days ago, offline, on a case of their own.
    later(team.cara, -5 * 24 * 60)
    new_case(team.cara, person("Qzcaragiven", "Qzcarafamily"))
    sync(team.cara)
    later(team.cara, 0)
    sync(team.admin)

    received = team.admin.today() - dt.timedelta(days=2)
    request = rights.create_request(
        team.admin,
        _draft(team.admin, subject_person_id=team.client_id, subject_note="", received_on=received),
    )
    # Before gathering: neither caseworker's laptop has sent anything since it arrived.
    before = sar.team_note(team.admin, request.id)
    assert before.startswith("2 laptops have not synced since this request was received")
    assert f"{CASEWORKER}'s laptop, nothing received from it yet" in before
    cara_day = team.admin.today() - dt.timedelta(days=5)
    assert f"{CASEWORKER2}'s laptop, last seen {cara_day.day} {cara_day:%B %Y}" in before
    assert f"{DPO}'s laptop" not in before  # the DPO's laptop holds no case

    cole_case = case_by_gid(team.cole.conn, team.case_gid)
    assert cole_case is not None
    note = "Qzcolenote written after the request arrived."
    notes.add_note(team.cole, cole_case, NoteKind.VISIT, note, dt.datetime.now(dt.UTC))
    sync(team.cole, team.admin)

    pack = sar.preview(team.admin, request.id)
    assert any(note in item.text for item in pack.items())
    assert pack.team_note.startswith("1 laptop has not synced since this request was received")
    assert f"{CASEWORKER2}'s laptop, last seen {cara_day.day} {cara_day:%B %Y}" in pack.team_note
    assert CASEWORKER + "'s" not in pack.team_note
    assert pack.team_note in pack.warnings
    # The second caseworker syncs something new: nobody is left to wait for.
    new_case(team.cara, person("Qzcaranew", "Qzcaranewfamily"))
    sync(team.cara, team.admin)
    assert sar.team_note(team.admin, request.id) == ""
    assert sar.preview(team.admin, request.id).team_note == ""


def test_a_store_becoming_a_teams_first_laptop_sends_the_register_it_already_held(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    with signed_in(store, MANAGER) as manager:
        before = rights.create_request(manager, _draft(manager))
        rights.pause_clock(manager, before.id, manager.today(), "Qzasked which years")
    with signed_in(store, DPO) as dpo_here:
        aware = (dpo_here.moment() - dt.timedelta(hours=30)).replace(microsecond=0)
        breach = breaches.record_breach(dpo_here, Facts(aware_at=aware, what_happened="Qzold"))
    (tmp_path / "shared").mkdir()
    with signed_in(store, ADMIN) as admin:
        team_service.create_team(admin, tmp_path / "shared")
        dpo = join_laptop(admin, DPO, tmp_path / "laptops", keyring, PASSWORDS[DPO])
        try:
            sync(admin, dpo, admin, dpo)
            there = rights.find_request(dpo, before.reference)
            assert there.paused and there.due_on == before.due_on
            assert there.requester == before.requester
            arrived = breaches.find_breach(dpo, breach.reference)
            assert arrived.clock(dpo.moment()).state is ClockState.RUNNING
            assert arrived.facts.deadline == aware + dt.timedelta(hours=72)
        finally:
            if dpo.active:
                accounts.sign_out(dpo)


def test_an_extension_and_a_pause_made_offline_on_two_laptops_give_one_deadline(
    team: Team,
) -> None:
    today = team.dpo.today()
    start = today - dt.timedelta(days=5)
    logged = rights.create_request(
        team.dpo,
        _draft(team.dpo, received_on=today - dt.timedelta(days=6), identity_confirmed_on=start),
    )
    sync(team.dpo, team.admin)
    here = rights.find_request(team.admin, logged.reference)
    # Neither sees the other's: the manager extends it, the DPO stops and restarts the clock.
    rights.extend(team.admin, here.id, today - dt.timedelta(days=1))
    rights.pause_clock(team.dpo, logged.id, today - dt.timedelta(days=3), "Qzwhich years")
    rights.resume_clock(team.dpo, logged.id, today - dt.timedelta(days=1))
    sync(team.admin, team.dpo, team.admin)
    pauses = [(today - dt.timedelta(days=3), today - dt.timedelta(days=1))]
    for laptop in (team.admin, team.dpo):
        found = rights.find_request(laptop, logged.reference)
        assert found.due_on == deadlines.due_date(start, pauses)
        assert found.extended_to == deadlines.extended_date(start, pauses)
        assert found.deadline == found.extended_to
