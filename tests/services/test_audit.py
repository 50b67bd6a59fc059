"""The audit trail is append-only and any edit, removal or reordering is found."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlcipher3

from app.crypto.connection import Connection
from app.crypto.device import DeviceSecrets
from app.errors import PermissionDenied
from app.services import accounts, audit
from app.services.session import Session
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER_PW,
    DPO,
    DPO_PW,
    MANAGER,
    StoreCopy,
)


def open_as(store: StoreCopy, user: str = ADMIN, password: str = ADMIN_PW) -> Session:
    return accounts.sign_in(store.path, user, password, device=DeviceSecrets(store.keyring))


def _unprotect(conn: Connection) -> None:
    """What someone holding the key could do: drop the append-only triggers."""
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")


def _edit(conn: Connection, last: int) -> int:
    conn.execute("UPDATE audit SET detail = 'roles=admin' WHERE id = 3")
    return 3


def _delete_middle(conn: Connection, last: int) -> int:
    conn.execute("DELETE FROM audit WHERE id = 4")
    return 4


def _delete_newest(conn: Connection, last: int) -> int:
    conn.execute("DELETE FROM audit WHERE id = ?", (last,))
    return last


def _reorder(conn: Connection, last: int) -> int:
    a = conn.execute("SELECT at, action, record, detail FROM audit WHERE id = 2").fetchone()
    b = conn.execute("SELECT at, action, record, detail FROM audit WHERE id = 5").fetchone()
    for target, row in ((2, b), (5, a)):
        conn.execute(
            "UPDATE audit SET at = ?, action = ?, record = ?, detail = ? WHERE id = ?",
            (*row, target),
        )
    return 2


def _change_hash_too(conn: Connection, last: int) -> int:
    # Recomputing the edited entry's own hash is not enough: the next entry's link breaks.
    from app.models.audit import entry_hash

    row = conn.execute("SELECT id, at, user_id, action, record, prev_hash FROM audit WHERE id = 3")
    entry_id, at, user_id, action, record, prev = row.fetchone()
    digest = entry_hash(entry_id, at, user_id, action, record, "forged", prev)
    conn.execute("UPDATE audit SET detail = 'forged', hash = ? WHERE id = 3", (digest,))
    return 4


@pytest.mark.parametrize(
    "tamper", [_edit, _delete_middle, _delete_newest, _reorder, _change_hash_too]
)
def test_verify_names_the_first_broken_entry(
    store: StoreCopy, tamper: Callable[[Connection, int], int]
) -> None:
    session = open_as(store)
    before = audit.check_chain(session.conn)
    assert before.ok and before.checked >= 6
    _unprotect(session.conn)
    broken_at = tamper(session.conn, before.checked)
    result = audit.check_chain(session.conn)
    assert not result.ok
    assert result.first_broken == broken_at
    accounts.sign_out(session)


def test_entries_cannot_be_changed_or_removed_through_sql(store: StoreCopy) -> None:
    session = open_as(store)
    with pytest.raises(sqlcipher3.DatabaseError, match="append-only"):
        session.conn.execute("UPDATE audit SET detail = '' WHERE id = 1")
    with pytest.raises(sqlcipher3.DatabaseError, match="append-only"):
        session.conn.execute("DELETE FROM audit WHERE id = 1")
    accounts.sign_out(session)


def test_verify_is_recorded_and_the_dpo_may_run_it(store: StoreCopy) -> None:
    session = open_as(store, DPO, DPO_PW)
    result = audit.verify(session)
    assert result.ok
    assert audit.recent(session, 1)[-1].action == audit.AUDIT_VERIFIED
    accounts.sign_out(session)


def test_no_username_appears_in_any_entry(store: StoreCopy) -> None:
    session = open_as(store)
    accounts.reset_password(session, DPO, "temporary-otter-quill-58")
    accounts.set_disabled(session, DPO, True)
    names = [u.username for u in accounts.list_users(session)]
    for entry in audit.recent(session, 10_000):
        text = f"{entry.record} {entry.detail}".lower()
        assert not any(name.lower() in text for name in names), entry
    accounts.sign_out(session)


def test_readers_of_the_trail_get_every_accounts_name_and_no_one_else_does(
    store: StoreCopy,
) -> None:
    session = open_as(store, DPO, DPO_PW)
    names = audit.usernames(session)
    accounts.sign_out(session)
    assert {DPO, CASEWORKER, MANAGER, ADMIN} <= set(names.values())
    session = open_as(store, CASEWORKER, CASEWORKER_PW)
    with pytest.raises(PermissionDenied):
        audit.usernames(session)
    accounts.sign_out(session)
