"""Edit a real street photo in the real app (edit mode, issue 19 §4) and screenshot it.

    xvfb-run -a python docs/make_edit_screenshots.py PHOTO [--out docs/images]

PHOTO: ../shared/data/camvid/test/0001TP_008550.png (the regions below are that frame's). The brush
is driven by real mouse events on the canvas: road over the parked SUV, vegetation (a hedge) along
the foot of the left building. Writes photo_edit_before.png (the window with the photo open: the
output is the photo), photo_edit_labels.png (the edited labels over the photo, the edit beside
them) and photo_edit_after.png (the edited photo itself, the worker's image at full size); then,
with the strokes undone, Remove object clicked on the parked SUV: photo_remove_labels.png (the
window) and photo_remove_after.png (the edited photo).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from core.io import imageio
from desktop.qimage import qimage_to_rgb
from docs.shots import open_window, settle, wait

ROAD, VEGETATION = 7, 21
#: (class, brush px, rows y0..y1 step, columns x0..x1) in photo pixels of 0001TP_008550.
STROKES = [(ROAD, 14, (192, 280, 8), (306, 404)), (VEGETATION, 12, (200, 236, 6), (0, 92))]
#: Remove object clicks (x, y): the parked SUV (the segmenter reads it and the cars beside it as
#: one car region, so one click takes them all).
REMOVE_CLICKS = [(350, 240)]


def drag(widget: QWidget, points: list[QPointF]) -> None:
    """A press-move-release with the left button held, as the window system sends it."""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    moves = [(QEvent.Type.MouseButtonPress, points[0], left, left)]
    moves += [(QEvent.Type.MouseMove, p, none, left) for p in points[1:]]
    moves.append((QEvent.Type.MouseButtonRelease, points[-1], left, none))
    for kind, pos, button, buttons in moves:
        QApplication.sendEvent(widget, QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons,
                                                   Qt.KeyboardModifier.NoModifier))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("photo", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "images")
    args = parser.parse_args()
    app, window = open_window()
    window.load_default_model()
    opened: list[object] = []
    window.photo.photo_opened.connect(opened.append)
    window.photo.open_photo(args.photo)

    def edit_shown() -> bool:
        shown, doc = window.preview.last_shown, window.session.document
        return (bool(opened) and shown is not None and shown.photo is not None and shown.version == doc.version
                and not window.preview.in_flight)

    wait(app, edit_shown, "the photo did not open")
    args.out.mkdir(parents=True, exist_ok=True)
    bar, canvas = window.photo.bar, window.canvas
    bar.label_slider.setValue(0)
    settle(app)
    imageio.write_png(args.out / "photo_edit_before.png", qimage_to_rgb(window.grab().toImage()))

    for label, size, (y0, y1, dy), (x0, x1) in STROKES:
        canvas.set_current_class(label)  # what a click on the palette swatch does
        window.class_palette.set_current_class(label)
        canvas.set_brush_size(size)
        for y in range(y0, y1 + 1, dy):
            drag(canvas, [canvas.document_to_widget(x + 0.5, y + 0.5) for x in range(x0, x1 + 1, 4)])
    wait(app, lambda: edit_shown() and window.preview.last_shown.edit is not None, "the edit did not render")
    bar.label_slider.setValue(60)
    settle(app)
    imageio.write_png(args.out / "photo_edit_labels.png", qimage_to_rgb(window.grab().toImage()))
    assert window.last_output is not None
    imageio.write_png(args.out / "photo_edit_after.png", window.last_output)
    edit = window.preview.last_shown.edit
    print(f"relabelled {int(edit.mask.sum())} px, repainted {int(edit.region.sum())} px "
          f"({edit.region.mean():.1%}), {edit.latency_s * 1000:.0f} ms, {edit.renderer}")

    # Remove object: undo the strokes, then one click on the parked SUV.
    photo = window.session.photo
    assert photo is not None
    for _ in STROKES:
        window.actions_.undo.trigger()  # Edit ▸ Undo, once per painted stroke group
    while photo.changed_mask(window.session.document.ids).any() and window.actions_.undo.isEnabled():
        window.actions_.undo.trigger()
    print(f"after undo: {int(photo.changed_mask(window.session.document.ids).sum())} px differ from the photo's labels")
    window.tool_bar.tool_actions["remove"].trigger()
    for x, y in REMOVE_CLICKS:
        drag(canvas, [canvas.document_to_widget(x + 0.5, y + 0.5)])
    wait(app, lambda: edit_shown() and window.preview.last_shown.edit is not None, "the removal did not render")
    settle(app)
    imageio.write_png(args.out / "photo_remove_labels.png", qimage_to_rgb(window.grab().toImage()))
    imageio.write_png(args.out / "photo_remove_after.png", window.last_output)
    edit = window.preview.last_shown.edit
    print(f"removed: relabelled {int(edit.mask.sum())} px, {edit.latency_s * 1000:.0f} ms, {edit.renderer}")
    window.session.document.mark_saved()
    window.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
