"""Where Safecase keeps its default store: the user's data folder for this operating system."""

from __future__ import annotations

import os
import sys
from pathlib import Path

STORE_NAME = "cases.safecase"


def data_folder() -> Path:
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "Safecase"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Safecase"
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "safecase"


def default_store() -> Path:
    return data_folder() / STORE_NAME


def resources_dir() -> Path:
    """The resources folder (style sheet, fonts): the top-level ``resources/`` of a source
    checkout or an editable install, ``share/safecase/resources`` in the environment a wheel
    was installed into, or the bundle's own folder when frozen."""
    candidates = [Path(__file__).resolve().parents[1] / "resources"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.insert(0, Path(bundle) / "resources")
    candidates.append(Path(sys.prefix) / "share" / "safecase" / "resources")
    return next((c for c in candidates if (c / "style.qss").is_file()), candidates[0])
