#!/usr/bin/env python
"""Decide the default model's architecture by measurement: train each generator/discriminator
variant with the same data, seed and step budget (the `default-model` preset with only the variant
settings changed), then score every one with the realism score of `roadstudio-cli eval` on the
CamVid test split, and print one markdown table.

    python scripts/compare_variants.py --steps 4000 --out runs/variants [--limit 233]
    python scripts/compare_variants.py --use resize_d2_feat10=runs/default-model/checkpoints/step_0004000.safetensors

Arms (name: --upsample, --d-scales, --lambda-feat):
    transpose_d1_feat0   the paper's decoder and discriminator (the 0.1 default model's recipe)
    resize_d1_feat0      resize decoder only
    resize_d2_feat0      + two-scale PatchGAN
    resize_d2_feat10     + feature matching (pix2pixHD)
A run folder that already holds the arm's checkpoint is reused; --use takes an arm's checkpoint
from elsewhere (e.g. the same step of the full default-model run, which shares seed and data
order with the arm: a run's first N steps do not depend on its total length, except through the
learning-rate schedule, which is constant for the first half of the epochs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

# Run as a script from a checkout: the repository root on the path, so core/ imports.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.io.atomic import atomic_write_text
from core.train.presets import CAMVID

REPO = Path(__file__).resolve().parent.parent

ARMS: dict[str, tuple[str, int, float]] = {
    "transpose_d1_feat0": ("transpose", 1, 0.0),
    "resize_d1_feat0": ("resize", 1, 0.0),
    "resize_d2_feat0": ("resize", 2, 0.0),
    "resize_d2_feat10": ("resize", 2, 10.0),
}


def train_arm(name: str, run_dir: Path, steps: int) -> None:
    upsample, scales, feat = ARMS[name]
    cmd = [sys.executable, "-m", "core", "train", "--preset", "default-model", "--run-dir", str(run_dir),
           "--upsample", upsample, "--d-scales", str(scales), "--lambda-feat", str(feat), "--max-steps", str(steps),
           "--checkpoint-every", str(steps), "--sample-every", str(max(1, steps // 4))]
    if (run_dir / "config.toml").exists():
        cmd = [sys.executable, "-m", "core", "train", "--resume", str(run_dir), "--max-steps", str(steps)]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    subprocess.run(cmd, cwd=REPO, env=env, check=True)


def step_time(run_dir: Path) -> float | None:
    """Median optimizer step time (s) from the run's metrics.jsonl."""
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return None
    times = [json.loads(line)["step_time"] for line in path.read_text().splitlines() if '"kind": "step"' in line]
    return statistics.median(times) if times else None


def evaluate(checkpoint: Path, data: Path, limit: int | None) -> dict:
    from core.cli.eval_cmd import open_eval_split
    from core.eval.evaluate import evaluate_pairs, iter_pairs
    from core.eval.segmenter import Segmenter
    from core.render.infer import Predictor

    _, split, source = open_eval_split(data, "test", "BtoA")
    predictor = Predictor.from_path(checkpoint, "cpu", backend="eager", background_build=False)
    report = evaluate_pairs(iter_pairs(source, limit), predictor.predict, Segmenter.load(None),
                            dataset=str(data), split=split)
    return report.as_dict()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "variants", help="folder of the arms' runs")
    parser.add_argument("--steps", type=int, default=4000, help="step budget of every arm")
    parser.add_argument("--data", type=Path, default=REPO / CAMVID, help="CamVid (its test split is scored)")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N test pairs")
    parser.add_argument("--use", action="append", default=[], metavar="ARM=CHECKPOINT",
                        help="take this arm's checkpoint from elsewhere instead of training it")
    parser.add_argument("--no-train", action="store_true", help="score only arms that already have a checkpoint")
    parser.add_argument("--json", type=Path, help="write all numbers here (default: OUT/variants.json)")
    args = parser.parse_args(argv)

    given = dict(item.split("=", 1) for item in args.use)
    rows = []
    for name in ARMS:
        run_dir = args.out / name
        checkpoint = Path(given[name]) if name in given else run_dir / "checkpoints" / "last.safetensors"
        if not checkpoint.exists():
            if args.no_train:
                print(f"{name}: no checkpoint at {checkpoint}; skipped", file=sys.stderr)
                continue
            train_arm(name, run_dir, args.steps)
        timing_dir = checkpoint.parent.parent
        result = evaluate(checkpoint, args.data, args.limit)
        rows.append({"arm": name, "checkpoint": str(checkpoint), "step_time_s": step_time(timing_dir), **result})

    lines = ["| variant | pixel acc | class acc | mIoU | mIoU / real | L1 | SSIM | checkerboard | step (s) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        gen = row["results"]["generated"]
        ratio = row["ratio_generated_to_real"]["miou"]
        st = row["step_time_s"]
        lines.append(f"| {row['arm']} | {gen['pixel_acc']:.3f} | {gen['class_acc']:.3f} | {gen['miou']:.3f} | "
                     f"{ratio:.2f} | {gen['l1']:.3f} | {gen['ssim']:.3f} | {gen['checkerboard']:.2f} | "
                     + (f"{st:.3f}" if st else "—") + " |")
    if rows:
        real, flat = rows[0]["results"]["real"], rows[0]["results"]["flat"]
        lines.append(f"| real photos | {real['pixel_acc']:.3f} | {real['class_acc']:.3f} | {real['miou']:.3f} | 1.00 "
                     f"| — | — | {real['checkerboard']:.2f} | — |")
        lines.append(f"| flat class colours | {flat['pixel_acc']:.3f} | {flat['class_acc']:.3f} | {flat['miou']:.3f} "
                     f"| {flat['miou'] / real['miou']:.2f} | {flat['l1']:.3f} | {flat['ssim']:.3f} "
                     f"| {flat['checkerboard']:.2f} | — |")
    print("\n".join(lines))
    out = args.json or args.out / "variants.json"
    atomic_write_text(out, json.dumps(rows, indent=2) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
