"""The sync engine: what one laptop does to take part in its team (core only, no Qt).

State lives in the encrypted store (schema step ``_v11_team``): the team row (team id, this
device's keys, the directory it trusts, the envelope number and chain), the replay guard and
refused envelopes a row each (``team_guard``, ``team_refused``: app/sync/guard.py), the
keys it holds (``team_keys``), envelopes sealed before publishing (``team_outgoing``), received
operations still waiting for a record (``team_pending``) and the sync log.

One sync, in order:

1. Read. Every envelope the transport offers that the guard does not hold is opened and dealt
   with in a batch's transaction (app/sync/guard.py: up to a thousand envelopes or half a
   second each), which also writes the batch's guard rows: a laptop killed part-way reads
   again what it had not recorded, and the guard, not the operation, says what is new.
   Envelopes set aside for want of a key are offered again once the key is held. Passes repeat
   while a pass brought a newer directory or a key (a grant may come after what it unlocks).
   Number 0 of a device's folder is its enrolment request: an admin's laptop accepts it once
   (EnrolmentDesk), adds the device to the directory and signs it.
2. Seal. Unsent outbox operations, grouped per scope in the order made, each group in one
   envelope under the scope's newest key (a key is made for a scope that has none). The sealed
   bytes are kept with their number in the same transaction that advances the number, so a
   retry after a crash publishes exactly the same bytes. This laptop's audit entries since the
   last sent go in an envelope of their own (app/sync/audit_travel.py).
3. Need to know. A case re-allocated here gets a new key for what follows (made after its
   allocation travelled under the old one, so the old worker learns of it and nothing more).
   Each key is sealed to the devices that may hold it and are missing it: a case key to the
   allocated caseworker's and every manager's devices. Grants and the directory travel in a
   "grant" envelope to each device, under a key only that device's X25519 key opens
   (app/sync/shred.py, which also rotates device keys after a purge).
4. Publish everything sealed and not yet published. A number the transport already holds from
   this device (its store was put back to an older copy) is sealed again after the newest one
   there (app/sync/resume.py).

A caseworker's laptop that applies an allocation of one of its cases to someone else
destroys its copy as a purge does (``destroy_case``), with the key, and audits it.

Revocation (app/sync/revocation.py): a key grant is taken only from a device entitled to pass
that key on, to this laptop (``grant_refusal``), and a directory only from an admin's device;
only the laptop that signs the directory takes in enrolments; adopting a directory that
revokes a device says so in the sync log (with any envelopes from it applied here after its
cut, which stay applied); on a manager's or admin's laptop each scope whose newest key was
sealed to a device now cut off gets a new key before anything more is sealed; each accepted
envelope updates its sender's last seen.

Team-wide purge (app/sync/purge.py), registers (app/sync/registers.py) and merges
(app/sync/merges.py) hook in where operations are applied and sealed. A laptop reads its own
device folder only when a number it publishes is taken (resume.py above).
"""

from __future__ import annotations

import base64
import json
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from app.crypto.connection import Connection, DatabaseError
from app.crypto.envelopes import (
    EnvelopeRejected,
    Opened,
    RejectReason,
    ReplayGuard,
    Skipped,
    SkipReason,
    envelope_digest,
    envelope_scope,
    open_envelope,
    scope_of_key,
    seal_envelope,
)
from app.crypto.invitation import EnrolmentDesk, EnrolmentRefused
from app.crypto.kdf import hkdf
from app.crypto.team import (
    DIRECTORY_MAGIC,
    GENESIS,
    DeviceKeys,
    Directory,
    DirectoryDevice,
    DirectoryRejected,
    DirectoryUser,
    Malformed,
    SealedKeyRejected,
    accept_directory,
    new_key,
    open_sealed_key,
    seal_key,
    sign_directory,
    unpack,
)
from app.errors import SafecaseError
from app.models import retention as retention_model
from app.models import settings as settings_model
from app.models import users as user_model
from app.models.db import transaction
from app.models.users import Role
from app.sync import audit_travel, moving, ops, purge, registers, resume, revocation, shred
from app.sync import guard as guard_rows
from app.sync.clock import new_gid
from app.sync.transport import EnvelopeNumberTaken, Incoming, Problem, Transport

GRANT = "grant"
MANAGER = Role.MANAGER.value
MAX_PASSES = 8
# Told each envelope read: the step (plain words, no personal data), how many envelopes were
# read so far and how many this sync expects (0 when not known yet).
Progress = Callable[[str, int, int], None]


class NotInTeam(SafecaseError):
    default_message = "This laptop is not in a team yet."


