"""The keys that seal the audit trail, and the DPO's signed checkpoints.

The first sealing key is the audit verification key: 256 random bits shown once, in the
recovery key's checked groups (app/crypto/recovery.py), for the DPO to keep away from the
computer. Each later key is HMAC-SHA256 of the one before; the store keeps only the newest.
A checkpoint is the trail's count and head, tagged under a key derived from the verification
key, so nobody without that key can make one or change one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from app.crypto.kdf import hkdf
from app.crypto.recovery import format_recovery_key, parse_recovery_key
from app.errors import InvalidInput, RecoveryKeyMistyped

CHECKPOINT_KIND = "safecase-audit-checkpoint"


def new_first_key() -> bytes:
    return secrets.token_bytes(32)


def evolve(key: bytes) -> bytes:
    """The next epoch's key; the one given cannot be worked back from it."""
    return hmac.new(key, b"evolve", hashlib.sha256).digest()


def seal_tag(key: bytes, epoch: int, last_entry: int, head_hash: str, at: str) -> str:
    body = json.dumps([epoch, last_entry, head_hash, at], separators=(",", ":"))
    return hmac.new(key, body.encode("ascii"), hashlib.sha256).hexdigest()


def format_verification_key(key: bytes) -> str:
    return format_recovery_key(key)


def parse_verification_key(text: str) -> bytes:
    try:
        return parse_recovery_key(text)
    except RecoveryKeyMistyped as exc:
        raise InvalidInput(str(exc).replace("recovery key", "audit verification key")) from None


def _checkpoint_tag(key: bytes, fields: dict[str, Any]) -> str:
    signing = hkdf(key, salt=b"", info=b"safecase audit checkpoint v1")
    body = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hmac.new(signing, body, hashlib.sha256).hexdigest()


def sign_checkpoint(key: bytes, fields: dict[str, Any]) -> bytes:
    """The checkpoint file's bytes: ``fields`` and their tag under the verification key."""
    signed = {"kind": CHECKPOINT_KIND, **fields}
    signed["tag"] = _checkpoint_tag(key, signed)
    return json.dumps(signed, indent=1, sort_keys=True).encode("utf-8")


def read_checkpoint(raw: bytes, key: bytes | None) -> tuple[dict[str, Any], bool]:
    """A checkpoint's fields, and whether its tag checks out (True when no key is given to
    check it with). Raises ValueError when it is not a checkpoint at all."""
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("kind") != CHECKPOINT_KIND:
        raise ValueError("not a checkpoint")
    tag = str(data.pop("tag", ""))
    authentic = key is None or hmac.compare_digest(tag, _checkpoint_tag(key, data))
    return data, authentic


def backup_tag(backup_key: bytes, store_id: str, count: int, head_hash: str) -> str:
    """The tag on a backup's record of the trail, under the backup key."""
    body = json.dumps([store_id, count, head_hash], separators=(",", ":")).encode("ascii")
    return hmac.new(backup_key, b"safecase backup anchor v1|" + body, hashlib.sha256).hexdigest()
