"""The team's audit trail: each device's entries travel, and every device's chain is anchored on
the laptops that receive it (core only, no Qt).

Sending. At each sync (``outgoing``, inside the transaction that seals the rest) a laptop puts
the entries of its own trail written since the last ones it sent into envelopes of the scope
``audit:<its device id>``, each entry as it is (its number in the chain, when, the user by local
id, global id and username, action, record by id, detail, previous hash and hash: entries
never hold personal data), with the trail's head (its last entry and that entry's hash). The
scope's key is made by the device itself and granted like any other to the laptops of the
managers and the DPO (``engine.scope_users``: an "audit" scope); a caseworker's laptop holds
only its own device's key, so it never reads another device's entries. What was sent last is
kept in the store (``SENT``: number and hash).

Receiving (``receive``). Another device's entries go into ``team_audit`` (device, position,
entry, hash), never into this store's own chain. Each entry is checked as it arrives: its hash
must be right for its fields, and it must link to the entries held either side of it. The
held entries, and so the newest (position, hash) accepted from each device, are that device's
anchor outside itself; the envelopes in the transport (never replaced in the folder,
append-only on a server) hold them too. A laptop whose trail was rewritten (an entry changed,
even with the chain hashed again by someone holding the data key), cut short (its newest
entries removed) or rolled back (its store put back to an older copy) no longer matches: its
later entries either do not continue the chain held here, or come again under positions held
here with other hashes, or its head says it ends before an entry it already sent. Each such
finding is kept (``team_audit_findings``) and said in the sync log, and
``safecase audit verify --team`` names the device and its user. A laptop reading back its own
envelopes (it does so only when its store is older than what it published) compares them with
its own trail and names itself the same way.

What this cannot catch: a change to entries that never left the laptop (written and changed
between two syncs: only the seals show that); a laptop that never syncs again after it was
changed (the others hold what it sent, and its silence shows on the Devices page); software
altered to send a consistent fiction from the start. Managers' and the DPO's laptops are
the witnesses: a team with neither has no anchor outside each device.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from app.crypto.connection import Connection
from app.crypto.envelopes import Opened
from app.crypto.team import Directory
from app.models import audit as audit_model
from app.models import settings as settings_model
from app.models.db import read

KIND = "audit"
SENT = "team_audit.sent"  # settings: "position:hash" of the newest own entry sent
BATCH = 2000
FORMAT = 1


def scope_of(device: str) -> str:
    return f"{KIND}:{device}"


def carries(scope: str) -> bool:
    return scope.startswith(f"{KIND}:")


@dataclass(frozen=True)
class Travelling:
    """One entry as it travels (and is kept on the laptops that receive it)."""

    position: int
    at: str
    user_id: int | None
    user_gid: str
    username: str
    action: str
    record: str
    detail: str
    prev_hash: str
    hash: str

    def checks_out(self) -> bool:
        digest = audit_model.entry_hash(
            self.position,
            self.at,
            self.user_id,
            self.action,
            self.record,
            self.detail,
            self.prev_hash,
        )
        return digest == self.hash

    def to_json(self) -> list[object]:
        return [
            self.position,
            self.at,
            self.user_id,
            self.user_gid,
            self.username,
            self.action,
            self.record,
            self.detail,
            self.prev_hash,
            self.hash,
        ]

    @classmethod
    def from_json(cls, item: list[object]) -> Travelling:
        position, at, user_id, gid, name, action, record, detail, prev, digest = item
        return cls(
            int(str(position)),
            str(at),
            None if user_id is None else int(str(user_id)),
            str(gid),
            str(name),
            str(action),
            str(record),
            str(detail),
            str(prev),
            str(digest),
        )


# -- sending --------------------------------------------------------------------------------


def sent(conn: Connection) -> tuple[int, str]:
    """The number and hash of the newest own entry sent to the team (0 and GENESIS: none)."""
    value = settings_model.get(conn, SENT)
    if not value:
        return 0, audit_model.GENESIS
    position, _, digest = value.partition(":")
    return int(position), digest


def _last(conn: Connection) -> tuple[int, str]:
    rows = read(conn, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
    return (int(str(rows[0][0])), str(rows[0][1])) if rows else (0, audit_model.GENESIS)


def _users(conn: Connection, ids: set[int]) -> dict[int, tuple[str, str]]:
    found: dict[int, tuple[str, str]] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        marks = ", ".join("?" for _ in part)
        rows = read(
            conn,
            f"SELECT id, coalesce(gid, ''), username FROM users WHERE id IN ({marks})",
            tuple(part),
        )
        found.update({int(str(r[0])): (str(r[1]), str(r[2])) for r in rows})
    return found


# Recording a sync that sent something is itself an entry: sent alone it would make the next
# sync send again, and so on for ever. It waits for the next entry of any other kind.
QUIET = "team_synced"


def _only_syncs_since(conn: Connection, position: int, digest: str) -> bool:
    rows = read(conn, "SELECT hash FROM audit WHERE id = ?", (position,))
    if position and (not rows or str(rows[0][0]) != digest):
        return False
    louder = read(
        conn, "SELECT 1 FROM audit WHERE id > ? AND action != ? LIMIT 1", (position, QUIET)
    )
    return not louder


def outgoing(conn: Connection, device: str) -> list[tuple[str, bytes]]:
    """This laptop's entries since the last sent, as envelope bodies for its audit scope (none
    when nothing changed); the record of what was sent moves on. Inside the transaction that
    seals them. A trail now shorter than what was sent, or different at its last sent entry,
    says so through its head: the laptops that hold what it sent see the difference."""
    position, digest = sent(conn)
    last = _last(conn)
    if last == (position, digest) or _only_syncs_since(conn, position, digest):
        return []
    head = list(last)
    bodies: list[tuple[str, bytes]] = []
    after = min(position, last[0])
    while True:
        batch = audit_model.entries(conn, after_id=after, limit=BATCH)
        users = _users(conn, {e.user_id for e in batch if e.user_id is not None})
        items = [
            Travelling(
                e.id,
                e.at,
                e.user_id,
                *users.get(e.user_id or 0, ("", "")),
                e.action,
                e.record,
                e.detail,
                e.prev_hash,
                e.hash,
            ).to_json()
            for e in batch
        ]
        if items or not bodies:
            body = {"format": FORMAT, "device": device, "entries": items, "head": head}
            bodies.append((scope_of(device), json.dumps(body, separators=(",", ":")).encode()))
        if len(batch) < BATCH:
            break
        after = batch[-1].id
    settings_model.put(conn, SENT, f"{last[0]}:{last[1]}")
    return bodies


# -- receiving --------------------------------------------------------------------------------


def username_of(directory: Directory, device: str) -> str:
    found = directory.device(device)
    user = directory.user(found.user) if found is not None else None
    return user.username if user is not None else ""


def _held(conn: Connection, device: str, position: int) -> tuple[str, str] | None:
    """The previous hash and hash held for ``device``'s entry ``position``."""
    if position == 0:
        return audit_model.GENESIS, audit_model.GENESIS
    row = conn.execute(
        "SELECT prev_hash, hash FROM team_audit WHERE device = ? AND position = ?",
        (device, position),
    ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def newest_held(conn: Connection, device: str) -> int:
    row = conn.execute(
        "SELECT coalesce(max(position), 0) FROM team_audit WHERE device = ?", (device,)
    ).fetchone()
    return int(row[0])


def _finding(
    conn: Connection,
    now: str,
    device: str,
    position: int,
    sentence: str,
    note: Callable[[str], None],
) -> None:
    known = conn.execute(
        "SELECT 1 FROM team_audit_findings WHERE device = ? AND sentence = ?", (device, sentence)
    ).fetchone()
    if known is None:  # each finding once (findings are few: no index)
        conn.execute(
            "INSERT INTO team_audit_findings (at, device, position, sentence) VALUES (?, ?, ?, ?)",
            (now, device, position, sentence),
        )
        note(
            f"The audit trail of device {device} no longer matches what it sent before "
            f"(entry {position}): it was rewritten, cut short or rolled back. The DPO can see "
            "which on the Audit page or with 'safecase audit verify --team'."
        )


def _body(opened: Opened) -> tuple[str, list[Travelling], tuple[int, str]]:
    body = json.loads(opened.plaintext.decode("utf-8"))
    device = str(body["device"])
    if int(body["format"]) != FORMAT or opened.scope != scope_of(opened.sender):
        raise ValueError("an audit envelope for another device or in another format")
    if device != opened.sender:
        raise ValueError("an audit envelope naming another device")
    entries = [Travelling.from_json(list(item)) for item in body["entries"]]
    count, digest = body["head"]
    return device, entries, (int(count), str(digest))


def receive(
    conn: Connection, me: str, opened: Opened, now: str, note: Callable[[str], None]
) -> int:
    """Keep another device's entries and check them against what is held; returns how many
    were new. Raises ValueError for an envelope that does not read as an audit envelope."""
    device, entries, head = _body(opened)
    if device == me:
        _compare_own(conn, now, me, opened.seq, entries, note)
        return 0
    added = 0
    for entry in entries:
        if not entry.checks_out():
            _finding(
                conn,
                now,
                device,
                entry.position,
                f"Entry {entry.position} arrived with a hash that does not match what it says.",
                note,
            )
            continue
        held = _held(conn, device, entry.position)
        if held is not None:
            if held[1] != entry.hash:
                _finding(
                    conn,
                    now,
                    device,
                    entry.position,
                    f"Entry {entry.position} arrived again, different from the one it sent before.",
                    note,
                )
            continue
        before = _held(conn, device, entry.position - 1)
        after = _held(conn, device, entry.position + 1)
        if (before is not None and before[1] != entry.prev_hash) or (
            after is not None and after[0] != entry.hash
        ):
            _finding(
                conn,
                now,
                device,
                entry.position,
                f"Entry {entry.position} does not follow on from entry {entry.position - 1} as "
                "it was sent before.",
                note,
            )
        conn.execute(
            "INSERT INTO team_audit (device, position, at, user_id, user_gid, username, action, "
            "record, detail, prev_hash, hash, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                device,
                entry.position,
                entry.at,
                entry.user_id,
                entry.user_gid,
                entry.username,
                entry.action,
                entry.record,
                entry.detail,
                entry.prev_hash,
                entry.hash,
                now,
            ),
        )
        added += 1
    _check_head(conn, now, device, head, note)
    return added


