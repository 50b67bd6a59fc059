"""A laptop whose store was put back to an older copy goes on numbering its envelopes after the
newest it had published (core only, no Qt).

Its store remembers an older envelope number than the transport holds from it, so the next
envelope it seals takes a number already taken (``EnvelopeNumberTaken``). Instead of stopping
there for good, ``renumber`` reads this device's own envelopes above the number it remembers
(each must carry its own signature), opens what it sealed and has not published yet (it holds
those keys) and seals it again after the newest, continuing that chain. Every other laptop then
reads what this one does next, and its audit trail, restarted from the older copy, no longer
matches what they hold from it (app/sync/audit_travel.py): the rollback is named, not hidden
behind a laptop that stopped syncing.

Left undone: what the laptop's own later envelopes held (its changes between the copy and the
put-back) is not read back into its store here; the other laptops hold them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set
from typing import TYPE_CHECKING

from app.crypto.connection import Connection
from app.crypto.envelopes import EnvelopeRejected, Opened, ReplayGuard, open_envelope
from app.models.db import transaction
from app.sync.transport import Transport

if TYPE_CHECKING:
    from app.sync.engine import State


class _Everything(Set[int]):
    """Every envelope number: another device's envelopes are not asked for."""

    def __contains__(self, value: object) -> bool:
        return True

    def __iter__(self) -> Iterator[int]:
        return iter(())

    def __len__(self) -> int:
        return 0


class _OwnAbove(Mapping[str, Set[int]]):
    """What a laptop holds, for the transport: all but its own envelopes above ``upto``."""

    def __init__(self, me: str, upto: int) -> None:
        self.me, self.upto = me, upto

    def __getitem__(self, sender: str) -> Set[int]:
        return set(range(self.upto + 1)) if sender == self.me else _Everything()

    def __iter__(self) -> Iterator[str]:
        return iter((self.me,))

    def __len__(self) -> int:
        return 1


def renumber(conn: Connection, state: State, transport: Transport, now: str) -> bool:
    """Seal again, after this device's newest published envelope, what is sealed and not
    published; False when the transport holds nothing newer of this device's own (the number
    was taken some other way, and the caller says so)."""
    from app.sync import engine  # which imports this module

    me = state.device.device_id
    waiting = engine.unpublished(conn)
    if not waiting:
        return False
    newest: tuple[int, str] | None = None
    for inc in transport.incoming(_OwnAbove(me, waiting[0][0] - 1)):
        if inc.sender != me:
            continue
        try:
            found = open_envelope(
                inc.data, team=state.team_id, directory=state.directory, keys={}, seen=ReplayGuard()
            )
        except EnvelopeRejected:
            continue  # not this device's own: not something to follow on from
        if found.seq == inc.seq and (newest is None or found.seq > newest[0]):
            newest = (found.seq, found.digest)
    if newest is None or newest[0] < waiting[0][0]:
        return False
    keys = dict(engine.held_keys(conn))
    for device in state.directory.devices:
        if device.id != me:
            keys[f"{engine.GRANT}:{device.id}#{me}"] = engine._grant_key(
                state.device, state.directory, me, device.id
            )
    opened: list[Opened] = []
    for _seq, data in waiting:
        try:
            again = open_envelope(
                data, team=state.team_id, directory=state.directory, keys=keys, seen=ReplayGuard()
            )
        except EnvelopeRejected:
            return False
        if not isinstance(again, Opened):
            return False
        opened.append(again)
    with transaction(conn):
        conn.execute("DELETE FROM team_outgoing WHERE published = 0")
        state.seq, state.last_digest = newest
        for env in opened:
            engine._seal(conn, state, env.scope, env.key_id, keys[env.key_id], env.plaintext)
        engine.save(conn, state)
        engine.log(
            conn,
            now,
            f"This laptop's store is older than what it had sent to the team (an older copy was "
            f"put back): its envelopes go on from number {newest[0] + 1}.",
            me,
            newest[0],
        )
    return True
