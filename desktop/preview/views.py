"""The generated image, shown three ways next to the canvas:

- side:    the generated image alone (the canvas on the left shows the labels);
- overlay: the label colours drawn over the generated image with an adjustable opacity;
- swipe:   labels left of a draggable divider, the generated image right of it.

The image is fitted into the widget keeping its aspect ratio, so it lines up with a canvas that
shows the same scene at "fit" zoom.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QVBoxLayout, QWidget

from desktop.image_view import BACKGROUND, SwipeImageView, fit_rect
from desktop.qimage import ids_to_qimage, rgb_to_qimage

if TYPE_CHECKING:
    from desktop.canvas.view import CanvasView

ViewMode = Literal["side", "overlay", "swipe"]
VIEW_MODES: tuple[ViewMode, ...] = ("side", "overlay", "swipe")


class ComparisonView(SwipeImageView[ViewMode]):
    """Draws the output image (and labels, for overlay/swipe), fitted to the widget. Mode,
    opacity, the swipe divider and its drag come from SwipeImageView."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("side", 0.5, parent)
        self.setMinimumSize(160, 100)
        self.setMouseTracking(True)
        self._output: QImage | None = None
        self._labels: QImage | None = None
        self._labels_ids: np.ndarray | None = None
        self._placeholder = "No model loaded — Model ▸ Load checkpoint…"
        # Mirror of the canvas's zoom: (zoom, document x, document y at the widget centre), or
        # None to fit the image into the widget.
        self._linked: tuple[float, float, float] | None = None

    # ------------------------------------------------------------------------------ state

    def set_output(self, rgb: np.ndarray | None) -> None:
        self._output = None if rgb is None else rgb_to_qimage(rgb)
        self.update()

    def set_labels(self, ids: np.ndarray | None) -> None:
        self._labels_ids = ids
        self._labels = None if ids is None else ids_to_qimage(ids)
        self.update()

    def labels_array(self) -> np.ndarray | None:
        return self._labels_ids

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def placeholder(self) -> str:
        """The text shown while there is no image (e.g. "Loading default model…")."""
        return self._placeholder

    def has_output(self) -> bool:
        return self._output is not None

    # ---------------------------------------------------------------------------- drawing

    def sizeHint(self) -> QSize:
        return QSize(512, 256)

    def set_linked_view(self, linked: tuple[float, float, float] | None) -> None:
        """Show the same part of the scene as the canvas: (zoom, centre x, centre y) in document
        pixels, or None to fit the whole image."""
        if linked != self._linked:
            self._linked = linked
            self.update()

    def image_rect(self) -> QRectF:
        """Where the image is drawn: fitted and centred (aspect kept), or as the canvas shows it."""
        ref = self._output if self._output is not None else self._labels
        if ref is None or ref.isNull():
            return QRectF(self.rect())
        if self._linked is not None and self._labels is not None:
            zoom, cx, cy = self._linked
            doc_w, doc_h = self._labels.width(), self._labels.height()  # labels are document-sized
            w, h = doc_w * zoom, doc_h * zoom
            return QRectF(self.width() / 2 - cx * zoom, self.height() / 2 - cy * zoom, w, h)
        return fit_rect(ref, QRectF(self.rect()))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        target = self.image_rect()
        if self._output is None:
            if self._mode != "side" and self._labels is not None:
                self._draw(painter, self._labels, target, smooth=False)
            painter.setPen(QColor(220, 220, 220))
            painter.drawText(self.rect().adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
            return
        self._draw(painter, self._output, target, smooth=True)
        if self._labels is None or self._mode == "side":
            return
        if self._mode == "overlay":
            painter.setOpacity(self._opacity)
            self._draw(painter, self._labels, target, smooth=False)
            painter.setOpacity(1.0)
        else:  # swipe: labels to the left of the divider
            x = self.divider_x(target)
            painter.save()
            painter.setClipRect(QRectF(target.left(), target.top(), x - target.left(), target.height()))
            self._draw(painter, self._labels, target, smooth=False)
            painter.restore()
            self.paint_divider(painter, target)

    @staticmethod
    def _draw(painter: QPainter, image: QImage, target: QRectF, *, smooth: bool) -> None:
        # Labels are scaled with nearest neighbour so class borders stay crisp.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        painter.drawImage(target, image, QRectF(image.rect()))


class CanvasLink(QObject):
    """Keeps a ComparisonView showing the part of the scene the canvas shows (zoom and pan).

    The canvas repaints whenever its transform changes, so watching its paint and resize events
    is enough; a fitted canvas means a fitted view (so panes of different sizes both fit)."""

    def __init__(self, canvas: CanvasView, view: ComparisonView) -> None:
        super().__init__(view)
        self._canvas = canvas
        self._view = view
        canvas.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Paint, QEvent.Type.Resize):
            self.sync()
        return False

    def sync(self) -> None:
        canvas = self._canvas
        doc = canvas.document
        zoom = canvas.zoom
        ox, oy = canvas.offset
        fit_zoom = min(max(1, canvas.width()) / doc.width, max(1, canvas.height()) / doc.height)
        if abs(zoom - fit_zoom) < 1e-6:
            self._view.set_linked_view(None)
            return
        cx = (canvas.width() / 2 - ox) / zoom
        cy = (canvas.height() / 2 - oy) / zoom
        self._view.set_linked_view((zoom, cx, cy))


