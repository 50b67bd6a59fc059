"""Joining a team: the invitation file opens only with its passphrase and within a day, and the
admin's laptop adds a device from it once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.crypto.invitation import (
    DAMAGED,
    EXPIRED,
    USED,
    WRONG_PASSPHRASE,
    EnrolmentDesk,
    EnrolmentRefused,
    InvitationRefused,
    IssuedInvitation,
    make_enrolment_request,
    make_invitation,
    read_invitation,
)
from app.crypto.kdf import Argon2Params
from app.crypto.team import (
    DeviceKeys,
    DirectoryRejected,
    accept_directory,
    pack,
    sign_directory,
    unpack,
)
from tests.crypto.teams import TEAM, make_team

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CHEAP = Argon2Params(memory_kib=8, time_cost=1, parallelism=1)
FOLDER = r"\\fileserver\idva-team\safecase"
TEAM_AT = make_team()


def invite(user: str = "u-worker") -> IssuedInvitation:
    return make_invitation(
        TEAM, FOLDER, TEAM_AT.admin, NOW, admin_user="u-admin", user=user, params=CHEAP
    )


def refusal(data: bytes, passphrase: str, now: datetime = NOW, **kwargs: object) -> str:
    with pytest.raises(InvitationRefused) as caught:
        read_invitation(data, passphrase, now, **kwargs)  # type: ignore[arg-type]
    return str(caught.value)


def desk_with(issued: IssuedInvitation) -> EnrolmentDesk:
    desk = EnrolmentDesk()
    desk.issue(issued.invitation)
    return desk


def test_a_laptop_joins_once_with_the_file_and_the_passphrase() -> None:
    issued = invite()
    typed = issued.passphrase.lower().replace("-", " ")
    invitation = read_invitation(issued.file, typed, NOW + timedelta(hours=23))
    assert (invitation.team, invitation.transport, invitation.user) == (TEAM, FOLDER, "u-worker")
    laptop = DeviceKeys.generate("dev-new")
    request = make_enrolment_request(invitation, laptop, NOW)
    desk = desk_with(issued)
    device = desk.accept(request, NOW + timedelta(hours=1))
    assert (device.id, device.user) == ("dev-new", "u-worker")
    assert device.signing_public == laptop.signing_public
    with pytest.raises(EnrolmentRefused, match="used already"):
        desk.accept(request, NOW + timedelta(hours=2))
    second = make_enrolment_request(invitation, DeviceKeys.generate("dev-other"), NOW)
    with pytest.raises(EnrolmentRefused, match="used already"):
        desk.accept(second, NOW + timedelta(hours=2))


def test_the_joining_laptop_pins_the_admin_who_made_the_invitation() -> None:
    issued = invite()
    pinned = read_invitation(issued.file, issued.passphrase, NOW).pinned_directory()
    first = accept_directory(sign_directory(TEAM_AT.directory, TEAM_AT.admin), trusted=pinned)
    assert first.version == 1
    outsider = DeviceKeys.generate("dev-admin")
    with pytest.raises(DirectoryRejected, match="signature is wrong"):
        accept_directory(sign_directory(TEAM_AT.directory, outsider), trusted=pinned)


def test_the_file_alone_reveals_nothing_and_opens_with_nothing_else() -> None:
    issued = invite()
    assert FOLDER.encode() not in issued.file and TEAM.encode() not in issued.file
    assert issued.invitation.secret not in issued.file
    assert refusal(issued.file, "ABCDE-FGHJK") == WRONG_PASSPHRASE
    assert refusal(issued.file, "") == WRONG_PASSPHRASE


def test_an_invitation_a_day_old_is_refused_on_both_sides() -> None:
    issued = invite()
    assert refusal(issued.file, issued.passphrase, NOW + timedelta(days=1)) == EXPIRED
    invitation = read_invitation(issued.file, issued.passphrase, NOW)
    request = make_enrolment_request(invitation, DeviceKeys.generate("dev-new"), NOW)
    with pytest.raises(EnrolmentRefused, match="expired"):
        desk_with(issued).accept(request, NOW + timedelta(days=1, seconds=1))


def test_an_invitation_known_to_be_used_is_refused_by_the_joining_laptop() -> None:
    issued = invite()
    used = {issued.invitation.id}
    assert refusal(issued.file, issued.passphrase, used=used) == USED


def test_every_damaged_byte_and_every_truncation_of_the_file_is_refused() -> None:
    issued = invite()
    data = issued.file
    for at in range(len(data)):
        flipped = data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1 :]
        assert refusal(flipped, issued.passphrase) in (DAMAGED, WRONG_PASSPHRASE)
        assert refusal(data[:at], issued.passphrase) in (DAMAGED, WRONG_PASSPHRASE)


def test_a_file_asking_for_an_exhausting_key_derivation_is_refused_without_trying() -> None:
    issued = invite()
    header, nonce, ciphertext = unpack(issued.file, b"SCINV1", 3)
    greedy = json.loads(header) | {"m": 64 * 1024 * 1024}
    forged = pack(b"SCINV1", json.dumps(greedy).encode(), nonce, ciphertext)
    assert refusal(forged, issued.passphrase) == DAMAGED


def test_a_request_without_the_secret_is_refused_and_the_invitation_stays_usable() -> None:
    issued = invite()
    invitation = read_invitation(issued.file, issued.passphrase, NOW)
    guessed = type(invitation)(**{**invitation.__dict__, "secret": b"\0" * 32})
    desk = desk_with(issued)
    with pytest.raises(EnrolmentRefused, match="not made from this invitation"):
        desk.accept(make_enrolment_request(guessed, DeviceKeys.generate("dev-evil"), NOW), NOW)
    device = desk.accept(
        make_enrolment_request(invitation, DeviceKeys.generate("dev-ok"), NOW), NOW
    )
    assert device.id == "dev-ok"


def test_a_request_for_another_user_than_invited_is_refused() -> None:
    issued = invite(user="u-worker")
    invitation = read_invitation(issued.file, issued.passphrase, NOW)
    as_admin = type(invitation)(**{**invitation.__dict__, "user": "u-admin"})
    with pytest.raises(EnrolmentRefused, match="another team or user"):
        desk_with(issued).accept(
            make_enrolment_request(as_admin, DeviceKeys.generate("dev-x"), NOW), NOW
        )


def test_a_request_whose_signature_is_not_by_the_key_it_names_is_refused() -> None:
    issued = invite()
    invitation = read_invitation(issued.file, issued.passphrase, NOW)
    request = make_enrolment_request(invitation, DeviceKeys.generate("dev-new"), NOW)
    body, mac, _ = unpack(request, b"SCENR1", 3)
    forged = pack(b"SCENR1", body, mac, DeviceKeys.generate("dev-new").sign(b"anything"))
    with pytest.raises(EnrolmentRefused, match="not signed by the device"):
        desk_with(issued).accept(forged, NOW)


def test_a_damaged_request_or_one_for_an_unknown_invitation_is_refused() -> None:
    issued = invite()
    invitation = read_invitation(issued.file, issued.passphrase, NOW)
    request = make_enrolment_request(invitation, DeviceKeys.generate("dev-new"), NOW)
    with pytest.raises(EnrolmentRefused, match="damaged"):
        desk_with(issued).accept(request[:-1], NOW)
    with pytest.raises(EnrolmentRefused, match="no invitation made here"):
        EnrolmentDesk().accept(request, NOW)


def test_the_admins_record_of_invitations_survives_a_restart() -> None:
    issued = invite()
    desk = desk_with(issued)
    invitation = read_invitation(issued.file, issued.passphrase, NOW)
    desk.accept(make_enrolment_request(invitation, DeviceKeys.generate("dev-new"), NOW), NOW)
    restarted = EnrolmentDesk.from_json(json.loads(json.dumps(desk.to_json())))
    again = make_enrolment_request(invitation, DeviceKeys.generate("dev-again"), NOW)
    with pytest.raises(EnrolmentRefused, match="used already"):
        restarted.accept(again, NOW)
    assert "secret" not in repr(issued) and issued.passphrase not in repr(issued)
