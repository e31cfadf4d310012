"""The FCN-score of generated images, for validation during training.

    realism_score(generated_uint8_batch, label_ids_batch) -> {"pixel_acc", "class_acc", "miou"}

segments the generated images with the bundled segmenter (trained on real photos only) and
measures how well the painted labels come back (core.eval.scores; mIoU over the classes present
in these labels). The training loop uses it at each validation, on a fixed handful of validation
pairs (REALISM_PAIRS, the first ones of the validation set: same pairs every time, so the curve
over steps compares like with like), and only when the validation data is real photos of at least
MIN_SIDE pixels a side: on synthetic streets "looks like a real photo" is not what the labels were
drawn from, and thumbnails are below the segmenter's scale.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from core.eval.classes import NUM_CLASSES, ids_to_classes
from core.eval.scores import confusion, scores_from_confusion
from core.eval.segmenter import Segmenter, default_segmenter_path

#: Validation pairs scored at each validation (the first ones of the validation set). At 256×256
#: about 40 ms each on one CPU thread.
REALISM_PAIRS = 16
#: Validation images smaller than this (either side) are not scored.
MIN_SIDE = 64


@lru_cache(maxsize=4)
def _cached(path: str, device: str) -> Segmenter:
    return Segmenter.load(path, device)


def load_segmenter(path: str | Path | None = None, device: str | torch.device = "cpu") -> Segmenter:
    """The segmenter at `path` (default: the bundled one), loaded once per process and device."""
    return _cached(str(Path(path) if path is not None else default_segmenter_path()), str(torch.device(device)))


def segmenter_available(path: str | Path | None = None) -> bool:
    return (Path(path) if path is not None else default_segmenter_path()).is_file()


def _as_numpy(batch: np.ndarray | torch.Tensor) -> np.ndarray:
    return batch.detach().to("cpu").numpy() if isinstance(batch, torch.Tensor) else np.asarray(batch)


def realism_confusion(generated: np.ndarray | torch.Tensor, label_ids: np.ndarray | torch.Tensor,
                      segmenter: Segmenter) -> np.ndarray:
    """Summed (11, 11) confusion matrix of segment(generated) against the label ids."""
    images = _as_numpy(generated)
    ids = _as_numpy(label_ids)
    if images.ndim == 3:
        images, ids = images[None], ids[None]
    if images.dtype != np.uint8 or ids.dtype != np.uint8:
        raise ValueError(f"expected uint8 images and label ids, got {images.dtype} and {ids.dtype}")
    if images.shape[:3] != ids.shape or images.shape[-1] != 3:
        raise ValueError(f"images {images.shape} do not match label ids {ids.shape} (N, H, W, 3 vs N, H, W)")
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    for image, labels in zip(images, ids, strict=True):
        matrix += confusion(ids_to_classes(labels), segmenter.classes(image))
    return matrix


def realism_score(generated: np.ndarray | torch.Tensor, label_ids: np.ndarray | torch.Tensor,
                  segmenter: Segmenter | None = None) -> dict[str, float]:
    """FCN-score of uint8 (N, H, W, 3) generated images painted from uint8 (N, H, W) label ids:
    pixel_acc, class_acc, miou (in [0, 1]). ValueError when the labels hold no class the segmenter
    knows (nothing to score)."""
    seg = segmenter if segmenter is not None else load_segmenter()
    matrix = realism_confusion(generated, label_ids, seg)
    if matrix.sum() == 0:
        raise ValueError("the label maps hold none of the classes the segmenter knows")
    s = scores_from_confusion(matrix)
    return {"pixel_acc": s.pixel_acc, "class_acc": s.class_acc, "miou": s.miou}


def to_uint8_images(batch: torch.Tensor) -> np.ndarray:
    """Generator output (N, 3, H, W) in [-1, 1] -> uint8 (N, H, W, 3), as core.render.infer.to_photo."""
    arr = batch.detach().to("cpu", torch.float32)
    arr = ((arr.clamp(-1.0, 1.0) + 1.0) * 127.5).round()
    return arr.to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def realism_applies(data_path: str, data_format: str, crop_size: tuple[int, int] | None = None) -> bool:
    """Whether a run's validation data is real photos (not the built-in synthetic streets), large
    enough to judge (both sides at least MIN_SIDE: the segmenter knows street scenes at about
    240×320, and a thumbnail blown up to that says nothing), and a segmenter is there."""
    synthetic = data_format == "synthetic" or (data_format == "auto" and data_path == "synthetic")
    if synthetic or (crop_size is not None and min(crop_size) < MIN_SIDE):
        return False
    return segmenter_available()


class RealismTracker:
    """What the training loop keeps between validations: the fixed pairs' score, and the score of
    their real photos (the ceiling, computed once)."""

    def __init__(self, segmenter: Segmenter, pairs: int = REALISM_PAIRS) -> None:
        self.segmenter = segmenter
        self.pairs = pairs
        self.real_miou: float | None = None
        self._ids: list[np.ndarray] = []
        self._fakes: list[np.ndarray] = []
        self._reals: list[np.ndarray] = []

    def start(self) -> None:
        self._ids, self._fakes, self._reals = [], [], []

    def add(self, label_ids: torch.Tensor, fake: torch.Tensor, real: torch.Tensor) -> None:
        """One validation batch (label ids (N, H, W), generator output and photo in [-1, 1])."""
        room = self.pairs - sum(len(x) for x in self._ids)
        if room <= 0:
            return
        self._ids.append(label_ids[:room].to("cpu", torch.uint8).numpy())
        self._fakes.append(to_uint8_images(fake[:room].float()))
        if self.real_miou is None:
            self._reals.append(to_uint8_images(real[:room].float()))

    def result(self) -> dict[str, float] | None:
        """{"pixel_acc", "class_acc", "miou", "real_miou"} of this validation, or None when the
        pairs hold nothing to score."""
        if not self._ids:
            return None
        ids = np.concatenate(self._ids)
        try:
            score = realism_score(np.concatenate(self._fakes), ids, self.segmenter)
            if self.real_miou is None:
                self.real_miou = realism_score(np.concatenate(self._reals), ids, self.segmenter)["miou"]
        except ValueError:
            return None
        finally:
            self.start()
        return {**score, "real_miou": self.real_miou}
