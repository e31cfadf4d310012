"""Rare-class-aware sampling: frames that hold rare classes are drawn more often.

The rule is LVIS's repeat-factor sampling (Gupta et al. 2019), the field's standard for long-tailed
data: with f_c the share of training frames in which class c appears, the class repeat factor is
r_c = max(1, sqrt(t / f_c)) for a threshold t (DataConfig.rare_threshold), and a frame is used
r_i = max over its classes of r_c times an epoch (rounded, at most DataConfig.rare_max_repeat).
With t = 0.3, a class in 30 % of the frames or more is not boosted, a class in 1 % of the frames is
boosted 5.5×. Repeats are whole copies of the frame in the epoch's index list (RareRepeatSource), so
the order stays a seeded, resumable, shardable permutation (core.data.loader) and every copy gets its
own random crop. Crops of such frames are, with DataConfig.rare_crop_prob, placed around a pixel of a
rare class (core.data.transforms), so the rare object is in the crop rather than cut away.

A class "appears" in a frame when it covers at least MIN_PRESENCE of the frame (a few stray pixels of
a machine-made label map do not make a frame a truck frame).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from core.data.base import Pair, PairSource
from core.labels import NUM_PALETTE_CLASSES, PALETTE, PALETTE_IDS

#: Share of a frame's (sampled) pixels a class must cover to count as present in it.
MIN_PRESENCE = 5e-4


@dataclass(frozen=True)
class RareSampling:
    """What the sampler decided, for the run's report and the checkpoint."""

    frames: int  # training frames before repetition
    drawn: int  # frames an epoch after repetition
    class_frame_share: dict[int, float]  # palette index -> share of frames holding it
    class_repeat: dict[int, float]  # palette index -> r_c (> 1 for the boosted classes)
    rare_palette_indices: tuple[int, ...]  # classes with r_c > 1

    def summary(self) -> str:
        boosted = sorted(self.class_repeat.items(), key=lambda kv: -kv[1])
        parts = [f"{PALETTE[c].name} ×{r:.1f}" for c, r in boosted if r > 1.0]
        return (f"rare-class sampling: {self.frames} frames drawn as {self.drawn} an epoch "
                f"({self.drawn / max(1, self.frames):.2f}×); boosted: {', '.join(parts) or 'none'}")


def repeat_factors(presence: np.ndarray, threshold: float, max_repeat: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """presence: bool (frames, classes). Returns (frame share f_c per class, class factor r_c,
    integer repeats per frame). Unlabeled (palette index 0) is never boosted."""
    frames = presence.shape[0]
    share = presence.sum(axis=0) / max(1, frames)
    with np.errstate(divide="ignore"):
        r_class = np.where(share > 0, np.sqrt(threshold / np.maximum(share, 1e-12)), 1.0)
    r_class = np.maximum(1.0, r_class)
    r_class[0] = 1.0
    per_frame = np.where(presence, r_class[None, :], 1.0).max(axis=1) if frames else np.ones(0)
    repeats = np.clip(np.floor(per_frame + 0.5), 1, max_repeat).astype(np.int64)
    return share, r_class, repeats


class RareRepeatSource:
    """Frame i of `source` repeats[i] times (its copies are consecutive indices; the sampler
    shuffles them). `rare_ids` are the Cityscapes label ids of the boosted classes, for the crop."""

    def __init__(self, source: PairSource, repeats: np.ndarray, rare_ids: frozenset[int]) -> None:
        if len(repeats) != len(source):
            raise ValueError("one repeat count per pair")
        self.source = source
        self.name = f"{source.name} (rare classes ×{repeats.sum() / max(1, len(source)):.2f})"
        self.rare_ids = rare_ids
        self._base = np.repeat(np.arange(len(source)), repeats)

    def __len__(self) -> int:
        return len(self._base)

    def base_index(self, index: int) -> int:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return int(self._base[index])

    def __getitem__(self, index: int) -> Pair:
        return self.source[self.base_index(index)]

    def describe(self, index: int) -> str:
        return self.source.describe(self.base_index(index))


def presence_matrix(source: PairSource, pair_pixels: Mapping[str, np.ndarray]) -> np.ndarray:
    """bool (len(source), classes): which palette classes each pair holds, from the per-pair class
    pixel counts the dataset scan recorded (keyed by the pair's description). A pair the scan did
    not see holds nothing (it is never boosted)."""
    out = np.zeros((len(source), NUM_PALETTE_CLASSES), dtype=bool)
    for index in range(len(source)):
        counts = pair_pixels.get(source.describe(index))
        if counts is not None and counts.sum() > 0:
            out[index] = counts / counts.sum() >= MIN_PRESENCE
    return out


def apply_rare_sampling(source: PairSource, pair_pixels: Mapping[str, np.ndarray], threshold: float,
                        max_repeat: int) -> tuple[PairSource, RareSampling]:
    """`source` with frames holding rare classes repeated (see module docstring)."""
    presence = presence_matrix(source, pair_pixels)
    share, r_class, repeats = repeat_factors(presence, threshold, max_repeat)
    rare = tuple(int(c) for c in np.flatnonzero(r_class > 1.0))
    rare_ids = frozenset(int(PALETTE_IDS[c]) for c in rare)
    info = RareSampling(frames=len(source), drawn=int(repeats.sum()),
                        class_frame_share={c: float(share[c]) for c in range(NUM_PALETTE_CLASSES)},
                        class_repeat={c: float(r_class[c]) for c in range(NUM_PALETTE_CLASSES)},
                        rare_palette_indices=rare)
    if not rare or int(repeats.sum()) == len(source):
        return source, info
    return RareRepeatSource(source, repeats, rare_ids), info


def rare_label_ids(source: object) -> frozenset[int]:
    """The rare label ids of the RareRepeatSource inside `source` (through wrappers that keep
    theirs as `.source`), or an empty set."""
    seen = 0
    while source is not None and seen < 8:
        ids = getattr(source, "rare_ids", None)
        if isinstance(ids, frozenset):
            return ids
        source = getattr(source, "source", None)
        seen += 1
    return frozenset()


def rare_crop_centre(labels: np.ndarray, rare_ids: frozenset[int], rng: np.random.Generator
                     ) -> tuple[int, int] | None:
    """(row, col) of a random pixel of a rare class in `labels`, or None when it holds none.
    Sampled on a grid of at most ~64k points: cheap on a 1024×2048 frame."""
    if not rare_ids:
        return None
    step = max(1, int(math.sqrt(labels.size / 65536)))
    grid = labels[::step, ::step]
    rows, cols = np.nonzero(np.isin(grid, np.fromiter(rare_ids, dtype=np.int64)))
    if len(rows) == 0:
        return None
    k = int(rng.integers(0, len(rows)))
    return int(rows[k]) * step, int(cols[k]) * step
