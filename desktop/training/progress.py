"""Run progress bookkeeping for the monitor (plain Python, no Qt): rate, elapsed, ETA. Fed from
the GUI thread with the engine's events; cheap per step. (The "discriminator has won" collapse
watch lives in the engine, which emits it as a Warning_ event.)"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class RateMeter:
    """Steps per second over a sliding wall-clock window; pauses do not count as time."""

    def __init__(self, window_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.clock = clock
        self._points: deque[tuple[float, int]] = deque()
        self._elapsed = 0.0  # running time before the current stretch
        self._stretch_start: float | None = None

    def start(self) -> None:
        self._points.clear()
        self._elapsed = 0.0
        self._stretch_start = self.clock()

    def pause(self) -> None:
        if self._stretch_start is not None:
            self._elapsed += self.clock() - self._stretch_start
            self._stretch_start = None
        self._points.clear()  # a rate across a pause would be meaningless

    def resume(self) -> None:
        if self._stretch_start is None:
            self._stretch_start = self.clock()

    def stop(self) -> None:
        self.pause()

    def add(self, step: int) -> None:
        now = self.clock()
        self._points.append((now, step))
        while len(self._points) > 2 and now - self._points[0][0] > self.window_s:
            self._points.popleft()

    @property
    def rate(self) -> float | None:
        if len(self._points) < 2:
            return None
        (t0, s0), (t1, s1) = self._points[0], self._points[-1]
        if t1 <= t0 or s1 <= s0:
            return None
        return (s1 - s0) / (t1 - t0)

    @property
    def elapsed(self) -> float:
        running = self.clock() - self._stretch_start if self._stretch_start is not None else 0.0
        return self._elapsed + running

    def eta(self, step: int, total: int) -> float | None:
        rate = self.rate
        if rate is None or total <= 0:
            return None
        return max(0, total - step) / rate


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}:{m:02d}:{s:02d}"
    return f"{m}:{s:02d}"


def format_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"
