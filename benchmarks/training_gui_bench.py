"""Does the training panel cost training speed, and does training stall the GUI?

Measures, on the same small config (synthetic streets, CPU unless --device says otherwise):
  * steps/s when the engine generator is iterated directly (what `roadstudio-cli train` does)
    versus through the panel (worker QThread, events forwarded as Qt signals, monitor updating,
    charts repainting), alternating the two to spread machine noise;
  * the longest gap between ticks of a 5 ms QTimer on the GUI thread while the panel trains and
    renders the user's canvas every sample interval (a stall the user would feel);
  * the loss chart's paint time with 100k points per curve.
Prints a markdown table; asserts nothing.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.training_gui_bench [--steps 60] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# OpenMP threads that spin-wait at barriers make the *main* thread up to ~14x slower on a CPU
# that other processes also use (measured on the shared 2-core dev machine: 0.33 vs 4.7 steps/s),
# while a worker thread is barely affected; that would flatter the panel. Passive waiting puts
# both paths on equal terms. Run with OMP_WAIT_POLICY=active to see the spinning effect.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np
from PySide6.QtWidgets import QApplication

from benchmarks.common import StallMeter, format_load, load_average, qt_app
from core.config import DataConfig, DiscriminatorConfig, GeneratorConfig, RunConfig, TrainConfig
from core.train.control import TrainingControl
from core.train.events import Event, Finished, Step
from core.train.loop import train
from desktop.training import TrainingPanel
from desktop.training.charts import LineChart

WARMUP_STEPS = 5  # first steps pay for allocator warm-up and thread start; not counted


def bench_config(steps: int, device: str, crop: int) -> RunConfig:
    load = round(crop * 286 / 256)
    return RunConfig(
        name="bench",
        generator=GeneratorConfig(depth=6, ngf=16),
        discriminator=DiscriminatorConfig(ndf=16, n_layers=3),
        data=DataConfig(path="synthetic", format="synthetic", load_size=(load, load), crop_size=(crop, crop),
                        synthetic_count=400, val_fraction=0.0),
        train=TrainConfig(batch_size=4, epochs=100, epochs_decay=0, max_steps=steps, sample_every=10,
                          checkpoint_every=10_000, device=device),  # type: ignore[arg-type]
    )


def canvas_labels() -> np.ndarray:
    ids = np.full((256, 512), 7, np.uint8)  # a painted street: sky, buildings, road, a car
    ids[:90] = 23
    ids[60:140, :200] = 11
    ids[150:190, 260:360] = 26
    return ids


def rate(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan")


def run_direct(cfg: RunConfig, run_dir: Path) -> float:
    control = TrainingControl()
    control.set_preview_labels(canvas_labels())
    times: list[float] = []
    for event in train(cfg, run_dir, control):
        if isinstance(event, Step) and event.step >= WARMUP_STEPS:
            times.append(time.perf_counter())
    return rate(times)


def run_in_thread(cfg: RunConfig, run_dir: Path) -> float:
    """The engine in a plain Python thread: separates thread effects from the cost of Qt."""
    import threading

    result: list[float] = []
    thread = threading.Thread(target=lambda: result.append(run_direct(cfg, run_dir)))
    thread.start()
    thread.join()
    return result[0]


def run_panel(app: QApplication, cfg: RunConfig, runs_dir: Path) -> tuple[float, float, int]:
    # Step times are taken in the worker thread as the engine yields (the GUI thread receives
    # queued signals in batches, so receipt times would overstate the rate).
    times: list[float] = []

    def timed_train(*args: Any, **kwargs: Any) -> Iterator[Event]:
        for event in train(*args, **kwargs):
            if isinstance(event, Step) and event.step >= WARMUP_STEPS:
                times.append(time.perf_counter())
            yield event

    panel = TrainingPanel(runs_dir, train_fn=timed_train)
    panel.resize(1200, 900)
    panel.show()
    panel.set_canvas_labels(canvas_labels())
    done: list[bool] = []

    def on_event(event: object) -> None:
        if isinstance(event, Finished):
            done.append(True)

    panel.event_emitted.connect(on_event)
    # Counted only while steps flow (model build and data set-up are not a GUI concern).
    meter = StallMeter(5, counting=lambda: bool(times))
    meter.start()
    # Launch a config directly, as the form's Start button does (the form is tested elsewhere).
    panel._launch(cfg, runs_dir / cfg.name, resume=False)  # noqa: SLF001 - no public 'start this config'
    while not done or panel.is_running:
        app.processEvents()
        time.sleep(0.001)
    meter.stop()
    paints = panel.monitor.l1_chart.paint_count
    panel.shutdown()
    panel.deleteLater()
    app.processEvents()
    return rate(times), meter.longest_ms or 0.0, paints


def chart_paint_ms(app: QApplication) -> float:
    chart = LineChart("bench")
    for name, colour in (("G_GAN", "#2e86de"), ("D_real", "#27ae60"), ("D_fake", "#c0392b")):
        chart.add_curve(name, colour)
        steps = np.arange(1, 100_001, dtype=np.float64)
        chart.extend(name, steps, np.random.default_rng(0).normal(0.7, 0.2, steps.size))
    chart.resize(600, 300)
    chart.show()
    app.processEvents()
    samples = []
    for _ in range(10):
        t0 = time.perf_counter()
        chart.repaint()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    app = qt_app(sys.argv)
    cfg = bench_config(args.steps, args.device, args.crop)
    direct, threaded, panel, stalls, paints = [], [], [], [], []
    with tempfile.TemporaryDirectory(prefix="roadstudio-gui-bench-") as tmp:
        for i in range(args.repeats):
            direct.append(run_direct(cfg, Path(tmp) / f"direct-{i}"))
            threaded.append(run_in_thread(cfg, Path(tmp) / f"thread-{i}"))
            r, stall, n = run_panel(app, cfg.replace(name=f"panel-{i}"), Path(tmp))
            panel.append(r)
            stalls.append(stall)
            paints.append(n)
    paint = chart_paint_ms(app)
    import torch

    print(f"\nLoad average at the end: {format_load(load_average())}")
    print(f"\nTraining from the panel vs the engine directly — {args.steps} steps "
          f"(first {WARMUP_STEPS} not timed), depth-6 U-Net ngf 16, {args.crop}×{args.crop}, batch 4, "
          f"synthetic streets, canvas preview 256×512 every 10 steps, device {args.device}, "
          f"{torch.get_num_threads()} torch threads, {os.cpu_count()} CPUs, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}\n")
    print("| path | steps/s (each run) | median |")
    print("|---|---|---|")
    print(f"| engine directly (CLI path) | {', '.join(f'{v:.2f}' for v in direct)} | {statistics.median(direct):.2f} |")
    print(f"| engine in a plain Python thread | {', '.join(f'{v:.2f}' for v in threaded)} | "
          f"{statistics.median(threaded):.2f} |")
    print(f"| panel worker thread | {', '.join(f'{v:.2f}' for v in panel)} | {statistics.median(panel):.2f} |")
    print()
    print("| GUI thread | value |")
    print("|---|---|")
    print(f"| longest gap between 5 ms heartbeats while training (each run) | "
          f"{', '.join(f'{v:.0f} ms' for v in stalls)} |")
    print(f"| loss-chart repaints during a run (throttled to ≤ 10/s) | {', '.join(map(str, paints))} |")
    print(f"| one chart repaint, 3 curves × 100k points, 600×300 px | {paint:.1f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
