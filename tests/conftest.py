"""Shared fixtures. Qt runs offscreen; the OS keyring and the user's data folder are never used."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest

from app import paths
from app.crypto import device as device_module
from app.crypto.device import DeviceSecrets
from app.models.users import Role
from app.services import accounts
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER2,
    CASEWORKER2_PW,
    CASEWORKER_PW,
    DPO,
    DPO_PW,
    MANAGER,
    MANAGER_PW,
    SERVICE,
    TEST_KDF,
    MemoryKeyring,
    StoreCopy,
    copy_store,
)


@pytest.fixture(autouse=True)
def keyring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MemoryKeyring:
    """Every test gets its own in-memory keyring as the pinned backend, and a data folder
    under tmp_path, so nothing reaches the real keyring or the user's files."""
    memory = MemoryKeyring()
    monkeypatch.setattr(device_module, "pinned_backend", lambda: memory)
    monkeypatch.setattr(paths, "data_folder", lambda: tmp_path / "data")
    return memory


@pytest.fixture
def device(keyring: MemoryKeyring) -> DeviceSecrets:
    return DeviceSecrets(keyring)


@pytest.fixture(scope="session")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreCopy]:
    """One keyed store per test session, with a user in each role; tests copy it."""
    folder = tmp_path_factory.mktemp("template")
    memory = MemoryKeyring()
    session, recovery = accounts.create_store(
        folder / "cases.safecase",
        service_name=SERVICE,
        admin_name=ADMIN,
        password=ADMIN_PW,
        device=DeviceSecrets(memory),
        kdf=TEST_KDF,
    )
    accounts.add_user(
        session, CASEWORKER, CASEWORKER_PW, frozenset({Role.CASEWORKER}), must_change=False
    )
    accounts.add_user(
        session, CASEWORKER2, CASEWORKER2_PW, frozenset({Role.CASEWORKER}), must_change=False
    )
    accounts.add_user(session, MANAGER, MANAGER_PW, frozenset({Role.MANAGER}), must_change=False)
    accounts.add_user(session, DPO, DPO_PW, frozenset({Role.DPO}), must_change=False)
    accounts.sign_out(session)
    yield StoreCopy(folder / "cases.safecase", memory, recovery)


@pytest.fixture
def store(template_store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path) -> StoreCopy:
    """A fresh copy of the template store, its device secret in this test's keyring."""
    keyring.values.update(template_store.keyring.values)
    path = copy_store(template_store.path, tmp_path / "store")
    return StoreCopy(path, keyring, template_store.recovery_key)
