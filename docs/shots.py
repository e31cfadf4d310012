"""What the screenshot scripts in docs/ share: the real app's main window in an isolated settings
folder, and waiting on it without blocking its event loop.

    app, window = open_window()          # MainWindow(device="cpu"), 1400×720, shown
    wait(app, lambda: ..., "what")       # process events until the condition holds (or time out)
    settle(app)                          # process events for a moment (a repaint after a change)

These scripts run by hand under xvfb-run to make the pictures in docs/images; they are not tests,
so they may wait on the clock.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication

from desktop import settings

if TYPE_CHECKING:
    from desktop.main_window import MainWindow


def open_window(size: tuple[int, int] = (1400, 720)) -> tuple[QApplication, MainWindow]:
    """A QApplication and the app's main window on the CPU, with settings in a fresh temporary
    folder (the user's own settings and recent files are never touched)."""
    settings.isolate(Path(tempfile.mkdtemp(prefix="rs_shots_")))
    app = QApplication(sys.argv[:1])
    settings.configure_application()
    from desktop.main_window import MainWindow

    window = MainWindow(device="cpu")
    window.resize(*size)
    window.show()
    return app, window


def wait(app: QApplication, done: Callable[[], bool], what: str, seconds: float = 180) -> None:
    """Process events until done() holds; TimeoutError naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        app.processEvents()
        time.sleep(0.01)


def settle(app: QApplication, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
