"""``make screenshots`` draws a second set on a 1366x768 laptop at 125% scaling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.ui.screenshots import LAPTOP_AREA, laptop_environment

SCREEN = (
    "from PySide6.QtWidgets import QApplication\n"
    "app = QApplication([])\n"
    "screen = app.primaryScreen()\n"
    "area = screen.availableGeometry()\n"
    "print(area.width(), area.height(), screen.devicePixelRatio())\n"
)


def test_the_laptop_set_is_drawn_on_a_1366x768_screen_at_125_percent(tmp_path: Path) -> None:
    """Qt, started as the laptop set starts it, has a screen of 1093x576 device-independent
    pixels (1366x768 less a task bar, at 125%) and draws 1.25 pixels for each of them."""
    done = subprocess.run(
        [sys.executable, "-c", SCREEN],
        env=laptop_environment(tmp_path),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    width, height, scale = done.stdout.split()
    assert (int(width), int(height)) == LAPTOP_AREA == (1093, 576)
    assert float(scale) == 1.25