@dataclass
class State:
    team_id: str
    device: DeviceKeys = field(repr=False)
    directory: Directory
    signed_dir: bytes | None
    dir_sent: dict[str, int]
    desk: EnrolmentDesk
    refused: dict[str, list[int]]
    seq: int
    last_digest: str
    sent_upto: int
    folder: str
    last_sync: str | None
    # The grant keys from each device, worked out once per directory version.
    grant_cache: tuple[int, dict[str, bytes]] = field(default=(-1, {}), repr=False)
    # Envelopes refused since the state was last saved (``save`` writes them).
    refused_new: list[tuple[str, int]] = field(default_factory=list, repr=False)
    # The keys envelopes open with, read once per pass; None after anything that may change
    # them (a grant, a directory, a team order).
    keys: dict[str, bytes] | None = field(default=None, repr=False)
    # Per sender, the last envelope read from it since the last save, the newest operation it
    # sent in that time, and when: ``save`` tells the registers once (``registers.note_seen``).
    heard: dict[str, tuple[Opened | Skipped, list[ops.Operation], str]] = field(
        default_factory=dict, repr=False
    )
    conn: Connection | None = field(default=None, repr=False, compare=False)
    loaded_guard: ReplayGuard | None = field(default=None, repr=False)

    @property
    def guard(self) -> ReplayGuard:
        """The replay guard, read from the store when first needed: a sync reads it, a caller
        after the directory or the folder does not."""
        if self.loaded_guard is None:
            if self.conn is None:
                raise NotInTeam()
            self.loaded_guard = guard_rows.load_guard(self.conn)
        return self.loaded_guard


@dataclass
class SyncReport:
    received: int = 0
    applied: int = 0
    pending: int = 0
    sent: int = 0
    rejected: int = 0
    enrolled: int = 0
    destroyed: int = 0
    problems: list[str] = field(default_factory=list)


# -- state ----------------------------------------------------------------------------------


def joined(conn: Connection) -> bool:
    return conn.execute("SELECT 1 FROM team WHERE id = 1").fetchone() is not None


def load(conn: Connection) -> State:
    row = conn.execute(
        "SELECT team_id, device_keys, directory, signed_dir, dir_sent, desk, "
        "seq, last_digest, sent_upto, folder, last_sync FROM team WHERE id = 1"
    ).fetchone()
    if row is None:
        raise NotInTeam()
    return State(
        team_id=str(row[0]),
        device=DeviceKeys.from_bytes(bytes(row[1])),
        directory=Directory.from_body(bytes(row[2])),
        signed_dir=None if row[3] is None else bytes(row[3]),
        dir_sent={str(k): int(v) for k, v in json.loads(str(row[4])).items()},
        desk=EnrolmentDesk.from_json(json.loads(str(row[5]))),
        refused=guard_rows.load_refused(conn),
        seq=int(row[6]),
        last_digest=str(row[7]),
        sent_upto=int(row[8]),
        folder=str(row[9]),
        last_sync=None if row[10] is None else str(row[10]),
        conn=conn,
    )


def create(
    conn: Connection,
    *,
    team_id: str,
    device: DeviceKeys,
    directory: Directory,
    signed_dir: bytes | None,
    folder: str,
) -> None:
    """Make the team row (call inside a transaction); this store's operations then carry the
    device's id."""
    conn.execute(
        "INSERT INTO team (id, team_id, device_id, device_keys, directory, signed_dir, "
        "last_digest, folder) VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
        (
            team_id,
            device.device_id,
            device.to_bytes(),
            directory.body(),
            signed_dir,
            GENESIS,
            folder,
        ),
    )
    settings_model.put(conn, ops.DEVICE_SETTING, device.device_id)


def found_team(conn: Connection, owner: int, folder: str, now: str) -> tuple[str, str]:
    """A new team with this store as its first laptop, the device of user ``owner`` (an
    admin): the directory (version 1) lists every user of the store and this device, signed
    by it. Call inside a transaction; returns the team id and the device id."""
    team_id, device = new_gid(), DeviceKeys.generate(new_gid())
    me = directory_user(conn, owner)
    others = [directory_user(conn, u.id) for u in user_model.all_users(conn) if u.id != owner]
    mine = DirectoryDevice(
        device.device_id, me.id, device.encryption_public, device.signing_public, now
    )
    directory = Directory(team_id, 1, (me, *others), (mine,))
    create(
        conn,
        team_id=team_id,
        device=device,
        directory=directory,
        signed_dir=sign_directory(directory, device),
        folder=folder,
    )
    return team_id, device.device_id


def save(conn: Connection, state: State) -> None:
    """The team row, and the guard's and refusals' rows recorded since the last save."""
    guard_rows.write(conn, state.loaded_guard, state.refused_new)
    for envelope, newest, at in state.heard.values():
        registers.note_seen(conn, at, envelope, newest)
    state.heard.clear()
    conn.execute(
        "UPDATE team SET directory = ?, signed_dir = ?, dir_sent = ?, desk = ?, "
        "seq = ?, last_digest = ?, sent_upto = ?, folder = ?, last_sync = ? "
        "WHERE id = 1",
        (
            state.directory.body(),
            state.signed_dir,
            json.dumps(state.dir_sent, sort_keys=True),
            json.dumps(state.desk.to_json(), sort_keys=True),
            state.seq,
            state.last_digest,
            state.sent_upto,
            state.folder,
            state.last_sync,
        ),
    )


