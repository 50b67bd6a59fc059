"""Accounts: sign-in and back-off, passwords, resets, roles and key rotation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.crypto.device import DeviceSecrets
from app.errors import (
    AccountDisabled,
    InvalidInput,
    PermissionDenied,
    SignInDelayed,
    WrongPassword,
)
from app.models.users import Role
from app.services import accounts, audit, backup
from app.services.session import Session
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER_PW,
    DPO,
    DPO_PW,
    MANAGER,
    MANAGER_PW,
    StoreCopy,
)

PASSWORDS = {ADMIN: ADMIN_PW, CASEWORKER: CASEWORKER_PW, MANAGER: MANAGER_PW, DPO: DPO_PW}


def sign_in(store: StoreCopy, user: str, password: str | None = None, **kw: Any) -> Session:
    return accounts.sign_in(
        store.path, user, password or PASSWORDS[user], device=DeviceSecrets(store.keyring), **kw
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


# -- back-off --------------------------------------------------------------------------------


def test_back_off_starts_after_five_failures_doubles_and_caps(store: StoreCopy) -> None:
    clock = Clock()

    def fail_once() -> None:
        with pytest.raises(WrongPassword):
            sign_in(store, CASEWORKER, "wrong-password-attempt", clock=clock)

    for _ in range(5):
        fail_once()  # no delay for the first five
    fail_once()  # the sixth failure starts the delay
    with pytest.raises(SignInDelayed) as caught:
        sign_in(store, CASEWORKER, clock=clock)  # even the right password must wait
    assert caught.value.seconds == 2

    delays = []
    for _ in range(12):
        clock.now += 10_000
        fail_once()
        with pytest.raises(SignInDelayed) as caught:
            sign_in(store, CASEWORKER, clock=clock)
        delays.append(caught.value.seconds)
    assert delays[:4] == [4, 8, 16, 32]
    assert max(delays) == 900 and delays[-1] == 900

    clock.now += 900
    session = sign_in(store, CASEWORKER, clock=clock)
    accounts.sign_out(session)
    # Success resets the count: the next wrong password costs no wait.
    fail_once()
    accounts.sign_out(sign_in(store, CASEWORKER, clock=clock))


def test_failed_sign_ins_reach_the_audit_trail_by_id(store: StoreCopy) -> None:
    caseworker_id = next(u.id for u in _users(store) if u.username == CASEWORKER)
    with pytest.raises(WrongPassword):
        sign_in(store, CASEWORKER, "wrong-password-attempt")
    with pytest.raises(WrongPassword):
        sign_in(store, "someone-unknown", "wrong-password-attempt")
    session = sign_in(store, MANAGER)
    entries = audit.recent(session)
    failed = [e for e in entries if e.action == audit.SIGN_IN_FAILED]
    assert [e.record for e in failed] == [f"user:{caseworker_id}", "user:unknown"]
    assert entries[-1].action == audit.SIGN_IN
    accounts.sign_out(session)


def _users(store: StoreCopy) -> list[Any]:
    session = sign_in(store, ADMIN)
    try:
        return accounts.list_users(session)
    finally:
        accounts.sign_out(session)


# -- passwords -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-pw", "at least 12"),
        ("passwordpassword", "too easy"),
        ("Northfield IDVA 1", "too easy"),
        ("cole-cole-cole-cole", "too easy"),
    ],
)
def test_password_rule(password: str, problem: str) -> None:
    found = accounts.password_problem(password, "cole", "Northfield IDVA")
    assert found is not None and problem in found


def test_a_long_passphrase_passes_with_no_composition_rules() -> None:
    assert accounts.password_problem("orbit lantern thistle marble", "cole") is None


def test_password_change_keeps_data_and_retires_the_old_password(store: StoreCopy) -> None:
    session = sign_in(store, CASEWORKER)
    accounts.change_password(session, CASEWORKER_PW, "violet-summit-crane-harbour")
    accounts.sign_out(session)
    with pytest.raises(WrongPassword):
        sign_in(store, CASEWORKER, CASEWORKER_PW)
    session = sign_in(store, CASEWORKER, "violet-summit-crane-harbour")
    assert session.roles == frozenset({Role.CASEWORKER})
    accounts.sign_out(session)


def test_password_change_needs_the_current_password(store: StoreCopy) -> None:
    session = sign_in(store, CASEWORKER)
    with pytest.raises(InvalidInput, match="current password"):
        accounts.change_password(session, "not-my-password", "violet-summit-crane-harbour")
    accounts.sign_out(session)
    accounts.sign_out(sign_in(store, CASEWORKER))


def test_a_reset_forces_a_change_at_next_sign_in(store: StoreCopy) -> None:
    admin = sign_in(store, ADMIN)
    accounts.reset_password(admin, MANAGER, "temporary-otter-quill-58")
    accounts.sign_out(admin)
    with pytest.raises(WrongPassword):
        sign_in(store, MANAGER, MANAGER_PW)
    session = sign_in(store, MANAGER, "temporary-otter-quill-58")
    assert session.must_change_password
    with pytest.raises(PermissionDenied, match="Change your password"):
        audit.verify(session)
    accounts.change_password(session, "temporary-otter-quill-58", "meadow-granite-lotus-70")
    assert audit.verify(session).ok
    accounts.sign_out(session)
    again = sign_in(store, MANAGER, "meadow-granite-lotus-70")
    assert not again.must_change_password
    accounts.sign_out(again)


def test_disabled_users_cannot_sign_in_until_enabled(store: StoreCopy) -> None:
    admin = sign_in(store, ADMIN)
    accounts.set_disabled(admin, CASEWORKER, True)
    accounts.sign_out(admin)
    with pytest.raises(AccountDisabled):
        sign_in(store, CASEWORKER)
    admin = sign_in(store, ADMIN)
    accounts.set_disabled(admin, CASEWORKER, False)
    accounts.sign_out(admin)
    accounts.sign_out(sign_in(store, CASEWORKER))


def test_an_admin_cannot_disable_themself(store: StoreCopy) -> None:
    admin = sign_in(store, ADMIN)
    with pytest.raises(InvalidInput):
        accounts.set_disabled(admin, ADMIN, True)
    accounts.sign_out(admin)


def test_rotation_keeps_every_enabled_user_and_drops_the_disabled(store: StoreCopy) -> None:
    admin = sign_in(store, ADMIN)
    accounts.set_disabled(admin, DPO, True)
    kept = accounts.rotate_keys(admin)
    assert kept == 4
    accounts.sign_out(admin)
    for user in (ADMIN, CASEWORKER, MANAGER):
        accounts.sign_out(sign_in(store, user))
    admin = sign_in(store, ADMIN)
    accounts.set_disabled(admin, DPO, False)
    accounts.sign_out(admin)
    # The disabled user's slot is gone: re-enabling alone does not bring back access.
    with pytest.raises(WrongPassword):
        sign_in(store, DPO)


def test_a_new_admin_can_make_backups(store: StoreCopy, tmp_path: Path) -> None:
    admin = sign_in(store, ADMIN)
    accounts.add_user(
        admin,
        "second-admin",
        "sapphire-kestrel-dune-34",
        frozenset({Role.ADMIN}),
        must_change=False,
    )
    accounts.sign_out(admin)
    other = sign_in(store, "second-admin", "sapphire-kestrel-dune-34")
    assert backup.backup(other, tmp_path / "copy.backup") > 0
    accounts.sign_out(other)


def test_duplicate_and_badly_formed_usernames_are_refused(store: StoreCopy) -> None:
    admin = sign_in(store, ADMIN)
    with pytest.raises(InvalidInput, match="already exists"):
        accounts.add_user(
            admin, CASEWORKER.upper(), "sapphire-kestrel-dune-34", frozenset({Role.DPO})
        )
    with pytest.raises(InvalidInput, match="username"):
        accounts.add_user(
            admin, "no spaces please", "sapphire-kestrel-dune-34", frozenset({Role.DPO})
        )
    accounts.sign_out(admin)


# -- roles -----------------------------------------------------------------------------------

ADMIN_ONLY: list[tuple[str, Callable[[Session, Path], object]]] = [
    ("list users", lambda s, _: accounts.list_users(s)),
    (
        "add user",
        lambda s, _: accounts.add_user(
            s, "new-person", "sapphire-kestrel-dune-34", frozenset({Role.CASEWORKER})
        ),
    ),
    ("reset", lambda s, _: accounts.reset_password(s, DPO, "temporary-otter-quill-58")),
    ("disable", lambda s, _: accounts.set_disabled(s, DPO, True)),
    ("rotate", lambda s, _: accounts.rotate_keys(s)),
    ("idle lock", lambda s, _: accounts.set_idle_lock_minutes(s, 10)),
    ("backup", lambda s, folder: backup.backup(s, folder / "b.backup")),
]
AUDIT_READERS: list[tuple[str, Callable[[Session, Path], object]]] = [
    ("verify audit", lambda s, _: audit.verify(s)),
    ("read audit", lambda s, _: audit.recent(s)),
]
EXPECTED = {
    ADMIN: {"admin", "audit"},
    MANAGER: {"audit"},
    DPO: {"audit"},
    CASEWORKER: set(),
}


@pytest.mark.parametrize("user", [ADMIN, MANAGER, DPO, CASEWORKER])
@pytest.mark.parametrize(
    ("group", "name", "call"),
    [("admin", n, c) for n, c in ADMIN_ONLY] + [("audit", n, c) for n, c in AUDIT_READERS],
)
def test_every_account_service_as_every_role(
    store: StoreCopy,
    tmp_path: Path,
    user: str,
    group: str,
    name: str,
    call: Callable[[Session, Path], object],
) -> None:
    session = sign_in(store, user)
    try:
        if group in EXPECTED[user]:
            call(session, tmp_path)
        else:
            with pytest.raises(PermissionDenied):
                call(session, tmp_path)
    finally:
        accounts.sign_out(session)


def test_nothing_works_after_lock(store: StoreCopy) -> None:
    session = sign_in(store, ADMIN)
    accounts.lock(session)
    assert not session.active
    with pytest.raises(Exception, match="locked"):
        accounts.list_users(session)
    accounts.sign_out(sign_in(store, ADMIN))


def test_lock_closes_the_store_even_when_the_audit_entry_cannot_be_written(
    store: StoreCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.errors import DiskFull

    session = sign_in(store, CASEWORKER)

    def disk_full(*args: object, **kwargs: object) -> int:
        raise DiskFull()

    monkeypatch.setattr(audit, "record", disk_full)
    with pytest.raises(DiskFull):
        accounts.lock(session)
    assert not session.active
    monkeypatch.undo()
    accounts.sign_out(sign_in(store, CASEWORKER))
