"""Syncing through the folder when things go wrong: bad envelopes, a killed sync, a laptop
that was away for a month."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.crypto.device import DeviceSecrets
from app.crypto.envelopes import seal_envelope
from app.crypto.team import GENESIS, DeviceKeys, new_key
from app.models.records import NoteKind
from app.models.users import Role
from app.services import accounts, notes
from app.services import team as team_service
from app.services.session import Session
from app.sync import engine, folder, ops
from tests import crashes
from tests.helpers import ADMIN, CASEWORKER, MemoryKeyring, StoreCopy
from tests.services.casework import new_case, person, signed_in, user_id
from tests.sync.team_world import case_by_gid, give_roles, join_laptop, later

W1_PW = "birch-canyon-ember-58"


@dataclass
class Team:
    shared: Path
    office: StoreCopy
    laptop: StoreCopy
    case_gid: str


@contextlib.contextmanager
def on_laptop(team: Team) -> Iterator[Session]:
    session = accounts.sign_in(
        team.laptop.path, CASEWORKER, W1_PW, device=DeviceSecrets(team.laptop.keyring)
    )
    try:
        yield session
    finally:
        if session.active:
            accounts.sign_out(session)


@contextlib.contextmanager
def in_office(team: Team) -> Iterator[Session]:
    with signed_in(team.office, ADMIN) as session:
        yield session


def _team(store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path) -> Team:
    """The office laptop (an admin who also manages) and a caseworker's, one case between them."""
    shared = tmp_path / "shared"
    shared.mkdir()
    with signed_in(store, ADMIN) as s:
        give_roles(s, frozenset({Role.ADMIN, Role.MANAGER}))
    with signed_in(store, ADMIN) as admin:
        case_id, _ = new_case(admin, person("Qzmonthgiven", "Qzmonthfamily"))
        from app.services import cases

        cases.allocate(admin, case_id, user_id(admin, CASEWORKER))
        gid = ops.gid_of(admin.conn, "cases", case_id) or ""
        team_service.create_team(admin, shared)
        worker = join_laptop(admin, CASEWORKER, tmp_path / "laptops", keyring, W1_PW)
        laptop = StoreCopy(worker.vault.path, keyring, "")
        try:
            team_service.sync(admin)
            team_service.sync(worker)
            team_service.sync(worker)
        finally:
            accounts.sign_out(worker)
    return Team(shared, store, laptop, gid)


def _add_notes(session: Session, case_gid: str, texts: list[str], sync_each: bool) -> None:
    case_id = case_by_gid(session.conn, case_gid)
    assert case_id is not None
    for text in texts:
        when = session.moment() - dt.timedelta(minutes=1)
        notes.add_note(session, case_id, NoteKind.CALL, text, when)
        if sync_each:
            team_service.sync(session)


def _bodies(session: Session, case_gid: str) -> list[str]:
    case_id = case_by_gid(session.conn, case_gid)
    rows = session.conn.execute(
        "SELECT body FROM notes WHERE case_id = ? ORDER BY body", (case_id,)
    )
    return [str(r[0]) for r in rows.fetchall()]


def _device_folder(team: Team, session: Session) -> Path:
    return team.shared / "devices" / engine.load(session.conn).device.device_id


