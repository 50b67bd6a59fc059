"""The replay guard in rows and envelopes read in batches (app/sync/guard.py): a catch-up of
many small envelopes commits a few times, not once per envelope; a laptop killed between two
batches keeps the first and reads again only what it had not recorded; a store whose guard was
kept in its team row keeps it through the upgrade."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest

from app.models import schema
from app.services import team as team_service
from app.services.session import Session
from app.sync import engine
from tests import crashes
from tests.helpers import ADMIN, MemoryKeyring, StoreCopy
from tests.sync.test_team_sync import _add_notes, _bodies, _received, _team, in_office, on_laptop


def _worker_envelopes(session: Session, device: str) -> int:
    """How many of ``device``'s envelopes this laptop has recorded in its guard."""
    row = session.conn.execute("SELECT count(*) FROM team_guard WHERE sender = ?", (device,))
    return int(row.fetchone()[0])


def test_a_catch_up_of_many_small_envelopes_commits_a_few_times_not_once_per_envelope(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    team = _team(store, keyring, tmp_path)
    texts = [f"Qzsmall note {n:02d}." for n in range(24)]
    with on_laptop(team) as worker:
        _add_notes(worker, team.case_gid, texts, sync_each=True)  # one envelope or more each
    with in_office(team) as office:
        statements: list[str] = []
        cast(Any, office.conn).set_trace_callback(statements.append)
        try:
            report = team_service.sync(office)
        finally:
            cast(Any, office.conn).set_trace_callback(None)
        commits = sum(1 for s in statements if s.strip().upper() == "COMMIT")
        assert report.received >= len(texts)
        assert commits < len(texts) // 2
        assert _bodies(office, team.case_gid) == texts
        assert team_service.sync(office).received == 0  # all recorded, nothing read again


def test_a_catch_up_killed_after_its_first_batch_keeps_it_and_reads_again_only_the_rest(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = _team(store, keyring, tmp_path)
    texts = [f"Qzbatch note {n}." for n in range(5)]
    with on_laptop(team) as worker:
        device = engine.load(worker.conn).device.device_id
    with in_office(team) as office:
        before = _worker_envelopes(office, device)
    with on_laptop(team) as worker:
        _add_notes(worker, team.case_gid, texts, sync_each=True)
        sent = engine.load(worker.conn).seq
    done = crashes.run(team.office, ADMIN, "quiet-harbour-lantern-47", "sync", die="batch")
    assert done.returncode < 0  # killed with SIGKILL after the first batch committed
    with in_office(team) as office:
        kept = _worker_envelopes(office, device) - before
        applied = {
            int(r[0])
            for r in office.conn.execute(
                "SELECT seq FROM team_guard WHERE sender = ? AND waiting IS NULL", (device,)
            )
        }
        bodies = _bodies(office, team.case_gid)
        assert 0 < kept < sent - before  # the first batch stayed, the rest was lost
        assert bodies == texts[: len(bodies)]
        read: list[tuple[str, int]] = []
        read_one = engine._read_one

        def spy(conn: Any, state: Any, inc: Any, *rest: Any) -> bool:
            read.append((inc.sender, inc.seq))
            return read_one(conn, state, inc, *rest)

        monkeypatch.setattr(engine, "_read_one", spy)
        team_service.sync(office)
        again = {seq for sender, seq in read if sender == device}
        assert again and not again & applied  # only what the killed sync had not applied
        assert _worker_envelopes(office, device) == sent
        assert _bodies(office, team.case_gid) == texts
        ids = [op.op_id for op in _received(office)]
        assert len(ids) == len(set(ids))


def test_a_store_whose_guard_was_in_its_team_row_keeps_it_through_the_upgrade(
    store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    team = _team(store, keyring, tmp_path)
    texts = ["Qzupgrade note one.", "Qzupgrade note two."]
    with on_laptop(team) as worker:
        _add_notes(worker, team.case_gid, texts, sync_each=True)
    with in_office(team) as office:
        team_service.sync(office)
        held = office.conn.execute(
            "SELECT sender, seq, digest, previous, waiting FROM team_guard ORDER BY sender, seq"
        ).fetchall()
        assert held
        # As the store was before: the guard as JSON in the team row, no rows of its own.
        guard: dict[str, dict[str, list[object]]] = {}
        for sender, seq, digest, previous, waiting in held:
            guard.setdefault(sender, {})[str(seq)] = [digest, previous, waiting]
        office.conn.execute("UPDATE team SET guard = ? WHERE id = 1", (json.dumps(guard),))
        office.conn.execute("DROP TABLE team_guard")
        office.conn.execute("DROP TABLE team_refused")
        office.conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION - 1:d}")
    with in_office(team) as office:  # signing in upgrades the store
        again = office.conn.execute(
            "SELECT sender, seq, digest, previous, waiting FROM team_guard ORDER BY sender, seq"
        ).fetchall()
        assert again == held
        report = team_service.sync(office)
        assert (report.received, report.rejected) == (0, 0)  # nothing read twice
        assert _bodies(office, team.case_gid) == texts
