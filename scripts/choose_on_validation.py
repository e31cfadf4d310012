#!/usr/bin/env python
"""Choose among a run's candidate weights on the run's own validation pairs (never the test split).

    python scripts/choose_on_validation.py runs/default-model [--candidates FILE ...] [--segmenter camvid11]

The validation pairs are exactly those the run held out (its config.toml's data settings opened
the way training opens them: the val_fraction holdout of CamVid train+val and the held-out clip).
Default candidates: the last checkpoint's EMA weights and its raw weights (`last.raw.safetensors`),
and the EMA weights of the two step checkpoints before it. Each is scored with the realism score
(core.eval: the renderings segmented by a segmenter trained on real photos) and the table is
printed, best mIoU first; pick the top row.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.config import load_run_config
from core.data.registry import open_datasets
from core.eval.evaluate import evaluate_pairs, iter_pairs
from core.eval.segmenter import Segmenter, resolve_segmenter
from core.render.infer import Predictor


def _default_candidates(run: Path) -> list[Path]:
    ck = run / "checkpoints"
    steps = sorted(p for p in ck.glob("step_*.safetensors") if not p.name.endswith(".raw.safetensors"))
    found = [ck / "last.safetensors", ck / "last.raw.safetensors"] + steps[-3:-1]
    return [p for p in found if p.exists()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--candidates", type=Path, nargs="*", default=None)
    parser.add_argument("--segmenter", default=None,
                        help="camvid11, city19 or a segmenter file (default: eval's default, camvid11)")
    args = parser.parse_args()
    cfg = load_run_config(args.run / "config.toml")
    _, val, _ = open_datasets(cfg.data, cfg.train.seed)
    if val is None or len(val) == 0:
        raise SystemExit(f"{args.run}: the run has no validation pairs")
    segmenter = Segmenter.load(resolve_segmenter(args.segmenter))
    rows = []
    for path in args.candidates or _default_candidates(args.run):
        predictor = Predictor.from_path(path, "cpu", backend="eager")
        report = evaluate_pairs(iter_pairs(val, None), predictor.predict, segmenter)
        g, r = report.results["generated"].seg, report.results["real"].seg
        rows.append((g.miou, path, g, r))
        print(f"scored {path.name}: mIoU {g.miou:.3f}", flush=True)
    print(f"\nvalidation: {len(val)} pairs held out by {args.run}/config.toml (real photos: pixel acc "
          f"{rows[0][3].pixel_acc:.3f}, class acc {rows[0][3].class_acc:.3f}, mIoU {rows[0][3].miou:.3f})")
    print("| candidate | pixel acc | class acc | mIoU |")
    print("|---|---|---|---|")
    for _, path, g, _ in sorted(rows, key=lambda row: -row[0]):
        print(f"| {path.name} | {g.pixel_acc:.3f} | {g.class_acc:.3f} | {g.miou:.3f} |")


if __name__ == "__main__":
    main()
