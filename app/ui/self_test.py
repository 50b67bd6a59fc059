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


# Names as the app lists them, in the order a person reading English (UK) expects, and Welsh,
# where "ch" is one letter after "c". The Linux bundle carries Qt's sorting and time-zone data
# (ICU) for Safecase's languages only; this proves what it kept.
NAMES = ("Zoë", "zara", "Émile", "adam", "Łukasz", "Lucy")
ENGLISH_ORDER = ["adam", "Émile", "Lucy", "Łukasz", "zara", "Zoë"]
WELSH_NAMES = ("dafydd", "chwarae", "cyfle")
WELSH_ORDER = ["cyfle", "chwarae", "dafydd"]


def text_check() -> str:
    """Sorting, upper and lower case, and dates in Europe/London, as the app shows them."""
    from functools import cmp_to_key

    from PySide6.QtCore import QCollator, QDate, QDateTime, QLocale, QTime, QTimeZone

    def in_order(names: tuple[str, ...], locale: QLocale) -> list[str]:
        return sorted(names, key=cmp_to_key(QCollator(locale).compare))

    english = QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom)
    welsh = QLocale(QLocale.Language.Welsh, QLocale.Country.UnitedKingdom)
    if in_order(NAMES, english) != ENGLISH_ORDER or in_order(WELSH_NAMES, welsh) != WELSH_ORDER:
        raise CheckFailed("names do not sort in alphabetical order; reinstall Safecase")
    if english.toUpper("Straße Zoë") != "STRASSE ZOË" or english.toLower("ŁUKASZ") != "łukasz":
        raise CheckFailed("names do not change between capitals and small letters correctly")
    london = QTimeZone(b"Europe/London")
    summer = QDateTime(QDate(2026, 7, 1), QTime(12, 0), london)
    winter = QDateTime(QDate(2026, 1, 15), QTime(12, 0), london)
    if not london.isValid() or (summer.offsetFromUtc(), winter.offsetFromUtc()) != (3600, 0):
        raise CheckFailed("the time zone Europe/London is missing, so times would be wrong")
    summer_name = london.displayName(summer, QTimeZone.NameType.LongName, english)
    if summer_name != "British Summer Time":
        raise CheckFailed(f"Europe/London's summer time is called {summer_name!r}")
    return "names sort and change case in English (UK) and Welsh; Europe/London keeps BST"


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
    for name, check in (*CORE_CHECKS, ("text", text_check), ("windows", platform)):
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
