"""Run by test_monitor_readable.py in a fresh process whose offscreen screen has a given size
(QT_QPA_PLATFORM=offscreen:configfile=...): the app's first window, the training dock opened as a
user opens it, realistic pictures in the monitor, the set-up preview and a pinned strip; prints
one JSON line of what was drawn where. Not a test module (no test_ prefix)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="roadstudio-screen-"))
    os.environ["ROADSTUDIO_HOME"] = str(home)
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from desktop import settings
    from desktop.main_window import MainWindow
    from desktop.qimage import rgb_to_qimage

    settings.configure_application()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    rng = np.random.default_rng(0)
    window = MainWindow(device="cpu")
    window.show()
    app.processEvents()
    before = window.frameGeometry()
    window.training_dock.toggleViewAction().trigger()  # View ▸ Training
    for _ in range(20):  # the dock's first sizing and the on-screen check run on later turns
        app.processEvents()
    panel = window.training_panel
    monitor = panel.monitor
    panel.tabs.setCurrentWidget(monitor)
    grid = rng.integers(0, 255, size=(4 * 128, 3 * 128, 3), dtype=np.uint8)  # 4 rows of 128-px crops
    canvas = rng.integers(0, 255, size=(256, 512, 3), dtype=np.uint8)  # the default 256×512 scene
    monitor.show_image("sample", 40, rgb_to_qimage(grid))
    monitor.show_image("canvas", 40, rgb_to_qimage(canvas))
    for _ in range(10):
        app.processEvents()

    def rect(r: QRect) -> list[int]:
        return [r.x(), r.y(), r.width(), r.height()]

    def size(image: QImage | None) -> list[int]:
        return [-1, -1] if image is None else [image.width(), image.height()]

    out: dict[str, object] = {
        "screen": rect(window.screen().availableGeometry()),
        "window_before_dock": rect(before),
        "window": rect(window.frameGeometry()),
        "dock_height": window.training_dock.height(),
        "sample": rect(monitor.sample_view.shown_rect()),
        "sample_image": size(monitor.sample_view.image()),
        "canvas": rect(monitor.canvas_view.shown_rect()),
        "canvas_image": size(monitor.canvas_view.image()),
        "sample_view_size": [monitor.sample_view.width(), monitor.sample_view.height()],
        "canvas_view_size": [monitor.canvas_view.width(), monitor.canvas_view.height()],
    }
    # The set-up preview: a 4-pair grid (label | photo rows, 96 px each) as the dataset check makes it.
    panel.tabs.setCurrentWidget(panel.form)
    preview = rng.integers(0, 255, size=(4 * 96, 2 * 96, 3), dtype=np.uint8)
    panel.form.preview_view.set_image(rgb_to_qimage(preview))
    for _ in range(10):
        app.processEvents()
    pixmap = panel.form.preview_view.pixmap()
    out["setup_preview"] = [pixmap.width(), pixmap.height()]
    # A pinned strip's frame (a 256×512 painting rendered at one step).
    panel.tabs.setCurrentWidget(panel.pinned)
    strip = panel.pinned._strip("painting_512x256")
    strip.add_frame(40, rgb_to_qimage(canvas))
    for _ in range(10):
        app.processEvents()
    out["pinned_icon"] = [strip.iconSize().width(), strip.iconSize().height()]
    out["pinned_visible_height"] = strip.visibleRegion().boundingRect().height()
    window.shutdown()
    print("PROBE " + json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
