"""A light QPainter line chart for loss curves (PySide6-Essentials has no QtCharts).

Stays responsive with 100k+ points per series:
* appends are amortised O(1) into growing numpy buffers; the EMA-smoothed copy is extended
  incrementally, so a new point never re-smooths the whole history;
* painting decimates per pixel column: each column draws the min/max envelope of the raw values
  (faint band) and one point of the smoothed line, so the cost is O(points) in numpy plus
  O(width) in QPainter, whatever the history length;
* appends only mark the chart dirty; a timer repaints at most `max_fps` times a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget


class GrowingSeries:
    """x (float64) and y (float64) values in amortised-O(1) growing buffers, plus an EMA of y."""

    def __init__(self, smoothing: float = 0.0) -> None:
        self._x = np.empty(1024)
        self._y = np.empty(1024)
        self._s = np.empty(1024)
        self._n = 0
        self.smoothing = smoothing
        self._ema_last = 0.0  # biased EMA state; divided by (1 - w**n) to debias (TensorBoard's)
        self._ema_count = 0

    def __len__(self) -> int:
        return self._n

    @property
    def x(self) -> np.ndarray:
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._n]

    @property
    def smoothed(self) -> np.ndarray:
        return self._s[: self._n]

    def clear(self) -> None:
        self._n = 0
        self._ema_last = 0.0
        self._ema_count = 0

    def append(self, x: float, y: float) -> None:
        if self._n == len(self._x):
            self._grow(self._n * 2)
        self._x[self._n] = x
        self._y[self._n] = y
        self._s[self._n] = self._smooth_one(y)
        self._n += 1

    def extend(self, xs: np.ndarray, ys: np.ndarray) -> None:
        xs = np.asarray(xs, dtype=np.float64)
        ys = np.asarray(ys, dtype=np.float64)
        need = self._n + len(xs)
        if need > len(self._x):
            self._grow(max(need, self._n * 2))
        self._x[self._n: need] = xs
        self._y[self._n: need] = ys
        start = self._n
        self._n = need
        self._smooth_range(start)

    def truncate_after(self, x: float) -> None:
        """Drop points with x > `x` (a resumed run replays the steps after its checkpoint)."""
        keep = int(np.searchsorted(self.x, x, side="right"))
        if keep < self._n:
            self._n = keep
            self.set_smoothing(self.smoothing)

    def set_smoothing(self, weight: float) -> None:
        """Change the EMA weight (0 = raw, 0.99 = very smooth) and re-smooth the history."""
        self.smoothing = float(min(max(weight, 0.0), 0.999))
        self._ema_last = 0.0
        self._ema_count = 0
        self._smooth_range(0)

    def _grow(self, capacity: int) -> None:
        for name in ("_x", "_y", "_s"):
            old = getattr(self, name)
            new = np.empty(capacity)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)

    def _smooth_one(self, y: float) -> float:
        if not math.isfinite(y):
            return self._s[self._n - 1] if self._n else y  # a NaN must not poison the curve
        w = self.smoothing
        self._ema_last = w * self._ema_last + (1.0 - w) * y
        self._ema_count += 1
        return self._ema_last / (1.0 - w**self._ema_count) if w > 0 else y

    def _smooth_range(self, start: int) -> None:
        """Vectorised EMA over [start, n) in blocks: y_k = w^(k+1) carry + (1-w) Σ w^(k-j) x_j.

        A Python loop over 400k values (4 curves × 100k steps) would stall the GUI for ~0.2 s
        when the slider moves; a blocked closed form keeps it in numpy. Blocks of 128 keep the
        powers of w from underflowing into garbage and the matrices small.
        """
        w = self.smoothing
        ys = self._y[start: self._n].copy()
        finite = np.isfinite(ys)
        if not finite.all():  # carry the last finite value over NaN/inf (as _smooth_one does)
            idx = np.where(finite, np.arange(len(ys)), 0)
            np.maximum.accumulate(idx, out=idx)
            ys = np.where(finite[idx], ys[idx], 0.0)
        if w <= 0:
            self._s[start: self._n] = ys
            self._ema_count += len(ys)
            return
        block = 128
        k = np.arange(block)
        # lower-triangular kernel M[i, j] = (1-w) w^(i-j) for j <= i
        diff = k[:, None] - k[None, :]
        kernel = np.where(diff >= 0, (1.0 - w) * np.power(w, np.clip(diff, 0, None)), 0.0)
        carry_pow = np.power(w, k + 1)
        out = np.empty_like(ys)
        carry = self._ema_last
        for b0 in range(0, len(ys), block):
            chunk = ys[b0: b0 + block]
            m = len(chunk)
            biased = kernel[:m, :m] @ chunk + carry_pow[:m] * carry
            counts = self._ema_count + np.arange(1, m + 1)
            out[b0: b0 + m] = biased / (1.0 - np.power(w, counts))
            carry = float(biased[-1])
            self._ema_count += m
        self._ema_last = carry
        self._s[start: self._n] = out


@dataclass
class _Curve:
    name: str
    color: QColor
    series: GrowingSeries = field(default_factory=GrowingSeries)
    visible: bool = True


class LineChart(QWidget):
    """Several named curves against a shared x axis (training step)."""

    MARGIN_LEFT = 52
    MARGIN_RIGHT = 10
    MARGIN_TOP = 22
    MARGIN_BOTTOM = 22

    def __init__(self, title: str = "", max_fps: float = 10.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.integer_x = True  # the x axis counts training steps: whole-number ticks only
        self._curves: dict[str, _Curve] = {}
        self._smoothing = 0.6
        self._log_y = False
        self._dirty = False
        self.paint_count = 0  # for tests and the benchmark
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, int(1000 / max_fps)))
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()
        self.setMinimumSize(170, 110)  # small minimums: a short dock never forces the window taller
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    # ------------------------------------------------------------------ data
    def add_curve(self, name: str, color: str) -> None:
        self._curves[name] = _Curve(name, QColor(color), GrowingSeries(self._smoothing))

    def curve_names(self) -> list[str]:
        return list(self._curves)

    def series(self, name: str) -> GrowingSeries:
        return self._curves[name].series

    def append(self, name: str, x: float, y: float) -> None:
        self._curves[name].series.append(x, y)
        self._dirty = True

    def extend(self, name: str, xs: np.ndarray, ys: np.ndarray) -> None:
        self._curves[name].series.extend(xs, ys)
        self._dirty = True

    def clear(self) -> None:
        for curve in self._curves.values():
            curve.series.clear()
        self._dirty = True

    def truncate_after(self, x: float) -> None:
        for curve in self._curves.values():
            curve.series.truncate_after(x)
        self._dirty = True

    def set_smoothing(self, weight: float) -> None:
        self._smoothing = weight
        for curve in self._curves.values():
            curve.series.set_smoothing(weight)
        self._dirty = True

    def set_log_y(self, on: bool) -> None:
        self._log_y = on
        self._dirty = True

    def set_curve_visible(self, name: str, visible: bool) -> None:
        self._curves[name].visible = visible
        self._dirty = True

    def sizeHint(self) -> QSize:
        return QSize(420, 220)

    def _on_timer_timeout(self) -> None:
        if self._dirty and self.isVisible():
            self._dirty = False
            self.update()

    # ------------------------------------------------------------------ painting
    def _small_font(self) -> QFont:
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.85))
        return small

    def header_layout(self) -> tuple[QRectF, list[QRectF], float]:
        """(title rect, one rect per legend entry, top margin). The legend goes right of the
        title when it fits there, else on rows of its own below it: it never covers the title."""
        metrics = QFontMetrics(self._small_font())
        line = metrics.height() + 2
        left, right = float(self.MARGIN_LEFT), float(self.width() - self.MARGIN_RIGHT)
        title = QRectF(left, 2, min(right - left, metrics.horizontalAdvance(self.title) + 4), line) \
            if self.title else QRectF(left, 2, 0, line)
        curves = [c for c in self._curves.values() if c.visible and len(c.series)]
        widths = [metrics.horizontalAdvance(self._legend_text(c)) + 16 for c in curves]
        entries: list[QRectF] = []
        if sum(widths) <= right - title.right() - 12:  # one row, right-aligned, beside the title
            x = right
            for w in reversed(widths):
                x -= w
                entries.insert(0, QRectF(x, 2, w, line))
            top = 2 + line
        else:  # rows under the title, left to right
            x, y = left, 2 + line
            for w in widths:
                if x > left and x + w > right:
                    x, y = left, y + line
                entries.append(QRectF(x, y, w, line))
                x += w
            top = (y + line) if entries else 2 + line
        return title, entries, max(float(self.MARGIN_TOP), top + 4)

    @staticmethod
    def _legend_text(curve: _Curve) -> str:
        return f"{curve.name} {_short_number(float(curve.series.smoothed[-1]))}"

    def x_range(self) -> tuple[float, float] | None:
        """The x axis's span, None without data. A single step sits in the middle of a span of
        whole steps around it, not on the edge of a zero-width axis."""
        curves = [c for c in self._curves.values() if c.visible and len(c.series)]
        if not curves:
            return None
        x_min = min(float(c.series.x[0]) for c in curves)
        x_max = max(float(c.series.x[-1]) for c in curves)
        if x_max <= x_min:
            x_min, x_max = x_min - 1.0, x_max + 1.0
        return x_min, x_max

    def x_ticks(self) -> list[float]:
        span = self.x_range()
        if span is None:
            return []
        return _nice_ticks(span[0], span[1], 6, integer=self.integer_x)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.paint_count += 1
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        title_rect, legend, top = self.header_layout()
        plot = QRectF(self.MARGIN_LEFT, top,
                      max(10, self.width() - self.MARGIN_LEFT - self.MARGIN_RIGHT),
                      max(10, self.height() - top - self.MARGIN_BOTTOM))
        text_color = self.palette().text().color()
        painter.setPen(text_color)
        painter.setFont(self._small_font())
        if self.title:
            painter.drawText(title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title)
        curves = [c for c in self._curves.values() if c.visible and len(c.series)]
        if not curves:
            painter.setPen(QColor(text_color.red(), text_color.green(), text_color.blue(), 140))
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "no data yet")
            self._draw_frame(painter, plot)
            return
        x_min, x_max = self.x_range() or (0.0, 1.0)
        y_lo, y_hi = self._y_range(curves)
        self._draw_grid(painter, plot, x_min, x_max, y_lo, y_hi, text_color)
        painter.setClipRect(plot)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for curve in curves:
            self._draw_curve(painter, plot, curve, x_min, x_max, y_lo, y_hi)
        painter.setClipping(False)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self._draw_legend(painter, legend, curves)
        self._draw_frame(painter, plot)

    def _transform(self, values: np.ndarray) -> np.ndarray:
        if not self._log_y:
            return values
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(np.clip(values, 1e-6, None))

    def _y_range(self, curves: list[_Curve]) -> tuple[float, float]:
        lows, highs = [], []
        for curve in curves:
            # Use the smoothed line plus the raw envelope's robust range (1st..99th percentile of
            # a sample) so a single spike does not flatten every curve.
            y = curve.series.y
            sample = y[:: max(1, len(y) // 4096)]
            sample = self._transform(sample[np.isfinite(sample)])
            if len(sample):
                lows.append(float(np.percentile(sample, 1)))
                highs.append(float(np.percentile(sample, 99)))
        if not lows:
            return 0.0, 1.0
        lo, hi = min(lows), max(highs)
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        pad = (hi - lo) * 0.06
        return lo - pad, hi + pad

    def _draw_curve(self, painter: QPainter, plot: QRectF, curve: _Curve, x_min: float, x_max: float,
                    y_lo: float, y_hi: float) -> None:
        x = curve.series.x
        y = self._transform(curve.series.y)
        s = self._transform(curve.series.smoothed)
        columns = max(1, int(plot.width()))
        col = ((x - x_min) / (x_max - x_min) * (columns - 1)).astype(np.int64)
        # Column boundaries: x is increasing, so each column is a contiguous run of points.
        starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
        ys_finite = np.where(np.isfinite(y), y, np.nan)
        with np.errstate(invalid="ignore"):
            lo = np.fmin.reduceat(ys_finite, starts)
            hi = np.fmax.reduceat(ys_finite, starts)
        ends = np.r_[starts[1:], len(x)] - 1
        line = s[ends]  # smoothed value at the last point of each column
        px = plot.left() + col[starts].astype(np.float64)
        scale = plot.height() / (y_hi - y_lo)

        def to_py(v: np.ndarray) -> np.ndarray:
            return plot.bottom() - (v - y_lo) * scale

        band = QColor(curve.color)
        band.setAlpha(60)
        if len(starts) > 1 and self._smoothing > 0:
            # The raw min/max envelope: one vertical line per pixel column, not antialiased
            # (an antialiased polygon of a noisy curve costs tens of ms per paint).
            ok = np.isfinite(lo) & np.isfinite(hi)
            top, bottom, xs = to_py(hi[ok]), to_py(lo[ok]), px[ok]
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setPen(QPen(band, 1.0))
            painter.drawLines([QLineF(a, b, a, c + 1.0) for a, b, c in zip(xs, top, bottom, strict=True)])
        ok = np.isfinite(line)
        pts = to_py(line[ok])
        xs = px[ok]
        # Width exactly 1: any wider pen goes through Qt's stroker, which takes ~100x longer on a
        # zigzagging loss curve (measured 3 ms vs 440 ms for 540 points). A second pass one
        # pixel lower gives the line some weight at the cost of the cheap one.
        pen = QPen(curve.color, 1.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if len(xs) == 1:
            painter.drawEllipse(QPointF(xs[0], pts[0]), 2.0, 2.0)
        elif len(xs) > 1:
            polyline = QPolygonF([QPointF(a, b) for a, b in zip(xs, pts, strict=True)])
            painter.drawPolyline(polyline)
            painter.drawPolyline(polyline.translated(0.0, 0.8))

    def _draw_grid(self, painter: QPainter, plot: QRectF, x_min: float, x_max: float, y_lo: float,
                   y_hi: float, text_color: QColor) -> None:
        grid = QColor(text_color)
        grid.setAlpha(35)
        label = QColor(text_color)
        label.setAlpha(190)
        for value in _nice_ticks(y_lo, y_hi, 5):
            py = plot.bottom() - (value - y_lo) / (y_hi - y_lo) * plot.height()
            painter.setPen(grid)
            painter.drawLine(QPointF(plot.left(), py), QPointF(plot.right(), py))
            painter.setPen(label)
            text = f"1e{value:g}" if self._log_y else _short_number(value)
            painter.drawText(QRectF(0, py - 8, self.MARGIN_LEFT - 4, 16),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        for value in _nice_ticks(x_min, x_max, 6, integer=self.integer_x):
            px = plot.left() + (value - x_min) / (x_max - x_min) * plot.width()
            painter.setPen(grid)
            painter.drawLine(QPointF(px, plot.top()), QPointF(px, plot.bottom()))
            painter.setPen(label)
            painter.drawText(QRectF(px - 40, plot.bottom() + 2, 80, self.MARGIN_BOTTOM - 4),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, _short_number(value))

    def _draw_legend(self, painter: QPainter, entries: list[QRectF], curves: list[_Curve]) -> None:
        metrics = painter.fontMetrics()
        for rect, curve in zip(entries, curves, strict=True):
            mid = rect.center().y()
            painter.fillRect(QRectF(rect.left(), mid - 1.5, 10, 3), curve.color)
            painter.setPen(self.palette().text().color())
            painter.drawText(QPointF(rect.left() + 13, mid + metrics.ascent() / 2 - 1), self._legend_text(curve))

    def _draw_frame(self, painter: QPainter, plot: QRectF) -> None:
        frame = QColor(self.palette().text().color())
        frame.setAlpha(90)
        painter.setPen(frame)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(plot)


def _nice_ticks(lo: float, hi: float, count: int, *, integer: bool = False) -> list[float]:
    """Round tick values in [lo, hi]; `integer`: whole numbers only (an axis of training steps
    spanning 92..93 gets 92 and 93, not 92.2, 92.4, ...)."""
    span = hi - lo
    if span <= 0 or not math.isfinite(span):
        return []
    raw = span / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    if integer:
        step = max(1.0, float(math.ceil(step)) if step > 1 and step != int(step) else step)
    first = math.ceil(lo / step) * step
    ticks: list[float] = []
    value = first
    while value <= hi + 1e-12 and len(ticks) < 50:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _short_number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    a = abs(value)
    if a >= 1e6:
        return f"{value / 1e6:.3g}M"
    if a >= 1e4:
        return f"{value / 1e3:.3g}k"
    if a >= 100 or a == 0:
        return f"{value:.0f}"
    return f"{value:.3g}"
