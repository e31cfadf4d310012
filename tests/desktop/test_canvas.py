"""CanvasView with real Qt mouse/key/wheel events (offscreen).

The view is set to zoom 4 with the document's top-left at the widget origin, so widget point
(px, py) is document point (px / 4, py / 4); expected pixels are computed independently here.
"""

from __future__ import annotations

from itertools import pairwise
import math

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication

from core.labels import ID_TO_COLOR
from desktop.canvas import TOOL_NAMES, TOOL_SHORTCUTS, LabelDocument
from desktop.canvas.view import CanvasView

ZOOM = 4.0
SHAPE = (40, 60)
ROAD, CAR, SKY, BUILDING = 7, 26, 23, 11


def ref_capsule(shape, a, b, r):
    h, w = shape
    out = np.zeros(shape, dtype=bool)
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    seg2 = dx * dx + dy * dy
    for j in range(h):
        for i in range(w):
            cx, cy = i + 0.5, j + 0.5
            t = 0.0 if seg2 == 0 else max(0.0, min(1.0, ((cx - ax) * dx + (cy - ay) * dy) / seg2))
            out[j, i] = (cx - ax - t * dx) ** 2 + (cy - ay - t * dy) ** 2 <= r * r + 1e-9
    return out


@pytest.fixture
def canvas(qtbot):
    doc = LabelDocument(shape=SHAPE)
    view = CanvasView(doc)
    qtbot.addWidget(view)
    view.resize(320, 240)
    view.show()
    qtbot.waitExposed(view)
    view.set_view_transform(ZOOM, 0.0, 0.0)
    return view


def record(view: CanvasView) -> list[str]:
    events: list[str] = []
    view.stroke_started.connect(lambda: events.append("started"))
    view.document_changed.connect(lambda: events.append("changed"))
    view.stroke_finished.connect(lambda: events.append("finished"))
    return events


def w(x: float, y: float) -> tuple[float, float]:
    """Document point -> widget point for the fixture's transform."""
    return (x * ZOOM, y * ZOOM)


def test_brush_drag_changes_exactly_the_expected_pixels_and_undo_redo_restore(canvas, mouse_for) -> None:
    doc = canvas.document
    canvas.set_current_class(CAR)
    canvas.set_brush_size(5)
    events = record(canvas)
    path = [(6.3, 7.8), (20.1, 12.6), (41.9, 30.2), (50.0, 31.0)]
    mouse_for(canvas).drag([w(*p) for p in path])

    centres = [(math.floor(x) + 0.5, math.floor(y) + 0.5) for x, y in path]  # odd size: pixel centres
    expected = np.zeros(SHAPE, dtype=bool)
    for a, b in pairwise(centres):
        expected |= ref_capsule(SHAPE, a, b, 2.5)
    np.testing.assert_array_equal(doc.ids == CAR, expected)
    assert set(np.unique(doc.ids)) == {0, CAR}
    assert events[0] == "started" and events[-1] == "finished"
    assert events.count("started") == events.count("finished") == 1
    assert 1 <= events.count("changed") <= len(path)

    painted = doc.ids.copy()
    assert doc.undo_depth == 1  # one stroke, one undo step
    assert canvas.undo()
    assert not doc.ids.any()
    assert canvas.redo()
    np.testing.assert_array_equal(doc.ids, painted)


def test_painted_pixels_show_in_the_class_colour(canvas, mouse_for) -> None:
    canvas.set_current_class(SKY)
    canvas.set_brush_size(3)
    mouse_for(canvas).click(w(10.5, 10.5))
    QApplication.processEvents()
    image = canvas.grab().toImage()
    assert image.pixelColor(QPoint(42, 42)) == QColor(*ID_TO_COLOR[SKY])
    assert image.pixelColor(QPoint(42, 60)) == QColor(*ID_TO_COLOR[0])
    canvas.undo()
    QApplication.processEvents()
    assert canvas.grab().toImage().pixelColor(QPoint(42, 42)) == QColor(*ID_TO_COLOR[0])


