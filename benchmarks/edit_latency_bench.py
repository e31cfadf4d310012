"""Edit-mode latency (issue 19 §4): one edit render at 256×512, both renderers, against the plain
preview render, interleaved in one run.

    python -m benchmarks.edit_latency_bench [--photo PHOTO] [--photo-edit-model FILE] [--repeats 30]

The photo: PHOTO resized to 256×512, or (default, so it runs without ../shared) the default model's
rendering of the sample scene suburban_road.png. Its "original" labels are the sample's (or, with
--photo, the bundled segmenter's reading of it). Three edits, as a user makes them:
  small  — one car repainted as road (the crop around it is rendered),
  hedge  — a 40×120 px vegetation blob brushed onto the buildings,
  large  — the lower half of the image repainted (the whole image is rendered).
Each is rendered by core.edit.PhotoEditor (what the app's edit worker will call: backend auto,
interactive — ONNX Runtime when installed) with the "photo-edit", "paste" and "clone" renderers, and the
baseline is Predictor.predict of the default model on the whole 256×512 label map (today's
preview). Timed round-robin so machine noise hits all alike; p50, p95 and the ratio to the
preview are printed. Nothing is asserted; the target is p50 ≤ 150 ms at 256×512.
"""

from __future__ import annotations

import os

# As the app (desktop/app.py) before torch is imported: waiting OpenMP and ONNX Runtime threads
# sleep instead of spinning. Without it the preview's thread pool spins after every run against
# the next render (the clone renderer's numpy, on the same two cores), and the table measures
# that contention, not an edit.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import functools
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import machine, p95
from core.edit import PhotoEditor
from core.io.imageio import read_label_ids, read_rgb
from core.render.infer import Predictor
from core.labels import class_by_name
from core.io.resources import resource_path

SIZE = (256, 512)


def _scene(photo_path: Path | None, preview: Predictor) -> tuple[np.ndarray, np.ndarray]:
    if photo_path is None:
        ids = read_label_ids(resource_path("samples", "suburban_road.png"))
        ids = np.asarray(Image.fromarray(ids).resize(SIZE[::-1], Image.Resampling.NEAREST))
        return preview.predict(ids), ids
    from core.photo_labels.segment import PhotoSegmenter

    photo = np.asarray(Image.fromarray(read_rgb(photo_path)).resize(SIZE[::-1], Image.Resampling.LANCZOS))
    return photo, PhotoSegmenter().segment_rgb(photo)


def _edits(ids: np.ndarray) -> dict[str, np.ndarray]:
    road, car, veg = (class_by_name(n).id for n in ("road", "car", "vegetation"))
    small = ids.copy()
    cars = np.argwhere(ids == car)
    if len(cars):  # the car region around one car pixel (its bounding box of car pixels nearby)
        y, x = cars[len(cars) // 2]
        near = (np.abs(np.arange(ids.shape[0])[:, None] - y) < 24) & (np.abs(np.arange(ids.shape[1]) - x) < 40)
        small[near & (ids == car)] = road
    else:
        small[150:180, 200:260] = road
    hedge = ids.copy()
    hedge[90:130, 300:420] = veg
    large = ids.copy()
    large[128:] = road
    return {"small": small, "hedge": hedge, "large": large}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photo", type=Path, default=None)
    parser.add_argument("--photo-edit-model", type=Path, default=None, metavar="FILE")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    preview = Predictor.from_path(resource_path("models", "default.safetensors"), "cpu", backend="auto",
                                  background_build=False, interactive=True)
    photo, ids = _scene(args.photo, preview)
    editors = {"photo-edit": PhotoEditor.load("photo-edit", args.photo_edit_model, backend="auto", interactive=True),
               "paste": PhotoEditor.load("paste", backend="auto", interactive=True),
               "clone": PhotoEditor.load("clone", backend="auto", interactive=True)}
    edits = _edits(ids)
    jobs: dict[str, Callable[[], object]] = {"preview (whole map)": lambda: preview.predict(ids)}
    crops: dict[str, str] = {"preview (whole map)": f"{SIZE[0]}×{SIZE[1]}"}
    for edit_name, edited in edits.items():
        for renderer, editor in editors.items():
            key = f"{renderer}: {edit_name}"
            jobs[key] = functools.partial(editor.render, photo, ids, edited)
            box = editor.render(photo, ids, edited).box
            crops[key] = f"{box.height}×{box.width}" if box else "-"
    for job in jobs.values():  # warm-up
        for _ in range(3):
            job()
    times: dict[str, list[float]] = {k: [] for k in jobs}
    for _ in range(args.repeats):
        for key, job in jobs.items():
            t0 = time.perf_counter()
            job()
            times[key].append(time.perf_counter() - t0)
    print(f"machine: {machine()}")
    print(f"edit render (PhotoEditor.render: uint8 photo + label maps in, uint8 photo out) at {SIZE[0]}×{SIZE[1]}, "
          f"{args.repeats} runs each, interleaved; backend {preview.last_backend}")
    print("| render | crop rendered | p50 (ms) | p95 (ms) | × preview |")
    print("|---|---|---:|---:|---:|")
    base = statistics.median(times["preview (whole map)"])
    for key, values in times.items():
        med = statistics.median(values)
        print(f"| {key} | {crops[key]} | {med * 1e3:.1f} | {p95(values) * 1e3:.1f} | {med / base:.2f} |")


if __name__ == "__main__":
    main()