def log(conn: Connection, now: str, sentence: str, sender: str | None, seq: int | None) -> None:
    """One sentence in the sync log (device ids and numbers, never personal data), once."""
    known = conn.execute(
        "SELECT 1 FROM sync_log WHERE sentence = ? AND sender IS ? AND seq IS ?",
        (sentence, sender, seq),
    ).fetchone()
    if known is None:
        conn.execute(
            "INSERT INTO sync_log (at, sender, seq, sentence) VALUES (?, ?, ?, ?)",
            (now, sender, seq, sentence),
        )


def sync_log(conn: Connection, limit: int = 200) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT at, sentence FROM sync_log ORDER BY id DESC LIMIT ?", (limit,)
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


# -- keys -----------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def held_keys(conn: Connection) -> dict[str, bytes]:
    rows = conn.execute("SELECT key_id, key FROM team_keys").fetchall()
    return {str(r[0]): bytes(r[1]) for r in rows}


def _current_key(conn: Connection, scope: str) -> tuple[str, bytes] | None:
    row = conn.execute(
        "SELECT key_id, key FROM team_keys WHERE scope = ? ORDER BY made_at DESC, key_id DESC "
        "LIMIT 1",
        (scope,),
    ).fetchone()
    return None if row is None else (str(row[0]), bytes(row[1]))


def make_key(conn: Connection, scope: str, now: str, for_user: str | None) -> tuple[str, bytes]:
    """A new key for ``scope``, the newest from now on; its id is unique across the team."""
    key_id, key = f"{scope}#{new_gid()}", new_key()
    latest = conn.execute("SELECT max(made_at) FROM team_keys WHERE scope = ?", (scope,))
    before = latest.fetchone()[0]
    if before is not None and str(before) >= now:
        now = f"{before}+"  # after every key it replaces, whatever the clock says
    conn.execute(
        "INSERT INTO team_keys (key_id, scope, key, made_at, for_user) VALUES (?, ?, ?, ?, ?)",
        (key_id, scope, key, now, for_user),
    )
    return key_id, key


def _grant_key(me: DeviceKeys, directory: Directory, sender: str, recipient: str) -> bytes:
    """The key of grant envelopes from ``sender`` to ``recipient``: both derive it from their
    X25519 keys (static-static exchange, HKDF-SHA256), no one else can."""
    other = recipient if me.device_id == sender else sender
    device = directory.device(other)
    if device is None:
        raise KeyError(other)
    shared = me.encryption.exchange(X25519PublicKey.from_public_bytes(device.encryption_public))
    salt = f"{sender}|{recipient}".encode()
    return hkdf(shared, salt=salt, info=b"safecase grant envelope v1")


def _grant_keys(state: State) -> dict[str, bytes]:
    version, cached = state.grant_cache
    if version == state.directory.version:
        return cached
    me = state.device.device_id
    found = {}
    for d in state.directory.devices:
        if d.id != me:
            found[f"{GRANT}:{me}#{d.id}"] = _grant_key(state.device, state.directory, d.id, me)
    state.grant_cache = (state.directory.version, found)
    return found


# -- local users follow the directory -------------------------------------------------------


def _adopt_users(conn: Connection, directory: Directory, now: str) -> None:
    """Every user of the directory has a row here (no sign-in slot), so records they wrote
    name them; roles follow the directory."""
    for user in directory.users:
        if not user.username:
            continue
        roles = frozenset(Role(r) for r in user.roles if r in Role._value2member_map_)
        row = conn.execute("SELECT id FROM users WHERE gid = ?", (user.id,)).fetchone()
        if row is None:
            user_id = user_model.insert(conn, user.username, roles, None, now)
            conn.execute("UPDATE users SET gid = ? WHERE id = ?", (user.id, user_id))
        else:
            user_id = int(row[0])
            conn.execute(
                "UPDATE users SET roles = ? WHERE id = ?",
                (user_model.encode_roles(roles), user_id),
            )
        user_model.set_disabled(conn, user_id, user.disabled)


def directory_user(conn: Connection, user_id: int) -> DirectoryUser:
    user = user_model.by_id(conn, user_id)
    if user is None:
        raise SafecaseError("That user is not in this store.")
    return DirectoryUser(
        ops.gid_of(conn, "users", user_id) or "",
        user.username,
        frozenset(r.value for r in user.roles),
        user.disabled,
    )


def adopt(conn: Connection, state: State, directory: Directory, signed: bytes, now: str) -> None:
    state.directory, state.signed_dir = directory, signed
    _adopt_users(conn, directory, now)
    shred.adopted(conn, state, now)  # a directory listing this laptop's new key


# -- reading --------------------------------------------------------------------------------