def test_fill_fills_only_the_contiguous_region(canvas, mouse_for) -> None:
    ids = np.full(SHAPE, ROAD, np.uint8)
    ids[:, 30] = BUILDING
    canvas.document.replace_all(ids)
    canvas.set_view_transform(ZOOM, 0.0, 0.0)
    canvas.set_tool("fill")
    canvas.set_current_class(CAR)
    events = record(canvas)
    mouse_for(canvas).click(w(5.5, 5.5))
    expected = ids.copy()
    expected[:, :30] = CAR
    np.testing.assert_array_equal(canvas.document.ids, expected)
    assert events == ["started", "changed", "finished"]


def test_remove_object_gives_a_clicked_car_the_labels_beside_it_in_one_undo_step(canvas, mouse_for) -> None:
    ids = np.full(SHAPE, SKY, np.uint8)
    ids[10:25] = BUILDING
    ids[25:] = ROAD
    ids[18:32, 20:34] = CAR  # a car on the road, its roof in front of the building
    canvas.document.replace_all(ids)
    canvas.set_view_transform(ZOOM, 0.0, 0.0)
    canvas.set_tool("remove")
    canvas.set_current_class(SKY)  # the current class plays no part
    events = record(canvas)
    messages: list[str] = []
    canvas.message.connect(messages.append)
    mouse_for(canvas).click(w(25.5, 28.5))
    assert messages == ["Removed car (196 px): now road 50%, building 50%"]
    expected = ids.copy()
    expected[18:25, 20:34] = BUILDING  # what stands beside its roof
    expected[25:32, 20:34] = ROAD  # and beside its wheels
    np.testing.assert_array_equal(canvas.document.ids, expected)
    assert events[0] == "started" and events[-1] == "finished"
    assert canvas.document.undo_depth == 1
    canvas.document.undo()
    np.testing.assert_array_equal(canvas.document.ids, ids)
    # the road is no object: too large, declined with a message, nothing changes
    mouse_for(canvas).click(w(5.5, 35.5))
    np.testing.assert_array_equal(canvas.document.ids, ids)
    assert "too large for an object" in messages[-1] and canvas.document.undo_depth == 0


def test_eraser_paints_unlabeled(canvas, mouse_for) -> None:
    canvas.document.replace_all(np.full(SHAPE, ROAD, np.uint8))
    canvas.set_view_transform(ZOOM, 0.0, 0.0)
    canvas.set_tool("eraser")
    canvas.set_brush_size(4)
    mouse_for(canvas).drag([w(10.2, 20.2), w(30.2, 20.2)])
    expected = ref_capsule(SHAPE, (10.0, 20.0), (30.0, 20.0), 2.0)
    np.testing.assert_array_equal(canvas.document.ids == 0, expected)


def test_line_and_rect_paint_on_release_with_rubber_band(canvas, mouse_for) -> None:
    doc = canvas.document
    canvas.set_current_class(CAR)
    canvas.set_tool("line")
    canvas.set_brush_size(3)
    mouse = mouse_for(canvas)
    mouse.press(w(2.5, 2.5))
    mouse.move(w(20.5, 10.5))
    assert not doc.ids.any() and canvas.is_gesture_active
    mouse.release(w(40.5, 30.5))
    np.testing.assert_array_equal(doc.ids == CAR, ref_capsule(SHAPE, (2.5, 2.5), (40.5, 30.5), 1.5))

    canvas.set_tool("rect")
    canvas.set_current_class(SKY)
    mouse.drag([w(50.5, 3.5), w(55.0, 20.0), w(57.5, 10.5)])
    expected = np.zeros(SHAPE, bool)
    expected[3:11, 50:58] = True
    np.testing.assert_array_equal(doc.ids == SKY, expected)
    assert doc.undo_depth == 2