def _check_head(
    conn: Connection, now: str, device: str, head: tuple[int, str], note: Callable[[str], None]
) -> None:
    count, digest = head
    newest = newest_held(conn, device)
    if count < newest:
        _finding(
            conn,
            now,
            device,
            count,
            f"Its trail now ends at entry {count}, but it had sent entries up to {newest}.",
            note,
        )
    elif count:
        held = _held(conn, device, count)
        if held is not None and held[1] != digest:
            _finding(
                conn,
                now,
                device,
                count,
                f"Its newest entry, {count}, is not the entry {count} it sent before.",
                note,
            )


def _compare_own(
    conn: Connection,
    now: str,
    me: str,
    seq: int,
    entries: list[Travelling],
    note: Callable[[str], None],
) -> None:
    """This laptop's own envelope, read back (its store is older than what it published):
    every entry it sent must still be in its trail as it was."""
    for entry in entries:
        rows = read(conn, "SELECT hash FROM audit WHERE id = ?", (entry.position,))
        if not rows or str(rows[0][0]) != entry.hash:
            _finding(
                conn,
                now,
                me,
                entry.position,
                f"It sent entry {entry.position} to the team in its envelope {seq}, and its "
                "own trail no longer holds it as sent.",
                note,
            )
            return


# -- what is held ------------------------------------------------------------------------------


