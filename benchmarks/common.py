"""What every benchmark reports the same way: the machine it ran on, p95, the load average, the
GUI thread's longest stall, and the end of a run (markdown printed, JSON written)."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from core.io.atomic import atomic_write_text

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication


def machine() -> dict[str, Any]:
    """CPU model, core and thread counts, versions and the 1-minute load average (a load above
    the CPU count means other processes competed for the cores and timings are inflated)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import onnxruntime

        ort = onnxruntime.__version__
    except ImportError:
        ort = "missing"
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": cpu, "logical_cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "onnxruntime": ort, "isa": torch.backends.cpu.get_cpu_capability(),
            "gpu": gpu, "python": platform.python_version(), "os": f"{platform.system()} {platform.release()}",
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
            "load_average_1min": load_average()}


def load_average() -> float | None:
    """The 1-minute load average (None where the OS has none, e.g. Windows)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def format_load(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def finish(result: dict[str, Any], started: float, markdown: Callable[[dict[str, Any]], str], json_path: Path) -> None:
    """The end of a benchmark run: total seconds and the load average at the end go into the
    result, its markdown is printed and kept in it, and the whole is written as JSON (atomically)."""
    result["seconds"] = time.perf_counter() - started
    result["load_average_end"] = load_average()
    text = markdown(result)
    print(text)
    result["markdown"] = text
    json_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(json_path, json.dumps(result, indent=2))


def qt_app(argv: list[str] | None = None) -> QApplication:
    """The running QApplication, or a new one (Qt imported here: see StallMeter)."""
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    return QApplication(argv if argv is not None else sys.argv[:1])


class StallMeter:
    """How long the GUI thread's event loop could not run: a QTimer fires every `interval_ms` on
    the GUI thread, and the gap between two of its beats is recorded (a stall shows as a long gap).

    `counting()` (optional) says whether a beat's gap counts, e.g. only while training steps flow;
    `on_beat(gap_ns)` (optional) sees every beat, for reports of their own (scripts/soak.py).
    Qt is imported here, not at the top: the benchmarks without a GUI never load it.
    """

    def __init__(self, interval_ms: int = 5, *, precise: bool = False, counting: Callable[[], bool] | None = None,
                 on_beat: Callable[[int], None] | None = None) -> None:
        from PySide6.QtCore import QElapsedTimer, Qt, QTimer

        self.interval_ms = interval_ms
        self.gaps_ms: list[float] = []
        self._counting = counting
        self._on_beat = on_beat
        self._clock = QElapsedTimer()
        self._last_ns = 0
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        if precise:
            self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._on_timer_timeout)

    def start(self) -> None:
        self._clock.start()
        self._last_ns = self._clock.nsecsElapsed()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def longest_ms(self) -> float | None:
        return max(self.gaps_ms) if self.gaps_ms else None

    def _on_timer_timeout(self) -> None:
        now = self._clock.nsecsElapsed()
        gap_ns, self._last_ns = now - self._last_ns, now
        if self._on_beat is not None:
            self._on_beat(gap_ns)
        if self._counting is None or self._counting():
            self.gaps_ms.append(gap_ns / 1e6)