def test_polygon_by_clicks_closes_on_double_click_or_enter_and_esc_cancels(canvas, mouse_for, qtbot) -> None:
    doc = canvas.document
    canvas.set_tool("polygon")
    canvas.set_current_class(CAR)
    mouse = mouse_for(canvas)
    for p in [(5.5, 5.5), (25.5, 5.5), (25.5, 25.5)]:
        mouse.click(w(*p))
    mouse.move(w(5.5, 25.5))
    mouse.press(w(5.5, 25.5))
    mouse.release(w(5.5, 25.5))
    mouse.double_click(w(5.5, 25.5))
    mouse.release(w(5.5, 25.5))
    expected = np.zeros(SHAPE, bool)
    expected[5:26, 5:26] = True  # axis-aligned square through pixel centres: interior + outline
    np.testing.assert_array_equal(doc.ids == CAR, expected)

    canvas.set_current_class(SKY)
    for p in [(40.5, 2.5), (55.5, 2.5), (55.5, 12.5)]:
        mouse.click(w(*p))
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert not canvas.is_gesture_active
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert not (doc.ids == SKY).any()
    for p in [(40.5, 2.5), (55.5, 2.5), (55.5, 12.5)]:
        mouse.click(w(*p))
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert doc.ids[3, 54] == SKY and doc.ids[12, 41] == 0
    assert doc.undo_depth == 2


def test_eyedropper_emits_class_picked(canvas, mouse_for, qtbot) -> None:
    ids = np.zeros(SHAPE, np.uint8)
    ids[10:20, 10:20] = SKY
    canvas.document.replace_all(ids)
    canvas.set_view_transform(ZOOM, 0.0, 0.0)
    canvas.set_tool("eyedropper")
    with qtbot.waitSignal(canvas.class_picked) as blocker:
        mouse_for(canvas).click(w(15.5, 15.5))
    assert blocker.args == [SKY]
    assert canvas.current_class == SKY and canvas.document.version == 1  # only the replace_all


