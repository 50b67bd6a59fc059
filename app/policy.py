"""Settings an organisation fixes on its managed laptops, which the person using Safecase
cannot change.

IT sets them in one of two places, read at each use (Safecase never writes either):

* on Windows, the registry under ``HKEY_LOCAL_MACHINE\\Software\\Policies\\Safecase`` (only an
  administrator can write there; Group Policy or Intune puts it there);
* elsewhere, or when that key is absent, a read-only ``policy.json`` beside the bundle's
  executable (``SAFECASE_POLICY`` names another file, for tests and for installs that are not
  bundles).

Keys: ``store_path`` (where the store is), ``team_folder`` (the team's shared folder),
``team_server`` (the team's server address), ``idle_lock_minutes`` (1 to 60) and
``allow_password_only`` (true or false). A file that is there but cannot be read, or a value
of the wrong kind, stops Safecase with a sentence: running without the organisation's settings
would be worse than not running.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from app.errors import SafecaseError

POLICY_ENV = "SAFECASE_POLICY"
POLICY_FILE = "policy.json"
REGISTRY_KEY = r"Software\Policies\Safecase"

# What each key is called where Safecase shows that the organisation set it.
LABELS = {
    "store_path": "store location",
    "team_folder": "team's shared folder",
    "team_server": "team's server",
    "idle_lock_minutes": "idle lock",
    "allow_password_only": "password-only stores",
}


class PolicyError(SafecaseError):
    default_message = (
        "The settings your organisation set for Safecase cannot be read; ask your IT department."
    )


@dataclass(frozen=True)
class Policy:
    store_path: Path | None = None
    team_folder: Path | None = None
    team_server: str | None = None
    idle_lock_minutes: int | None = None
    allow_password_only: bool | None = None
    source: str = ""

    def fixed(self) -> list[str]:
        """The keys the organisation set, in the order Safecase lists them."""
        return [
            f.name for f in fields(self) if f.name in LABELS and getattr(self, f.name) is not None
        ]

    def fixed_labels(self) -> list[str]:
        return [LABELS[name] for name in self.fixed()]


def policy_file() -> Path | None:
    named = os.environ.get(POLICY_ENV)
    if named:
        return Path(named)
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent / POLICY_FILE
    return None


def _registry() -> dict[str, Any] | None:
    """The policy values under HKLM, or None when the key is absent (or not on Windows)."""
    if sys.platform != "win32":
        return None
    import winreg

    try:
        key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, REGISTRY_KEY)
    except OSError:
        return None
    values: dict[str, Any] = {}
    with key:
        for name in LABELS:
            try:
                value, _kind = winreg.QueryValueEx(key, name)
            except OSError:
                continue
            values[name] = value
    return values


def _invalid(source: str, key: str, wanted: str) -> PolicyError:
    return PolicyError(
        f"The organisation's setting {key!r} in {source} is not {wanted}; "
        "ask your IT department to correct it."
    )


def parse(raw: object, source: str) -> Policy:
    """Check every key's value; an unknown key is refused too, so a typing mistake in the
    policy never goes unnoticed."""
    if not isinstance(raw, dict):
        raise PolicyError(f"The organisation's settings in {source} are not a set of keys.")
    unknown = sorted(set(raw) - set(LABELS))
    if unknown:
        raise PolicyError(
            f"The organisation's settings in {source} have a key Safecase does not know "
            f"({unknown[0]!r}); ask your IT department to correct it."
        )
    values: dict[str, Any] = {}
    for key in ("store_path", "team_folder"):
        if key in raw:
            if not isinstance(raw[key], str) or not raw[key].strip():
                raise _invalid(source, key, "a folder or file path")
            values[key] = Path(os.path.expandvars(raw[key])).expanduser()
    if "team_server" in raw:
        if not isinstance(raw["team_server"], str) or not raw["team_server"].strip():
            raise _invalid(source, "team_server", "a server address")
        values["team_server"] = raw["team_server"].strip()
    if "idle_lock_minutes" in raw:
        minutes = raw["idle_lock_minutes"]
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 60:
            raise _invalid(source, "idle_lock_minutes", "a whole number of minutes from 1 to 60")
        values["idle_lock_minutes"] = minutes
    if "allow_password_only" in raw:
        allowed = raw["allow_password_only"]
        if isinstance(allowed, int) and not isinstance(allowed, bool) and allowed in (0, 1):
            allowed = bool(allowed)  # a registry DWORD
        if not isinstance(allowed, bool):
            raise _invalid(source, "allow_password_only", "true or false")
        values["allow_password_only"] = allowed
    return Policy(**values, source=source)


def load() -> Policy:
    """The organisation's settings on this computer (an empty Policy when it set none)."""
    from_registry = _registry()
    if from_registry is not None:
        return parse(from_registry, "the Windows registry (HKLM\\" + REGISTRY_KEY + ")")
    path = policy_file()
    if path is None or not path.exists():
        return Policy()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        raise PolicyError(
            f"The organisation's settings file {path.name} cannot be read; ask your IT department."
        ) from None
    return parse(raw, path.name)
