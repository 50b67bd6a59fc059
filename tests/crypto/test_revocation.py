"""Insider attacks on revocation: someone holding a revoked laptop's real keys, or the laptop of
a disabled user, tries to get envelopes applied on the team's other laptops."""

from __future__ import annotations

import dataclasses
import json

import pytest

from app.crypto.envelopes import (
    MESSAGES,
    EnvelopeRejected,
    Opened,
    RejectReason,
    ReplayGuard,
    Skipped,
    SkipReason,
    envelope_digest,
    key_id_for,
    open_envelope,
    seal_envelope,
)
from app.crypto.team import (
    GENESIS,
    DeviceKeys,
    Directory,
    DirectoryRejected,
    accept_directory,
    new_key,
    seal_to_users,
    sign_directory,
)
from tests.crypto.teams import TEAM, make_team

CASE = "case:0190dddd"
KEY_ID = key_id_for(CASE, 1)
KEY = new_key()
REVOKED_AT = "2026-12-03T09:00:00+00:00"
FORGED = b'[{"kind":"case.field_set","payload":{"safe_number":"07700 900999"}}]'
TEAM_AT = make_team()
WORKER = TEAM_AT.worker


def genuine(count: int, keys: DeviceKeys = WORKER) -> list[bytes]:
    """A laptop's first ``count`` envelopes, each naming the digest of the one before it."""
    sent: list[bytes] = []
    for seq in range(1, count + 1):
        previous = envelope_digest(sent[-1]) if sent else GENESIS
        sent.append(seal(b'[{"n":%d}]' % seq, keys, seq, previous))
    return sent


def seal(plaintext: bytes, keys: DeviceKeys, seq: int, previous: str) -> bytes:
    return seal_envelope(
        plaintext,
        team=TEAM,
        sender=keys,
        seq=seq,
        previous=previous,
        scope=CASE,
        key_id=KEY_ID,
        key=KEY,
    )


def forge(seq: int, sent: list[bytes]) -> bytes:
    """What someone holding the worker laptop's real keys and its history writes: a new
    envelope under ``seq``, naming the genuine envelope before it."""
    previous = envelope_digest(sent[seq - 2]) if seq > 1 else GENESIS
    return seal(FORGED, WORKER, seq, previous)


def receive(data: bytes, guard: ReplayGuard, directory: Directory) -> Opened | Skipped:
    result = open_envelope(data, team=TEAM, directory=directory, keys={KEY_ID: KEY}, seen=guard)
    guard.record(result)
    return result


def refused(data: bytes, guard: ReplayGuard, directory: Directory) -> EnvelopeRejected:
    before = guard.to_json()
    with pytest.raises(EnvelopeRejected) as caught:
        receive(data, guard, directory)
    assert str(caught.value) == MESSAGES[caught.value.reason]
    assert guard.to_json() == before
    return caught.value


def opened_text(result: Opened | Skipped) -> bytes:
    assert isinstance(result, Opened)
    return result.plaintext


def revoked_after(sent: list[bytes]) -> Directory:
    """The admin's laptop receives ``sent`` and revokes the worker's laptop after what it
    holds; another laptop adopts that signed directory."""
    admin = ReplayGuard()
    for data in sent:
        receive(data, admin, TEAM_AT.directory)
    assert admin.last_from("dev-worker") == (len(sent), envelope_digest(sent[-1]))
    revoked = TEAM_AT.directory.with_device_revoked(
        "dev-worker", last=admin.last_from("dev-worker"), at=REVOKED_AT
    )
    return accept_directory(sign_directory(revoked, TEAM_AT.admin), trusted=TEAM_AT.directory)


def test_a_forgery_under_the_revoked_laptops_last_number_is_refused() -> None:
    sent = genuine(3)
    directory = revoked_after(sent)
    manager = ReplayGuard()
    receive(sent[0], manager, directory)
    receive(sent[1], manager, directory)
    # Before the genuine envelope 3 reaches the manager, the thief offers their own 3.
    caught = refused(forge(3, sent), manager, directory)
    assert (caught.reason, caught.sender, caught.seq) == (RejectReason.OFF_CHAIN, "dev-worker", 3)
    assert opened_text(receive(sent[2], manager, directory)) == b'[{"n":3}]'


def test_a_forgery_below_the_last_number_waits_and_is_never_applied() -> None:
    sent = genuine(4)
    manager = ReplayGuard()
    receive(sent[0], manager, TEAM_AT.directory)  # before the laptop was revoked
    directory = revoked_after(sent)
    # The thief's envelope 2 arrives first: it cannot be checked yet, so it waits, unrecorded,
    # and does not keep the number from the genuine envelope.
    forged = forge(2, sent)
    waiting = receive(forged, manager, directory)
    assert isinstance(waiting, Skipped) and waiting.why is SkipReason.AWAITING_CHAIN
    assert manager.have() == {"dev-worker": {1}}
    # The genuine chain arrives from the top down, each checked against the one above it.
    early = receive(sent[2], manager, directory)
    assert isinstance(early, Skipped) and early.why is SkipReason.AWAITING_CHAIN
    assert opened_text(receive(sent[3], manager, directory)) == b'[{"n":4}]'
    assert opened_text(receive(sent[2], manager, directory)) == b'[{"n":3}]'
    assert refused(forged, manager, directory).reason is RejectReason.OFF_CHAIN
    assert opened_text(receive(sent[1], manager, directory)) == b'[{"n":2}]'
    assert manager.have() == {"dev-worker": {1, 2, 3, 4}}


