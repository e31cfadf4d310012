"""The base of the app's two image views: the preview beside the canvas (desktop/preview/views.py)
and the compare view (desktop/compare/view.py).

Both have a view mode, an overlay opacity and a swipe mode whose divider the user drags with the
left button; both fit images into the widget keeping their aspect ratio. The base owns that state,
the drag and the divider's look; a subclass says where its image is drawn (`image_rect`, which
the drag measures the divider against) and paints its modes.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

BACKGROUND = QColor(38, 38, 42)
ModeT = TypeVar("ModeT", bound=str)  # the subclass's Literal of mode names; "swipe" is the divider mode


def fit_rect(image: QImage | None, area: QRectF) -> QRectF:
    """Where `image` is drawn fitted into `area`, aspect kept and centred (`area` without an image)."""
    if image is None or image.isNull():
        return area
    scale = min(area.width() / image.width(), area.height() / image.height())
    w, h = image.width() * scale, image.height() * scale
    return QRectF(area.left() + (area.width() - w) / 2, area.top() + (area.height() - h) / 2, w, h)


class SwipeImageView(QWidget, Generic[ModeT]):
    """Mode, opacity and swipe-divider state, the divider drag and the divider's painting."""

    swipe_moved = Signal(float)  # the divider's position, as a share of the image width

    def __init__(self, mode: ModeT, opacity: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._mode: ModeT = mode
        self._opacity = opacity
        self._swipe = 0.5  # divider position as a share of the image width
        self._dragging = False

    # ------------------------------------------------------------------------------ state

    def set_mode(self, mode: ModeT) -> None:
        self._mode = mode
        self.setCursor(Qt.CursorShape.SplitHCursor if mode == "swipe" else Qt.CursorShape.ArrowCursor)
        self.update()

    def mode(self) -> ModeT:
        return self._mode

    def set_opacity(self, opacity: float) -> None:
        self._opacity = min(1.0, max(0.0, opacity))
        self.update()

    def opacity(self) -> float:
        return self._opacity

    def set_swipe_position(self, share: float) -> None:
        self._swipe = min(1.0, max(0.0, share))
        self.update()
        self.swipe_moved.emit(self._swipe)

    def swipe_position(self) -> float:
        return self._swipe

    def image_rect(self) -> QRectF:
        """Where the image is drawn (widget coordinates); the divider spans it."""
        raise NotImplementedError

    # ---------------------------------------------------------------------------- drawing

    def divider_x(self, target: QRectF) -> float:
        """The divider's x in widget coordinates, for an image drawn at `target`."""
        return target.left() + self._swipe * target.width()

    def paint_divider(self, painter: QPainter, target: QRectF) -> None:
        """The divider line over the image, with a handle at its middle."""
        x = self.divider_x(target)
        painter.setPen(QPen(QColor(255, 255, 255), 2))
        painter.drawLine(QPointF(x, target.top()), QPointF(x, target.bottom()))
        painter.setBrush(QColor(255, 255, 255))
        painter.drawRoundedRect(QRectF(x - 6, target.center().y() - 14, 12, 28), 4, 4)

    # ------------------------------------------------------------------------------ swipe drag

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._mode == "swipe" and event.button() == Qt.MouseButton.LeftButton:
            self._dragging = True
            self._swipe_to(event.position().x())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging:
            self._swipe_to(event.position().x())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._dragging = False

    def _swipe_to(self, x: float) -> None:
        target = self.image_rect()
        if target.width() > 0:
            self.set_swipe_position((x - target.left()) / target.width())