def test_truncated_foreign_and_replayed_envelopes_are_logged_and_never_applied(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    team = _team(store, keyring, tmp_path)
    with on_laptop(team) as worker:
        _add_notes(worker, team.case_gid, ["Qzgenuine note."], sync_each=True)
        mine = _device_folder(team, worker)
        state = engine.load(worker.conn)
        team_id, seq = state.team_id, state.seq
    files = sorted(mine.glob("*.env"))
    genuine = [folder.unframe(f.read_bytes()) for f in files]
    last = genuine[-1]
    assert last is not None
    # Truncated: a real envelope cut short, in a whole file under the device's next number.
    (mine / folder.envelope_name(seq + 1)).write_bytes(folder.frame(last[:-40]))
    # Replayed: a real envelope copied under a later number.
    (mine / folder.envelope_name(seq + 2)).write_bytes(folder.frame(last))
    # Foreign: well made and signed, for another team, from a device of its own.
    stranger = DeviceKeys.generate(engine.new_gid())
    foreign = seal_envelope(
        b"[]",
        team="another-team",
        sender=stranger,
        seq=1,
        previous=GENESIS,
        scope="case:x",
        key_id="case:x#1",
        key=new_key(),
    )
    (team.shared / "devices" / stranger.device_id).mkdir()
    (team.shared / "devices" / stranger.device_id / folder.envelope_name(1)).write_bytes(
        folder.frame(foreign)
    )
    assert team_id != "another-team"

    with in_office(team) as office:
        report = team_service.sync(office)
        assert report.rejected == 3
        assert _bodies(office, team.case_gid) == ["Qzgenuine note."]
        logged = [sentence for _, sentence in team_service.sync_log(office)]
        assert "An envelope was cut short; it was not applied." in logged
        assert "An envelope belongs to another team; it was not applied." in logged
        assert engine.MOVED in logged
        # Logged once, refused for good: the next sync neither counts nor logs them again.
        again = team_service.sync(office)
        assert again.rejected == 0
        assert len(team_service.sync_log(office)) == len(logged)
        assert team_service.status(office).problems[0] in logged


def test_a_sync_killed_while_reading_applies_nothing_twice_and_loses_nothing(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    team = _team(store, keyring, tmp_path)
    texts = [f"Qzkilled note {n}." for n in range(3)]
    with on_laptop(team) as worker:
        _add_notes(worker, team.case_gid, texts, sync_each=True)
    done = crashes.run(team.office, ADMIN, "quiet-harbour-lantern-47", "sync", die="read")
    assert done.returncode < 0  # killed
    with in_office(team) as office:
        team_service.sync(office)
        team_service.sync(office)
        assert _bodies(office, team.case_gid) == texts
        ids = [op.op_id for op in _received(office)]
        assert len(ids) == len(set(ids))


def _received(session: Session) -> list[ops.Operation]:
    rows = session.conn.execute("SELECT op_id FROM operations WHERE local = 0").fetchall()
    return [ops.Operation(str(r[0]), "", "", "", "", "", "") for r in rows]


def test_a_sync_killed_while_publishing_sends_the_same_envelope_again(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    team = _team(store, keyring, tmp_path)
    with on_laptop(team) as worker:
        _add_notes(worker, team.case_gid, ["Qzbefore the kill."], sync_each=False)
    done = crashes.run(team.laptop, CASEWORKER, W1_PW, "sync", die="publish")
    assert done.returncode < 0
    with on_laptop(team) as worker:
        assert engine.unpublished(worker.conn) != []  # sealed, in the folder, not marked
        report = team_service.sync(worker)  # the same bytes again: no "number taken"
        assert engine.unpublished(worker.conn) == []
        assert report.sent >= 1
        assert team_service.status(worker).waiting == 0
    with in_office(team) as office:
        team_service.sync(office)
        assert _bodies(office, team.case_gid) == ["Qzbefore the kill."]


def test_a_laptop_offline_for_a_month_catches_up_both_ways(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    team = _team(store, keyring, tmp_path)
    days = [f"Qzday {n:02d} visit." for n in range(30)]
    with on_laptop(team) as worker:
        for n, text in enumerate(days):
            later(worker, 24 * 60 * n)
            _add_notes(worker, team.case_gid, [text], sync_each=True)
    with in_office(team) as office:
        later(office, -60)  # its clock a little behind: it still orders after what it saw
        _add_notes(office, team.case_gid, ["Qzoffice note while away."], sync_each=False)
        told: list[tuple[str, int, int]] = []
        report = team_service.sync(office, progress=lambda *step: told.append(step))
        assert report.applied == 30 and report.pending == 0
        assert len(told) >= 30 and all(line.startswith("Reading changes") for line, _, _ in told)
        # Counted out of what the folder held that this laptop had not read: "30 of 30".
        assert [(done, total) for _, done, total in told][-1] == (len(told), len(told))
        assert _bodies(office, team.case_gid) == sorted([*days, "Qzoffice note while away."])
    with on_laptop(team) as worker:
        team_service.sync(worker)
        assert "Qzoffice note while away." in _bodies(worker, team.case_gid)
        assert team_service.status(worker).waiting == 0
