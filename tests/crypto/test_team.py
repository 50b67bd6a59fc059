"""Device keys, the signed team directory and keys sealed to a device: what a receiving laptop
accepts and what it refuses."""

from __future__ import annotations

import base64
import dataclasses

import pytest

from app.crypto.team import (
    GENESIS,
    DeviceKeys,
    DirectoryRejected,
    DirectoryUser,
    SealedKeyRejected,
    TeamKeyError,
    accept_directory,
    new_key,
    open_sealed_key,
    pack,
    seal_key,
    seal_to_users,
    sign_directory,
    unpack,
)
from tests.crypto.teams import entry, make_team

ADDED_LATER = "2026-12-02T09:00:00+00:00"
LAST = "ef" * 32


def private_forms(keys: DeviceKeys) -> list[str]:
    raws = [keys.encryption.private_bytes_raw(), keys.signing.private_bytes_raw()]
    return [f for raw in raws for f in (raw.hex(), base64.b64encode(raw).decode(), repr(raw))]


def test_device_keys_survive_the_store_and_still_open_what_was_sealed_to_them() -> None:
    team = make_team()
    key = new_key()
    sealed = seal_key(key, key_id="case:c1#1", device=team.directory.devices[1])
    restored = DeviceKeys.from_bytes(team.worker.to_bytes())
    assert restored.device_id == "dev-worker"
    assert restored.signing_public == team.worker.signing_public
    assert open_sealed_key(sealed, key_id="case:c1#1", device=restored) == key


def test_private_keys_never_show_in_text_or_errors() -> None:
    keys = DeviceKeys.generate("dev-x")
    shown = repr(keys) + str(keys)
    damaged = keys.to_bytes()[:-1]
    with pytest.raises(TeamKeyError) as caught:
        DeviceKeys.from_bytes(damaged)
    shown += str(caught.value) + repr(caught.value.args)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    for form in private_forms(keys):
        assert form not in shown
    assert str(caught.value) == "This laptop's team keys are damaged; it must join again."


def test_a_newer_directory_signed_by_the_admin_is_adopted() -> None:
    team = make_team()
    trusted = accept_directory(sign_directory(team.directory, team.admin), trusted=team.pinned())
    newer = trusted.with_user(DirectoryUser("u-new", "worker2", frozenset({"caseworker"})))
    adopted = accept_directory(sign_directory(newer, team.admin), trusted=trusted)
    assert adopted.version == 2
    assert adopted.user("u-new") is not None


def test_a_rollback_or_the_same_version_again_is_refused() -> None:
    team = make_team()
    v1 = team.directory
    v2 = v1.with_user(DirectoryUser("u-new", "worker2", frozenset({"caseworker"})))
    v3 = v2.with_device_revoked("dev-worker", last=(4, LAST), at=ADDED_LATER)
    old_file = sign_directory(v2, team.admin)
    for offered in (old_file, sign_directory(v3, team.admin)):
        with pytest.raises(DirectoryRejected, match="not newer"):
            accept_directory(offered, trusted=v3)


@pytest.mark.parametrize("signer", ["worker", "manager"])
def test_a_directory_signed_by_someone_not_an_admin_is_refused(signer: str) -> None:
    team = make_team()
    promoted = team.directory.with_user(
        DirectoryUser("u-worker", "worker1", frozenset({"caseworker", "admin"}))
    )
    with pytest.raises(DirectoryRejected, match="not signed by an admin"):
        accept_directory(sign_directory(promoted, getattr(team, signer)), trusted=team.directory)


def test_a_revoked_admin_device_can_no_longer_change_the_directory() -> None:
    team = make_team()
    v2 = team.directory.with_device_revoked("dev-admin", last=(0, GENESIS), at=ADDED_LATER)
    v3 = v2.with_user(DirectoryUser("u-x", "x", frozenset({"admin"})))
    with pytest.raises(DirectoryRejected, match="not signed by an admin"):
        accept_directory(sign_directory(v3, team.admin), trusted=v2)


def test_a_directory_signed_by_an_impostor_key_under_the_admins_device_id_is_refused() -> None:
    team = make_team()
    impostor = DeviceKeys.generate("dev-admin")
    with pytest.raises(DirectoryRejected, match="signature is wrong"):
        accept_directory(sign_directory(team.directory, impostor), trusted=team.pinned())


