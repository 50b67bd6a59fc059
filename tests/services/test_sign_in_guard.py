"""What guessing and a departing user can and cannot do: an unknown name costs what a known
one does and is slowed down alike, the record of failures cannot grow without limit, and
disabling a user takes their key slot's power to open the store away."""

from __future__ import annotations

import io
import json

import pytest

from app.cli import Context, run
from app.crypto import slots as slotlib
from app.crypto import vault as vaultlib
from app.crypto.device import DeviceSecrets
from app.crypto.kdf import Argon2Params
from app.crypto.slots import MAX_FAILED_SIGN_INS, SlotFile
from app.crypto.vault import keys_path
from app.errors import EXIT_OK, SignInDelayed, WrongPassword
from app.services import accounts, audit
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER_PW,
    MANAGER,
    MANAGER_PW,
    TEST_KDF,
    StoreCopy,
)
from tests.services.test_accounts import Clock

UNKNOWN = "no-such-person"


def _sign_in(store: StoreCopy, user: str, password: str, clock: Clock | None = None) -> None:
    accounts.sign_out(
        accounts.sign_in(
            store.path, user, password, device=DeviceSecrets(store.keyring), clock=clock or Clock()
        )
    )


def test_an_unknown_name_pays_for_the_same_key_derivation_as_a_known_one(
    store: StoreCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refusing an unknown name at once told a guesser which names exist (1 ms against
    170 ms). Now it runs Argon2id with a real slot's cost before it refuses."""
    costs: list[Argon2Params] = []
    real = slotlib.argon2id

    def counted(password: str, salt: bytes, params: Argon2Params) -> bytes:
        costs.append(params)
        return real(password, salt, params)

    monkeypatch.setattr(slotlib, "argon2id", counted)
    for user in (CASEWORKER, UNKNOWN):
        with pytest.raises(WrongPassword):
            _sign_in(store, user, "a-wrong-password-typed")
    assert costs == [TEST_KDF, TEST_KDF]


def test_unknown_names_are_slowed_down_like_known_ones(store: StoreCopy) -> None:
    clock = Clock()
    for _ in range(6):
        with pytest.raises(WrongPassword):
            _sign_in(store, UNKNOWN, "a-wrong-password-typed", clock)
    with pytest.raises(SignInDelayed) as caught:
        _sign_in(store, UNKNOWN, "a-wrong-password-typed", clock)
    assert caught.value.seconds == 2
    # Known names are not held up by someone guessing others.
    _sign_in(store, CASEWORKER, CASEWORKER_PW, clock)
    written = keys_path(store.path).read_bytes()
    assert UNKNOWN.encode() not in written
    assert UNKNOWN.upper().encode() not in written


def test_the_failures_waiting_for_the_trail_are_capped_and_the_rest_counted(
    store: StoreCopy,
) -> None:
    path = keys_path(store.path)
    slots = SlotFile.load(path)
    for i in range(MAX_FAILED_SIGN_INS):
        slots.record_failed_sign_in(slotlib.UNKNOWN_SLOT, 1_000.0 + i)
    slots.save(path)
    for name in ("guess-one", "guess-two"):
        with pytest.raises(WrongPassword):
            _sign_in(store, name, "a-wrong-password-typed")
    kept = json.loads(path.read_bytes())
    assert len(kept["failed_sign_ins"]) == MAX_FAILED_SIGN_INS
    assert kept["dropped_sign_ins"] == 2
    session = accounts.sign_in(store.path, ADMIN, ADMIN_PW, device=DeviceSecrets(store.keyring))
    details = [e.detail for e in audit.recent(session, 2000) if e.action == audit.SIGN_IN_FAILED]
    accounts.sign_out(session)
    assert "dropped=2" in details
    assert len(details) == MAX_FAILED_SIGN_INS + 1
    assert json.loads(path.read_bytes())["failed_sign_ins"] == []


def _cli(store: StoreCopy, *args: str, action: str = "disable") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(
        stdin=io.StringIO(f"{ADMIN_PW}\n"),
        stdout=out,
        stderr=err,
        device=lambda: DeviceSecrets(store.keyring),
        kdf=TEST_KDF,
    )
    code = run(["user", action, "--store", str(store.path), "--user", ADMIN, *args], ctx)
    return code, out.getvalue(), err.getvalue()


def _unseals(store: StoreCopy, user: str, password: str) -> bool:
    """Whether ``user``'s password still unseals the data key (whatever the account says)."""
    try:
        vaultlib.open_with_password(
            store.path, user, password, device=DeviceSecrets(store.keyring)
        ).close()
    except WrongPassword:
        return False
    return True


def test_user_disable_rotates_the_key_so_their_slot_no_longer_opens_the_store(
    store: StoreCopy,
) -> None:
    assert _unseals(store, CASEWORKER, CASEWORKER_PW)
    code, out, err = _cli(store, "--name", CASEWORKER)
    assert code == EXIT_OK, err
    assert "new data key" in out and "no longer opens the store" in out
    assert not _unseals(store, CASEWORKER, CASEWORKER_PW)
    _sign_in(store, MANAGER, MANAGER_PW)  # everyone else keeps access


def test_user_disable_without_the_rotation_warns_that_the_slot_still_opens_the_store(
    store: StoreCopy,
) -> None:
    code, out, err = _cli(store, "--name", CASEWORKER, "--no-rotate")
    assert code == EXIT_OK, err
    assert "User disabled." in out
    assert "still opens the store" in err and err.count("\n") == 1
    assert _unseals(store, CASEWORKER, CASEWORKER_PW)


def test_enabling_a_user_whose_slot_went_with_a_rotation_says_to_reset_them(
    store: StoreCopy,
) -> None:
    _cli(store, "--name", CASEWORKER)
    code, out, err = _cli(store, "--name", CASEWORKER, action="enable")
    assert code == EXIT_OK, err
    assert "password" in out and "reset" in out