def _have(state: State, keys: Mapping[str, bytes]) -> dict[str, set[int]]:
    scopes = {scope_of_key(k) for k in keys}
    have = state.guard.have(reread=scopes)
    for sender, seqs in state.refused.items():
        have.setdefault(sender, set()).update(seqs)
    for d in state.directory.devices:
        have.setdefault(d.id, set()).add(0)
    have[state.device.device_id] = set(range(state.seq + 1))  # its own, never read back
    return have


def _refuse(state: State, sender: str, seq: int) -> None:
    state.refused.setdefault(sender, []).append(seq)
    state.refused_new.append((sender, seq))


def _enrol(conn: Connection, state: State, inc: Incoming, now: str, report: SyncReport) -> bool:
    """An enrolment request (number 0): the laptop that signs the directory adds it once."""
    me = state.device.device_id
    signer = revocation.directory_signer(state.directory, state.signed_dir)
    if signer != me or not state.directory.is_admin_device(me):
        return False
    try:
        device = state.desk.accept(inc.data, datetime.fromisoformat(now.replace("Z", "+00:00")))
    except EnrolmentRefused as exc:
        log(conn, now, str(exc), inc.sender, 0)
        _refuse(state, inc.sender, 0)
        report.rejected += 1
        return True
    directory = state.directory.with_device(device)
    adopt(conn, state, directory, sign_directory(directory, state.device), now)
    revocation.note_enrolled(conn, inc.sender, now)
    report.enrolled += 1
    return True


def _take_grant(conn: Connection, state: State, opened: Opened, now: str) -> bool:
    """A directory and keys sealed to this device; True when anything new arrived."""
    body = json.loads(opened.plaintext.decode("utf-8"))
    changed = shred.take(conn, state, opened.sender, body, now)
    signed = body.get("directory")
    if isinstance(signed, str) and not state.directory.is_admin_device(opened.sender):
        log(conn, now, revocation.DIRECTORY_REFUSED, opened.sender, opened.seq)
    elif isinstance(signed, str):
        data = base64.b64decode(signed)
        try:
            directory = accept_directory(data, trusted=state.directory)
        except DirectoryRejected as exc:
            if directory_newer(data, state.directory):
                log(conn, now, str(exc), opened.sender, opened.seq)
        else:
            applied = {
                d: {n for n, h in seqs.items() if h.waiting is None}
                for d, seqs in state.guard.seen.items()
            }
            for device, sentence in revocation.newly_revoked(state.directory, directory, applied):
                log(conn, now, sentence, device, None)
            adopt(conn, state, directory, data, now)
            changed = True
    notice = body.get(moving.NOTICE)
    if isinstance(notice, dict):  # the admin moved the team to its server
        sender, folder = opened.sender, state.folder
        refused = moving.take_notice(conn, state.directory, sender, folder, notice, now)
        if refused:
            log(conn, now, refused, opened.sender, opened.seq)
    for item in body.get("keys") or []:
        key_id = str(item["key_id"])
        scope = scope_of_key(key_id)
        refusal = revocation.grant_refusal(
            conn,
            state.directory,
            me=state.device.device_id,
            sender=opened.sender,
            scope=scope,
            for_user=item.get("for_user"),
            may_hold=() if scope.startswith("case:") else scope_users(state.directory, scope),
            signer=revocation.directory_signer(state.directory, state.signed_dir),
        )
        if refusal is not None:
            log(conn, now, refusal, opened.sender, opened.seq)
            continue
        try:
            key = open_sealed_key(
                base64.b64decode(str(item["sealed"])), key_id=key_id, device=state.device
            )
        except SealedKeyRejected as exc:
            log(conn, now, str(exc), opened.sender, opened.seq)
            continue
        cur = conn.execute(
            "INSERT INTO team_keys (key_id, scope, key, made_at, for_user, holders) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key_id) DO NOTHING",
            (
                key_id,
                scope_of_key(key_id),
                key,
                str(item.get("made_at") or now),
                item.get("for_user"),
                json.dumps(sorted(item.get("holders") or [])),
            ),
        )
        changed = changed or cur.rowcount > 0
    return changed


def directory_newer(data: bytes, trusted: Directory) -> bool:
    """Whether a directory file claims a version newer than ``trusted`` (to log its refusal;
    an older one is only a copy this laptop has passed)."""
    try:
        body = unpack(data, DIRECTORY_MAGIC, 3)[0]
        return int(json.loads(body)["version"]) > trusted.version
    except (Malformed, ValueError, KeyError, TypeError):
        return True


def _pending(conn: Connection) -> list[ops.Operation]:
    rows = conn.execute("SELECT operation FROM team_pending ORDER BY op_id").fetchall()
    return [ops.decode_ops(str(r[0]).encode())[0] for r in rows]


