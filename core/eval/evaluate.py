"""Evaluate a generator on the pairs of a real dataset split: the FCN-score of its renderings next
to the real photos (the ceiling) and flat class colours (the floor), pixel metrics against the real
photo, and the checkerboard index. `roadstudio-cli eval` prints and writes what this returns.

Every pair is first brought to one evaluation size: `size` when given, else the segmenter's
working size for the frame's aspect (Segmenter.work_size: 240×320 for CamVid's 360×480; small
frames are scaled up to it, as the segmenter only knows street scenes at that scale).
Labels are resized nearest-neighbour, the photo antialiased (as core.data.transforms validates).
The generator renders that label map at that size (deterministic: eval mode, no dropout noise);
the three images are segmented and everything is compared at that size.

Segmentation scores use one confusion matrix per image kind, summed over the split
(core.eval.scores), in the classes of the segmenter used (its ClassSet: the 11 CamVid classes of
the default judge, or the 19 brush classes of segmenter19); mean class accuracy and mean IoU
average over the classes present in the split's ground truth. The report names the brush classes
the segmenter cannot judge (folded onto a coarser class, or ignored). L1 (on [-1, 1] images),
PSNR and SSIM (on [0, 1]) are core.train.metrics, averaged per image. The checkerboard index is
core.eval.checkerboard, averaged per image.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.data.base import PairSource
from core.eval.checkerboard import CheckerboardMean
from core.eval.classes import NUM_CLASSES
from core.eval.scores import SegScores, confusion, scores_from_confusion
from core.eval.segmenter import Segmenter, as_tensor
from core.labels import ID_TO_COLOR
from core.train import metrics

KINDS = ("generated", "real", "flat")
KIND_TITLES = {"generated": "generated", "real": "real photo", "flat": "flat colours"}


def resize_pair(ids: np.ndarray, photo: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Labels nearest, photo antialiased bilinear, to (H, W)."""
    if ids.shape == size:
        return ids, photo
    t_ids = as_tensor(ids)[None, None].float()
    out_ids = F.interpolate(t_ids, size=size, mode="nearest")[0, 0].to(torch.uint8).numpy()
    t_photo = as_tensor(photo).permute(2, 0, 1)[None].float()
    down = size[0] < photo.shape[0] or size[1] < photo.shape[1]
    out_photo = F.interpolate(t_photo, size=size, mode="bilinear", align_corners=False, antialias=down)[0]
    return out_ids, out_photo.round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).contiguous().numpy()


def flat_colours(ids: np.ndarray) -> np.ndarray:
    """The label map painted in its palette colours: what a generator that learned nothing but
    the colour code would show."""
    return ID_TO_COLOR[ids]


@dataclass
class _Accumulator:
    num_classes: int = NUM_CLASSES
    matrix: np.ndarray = field(init=False)
    checker: CheckerboardMean = field(default_factory=CheckerboardMean)
    l1: float = 0.0
    psnr: float = 0.0
    ssim: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.matrix = np.zeros((self.num_classes, self.num_classes), np.int64)

    def add(self, truth: np.ndarray, predicted: np.ndarray, image: np.ndarray, real: np.ndarray,
            pixel_metrics: bool) -> None:
        self.matrix += confusion(truth, predicted, self.num_classes)
        self.checker.add(image)
        self.count += 1
        if pixel_metrics:
            fake_t = as_tensor(image).permute(2, 0, 1)[None].float() / 127.5 - 1.0
            real_t = as_tensor(real).permute(2, 0, 1)[None].float() / 127.5 - 1.0
            self.l1 += metrics.l1(fake_t, real_t)
            f01, r01 = metrics.to_unit(fake_t), metrics.to_unit(real_t)
            self.psnr += metrics.psnr(f01, r01)
            self.ssim += metrics.ssim(f01, r01)


@dataclass(frozen=True)
class KindResult:
    seg: SegScores
    l1: float | None  # None for the real photo (it is the reference)
    psnr: float | None
    ssim: float | None
    checkerboard: float
    checkerboard_periods: dict[int, float]

    def as_dict(self) -> dict[str, Any]:
        return {**self.seg.as_dict(), "l1": self.l1, "psnr": self.psnr, "ssim": self.ssim,
                "checkerboard": self.checkerboard,
                "checkerboard_periods": {str(p): v for p, v in self.checkerboard_periods.items()}}


@dataclass(frozen=True)
class EvalReport:
    dataset: str
    split: str
    pairs: int
    size: str  # "240×320", or "work size" when frames differ
    results: dict[str, KindResult]  # by KINDS
    present_classes: tuple[str, ...]
    seconds: float
    generator: str = ""
    segmenter: str = ""
    class_names: tuple[str, ...] = ()  # every class the segmenter knows, in its order
    cannot_judge: tuple[str, ...] = ()  # brush classes it has no class of its own for

    def ratios(self) -> dict[str, float | None]:
        """generated / real for the segmentation scores."""
        gen, real = self.results["generated"].seg, self.results["real"].seg
        out: dict[str, float | None] = {}
        for key in ("pixel_acc", "class_acc", "miou"):
            r = getattr(real, key)
            out[key] = getattr(gen, key) / r if r > 0 else None
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "split": self.split, "pairs": self.pairs, "size": self.size,
                "generator": self.generator, "segmenter": self.segmenter, "seconds": round(self.seconds, 1),
                "present_classes": list(self.present_classes), "segmenter_classes": list(self.class_names),
                "cannot_judge": list(self.cannot_judge),
                "results": {k: v.as_dict() for k, v in self.results.items()},
                "ratio_generated_to_real": self.ratios()}