def _wheel(view: CanvasView, pos: tuple[float, float], notches: float) -> None:
    p = QPointF(*pos)
    event = QWheelEvent(
        p, view.mapToGlobal(p), QPoint(0, 0), QPoint(0, int(120 * notches)),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(view, event)


def test_wheel_zooms_around_the_cursor_and_never_changes_the_document(canvas, mouse_for, qtbot) -> None:
    doc = canvas.document
    doc.replace_all(np.random.default_rng(0).integers(0, 34, SHAPE).astype(np.uint8))
    canvas.set_view_transform(2.0, 10.0, 10.0)
    before, version = doc.ids.copy(), doc.version
    anchor = (70.0, 50.0)
    under = canvas.widget_to_document(QPointF(*anchor))
    with qtbot.waitSignal(canvas.zoom_changed) as blocker:
        _wheel(canvas, anchor, 1)
    assert blocker.args[0] == pytest.approx(2.0 * 2**0.25)
    assert canvas.widget_to_document(QPointF(*anchor)) == pytest.approx(under)
    _wheel(canvas, anchor, -3)
    assert canvas.zoom == pytest.approx(2.0 * 2**-0.5)

    zoom = canvas.zoom
    ox, oy = canvas.offset
    mouse = mouse_for(canvas)
    mouse.drag([(60, 60), (80, 70), (90, 75)], button=Qt.MouseButton.MiddleButton)
    assert canvas.offset == pytest.approx((ox + 30, oy + 15)) and canvas.zoom == zoom

    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    mouse.drag([(90, 75), (70, 65)])  # space + left drag pans instead of painting
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.offset == pytest.approx((ox + 10, oy + 5))

    canvas.fit()
    assert canvas.zoom == pytest.approx(min(320 / 60, 240 / 40))
    canvas.actual_size()
    assert canvas.zoom == 1.0
    np.testing.assert_array_equal(doc.ids, before)
    assert doc.version == version and doc.undo_depth == 0


def test_fit_follows_resizes_until_the_user_zooms(canvas) -> None:
    canvas.fit()
    canvas.resize(600, 240)
    assert canvas.zoom == pytest.approx(6.0)
    canvas.set_zoom(2.0)
    canvas.resize(320, 240)
    assert canvas.zoom == 2.0


def test_bracket_keys_change_the_brush_size(canvas, qtbot) -> None:
    canvas.set_brush_size(16)
    sizes: list[int] = []
    canvas.brush_size_changed.connect(sizes.append)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    assert sizes == [20, 24, 20] and canvas.brush_size == 20
    canvas.set_brush_size(20)  # unchanged: no signal (a slider wired both ways cannot loop)
    canvas.set_brush_size(10_000)
    assert canvas.brush_size == 512 and sizes[-1] == 512


def test_cursor_moved_reports_pixel_and_class_and_minus_one_outside(canvas, mouse_for) -> None:
    ids = np.zeros(SHAPE, np.uint8)
    ids[3, 7] = CAR
    canvas.document.replace_all(ids)
    canvas.set_view_transform(ZOOM, 0.0, 0.0)
    seen: list[tuple[int, int, int]] = []
    canvas.cursor_moved.connect(lambda x, y, i: seen.append((x, y, i)))
    mouse = mouse_for(canvas)
    mouse.move(w(7.5, 3.5))
    mouse.move(w(70.0, 3.0))  # right of the 60-wide map, still inside the widget
    assert seen == [(7, 3, CAR), (-1, -1, -1)]


def test_set_tool_and_shortcut_table(canvas) -> None:
    names: list[str] = []
    canvas.tool_changed.connect(names.append)
    for name in TOOL_NAMES:
        canvas.set_tool(name)
    assert names == list(TOOL_NAMES[1:]) and canvas.tool == "remove"
    assert TOOL_SHORTCUTS == {"brush": "B", "eraser": "E", "fill": "F", "line": "L", "rect": "R",
                              "polygon": "P", "eyedropper": "I", "remove": "O"}  # fmt: skip
    with pytest.raises(ValueError):
        canvas.set_tool("spray")


def test_replacing_the_document_or_its_size_redraws(canvas, qtbot) -> None:
    changed: list[str] = []
    canvas.document_changed.connect(lambda: changed.append("x"))
    canvas.document.replace_all(np.full((10, 20), SKY, np.uint8))
    assert changed == ["x"]
    canvas.fit()
    QApplication.processEvents()
    centre = canvas.document_to_widget(10.5, 5.5).toPoint()  # a pixel centre, never a grid line
    assert canvas.grab().toImage().pixelColor(centre) == QColor(*ID_TO_COLOR[SKY])
    other = LabelDocument(np.full((8, 8), CAR, np.uint8))
    canvas.set_document(other)
    QApplication.processEvents()
    assert canvas.document is other
    centre = canvas.document_to_widget(4.5, 4.5).toPoint()
    assert canvas.grab().toImage().pixelColor(centre) == QColor(*ID_TO_COLOR[CAR])


def _bright_near(image, x: float, y: float) -> bool:
    """A white-ish outline pixel within 1 px of (x, y)."""
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            c = image.pixelColor(QPoint(round(x) + dx, round(y) + dy))
            if min(c.red(), c.green(), c.blue()) > 150:
                return True
    return False


@pytest.mark.parametrize("zoom", [2.0, 5.0])
def test_brush_outline_follows_the_cursor_and_scales_with_zoom(canvas, mouse_for, zoom: float) -> None:
    canvas.set_view_transform(zoom, 0.0, 0.0)
    canvas.set_brush_size(9)
    mouse_for(canvas).move((20.5 * zoom, 15.5 * zoom))  # centre of pixel (20, 15)
    QApplication.processEvents()
    image = canvas.grab().toImage()
    cx, cy = 20.5 * zoom, 15.5 * zoom
    outer = 9 * zoom / 2 + 1.0  # white ring just outside the brush edge
    assert _bright_near(image, cx + outer, cy) and _bright_near(image, cx, cy - outer)
    assert not _bright_near(image, cx + outer / 2, cy)  # inside the ring: the (black) map
    assert not canvas.document.ids.any()


def test_after_zoom_and_pan_a_click_paints_the_pixel_under_the_cursor(canvas, mouse_for) -> None:
    canvas.set_brush_size(1)
    canvas.set_current_class(CAR)
    _wheel(canvas, (100.0, 80.0), 2.5)
    mouse = mouse_for(canvas)
    mouse.drag([(150, 150), (130, 120)], button=Qt.MouseButton.MiddleButton)
    target = (173.0, 91.0)
    x, y = canvas.widget_to_document(QPointF(*target))
    # Independent of the view's own mapping: zoom and offset are the whole transform.
    ox, oy = canvas.offset
    assert (x, y) == pytest.approx(((173.0 - ox) / canvas.zoom, (91.0 - oy) / canvas.zoom))
    mouse.click(target)
    expected = np.zeros(SHAPE, bool)
    expected[math.floor(y), math.floor(x)] = True
    np.testing.assert_array_equal(canvas.document.ids == CAR, expected)


def test_ctrl_click_picks_the_class_with_any_tool_without_painting(canvas, qtbot) -> None:
    ids = np.zeros(SHAPE, np.uint8)
    ids[5:10, 5:10] = BUILDING
    canvas.document.replace_all(ids)
    canvas.set_view_transform(ZOOM, 0.0, 0.0)
    canvas.set_tool("brush")
    with qtbot.waitSignal(canvas.class_picked) as blocker:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, QPoint(30, 30))
    assert blocker.args == [BUILDING] and canvas.current_class == BUILDING
    np.testing.assert_array_equal(canvas.document.ids, ids)
    assert canvas.document.undo_depth == 0