def _apply(conn: Connection, opened: Opened, now: str, report: SyncReport) -> list[ops.Operation]:
    """Apply what an envelope carries; returns every operation it held."""
    incoming = ops.decode_ops(opened.plaintext)
    mine = [op for op in incoming if op.scope == opened.scope]
    if len(mine) != len(incoming):
        log(
            conn,
            now,
            "An envelope held changes for something its key does not cover; those were not "
            "applied.",
            opened.sender,
            opened.seq,
        )
    mine = purge.take(conn, opened.sender, mine, now)  # team orders, retention facts
    fresh = {op.op_id for op in mine if not ops.held(conn, op.op_id)}
    waiting = _retry_pending(conn, mine)
    report.applied += len(fresh - {op.op_id for op in waiting})
    report.pending = len(waiting)
    return incoming


def _retry_pending(conn: Connection, more: Iterable[ops.Operation] = ()) -> list[ops.Operation]:
    """Apply what waits and ``more``; keep what still waits for a record."""
    pending = _pending(conn)
    waiting = ops.apply_all(conn, [*pending, *more])
    if not pending and not waiting:
        return waiting  # nothing waited, nothing waits: no need to write
    conn.execute("DELETE FROM team_pending")
    conn.executemany(
        "INSERT INTO team_pending (op_id, operation) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(op.op_id, ops.encode_ops([op]).decode()) for op in waiting],
    )
    return waiting


MOVED = (
    "An envelope was found under another number or device than it was sent with (a copy "
    "played back); it was not applied."
)
UNREADABLE = "An envelope opened but what it held could not be read; it was not applied."


def _read_one(conn: Connection, state: State, inc: Incoming, now: str, report: SyncReport) -> bool:
    """Deal with one envelope inside the open batch's transaction (``read_incoming``); True
    when a directory or key arrived. A refused envelope is logged once and never offered again
    (one whose sender this laptop does not know yet is offered again: the directory naming it
    may still be on its way)."""

    def refuse(sentence: str) -> bool:
        log(conn, now, sentence, inc.sender, inc.seq)
        report.rejected += 1
        _refuse(state, inc.sender, inc.seq)
        return False

    if inc.seq == 0:
        state.keys = None
        return _enrol(conn, state, inc, now, report)
    if state.keys is None:
        state.keys = {**held_keys(conn), **_grant_keys(state)}
    grant = shred.opening_key(conn, state.device, inc.data)  # a grant to this laptop
    try:
        result = open_envelope(
            inc.data,
            team=state.team_id,
            directory=state.directory,
            keys=ChainMap(grant, state.keys) if grant else state.keys,
            seen=state.guard,
        )
    except EnvelopeRejected as exc:
        if exc.reason is RejectReason.UNKNOWN_SENDER:
            log(conn, now, str(exc), inc.sender, inc.seq)
            report.rejected += 1
            return False
        return refuse(str(exc))
    if (result.sender, result.seq) != (inc.sender, inc.seq):
        return refuse(MOVED)
    report.received += 1
    changed, carried = False, None
    if isinstance(result, Opened):
        if not result.scope.startswith("case:") and not audit_travel.carries(result.scope):
            state.keys = None  # a grant or a team order may add or destroy keys
        conn.execute("SAVEPOINT envelope")
        try:
            if result.scope.startswith(f"{GRANT}:"):
                changed = _take_grant(conn, state, result, now)
            elif audit_travel.carries(result.scope):
                note = result  # the sync log names the envelope
                audit_travel.receive(
                    conn,
                    state.device.device_id,
                    result,
                    now,
                    lambda s: log(conn, now, s, note.sender, note.seq),
                )
                carried = []  # audit entries, no operations
            else:
                carried = _apply(conn, result, now, report)
        except (ValueError, KeyError, TypeError, SafecaseError, DatabaseError):
            conn.execute("ROLLBACK TO envelope")
            conn.execute("RELEASE envelope")
            return refuse(UNREADABLE)
        conn.execute("RELEASE envelope")
    elif result.why is SkipReason.AWAITING_CHAIN:
        return False
    elif shred.lost_grant(conn, state, result):
        log(conn, now, shred.LOST_GRANT, result.sender, result.seq)
    _heard(state, result, carried or [], now)
    state.guard.record(result)
    return changed


def _heard(
    state: State, envelope: Opened | Skipped, carried: list[ops.Operation], now: str
) -> None:
    """Remember that ``envelope`` was accepted now, for ``save`` to record once per sender."""
    before = state.heard.get(envelope.sender)
    newest = [*(before[1] if before else []), *carried]
    top = [max(newest, key=lambda op: op.hlc)] if newest else []
    state.heard[envelope.sender] = (envelope, top, now)


def _expected(transport: Transport, have: Mapping[str, Set[int]], me: str) -> int:
    """How many envelopes the transport holds that this laptop does not (from its counts)."""
    published = transport.status().published
    return sum(
        max(0, count - len(have.get(sender, ())))
        for sender, count in published.items()
        if sender != me
    )


