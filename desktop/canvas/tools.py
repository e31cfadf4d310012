"""Painting tools as plain objects over a LabelDocument (no Qt).

The Qt canvas converts mouse/keyboard events into calls on the active tool; the tool computes
pixel-exact masks (desktop.canvas.geometry) and writes them into the document inside a stroke,
so one user gesture is one undo step. Everything here runs in tests without a display.

Every tool has the same interface, all coordinates in document pixels (x = column, y = row,
floats; pixel (i, j) covers [i, i+1) × [j, j+1), centre (i+0.5, j+0.5)):

    press(x, y, modifiers)     left button down
    move(x, y, modifiers)      every pointer move, button held or not (shape tools rubber-band)
    release(x, y, modifiers)   left button up
    double_click(x, y, mods)   (polygon: close)
    finish()                   Enter (polygon: close)
    remove_last_vertex()       Backspace (polygon)
    cancel()                   Esc / tool switch: drop the pending shape, close an open stroke
    preview() -> ShapePreview | None   what the canvas should draw as rubber band
    active                     True while a gesture is in progress
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from core.edit.remove import fill_from_surroundings
from core.labels import class_by_id
from desktop.canvas.document import LabelDocument
from desktop.canvas.geometry import (
    Mask,
    Point,
    capsule_mask,
    constrain_angle,
    constrain_square,
    flood_fill_mask,
    pixel_center,
    polygon_mask,
    rect_mask,
    snap_brush_center,
)

UNLABELED_ID = 0  # core.labels.UNLABELED.id; kept literal so this module never imports torch
DEFAULT_LABEL_ID = 7  # road
DEFAULT_BRUSH_SIZE = 16
MIN_BRUSH_SIZE = 1
MAX_BRUSH_SIZE = 512
#: What `[` and `]` step through: fine steps for small brushes, ~15–25 % steps for large ones.
BRUSH_SIZE_STEPS: tuple[int, ...] = (
    1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64,
    80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512,
)  # fmt: skip

TOOL_NAMES: tuple[str, ...] = ("brush", "eraser", "fill", "line", "rect", "polygon", "eyedropper", "remove")
#: Single-key shortcuts; the main window wires them through QActions.
TOOL_SHORTCUTS: dict[str, str] = {
    "brush": "B",
    "eraser": "E",
    "fill": "F",
    "line": "L",
    "rect": "R",
    "polygon": "P",
    "eyedropper": "I",
    "remove": "O",
}
TOOL_LABELS: dict[str, str] = {
    "brush": "Brush",
    "eraser": "Eraser",
    "fill": "Fill",
    "line": "Line",
    "rect": "Rectangle",
    "polygon": "Polygon",
    "eyedropper": "Eyedropper",
    "remove": "Remove object",
}


class Modifiers(enum.IntFlag):
    """Keyboard modifiers, independent of Qt."""

    NONE = 0
    SHIFT = 1  # line: snap to 45°; rectangle: square
    CTRL = 2
    ALT = 4


def clamp_brush_size(size: int) -> int:
    return max(MIN_BRUSH_SIZE, min(MAX_BRUSH_SIZE, int(size)))


def next_brush_size(size: int, direction: int) -> int:
    """The next size up (direction > 0, `]`) or down (direction < 0, `[`) in BRUSH_SIZE_STEPS."""
    size = clamp_brush_size(size)
    if direction > 0:
        bigger = [s for s in BRUSH_SIZE_STEPS if s > size]
        return bigger[0] if bigger else MAX_BRUSH_SIZE
    smaller = [s for s in BRUSH_SIZE_STEPS if s < size]
    return smaller[-1] if smaller else MIN_BRUSH_SIZE


@dataclass
class PaintContext:
    """State shared by the tools and owned by the canvas: target document, class, brush size."""

    document: LabelDocument
    label_id: int = DEFAULT_LABEL_ID
    brush_size: int = DEFAULT_BRUSH_SIZE
    #: Called by the eyedropper with the picked id.
    on_picked: Callable[[int], None] | None = None
    #: Called with a line for the status bar: what a tool did, or why it declined a click.
    on_message: Callable[[str], None] | None = None
    #: How close (document px) a click must be to a handle, e.g. the polygon's first vertex to
    #: close it. The canvas sets it to a few screen pixels at the current zoom.
    handle_radius: float = 3.0


@dataclass(frozen=True)
class ShapePreview:
    """Rubber band for the canvas to draw, in document coordinates.

    kind "line": points = [start, end], ``width`` = brush diameter;
    kind "rect": points = [corner, corner] (pixel-inclusive, like the fill);
    kind "polygon": points = the vertices so far plus the hover point last.
    """

    kind: str
    points: tuple[Point, ...]
    width: float = 1.0
    label_id: int = DEFAULT_LABEL_ID


@dataclass
class Tool:
    """Base tool: ignores everything. Subclasses override the events they use."""

    ctx: PaintContext
    name: ClassVar[str] = ""
    #: The canvas draws a brush-size circle around the cursor for these tools.
    shows_brush_outline: ClassVar[bool] = False

    @property
    def document(self) -> LabelDocument:
        return self.ctx.document

    @property
    def active(self) -> bool:
        return False

    def press(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None: ...

    def move(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None: ...

    def release(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None: ...

    def double_click(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None:
        self.press(x, y, modifiers)

    def finish(self) -> None: ...

    def cancel(self) -> None: ...

    def remove_last_vertex(self) -> None:
        """Backspace (polygon only)."""

    def preview(self) -> ShapePreview | None:
        return None

    def _apply(self, mask: Mask | None, label_id: int) -> None:
        """Write one mask as one undo step (or into the stroke already open)."""
        if mask is None:
            return
        y0, x0, m = mask
        self.document.paint_mask(y0, x0, m, label_id)


@dataclass
class BrushTool(Tool):
    """Round brush: a disc on press, then the swept disc (capsule) between successive positions.

    Shift+press continues from where the previous stroke ended with a straight segment (as in
    most paint programs), in the same undo step as the rest of the new stroke.
    """

    name: ClassVar[str] = "brush"
    shows_brush_outline: ClassVar[bool] = True
    _last: Point | None = field(default=None, init=False)
    _previous_end: Point | None = field(default=None, init=False)  # raw cursor position

    @property
    def active(self) -> bool:
        return self._last is not None

    def _label(self) -> int:
        return self.ctx.label_id

    def press(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None:
        self.cancel()
        self.document.begin_stroke()
        here = snap_brush_center(x, y, self.ctx.brush_size)
        start = here
        if modifiers & Modifiers.SHIFT and self._previous_end is not None:
            start = snap_brush_center(*self._previous_end, self.ctx.brush_size)
        self._stamp(start, here)
        self._last = here
        self._previous_end = (x, y)

    def move(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None:
        if self._last is None:
            return
        here = snap_brush_center(x, y, self.ctx.brush_size)
        if here == self._last:
            return
        self._stamp(self._last, here)
        self._last = here
        self._previous_end = (x, y)

    def release(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None:
        if self._last is None:
            return
        self.move(x, y, modifiers)
        self._last = None
        self.document.end_stroke()

    def cancel(self) -> None:
        # What was painted stays (it is already one undo step); only the gesture ends.
        if self._last is not None:
            self._last = None
            self.document.end_stroke()

    def _stamp(self, a: Point, b: Point) -> None:
        radius = self.ctx.brush_size / 2.0
        self._apply(capsule_mask(a, b, radius, self.document.shape), self._label())


@dataclass
class EraserTool(BrushTool):
    """The brush, painting "unlabeled" (id 0)."""

    name: ClassVar[str] = "eraser"

    def _label(self) -> int:
        return UNLABELED_ID


@dataclass
class FillTool(Tool):
    """Flood fill of the 4-connected region with the clicked pixel's id."""

    name: ClassVar[str] = "fill"

    def press(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None:
        mask = flood_fill_mask(self.document.ids, int(x // 1), int(y // 1))
        self._apply(mask, self.ctx.label_id)


@dataclass
class RemoveObjectTool(Tool):
    """Click an object (the 4-connected region of the clicked pixel's id): it takes the labels
    around it, row by row (core.edit.remove), as one undo step. With a photo open, the edit
    renderer then shows the photo without it."""

    name: ClassVar[str] = "remove"
    #: Regions larger than this share of the map are not objects (a click on the road would
    #: otherwise repaint the whole road from its edges): declined with a message.
    max_share: ClassVar[float] = 0.15

    def press(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None:
        mask = flood_fill_mask(self.document.ids, int(x // 1), int(y // 1))
        if mask is None:
            return
        y0, x0, m = mask
        share = float(m.sum()) / (self.document.height * self.document.width)
        if share > self.max_share:
            if self.ctx.on_message is not None:
                self.ctx.on_message(f"Remove object: that region covers {share:.0%} of the map — too large "
                                    f"for an object (at most {self.max_share:.0%}); paint over it instead")
            return
        ids = self.document.ids
        region = np.zeros(ids.shape, bool)
        region[y0:y0 + m.shape[0], x0:x0 + m.shape[1]] = m
        new = fill_from_surroundings(ids, region)[y0:y0 + m.shape[0], x0:x0 + m.shape[1]]
        removed = class_by_id(int(ids[y0:y0 + m.shape[0], x0:x0 + m.shape[1]][m][0])).name
        self.document.begin_stroke()
        labels, counts = np.unique(new[m], return_counts=True)
        for label in labels.tolist():
            self._apply((y0, x0, m & (new == label)), int(label))
        self.document.end_stroke()
        if self.ctx.on_message is not None:
            order = np.argsort(-counts, kind="stable")
            now = ", ".join(f"{class_by_id(int(labels[i])).name} {counts[i] / m.sum():.0%}" for i in order[:4])
            self.ctx.on_message(f"Removed {removed} ({int(m.sum()):,} px): now {now}")


@dataclass
class EyedropperTool(Tool):
    """Picks the id under the cursor and reports it through ``ctx.on_picked``."""

    name: ClassVar[str] = "eyedropper"
    picked: int | None = field(default=None, init=False)

    def press(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None:
        label = self.document.id_at(int(x // 1), int(y // 1))
        if label is None:
            return
        self.picked = label
        self.ctx.label_id = label
        if self.ctx.on_picked is not None:
            self.ctx.on_picked(label)


@dataclass
class _DragShapeTool(Tool):
    """Press sets the anchor, moves rubber-band, release paints."""

    _start: Point | None = field(default=None, init=False)
    _end: Point | None = field(default=None, init=False)

    @property
    def active(self) -> bool:
        return self._start is not None

    def press(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None:
        self._start = self._snap(x, y)
        self._end = self._start

    def move(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None:
        if self._start is not None:
            self._end = self._constrain(self._start, self._snap(x, y), modifiers)

    def release(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None:
        if self._start is None:
            return
        self.move(x, y, modifiers)
        start, end = self._start, self._end or self._start
        self._start = self._end = None
        self._apply(self._mask(start, end), self.ctx.label_id)

    def cancel(self) -> None:
        self._start = self._end = None

    def _snap(self, x: float, y: float) -> Point:
        return pixel_center(x, y)

    def _constrain(self, start: Point, end: Point, modifiers: Modifiers) -> Point:
        return end

    def _mask(self, start: Point, end: Point) -> Mask | None:
        raise NotImplementedError


@dataclass
class LineTool(_DragShapeTool):
    """A straight stroke of the brush's width (Shift: 0°/45°/90°)."""

    name: ClassVar[str] = "line"
    shows_brush_outline: ClassVar[bool] = True

    def _snap(self, x: float, y: float) -> Point:
        return snap_brush_center(x, y, self.ctx.brush_size)

    def _constrain(self, start: Point, end: Point, modifiers: Modifiers) -> Point:
        return constrain_angle(start, end) if modifiers & Modifiers.SHIFT else end

    def _mask(self, start: Point, end: Point) -> Mask | None:
        return capsule_mask(start, end, self.ctx.brush_size / 2.0, self.document.shape)

    def preview(self) -> ShapePreview | None:
        if self._start is None:
            return None
        end = self._end or self._start
        return ShapePreview("line", (self._start, end), float(self.ctx.brush_size), self.ctx.label_id)


@dataclass
class RectTool(_DragShapeTool):
    """Filled rectangle from the pressed pixel to the released pixel, both included (Shift: square)."""

    name: ClassVar[str] = "rect"

    def _constrain(self, start: Point, end: Point, modifiers: Modifiers) -> Point:
        return constrain_square(start, end) if modifiers & Modifiers.SHIFT else end

    def _mask(self, start: Point, end: Point) -> Mask | None:
        return rect_mask(start, end, self.document.shape)

    def preview(self) -> ShapePreview | None:
        if self._start is None:
            return None
        return ShapePreview("rect", (self._start, self._end or self._start), 1.0, self.ctx.label_id)


@dataclass
class PolygonTool(Tool):
    """Click vertices (snapped to pixel centres); double-click, Enter or a click on the first
    vertex fills; Backspace removes the last vertex; Esc cancels.

    The fill is the even-odd interior plus the outline (pixel centres within 0.5 px of an edge),
    so every clicked pixel is painted.
    """

    name: ClassVar[str] = "polygon"
    vertices: list[Point] = field(default_factory=list, init=False)
    _hover: Point | None = field(default=None, init=False)

    @property
    def active(self) -> bool:
        return bool(self.vertices)

    def press(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None:
        p = pixel_center(x, y)
        if len(self.vertices) >= 3 and self._near_first(x, y):
            self.finish()  # clicking the first vertex closes the polygon
            return
        if not self.vertices or self.vertices[-1] != p:
            self.vertices.append(p)
        self._hover = p

    def _near_first(self, x: float, y: float) -> bool:
        fx, fy = self.vertices[0]
        reach = max(0.5, self.ctx.handle_radius)
        return (x - fx) ** 2 + (y - fy) ** 2 <= reach * reach

    def remove_last_vertex(self) -> None:
        """Backspace: take back the last click (the polygon stays open)."""
        if self.vertices:
            self.vertices.pop()
        if not self.vertices:
            self._hover = None

    def move(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None:
        if self.vertices:
            self._hover = pixel_center(x, y)

    def double_click(self, x: float, y: float, modifiers: Modifiers = Modifiers.NONE) -> None:
        # Qt delivers press, release, double-click for the second click: the vertex is added by
        # the first press; add it here too in case the double click landed on a new pixel.
        self.press(x, y, modifiers)
        self.finish()

    def finish(self) -> None:
        points = list(self.vertices)
        self.cancel()
        if len(points) >= 3:
            self._apply(polygon_mask(points, self.document.shape), self.ctx.label_id)

    def cancel(self) -> None:
        self.vertices = []
        self._hover = None

    def preview(self) -> ShapePreview | None:
        if not self.vertices:
            return None
        pts = list(self.vertices)
        if self._hover is not None and self._hover != pts[-1]:
            pts.append(self._hover)
        return ShapePreview("polygon", tuple(pts), 1.0, self.ctx.label_id)


TOOL_CLASSES: dict[str, type[Tool]] = {
    cls.name: cls
    for cls in (BrushTool, EraserTool, FillTool, LineTool, RectTool, PolygonTool, EyedropperTool, RemoveObjectTool)
}


def make_tool(name: str, ctx: PaintContext) -> Tool:
    """A new tool by name (one of TOOL_NAMES); ValueError for anything else."""
    try:
        cls = TOOL_CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown tool {name!r}; expected one of {', '.join(TOOL_NAMES)}") from None
    return cls(ctx)
