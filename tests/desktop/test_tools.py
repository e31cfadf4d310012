"""Painting tools over the Qt-free document: exact pixels against independent brute-force
references (written with plain Python loops, not the vectorised code under test)."""

from __future__ import annotations

from itertools import pairwise
import math
from collections import deque

import numpy as np
import pytest

from desktop.canvas.document import LabelDocument
from desktop.canvas.tools import (
    BRUSH_SIZE_STEPS,
    MAX_BRUSH_SIZE,
    MIN_BRUSH_SIZE,
    Modifiers,
    PaintContext,
    PolygonTool,
    make_tool,
    next_brush_size,
)

ROAD, CAR, SKY, PERSON, BUILDING = 7, 26, 23, 24, 11


def ref_capsule(shape: tuple[int, int], a: tuple[float, float], b: tuple[float, float], r: float) -> np.ndarray:
    """Pixels whose centre is within r of segment a-b (per-pixel loop)."""
    h, w = shape
    out = np.zeros(shape, dtype=bool)
    (ax, ay), (bx, by) = a, b
    for j in range(h):
        for i in range(w):
            cx, cy = i + 0.5, j + 0.5
            dx, dy = bx - ax, by - ay
            seg2 = dx * dx + dy * dy
            t = 0.0 if seg2 == 0 else max(0.0, min(1.0, ((cx - ax) * dx + (cy - ay) * dy) / seg2))
            px, py = ax + t * dx, ay + t * dy
            out[j, i] = (cx - px) ** 2 + (cy - py) ** 2 <= r * r + 1e-9
    return out


def ref_inside_even_odd(shape: tuple[int, int], pts: list[tuple[float, float]]) -> np.ndarray:
    h, w = shape
    out = np.zeros(shape, dtype=bool)
    n = len(pts)
    for j in range(h):
        for i in range(w):
            cx, cy = i + 0.5, j + 0.5
            inside = False
            for k in range(n):
                (x1, y1), (x2, y2) = pts[k], pts[(k + 1) % n]
                if (y1 <= cy < y2) or (y2 <= cy < y1):
                    xc = x1 + (cy - y1) * (x2 - x1) / (y2 - y1)
                    if xc <= cx:
                        inside = not inside
            out[j, i] = inside
    return out


def ref_flood(ids: np.ndarray, x: int, y: int) -> np.ndarray:
    h, w = ids.shape
    seen = np.zeros(ids.shape, dtype=bool)
    seen[y, x] = True
    queue = deque([(y, x)])
    while queue:
        r, c = queue.popleft()
        for rr, cc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if 0 <= rr < h and 0 <= cc < w and not seen[rr, cc] and ids[rr, cc] == ids[y, x]:
                seen[rr, cc] = True
                queue.append((rr, cc))
    return seen


def setup(shape=(30, 40), label=CAR, size=5, ids=None):
    doc = LabelDocument(ids, shape=shape)
    ctx = PaintContext(doc, label_id=label, brush_size=size)
    return doc, ctx


def test_brush_sizes_are_crisp_symmetric_discs() -> None:
    for size, pos, expected_rows in [
        (1, (3.7, 2.2), {2: [3]}),
        (2, (3.7, 2.2), {1: [3, 4], 2: [3, 4]}),  # even sizes centre on the nearest corner (4, 2)
        (3, (5.5, 5.5), {4: [4, 5, 6], 5: [4, 5, 6], 6: [4, 5, 6]}),
        (5, (5.2, 5.9), {3: [4, 5, 6], 4: [3, 4, 5, 6, 7], 5: [3, 4, 5, 6, 7], 6: [3, 4, 5, 6, 7], 7: [4, 5, 6]}),
    ]:
        doc, ctx = setup((12, 12), size=size)
        tool = make_tool("brush", ctx)
        tool.press(*pos)
        tool.release(*pos)
        expected = np.zeros((12, 12), np.uint8)
        for row, cols in expected_rows.items():
            expected[row, cols] = CAR
        np.testing.assert_array_equal(doc.ids, expected, err_msg=f"size {size}")


def test_brush_stroke_paints_exactly_the_swept_disc_and_is_one_undo_step() -> None:
    shape = (30, 40)
    doc, ctx = setup(shape, size=6)
    tool = make_tool("brush", ctx)
    path = [(5.2, 6.1), (20.7, 9.4), (33.0, 25.8), (34.4, 26.1)]
    tool.press(*path[0])
    for p in path[1:]:
        tool.move(*p)
    tool.release(*path[-1])
    # Even size 6: centres snap to the nearest pixel corner.
    centres = [(math.floor(x + 0.5), math.floor(y + 0.5)) for x, y in path]
    expected = np.zeros(shape, dtype=bool)
    for a, b in pairwise(centres):
        expected |= ref_capsule(shape, a, b, 3.0)
    np.testing.assert_array_equal(doc.ids == CAR, expected)
    assert set(np.unique(doc.ids)) == {0, CAR}  # no mixed or intermediate ids anywhere
    assert doc.undo_depth == 1
    doc.undo()
    assert not doc.ids.any()


