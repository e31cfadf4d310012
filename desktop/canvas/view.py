"""CanvasView: the Qt widget that shows a LabelDocument and feeds mouse/keys to the tools.

The widget owns no painting logic (that is desktop.canvas.tools over the Qt-free document); it
keeps a colour image of the document in sync, maps widget <-> document coordinates, zooms and
pans, and draws the brush outline and shape rubber bands.

Speed: the colour image is a QImage over a numpy uint32 buffer; a change recolours only the dirty
rect through a 256-entry lookup table and schedules a repaint of only that part of the widget, so a
mouse move costs the same on a 1024×2048 map as on a 256×512 one.

Transform: widget point = offset + zoom · document point (document point in pixels, x = column).

Tracing layer: `set_photo(rgb)` puts a photo of the document's size under the labels (File ▸ Open
photo…). While it is shown, the photo is drawn with its own opacity and the labels over it with
theirs; hidden or absent, the labels are drawn opaque as always. The photo is not part of the
document: strokes, undo and redo never touch it.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QFocusEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

from core.labels import ID_TO_COLOR
from desktop.canvas.document import LabelDocument, Rect
from desktop.canvas.geometry import snap_brush_center
from desktop.canvas.overlay import paint_brush_outline, paint_pixel_grid, paint_shape_preview
from desktop.qimage import rgb_to_qimage
from desktop.canvas.tools import (
    DEFAULT_LABEL_ID,
    TOOL_NAMES,
    Modifiers,
    PaintContext,
    Tool,
    clamp_brush_size,
    make_tool,
    next_brush_size,
)

MIN_ZOOM = 1.0 / 32.0
MAX_ZOOM = 64.0
#: From this zoom on, faint lines separate the document pixels.
PIXEL_GRID_MIN_ZOOM = 12.0
#: One wheel notch (120 units) zooms by this factor; trackpads send fractions of a notch.
WHEEL_ZOOM_PER_NOTCH = 2.0**0.25
#: At least this many widget pixels of the document stay visible when panning.
_KEEP_VISIBLE_PX = 32.0
_BACKGROUND = QColor(48, 48, 52)
#: Screen distance within which a click hits a handle (the polygon's first vertex closes it).
_HANDLE_PX = 6.0

# uint32 0xFFRRGGBB for every label id: QImage.Format_RGB32 reads this directly, no conversion.
_ID_TO_RGB32 = (
    np.uint32(0xFF000000)
    | (ID_TO_COLOR[:, 0].astype(np.uint32) << 16)
    | (ID_TO_COLOR[:, 1].astype(np.uint32) << 8)
    | ID_TO_COLOR[:, 2].astype(np.uint32)
)


def _weak_listener(view: CanvasView) -> Callable[[Rect], None]:
    """A document listener that does not keep the view alive and ignores a deleted widget
    (a document can outlive the window that showed it, e.g. across New/Open or in tests)."""
    ref = weakref.ref(view)

    def listener(rect: Rect) -> None:
        target = ref()
        if target is not None and isValid(target):
            target._on_document_changed(rect)  # noqa: SLF001 - the view's own listener, held weakly

    return listener


def _qt_modifiers(mods: Qt.KeyboardModifier) -> Modifiers:
    out = Modifiers.NONE
    if mods & Qt.KeyboardModifier.ShiftModifier:
        out |= Modifiers.SHIFT
    if mods & Qt.KeyboardModifier.ControlModifier:
        out |= Modifiers.CTRL
    if mods & Qt.KeyboardModifier.AltModifier:
        out |= Modifiers.ALT
    return out


class CanvasView(QWidget):
    """Paintable view of a LabelDocument.

    Signals (all on the GUI thread):
      stroke_started()        a gesture began changing the document (brush press, a shape/fill
                              about to be applied); always followed by stroke_finished()
      document_changed()      pixels changed: once per mouse event that changed pixels during a
                              stroke, and once per undo/redo/replace_all made from outside
      stroke_finished()       the gesture's undo step is closed (request the final preview here)
      cursor_moved(x, y, id)  pixel under the cursor and its label id; (-1, -1, -1) off the map
      zoom_changed(zoom)      new zoom factor (1.0 = 100 %)
      class_picked(id)        the eyedropper (or Ctrl+click with any tool) picked a class; it is
                              already the current class here
      message(text)           what a tool did, or why it declined a click (for the status bar)
      tool_changed(name)      set_tool changed the tool
      brush_size_changed(px)  set_brush_size / `[` `]` changed the brush diameter
    """

    stroke_started = Signal()
    document_changed = Signal()
    stroke_finished = Signal()
    cursor_moved = Signal(int, int, int)
    zoom_changed = Signal(float)
    class_picked = Signal(int)
    message = Signal(str)
    tool_changed = Signal(str)
    brush_size_changed = Signal(int)

    def __init__(self, document: LabelDocument | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._doc = document if document is not None else LabelDocument()
        self._ctx = PaintContext(self._doc, on_picked=self._on_tool_picked, on_message=self.message.emit)
        self._tool: Tool = make_tool("brush", self._ctx)
        self._zoom = 1.0
        self._offset = QPointF(0.0, 0.0)
        self._fit_mode = True  # follow the widget size until the user zooms or pans
        self._dispatching = False
        self._space_held = False
        self._pan_anchor: QPointF | None = None
        self._pan_button: Qt.MouseButton | None = None
        self._hover: QPointF | None = None  # last cursor position (widget coords)
        self._outline_rect = QRect()
        self._preview_rect = QRect()
        self._argb = np.zeros((1, 1), dtype=np.uint32)
        self._image = QImage()
        self._photo = QImage()  # the tracing layer (null: none)
        self._photo_visible = True
        self._photo_opacity = 1.0
        self._label_opacity = 0.5
        self._rebuild_image()
        self._listener = _weak_listener(self)
        self._doc.add_listener(self._listener)

    # ------------------------------------------------------------------ public API
    @property
    def document(self) -> LabelDocument:
        return self._doc

    def set_document(self, document: LabelDocument) -> None:
        """Show and edit ``document`` (a pending gesture on the old one is cancelled); fits it."""
        if document is self._doc:
            return
        self.cancel_gesture()
        self._doc.remove_listener(self._listener)
        self._doc = document
        self._ctx.document = document
        self._tool = make_tool(self._tool.name, self._ctx)
        document.add_listener(self._listener)
        self._rebuild_image()
        self.fit()

    # ------------------------------------------------------------------ tracing layer
    def set_photo(self, rgb: np.ndarray | None) -> None:
        """The photo under the labels (uint8 H×W×3 of the document's size), or None for none."""
        if rgb is not None and tuple(rgb.shape[:2]) != self._doc.shape:
            raise ValueError(f"photo {rgb.shape[:2]} is not the document's size {self._doc.shape}")
        self._photo = QImage() if rgb is None else rgb_to_qimage(rgb)
        self.update()

    @property
    def has_photo(self) -> bool:
        return not self._photo.isNull()

    @property
    def photo_shown(self) -> bool:
        """A photo is set, visible, and fits the document."""
        return (self._photo_visible and not self._photo.isNull()
                and (self._photo.height(), self._photo.width()) == self._doc.shape)

    def set_photo_visible(self, visible: bool) -> None:
        self._photo_visible = bool(visible)
        self.update()

    @property
    def photo_visible(self) -> bool:
        return self._photo_visible

    def set_photo_opacity(self, opacity: float) -> None:
        """Opacity of the photo over the background, 0..1."""
        self._photo_opacity = min(1.0, max(0.0, float(opacity)))
        self.update()

    @property
    def photo_opacity(self) -> float:
        return self._photo_opacity

    def set_label_opacity(self, opacity: float) -> None:
        """Opacity of the label colours over the photo, 0..1 (used while the photo is shown)."""
        self._label_opacity = min(1.0, max(0.0, float(opacity)))
        self.update()

    @property
    def label_opacity(self) -> float:
        return self._label_opacity

    @property
    def tool(self) -> str:
        return self._tool.name

    def set_tool(self, name: str) -> None:
        """One of TOOL_NAMES; cancels a pending shape of the previous tool."""
        if name not in TOOL_NAMES:
            raise ValueError(f"unknown tool {name!r}; expected one of {', '.join(TOOL_NAMES)}")
        if name == self._tool.name:
            return
        self.cancel_gesture()
        self._tool = make_tool(name, self._ctx)
        self._update_overlay()
        self.tool_changed.emit(name)
        self.refresh_cursor()

    @property
    def current_class(self) -> int:
        return self._ctx.label_id

    def set_current_class(self, label_id: int) -> None:
        """The class the brush, line, shapes and fill paint with (emits nothing)."""
        if not 0 <= int(label_id) <= 255:
            raise ValueError(f"label id {label_id} outside 0..255")
        self._ctx.label_id = int(label_id)
        self._update_overlay()

    @property
    def brush_size(self) -> int:
        return self._ctx.brush_size

    def set_brush_size(self, size: int) -> None:
        size = clamp_brush_size(size)
        if size == self._ctx.brush_size:
            return
        self._ctx.brush_size = size
        self._update_overlay()
        self.brush_size_changed.emit(size)

    @property
    def zoom(self) -> float:
        return self._zoom

    @property
    def offset(self) -> tuple[float, float]:
        """Widget position of the document's top-left corner."""
        return (self._offset.x(), self._offset.y())

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the document point under ``anchor`` (widget coords; default: the centre)
        where it is."""
        self._fit_mode = False
        self._apply_zoom(zoom, anchor)

    def zoom_in(self) -> None:
        self.set_zoom(self._zoom * 2.0**0.5)

    def zoom_out(self) -> None:
        self.set_zoom(self._zoom / 2.0**0.5)

    def set_view_transform(self, zoom: float, offset_x: float, offset_y: float) -> None:
        """Set zoom and offset exactly (tests, restoring a view)."""
        self._fit_mode = False
        old = self._zoom
        self._zoom = min(MAX_ZOOM, max(MIN_ZOOM, float(zoom)))
        self._offset = QPointF(offset_x, offset_y)
        self._after_transform(old)

    def fit(self) -> None:
        """Scale the whole document into the widget, centred; stays fitted while resizing."""
        self._fit_mode = True
        w, h = max(1, self.width()), max(1, self.height())
        zoom = min(w / self._doc.width, h / self._doc.height)
        old = self._zoom
        self._zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        self._offset = QPointF(
            (w - self._doc.width * self._zoom) / 2.0, (h - self._doc.height * self._zoom) / 2.0
        )
        self._after_transform(old)

    def actual_size(self) -> None:
        """100 %: one document pixel per screen pixel, keeping the centre of the view fixed."""
        self.set_zoom(1.0)

    def widget_to_document(self, pos: QPointF) -> tuple[float, float]:
        return ((pos.x() - self._offset.x()) / self._zoom, (pos.y() - self._offset.y()) / self._zoom)

    def document_to_widget(self, x: float, y: float) -> QPointF:
        return QPointF(self._offset.x() + x * self._zoom, self._offset.y() + y * self._zoom)

    @property
    def is_gesture_active(self) -> bool:
        """A stroke is being painted or a shape is pending (e.g. polygon vertices placed)."""
        return self._tool.active

    def cancel_gesture(self) -> None:
        """Esc: drop a pending shape; a brush stroke in progress is closed as it is."""
        self._dispatch(self._tool.cancel)
        self._update_overlay()

    def undo(self) -> bool:
        """Undo (closing any gesture first so the stroke in progress is what gets undone)."""
        self.cancel_gesture()
        return self._doc.undo()

    def redo(self) -> bool:
        self.cancel_gesture()
        return self._doc.redo()

    def sizeHint(self) -> QSize:
        return QSize(800, 500)

    # ------------------------------------------------------------------ image cache
    def _rebuild_image(self) -> None:
        h, w = self._doc.shape
        self._argb = np.ascontiguousarray(_ID_TO_RGB32[self._doc.ids])
        # The QImage wraps the numpy buffer (no copy): recolouring a rect of _argb is all it takes.
        self._image = QImage(self._argb.data, w, h, w * 4, QImage.Format.Format_RGB32)
        self.update()

    def _on_document_changed(self, rect: Rect) -> None:
        if self._doc.shape != self._argb.shape:
            self._rebuild_image()
            if self._fit_mode:
                self.fit()
        else:
            y0, x0, y1, x1 = rect
            self._argb[y0:y1, x0:x1] = _ID_TO_RGB32[self._doc.ids[y0:y1, x0:x1]]
            self.update(self._document_rect_to_widget(rect))
        if not self._dispatching:
            self.document_changed.emit()
        self.refresh_cursor()  # undo, redo, fill...: the class under a still cursor changed too

    def _document_rect_to_widget(self, rect: Rect) -> QRect:
        y0, x0, y1, x1 = rect
        z, ox, oy = self._zoom, self._offset.x(), self._offset.y()
        left, top = math.floor(ox + x0 * z) - 1, math.floor(oy + y0 * z) - 1
        right, bottom = math.ceil(ox + x1 * z) + 1, math.ceil(oy + y1 * z) + 1
        return QRect(left, top, right - left, bottom - top)

    # ------------------------------------------------------------------ tool dispatch
    def _dispatch(self, call: Callable[..., None], *args: object) -> None:
        """Run a tool call and turn document effects into the stroke signals, in order."""
        doc = self._doc
        was_in_stroke, version = doc.in_stroke, doc.version
        self._dispatching = True
        try:
            call(*args)
        finally:
            self._dispatching = False
        changed = doc.version != version
        if not was_in_stroke and (doc.in_stroke or changed):
            self.stroke_started.emit()
        if changed:
            self.document_changed.emit()
        if (was_in_stroke or changed) and not doc.in_stroke:
            self.stroke_finished.emit()

    def _on_tool_picked(self, label_id: int) -> None:
        self.class_picked.emit(label_id)

    def _pick_class_at(self, x: float, y: float) -> None:
        label = self._doc.id_at(math.floor(x), math.floor(y))
        if label is not None:
            self._ctx.label_id = label
            self._update_overlay()
            self.class_picked.emit(label)

    # ------------------------------------------------------------------ zoom/pan internals
    def _apply_zoom(self, zoom: float, anchor: QPointF | None) -> None:
        if anchor is None:
            anchor = QPointF(self.width() / 2.0, self.height() / 2.0)
        old = self._zoom
        new = min(MAX_ZOOM, max(MIN_ZOOM, float(zoom)))
        dx, dy = self.widget_to_document(anchor)
        self._zoom = new
        self._offset = QPointF(anchor.x() - dx * new, anchor.y() - dy * new)
        self._after_transform(old)

    def _pan_by(self, dx: float, dy: float) -> None:
        self._fit_mode = False
        self._offset = QPointF(self._offset.x() + dx, self._offset.y() + dy)
        self._after_transform(self._zoom)

    def _after_transform(self, old_zoom: float) -> None:
        # Keep part of the document on screen so it can never be panned out of reach.
        w_doc, h_doc = self._doc.width * self._zoom, self._doc.height * self._zoom
        keep_x, keep_y = min(_KEEP_VISIBLE_PX, w_doc), min(_KEEP_VISIBLE_PX, h_doc)
        ox = min(max(self._offset.x(), keep_x - w_doc), self.width() - keep_x)
        oy = min(max(self._offset.y(), keep_y - h_doc), self.height() - keep_y)
        self._offset = QPointF(ox, oy)
        self._outline_rect = QRect()
        self._preview_rect = QRect()
        self._ctx.handle_radius = _HANDLE_PX / self._zoom
        self.update()
        if self._zoom != old_zoom:
            self.zoom_changed.emit(self._zoom)

    # ------------------------------------------------------------------ Qt events
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        area = event.rect()
        painter.fillRect(area, _BACKGROUND)
        z, ox, oy = self._zoom, self._offset.x(), self._offset.y()
        # Only the document pixels under the repainted area are scaled (nearest neighbour:
        # SmoothPixmapTransform stays off, so pixels stay crisp squares when zoomed in).
        x0 = max(0, math.floor((area.left() - ox) / z))
        y0 = max(0, math.floor((area.top() - oy) / z))
        x1 = min(self._doc.width, math.ceil((area.right() + 1 - ox) / z))
        y1 = min(self._doc.height, math.ceil((area.bottom() + 1 - oy) / z))
        if x0 < x1 and y0 < y1:
            target = QRectF(ox + x0 * z, oy + y0 * z, (x1 - x0) * z, (y1 - y0) * z)
            source = QRectF(x0, y0, x1 - x0, y1 - y0)
            if self.photo_shown:
                painter.setOpacity(self._photo_opacity)
                painter.drawImage(target, self._photo, source)
                painter.setOpacity(self._label_opacity)
            painter.drawImage(target, self._image, source)
            painter.setOpacity(1.0)
            if z >= PIXEL_GRID_MIN_ZOOM:
                paint_pixel_grid(painter, target, z, self._offset, (x0, y0, x1, y1))
        preview = self._tool.preview()
        if preview is not None:
            paint_shape_preview(painter, preview, self._zoom, self.document_to_widget)
        if self._hover is not None and self._tool.shows_brush_outline and self._pan_anchor is None:
            paint_brush_outline(painter, *self._brush_outline_geometry(self._hover))
        painter.end()

    def _brush_outline_geometry(self, hover: QPointF) -> tuple[QPointF, float]:
        x, y = self.widget_to_document(hover)
        cx, cy = snap_brush_center(x, y, self._ctx.brush_size)
        return self.document_to_widget(cx, cy), max(1.5, self._ctx.brush_size * self._zoom / 2.0)

    def _update_overlay(self) -> None:
        """Repaint only where the brush outline and the rubber band were and now are."""
        new_outline = QRect()
        if self._hover is not None and self._tool.shows_brush_outline:
            center, radius = self._brush_outline_geometry(self._hover)
            pad = radius + 3.0
            new_outline = QRectF(center.x() - pad, center.y() - pad, 2 * pad, 2 * pad).toAlignedRect()
        new_preview = QRect()
        preview = self._tool.preview()
        if preview is not None and preview.points:
            pts = [self.document_to_widget(x, y) for x, y in preview.points]
            pad = preview.width * self._zoom / 2.0 + self._zoom + 6.0
            xs, ys = [p.x() for p in pts], [p.y() for p in pts]
            new_preview = QRectF(
                min(xs) - pad, min(ys) - pad, max(xs) - min(xs) + 2 * pad, max(ys) - min(ys) + 2 * pad
            ).toAlignedRect()
        for r in (self._outline_rect, new_outline, self._preview_rect, new_preview):
            if not r.isNull():
                self.update(r)
        self._outline_rect, self._preview_rect = new_outline, new_preview

    def refresh_cursor(self) -> None:
        """Say again what is under the cursor (the status bar's position and class), for changes
        that do not move the mouse: undo / redo, a tool switch from the keyboard."""
        if self._hover is not None:
            self._emit_cursor(self._hover)

    def _emit_cursor(self, pos: QPointF | None) -> None:
        if pos is None:
            self.cursor_moved.emit(-1, -1, -1)
            return
        x, y = self.widget_to_document(pos)
        ix, iy = math.floor(x), math.floor(y)
        label = self._doc.id_at(ix, iy)
        if label is None:
            self.cursor_moved.emit(-1, -1, -1)
        else:
            self.cursor_moved.emit(ix, iy, label)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        pos = event.position()
        if self._pan_anchor is None and (
            button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space_held)
        ):
            # Panning works mid-gesture too (e.g. between polygon clicks); the gesture waits.
            self._pan_anchor = pos
            self._pan_button = button
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton and self._pan_anchor is None:
            x, y = self.widget_to_document(pos)
            self._hover = pos
            mods = _qt_modifiers(event.modifiers())
            if mods & Modifiers.CTRL and not self._tool.active:
                self._pick_class_at(x, y)  # Ctrl+click: eyedropper from any tool
                event.accept()
                return
            self._dispatch(self._tool.press, x, y, mods)
            self._update_overlay()
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._pan_anchor is not None:
            delta = pos - self._pan_anchor
            self._pan_anchor = pos
            self._pan_by(delta.x(), delta.y())
            event.accept()
            return
        self._hover = pos
        x, y = self.widget_to_document(pos)
        self._dispatch(self._tool.move, x, y, _qt_modifiers(event.modifiers()))
        self._update_overlay()
        self._emit_cursor(pos)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if self._pan_anchor is not None and button == self._pan_button:
            self._pan_anchor = None
            self._pan_button = None
            self._restore_cursor()
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton:
            x, y = self.widget_to_document(event.position())
            self._dispatch(self._tool.release, x, y, _qt_modifiers(event.modifiers()))
            self._update_overlay()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._pan_anchor is None:
            x, y = self.widget_to_document(event.position())
            self._dispatch(self._tool.double_click, x, y, _qt_modifiers(event.modifiers()))
            self._update_overlay()
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        notches = event.angleDelta().y() / 120.0
        if notches == 0.0:
            event.ignore()
            return
        self.set_zoom(self._zoom * WHEEL_ZOOM_PER_NOTCH**notches, event.position())
        self._hover = event.position()
        self._update_overlay()
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_held = True
                if self._pan_anchor is None:
                    self.setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
        elif key == Qt.Key.Key_BracketLeft:
            self.set_brush_size(next_brush_size(self._ctx.brush_size, -1))
            event.accept()
        elif key == Qt.Key.Key_BracketRight:
            self.set_brush_size(next_brush_size(self._ctx.brush_size, +1))
            event.accept()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._dispatch(self._tool.finish)
            self._update_overlay()
            event.accept()
        elif key == Qt.Key.Key_Escape and self._tool.active:
            self.cancel_gesture()
            event.accept()
        elif key == Qt.Key.Key_Backspace and self._tool.active:
            self._tool.remove_last_vertex()
            self._update_overlay()
            event.accept()
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            if self._pan_anchor is None:
                self._restore_cursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        # A space release that happens while another widget has focus never reaches us.
        self._space_held = False
        if self._pan_anchor is None:
            self._restore_cursor()
        super().focusOutEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._hover = None
        self._update_overlay()
        self._emit_cursor(None)
        super().leaveEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self._fit_mode:
            self.fit()
        super().resizeEvent(event)

    def _restore_cursor(self) -> None:
        self.setCursor(QCursor(Qt.CursorShape.CrossCursor))


__all__ = ["DEFAULT_LABEL_ID", "MAX_ZOOM", "MIN_ZOOM", "PIXEL_GRID_MIN_ZOOM", "CanvasView"]
