"""Segmentation scores from a confusion matrix: per-pixel accuracy, mean class accuracy, mean IoU
(the FCN-score of the pix2pix paper, Isola et al. 2017, section 4.2).

    C[t, p] = pixels whose true class is t and predicted class p (ignored pixels never counted)
    pixel accuracy       = Σ_t C[t, t] / Σ C
    class accuracy (t)   = C[t, t] / Σ_p C[t, p]                      (recall of class t)
    IoU (t)              = C[t, t] / (Σ_p C[t, p] + Σ_s C[s, t] - C[t, t])
    mean class accuracy and mean IoU average over the classes PRESENT in the ground truth
    (Σ_p C[t, p] > 0): a class that never occurs cannot be recognised, so it does not count.

Matrices are accumulated over a whole split (summed, not averaged per image), as is usual for
segmentation benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.eval.classes import CLASS_NAMES, IGNORE, NUM_CLASSES


def confusion(truth: np.ndarray, predicted: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """int64 (K, K) confusion matrix of class-index arrays of one shape; truth == IGNORE (or any
    value ≥ K) is skipped."""
    if truth.shape != predicted.shape:
        raise ValueError(f"truth {truth.shape} and prediction {predicted.shape} differ in shape")
    t = truth.reshape(-1).astype(np.int64)
    p = predicted.reshape(-1).astype(np.int64)
    keep = (t < num_classes) & (p < num_classes)
    return np.bincount(t[keep] * num_classes + p[keep], minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)


@dataclass(frozen=True)
class SegScores:
    pixel_acc: float
    class_acc: float
    miou: float
    per_class_iou: dict[str, float | None]  # None: the class is absent from the ground truth
    per_class_acc: dict[str, float | None]
    pixels: int

    def as_dict(self) -> dict[str, object]:
        return {"pixel_acc": self.pixel_acc, "class_acc": self.class_acc, "miou": self.miou,
                "per_class_iou": self.per_class_iou, "per_class_acc": self.per_class_acc, "pixels": self.pixels}


def scores_from_confusion(matrix: np.ndarray, names: tuple[str, ...] = CLASS_NAMES,
                          present: np.ndarray | None = None) -> SegScores:
    """Scores of a (K, K) confusion matrix. `present`: which classes to average over (default:
    those with ground-truth pixels in `matrix`)."""
    m = matrix.astype(np.float64)
    truth_px = m.sum(axis=1)
    pred_px = m.sum(axis=0)
    tp = np.diag(m)
    total = m.sum()
    if present is None:
        present = truth_px > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        acc = np.where(truth_px > 0, tp / truth_px, 0.0)
        union = truth_px + pred_px - tp
        iou = np.where(union > 0, tp / union, 0.0)
    n_present = int(present.sum())
    return SegScores(
        pixel_acc=float(tp.sum() / total) if total else 0.0,
        class_acc=float(acc[present].mean()) if n_present else 0.0,
        miou=float(iou[present].mean()) if n_present else 0.0,
        per_class_iou={n: (float(iou[i]) if present[i] else None) for i, n in enumerate(names)},
        per_class_acc={n: (float(acc[i]) if present[i] else None) for i, n in enumerate(names)},
        pixels=int(total),
    )


__all__ = ["IGNORE", "SegScores", "confusion", "scores_from_confusion"]
