"""Preview latency of generator files at the app's canvas size, interleaved in one run.

    python -m benchmarks.preview_latency_bench [--model NAME=FILE ...] [--size 256x512] [--repeats 30]

Default models: the bundled default model and, when given with --baseline, an older file. Each
model gets a core.render.infer.Predictor as the app's preview worker builds it (backend "auto": ONNX
Runtime when installed, else eager; the app's threads), warmed up, then `predict` (uint8 label ids
in, uint8 photo out: what a preview costs end to end) is timed round-robin across the models so
machine noise hits all alike. Prints median (p50) and p95 per model and the ratio to the first.
Nothing is asserted; the target for the default model is p50 ≤ 60 ms at 256×512 (issue 18).
"""

from __future__ import annotations

import os

# As the app (desktop/app.py) before torch is imported: waiting OpenMP and ONNX Runtime threads
# sleep instead of spinning. Without it the interleaved models' thread pools spin against each
# other after every run, and the table measures that contention, not a preview.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import statistics
import time
from pathlib import Path

from benchmarks.common import machine, p95
from core.io.imageio import read_label_ids
from core.render.infer import Predictor
from core.io.resources import resource_path


def _size(text: str) -> tuple[int, int]:
    h, w = (int(v) for v in text.lower().split("x"))
    return h, w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", default=[], metavar="NAME=FILE")
    parser.add_argument("--size", type=_size, default=(256, 512))
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    specs = args.model or [f"default={resource_path('models', 'default.safetensors')}"]
    ids = read_label_ids(resource_path("samples", "suburban_road.png"))
    if ids.shape != args.size:
        import numpy as np
        from PIL import Image

        ids = np.asarray(Image.fromarray(ids).resize(args.size[::-1], Image.Resampling.NEAREST))
    predictors = []
    for spec in specs:
        name, path = spec.split("=", 1)
        predictor = Predictor.from_path(Path(path), "cpu", backend="auto", background_build=False, interactive=True)
        for _ in range(3):
            predictor.predict(ids)
        predictors.append((name, predictor))
    times: dict[str, list[float]] = {name: [] for name, _ in predictors}
    backends: dict[str, str] = {}
    for _ in range(args.repeats):
        for name, predictor in predictors:
            t0 = time.perf_counter()
            predictor.predict(ids)
            times[name].append(time.perf_counter() - t0)
            backends[name] = str(predictor.last_backend)
    print(f"machine: {machine()}")
    print(f"preview (Predictor.predict, uint8 in/out) at {args.size[0]}×{args.size[1]}, {args.repeats} runs each, "
          "interleaved")
    print("| model | backend | p50 (ms) | p95 (ms) | × first |")
    print("|---|---|---:|---:|---:|")
    first = statistics.median(times[predictors[0][0]])
    for name, _ in predictors:
        med = statistics.median(times[name])
        print(f"| {name} | {backends[name]} | {med * 1e3:.1f} | {p95(times[name]) * 1e3:.1f} | {med / first:.2f} |")


if __name__ == "__main__":
    main()