def read_incoming(
    conn: Connection,
    state: State,
    transport: Transport,
    now: str,
    report: SyncReport,
    progress: Progress | None = None,
) -> None:
    def problem(p: Problem) -> None:
        report.problems.append(p.sentence)

    done, expected = 0, 0
    for _ in range(MAX_PASSES):
        changed, state.keys = False, None
        keys = held_keys(conn)
        have = _have(state, keys)
        with guard_rows.Batches(conn, lambda: save(conn, state)) as batches:
            for inc in transport.incoming(have, problems=problem):
                if progress is not None:
                    if not expected:  # counted only when something came: a no-op stays cheap
                        expected = done + _expected(transport, have, state.device.device_id)
                    done += 1
                    progress(f"Reading changes from device {inc.sender}", done, max(expected, done))
                batches.begin()
                changed = _read_one(conn, state, inc, now, report) or changed
                batches.done()
        if not changed:
            break
    with transaction(conn):
        if _pending(conn):  # a record they waited for may have come some other way
            _retry_pending(conn)
        registers.settle_subjects(conn)
        for sentence in report.problems:
            log(conn, now, sentence, None, None)


# -- need to know ---------------------------------------------------------------------------


def _my_user(conn: Connection, user_id: int) -> tuple[str, frozenset[Role]]:
    user = user_model.by_id(conn, user_id)
    return ops.gid_of(conn, "users", user_id) or "", user.roles if user else frozenset()


def _case_holders(
    conn: Connection, directory: Directory, case_gid: str
) -> tuple[str | None, set[str]]:
    row = conn.execute(
        "SELECT u.gid FROM cases c LEFT JOIN users u ON u.id = c.allocated_user_id WHERE c.gid = ?",
        (case_gid,),
    ).fetchone()
    worker = None if row is None or row[0] is None else str(row[0])
    users = {u.id for u in directory.users if MANAGER in u.roles and not u.disabled}
    if worker is not None:
        users.add(worker)
    return worker, users


# Who may hold the key of each kind of scope other than a case (whose key goes to its
# allocated caseworker and the team's managers: ``_case_holders``), by the roles a user holds.
# "register": the rights register and breach log; "audit": every device's audit trail;
# "retention": what retention needs of each case (references and dates, no content);
# "team": what every laptop must hear (purge orders and their acknowledgements).
SCOPE_ROLES: dict[str, frozenset[str]] = {
    "register": frozenset({Role.MANAGER.value, Role.DPO.value}),
    "audit": frozenset({Role.MANAGER.value, Role.DPO.value}),
    "retention": frozenset({Role.MANAGER.value, Role.ADMIN.value}),
    "person": frozenset({Role.MANAGER.value}),
}
EVERYONE = "team"


def scope_users(directory: Directory, scope: str) -> set[str]:
    """The global ids of the users (not disabled) who may hold the key of ``scope``, for any
    scope but a case's. ``person:<gid>`` (someone on no case) goes to the managers."""
    kind = scope.partition(":")[0]
    live = [u for u in directory.users if not u.disabled]
    if kind == EVERYONE:
        return {u.id for u in live}
    roles = SCOPE_ROLES.get(kind, frozenset({MANAGER}))
    return {u.id for u in live if u.roles & roles}


def destroy_unallocated(conn: Connection, user_id: int, now: str) -> int:
    """On a caseworker's laptop (not a manager's), destroy each case now allocated to someone
    else or to no one, with its keys and waiting changes, as a purge does; audited. Returns how
    many."""
    from app.services import audit

    me, roles = _my_user(conn, user_id)
    if roles & {Role.MANAGER, Role.ADMIN, Role.DPO} or not me:
        return 0
    gone = conn.execute(
        "SELECT c.id, c.gid FROM cases c LEFT JOIN users u ON u.id = c.allocated_user_id "
        "WHERE u.gid IS NOT ?",
        (me,),
    ).fetchall()
    for case_id, gid in gone:
        scope = f"case:{gid}"
        retention_model.destroy_case(conn, int(case_id))
        conn.execute("DELETE FROM team_keys WHERE scope = ?", (scope,))
        for op in _pending(conn):
            if op.scope == scope:
                conn.execute("DELETE FROM team_pending WHERE op_id = ?", (op.op_id,))
        audit.record(
            conn, user_id, audit.CASE_DESTROYED, f"case:{int(case_id)}", "re-allocated", at=now
        )
    return len(gone)


ALLOCATION = "cases.allocated_user_id"


def _rotate(conn: Connection, state: State, roles: frozenset[Role], scope: str, now: str) -> None:
    """On a manager's laptop: a case whose caseworker changed since its newest key was made
    (to someone else or to no one) gets a new key, for what follows; the old worker is never
    sent it."""
    if scope.startswith("case:"):
        worker, _ = _case_holders(conn, state.directory, scope.partition(":")[2])
        _key_for(conn, state, roles, scope, worker, now)


