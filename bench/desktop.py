"""Desktop figures: cold start to the sign-in window, and first paint of a case list.

``python -m bench.desktop --store PATH --user NAME`` reads NAME's password from standard input
and prints both figures for that store (a demo store: ``safecase demo --cases 100000``). The
goals are 1.0 s to the sign-in window and 100 ms to the first page of the case list.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COLD_START_GOAL_S = 1.0
FIRST_PAINT_GOAL_MS = 100.0

# Run in a fresh interpreter: imports, the QApplication, the style sheet and the sign-in window.
_COLD_START = """
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from app.ui.app import SafecaseApp, load_style
load_style(app)
controller = SafecaseApp(Path(sys.argv[1]))
controller.start()
while controller.sign_in_window is None or not controller.sign_in_window.isVisible():
    app.processEvents()
app.processEvents()
"""


def cold_start_seconds(store: Path, runs: int = 3) -> list[float]:
    """Wall time of whole processes that start Python and stop once the sign-in window shows."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", _COLD_START, str(store)],
            check=True,
            env=env,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return times


def first_paint_ms(store: Path, user: str, password: str, runs: int = 3) -> list[float]:
    """From asking a list page for its first rows to those rows painted (offscreen)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.crypto.device import DeviceSecrets
    from app.models.users import Role
    from app.services import accounts
    from app.ui.case_list import CaseListPage
    from app.ui.store_calls import StoreCalls

    app = QApplication.instance() or QApplication(sys.argv[:1])
    session = accounts.sign_in(store, user, password, device=DeviceSecrets())
    mode = CaseListPage.TEAM if Role.MANAGER in session.roles else CaseListPage.MINE
    times = []
    try:
        for _ in range(runs):
            calls = StoreCalls(session)
            page = CaseListPage(calls, session, mode)
            page.resize(1000, 700)
            page.show()
            loop = QEventLoop()
            page.model.page_loaded.connect(loop.quit)
            QTimer.singleShot(10_000, loop.quit)
            started = time.perf_counter()
            page.start()
            loop.exec()
            page.repaint()
            times.append((time.perf_counter() - started) * 1000)
            calls.close()
            page.deleteLater()
            app.processEvents()
    finally:
        accounts.sign_out(session)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.desktop", description=__doc__)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--user", required=True, help="whose case list to paint")
    args = parser.parse_args(argv)
    password = sys.stdin.readline().rstrip("\n")
    cold = cold_start_seconds(args.store)
    paint = first_paint_ms(args.store, args.user, password)
    print(
        f"cold start to the sign-in window: median {statistics.median(cold):.2f} s, "
        f"max {max(cold):.2f} s (goal {COLD_START_GOAL_S:.1f} s)"
    )
    print(
        f"first paint of the case list: median {statistics.median(paint):.1f} ms, "
        f"max {max(paint):.1f} ms (goal {FIRST_PAINT_GOAL_MS:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
