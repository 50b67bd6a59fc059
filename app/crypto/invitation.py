"""Joining a team: a one-time invitation file, and the enrolment request that answers it.

Invitation file::

    SCINV1 | parameters (canonical JSON: Argon2id salt and cost) | nonce | ciphertext

The ciphertext is ChaCha20Poly1305, under an Argon2id key from a passphrase the admin reads out
(ten letters and digits, 50 bits, e.g. ``K7QM2-XW4RD``), of canonical JSON: invitation id, team
id, transport address, the invited user's global id, the admin's device (id, user, both public
keys), a random 32-byte enrolment secret, and the expiry, one day after it was made. The
parameters are its associated data. For a team on its server the transport address also holds
the server (address and pinned certificate) and the joining laptop's login there: the device id
the admin chose for it and its password (the laptop needs a login to send its request); the
admin's desk then accepts a request from that device id only.

Why a passphrase: the file travels by the shared folder, email or a USB stick, where others can
read or replace it. Without the passphrase, whoever copies the file could enrol a laptop of
their own as the invited user, and whoever replaces it could have the joining laptop pin their
own "admin" signing key, which every later directory is checked against. With it, the file
alone is useless, and a file that opens under the passphrase was made by someone who knew it.
Guessing 50 bits through Argon2id within the day the admin's side accepts the invitation is out
of reach.

Enrolment request (``make_enrolment_request``)::

    SCENR1 | body (canonical JSON: invitation id, team, user, device id, X25519 and Ed25519
             public keys, made at) | HMAC-SHA256 | Ed25519 signature

The HMAC, under a key derived from the enrolment secret, shows the request comes from someone
who opened the invitation; the signature, by the new device's own key over body and HMAC,
shows it holds the signing key it asks the team to trust. The admin's ``EnrolmentDesk`` accepts
a request once: the invitation is then used, and a second request (even the same bytes) is
refused. The desk, not the joining laptop, is where "once" and "one day" are enforced; the
joining laptop also refuses an invitation it is told was used.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from app.crypto.kdf import FLOOR, Argon2Params, argon2id, hkdf
from app.crypto.team import (
    KEY_BYTES,
    DeviceKeys,
    Directory,
    DirectoryDevice,
    Malformed,
    b64,
    canonical_json,
    pack,
    unb64,
    unpack,
    verify_signature,
)
from app.errors import SafecaseError

INVITATION_MAGIC = b"SCINV1"
REQUEST_MAGIC = b"SCENR1"
LIFETIME = timedelta(days=1)
PASSPHRASE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, no 1/I: read aloud safely
PASSPHRASE_LENGTH = 10
SALT_BYTES = 16
# A file asking for more than this is refused rather than left to exhaust the laptop.
MAX_MEMORY_KIB = 1024 * 1024
MAX_TIME_COST = 40


class InvitationRefused(SafecaseError):
    default_message = "The invitation cannot be used; ask your admin for a new one."


DAMAGED = "The invitation file is damaged; ask your admin for a new one."
WRONG_PASSPHRASE = (
    "The invitation does not open with that passphrase. Check it with your admin, or ask for a "
    "new invitation."
)
EXPIRED = "The invitation has expired; ask your admin for a new one."
USED = "The invitation has been used already; ask your admin for a new one."


class EnrolmentRefused(SafecaseError):
    default_message = "The enrolment request was refused; no device was added."


@dataclass(frozen=True)
class Invitation:
    id: str
    team: str
    transport: str
    user: str
    admin: DirectoryDevice
    secret: bytes = field(repr=False)
    expires_at: datetime

    @property
    def device(self) -> str | None:
        """The device id the admin chose for the joining laptop (a team on its server, where
        the invitation carries that device's login), or None: the laptop chooses its own."""
        try:
            chosen = json.loads(self.transport).get("device")
        except (ValueError, AttributeError):
            return None
        return None if chosen is None else str(chosen)

    def pinned_directory(self) -> Directory:
        """What the joining laptop trusts before its first directory: the inviting admin."""
        return Directory.pinned(self.team, self.admin)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "team": self.team,
            "transport": self.transport,
            "user": self.user,
            "admin": self.admin.to_json(),
            "secret": b64(self.secret),
            "expires_at": self.expires_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Invitation:
        expires_at = datetime.fromisoformat(str(data["expires_at"]))
        if expires_at.tzinfo is None:
            raise Malformed(truncated=False)
        return cls(
            str(data["id"]),
            str(data["team"]),
            str(data["transport"]),
            str(data["user"]),
            DirectoryDevice.from_json(data["admin"]),
            unb64(data["secret"], KEY_BYTES),
            expires_at,
        )


@dataclass(frozen=True)
class IssuedInvitation:
    file: bytes
    passphrase: str = field(repr=False)
    invitation: Invitation


def _normalise(passphrase: str) -> str:
    return "".join(c for c in passphrase.upper() if c.isalnum())


def _file_key(passphrase: str, salt: bytes, params: Argon2Params) -> bytes:
    return argon2id(_normalise(passphrase), salt, params)


def make_invitation(
    team: str,
    transport_address: str,
    admin_device: DeviceKeys,
    now: datetime,
    *,
    admin_user: str,
    user: str,
    params: Argon2Params = FLOOR,
) -> IssuedInvitation:
    """A one-time invitation for ``user`` to join ``team``, its passphrase, and the record the
    admin's laptop keeps (in its encrypted store) to check the answer against."""
    invitation = Invitation(
        secrets.token_hex(16),
        team,
        transport_address,
        user,
        DirectoryDevice(
            admin_device.device_id,
            admin_user,
            admin_device.encryption_public,
            admin_device.signing_public,
            "",
        ),
        secrets.token_bytes(KEY_BYTES),
        now + LIFETIME,
    )
    passphrase = "".join(secrets.choice(PASSPHRASE_ALPHABET) for _ in range(PASSPHRASE_LENGTH))
    salt = secrets.token_bytes(SALT_BYTES)
    header = canonical_json({"salt": b64(salt), **params.to_json()})
    nonce = secrets.token_bytes(12)
    cipher = ChaCha20Poly1305(_file_key(passphrase, salt, params))
    ciphertext = cipher.encrypt(
        nonce, canonical_json(invitation.to_json()), pack(INVITATION_MAGIC, header)
    )
    shown = f"{passphrase[:5]}-{passphrase[5:]}"
    return IssuedInvitation(pack(INVITATION_MAGIC, header, nonce, ciphertext), shown, invitation)


def read_invitation(
    data: bytes, passphrase: str, now: datetime, *, used: Container[str] = frozenset()
) -> Invitation:
    """The invitation in ``data``, if it opens under ``passphrase``, has not expired by ``now``
    and its id is not among ``used``. InvitationRefused with a sentence otherwise."""
    try:
        header, nonce, ciphertext = unpack(data, INVITATION_MAGIC, 3)
        fields = json.loads(header)
        salt = unb64(fields["salt"], SALT_BYTES)
        params = Argon2Params.from_json(fields)
        if not (
            8 <= params.memory_kib <= MAX_MEMORY_KIB
            and 1 <= params.time_cost <= MAX_TIME_COST
            and 1 <= params.parallelism <= 16
        ):
            raise Malformed(truncated=False)
    except (Malformed, ValueError, KeyError, TypeError, AttributeError):
        raise InvitationRefused(DAMAGED) from None
    try:
        key = _file_key(passphrase, salt, params)
        plain = ChaCha20Poly1305(key).decrypt(nonce, ciphertext, pack(INVITATION_MAGIC, header))
    except (InvalidTag, ValueError):
        raise InvitationRefused(WRONG_PASSPHRASE) from None
    try:
        invitation = Invitation.from_json(json.loads(plain))
    except (Malformed, ValueError, KeyError, TypeError, AttributeError):
        raise InvitationRefused(DAMAGED) from None
    if now >= invitation.expires_at:
        raise InvitationRefused(EXPIRED)
    if invitation.id in used:
        raise InvitationRefused(USED)
    return invitation


def _request_mac(secret: bytes, body: bytes) -> bytes:
    key = hkdf(secret, salt=b"", info=b"safecase enrolment v1")
    return hmac.new(key, pack(REQUEST_MAGIC, body), hashlib.sha256).digest()


def make_enrolment_request(invitation: Invitation, device: DeviceKeys, now: datetime) -> bytes:
    """What a joining laptop sends back: its public keys for the invited user, bound to the
    invitation's secret and signed with its own new key."""
    body = canonical_json(
        {
            "invitation": invitation.id,
            "team": invitation.team,
            "user": invitation.user,
            "device": device.device_id,
            "x25519": b64(device.encryption_public),
            "ed25519": b64(device.signing_public),
            "made_at": now.isoformat(),
        }
    )
    mac = _request_mac(invitation.secret, body)
    return pack(REQUEST_MAGIC, body, mac, device.sign(pack(REQUEST_MAGIC, body, mac)))


@dataclass
class EnrolmentDesk:
    """The admin laptop's invitations: those outstanding and those used. Pure data
    (``to_json``/``from_json``), kept in the admin's encrypted store."""

    invitations: dict[str, Invitation] = field(default_factory=dict)
    used: dict[str, str] = field(default_factory=dict)

    def issue(self, invitation: Invitation) -> None:
        self.invitations[invitation.id] = invitation

    def accept(self, request: bytes, now: datetime) -> DirectoryDevice:
        """The device to add to the directory, once per invitation. EnrolmentRefused with a
        sentence for anything else; the invitation is used only by a request that passes."""
        try:
            body, mac, signature = unpack(request, REQUEST_MAGIC, 3)
            fields = json.loads(body)
            invitation_id = str(fields["invitation"])
            device = DirectoryDevice(
                str(fields["device"]),
                str(fields["user"]),
                unb64(fields["x25519"], KEY_BYTES),
                unb64(fields["ed25519"], KEY_BYTES),
                now.isoformat(),
            )
            team = str(fields["team"])
        except (Malformed, ValueError, KeyError, TypeError, AttributeError):
            raise EnrolmentRefused(
                "The enrolment request is damaged; no device was added."
            ) from None
        invitation = self.invitations.get(invitation_id)
        if invitation is None:
            raise EnrolmentRefused(
                "The enrolment request answers no invitation made here; no device was added."
            )
        if invitation_id in self.used:
            raise EnrolmentRefused(
                "The invitation was used already; no device was added. Make a new invitation."
            )
        if now >= invitation.expires_at:
            raise EnrolmentRefused(
                "The invitation had expired; no device was added. Make a new invitation."
            )
        if not hmac.compare_digest(mac, _request_mac(invitation.secret, body)):
            raise EnrolmentRefused(
                "The enrolment request was not made from this invitation; no device was added."
            )
        if invitation.device is not None and device.id != invitation.device:
            raise EnrolmentRefused(
                "The enrolment request comes from another device than the invitation was made "
                "for; no device was added."
            )
        if team != invitation.team or device.user != invitation.user:
            raise EnrolmentRefused(
                "The enrolment request asks for another team or user than the invitation; "
                "no device was added."
            )
        if not verify_signature(device.signing_public, signature, pack(REQUEST_MAGIC, body, mac)):
            raise EnrolmentRefused(
                "The enrolment request is not signed by the device it names; no device was added."
            )
        self.used[invitation_id] = device.id
        return device

    def to_json(self) -> dict[str, Any]:
        return {
            "invitations": [i.to_json() for i in self.invitations.values()],
            "used": dict(self.used),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EnrolmentDesk:
        invitations = (Invitation.from_json(i) for i in data["invitations"])
        used = {str(k): str(v) for k, v in data["used"].items()}
        return cls({i.id: i for i in invitations}, used)
