"""What the canvas draws over the label image: pixel grid, shape rubber bands, brush outline.

Plain functions over a QPainter in widget coordinates, so CanvasView stays about events and state.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from core.labels import ID_TO_COLOR
from desktop.canvas.tools import ShapePreview

ToWidget = Callable[[float, float], QPointF]


def paint_pixel_grid(
    painter: QPainter, target: QRectF, zoom: float, offset: QPointF, pixels: tuple[int, int, int, int]
) -> None:
    """Faint lines between document pixels ``pixels = (x0, y0, x1, y1)`` drawn inside ``target``;
    used when zoomed in far enough to place single pixels."""
    x0, y0, x1, y1 = pixels
    ox, oy = offset.x(), offset.y()
    painter.setPen(QPen(QColor(0, 0, 0, 60), 0))
    lines = [QLineF(ox + i * zoom, target.top(), ox + i * zoom, target.bottom()) for i in range(x0, x1 + 1)]
    lines += [QLineF(target.left(), oy + j * zoom, target.right(), oy + j * zoom) for j in range(y0, y1 + 1)]
    painter.drawLines(lines)


def paint_shape_preview(painter: QPainter, preview: ShapePreview, zoom: float, to_widget: ToWidget) -> None:
    """The rubber band of a line / rectangle / polygon being drawn, in the class colour."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)  # the overlay only, never the map
    r, g, b = (int(c) for c in ID_TO_COLOR[preview.label_id])
    fill = QColor(r, g, b, 150)
    outline = QPen(QColor(255, 255, 255), 1.0, Qt.PenStyle.DashLine)
    pts = [to_widget(x, y) for x, y in preview.points]
    if preview.kind == "line":
        pen = QPen(fill, max(1.0, preview.width * zoom))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawLine(pts[0], pts[1])
        painter.setPen(outline)
        painter.drawLine(pts[0], pts[1])
    elif preview.kind == "rect":
        (ax, ay), (bx, by) = preview.points
        # Pixel-inclusive, like the fill: from the start pixel's corner to the end pixel's far corner.
        rect = QRectF(
            to_widget(math.floor(min(ax, bx)), math.floor(min(ay, by))),
            to_widget(math.floor(max(ax, bx)) + 1, math.floor(max(ay, by)) + 1),
        )
        painter.setPen(outline)
        painter.setBrush(fill)
        painter.drawRect(rect)
    elif preview.kind == "polygon":
        poly = QPolygonF(pts)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawPolygon(poly, Qt.FillRule.OddEvenFill)
        painter.setPen(outline)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPolyline(poly)
        for p in pts[:-1] if len(pts) > 1 else pts:
            painter.drawEllipse(p, 3.0, 3.0)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)


def paint_brush_outline(painter: QPainter, center: QPointF, radius: float) -> None:
    """Brush-size ring around the cursor. Aliased on purpose: an antialiased 1 px ring on the
    half-pixel grid smears into two grey pixels and vanishes on mid-tone classes. Black inside
    white: visible on every class colour."""
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(QColor(0, 0, 0), 1.0))
    painter.drawEllipse(center, radius, radius)
    painter.setPen(QPen(QColor(255, 255, 255), 1.0))
    painter.drawEllipse(center, radius + 1.0, radius + 1.0)
