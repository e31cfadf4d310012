"""Images in the monitor that stay readable, and enlarge in a window of their own on a click.

FitImageView + PictureRow (the monitor's pictures, issue 20 §2): each picture is drawn whole,
aspect kept, never a cropped slice; pictures side by side share the width in proportion to their
aspect ratios, so a tall sample grid and a wide canvas rendering get the same (largest) height.
WideImageView (fit the width, scroll vertically) is kept for long strips.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QApplication, QDialog, QFrame, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget,
)

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

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._follow_width()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if self.image is None:
            painter.setPen(self.palette().mid().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
            return
        _draw_scaled(painter, self.image, self.drawn_rect())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
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

    def sizeHint(self) -> QSize:
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
        parent = self.parentWidget()
        screen = (parent.screen() if parent is not None else None) or QApplication.primaryScreen()
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

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self.close()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Space, Qt.Key.Key_Return):
            self.close()
        else:
            super().keyPressEvent(event)


class ElidedLabel(QLabel):
    """One line of text that ends in "…" when the space is short (the whole text is the tooltip
    and text()); it never asks for more width than it gets, so it cannot push a layout wider."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, hint_width: int = 240) -> None:
        super().__init__(text, parent)
        self.hint_width = hint_width  # the width asked for; less is fine, the text is elided
        self.setMinimumWidth(20)
        self.setToolTip(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        return QSize(20, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(min(self.hint_width, super().sizeHint().width()), super().sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().windowText().color())
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), shown)


class FitImageView(QWidget):
    """The whole image, scaled to fit (aspect kept, never a cropped slice), centred; a click
    opens an ImagePopup. Same API as WideImageView (set_image / image / clear_image / set_title /
    shown_width / enlarged), plus shown_rect()."""

    enlarged = Signal(object)  # the ImagePopup that was opened

    def __init__(self, empty_text: str, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.empty_text = empty_text
        self._image: QImage | None = None
        self.popup: ImagePopup | None = None
        self.canvas = self  # what a click goes to (WideImageView's name for it)
        self.setMinimumSize(60, 60)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self.setCursor(Qt.CursorShape.PointingHandCursor if image is not None else Qt.CursorShape.ArrowCursor)
        self.setToolTip("Click for a larger view" if image is not None else "")
        if self.popup is not None and self.popup.isVisible() and image is not None:
            self.popup.set_image(image)  # an open enlargement follows the newest picture
        self.update()
        self.image_changed()

    def image_changed(self) -> None:
        """Hook for a PictureRow: the aspect ratio may have changed."""
        row = self.parentWidget()
        while row is not None and not isinstance(row, PictureRow):
            row = row.parentWidget()
        if row is not None:
            row.update_stretch()

    def image(self) -> QImage | None:
        return self._image

    def clear_image(self) -> None:
        self.set_image(None)

    def set_title(self, title: str) -> None:
        self.title = title
        if self.popup is not None:
            self.popup.setWindowTitle(title)

    def aspect(self) -> float | None:
        """width / height of the image (None without one)."""
        if self._image is None or self._image.isNull():
            return None
        return self._image.width() / max(1, self._image.height())

    def shown_rect(self) -> QRect:
        """Where the whole image is drawn (widget coordinates); empty without an image."""
        if self._image is None or self._image.isNull():
            return QRect()
        scale = min(self.width() / max(1, self._image.width()), self.height() / max(1, self._image.height()))
        w, h = max(1, round(self._image.width() * scale)), max(1, round(self._image.height() * scale))
        return QRect((self.width() - w) // 2, (self.height() - h) // 2, w, h)

    def shown_width(self) -> int:
        return self.shown_rect().width()

    def sizeHint(self) -> QSize:
        return QSize(320, 256)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        if self._image is None or self._image.isNull():
            painter.setPen(self.palette().mid().color())
            painter.drawText(self.rect().adjusted(6, 6, -6, -6),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
            return
        _draw_scaled(painter, self._image, self.shown_rect())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._image is not None:
            self.open_popup()

    def open_popup(self) -> None:
        if self._image is None:
            return
        if self.popup is None:
            self.popup = ImagePopup(self)
        self.popup.setWindowTitle(self.title or "Image")
        self.popup.set_image(self._image)
        self.popup.show()
        self.popup.raise_()
        self.enlarged.emit(self.popup)


class PictureRow(QWidget):
    """Pictures side by side, each with a one-line caption, sharing the width in proportion to
    their aspect ratios so that all are drawn at the same, largest possible height: a tall sample
    grid and a wide canvas rendering both get the row's full height when the width allows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._panes: list[tuple[QWidget, FitImageView, float]] = []

    def add(self, caption: QLabel, view: FitImageView, default_aspect: float) -> None:
        box = QWidget(self)
        box.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(caption)
        column.addWidget(view, 1)
        self._layout.addWidget(box)
        self._panes.append((box, view, default_aspect))
        self.update_stretch()

    def update_stretch(self) -> None:
        for i, (_box, view, default) in enumerate(self._panes):
            self._layout.setStretch(i, max(1, round((view.aspect() or default) * 1000)))
