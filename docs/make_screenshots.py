"""Paint a street scene in the real app with real mouse events, then screenshot every view.

    xvfb-run -a python docs/make_screenshots.py --checkpoint MODEL.safetensors [--out docs/images]

Writes painted_side.png, painted_overlay.png, painted_swipe.png (whole main window) and
painted_labels.png (the label map itself, labelIds PNG).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from core.io import imageio
from core.labels import class_by_name
from desktop.preview.worker import ModelSource
from desktop.qimage import qimage_to_rgb
from docs.shots import open_window, wait

if TYPE_CHECKING:
    from desktop.main_window import MainWindow


class Painter:
    """Drives the canvas like a user: tool, class, then mouse events at document coordinates."""

    def __init__(self, app: QApplication, window: MainWindow) -> None:
        self.app, self.window, self.canvas = app, window, window.canvas

    def _send(self, kind: QEvent.Type, x: float, y: float, pressed: bool, double: bool = False) -> None:
        pos = self.canvas.document_to_widget(x, y)
        button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
        buttons = Qt.MouseButton.LeftButton if pressed else Qt.MouseButton.NoButton
        QApplication.sendEvent(self.canvas, QMouseEvent(kind, QPointF(pos), self.canvas.mapToGlobal(QPointF(pos)),
                                                        button, buttons, Qt.KeyboardModifier.NoModifier))
        self.app.processEvents()

    def use(self, tool: str, cls: str, size: int | None = None) -> None:
        self.window.tool_bar.tool_actions[tool].trigger()
        self.window.class_palette.button_for(class_by_name(cls).id).click()
        if size:
            self.canvas.set_brush_size(size)

    def drag(self, points: list[tuple[float, float]]) -> None:
        self._send(QEvent.Type.MouseButtonPress, *points[0], True)
        for p in points[1:]:
            self._send(QEvent.Type.MouseMove, *p, True)
        self._send(QEvent.Type.MouseButtonRelease, *points[-1], False)

    def click(self, x: float, y: float) -> None:
        self.drag([(x, y)])

    def polygon(self, points: list[tuple[float, float]]) -> None:
        for p in points:
            self.click(*p)
        self._send(QEvent.Type.MouseButtonDblClick, *points[-1], True)
        self._send(QEvent.Type.MouseButtonRelease, *points[-1], False)


def paint_street(p: Painter) -> None:
    """A 256×512 street: sky, buildings, road in perspective, sidewalks, trees, cars, people."""
    p.use("fill", "sky")
    p.click(256, 20)
    p.use("rect", "building")
    p.drag([(0, 30), (190, 150)])
    p.drag([(320, 40), (512, 150)])
    p.drag([(190, 80), (320, 140)])
    p.use("polygon", "road")
    p.polygon([(0, 256), (512, 256), (300, 140), (212, 140)])
    p.use("polygon", "sidewalk")
    p.polygon([(0, 180), (0, 150), (190, 140), (212, 140), (60, 256), (0, 256)])
    p.polygon([(512, 175), (512, 150), (320, 140), (300, 140), (450, 256), (512, 256)])
    p.use("brush", "vegetation", 34)
    for x, y in ((40, 110), (58, 95), (75, 118), (470, 105), (450, 92)):
        p.drag([(x, y), (x + 6, y + 4)])
    p.use("rect", "pole")
    p.drag([(55, 120), (61, 175)])
    p.drag([(462, 115), (468, 178)])
    p.use("rect", "car")
    p.drag([(150, 170), (230, 205)])
    p.drag([(165, 155), (215, 172)])
    p.drag([(290, 150), (330, 170)])
    p.use("brush", "person", 8)
    p.drag([(110, 165), (110, 195)])
    p.drag([(395, 160), (395, 190)])
    p.use("line", "traffic sign")
    p.window.canvas.set_brush_size(10)
    p.drag([(340, 110), (350, 110)])


def wait_for_preview(app: QApplication, window: MainWindow, timeout: float = 120) -> None:
    wait(app, lambda: window.shown_version >= window.session.document.version and not window.preview.in_flight,
         "no preview", timeout)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "images")
    args = parser.parse_args()
    app, window = open_window()
    window.session.new_scene(256, 512, 0)
    app.processEvents()
    window.load_model(ModelSource(path=args.checkpoint))
    painter = Painter(app, window)
    window.canvas.fit()
    paint_street(painter)
    wait_for_preview(app, window)
    args.out.mkdir(parents=True, exist_ok=True)
    imageio.write_label_ids_png(args.out / "painted_labels.png", window.session.document.ids.copy())
    for mode in ("side", "overlay", "swipe"):
        window.set_view_mode(mode)
        if mode == "swipe":
            window.preview_panel.view.set_swipe_position(0.45)
        for _ in range(5):
            app.processEvents()
            time.sleep(0.02)
        imageio.write_png(args.out / f"painted_{mode}.png", qimage_to_rgb(window.grab().toImage()))
        print(args.out / f"painted_{mode}.png")
    window.session.document.mark_saved()
    window.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
