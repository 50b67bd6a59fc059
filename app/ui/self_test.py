"""The self-test with Qt: the core checks plus the platform plugin, for ``safecase
--self-test`` and Help > Self-test in the main window.

Qt ends the process (it does not raise) when no platform plugin can start, so the command
line asks a child process to start Qt and reports what it says; the main window, where Qt
is already running, asks its own application.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import TextIO

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from app.errors import EXIT_FAILED, EXIT_OK
from app.services.self_test import CORE_CHECKS, Check, CheckFailed, run_check
from app.ui.i18n import translate as t

PROBE_FLAG = "--self-test-windows"
PROBE_TIMEOUT_S = 60


def platform_line() -> str:
    from PySide6 import QtCore

    return f"Qt {QtCore.qVersion()} with the {QGuiApplication.platformName()} platform plugin"


def probe() -> int:
    """In the child: start Qt, print what draws the windows, and stop."""
    from PySide6.QtWidgets import QApplication

    app = QApplication(["safecase"])
    print(platform_line(), flush=True)
    app.quit()
    return EXIT_OK


def _own_command() -> list[str]:
    """How to start this installation again: the bundle's executable, or Python on the app."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "app"]


def child_platform_check() -> str:
    try:
        done = subprocess.run(
            [*_own_command(), PROBE_FLAG],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            env=os.environ.copy(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CheckFailed(f"Qt could not be started to check ({type(exc).__name__})") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode == 0 and lines:
        return lines[-1]
    raise CheckFailed(
        "no Qt platform plugin could start, so no window can open "
        "(on Linux: is a desktop session running, and is libxcb-cursor0 installed?)"
    )


def run_lines(platform: Callable[[], str], say: Callable[[Check], None]) -> list[Check]:
    """Every check in turn, each handed to ``say`` as soon as it is done."""
    checks = []
    for name, check in (*CORE_CHECKS, ("windows", platform)):
        result = run_check(name, check)
        say(result)
        checks.append(result)
    return checks


def run_cli(out: TextIO) -> int:
    """Print one line per check; exit 0 when all pass, 1 otherwise."""
    checks = run_lines(child_platform_check, lambda c: print(c.line(), file=out, flush=True))
    return EXIT_OK if all(check.ok for check in checks) else EXIT_FAILED


def show_dialog(parent: QWidget | None) -> QMessageBox:
    """Help > Self-test: the same lines in a message box, to read out to the helpdesk."""
    checks = run_lines(platform_line, lambda _c: None)
    box = QMessageBox(parent)
    box.setWindowTitle(t("SelfTest", "Self-test"))
    passed = all(check.ok for check in checks)
    box.setIcon(QMessageBox.Icon.Information if passed else QMessageBox.Icon.Warning)
    box.setText(
        t("SelfTest", "Every check passed.")
        if passed
        else t("SelfTest", "A check failed: tell your helpdesk what it says.")
    )
    box.setInformativeText("\n".join(check.line() for check in checks))
    box.open()
    return box
