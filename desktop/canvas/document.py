"""The label document: a uint8 H×W array of Cityscapes label ids plus undo history.

No Qt here (a test imports this module in a fresh interpreter and checks that no PySide6 module
loads): painting lives in the model, the Qt canvas only translates events and paints, so every
tool and every undo rule is testable without a display.

Rectangles are ``(y0, x0, y1, x1)`` in document pixels, half-open (``ids[y0:y1, x0:x1]``).

Undo model
----------
Changes are grouped into *steps*. ``begin_stroke()`` … ``end_stroke()`` makes everything painted in
between one step; a change made outside a stroke is its own step. A step stores only the bounding
box of the pixels that actually changed, as ONE patch (``H'×W'`` uint8) holding the values that are
*not* currently in the document: undo and redo swap that patch with the document region, so a step
costs ``H'·W'`` bytes, not two copies and never the whole image.

History is bounded by ``max_history_bytes`` (and ``max_steps``); the oldest steps are dropped first.

``replace_all(ids)`` (New / Open) by default *clears* the history and marks the document clean,
like opening a file in any editor. ``replace_all(ids, undoable=True)`` (e.g. "Clear canvas") records
one whole-image step instead; it requires the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Rect = tuple[int, int, int, int]  # (y0, x0, y1, x1), half-open
Listener = Callable[[Rect], None]

DEFAULT_SHAPE = (256, 512)
DEFAULT_MAX_HISTORY_BYTES = 128 * 1024 * 1024
DEFAULT_MAX_STEPS = 1000
# While a stroke grows, the "before" buffer is over-allocated by at least this many pixels on each
# side so that a long stroke does not re-copy its buffer on every mouse move (the stored step is
# cropped to the changed pixels at end_stroke, so the slack never reaches the history).
_STROKE_SLACK = 64


@dataclass
class _Step:
    """One undo step: ``patch`` holds the pixels of ``rect`` that are not in the document now."""

    rect: Rect
    patch: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(self.patch.nbytes)


class LabelDocument:
    """A label map being edited. Mutate it only through its methods (or the tools), never by
    writing into ``ids`` directly: writes that bypass it are neither undoable nor notified."""

    def __init__(
        self,
        ids: np.ndarray | None = None,
        *,
        shape: tuple[int, int] = DEFAULT_SHAPE,
        max_history_bytes: int = DEFAULT_MAX_HISTORY_BYTES,
        max_steps: int = DEFAULT_MAX_STEPS,
    ) -> None:
        if ids is None:
            ids = np.zeros(shape, dtype=np.uint8)
        self._ids = _checked_ids(ids).copy()
        self.max_history_bytes = int(max_history_bytes)
        self.max_steps = int(max_steps)
        self._undo: list[_Step] = []
        self._redo: list[_Step] = []
        self._history_bytes = 0
        # Clean state = number of undo steps at the last save; None when that state can no longer
        # be reached (history dropped or a new branch replaced it).
        self._clean_depth: int | None = 0
        self._listeners: list[Listener] = []
        self._version = 0
        # Stroke bookkeeping: the allocated before-buffer region and its contents.
        self._stroke_open = False
        self._stroke_rect: Rect | None = None
        self._stroke_before: np.ndarray | None = None

    # ---------------------------------------------------------------- reading
    @property
    def ids(self) -> np.ndarray:
        """The label ids (uint8 H×W). Read-only view: write through the document's methods."""
        view = self._ids.view()
        view.flags.writeable = False
        return view

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self._ids.shape[0]), int(self._ids.shape[1]))

    @property
    def height(self) -> int:
        return int(self._ids.shape[0])

    @property
    def width(self) -> int:
        return int(self._ids.shape[1])

    @property
    def version(self) -> int:
        """Increments on every change notification (paint, undo, redo, replace_all)."""
        return self._version

    def id_at(self, x: int, y: int) -> int | None:
        """Label id of pixel column ``x``, row ``y``; None outside the document."""
        if 0 <= y < self.height and 0 <= x < self.width:
            return int(self._ids[y, x])
        return None

    def contains(self, x: int, y: int) -> bool:
        return 0 <= y < self.height and 0 <= x < self.width

    # ---------------------------------------------------------------- listeners
    def add_listener(self, fn: Listener) -> None:
        """``fn(rect)`` is called after every change with the changed region (y0, x0, y1, x1)."""
        if fn not in self._listeners:
            self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _notify(self, rect: Rect) -> None:
        self._version += 1
        for fn in list(self._listeners):
            fn(rect)

    # ---------------------------------------------------------------- modified flag
    @property
    def modified(self) -> bool:
        """True when the ids differ (by history) from the last ``mark_saved``/``replace_all``."""
        in_changed_stroke = self._stroke_open and self._stroke_rect is not None
        return in_changed_stroke or self._clean_depth != len(self._undo)

    def mark_saved(self) -> None:
        """Call after saving: the current state becomes the clean state."""
        self.end_stroke()
        self._clean_depth = len(self._undo)

    def mark_unsaved(self) -> None:
        """The current state was never saved (e.g. labels made from a photo): `modified` stays
        True until the next ``mark_saved``, whatever is undone or redone."""
        self._clean_depth = None

    # ---------------------------------------------------------------- strokes
    @property
    def in_stroke(self) -> bool:
        return self._stroke_open

    def begin_stroke(self) -> None:
        """Start grouping changes into one undo step (a nested begin is ignored)."""
        if self._stroke_open:
            return
        self._stroke_open = True
        self._stroke_rect = None
        self._stroke_before = None

    def end_stroke(self) -> bool:
        """Close the current stroke; returns True when it recorded an undo step (pixels changed)."""
        if not self._stroke_open:
            return False
        self._stroke_open = False
        rect, before = self._stroke_rect, self._stroke_before
        self._stroke_rect = None
        self._stroke_before = None
        if rect is None or before is None:
            return False
        y0, x0, y1, x1 = rect
        changed = before != self._ids[y0:y1, x0:x1]
        rows = np.flatnonzero(changed.any(axis=1))
        if rows.size == 0:
            return False  # painted the same ids over themselves
        cols = np.flatnonzero(changed.any(axis=0))
        r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        patch = before[r0:r1, c0:c1].copy()  # copy: drop the slack buffer, keep only the box
        self._push(_Step((y0 + r0, x0 + c0, y0 + r1, x0 + c1), patch))
        return True

    def _touch(self, rect: Rect) -> None:
        """Make sure the stroke's before-buffer covers ``rect`` (called before writing there)."""
        if self._stroke_rect is not None and _contains(self._stroke_rect, rect):
            return
        union = rect if self._stroke_rect is None else _union(self._stroke_rect, rect)
        y0, x0, y1, x1 = union
        # Grow geometrically (slack proportional to the current size) so a stroke sweeping the
        # whole map re-copies its buffer O(log n) times, not once per mouse move.
        sy = max(_STROKE_SLACK, (y1 - y0) // 2)
        sx = max(_STROKE_SLACK, (x1 - x0) // 2)
        grown = (max(0, y0 - sy), max(0, x0 - sx), min(self.height, y1 + sy), min(self.width, x1 + sx))
        gy0, gx0, gy1, gx1 = grown
        # Outside the old buffer nothing has been written in this stroke yet, so the document
        # still holds the before-values there; inside it the old buffer has them.
        before = self._ids[gy0:gy1, gx0:gx1].copy()
        if self._stroke_rect is not None and self._stroke_before is not None:
            oy0, ox0, oy1, ox1 = self._stroke_rect
            before[oy0 - gy0 : oy1 - gy0, ox0 - gx0 : ox1 - gx0] = self._stroke_before
        self._stroke_rect = grown
        self._stroke_before = before

    # ---------------------------------------------------------------- painting
    def paint_mask(self, y0: int, x0: int, mask: np.ndarray, label_id: int) -> Rect | None:
        """Set ``label_id`` wherever ``mask`` (bool h×w, placed with its top-left at row ``y0``,
        column ``x0``) is True; parts outside the document are clipped. Returns the changed
        region's rect (the clipped mask box) or None when no pixel changed (then nothing is
        recorded or notified)."""
        label = _checked_label(label_id)
        h, w = mask.shape
        cy0, cx0 = max(0, y0), max(0, x0)
        cy1, cx1 = min(self.height, y0 + h), min(self.width, x0 + w)
        if cy0 >= cy1 or cx0 >= cx1:
            return None
        sub = mask[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
        region = self._ids[cy0:cy1, cx0:cx1]
        hit = sub & (region != label)
        if not hit.any():
            return None
        rect = (cy0, cx0, cy1, cx1)
        implicit = not self._stroke_open
        if implicit:
            self.begin_stroke()
        self._touch(rect)
        region[hit] = label
        if implicit:
            self.end_stroke()
        self._notify(rect)
        return rect

    def fill_rect(self, rect: Rect, label_id: int) -> Rect | None:
        """Set every pixel of ``rect`` (clipped) to ``label_id``."""
        y0, x0, y1, x1 = rect
        if y1 <= y0 or x1 <= x0:
            return None
        return self.paint_mask(y0, x0, np.ones((y1 - y0, x1 - x0), dtype=bool), label_id)

    def replace_all(self, ids: np.ndarray, *, undoable: bool = False) -> None:
        """Replace the whole map (New, Open). Default: history cleared, document clean.
        ``undoable=True`` records one undo step instead (same shape required)."""
        new = _checked_ids(ids)
        self.end_stroke()
        if undoable:
            if new.shape != self._ids.shape:
                raise ValueError(f"undoable replace needs shape {self.shape}, got {new.shape}")
            self.begin_stroke()
            self._touch((0, 0, self.height, self.width))
            self._ids[...] = new
            self.end_stroke()
        else:
            self._ids = new.copy()
            self.clear_history()
            self._clean_depth = 0
        self._notify((0, 0, self.height, self.width))

    # ---------------------------------------------------------------- history
    @property
    def can_undo(self) -> bool:
        return bool(self._undo) or (self._stroke_open and self._stroke_rect is not None)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo) and not self._stroke_open

    @property
    def undo_depth(self) -> int:
        return len(self._undo)

    @property
    def redo_depth(self) -> int:
        return len(self._redo)

    @property
    def history_bytes(self) -> int:
        """Bytes held by undo + redo patches (only changed bounding boxes are stored)."""
        return self._history_bytes

    def clear_history(self) -> None:
        """Forget every undo/redo step (the ids stay as they are)."""
        self.end_stroke()
        at_clean = self._clean_depth == len(self._undo)
        self._undo.clear()
        self._redo.clear()
        self._history_bytes = 0
        # The clean state stays reachable only if we are standing on it.
        self._clean_depth = 0 if at_clean else None

    def undo(self) -> bool:
        """Undo the last step (an open stroke is closed first, so it is what gets undone)."""
        self.end_stroke()
        if not self._undo:
            return False
        step = self._undo.pop()
        self._swap(step)
        self._redo.append(step)
        self._notify(step.rect)
        return True

    def redo(self) -> bool:
        self.end_stroke()
        if not self._redo:
            return False
        step = self._redo.pop()
        self._swap(step)
        self._undo.append(step)
        self._notify(step.rect)
        return True

    def _swap(self, step: _Step) -> None:
        y0, x0, y1, x1 = step.rect
        current = self._ids[y0:y1, x0:x1].copy()
        self._ids[y0:y1, x0:x1] = step.patch
        step.patch = current

    def _push(self, step: _Step) -> None:
        for old in self._redo:
            self._history_bytes -= old.nbytes
        self._redo.clear()
        if self._clean_depth is not None and self._clean_depth > len(self._undo):
            self._clean_depth = None  # the saved state was on the discarded redo branch
        self._undo.append(step)
        self._history_bytes += step.nbytes
        while self._undo and (
            self._history_bytes > self.max_history_bytes or len(self._undo) > self.max_steps
        ):
            if len(self._undo) == 1 and len(self._undo) <= self.max_steps:
                break  # always keep the newest step, even when it alone exceeds the budget
            dropped = self._undo.pop(0)
            self._history_bytes -= dropped.nbytes
            if self._clean_depth is not None:
                self._clean_depth -= 1
                if self._clean_depth < 0:
                    self._clean_depth = None


def _checked_ids(ids: np.ndarray) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"label map must be a non-empty H×W array, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ValueError("label ids must lie in 0..255")
        arr = arr.astype(np.uint8)
    return np.ascontiguousarray(arr)


def _checked_label(label_id: int) -> int:
    label = int(label_id)
    if not 0 <= label <= 255:
        raise ValueError(f"label id {label_id} outside 0..255")
    return label


def _contains(outer: Rect, inner: Rect) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _union(a: Rect, b: Rect) -> Rect:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
