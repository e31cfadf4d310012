"""Images in the monitor that stay readable: shown at the full width of their column (which is
at least half the panel), scrolled vertically when taller than the space, and enlarged in a
window of their own on a click.

A sample grid is tall (one row of input | output | target per image), so fitting it into a
short dock made it a 60-px thumbnail; fitting the *width* keeps every row legible.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import QApplication, QDialog, QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

#: Share of the screen's available area an enlarged image may take.
POPUP_SCREEN_SHARE = 0.9


def _scaled_size(image: QImage, width: int) -> QSize:
    w = max(1, width)
    return QSize(w, max(1, round(image.height() * w / max(1, image.width()))))


def _draw_scaled(painter: QPainter, image: QImage, target: QRect) -> None:
    # Nearest neighbour when enlarging (a 64-px training crop should look like pixels, not mush),
    # smooth when shrinking.
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, target.width() < image.width())
    painter.drawImage(target, image)


class _FitWidthCanvas(QWidget):
    """Paints one image scaled to the widget's width; its height follows the image's aspect."""

    clicked = Signal()

    def __init__(self, empty_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.empty_text = empty_text
        self.setMinimumHeight(90)

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self.setCursor(Qt.CursorShape.PointingHandCursor if image is not None else Qt.CursorShape.ArrowCursor)
        self.setToolTip("Click to enlarge" if image is not None else "")
        self._follow_width()
        self.update()

    def drawn_rect(self) -> QRect:
        """Where the image is painted (widget coordinates)."""
        if self.image is None:
            return QRect()
        return QRect(QPoint(0, 0), _scaled_size(self.image, self.width()))

    def _follow_width(self) -> None:
        height = _scaled_size(self.image, self.width()).height() if self.image is not None else 90
        if self.minimumHeight() != height:
            self.setMinimumHeight(height)  # the scroll area grows the widget; the scroll bar appears

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._follow_width()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        if self.image is None:
            painter.setPen(self.palette().mid().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
            return
        _draw_scaled(painter, self.image, self.drawn_rect())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton and self.image is not None:
            self.clicked.emit()


class WideImageView(QScrollArea):
    """Drop-in for ImageView (set_image / image / clear_image) that fits the width, scrolls
    vertically and opens an ImagePopup on a click."""

    enlarged = Signal(object)  # the ImagePopup that was opened

    def __init__(self, empty_text: str, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.canvas = _FitWidthCanvas(empty_text)
        self.setWidget(self.canvas)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumSize(160, 90)
        self.popup: ImagePopup | None = None
        self.canvas.clicked.connect(self._on_canvas_clicked)

    def set_image(self, image: QImage | None) -> None:
        self.canvas.set_image(image)
        if self.popup is not None and self.popup.isVisible() and image is not None:
            self.popup.set_image(image)  # an open enlargement follows the newest picture

    def image(self) -> QImage | None:
        return self.canvas.image

    def clear_image(self) -> None:
        self.canvas.set_image(None)

    def shown_width(self) -> int:
        """Width in pixels the image is drawn at (0 without an image)."""
        return self.canvas.drawn_rect().width()

    def set_title(self, title: str) -> None:
        self.title = title
        if self.popup is not None:
            self.popup.setWindowTitle(title)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(480, 260)

    def _on_canvas_clicked(self) -> None:
        if self.canvas.image is None:
            return
        if self.popup is None:
            self.popup = ImagePopup(self)
        self.popup.setWindowTitle(self.title or "Image")
        self.popup.set_image(self.canvas.image)
        self.popup.show()
        self.popup.raise_()
        self.enlarged.emit(self.popup)


class ImagePopup(QDialog):
    """One image as large as ~90 % of the screen allows (aspect kept, whole pixels when enlarging
    small images). Esc or a click closes it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModal(False)
        self.label = QLabel(self)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setStyleSheet("QLabel { background: #202024; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        self.image: QImage | None = None
        self.shown_size = QSize()

    def set_image(self, image: QImage) -> None:
        self.image = image
        screen = (self.parentWidget().screen() if self.parentWidget() else None) or QApplication.primaryScreen()
        area = screen.availableGeometry().size() * POPUP_SCREEN_SHARE
        scale = min(area.width() / max(1, image.width()), area.height() / max(1, image.height()))
        if scale >= 1:
            scale = float(int(scale))  # whole pixels: every training pixel the same size
        size = QSize(max(1, round(image.width() * scale)), max(1, round(image.height() * scale)))
        canvas = QImage(size, QImage.Format.Format_RGB888)
        canvas.fill(QColor(32, 32, 36))
        painter = QPainter(canvas)
        _draw_scaled(painter, image, QRect(QPoint(0, 0), size))
        painter.end()
        self.label.setPixmap(QPixmap.fromImage(canvas))
        self.shown_size = size
        self.resize(size)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self.close()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Space, Qt.Key.Key_Return):
            self.close()
        else:
            super().keyPressEvent(event)