def _by_worker(
    conn: Connection, state: State, scope: str, batch: list[ops.Operation]
) -> list[tuple[str | None, list[ops.Operation]]]:
    """``batch`` cut after each re-allocation, each part with the global id of the worker the
    case was allocated to while it was made (the value the allocation ending it replaced; for
    the last part, the worker now). Not a case's scope: one part, for no worker."""
    if not scope.startswith("case:"):
        return [(None, batch)]
    parts: list[tuple[str | None, list[ops.Operation]]] = []
    start = 0
    for n, op in enumerate(batch):
        if op.field == ALLOCATION:
            was = op.payload.get("was")
            parts.append((None if was is None else str(was), batch[start : n + 1]))
            start = n + 1
    if start < len(batch):
        worker, _ = _case_holders(conn, state.directory, scope.partition(":")[2])
        parts.append((worker, batch[start:]))
    return parts


def _key_for(
    conn: Connection,
    state: State,
    roles: frozenset[Role],
    scope: str,
    worker: str | None,
    now: str,
) -> None:
    """On a manager's laptop, before sealing a part of a case's operations: the newest key of
    the case must be one made for ``worker``, the caseworker who held the case while the part
    was made; a new one is made otherwise (a key made for anyone else could reach a worker
    not entitled to the part). Another laptop seals under the key it holds."""
    if Role.MANAGER not in roles or not scope.startswith("case:"):
        return
    row = conn.execute(
        "SELECT for_user FROM team_keys WHERE scope = ? ORDER BY made_at DESC, key_id DESC LIMIT 1",
        (scope,),
    ).fetchone()
    if row is None or row[0] != worker:
        make_key(conn, scope, now, worker)


def _grants(conn: Connection, state: State, now: str) -> dict[str, dict[str, object]]:
    """What each device should be sent: keys it may hold and lacks, and a newer directory."""
    out: dict[str, dict[str, object]] = {}
    me = state.device.device_id
    admin = state.directory.is_admin_device(me)
    rows = conn.execute(
        "SELECT key_id, scope, key, made_at, for_user, holders FROM team_keys"
    ).fetchall()
    for key_id, scope, key, made_at, for_user, holders in rows:
        have = set(json.loads(str(holders)))
        if str(scope).startswith("case:"):
            # Every key of the case, older ones too, so a new caseworker reads its history.
            _, users = _case_holders(conn, state.directory, str(scope).partition(":")[2])
        else:
            users = scope_users(state.directory, str(scope))
        wanted = {d.id: d for d in state.directory.live_devices(users) if d.id != me}
        missing = [d for i, d in sorted(wanted.items()) if i not in have]
        holders = sorted(have | {d.id for d in missing} | {me})
        for d in missing:
            sealed = seal_key(bytes(key), key_id=str(key_id), device=d)
            entry = out.setdefault(d.id, {"keys": []})
            keys = entry["keys"]
            assert isinstance(keys, list)
            keys.append(
                {
                    "key_id": str(key_id),
                    "sealed": _b64(sealed),
                    "made_at": str(made_at),
                    "for_user": for_user,
                    "holders": holders,
                }
            )
        if missing:
            conn.execute(
                "UPDATE team_keys SET holders = ? WHERE key_id = ?", (json.dumps(holders), key_id)
            )
    if admin and state.signed_dir is not None:
        for d in state.directory.live_devices():
            if d.id != me and state.dir_sent.get(d.id, 0) < state.directory.version:
                out.setdefault(d.id, {"keys": []})["directory"] = _b64(state.signed_dir)
                state.dir_sent[d.id] = state.directory.version
    return out


# -- sending --------------------------------------------------------------------------------


def _seal(conn: Connection, state: State, scope: str, key_id: str, key: bytes, data: bytes) -> None:
    seq = state.seq + 1
    sealed = seal_envelope(
        data,
        team=state.team_id,
        sender=state.device,
        seq=seq,
        previous=state.last_digest,
        scope=scope,
        key_id=key_id,
        key=key,
    )
    conn.execute("INSERT INTO team_outgoing (seq, data) VALUES (?, ?)", (seq, sealed))
    state.seq, state.last_digest = seq, envelope_digest(sealed)


def _seal_ops(
    conn: Connection, state: State, scope: str, batch: list[ops.Operation], now: str
) -> None:
    """One envelope of ``batch`` under the scope's newest key (made now if it has none)."""
    current = _current_key(conn, scope)
    if current is None:
        worker = None
        if scope.startswith("case:"):
            worker, _ = _case_holders(conn, state.directory, scope.partition(":")[2])
        current = make_key(conn, scope, now, worker)
    _seal(conn, state, scope, current[0], current[1], ops.encode_ops(batch))


