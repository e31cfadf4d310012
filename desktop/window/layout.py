"""Window layout that reads well at a glance: the first-launch size from the screen, the training
dock's first height, and the monitor's splitters remembered in QSettings.

On a 1600×1000 screen a fixed 1400×720 window with a bottom dock left the training pictures as
thumbnails; the first launch now takes most of the screen (issue 13 §6), and every later launch
restores what the user arranged.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, QSettings, Qt, QTimer
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter, QWidget

#: Share of the screen's available width and height the first window takes.
FIRST_LAUNCH_SHARE = (0.92, 0.9)
MIN_FIRST_SIZE = (900, 560)  # never smaller than this, unless the screen itself is


def first_launch_geometry(screen: QScreen | None) -> QRect:
    """Most of the available screen area (task bars excluded), centred."""
    if screen is None:
        return QRect(0, 0, 1400, 800)
    area = screen.availableGeometry()
    w = min(area.width(), max(MIN_FIRST_SIZE[0], round(area.width() * FIRST_LAUNCH_SHARE[0])))
    h = min(area.height(), max(MIN_FIRST_SIZE[1], round(area.height() * FIRST_LAUNCH_SHARE[1])))
    return QRect(area.left() + (area.width() - w) // 2, area.top() + (area.height() - h) // 2, w, h)


#: The training dock's first height, at least (when the window allows): what the monitor needs to
#: draw its pictures 256 px tall under its tab bar and stats line (issue 20 §2).
DOCK_MIN_FIRST_HEIGHT = 390
#: ...but never more than this share of the window: the canvas stays usable.
DOCK_MAX_SHARE = 0.7


def keep_on_screen(window: QWidget) -> None:
    """Shrink and move `window` back into its screen's available area (task bars excluded) when a
    dock or a minimum size pushed it past the edge (issue 20 §2: the status bar off-screen)."""
    screen = window.screen()
    if screen is None or window.isMaximized() or window.isFullScreen():
        return
    area = screen.availableGeometry()
    frame = window.frameGeometry()
    if area.contains(frame):
        return
    extra_w = frame.width() - window.width()  # window-manager decorations
    extra_h = frame.height() - window.height()
    width = min(window.width(), area.width() - extra_w)
    height = min(window.height(), area.height() - extra_h)
    window.resize(width, height)
    frame = window.frameGeometry()
    x = min(max(frame.left(), area.left()), area.right() + 1 - frame.width())
    y = min(max(frame.top(), area.top()), area.bottom() + 1 - frame.height())
    window.move(x, y)


class _DockGrower(QObject):
    """Resizes a dock to a share of the window height the first time it becomes visible (and keeps
    the window on the screen), then removes itself (later sizes are the user's, saved with the
    window state)."""

    def __init__(self, window: QMainWindow, dock: QDockWidget, share: float) -> None:
        super().__init__(dock)
        self._window, self._dock, self._share = window, dock, share
        dock.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._dock and event.type() == QEvent.Type.Show:
            self._dock.removeEventFilter(self)
            area = self._window.dockWidgetArea(self._dock)
            vertical = area in (Qt.DockWidgetArea.TopDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea)
            extent = self._window.height() if vertical else self._window.width()
            orientation = Qt.Orientation.Vertical if vertical else Qt.Orientation.Horizontal
            size = round(extent * self._share)
            if vertical:
                size = max(size, min(DOCK_MIN_FIRST_HEIGHT, round(extent * DOCK_MAX_SHARE)))
            self._window.resizeDocks([self._dock], [size], orientation)
            window = self._window
            QTimer.singleShot(0, lambda: keep_on_screen(window))  # after the layout settled
            self.deleteLater()
        return False


def grow_dock_when_first_shown(window: QMainWindow, dock: QDockWidget, *, share: float) -> None:
    _DockGrower(window, dock, share)


def named_splitters(root: QWidget) -> list[QSplitter]:
    """The QSplitters under `root` whose sizes are remembered (those with an objectName)."""
    return [s for s in root.findChildren(QSplitter) if s.objectName()]


def save_splitters(store: QSettings, root: QWidget) -> None:
    """Every named QSplitter under `root`, under layout/<objectName>."""
    for splitter in named_splitters(root):
        store.setValue(f"layout/{splitter.objectName()}", splitter.saveState())


def restore_splitters(store: QSettings, root: QWidget) -> None:
    for splitter in named_splitters(root):
        state = store.value(f"layout/{splitter.objectName()}")
        if isinstance(state, QByteArray) and not state.isEmpty():
            splitter.restoreState(state)


class _OnScreenKeeper(QObject):
    """Every time the dock is shown (View ▸ Training, a restored layout), the window is checked
    against the screen's available area once the layout has settled."""

    def __init__(self, window: QMainWindow, dock: QDockWidget) -> None:
        super().__init__(dock)
        self._window = window
        dock.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show:
            window = self._window
            QTimer.singleShot(0, lambda: keep_on_screen(window))
        return False


def keep_on_screen_when_shown(window: QMainWindow, dock: QDockWidget) -> None:
    _OnScreenKeeper(window, dock)