def test_fast_move_leaves_no_gap() -> None:
    doc, ctx = setup((10, 100), size=1)
    tool = make_tool("brush", ctx)
    tool.press(0.5, 4.5)
    tool.move(99.5, 4.5)
    tool.release(99.5, 4.5)
    assert (doc.ids[4] == CAR).all() and doc.ids.sum() == 100 * CAR


def test_eraser_paints_unlabeled_and_stroke_off_the_edge_is_clipped() -> None:
    doc, ctx = setup((20, 20), ids=np.full((20, 20), ROAD, np.uint8), size=4)
    tool = make_tool("eraser", ctx)
    tool.press(-3.0, 10.0)
    tool.move(5.0, 10.0)
    tool.release(5.0, 10.0)
    expected = ref_capsule((20, 20), (-3.0, 10.0), (5.0, 10.0), 2.0)
    np.testing.assert_array_equal(doc.ids == 0, expected)
    assert (doc.ids[~expected] == ROAD).all()


def test_fill_fills_only_the_contiguous_region() -> None:
    ids = np.full((10, 12), ROAD, np.uint8)
    ids[:, 5] = BUILDING  # wall splits the road in two
    ids[3, 1] = SKY  # an island inside the left part stays
    doc, ctx = setup(ids=ids, label=CAR)
    make_tool("fill", ctx).press(1.5, 8.5)
    expected = ids.copy()
    expected[:, :5][ids[:, :5] == ROAD] = CAR
    np.testing.assert_array_equal(doc.ids, expected)
    # Diagonal contact is not 4-connected.
    diag = np.zeros((3, 3), np.uint8)
    diag[0, 0] = diag[1, 1] = ROAD
    doc, ctx = setup(ids=diag, label=CAR)
    make_tool("fill", ctx).press(0.2, 0.2)
    assert doc.ids[0, 0] == CAR and doc.ids[1, 1] == ROAD


@pytest.mark.parametrize("seed", range(6))
def test_fill_matches_a_reference_flood_fill_on_random_maps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.array([ROAD, BUILDING, SKY], np.uint8), size=(25, 33), p=[0.55, 0.3, 0.15])
    x, y = int(rng.integers(0, 33)), int(rng.integers(0, 25))
    doc, ctx = setup(ids=ids, label=PERSON)
    make_tool("fill", ctx).press(x + 0.5, y + 0.5)
    np.testing.assert_array_equal(doc.ids == PERSON, ref_flood(ids, x, y))


def test_fill_outside_or_same_class_changes_nothing() -> None:
    doc, ctx = setup((5, 5), label=0)
    make_tool("fill", ctx).press(2.0, 2.0)
    make_tool("fill", ctx).press(-1.0, 2.0)
    assert doc.undo_depth == 0 and doc.version == 0


def test_line_is_a_thick_capsule_between_the_snapped_ends() -> None:
    doc, ctx = setup((30, 40), size=3)
    tool = make_tool("line", ctx)
    tool.press(2.2, 3.9)
    tool.move(15.0, 15.0)
    assert not doc.ids.any()  # nothing is painted until release: it is a rubber band
    preview = tool.preview()
    assert preview is not None and preview.kind == "line"
    tool.release(30.4, 20.6)
    expected = ref_capsule((30, 40), (2.5, 3.5), (30.5, 20.5), 1.5)
    np.testing.assert_array_equal(doc.ids == CAR, expected)
    assert doc.undo_depth == 1 and tool.preview() is None


def test_line_with_shift_snaps_to_45_degrees() -> None:
    doc, ctx = setup((30, 30), size=1)
    tool = make_tool("line", ctx)
    tool.press(2.5, 2.5)
    tool.release(20.5, 19.5, Modifiers.SHIFT)  # almost diagonal -> exactly diagonal
    ys, xs = np.nonzero(doc.ids)
    assert (ys - xs == 0).all() and len(xs) == 19


