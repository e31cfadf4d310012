"""numpy <-> QImage conversions (copies, so the QImage never points into a numpy buffer that
may be freed or changed later)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from core.labels import ids_to_color


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """uint8 H×W×3 RGB -> QImage (RGB888, owns its data)."""
    arr = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = arr.shape
    return QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def ids_to_qimage(ids: np.ndarray) -> QImage:
    return rgb_to_qimage(ids_to_color(ids))


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """QImage (any format) -> uint8 H×W×3 RGB copy."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)
    return buf[:, : 3 * w].reshape(h, w, 3).copy()