def test_a_forgery_waiting_across_a_restart_is_still_refused() -> None:
    sent = genuine(3)
    directory = revoked_after(sent)
    manager = ReplayGuard()
    forged = forge(1, sent)
    assert isinstance(receive(forged, manager, directory), Skipped)
    for data in (sent[2], sent[1]):
        receive(data, manager, directory)
    manager = ReplayGuard.from_json(json.loads(json.dumps(manager.to_json())))
    assert refused(forged, manager, directory).reason is RejectReason.OFF_CHAIN
    assert opened_text(receive(sent[0], manager, directory)) == b'[{"n":1}]'


@pytest.mark.parametrize("seq", [1, 2, 3, 4])
def test_no_forgery_under_any_number_opens_once_the_chain_is_held(seq: int) -> None:
    sent = genuine(3)
    directory = revoked_after(sent)
    manager = ReplayGuard()
    for data in reversed(sent):
        receive(data, manager, directory)
    expected = RejectReason.REVOKED_SENDER if seq > 3 else RejectReason.OFF_CHAIN
    previous = envelope_digest(sent[seq - 2]) if seq > 1 else GENESIS
    assert refused(seal(FORGED, WORKER, seq, previous), manager, directory).reason is expected


def test_a_laptop_revoked_before_it_sent_anything_is_refused_outright() -> None:
    revoked = TEAM_AT.directory.with_device_revoked("dev-worker", last=(0, GENESIS), at=REVOKED_AT)
    assert ReplayGuard().last_from("dev-worker") == (0, GENESIS)
    first = genuine(1)[0]
    assert refused(first, ReplayGuard(), revoked).reason is RejectReason.REVOKED_SENDER


def test_a_revocation_record_altered_after_signing_is_refused() -> None:
    sent = genuine(2)
    signed = sign_directory(
        TEAM_AT.directory.with_device_revoked(
            "dev-worker", last=(2, envelope_digest(sent[1])), at=REVOKED_AT
        ),
        TEAM_AT.admin,
    )
    forged_digest = envelope_digest(forge(2, sent))
    tampered = signed.replace(envelope_digest(sent[1]).encode(), forged_digest.encode())
    assert tampered != signed
    with pytest.raises(DirectoryRejected, match="signature is wrong"):
        accept_directory(tampered, trusted=TEAM_AT.directory)


def test_a_device_that_forks_its_own_chain_is_refused_and_named() -> None:
    sent = genuine(2, TEAM_AT.manager)
    laptop = ReplayGuard()
    receive(sent[0], laptop, TEAM_AT.directory)
    receive(sent[1], laptop, TEAM_AT.directory)
    # A second envelope 2 naming the same envelope 1: a fork, whoever wrote it.
    other_two = seal(FORGED, TEAM_AT.manager, 2, envelope_digest(sent[0]))
    caught = refused(other_two, laptop, TEAM_AT.directory)
    assert (caught.reason, caught.sender, caught.seq) == (RejectReason.FORKED, "dev-manager", 2)
    # An envelope 3 that follows the other 2 does not follow the one held.
    after_other = seal(FORGED, TEAM_AT.manager, 3, envelope_digest(other_two))
    assert refused(after_other, laptop, TEAM_AT.directory).reason is RejectReason.FORKED
    # An envelope 1 whose digest the held 2 does not name is refused too.
    late = ReplayGuard()
    receive(sent[1], late, TEAM_AT.directory)
    other_one = seal(FORGED, TEAM_AT.manager, 1, GENESIS)
    assert refused(other_one, late, TEAM_AT.directory).reason is RejectReason.FORKED
    assert opened_text(receive(sent[0], late, TEAM_AT.directory)) == b'[{"n":1}]'


def disabled_only(user_id: str) -> Directory:
    """The user marked disabled by a directory change that did not revoke their laptop."""
    user = TEAM_AT.directory.user(user_id)
    assert user is not None
    directory = TEAM_AT.directory.with_user(dataclasses.replace(user, disabled=True))
    device = directory.device("dev-worker")
    assert device is not None and not device.revoked
    return accept_directory(sign_directory(directory, TEAM_AT.admin), trusted=TEAM_AT.directory)


def test_a_disabled_users_laptop_is_refused_even_if_it_was_never_revoked() -> None:
    directory = disabled_only("u-worker")
    caught = refused(genuine(1)[0], ReplayGuard(), directory)
    assert caught.reason is RejectReason.DISABLED_USER
    assert str(caught) == (
        "An envelope comes from a device of a user who has been disabled; it was not applied."
    )


def test_no_key_is_sealed_to_a_disabled_users_laptop() -> None:
    directory = disabled_only("u-worker")
    sealed = seal_to_users(
        new_key(), key_id=KEY_ID, directory=directory, users=["u-worker", "u-manager"]
    )
    assert sorted(sealed) == ["dev-manager"]