class PreviewPanel(QWidget):
    """ComparisonView + the overlay opacity control. The control is a separate widget
    (`opacity_widget`) that the window puts in its tool bar, so switching views never moves the
    image (it stays aligned with the canvas); it is enabled in overlay mode only."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = ComparisonView(self)
        self.opacity_widget = QWidget(self)
        row = QHBoxLayout(self.opacity_widget)
        row.setContentsMargins(6, 0, 6, 0)
        # Short: the whole tool bar must fit a 1366 px wide window.
        row.addWidget(QLabel("Opacity", self.opacity_widget))
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, self.opacity_widget)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(50)
        self.opacity_slider.setFixedWidth(90)
        self.opacity_slider.setToolTip("Opacity of the label colours over the generated image (overlay view)")
        self.opacity_slider.valueChanged.connect(self._on_opacity_slider_changed)
        row.addWidget(self.opacity_slider)
        self.opacity_widget.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        # What the output is when it is not the usual preview (a photo edit): shown above it.
        self.title = QLabel(self)
        self.title.setObjectName("output_title")
        self.title.setStyleSheet("font-weight: bold; padding: 2px 6px;")
        self.title.hide()
        # The real photo of an inspected training pair (desktop/scene/pair_inspector.py), under the
        # output in the same view mode, with the same labels, opacity and swipe position.
        self.target_caption = QLabel(self)
        self.target_caption.setWordWrap(True)
        self.target_view = ComparisonView(self)
        self.target_view.set_placeholder("")
        self.view.swipe_moved.connect(self._on_view_swipe_moved)
        self.target_view.swipe_moved.connect(self._on_target_view_swipe_moved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.target_caption)
        layout.addWidget(self.target_view, 1)
        self.set_target(None)
        self.set_mode("side")

    def set_title(self, text: str) -> None:
        """Name what the output is above it (e.g. "Photo edit (photo-edit model)"); "" hides it."""
        self.title.setText(text)
        self.title.setVisible(bool(text))

    def set_mode(self, mode: ViewMode) -> None:
        self.view.set_mode(mode)
        self.target_view.set_mode(mode)
        self.opacity_widget.setEnabled(mode == "overlay")

    def set_labels(self, ids: np.ndarray | None) -> None:
        """The labels drawn by overlay and swipe, in both views."""
        self.view.set_labels(ids)
        if self.has_target():
            self.target_view.set_labels(ids)

    def set_target(self, rgb: np.ndarray | None, caption: str = "") -> None:
        """Show (or with None hide) a target photo under the generated image."""
        self.target_view.set_output(rgb)
        self.target_caption.setText(caption)
        self.target_caption.setVisible(rgb is not None)
        self.target_view.setVisible(rgb is not None)
        if rgb is not None:
            self.target_view.set_labels(self.view.labels_array())

    def has_target(self) -> bool:
        return self.target_view.has_output()

    def _on_opacity_slider_changed(self, value: int) -> None:
        self.view.set_opacity(value / 100.0)
        self.target_view.set_opacity(value / 100.0)

    def _on_view_swipe_moved(self, share: float) -> None:
        if abs(self.target_view.swipe_position() - share) > 1e-9:
            self.target_view.set_swipe_position(share)

    def _on_target_view_swipe_moved(self, share: float) -> None:
        if abs(self.view.swipe_position() - share) > 1e-9:
            self.view.set_swipe_position(share)
