"""The device secret: 32 random bytes per install, held in the operating system's keyring.

A copied store and key-slot file are useless without it. The keyring backend is pinned per
operating system (never whatever a user's configuration file picks), the ``fail`` and ``null``
backends are refused, a written secret is read back before it is trusted, and every keyring call
runs on a worker thread with a timeout, because a Secret Service prompt can hang.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import secrets
import sys
from collections.abc import Callable
from typing import TypeVar

from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.errors import KeyringError, PasswordDeleteError

from app.errors import KeyringUnavailable

log = logging.getLogger("safecase.crypto")

SERVICE = "Safecase"
ACCOUNT = "device-secret"
SECRET_BYTES = 32
TIMEOUT_SECONDS = 20.0

T = TypeVar("T")


def pinned_backend() -> KeyringBackend:
    """The one backend Safecase trusts on this operating system."""
    try:
        backend: KeyringBackend
        if sys.platform == "win32":
            from keyring.backends import Windows

            win = Windows.WinVaultKeyring()
            # Keep the credential on this machine: an enterprise (roaming) credential would
            # follow the user's profile to other computers.
            win.persist = "local machine"  # type: ignore[assignment]
            backend = win
        elif sys.platform == "darwin":
            from keyring.backends import macOS

            backend = macOS.Keyring()
        else:
            from keyring.backends import SecretService

            backend = SecretService.Keyring()  # type: ignore[no-untyped-call]
        # A backend that cannot work here raises from its priority check.
        _ = backend.priority
    except Exception as exc:  # the keyring package raises many kinds here
        log.info("pinned keyring backend unavailable: %s", type(exc).__name__)
        raise KeyringUnavailable() from None
    return backend


class DeviceSecrets:
    """Reads and creates the device secret through one keyring backend."""

    def __init__(
        self,
        backend: KeyringBackend | None = None,
        *,
        timeout: float = TIMEOUT_SECONDS,
        backend_factory: Callable[[], KeyringBackend] | None = None,
    ) -> None:
        self._backend = backend
        self._factory = backend_factory
        self._timeout = timeout

    @property
    def backend(self) -> KeyringBackend:
        if self._backend is None:
            # Looked up at call time, so tests can put an in-memory keyring in its place.
            self._backend = (self._factory or pinned_backend)()
        if isinstance(self._backend, (fail.Keyring, null.Keyring)):
            raise KeyringUnavailable()
        return self._backend

    def _call(self, fn: Callable[[], T]) -> T:
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        try:
            return pool.submit(fn).result(timeout=self._timeout)
        except concurrent.futures.TimeoutError:
            raise KeyringUnavailable(
                "The system keyring did not answer. Unlock it and try again."
            ) from None
        except KeyringError:
            raise KeyringUnavailable() from None
        finally:
            pool.shutdown(wait=False)

    def get(self) -> bytes | None:
        backend = self.backend
        value = self._call(lambda: backend.get_password(SERVICE, ACCOUNT))
        if value is None:
            return None
        try:
            secret = bytes.fromhex(value)
        except ValueError:
            raise KeyringUnavailable(
                "The device key in the system keyring is unreadable. Open the store with the "
                "recovery key."
            ) from None
        if len(secret) != SECRET_BYTES:
            raise KeyringUnavailable(
                "The device key in the system keyring is unreadable. Open the store with the "
                "recovery key."
            )
        return secret

    def get_or_create(self) -> bytes:
        """Return this install's secret, creating it only when there is none yet.

        Only creating a store or restoring one may call this: opening an existing slot uses
        ``get`` and never makes a new secret.
        """
        existing = self.get()
        if existing is not None:
            return existing
        backend = self.backend
        secret = secrets.token_bytes(SECRET_BYTES)
        self._call(lambda: backend.set_password(SERVICE, ACCOUNT, secret.hex()))
        if self.get() != secret:
            raise KeyringUnavailable(
                "The system keyring did not keep the device key. Check the keyring and try again."
            )
        return secret

    def forget(self) -> None:
        """Take this install's secret out of the keyring (a laptop that destroyed its store);
        nothing if it is not there."""
        backend = self.backend

        def delete() -> None:
            with contextlib.suppress(PasswordDeleteError):
                backend.delete_password(SERVICE, ACCOUNT)

        self._call(delete)
