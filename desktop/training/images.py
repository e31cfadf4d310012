"""PNG -> Qt images for the panel, and the view that shows them (numpy -> QImage is desktop.qimage's)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


def load_qimage(path: Path) -> QImage | None:
    """Read a PNG into a QImage (call from a worker thread; QImage is thread-safe, QPixmap is not)."""
    image = QImage(str(path))
    return None if image.isNull() else image


class ImageView(QLabel):
    """Shows one image scaled to fit, keeping its aspect ratio, with a caption when empty."""

    def __init__(self, empty_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._empty_text = empty_text
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(160, 90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("QLabel { background: palette(base); color: palette(mid); }")
        self.setText(empty_text)

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self._rescale()

    def image(self) -> QImage | None:
        return self._image

    def clear_image(self) -> None:
        self._image = None
        self.clear()
        self.setText(self._empty_text)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()

    def sizeHint(self) -> QSize:
        return QSize(360, 200)

    def minimumSizeHint(self) -> QSize:
        # Not the pixmap's size: otherwise every rescale would grow the layout a little.
        return QSize(160, 90)

    def _rescale(self) -> None:
        if self._image is None:
            self.setText(self._empty_text)
            return
        pixmap = QPixmap.fromImage(self._image)
        target = self.size().shrunkBy(self.contentsMargins())
        # Nearest neighbour for upscaling small training images (a 32-px sample should look
        # like pixels, not mush); smooth when shrinking.
        mode = (Qt.TransformationMode.FastTransformation
                if pixmap.width() < target.width() and pixmap.height() < target.height()
                else Qt.TransformationMode.SmoothTransformation)
        self.setPixmap(pixmap.scaled(target, Qt.AspectRatioMode.KeepAspectRatio, mode))
