"""Every window and dialog opens inside the screen it opens on.

A laptop at 1366x768 with Windows' 125% scaling leaves about 1093x574 device-independent
pixels under the task bar. A window bigger than that opens with its buttons out of reach, so
each one is shrunk, when it is first shown, to the screen's available area less the room its
title bar and borders take, and moved inside that area. What does not fit then scrolls inside
the window (long forms sit in one scroll area), never off the screen.

:func:`install` puts one filter on the application that does this for every top-level window
and dialog, the ones Qt makes (message boxes, progress dialogs) included.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QMargins, QObject, QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

# The most a window system adds around a window: a title bar and thin borders (Windows 11 at
# 125% draws about 31 pixels of title bar). Before a window is first shown Qt does not know
# its frame, so this allowance is kept free instead.
FRAME = QMargins(8, 32, 8, 8)
WINDOW_TYPES = (Qt.WindowType.Window, Qt.WindowType.Dialog)


def available_area(widget: QWidget) -> QRect:
    """The part of the widget's screen that windows may use (without the task bar)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def usable_area(widget: QWidget) -> QRect:
    """Where the window's own area (inside its frame) may go on its screen."""
    return available_area(widget).marginsRemoved(FRAME)


def fit_to_screen(widget: QWidget) -> None:
    """Shrink ``widget`` (a top-level window) to its screen's usable area and move it inside.

    The size never goes below what the window's layout needs; a window whose layout needs
    more than the screen has is a fault in that window (the tests look for it)."""
    # Fields added just before the window opens have their layout changes still queued.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    area = usable_area(widget)
    # A size the program chose stays as it is when it fits; otherwise Qt chose it, capped at
    # two thirds of the screen, and the window's own wish is better.
    wanted = (
        widget.size() if widget.testAttribute(Qt.WidgetAttribute.WA_Resized) else widget.sizeHint()
    )
    size = wanted.boundedTo(area.size()).expandedTo(widget.minimumSize())
    place = QRect(widget.geometry().topLeft(), size)
    place.moveLeft(max(area.left(), min(place.left(), area.right() - size.width() + 1)))
    place.moveTop(max(area.top(), min(place.top(), area.bottom() - size.height() + 1)))
    if place != widget.geometry():
        widget.setGeometry(place)


class ScreenFit(QObject):
    """Fits each top-level window and dialog to its screen as it is first shown."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Show
            and not event.spontaneous()  # shown by the program, not restored by the user
            and isinstance(watched, QWidget)
            and watched.isWindow()
            and watched.windowType() in WINDOW_TYPES
        ):
            fit_to_screen(watched)
        return False


def install(app: QApplication) -> ScreenFit:
    """Fit every window of ``app`` from now on (once per application)."""
    existing = app.findChild(ScreenFit)
    if isinstance(existing, ScreenFit):
        return existing
    fit = ScreenFit(app)
    app.installEventFilter(fit)
    return fit
