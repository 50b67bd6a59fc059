"""Shared fixtures. Qt runs offscreen; the OS keyring and the user's data folder are never used."""

from __future__ import annotations

import os
from collections.abc import Iterator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from app import paths, policy
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
from tests.pgcluster import Cluster

# Property tests judge what a laptop ends up with, never how fast: on a shared 2-core machine
# one slow example must not fail the run, and no example database is written into the checkout.
hypothesis_settings.register_profile("safecase", deadline=None, database=None, print_blob=True)
hypothesis_settings.load_profile("safecase")


@pytest.fixture(autouse=True)
def keyring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MemoryKeyring:
    """Every test gets its own in-memory keyring as the pinned backend, and a data folder
    under tmp_path, so nothing reaches the real keyring or the user's files."""
    memory = MemoryKeyring()
    monkeypatch.setattr(device_module, "pinned_backend", lambda: memory)
    monkeypatch.setattr(paths, "data_folder", lambda: tmp_path / "data")
    monkeypatch.delenv(policy.POLICY_ENV, raising=False)  # no organisation's settings
    return memory


@pytest.fixture
def device(keyring: MemoryKeyring) -> DeviceSecrets:
    return DeviceSecrets(keyring)


def _template(folder: Path, *, training: bool = False) -> StoreCopy:
    """A keyed store with a user in each role."""
    memory = MemoryKeyring()
    session, recovery = accounts.create_store(
        folder / "cases.safecase",
        service_name=SERVICE,
        admin_name=ADMIN,
        password=ADMIN_PW,
        device=DeviceSecrets(memory),
        kdf=TEST_KDF,
        training=training,
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
    return StoreCopy(folder / "cases.safecase", memory, recovery)


@pytest.fixture(scope="session")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> StoreCopy:
    """One keyed store per test session, with a user in each role; tests copy it."""
    return _template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def training_template(tmp_path_factory: pytest.TempPathFactory) -> StoreCopy:
    """The same users on a store created as a training store, the only kind demo fills."""
    return _template(tmp_path_factory.mktemp("training"), training=True)


def _copy(template: StoreCopy, keyring: MemoryKeyring, folder: Path) -> StoreCopy:
    keyring.values.update(template.keyring.values)
    return StoreCopy(copy_store(template.path, folder), keyring, template.recovery_key)


@pytest.fixture
def store(template_store: StoreCopy, keyring: MemoryKeyring, tmp_path: Path) -> StoreCopy:
    """A fresh copy of the template store, its device secret in this test's keyring."""
    return _copy(template_store, keyring, tmp_path / "store")


@pytest.fixture
def training_store(
    training_template: StoreCopy, keyring: MemoryKeyring, tmp_path: Path
) -> StoreCopy:
    """A fresh copy of the training template, for demo records."""
    return _copy(training_template, keyring, tmp_path / "training")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A private PostgreSQL cluster for the whole run, on a Unix socket in a temporary folder;
    tests that need it skip with the reason where none can start, and fail in CI (CI=true)."""
    from tests import pgcluster

    try:
        cluster = pgcluster.start()
    except pgcluster.NoPostgres as exc:
        pgcluster.skip_or_fail(str(exc))
        raise  # not reached: skip_or_fail raises
    yield cluster
    cluster.stop()