_HELD = "position, at, user_id, user_gid, username, action, record, detail, prev_hash, hash"


def held(conn: Connection, device: str | None, limit: int) -> list[tuple[str, Travelling]]:
    """The newest ``limit`` entries received from other devices (of ``device`` only when given),
    newest first, each with its device."""
    where, params = ("WHERE device = ?", (device,)) if device else ("", ())
    rows = read(
        conn,
        f"SELECT device, {_HELD} FROM team_audit {where} "
        "ORDER BY at DESC, device, position DESC LIMIT ?",
        (*params, limit),
    )
    return [(str(r[0]), Travelling.from_json(list(r[1:]))) for r in rows]


def held_count(conn: Connection) -> tuple[int, int]:
    """How many other devices this laptop holds entries from, and how many entries."""
    row = read(conn, "SELECT count(DISTINCT device), count(*) FROM team_audit")[0]
    return int(str(row[0])), int(str(row[1]))


# -- what the checks found --------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    at: str
    device: str
    position: int
    sentence: str


def findings(conn: Connection) -> list[Finding]:
    rows = read(conn, "SELECT at, device, position, sentence FROM team_audit_findings ORDER BY id")
    return [Finding(str(r[0]), str(r[1]), int(str(r[2])), str(r[3])) for r in rows]
