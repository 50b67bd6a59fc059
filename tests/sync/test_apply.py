"""Applying operations from other laptops: several simulated laptops (separate stores copied
from one) change the same case offline, exchange their operations in random orders with
duplicates, and end with identical stores, every concurrent set of one field shown as a
conflict and no value lost."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.crypto.connection import Connection
from app.crypto.device import DeviceSecrets
from app.errors import InvalidInput
from app.models import cases as case_model
from app.models import settings as settings_model
from app.models.categories import Agency, AgencyType
from app.models.db import transaction
from app.models.records import CaseDetails, CaseRole, NoteKind, SafeContact
from app.services import accounts, cases, categories, conflicts, notes
from app.services.session import Session
from app.sync import ops
from app.sync.ops import Operation
from tests.helpers import CASEWORKER, CASEWORKER2, MANAGER, MANAGER_PW, StoreCopy, copy_store
from tests.services.casework import (
    audit_head,
    audit_since,
    new_case,
    person,
    signed_in,
    user_id,
)

LAPTOPS = 3
HOUR = dt.timedelta(hours=1)
# Laptop 1's wall clock is five hours behind, laptop 2's an hour ahead.
SKEW = (dt.timedelta(0), -5 * HOUR, HOUR)
NUMBERS = ("07700 900001", "07700 900002", "07700 900003")
WORDS = ("lantern", "harbour", "thistle")
NAMES = ("Robin", "Rowan", "Robyn")
TAGS = ("A", "B", "C")  # each laptop's reference tag, given when it joined the team
ACTIONS = (
    *("note", "correct", "number", "code_word", "name", "allocate", "resolve", "deliver"),
    *("create", "member", "agency"),
)


@dataclasses.dataclass
class Base:
    store: StoreCopy
    case_id: int
    client: int
    workers: tuple[int, int]


def _base(store: StoreCopy) -> Base:
    with signed_in(store, MANAGER) as s:
        case_id, client = new_case(s)
        cases.open_referral(s, case_id, s.today())
        workers = (user_id(s, CASEWORKER), user_id(s, CASEWORKER2))
    return Base(store, case_id, client, workers)


@contextlib.contextmanager
def team(store: StoreCopy, tmp_path: Path) -> Iterator[tuple[Base, list[Session]]]:
    """Laptops copied from one store that holds a case, each signed in; signed out after."""
    base = _base(store)
    laptops = _laptops(base, tmp_path)
    try:
        yield base, laptops
    finally:
        for session in laptops:
            accounts.sign_out(session)


def _clock(skew: dt.timedelta) -> Callable[[], str]:
    start = dt.datetime.now(dt.UTC) + skew
    ticks = iter(range(10**9))

    def now() -> str:
        moment = start + dt.timedelta(milliseconds=next(ticks))
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    return now


def _laptops(base: Base, folder: Path) -> list[Session]:
    sessions = []
    for n in range(LAPTOPS):
        path = copy_store(base.store.path, folder / f"laptop{n}")
        session = accounts.sign_in(
            path, MANAGER, MANAGER_PW, device=DeviceSecrets(base.store.keyring)
        )
        with transaction(session.conn):
            settings_model.put(session.conn, ops.DEVICE_SETTING, f"laptop-{n}")
            ops.set_reference_tag(session.conn, TAGS[n])
        session.now = _clock(SKEW[n])
        sessions.append(session)
    return sessions


def _deliver(source: Session, target: Session, order: list[int], again: list[int]) -> int:
    """Send ``source``'s own operations to ``target`` in ``order`` (indexes wrap), with the
    ones in ``again`` sent twice; returns how many are still waiting at ``target``."""
    made = [op for _, op in ops.outbox(source.conn)]
    if not made:
        return 0
    batch = [made[i % len(made)] for i in order] + made + [made[i % len(made)] for i in again]
    with transaction(target.conn):
        return len(ops.apply_all(target.conn, batch))


def _act(s: Session, base: Base, action: str, pick: int, serial: int) -> None:
    conn = s.conn
    if action == "note":
        when = dt.datetime.now(dt.UTC) - 10 * 24 * HOUR
        notes.add_note(s, base.case_id, NoteKind.CALL, f"Synthetic note {serial}.", when)
    elif action == "correct":
        held = conn.execute("SELECT id FROM notes ORDER BY gid").fetchall()
        if held:
            note_id = int(held[pick % len(held)][0])
            notes.correct_note(s, note_id, f"Corrected text {serial}.", "Wrong date given.")
    elif action in ("number", "code_word"):
        current = case_model.safe_contact(conn, base.case_id, base.client)
        rules = current or SafeContact(base.client)
        if action == "number":
            rules = dataclasses.replace(rules, safe_number=NUMBERS[pick % 3])
        else:
            rules = dataclasses.replace(rules, code_word=WORDS[pick % 3])
        cases.set_safe_contact(s, base.case_id, rules)
    elif action == "name":
        client = cases.get_person(s, base.client)
        details = dataclasses.replace(client.details, given_name=NAMES[pick % 3])
        cases.update_person(s, base.client, details)
    elif action == "allocate":
        cases.allocate(s, base.case_id, base.workers[pick % 2])
    elif action == "create":
        # A new case made offline, with a note: elsewhere the note may arrive before its case.
        client = person(NAMES[pick % 3], f"Synthetic{serial}", address_confidential=bool(pick % 2))
        details = CaseDetails(referral_date=s.today(), referral_source="Police")
        case_id = cases.create_referral(s, client, details)
        when = dt.datetime.now(dt.UTC) - 10 * 24 * HOUR
        notes.add_note(s, case_id, NoteKind.CALL, f"Synthetic first call {serial}.", when)
    elif action == "agency":
        # Agencies are kept whole: added, corrected and removed, the latest change wins.
        held_agencies = categories.agencies(s, base.case_id)
        if pick % 3 == 0 or not held_agencies:
            entry = Agency(AgencyType.HOUSING, f"Agency {serial}", "Duty desk")
            categories.add_agency(s, base.case_id, entry)
        elif pick % 3 == 1:
            entry = held_agencies[pick % len(held_agencies)]
            changed = dataclasses.replace(entry, contact=f"Desk {serial}")
            categories.update_agency(s, base.case_id, changed)
        else:
            entry = held_agencies[pick % len(held_agencies)]
            categories.remove_agency(s, base.case_id, entry.id)
    elif action == "member":
        children = sorted(
            (str(ops.gid_of(conn, "people", m.person.id)), m.person.id)
            for m in case_model.members(conn, base.case_id)
            if m.role is CaseRole.CHILD
        )
        if pick % 2 == 0 or not children:
            child = person(f"Child{serial}", "Synthetic")
            cases.add_person(s, base.case_id, child, CaseRole.CHILD)
        else:
            cases.remove_person(s, base.case_id, children[pick % len(children)][1], CaseRole.CHILD)
    elif action == "resolve":
        open_ = conn.execute(
            "SELECT target, field, candidates FROM conflicts WHERE state = 'open' ORDER BY field"
        ).fetchall()
        if open_:
            target, field, candidates = open_[pick % len(open_)]
            values = json.loads(str(candidates))
            with transaction(conn):
                ops.resolve(
                    conn,
                    base.case_id,
                    str(target),
                    str(field),
                    values[pick % len(values)]["value"],
                    s.user_id,
                    s.now(),
                )


def _snapshot(conn: Connection) -> dict[str, object]:
    """What must be the same on every laptop: the travelling records and the conflicts."""
    queries = {
        "operations": "SELECT op_id FROM operations ORDER BY op_id",
        "notes": "SELECT n.gid, n.kind, n.occurred_at, n.body, u.gid, c.gid FROM notes n "
        "JOIN users u ON u.id = n.author_id JOIN cases c ON c.id = n.case_id ORDER BY n.gid",
        "revisions": "SELECT r.gid, n.gid, r.kind, r.body, r.reason, r.changed_at "
        "FROM note_revisions r JOIN notes n ON n.id = r.note_id ORDER BY r.gid",
        "cases": "SELECT c.gid, c.reference, c.status, c.risk_level, u.gid, c.opened_date, "
        "c.closed_date, c.client_name, c.referral_source FROM cases c "
        "LEFT JOIN users u ON u.id = c.allocated_user_id ORDER BY c.gid",
        "people": "SELECT gid, given_name, family_name, address_confidential FROM people "
        "ORDER BY gid",
        "agencies": "SELECT a.gid, c.gid, a.agency_type, a.name, a.contact FROM case_agencies a "
        "JOIN cases c ON c.id = a.case_id ORDER BY a.gid",
        "members": "SELECT c.gid, p.gid, m.role FROM case_people m JOIN cases c ON "
        "c.id = m.case_id JOIN people p ON p.id = m.person_id ORDER BY c.gid, p.gid, m.role",
        "safe_contacts": "SELECT c.gid, p.gid, s.safe_number, s.code_word, s.method "
        "FROM safe_contacts s JOIN cases c ON c.id = s.case_id "
        "JOIN people p ON p.id = s.person_id ORDER BY c.gid",
        "conflicts": "SELECT scope, target, field, state, candidates, resolved_by "
        "FROM conflicts ORDER BY target, field",
    }
    return {name: [tuple(r) for r in conn.execute(sql).fetchall()] for name, sql in queries.items()}


def _field_sets(conn: Connection) -> list[Operation]:
    return [
        ops._operation(
            {
                "op_id": r[0],
                "hlc": r[1],
                "device": r[2],
                "user": r[3],
                "kind": r[4],
                "scope": r[5],
                "target": r[6],
                "payload": json.loads(str(r[7])),
                "replaced": r[8],
            }
        )
        for r in conn.execute(
            "SELECT op_id, hlc, device, user_gid, kind, scope, target, payload, replaced "
            "FROM operations WHERE field IS NOT NULL"
        ).fetchall()
    ]


def _ancestors(seen: dict[str, set[str]], op_id: str) -> set[str]:
    """Every set of the field that ``op_id`` saw, through the values each one replaced."""
    found: set[str] = set()
    for parent in seen.get(op_id, set()):
        found |= {parent} | _ancestors(seen, parent)
    return found


def _check_conflicts(conn: Connection) -> None:
    """Worked out from the operations alone: two sets of one field that neither saw (neither
    is behind the other), that no later set saw both of and that hold different values leave
    that field in conflict, every such value among the conflict's; the field shows the newest
    of those values."""
    by_field: dict[tuple[str, str], list[Operation]] = {}
    for op in _field_sets(conn):
        by_field.setdefault((op.target, str(op.field)), []).append(op)
    for (target, field), group in by_field.items():
        seen = {
            op.op_id: {
                str(r)
                for r in (
                    op.replaced,
                    *op.payload.get("resolves", []),
                    *op.payload.get(ops.ALSO_REPLACED, []),
                )
                if r
            }
            for op in group
        }
        ids = [op.op_id for op in group]
        unresolved = [
            a
            for a in ids
            if not any(a in _ancestors(seen, c) for c in ids)  # nothing later saw it
        ]
        row = conn.execute(
            "SELECT state, candidates FROM conflicts WHERE target = ? AND field = ?",
            (target, field),
        ).fetchone()
        values = {json.dumps(op.payload["value"]) for op in group if op.op_id in unresolved}
        if len(values) > 1:
            assert row is not None and row[0] == "open", (field, unresolved)
            shown = {c["op_id"] for c in json.loads(str(row[1]))}
            assert shown == set(unresolved)
        else:
            assert row is None or row[0] == "resolved"
        newest = max((op for op in group if op.op_id in unresolved), key=lambda o: o.hlc)
        table, column = field.split(".", 1)
        where = "id = (SELECT id FROM cases WHERE gid = ?)"
        if table == "safe_contacts":
            where = "case_id = (SELECT id FROM cases WHERE gid = ?)"
        elif table == "people":
            where = "gid = ?"
        value = conn.execute(f"SELECT {column} FROM {table} WHERE {where}", (target,)).fetchone()
        expected = newest.payload["value"]
        if column == "allocated_user_id":
            expected = ops.id_of(conn, "users", str(expected)) if expected else None
        assert value[0] == expected, field


def _exchange(laptops: list[Session], data: st.DataObject) -> dict[str, object]:
    """Everyone hears from everyone, in random orders with duplicates, until nothing waits;
    returns what every laptop then holds alike."""
    for _round in range(3):
        waiting = 0
        for a in range(LAPTOPS):
            for b in range(LAPTOPS):
                if a != b:
                    waiting += _deliver(
                        laptops[a], laptops[b], data.draw(orders), data.draw(orders)
                    )
        if not waiting:
            break
    assert waiting == 0
    first = _snapshot(laptops[0].conn)
    for other in laptops[1:]:
        assert _snapshot(other.conn) == first
    return first


steps = st.lists(
    st.tuples(st.integers(0, LAPTOPS - 1), st.sampled_from(ACTIONS), st.integers(0, 5)),
    min_size=4,
    max_size=24,
)
orders = st.lists(st.integers(0, 50), max_size=8)


def test_laptops_that_exchange_operations_in_any_order_end_identical(
    store: StoreCopy, tmp_path: Path
) -> None:
    base = _base(store)

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(steps, st.data())
    def run(plan: list[tuple[int, str, int]], data: st.DataObject) -> None:
        folder = Path(tempfile.mkdtemp(dir=tmp_path))
        laptops = _laptops(base, folder)
        try:
            for serial, (n, action, pick) in enumerate(plan):
                if action == "deliver":
                    to = (n + 1 + pick % (LAPTOPS - 1)) % LAPTOPS
                    _deliver(laptops[n], laptops[to], data.draw(orders), data.draw(orders))
                else:
                    _act(laptops[n], base, action, pick, serial)
            first = _exchange(laptops, data)
            _check_conflicts(laptops[0].conn)
            # Applying everything again changes nothing.
            _deliver(laptops[1], laptops[0], [], [])
            assert _snapshot(laptops[0].conn) == first
            # One person resolves every open conflict on one laptop; once the others hear of
            # it, no conflict is open anywhere and every laptop shows the values chosen.
            resolver = laptops[data.draw(st.integers(0, LAPTOPS - 1))]
            while resolver.conn.execute("SELECT 1 FROM conflicts WHERE state = 'open'").fetchone():
                _act(resolver, base, "resolve", data.draw(st.integers(0, 5)), 0)
            settled = _exchange(laptops, data)
            _check_conflicts(laptops[0].conn)
            assert all(row[3] == "resolved" for row in settled["conflicts"])  # type: ignore[attr-defined]
        finally:
            for session in laptops:
                accounts.sign_out(session)
            shutil.rmtree(folder, ignore_errors=True)

    run()


def _number(s: Session, base: Base, number: str) -> None:
    current = case_model.safe_contact(s.conn, base.case_id, base.client)
    rules = dataclasses.replace(current or SafeContact(base.client), safe_number=number)
    cases.set_safe_contact(s, base.case_id, rules)


def _shown_number(s: Session, base: Base) -> str:
    current = case_model.safe_contact(s.conn, base.case_id, base.client)
    assert current is not None
    return current.safe_number


def _send_all(laptops: list[Session]) -> None:
    for a in laptops:
        for b in laptops:
            if a is not b:
                assert _deliver(a, b, [], []) == 0


def test_two_offline_edits_of_the_safe_number_become_one_conflict_keeping_both(
    store: StoreCopy, tmp_path: Path
) -> None:
    with team(store, tmp_path) as (base, laptops):
        _number(laptops[0], base, NUMBERS[0])
        _send_all(laptops)
        # Both laptops change the number offline, each replacing the same earlier value.
        _number(laptops[0], base, NUMBERS[1])
        _number(laptops[1], base, NUMBERS[2])
        _send_all(laptops)
        rows = {_snapshot(s.conn)["conflicts"].__repr__() for s in laptops}
        assert len(rows) == 1
        state, candidates = (
            laptops[2]
            .conn.execute(
                "SELECT state, candidates FROM conflicts WHERE field = 'safe_contacts.safe_number'"
            )
            .fetchone()
        )
        values = json.loads(str(candidates))
        assert state == "open"
        assert {v["value"] for v in values} == {NUMBERS[1], NUMBERS[2]}
        assert {v["device"] for v in values} == {"laptop-0", "laptop-1"}
        assert all(v["user"] and v["hlc"] for v in values)
        # Meanwhile every laptop shows the same value: the later stamp (laptop 1 is five
        # hours behind, so laptop 0's).
        assert {_shown_number(s, base) for s in laptops} == {NUMBERS[1]}
        # The case shows it with who set each value; a manager resolves it on the third
        # laptop, keeping laptop 1's number, and the audit trail says which field, not what.
        manager = laptops[2]
        [shown] = conflicts.on_case(manager, base.case_id)
        assert shown.open and shown.field == "safe_contacts.safe_number"
        assert {(c.value, c.username) for c in shown.candidates} == {
            (NUMBERS[1], MANAGER),
            (NUMBERS[2], MANAGER),
        }
        keep = next(c for c in shown.candidates if c.value == NUMBERS[2])
        head = audit_head(manager)
        conflicts.resolve(manager, shown.id, keep.op_id)
        [entry] = audit_since(manager, head)
        assert (entry.action, entry.detail) == (
            "conflict_resolved",
            "field=safe_contacts.safe_number",
        )
        with pytest.raises(InvalidInput, match="already been resolved"):
            conflicts.resolve(manager, shown.id, keep.op_id)
        _send_all(laptops)
        assert {_shown_number(s, base) for s in laptops} == {NUMBERS[2]}
        states = {s.conn.execute("SELECT state FROM conflicts").fetchone()[0] for s in laptops}
        assert states == {"resolved"}


def test_two_laptops_that_record_the_same_value_offline_are_no_conflict(
    store: StoreCopy, tmp_path: Path
) -> None:
    """Two workers each confirm the same safe number on the same day: nothing to choose, so
    no conflict, and the next change of it replaces both without one either."""
    with team(store, tmp_path) as (base, laptops):
        _number(laptops[0], base, NUMBERS[0])
        _send_all(laptops)
        _number(laptops[0], base, NUMBERS[1])
        _number(laptops[1], base, NUMBERS[1])
        _send_all(laptops)
        assert {_shown_number(s, base) for s in laptops} == {NUMBERS[1]}
        assert [conflicts.count(s) for s in laptops] == [0, 0, 0]
        _number(laptops[2], base, NUMBERS[2])
        _send_all(laptops)
        assert {_shown_number(s, base) for s in laptops} == {NUMBERS[2]}
        assert all(
            s.conn.execute("SELECT count(*) FROM conflicts").fetchone()[0] == 0 for s in laptops
        )


def test_a_laptop_hours_behind_that_saw_a_change_replaces_it_without_a_conflict(
    store: StoreCopy, tmp_path: Path
) -> None:
    with team(store, tmp_path) as (base, laptops):
        _number(laptops[0], base, NUMBERS[0])
        _send_all(laptops)
        _number(laptops[1], base, NUMBERS[1])  # five hours behind, but after what it saw
        _send_all(laptops)
        assert {_shown_number(s, base) for s in laptops} == {NUMBERS[1]}
        assert all(
            s.conn.execute("SELECT count(*) FROM conflicts").fetchone()[0] == 0 for s in laptops
        )