def test_rect_includes_both_corner_pixels_and_shift_makes_a_square() -> None:
    doc, ctx = setup((20, 20))
    tool = make_tool("rect", ctx)
    tool.press(12.9, 3.1)
    tool.move(2.0, 2.0)
    tool.release(4.2, 8.7)
    expected = np.zeros((20, 20), bool)
    expected[3:9, 4:13] = True
    np.testing.assert_array_equal(doc.ids == CAR, expected)
    doc2, ctx2 = setup((20, 20))
    tool2 = make_tool("rect", ctx2)
    tool2.press(1.5, 1.5)
    tool2.release(10.5, 4.5, Modifiers.SHIFT)
    expected2 = np.zeros((20, 20), bool)
    expected2[1:11, 1:11] = True
    np.testing.assert_array_equal(doc2.ids == CAR, expected2)


@pytest.mark.parametrize(
    "clicks",
    [
        [(3.2, 2.7), (25.9, 6.1), (12.4, 22.8)],  # triangle
        [(2.5, 2.5), (30.5, 2.5), (30.5, 20.5), (16.5, 8.5), (2.5, 20.5)],  # concave
        [(16.5, 1.5), (22.5, 22.5), (2.5, 8.5), (30.5, 8.5), (9.5, 22.5)],  # star: even-odd hole
    ],
)
def test_polygon_fills_interior_plus_outline(clicks: list[tuple[float, float]]) -> None:
    shape = (25, 35)
    doc, ctx = setup(shape)
    tool = make_tool("polygon", ctx)
    for x, y in clicks:
        tool.press(x, y)
        tool.release(x, y)
        tool.move(x + 3, y + 3)
    assert not doc.ids.any() and tool.active
    tool.finish()
    verts = [(math.floor(x) + 0.5, math.floor(y) + 0.5) for x, y in clicks]
    expected = ref_inside_even_odd(shape, verts)
    for a, b in zip(verts, verts[1:] + verts[:1], strict=True):
        expected |= ref_capsule(shape, a, b, 0.5)
    np.testing.assert_array_equal(doc.ids == CAR, expected)
    for x, y in clicks:
        assert doc.ids[int(y), int(x)] == CAR  # every clicked pixel is painted
    assert doc.undo_depth == 1 and not tool.active


def test_polygon_star_has_an_even_odd_hole() -> None:
    doc, ctx = setup((25, 35))
    tool = make_tool("polygon", ctx)
    for p in [(16.5, 1.5), (22.5, 22.5), (2.5, 8.5), (30.5, 8.5), (9.5, 22.5)]:
        tool.press(*p)
    tool.double_click(9.5, 22.5)
    assert doc.ids[12, 16] == 0 and doc.ids[5, 16] == CAR


def test_polygon_cancel_and_too_few_points_paint_nothing() -> None:
    doc, ctx = setup((10, 10))
    tool = make_tool("polygon", ctx)
    for p in [(1, 1), (8, 1), (8, 8)]:
        tool.press(*p)
    tool.cancel()
    tool.finish()
    tool.press(1, 1)
    tool.press(5, 5)
    tool.finish()
    assert not doc.ids.any() and doc.undo_depth == 0


def test_eyedropper_picks_the_id_and_makes_it_current() -> None:
    ids = np.zeros((4, 4), np.uint8)
    ids[2, 3] = SKY
    doc, ctx = setup(ids=ids, label=ROAD)
    picked: list[int] = []
    ctx.on_picked = picked.append
    tool = make_tool("eyedropper", ctx)
    tool.press(3.9, 2.1)
    tool.press(10.0, 10.0)  # off the map: nothing
    assert picked == [SKY] and ctx.label_id == SKY and doc.version == 0


def test_brush_size_steps() -> None:
    assert next_brush_size(16, +1) == 20 and next_brush_size(16, -1) == 14
    assert next_brush_size(17, +1) == 20 and next_brush_size(17, -1) == 16
    assert next_brush_size(MIN_BRUSH_SIZE, -1) == MIN_BRUSH_SIZE
    assert next_brush_size(MAX_BRUSH_SIZE, +1) == MAX_BRUSH_SIZE
    assert list(BRUSH_SIZE_STEPS) == sorted(set(BRUSH_SIZE_STEPS))


def test_unknown_tool_is_a_named_error() -> None:
    _, ctx = setup()
    with pytest.raises(ValueError, match="unknown tool"):
        make_tool("spray", ctx)