def iter_pairs(source: PairSource, limit: int | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    n = len(source) if limit is None else min(limit, len(source))
    for i in range(n):
        yield source[i]


def evaluate_pairs(pairs: Iterable[tuple[np.ndarray, np.ndarray]], render: Callable[[np.ndarray], np.ndarray],
                   segmenter: Segmenter, size: tuple[int, int] | None = None, *, dataset: str = "",
                   split: str = "") -> EvalReport:
    """Score `render` (label ids -> uint8 photo) on (label ids, photo) pairs."""
    start = time.perf_counter()
    class_set = segmenter.class_set
    acc = {kind: _Accumulator(class_set.num_classes) for kind in KINDS}
    sizes: set[tuple[int, int]] = set()
    for ids, photo in pairs:
        target = size or segmenter.work_size(*ids.shape)
        sizes.add(target)
        ids, photo = resize_pair(ids, photo, target)
        generated = render(ids)
        flat = flat_colours(ids)
        truth = class_set.ids_to_classes(ids)
        predicted = segmenter.classes(np.stack([generated, photo, flat]))
        for kind, image, pred in zip(KINDS, (generated, photo, flat), predicted, strict=True):
            acc[kind].add(truth, pred, image, photo, pixel_metrics=kind != "real")
    count = acc["generated"].count
    if count == 0:
        raise ValueError("no pairs to evaluate")
    present = acc["generated"].matrix.sum(axis=1) > 0
    results: dict[str, KindResult] = {}
    for kind, a in acc.items():
        checker = a.checker.result()
        pixel = kind != "real"
        results[kind] = KindResult(
            seg=scores_from_confusion(a.matrix, class_set.names, present=present),
            l1=a.l1 / count if pixel else None, psnr=a.psnr / count if pixel else None,
            ssim=a.ssim / count if pixel else None,
            checkerboard=checker.index, checkerboard_periods=checker.per_period)
    size_text = "×".join(map(str, next(iter(sizes)))) if len(sizes) == 1 else "segmenter work size"
    return EvalReport(dataset=dataset, split=split, pairs=count, size=size_text, results=results,
                      present_classes=tuple(n for n, p in zip(class_set.names, present, strict=True) if p),
                      seconds=time.perf_counter() - start, class_names=class_set.names,
                      cannot_judge=class_set.cannot_judge())


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def format_table(report: EvalReport) -> str:
    """The side-by-side table `roadstudio-cli eval` prints."""
    r = report.results
    ratios = report.ratios()
    head = f"{'':<24}" + "".join(f"{KIND_TITLES[k]:>14}" for k in KINDS) + f"{'generated/real':>16}"
    lines = [f"FCN-score: {report.dataset} [{report.split}], {report.pairs} pairs at {report.size}",
             f"generator {report.generator}; segmenter {report.segmenter}", "", head, "-" * len(head)]

    def row(title: str, values: list[str], ratio: str = "") -> None:
        lines.append(f"{title:<24}" + "".join(f"{v:>14}" for v in values) + f"{ratio:>16}")

    row("pixel accuracy", [_fmt(r[k].seg.pixel_acc) for k in KINDS], _fmt(ratios["pixel_acc"], 2))
    row("mean class accuracy", [_fmt(r[k].seg.class_acc) for k in KINDS], _fmt(ratios["class_acc"], 2))
    row(f"mean IoU ({len(report.present_classes)} classes)", [_fmt(r[k].seg.miou) for k in KINDS],
        _fmt(ratios["miou"], 2))
    row("L1 vs real ([-1, 1])", [_fmt(r[k].l1) for k in KINDS])
    row("PSNR vs real (dB)", [_fmt(r[k].psnr, 2) for k in KINDS])
    row("SSIM vs real", [_fmt(r[k].ssim) for k in KINDS])
    row("checkerboard index", [_fmt(r[k].checkerboard, 2) for k in KINDS])
    lines.append("")
    lines.append("IoU per class (every class the segmenter knows; — = not in the split's labels)")
    for name in report.class_names:
        row(f"  {name}", [_fmt(r[k].seg.per_class_iou.get(name)) for k in KINDS])
    if report.cannot_judge:
        lines.append("")
        lines.append(f"cannot judge (no class of its own in this segmenter): {', '.join(report.cannot_judge)}"
                     " — use --segmenter city19 to judge every brush")
    return "\n".join(lines)
