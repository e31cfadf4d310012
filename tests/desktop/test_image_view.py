"""The swipe divider both image views share (desktop/image_view.py), driven with real mouse
events on each: the preview beside the canvas (labels | generated image) and the compare view
(A | B). A left-button drag moves the divider (reported by swipe_moved, clamped to the image),
the divider is painted where the drag left it with each side's image on its side of it, and
neither another button nor another mode moves it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor

from desktop.compare.view import CompareView
from desktop.image_view import SwipeImageView
from desktop.preview.views import ComparisonView
from desktop.qimage import ids_to_qimage

ROAD = 7  # Cityscapes id of "road"
OUTPUT = (0, 200, 0)
A, B = (220, 30, 30), (30, 30, 220)


def _preview() -> tuple[SwipeImageView, QColor, QColor, QRectF]:
    view = ComparisonView()
    view.resize(400, 200)
    view.set_output(np.full((64, 128, 3), OUTPUT, dtype=np.uint8))
    labels = np.full((64, 128), ROAD, dtype=np.uint8)
    view.set_labels(labels)
    view.set_mode("swipe")
    # labels left of the divider, the generated image right of it
    return view, ids_to_qimage(labels).pixelColor(0, 0), QColor(*OUTPUT), view.image_rect()


def _compare() -> tuple[SwipeImageView, QColor, QColor, QRectF]:
    view = CompareView()
    view.resize(400, 200)
    view.set_image("A", np.full((64, 128, 3), A, dtype=np.uint8), "model a")
    view.set_image("B", np.full((64, 128, 3), B, dtype=np.uint8), "model b")
    view.set_mode("swipe")
    return view, QColor(*A), QColor(*B), view.image_rect()


VIEWS: dict[str, Callable[[], tuple[SwipeImageView, QColor, QColor, QRectF]]] = {
    "preview": _preview, "compare": _compare}


def _close(actual: QColor, expected: QColor) -> bool:
    pairs = ((actual.red(), expected.red()), (actual.green(), expected.green()), (actual.blue(), expected.blue()))
    return all(abs(a - e) <= 3 for a, e in pairs)


@pytest.mark.parametrize("kind", VIEWS)
def test_dragging_the_divider_moves_it_and_it_is_painted_there(kind, qtbot, mouse_for):
    view, left_colour, right_colour, target = VIEWS[kind]()
    qtbot.addWidget(view)
    assert target.width() > 100
    moved: list[float] = []
    view.swipe_moved.connect(moved.append)
    mouse = mouse_for(view)
    y = target.top() + target.height() * 0.75  # below the divider's handle, clear of captions
    at = target.left() + target.width() * 0.3
    mouse.press((at, y))
    mouse.move((target.left() + target.width() * 0.5, y))
    mouse.move((target.left() + target.width() * 0.6, y))
    mouse.release((target.left() + target.width() * 0.6, y))
    assert view.swipe_position() == pytest.approx(0.6, abs=0.01)
    assert [round(m, 2) for m in moved] == [0.3, 0.5, 0.6]

    mouse.move((target.left() + target.width() * 0.9, y))  # button up: no drag any more
    assert view.swipe_position() == pytest.approx(0.6, abs=0.01)

    shot = view.grab().toImage()
    x = view.divider_x(target)
    assert _close(shot.pixelColor(int(x - 20), int(y)), left_colour)
    assert _close(shot.pixelColor(int(x + 20), int(y)), right_colour)
    line = [shot.pixelColor(int(x) + dx, int(y)) for dx in (-1, 0, 1)]
    assert any(_close(c, QColor(255, 255, 255)) for c in line), f"no divider at x={x:.1f}"


@pytest.mark.parametrize("kind", VIEWS)
def test_the_divider_stays_on_the_image(kind, qtbot, mouse_for):
    view, _left, _right, target = VIEWS[kind]()
    qtbot.addWidget(view)
    mouse = mouse_for(view)
    y = target.center().y()
    mouse.press((target.left() + target.width() / 2, y))
    mouse.move((view.width() + 50, y))
    assert view.swipe_position() == 1.0
    mouse.move((-50, y))
    mouse.release((-50, y))
    assert view.swipe_position() == 0.0


@pytest.mark.parametrize("kind", VIEWS)
def test_only_a_left_drag_in_swipe_mode_moves_the_divider(kind, qtbot, mouse_for):
    view, _left, _right, target = VIEWS[kind]()
    qtbot.addWidget(view)
    mouse = mouse_for(view)
    y = target.center().y()
    mouse.drag([(target.left() + target.width() * 0.2, y), (target.left() + target.width() * 0.1, y)],
               button=Qt.MouseButton.RightButton)
    assert view.swipe_position() == 0.5
    view.set_mode("side")
    assert view.cursor().shape() == Qt.CursorShape.ArrowCursor
    mouse.drag([(target.left() + target.width() * 0.2, y), (target.left() + target.width() * 0.1, y)])
    assert view.swipe_position() == 0.5
    view.set_mode("swipe")
    assert view.cursor().shape() == Qt.CursorShape.SplitHCursor
