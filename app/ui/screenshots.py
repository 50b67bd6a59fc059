"""Render the desktop windows to PNG files for the documentation.

    python -m app.ui.screenshots docs/screenshots      (``make screenshots``)

Everything happens in a temporary folder with an in-memory keyring and a synthetic store
("Demo Service", "demo-admin"); nothing touches the user's keyring or data folder, and the store
is deleted afterwards. Windows are drawn offscreen.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QWidget

from app.crypto.device import DeviceSecrets
from app.crypto.kdf import Argon2Params
from app.crypto.memory_keyring import MemoryKeyring
from app.ui.app import SafecaseApp, load_style, qt_message_handler

# A tiny Argon2id cost, far below the product's floor: this store holds nothing and is deleted.
DEMO_KDF = Argon2Params(memory_kib=1024, time_cost=1, parallelism=1)
SERVICE = "Demo Service"
ADMIN = "demo-admin"
PASSWORD = "lantern-orchard-pebble-58"
WAIT_SECONDS = 60


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Run the event loop until ``condition`` holds (background work included)."""
    if condition():
        return
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(lambda: loop.quit() if condition() else None)
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(loop.quit)
    poll.start()
    give_up.start(WAIT_SECONDS * 1000)
    loop.exec()
    poll.stop()
    give_up.stop()
    if not condition():
        raise RuntimeError(f"timed out waiting for {what}")


def save(window: QWidget | None, folder: Path, name: str) -> Path:
    if window is None:
        raise RuntimeError(f"no window to save as {name}")
    QApplication.processEvents()
    target = folder / name
    if not window.grab().save(str(target), "PNG"):
        raise RuntimeError(f"could not write {target}")
    print(target)
    return target


def render(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    QApplication.setApplicationName("Safecase")
    load_style(app)
    keyring = MemoryKeyring()
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="safecase-screens-") as temp:
        controller = SafecaseApp(
            Path(temp) / "cases.safecase",
            kdf=DEMO_KDF,
            device_factory=lambda: DeviceSecrets(keyring),
            print_document=lambda _document, _parent: False,
        )
        try:
            controller.start()
            first_run = controller.first_run_window
            if first_run is None:
                raise RuntimeError("the first-run window did not open")
            first_run.service_field.setText(SERVICE)
            first_run.admin_field.setText(ADMIN)
            first_run.password_field.setText(PASSWORD)
            first_run.confirm_field.setText(PASSWORD)
            written.append(save(first_run, folder, "first-run.png"))

            first_run.submit()
            wait_until(lambda: first_run.showing_key, "the store to be created")
            written.append(save(first_run, folder, "recovery-key.png"))
            first_run.stored_box.setChecked(True)
            first_run.finish()

            sign_in = controller.sign_in_window
            if sign_in is None:
                raise RuntimeError("the sign-in window did not open")
            sign_in.password_field.setText("not-the-right-password")
            sign_in.submit()
            wait_until(lambda: not sign_in.busy, "the wrong password to be refused")
            written.append(save(sign_in, folder, "sign-in.png"))

            sign_in.password_field.setText(PASSWORD)
            sign_in.submit()
            wait_until(lambda: controller.main_window is not None, "the main window")
            written.append(save(controller.main_window, folder, "main-window.png"))
        finally:
            controller.shutdown()
            QApplication.processEvents()
    return written


def main(argv: list[str]) -> int:
    # Qt's messages go to logging; offscreen drawing has a few harmless ones, so only errors show.
    logging.basicConfig(level=logging.ERROR)
    qInstallMessageHandler(qt_message_handler)
    folder = Path(argv[0]) if argv else Path("docs/screenshots")
    render(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