def seal_outgoing(conn: Connection, state: State, user_id: int, now: str) -> int:
    """Seal unsent operations per scope, then new keys and grants; one transaction. Returns how
    many operations were sealed.

    A case's operations are cut after each re-allocation: each part travels under a key made
    for the worker the case was allocated to while it was made, so a re-allocation and what
    came before it reach the old worker (who held the case then), and what follows it in the
    same sync goes under a key they never get."""
    me, roles = _my_user(conn, user_id)
    with transaction(conn):
        if roles & {Role.MANAGER, Role.ADMIN}:  # keys a revoked device held: new ones follow
            for scope, for_user in revocation.stale_scopes(conn, state.directory):
                make_key(conn, scope, now, for_user)
        purge.send_facts(conn, state.directory, user_id, now)
        made = ops.outbox(conn, state.sent_upto)
        groups: dict[str, list[ops.Operation]] = {}
        for _, op in made:
            groups.setdefault(op.scope, []).append(op)
        for scope, batch in groups.items():
            for worker, segment in _by_worker(conn, state, scope, batch):
                _key_for(conn, state, roles, scope, worker, now)
                _seal_ops(conn, state, scope, segment, now)
            _rotate(conn, state, roles, scope, now)
        if made:
            state.sent_upto = made[-1][0]
        for scope, data in audit_travel.outgoing(conn, state.device.device_id):
            key_id, key = _current_key(conn, scope) or make_key(conn, scope, now, None)
            _seal(conn, state, scope, key_id, key, data)
        held = conn.execute("SELECT DISTINCT scope FROM team_keys WHERE scope LIKE 'case:%'")
        for (scope,) in held.fetchall():
            _rotate(conn, state, roles, str(scope), now)  # re-allocated by another laptop
        shred.take_resend(conn, state)  # a laptop that lost a grant: all again
        grants = _grants(conn, state, now)
        signer = revocation.directory_signer(state.directory, state.signed_dir)
        for device_id, extra in shred.extras(conn, state, signer).items():
            grants.setdefault(device_id, {"keys": []}).update(extra)
        for device_id, body in sorted(grants.items()):
            seal_grant(conn, state, device_id, body)
        holders = scope_users(state.directory, registers.REGISTER)
        devices = {d.id for d in state.directory.live_devices(holders)}
        registers.forget_unheld_keys(conn, holders, me, devices)
        save(conn, state)
    return len(made)


def seal_grant(conn: Connection, state: State, device_id: str, body: Mapping[str, object]) -> None:
    """One grant envelope to ``device_id``, readable by it alone (call inside a transaction)."""
    scope = f"{GRANT}:{device_id}"
    key_id, key = shred.grant_key(state.directory, state.device.device_id, device_id)
    _seal(conn, state, scope, key_id, key, json.dumps(body, sort_keys=True).encode())
    shred.keep_until_published(conn, state.seq, key)


def unpublished(conn: Connection) -> list[tuple[int, bytes]]:
    rows = conn.execute(
        "SELECT seq, data FROM team_outgoing WHERE published = 0 ORDER BY seq"
    ).fetchall()
    return [(int(r[0]), bytes(r[1])) for r in rows]


def publish(conn: Connection, state: State, transport: Transport, now: str | None = None) -> int:
    """Publish what was sealed and not yet published, each marked once it is in the folder.
    With ``now``, a store put back to an older copy numbers them again (app/sync/resume.py)."""
    count = 0
    for seq, data in unpublished(conn):
        try:
            transport.publish(state.device.device_id, seq, data)
        except EnvelopeNumberTaken:
            if now is None or not resume.renumber(conn, state, transport, now):
                raise
            return count + publish(conn, state, transport)
        with transaction(conn):  # published: the folder keeps it now, the store need not
            conn.execute("DELETE FROM team_outgoing WHERE seq = ?", (seq,))
        count += 1
    return count


def sync(
    conn: Connection,
    user_id: int,
    now: str,
    transport: Transport,
    progress: Progress | None = None,
) -> SyncReport:
    state = load(conn)
    report = SyncReport()
    # What a crash left sealed goes first, as it was; then this laptop's own changes are
    # sealed before anything read can take their case away.
    report.sent = publish(conn, state, transport, now)
    seal_outgoing(conn, state, user_id, now)
    read_incoming(conn, state, transport, now, report, progress)
    with transaction(conn):
        report.destroyed = moved = destroy_unallocated(conn, user_id, now)
        report.destroyed += purge.carry_out(conn, user_id, now)
        if report.destroyed:
            retention_model.optimize_index(conn)
        retired = shred.destroy_retired(conn, now)  # everything sealed to them is read now
        signer = revocation.directory_signer(state.directory, state.signed_dir)
        shred.rotate_if_due(conn, state, signer, now, lost_cases=moved > 0)
        save(conn, state)
    if report.destroyed or retired:
        retention_model.checkpoint(conn)  # no page of the log keeps what was destroyed
    seal_outgoing(conn, state, user_id, now)
    report.sent += publish(conn, state, transport, now)
    with transaction(conn):
        state.last_sync = now
        conn.execute("UPDATE team SET last_sync = ? WHERE id = 1", (now,))
    report.pending = int(conn.execute("SELECT count(*) FROM team_pending").fetchone()[0])
    return report


def waiting_to_send(conn: Connection) -> int:
    state = load(conn)
    made = len(ops.outbox(conn, state.sent_upto))
    # The audit entries that travel are not changes the user made.
    sealed = [d for _, d in unpublished(conn) if not audit_travel.carries(envelope_scope(d) or "")]
    return made + len(sealed)
