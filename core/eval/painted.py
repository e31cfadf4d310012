"""The realism score on paintings: label maps with no photo behind them.

What users feed the model are painted scenes (flat shapes, every brush), not the ragged label maps
of a dataset. `evaluate_label_maps` renders each painted label map, segments the rendering with the
segmenter (trained on real photos only) and scores how well the painted labels come back, next to
the same score for the flat class-colour image (the floor: a generator that only learned the colour
code). There is no real photo, so there is no ceiling and no pixel metric; the numbers compare
models on the same paintings (`roadstudio-cli eval --painted DIR`; the painted test set is
benchmarks/painted_set, made by scripts/make_painted_set.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.eval.evaluate import _Accumulator, _fmt, flat_colours, resize_pair
from core.eval.scores import SegScores, scores_from_confusion
from core.eval.segmenter import Segmenter

PAINTED_KINDS = ("generated", "flat")


@dataclass(frozen=True)
class PaintedReport:
    folder: str
    maps: int
    results: dict[str, SegScores]  # by PAINTED_KINDS
    checkerboard: float  # of the renderings
    present_classes: tuple[str, ...]
    seconds: float
    generator: str = ""
    segmenter: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"painted": self.folder, "maps": self.maps, "generator": self.generator,
                "segmenter": self.segmenter, "seconds": round(self.seconds, 1),
                "present_classes": list(self.present_classes), "checkerboard": self.checkerboard,
                "results": {k: v.as_dict() for k, v in self.results.items()}}


def evaluate_label_maps(maps: Iterable[np.ndarray], render: Callable[[np.ndarray], np.ndarray],
                        segmenter: Segmenter, size: tuple[int, int] | None = None, *,
                        folder: str = "") -> PaintedReport:
    """Score `render` (label ids -> uint8 photo) on painted label maps (see module docstring)."""
    start = time.perf_counter()
    class_set = segmenter.class_set  # the judge's classes: CamVid's 11 or the 19 brushes
    acc = {kind: _Accumulator(class_set.num_classes) for kind in PAINTED_KINDS}
    for ids in maps:
        target = size or segmenter.work_size(*ids.shape)
        ids, _ = resize_pair(ids, np.zeros((*ids.shape, 3), np.uint8), target)
        generated, flat = render(ids), flat_colours(ids)
        truth = class_set.ids_to_classes(ids)
        predicted = segmenter.classes(np.stack([generated, flat]))
        for kind, image, pred in zip(PAINTED_KINDS, (generated, flat), predicted, strict=True):
            acc[kind].add(truth, pred, image, image, pixel_metrics=False)
    if acc["generated"].count == 0:
        raise ValueError("no label maps to evaluate")
    present = acc["generated"].matrix.sum(axis=1) > 0
    results = {kind: scores_from_confusion(a.matrix, class_set.names, present=present) for kind, a in acc.items()}
    return PaintedReport(folder=folder, maps=acc["generated"].count, results=results,
                         checkerboard=acc["generated"].checker.result().index,
                         present_classes=tuple(n for n, p in zip(class_set.names, present, strict=True) if p),
                         seconds=time.perf_counter() - start)


def format_painted_table(report: PaintedReport) -> str:
    r = report.results
    head = f"{'':<24}{'generated':>14}{'flat colours':>14}"
    lines = [f"FCN-score on paintings: {report.folder}, {report.maps} label maps (no photos: no ceiling)",
             f"generator {report.generator}; segmenter {report.segmenter}", "", head, "-" * len(head)]

    def row(title: str, values: list[str]) -> None:
        lines.append(f"{title:<24}" + "".join(f"{v:>14}" for v in values))

    row("pixel accuracy", [_fmt(r[k].pixel_acc) for k in PAINTED_KINDS])
    row("mean class accuracy", [_fmt(r[k].class_acc) for k in PAINTED_KINDS])
    row(f"mean IoU ({len(report.present_classes)} classes)", [_fmt(r[k].miou) for k in PAINTED_KINDS])
    row("checkerboard index", [_fmt(report.checkerboard, 2), ""])
    lines += ["", "IoU per class"]
    for name in r["generated"].per_class_iou:
        values = [r[k].per_class_iou[name] for k in PAINTED_KINDS]
        if values[0] is not None:
            row(f"  {name}", [_fmt(v) for v in values])
    return "\n".join(lines)
