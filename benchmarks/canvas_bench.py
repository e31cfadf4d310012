"""Speed of the painting screen (issue 4). Prints a markdown table; asserts nothing.

    python -m benchmarks.canvas_bench [--strokes 12] [--stall-seconds 10] [--quick]

Measures, offscreen, with real QMouseEvents on the real main window:
  1. stroke end -> preview of that stroke on screen (p50/p95), 256×512 canvas, unet_256-style
     generators (depth 8) with ngf 32 and ngf 64 (random weights: timing only);
  2. GUI-thread time per mouse-move event while painting on a 1024×2048 canvas (event delivery,
     document update, recolouring, preview request, and the repaint it schedules);
  3. the longest GUI-thread stall while previews run back to back (a 5 ms QTimer heartbeat;
     a gap longer than 5 ms is time the GUI thread could not react);
  4. file work: recovery autosave, open and save of a 1024×2048 map.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import torch
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from benchmarks.common import StallMeter, qt_app
from core.weights.checkpoints import save_weights
from core.config import GeneratorConfig
from core.models import build_generator
from desktop import settings
from desktop.scene import files
from desktop.scene.default import default_scene
from desktop.preview.worker import ModelSource

if TYPE_CHECKING:
    from desktop.main_window import MainWindow


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def send_mouse(widget: QWidget, kind: QEvent.Type, x: float, y: float, pressed: bool) -> None:
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    buttons = Qt.MouseButton.LeftButton if pressed else Qt.MouseButton.NoButton
    pos = QPointF(x, y)
    QApplication.sendEvent(widget, QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons,
                                               Qt.KeyboardModifier.NoModifier))


def wait_until(app: QApplication, predicate: Callable[[], bool], timeout_s: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout_s
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("timed out")
        app.processEvents()
        time.sleep(0.0005)


def make_model(folder: Path, ngf: int) -> Path:
    torch.manual_seed(0)
    cfg = GeneratorConfig(depth=8, ngf=ngf)
    return save_weights(folder / f"unet256_ngf{ngf}.safetensors", build_generator(cfg), cfg)


def new_window(app: QApplication, ids: np.ndarray, model: Path | None) -> MainWindow:
    from desktop.main_window import MainWindow

    window = MainWindow(device="cpu")
    window.resize(1400, 760)
    window.session.load_ids(ids, None)
    window.show()
    app.processEvents()
    window.canvas.fit()
    if model is not None:
        window.load_model(ModelSource(path=model))
        wait_until(app, lambda: window.preview.has_model and window.shown_version == window.session.document.version)
    return window


def stroke_points(window: MainWindow, i: int, n: int = 12) -> list[tuple[float, float]]:
    c = window.canvas
    y = c.height() * (0.2 + 0.6 * ((i * 7) % 10) / 10)
    return [(c.width() * (0.1 + 0.8 * k / (n - 1)), y) for k in range(n)]


def paint_stroke(app: QApplication, window: MainWindow, points: list[tuple[float, float]],
                 move_interval_s: float = 0.0) -> None:
    """One brush stroke through `points` with real mouse events on the canvas (press, moves, release),
    letting the GUI handle each move; `move_interval_s` between moves (0.016: a 60 Hz mouse)."""
    send_mouse(window.canvas, QEvent.Type.MouseButtonPress, *points[0], True)
    for p in points[1:]:
        send_mouse(window.canvas, QEvent.Type.MouseMove, *p, True)
        app.processEvents()
        if move_interval_s:
            time.sleep(move_interval_s)
    send_mouse(window.canvas, QEvent.Type.MouseButtonRelease, *points[-1], False)


def bench_stroke_to_preview(app: QApplication, folder: Path, ngf: int, strokes: int) -> dict[str, float]:
    ids, _, _ = default_scene()
    window = new_window(app, ids, make_model(folder, ngf))
    labels = [24, 26, 21, 11, 8]
    latencies, inference = [], []
    for i in range(strokes):
        window.canvas.set_current_class(labels[i % len(labels)])
        paint_stroke(app, window, stroke_points(window, i), move_interval_s=0.016)  # a 60 Hz mouse
        end = time.perf_counter()
        target = window.session.document.version
        def reached(target: int = target) -> bool:
            return window.shown_version >= target

        wait_until(app, reached)
        latencies.append(time.perf_counter() - end)
        inference.append(window.preview.last_latency_s or 0.0)
        wait_until(app, lambda: not window.preview.in_flight)
    window.shutdown()
    window.close()
    return {"p50": pct(latencies, 50), "p95": pct(latencies, 95), "inf50": pct(inference, 50)}


def bench_mouse_move(app: QApplication, folder: Path, model: Path | None, moves: int = 300) -> dict[str, float]:
    h, w = 1024, 2048
    ids = np.full((h, w), 7, dtype=np.uint8)
    ids[: h // 3] = 23
    window = new_window(app, ids, model)
    window.canvas.set_brush_size(24)
    c = window.canvas
    costs, cpu = [], []
    send_mouse(c, QEvent.Type.MouseButtonPress, c.width() * 0.1, c.height() * 0.5, True)
    app.processEvents()
    for k in range(moves):
        x = c.width() * (0.1 + 0.8 * k / moves)
        y = c.height() * (0.5 + 0.2 * np.sin(k / 15))
        start, start_cpu = time.perf_counter(), time.thread_time()
        send_mouse(c, QEvent.Type.MouseMove, x, y, True)
        app.processEvents()  # includes the repaint the move scheduled
        costs.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)  # GUI-thread CPU: immune to other processes
    send_mouse(c, QEvent.Type.MouseButtonRelease, x, y, False)
    app.processEvents()
    window.shutdown()
    window.close()
    return {"p50": pct(costs, 50), "p95": pct(costs, 95), "max": max(costs),
            "cpu50": pct(cpu, 50), "cpu95": pct(cpu, 95), "cpumax": max(cpu)}


def bench_stall(app: QApplication, folder: Path, ngf: int, seconds: float) -> dict[str, float]:
    ids, _, _ = default_scene()
    window = new_window(app, ids, make_model(folder, ngf))
    meter = StallMeter(5, precise=True)
    meter.start()
    seed = [0]
    previews = [0]

    def next_preview(*_args: object) -> None:  # a new variation each time: previews back to back
        previews[0] += 1
        seed[0] += 1
        window.preview.set_variation(seed[0])

    window.preview.preview_shown.connect(next_preview)
    next_preview()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    meter.stop()
    window.preview.preview_shown.disconnect(next_preview)
    window.shutdown()
    window.close()
    extra = [(g - meter.interval_ms) / 1000 for g in meter.gaps_ms[1:]]
    return {"max": max(extra), "p99": pct(extra, 99), "previews": previews[0]}


def bench_files(folder: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    files.save_label_map(folder / "warm.png", np.zeros((16, 16), np.uint8), "color")  # first-call imports
    files.open_label_map(folder / "warm.png")
    for h, w in ((256, 512), (1024, 2048)):
        rng = np.random.default_rng(0)
        ids = np.full((h, w), 7, dtype=np.uint8)
        ids[: h // 3] = 23
        for _ in range(40):  # some shapes so the PNG is not trivially compressible
            y, x = rng.integers(0, h - 40), rng.integers(0, w - 80)
            ids[y : y + 40, x : x + 80] = rng.choice([26, 24, 11, 21, 8])
        store = files.RecoveryStore(folder / f"rec{h}")
        start = time.perf_counter()
        store.save(ids, None)
        out[f"autosave {w}×{h}"] = time.perf_counter() - start
        start = time.perf_counter()
        files.save_label_map(folder / f"c{h}.png", ids, "color")
        out[f"save colour PNG {w}×{h}"] = time.perf_counter() - start
        start = time.perf_counter()
        files.open_label_map(folder / f"c{h}.png")
        out[f"open colour PNG {w}×{h}"] = time.perf_counter() - start
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=12)
    parser.add_argument("--stall-seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="ngf 32 only, fewer strokes")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="canvas_bench_"))
    settings.isolate(folder / "home")
    app = qt_app()
    settings.configure_application()
    ngfs = (32,) if args.quick else (32, 64)
    strokes = 4 if args.quick else args.strokes
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"Qt platform {app.platformName()}\n")
    rows: list[tuple[str, str]] = []
    for ngf in ngfs:
        r = bench_stroke_to_preview(app, folder, ngf, strokes)
        rows.append((f"stroke end → preview shown, 256×512, unet_256 ngf {ngf} (p50 / p95)",
                     f"{r['p50'] * 1000:.0f} ms / {r['p95'] * 1000:.0f} ms "
                     f"(inference alone p50 {r['inf50'] * 1000:.0f} ms)"))
    for label, model in (("no model", None), ("previews running (ngf 32)", make_model(folder, 32))):
        r = bench_mouse_move(app, folder, model)
        rows.append((f"GUI thread per mouse-move, 1024×2048, {label}: CPU time p50 / p95 / max",
                     f"{r['cpu50'] * 1000:.2f} / {r['cpu95'] * 1000:.2f} / {r['cpumax'] * 1000:.2f} ms "
                     f"(wall p50 / p95 {r['p50'] * 1000:.2f} / {r['p95'] * 1000:.2f} ms)"))
    ngf = ngfs[-1]
    r = bench_stall(app, folder, ngf, args.stall_seconds)
    rows.append((f"longest GUI stall, previews back to back for {args.stall_seconds:.0f} s (ngf {ngf}, 256×512)",
                 f"{r['max'] * 1000:.1f} ms (p99 {r['p99'] * 1000:.1f} ms, {r['previews']} previews)"))
    for name, seconds in bench_files(folder).items():
        rows.append((name + " (background thread)", f"{seconds * 1000:.1f} ms"))
    print("| measurement | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
