"""The sign-in window comes up without waiting for the main window: the main window and its
pages load only once the sign-in window is on screen, while the password is typed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SIGN_IN = """
import sys, tempfile, time
from pathlib import Path
from PySide6.QtWidgets import QApplication
from app.crypto.device import DeviceSecrets
from app.services import accounts
from tests.helpers import ADMIN_PW, TEST_KDF, MemoryKeyring

app = QApplication([])
with tempfile.TemporaryDirectory() as folder:
    store = Path(folder) / "cases.safecase"
    keyring = MemoryKeyring()
    session, _key = accounts.create_store(
        store, service_name="Demo", admin_name="demo-admin",
        password=ADMIN_PW, device=DeviceSecrets(keyring), kdf=TEST_KDF,
    )
    accounts.sign_out(session)
    from app.ui.app import SafecaseApp
    controller = SafecaseApp(store, device_factory=lambda: DeviceSecrets(keyring))
    controller.start()
    while controller.sign_in_window is None or not controller.sign_in_window.isVisible():
        app.processEvents()
    shown = "app.ui.main_window" in sys.modules
    deadline = time.monotonic() + 5
    while "app.ui.main_window" not in sys.modules and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    print(f"at sign-in: {shown}; while typing: {'app.ui.main_window' in sys.modules}")
"""


def test_the_sign_in_window_shows_before_the_main_window_loads_then_it_loads() -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", SIGN_IN], capture_output=True, text=True, env=env, cwd=root
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "at sign-in: False; while typing: True"
