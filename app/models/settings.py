"""Store-wide settings kept inside the encrypted store (never in QSettings)."""

from __future__ import annotations

from app.crypto.connection import Connection
from app.models.db import read

SERVICE_NAME = "service_name"
# The service's own contact details, printed on letters (the SAR pack's cover letter).
SERVICE_ADDRESS = "service_address"
SERVICE_PHONE = "service_phone"
SERVICE_EMAIL = "service_email"
# How to reach the service's data protection officer, printed on the cover letter.
SERVICE_DPO = "service_dpo"
IDLE_LOCK_MINUTES = "idle_lock_minutes"
KDF = "kdf"
PASSWORD_ONLY = "password_only"
# "1" on a store created for training, the only kind that takes synthetic demo records.
TRAINING = "training"

# A laptop in a team puts this tag (one to three capital letters, unique in the team and given
# when it joins) in every reference it makes, so two laptops offline never make the same one.
REFERENCE_TAG = "sync.reference_tag"

DEFAULTS = {IDLE_LOCK_MINUTES: "5", PASSWORD_ONLY: "0", TRAINING: "0"}


def get(conn: Connection, key: str) -> str | None:
    rows = read(conn, "SELECT value FROM settings WHERE key = ?", (key,))
    return str(rows[0][0]) if rows else DEFAULTS.get(key)


def put(conn: Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def remove(conn: Connection, key: str) -> None:
    conn.execute("DELETE FROM settings WHERE key = ?", (key,))


def keys_starting(conn: Connection, prefix: str) -> list[str]:
    rows = read(
        conn,
        "SELECT key FROM settings WHERE substr(key, 1, ?) = ? ORDER BY key",
        (len(prefix), prefix),
    )
    return [str(r[0]) for r in rows]


def reference_prefix(conn: Connection, kind: str, year: int) -> str:
    """Where this laptop's references of ``kind`` ("SC", "RR") for ``year`` start: with its
    team tag if it has one ("SC-2026-B-"), otherwise as a laptop alone makes them."""
    tag = get(conn, REFERENCE_TAG)
    return f"{kind}-{year}-{tag}-" if tag else f"{kind}-{year}-"