def test_polygon_backspace_and_click_on_first_vertex(canvas, mouse_for, qtbot) -> None:
    canvas.set_tool("polygon")
    canvas.set_current_class(CAR)
    mouse = mouse_for(canvas)
    for p in [(5.5, 5.5), (25.5, 5.5), (40.5, 35.5), (25.5, 25.5)]:
        mouse.click(w(*p))
    qtbot.keyClick(canvas, Qt.Key.Key_Backspace)
    qtbot.keyClick(canvas, Qt.Key.Key_Backspace)
    mouse.click(w(25.5, 25.5))
    mouse.click((5.5 * ZOOM + 4, 5.5 * ZOOM - 3))  # 5 screen px from the first vertex
    assert not canvas.is_gesture_active
    expected = np.zeros(SHAPE, bool)
    for j in range(SHAPE[0]):
        for i in range(SHAPE[1]):
            # Right triangle (5,5)-(25,5)-(25,25) on pixel centres: interior plus outline.
            expected[j, i] = 5 <= j <= 25 and j <= i <= 25
    np.testing.assert_array_equal(canvas.document.ids == CAR, expected)


def test_panning_between_polygon_clicks_keeps_the_vertices_in_document_space(canvas, mouse_for, qtbot) -> None:
    canvas.set_tool("polygon")
    canvas.set_current_class(CAR)
    mouse = mouse_for(canvas)
    mouse.click(w(5.5, 5.5))
    mouse.click(w(25.5, 5.5))
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    mouse.drag([(100, 100), (60, 80)])  # pan by (-40, -20) widget px = (-10, -5) document px
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.is_gesture_active and not canvas.document.ids.any()
    ox, oy = canvas.offset
    assert (ox, oy) == pytest.approx((-40.0, -20.0))
    mouse.click((25.5 * ZOOM + ox, 25.5 * ZOOM + oy))
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    ids = canvas.document.ids
    assert ids[5, 5] == CAR and ids[25, 25] == CAR and ids[5, 25] == CAR and ids[20, 8] == 0


def test_a_document_outliving_its_view_keeps_working(qtbot) -> None:
    doc = LabelDocument(shape=(8, 8))
    view = CanvasView(doc)
    view.show()
    view.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(view))
    doc.fill_rect((0, 0, 4, 4), CAR)  # no call into the deleted widget
    doc.undo()
    assert not doc.ids.any()