def test_a_directory_changed_after_signing_is_refused() -> None:
    team = make_team()
    body, signer, signature = unpack(sign_directory(team.directory, team.admin), b"SCDIR1", 3)
    forged_body = body.replace(b'"caseworker"', b'"admin"')
    assert forged_body != body
    with pytest.raises(DirectoryRejected, match="signature is wrong"):
        accept_directory(pack(b"SCDIR1", forged_body, signer, signature), trusted=team.pinned())


def test_another_teams_directory_is_refused_even_from_a_trusted_admin() -> None:
    team = make_team()
    other = dataclasses.replace(team.directory, team="team-other", version=5)
    with pytest.raises(DirectoryRejected, match="another team"):
        accept_directory(sign_directory(other, team.admin), trusted=team.pinned())


def test_every_truncation_of_a_directory_file_is_refused() -> None:
    team = make_team()
    signed = sign_directory(team.directory, team.admin)
    for length in range(len(signed)):
        with pytest.raises(DirectoryRejected):
            accept_directory(signed[:length], trusted=team.pinned())


def test_a_new_admin_is_trusted_only_once_the_directory_naming_them_is_adopted() -> None:
    team = make_team()
    v2 = team.directory.with_user(
        DirectoryUser("u-manager", "manager1", frozenset({"manager", "admin"}))
    )
    v3 = v2.with_user(DirectoryUser("u-new", "worker2", frozenset({"caseworker"})))
    v3_file = sign_directory(v3, team.manager)
    with pytest.raises(DirectoryRejected, match="not signed by an admin"):
        accept_directory(v3_file, trusted=team.directory)
    adopted = accept_directory(sign_directory(v2, team.admin), trusted=team.directory)
    assert accept_directory(v3_file, trusted=adopted).version == 3


def test_a_sealed_key_opens_only_on_its_device_and_only_as_its_key_id() -> None:
    team = make_team()
    key = new_key()
    worker_entry = entry(team.worker, "u-worker")
    sealed = seal_key(key, key_id="case:c1#1", device=worker_entry)
    assert open_sealed_key(sealed, key_id="case:c1#1", device=team.worker) == key
    with pytest.raises(SealedKeyRejected):
        open_sealed_key(sealed, key_id="case:c1#1", device=team.manager)
    with pytest.raises(SealedKeyRejected):
        open_sealed_key(sealed, key_id="case:c2#1", device=team.worker)
    # The same device id on another machine (new keys) cannot open it either.
    with pytest.raises(SealedKeyRejected):
        open_sealed_key(sealed, key_id="case:c1#1", device=DeviceKeys.generate("dev-worker"))


def test_every_damaged_byte_or_truncation_of_a_sealed_key_is_refused() -> None:
    team = make_team()
    sealed = seal_key(new_key(), key_id="register#1", device=entry(team.worker, "u-worker"))
    for at in range(len(sealed)):
        flipped = sealed[:at] + bytes([sealed[at] ^ 0x01]) + sealed[at + 1 :]
        with pytest.raises(SealedKeyRejected):
            open_sealed_key(flipped, key_id="register#1", device=team.worker)
        with pytest.raises(SealedKeyRejected):
            open_sealed_key(sealed[:at], key_id="register#1", device=team.worker)


def test_a_case_key_is_sealed_to_its_users_live_devices_only() -> None:
    team = make_team()
    second_laptop = DeviceKeys.generate("dev-worker-2")
    directory = team.directory.with_device(entry(second_laptop, "u-worker"))
    directory = directory.with_device_revoked("dev-worker", last=(3, LAST), at=ADDED_LATER)
    key = new_key()
    sealed = seal_to_users(
        key, key_id="case:c1#1", directory=directory, users=["u-worker", "u-manager"]
    )
    assert sorted(sealed) == ["dev-manager", "dev-worker-2"]
    assert open_sealed_key(sealed["dev-worker-2"], key_id="case:c1#1", device=second_laptop) == key
    assert open_sealed_key(sealed["dev-manager"], key_id="case:c1#1", device=team.manager) == key


def test_disabling_a_user_revokes_their_laptops_after_what_the_admin_had_accepted() -> None:
    team = make_team()
    disabled = team.directory.with_user_disabled(
        "u-worker", last={"dev-worker": (6, LAST)}, at=ADDED_LATER
    )
    adopted = accept_directory(sign_directory(disabled, team.admin), trusted=team.directory)
    device = adopted.device("dev-worker")
    assert device is not None and device.revoked
    assert adopted.revocation(device) == (6, LAST)
    assert [d.id for d in adopted.live_devices()] == ["dev-admin", "dev-manager"]
