"""The compare view: A and B side by side, a swipe divider between them, the |A − B| heat map,
or A with the discriminator's critic overlay. Paints images it is given; computes nothing heavier
than QImage conversions: the difference map is made on a background thread."""

from __future__ import annotations

import time
from typing import Literal

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from desktop.compare.heatmap import HEAT_LUT, CRITIC_LUT, difference_heatmap, critic_colors
from desktop.image_view import BACKGROUND, SwipeImageView, fit_rect
from desktop.qimage import rgb_to_qimage
from desktop.tasks import TaskRunner

CompareMode = Literal["side", "swipe", "diff", "critic"]
COMPARE_MODES: tuple[CompareMode, ...] = ("side", "swipe", "diff", "critic")
_GAP = 8


class CompareView(SwipeImageView[CompareMode]):
    """A and B (side, swipe), their difference, or A's critic map. Mode, opacity, the swipe divider
    and its drag come from SwipeImageView."""

    difference_ready = Signal()  # the |A − B| map of the current pair is computed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("side", 0.55, parent)
        self.setMinimumSize(200, 120)
        self._rgb: dict[str, np.ndarray | None] = {"A": None, "B": None}
        self._images: dict[str, QImage | None] = {"A": None, "B": None}
        self._titles = {"A": "A", "B": "B"}
        self._placeholder = {"A": "Choose model A", "B": "Choose model B"}
        self._diff: QImage | None = None
        self._diff_max = 0
        self._diff_mean = 0.0
        self._critic_image: QImage | None = None
        self._critic_rgb: np.ndarray | None = None
        self._critic_mean: float | None = None
        self._critic_note = ""
        self.diff_ms: float | None = None  # cost of the last difference map (background thread)
        self._diff_job: tuple[int, int] | None = None
        self._differ = TaskRunner(self)

    # ------------------------------------------------------------------------------ state

    def set_image(self, side: str, rgb: np.ndarray | None, title: str | None = None) -> None:
        if rgb is not self._rgb[side]:
            self._rgb[side] = rgb
            self._images[side] = None if rgb is None else rgb_to_qimage(rgb)
            self._diff = None  # recomputed (in the background) when shown
            self._diff_job = None
        if title is not None:
            self._titles[side] = title
        self.update()

    def set_placeholder(self, side: str, text: str) -> None:
        self._placeholder[side] = text
        self.update()

    def set_critic_map(self, probability: np.ndarray | None, mean: float | None = None, note: str = "") -> None:
        """The discriminator's per-pixel probability of "real" for A's image (H×W floats in [0, 1])."""
        self._critic_rgb = None if probability is None else critic_colors(probability)
        self._critic_image = None if self._critic_rgb is None else rgb_to_qimage(self._critic_rgb)
        self._critic_mean = mean
        self._critic_note = note
        self.update()

    def set_mode(self, mode: CompareMode) -> None:
        if mode not in COMPARE_MODES:
            raise ValueError(f"unknown compare view {mode!r}; expected one of {', '.join(COMPARE_MODES)}")
        super().set_mode(mode)

    def image(self, side: str) -> np.ndarray | None:
        return self._rgb[side]

    def difference(self) -> tuple[int, float] | None:
        """(largest, mean) |A − B| in 0..255 once both images are there, the same size, and the
        map is computed (difference_ready); starts the computation when needed."""
        self._ensure_diff()
        return None if self._diff is None else (self._diff_max, self._diff_mean)

    def export_pixels(self) -> np.ndarray | None:
        """The view's content at the images' own resolution (what Export writes)."""
        a, b = self._rgb["A"], self._rgb["B"]
        if a is None:
            return None
        if self._mode in ("side", "swipe"):
            return a if b is None or b.shape != a.shape else np.concatenate([a, b], axis=1)
        if self._mode == "diff":
            return None if b is None or b.shape != a.shape else difference_heatmap(a, b)[0]
        if self._critic_rgb is None:
            return a
        blend = a.astype(np.float32) * (1 - self._opacity) + self._critic_rgb.astype(np.float32) * self._opacity
        return np.clip(np.rint(blend), 0, 255).astype(np.uint8)

    def sizeHint(self) -> QSize:
        return QSize(640, 300)

    # ---------------------------------------------------------------------------- drawing

    def _ensure_diff(self) -> None:
        """Start computing the difference map of the current pair on a background thread (4 ms
        on a quiet machine, but tens of ms under load: never on the GUI thread while scrubbing)."""
        a, b = self._rgb["A"], self._rgb["B"]
        if self._diff is not None or a is None or b is None or a.shape != b.shape:
            return
        if self._diff_job == (id(a), id(b)):
            return  # already under way
        self._diff_job = (id(a), id(b))

        def compute() -> tuple[QImage, int, float, float]:
            start = time.perf_counter()
            heat, top, mean = difference_heatmap(a, b)
            return rgb_to_qimage(heat), top, mean, (time.perf_counter() - start) * 1000

        def done(result: tuple[QImage, int, float, float]) -> None:
            if self._rgb["A"] is not a or self._rgb["B"] is not b:
                return  # the pair changed meanwhile: its own job is (or will be) under way
            self._diff, self._diff_max, self._diff_mean, self.diff_ms = result
            self._diff_job = None
            self.update()
            self.difference_ready.emit()

        self._differ.submit(compute, done, lambda exc: None)

    def _content(self) -> QRectF:
        # Room at the bottom for a legend in the diff and critic views.
        bottom = 34 if self._mode in ("diff", "critic") else 0
        return QRectF(self.rect()).adjusted(4, 4, -4, -4 - bottom)

    def image_rect(self, side: str = "A") -> QRectF:
        """Where `side`'s image is drawn (widget coordinates)."""
        area = self._content()
        if self._mode == "side":
            ref = self._images[side] or self._images["A"] or self._images["B"]
            half_w = (area.width() - _GAP) / 2
            half_h = (area.height() - _GAP) / 2
            beside = (QRectF(area.left(), area.top(), half_w, area.height()),
                      QRectF(area.left() + half_w + _GAP, area.top(), half_w, area.height()))
            stacked = (QRectF(area.left(), area.top(), area.width(), half_h),
                       QRectF(area.left(), area.top() + half_h + _GAP, area.width(), half_h))
            # Wide street images in a tall pane read better one above the other: take whichever
            # arrangement draws them larger.
            layout = beside
            if ref is not None and fit_rect(ref, stacked[0]).width() > fit_rect(ref, beside[0]).width():
                layout = stacked
            return fit_rect(ref, layout[0] if side == "A" else layout[1])
        return fit_rect(self._images["A"] or self._images["B"], area)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        if self._mode == "side":
            for side in ("A", "B"):
                self._draw_side(painter, side, self.image_rect(side))
        elif self._mode == "swipe":
            self._paint_swipe(painter)
        elif self._mode == "diff":
            self._paint_diff(painter)
        else:
            self._paint_critic(painter)

    def _draw_side(self, painter: QPainter, side: str, target: QRectF) -> None:
        image = self._images[side]
        if image is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(target, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder[side])
            return
        painter.drawImage(target, image, QRectF(image.rect()))
        self._caption(painter, target.topLeft() + QPointF(6, 6), f"{side}: {self._titles[side]}")

    def _caption(self, painter: QPainter, at: QPointF, text: str) -> None:
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        box = QRectF(at, QSize(metrics.horizontalAdvance(text) + 12, metrics.height() + 6).toSizeF())
        painter.fillRect(box, QColor(0, 0, 0, 160))
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_swipe(self, painter: QPainter) -> None:
        a, b = self._images["A"], self._images["B"]
        target = self.image_rect()
        if a is None or b is None:
            self._draw_side(painter, "A" if a is None else "B", target)
            return
        x = self.divider_x(target)
        painter.drawImage(target, b, QRectF(b.rect()))
        painter.save()
        painter.setClipRect(QRectF(target.left(), target.top(), x - target.left(), target.height()))
        painter.drawImage(target, a, QRectF(a.rect()))
        painter.restore()
        self.paint_divider(painter, target)
        self._caption(painter, target.topLeft() + QPointF(6, 6), f"A: {self._titles['A']}")
        metrics = painter.fontMetrics()
        text = f"B: {self._titles['B']}"
        self._caption(painter, QPointF(target.right() - metrics.horizontalAdvance(text) - 18, target.top() + 6), text)

    def _paint_diff(self, painter: QPainter) -> None:
        self._ensure_diff()
        target = self.image_rect()
        if self._diff is None:
            a, b = self._rgb["A"], self._rgb["B"]
            text = ("A and B differ in size" if a is not None and b is not None and a.shape != b.shape
                    else "computing the difference…" if a is not None and b is not None
                    else "The difference appears once both A and B are rendered")
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(target, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
            return
        painter.drawImage(target, self._diff, QRectF(self._diff.rect()))
        self._caption(painter, target.topLeft() + QPointF(6, 6), f"|A − B|: {self._titles['A']} vs {self._titles['B']}")
        self._legend(painter, HEAT_LUT, "0", f"{self._diff_max} (of 255)",
                     f"mean |A − B| {self._diff_mean:.1f}")

    def _paint_critic(self, painter: QPainter) -> None:
        target = self.image_rect()
        a = self._images["A"]
        if a is None:
            self._draw_side(painter, "A", target)
            return
        painter.drawImage(target, a, QRectF(a.rect()))
        if self._critic_image is not None:
            painter.setOpacity(self._opacity)
            painter.drawImage(target, self._critic_image, QRectF(self._critic_image.rect()))
            painter.setOpacity(1.0)
        self._caption(painter, target.topLeft() + QPointF(6, 6), f"Critic's view of A: {self._titles['A']}")
        if self._critic_image is None:
            note = self._critic_note or "computing the discriminator's view…"
            self._caption(painter, target.topLeft() + QPointF(6, 34), note)
            return
        mean = "" if self._critic_mean is None else f"mean P(real) {self._critic_mean:.2f}"
        self._legend(painter, CRITIC_LUT, "fake 0", "1 real", mean)

    def _legend(self, painter: QPainter, lut: np.ndarray, low: str, high: str, note: str) -> None:
        bar = QRectF(self.width() - 300, self.height() - 26, 180, 12)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for i in range(0, 256, 32):
            gradient.setColorAt(i / 255, QColor(*map(int, lut[i])))
        gradient.setColorAt(1.0, QColor(*map(int, lut[255])))
        painter.fillRect(bar, gradient)
        painter.setPen(QColor(230, 230, 230))
        metrics = painter.fontMetrics()
        painter.drawText(QPointF(bar.left() - metrics.horizontalAdvance(low) - 6, bar.bottom()), low)
        painter.drawText(QPointF(bar.right() + 6, bar.bottom()), high)
        painter.drawText(QPointF(8, bar.bottom()), note)
