"""Scrubbing the compare panel's step slider: does the GUI thread ever stall?

    python -m benchmarks.compare_scrub_bench [--run RUN_DIR] [--checkpoints 8] [--passes 2] [--mode side]

Without --run, a run folder of default-model-sized generators (depth 7, ngf 16; random weights)
is written to a temporary folder. The slider is moved one checkpoint every 40 ms by key events
(as a user's drag delivers them), forwards then back, `--passes` times; the first pass renders,
later ones come from the render cache. A 5 ms heartbeat timer on the GUI thread measures the
longest gap (a stall shows as a long gap); the GUI-thread time of each slider move is timed too.
Prints a markdown table (ms). Never asserted: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np


def _make_run(folder: Path, count: int) -> Path:
    import torch

    from core.weights.checkpoints import save_weights
    from core.config import GeneratorConfig
    from core.models import build_generator

    cfg = GeneratorConfig(depth=7, ngf=16)
    run = folder / "bench-run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.toml").write_text("# benchmark\n")
    for i in range(count):
        torch.manual_seed(i)
        save_weights(run / "checkpoints" / f"step_{(i + 1) * 100:07d}.safetensors", build_generator(cfg), cfg,
                     {"step": (i + 1) * 100})
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="a run folder with step checkpoints (default: made up)")
    parser.add_argument("--checkpoints", type=int, default=8)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--interval-ms", type=int, default=40)
    parser.add_argument("--mode", choices=("side", "swipe", "diff"), default="side")
    args = parser.parse_args(argv)

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from benchmarks.common import StallMeter, machine, p95
    from desktop.compare.controller import CompareController
    from desktop.compare.panel import ComparePanel
    from desktop.preview.worker import ModelSource

    app = QApplication.instance() or QApplication([])
    tmp = tempfile.TemporaryDirectory()
    run = args.run or _make_run(Path(tmp.name), args.checkpoints)
    from core.io.resources import resource_path
    from core.io.imageio import read_label_ids

    try:
        ids = read_label_ids(resource_path("samples", "city_street.png"))
    except Exception:  # noqa: BLE001 - any 256×512 scene will do
        ids = np.full((256, 512), 7, np.uint8)
    controller = CompareController(lambda: (1, ids), device="cpu")
    panel = ComparePanel(controller)
    panel.resize(1100, 700)
    panel.show()
    panel.set_mode(args.mode)
    panel.set_source("B", ModelSource(path=Path(resource_path("models", "default.safetensors"))))
    panel.set_run(run, step_index=0)
    deadline = time.monotonic() + 600
    while (not panel.checkpoints or controller.shown("A") is None or controller.shown("B") is None) \
            and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    count = len(panel.checkpoints)
    from desktop import gc_policy

    gc_policy.freeze_startup_objects()  # as the main window does once its first model has loaded

    meter = StallMeter(5)
    meter.start()
    slider = panel.step_slider
    slider.setFocus()
    moves: list[float] = []
    move_cpu: list[float] = []  # GUI-thread CPU time: what the move costs, without being descheduled
    latencies: list[float] = []
    controller.rendered.connect(lambda side, seconds: latencies.append(seconds) if side == "A" else None)
    plan = ([Qt.Key.Key_Right] * (count - 1) + [Qt.Key.Key_Left] * (count - 1)) * args.passes
    hits_before = controller.cache.hits
    for key in plan:
        start, cpu = time.perf_counter(), time.thread_time()
        QTest.keyClick(slider, key)  # valueChanged -> cache lookup or a request, on this thread
        moves.append((time.perf_counter() - start) * 1000)
        move_cpu.append((time.thread_time() - cpu) * 1000)
        until = time.monotonic() + args.interval_ms / 1000
        while time.monotonic() < until:
            app.processEvents()
            time.sleep(0.002)
    settle = time.monotonic() + 60
    while any(controller.busy(s) for s in ("A", "B")) and time.monotonic() < settle:
        app.processEvents()
        time.sleep(0.005)
    meter.stop()
    gaps = meter.gaps_ms
    diff_ms = panel.view.diff_ms
    info = machine()
    print(f"machine: {info['cpu']}, {info['logical_cpus']} CPUs, load {info['load_average_1min']:.1f}, "
          f"torch {info['torch']}")
    print(f"{count} checkpoints, {len(plan)} slider moves every {args.interval_ms} ms, view {args.mode}, "
          f"cache hits {controller.cache.hits - hits_before}, renders {controller.requests_sent['A']}")
    print()
    print("| what | median | p95 | max |")
    print("|---|---|---|---|")
    print(f"| GUI heartbeat gap (5 ms timer) | {np.median(gaps):.1f} | {p95(gaps):.1f} | {max(gaps):.1f} |")
    print(f"| GUI-thread wall time per slider move | {np.median(moves):.2f} | {p95(moves):.2f} | {max(moves):.2f} |")
    print(f"| GUI-thread CPU time per slider move | {np.median(move_cpu):.2f} | {p95(move_cpu):.2f} | "
          f"{max(move_cpu):.2f} |")
    if latencies:
        ms = [v * 1000 for v in latencies]
        print(f"| load + render of one step in the worker (256×512) | {np.median(ms):.0f} | {p95(ms):.0f} "
              f"| {max(ms):.0f} |")
    if diff_ms is not None:
        print(f"| difference map, background thread (last) | {diff_ms:.1f} | | |")
    panel.shutdown()
    controller.stop()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