@pytest.mark.parametrize("seed", range(8))
def test_polygon_interior_matches_reference_on_random_polygons(seed: int) -> None:
    # Vertices on pixel centres put many vertices exactly on scanlines: the half-open rule must
    # count each once; random orders make self-intersecting polygons.
    from desktop.canvas.geometry import polygon_interior_mask

    rng = np.random.default_rng(seed)
    shape = (20, 26)
    pts = [(int(rng.integers(-3, 29)) + 0.5, int(rng.integers(-3, 23)) + 0.5) for _ in range(int(rng.integers(3, 9)))]
    got = np.zeros(shape, bool)
    result = polygon_interior_mask(pts, shape)
    if result is not None:
        y0, x0, m = result
        got[y0 : y0 + m.shape[0], x0 : x0 + m.shape[1]] = m
    np.testing.assert_array_equal(got, ref_inside_even_odd(shape, pts))


def test_shift_press_draws_a_straight_segment_from_the_previous_stroke_end() -> None:
    doc, ctx = setup((20, 40), size=1)
    tool = make_tool("brush", ctx)
    tool.press(2.5, 10.5)
    tool.release(2.5, 10.5)
    tool.press(30.5, 10.5, Modifiers.SHIFT)
    tool.release(30.5, 10.5, Modifiers.SHIFT)
    expected = np.zeros((20, 40), bool)
    expected[10, 2:31] = True
    np.testing.assert_array_equal(doc.ids == CAR, expected)
    assert doc.undo_depth == 2
    doc.undo()
    assert (doc.ids == CAR).sum() == 1  # the shift segment was its own stroke


def test_polygon_closes_on_a_click_at_the_first_vertex_and_backspace_removes_vertices() -> None:
    doc, ctx = setup((20, 20))
    ctx.handle_radius = 1.5
    tool = make_tool("polygon", ctx)
    assert isinstance(tool, PolygonTool)
    for p in [(2.5, 2.5), (15.5, 2.5), (9.0, 9.0), (15.5, 15.5)]:
        tool.press(*p)
    tool.remove_last_vertex()
    tool.remove_last_vertex()
    assert tool.vertices == [(2.5, 2.5), (15.5, 2.5)]
    tool.press(15.5, 15.5)
    tool.press(3.4, 3.1)  # within 1.5 px of the first vertex: closes instead of adding a vertex
    assert not tool.active
    expected = ref_inside_even_odd((20, 20), [(2.5, 2.5), (15.5, 2.5), (15.5, 15.5)])
    for a, b in [((2.5, 2.5), (15.5, 2.5)), ((15.5, 2.5), (15.5, 15.5)), ((15.5, 15.5), (2.5, 2.5))]:
        expected |= ref_capsule((20, 20), a, b, 0.5)
    np.testing.assert_array_equal(doc.ids == CAR, expected)


def _capsule_by_distance(p0, p1, r, shape) -> np.ndarray:
    """Per-pixel distance-to-segment test over the whole map (numpy, the definition itself)."""
    h, w = shape
    (ax, ay), (bx, by) = p0, p1
    cy = (np.arange(h) + 0.5)[:, None]
    cx = (np.arange(w) + 0.5)[None, :]
    dx, dy = bx - ax, by - ay
    seg2 = dx * dx + dy * dy
    px, py = cx - ax, cy - ay
    t = np.zeros_like(px * py) if seg2 == 0 else np.clip((px * dx + py * dy) / seg2, 0.0, 1.0)
    return (px - t * dx) ** 2 + (py - t * dy) ** 2 <= r * r + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_row_interval_capsule_matches_the_distance_definition(seed: int) -> None:
    from desktop.canvas.geometry import capsule_mask

    rng = np.random.default_rng(seed)
    shape = (30, 40)
    for k in range(150):
        if k % 3 == 0:  # anywhere, including off the map
            a, b = tuple(rng.uniform(-8, 48, 2)), tuple(rng.uniform(-8, 48, 2))
        elif k % 3 == 1:  # pixel centres (odd brushes, polygon outlines): many exact ties
            a, b = tuple(rng.integers(-4, 44, 2) + 0.5), tuple(rng.integers(-4, 44, 2) + 0.5)
        else:  # short moves between pixel corners (even brushes), incl. horizontal/vertical/zero
            a = tuple(rng.integers(-4, 44, 2).astype(float))
            b = (a[0] + int(rng.integers(-3, 4)), a[1] + int(rng.integers(-3, 4)))
        r = float(rng.choice([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.5, 8.0, 20.0]))
        got = np.zeros(shape, bool)
        result = capsule_mask(a, b, r, shape)
        if result is not None:
            y0, x0, m = result
            got[y0 : y0 + m.shape[0], x0 : x0 + m.shape[1]] = m
        np.testing.assert_array_equal(got, _capsule_by_distance(a, b, r, shape), err_msg=f"{a} {b} r={r}")
