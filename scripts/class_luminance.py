#!/usr/bin/env python
"""Mean luminance per class: real photos against generators' renderings (docs/output_quality.md,
"why painted scenes look dim").

    python scripts/class_luminance.py runs/RUN --model v0.3=resources/models/default.safetensors \\
        [--model NAME=FILE ...] [--painted benchmarks/painted_set] [--pattern 'street_*.png']

The real photos are the run's own validation pairs (its config.toml's holdout, as
scripts/choose_on_validation.py opens them); each model renders their label maps and the painted
scenes. A class's value is the mean over images of the mean luminance (Rec. 601, 0-255) of its
pixels in that image (images where the class covers at least 50 pixels). Prints a markdown table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from core.config import load_run_config
from core.data.registry import open_datasets
from core.io.imageio import read_label_ids
from core.labels import class_by_name
from core.render.infer import Predictor

CLASSES = ("road", "sidewalk", "building", "wall", "vegetation", "terrain", "sky", "person", "car", "pole", "fence")
MIN_PIXELS = 50
REC601 = np.array([0.299, 0.587, 0.114], np.float32)


def add_means(table: dict[tuple[str, str], list[float]], column: str, ids: np.ndarray, image: np.ndarray) -> None:
    luminance = image.astype(np.float32) @ REC601
    for name in CLASSES:
        pixels = ids == class_by_name(name).id
        if int(pixels.sum()) >= MIN_PIXELS:
            table.setdefault((column, name), []).append(float(luminance[pixels].mean()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a run folder: its validation pairs are the real photos")
    parser.add_argument("--model", action="append", required=True, metavar="NAME=FILE")
    parser.add_argument("--painted", type=Path, default=Path("benchmarks/painted_set"))
    parser.add_argument("--pattern", default="street_*.png")
    args = parser.parse_args()
    models = [(spec.split("=", 1)[0], Predictor.from_path(spec.split("=", 1)[1], "cpu", backend="eager"))
              for spec in args.model]
    cfg = load_run_config(args.run / "config.toml")
    _, val, _ = open_datasets(cfg.data, cfg.train.seed)
    if val is None or len(val) == 0:
        raise SystemExit(f"{args.run}: the run has no validation pairs")
    table: dict[tuple[str, str], list[float]] = {}
    for k in range(len(val)):
        ids, photo = val[k]
        add_means(table, "real photos", ids, photo)
        for name, predictor in models:
            add_means(table, f"{name} on real maps", ids, predictor.predict(ids))
    painted = sorted(args.painted.glob(args.pattern))
    for path in painted:
        ids = read_label_ids(path)
        for name, predictor in models:
            add_means(table, f"{name} on paintings", ids, predictor.predict(ids))
    columns = ["real photos"] + [f"{n} on real maps" for n, _ in models] + [f"{n} on paintings" for n, _ in models]
    print(f"{len(val)} validation pairs of {args.run}, {len(painted)} painted scenes; mean luminance 0-255")
    print("| class | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for name in CLASSES:
        cells = [f"{np.mean(table[(c, name)]):.0f}" if (c, name) in table else "-" for c in columns]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
