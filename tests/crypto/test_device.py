"""The device secret in the keyring: pinned, checked, read back, never waited on for ever."""

from __future__ import annotations

import threading

import pytest
from keyring.backends import fail, null

from app.crypto.device import ACCOUNT, SERVICE, DeviceSecrets
from app.errors import KeyringUnavailable
from tests.helpers import MemoryKeyring


def test_created_once_then_reused(keyring: MemoryKeyring) -> None:
    secrets = DeviceSecrets(keyring)
    first = secrets.get_or_create()
    assert len(first) == 32
    assert DeviceSecrets(keyring).get_or_create() == first
    assert keyring.values[(SERVICE, ACCOUNT)] == first.hex()


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_fail_and_null_backends_are_refused(backend: object) -> None:
    with pytest.raises(KeyringUnavailable):
        DeviceSecrets(backend).get_or_create()  # type: ignore[arg-type]


class ForgetfulKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        pass  # accepts the write and keeps nothing


def test_a_secret_that_does_not_read_back_is_refused() -> None:
    with pytest.raises(KeyringUnavailable, match="did not keep"):
        DeviceSecrets(ForgetfulKeyring()).get_or_create()


class HangingKeyring(MemoryKeyring):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(5)
        return None


def test_a_keyring_that_hangs_times_out_with_a_clear_error() -> None:
    backend = HangingKeyring()
    try:
        with pytest.raises(KeyringUnavailable, match="did not answer"):
            DeviceSecrets(backend, timeout=0.05).get()
    finally:
        backend.release.set()


def test_the_pinned_backend_is_used_by_default(keyring: MemoryKeyring) -> None:
    # conftest puts an in-memory keyring in the pinned backend's place for every test.
    DeviceSecrets().get_or_create()
    assert (SERVICE, ACCOUNT) in keyring.values
