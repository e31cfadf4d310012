"""Painting-like label maps: what a real label map looks like after a person painted it by hand.

Real label maps have ragged, detailed edges (every leaf, every pole's shadow); paintings have flat
shapes: straight-edged façades, round trees, boxy cars, no holes, no specks, no void. A model trained
only on real maps has never seen such inputs and renders them badly. `paint_like` turns a real
training label map into one that looks painted, so a share of training pairs (DataConfig.painted_share)
pairs painting-like labels with the unchanged real photo, and the model learns to draw detail
into flat shapes. Steps, each with seeded random strength (an explicit numpy Generator, so a pair's
augmentation still depends only on (seed, epoch, index)):

1. Simplify region shapes, one of
   - a mode filter (the majority class in a (2r+1)² window): rounded outlines, small regions merged
     into their surroundings, holes filled — trees become blobs, thin poles thicken or vanish;
   - block majority (the majority class in b×b blocks, then a light mode filter): straight,
     axis-aligned edges, as painted with a rectangle tool.
   Void / unlabeled pixels take the majority of the labelled classes around them (paintings have
   no void).
2. Boxy objects: vehicles (car, truck, bus, train) and people get a morphological closing with a
   rectangle, filling their concave outlines towards a box as a person paints them.
3. A smooth random warp (a low-frequency displacement field, a few % of the crop): hand-drawn
   boundaries never follow the photo's edges exactly, so the model must not rely on that.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from core.labels import ID_TO_PALETTE_INDEX, PALETTE_IDS, class_by_name

#: Palette indices of the classes painted as boxes (step 2).
_BOXY_NAMES = ("car", "truck", "bus", "train", "person", "rider")
BOXY_PALETTE = tuple(int(ID_TO_PALETTE_INDEX[class_by_name(n).id]) for n in _BOXY_NAMES)


def _mode_filter(onehot: torch.Tensor, radius: int) -> torch.Tensor:
    """onehot (1, K, h, w) float -> palette index (h, w) of the window majority; the unlabeled
    channel (0) wins only where no labelled class is in the window."""
    # A box filter is separable: a row pass then a column pass costs O(r) per pixel, not O(r²).
    k = 2 * radius + 1
    votes = F.avg_pool2d(onehot, (1, k), stride=1, padding=(0, radius), count_include_pad=False)
    votes = F.avg_pool2d(votes, (k, 1), stride=1, padding=(radius, 0), count_include_pad=False)
    votes[:, 0] *= 1e-3  # void loses to any labelled neighbour: paintings have no holes
    return votes[0].argmax(dim=0)


def _block_majority(onehot: torch.Tensor, block: int) -> torch.Tensor:
    """Majority class per block×block tile, then back to full size (nearest): straight edges."""
    h, w = onehot.shape[-2:]
    votes = F.avg_pool2d(onehot, block, stride=block, ceil_mode=True)
    votes[:, 0] *= 1e-3
    coarse = votes.argmax(dim=1, keepdim=True).float()  # (1, 1, h/b, w/b)
    return F.interpolate(coarse, size=(h, w), mode="nearest")[0, 0].long()


def _close_boxes(index: torch.Tensor, size: int) -> torch.Tensor:
    """Morphological closing of each boxy class's mask with a size×size square (dilate, then
    erode): concave outlines fill towards their bounding boxes. Written over other classes, as
    an object painted on top."""
    out = index.clone()
    pad = size // 2
    for c in BOXY_PALETTE:
        hit = index == c
        if not bool(hit.any()):
            continue
        mask = hit.float()[None, None]
        # Separable too: a square's max (min) is the max (min) of row maxima (minima).
        dilated = F.max_pool2d(F.max_pool2d(mask, (1, size), 1, (0, pad)), (size, 1), 1, (pad, 0))
        closed = -F.max_pool2d(F.max_pool2d(-dilated, (1, size), 1, (0, pad)), (size, 1), 1, (pad, 0))
        out[closed[0, 0, : index.shape[0], : index.shape[1]] > 0.5] = c
    return out


def _warp(index: torch.Tensor, amplitude: float, rng: np.random.Generator) -> torch.Tensor:
    """Sample `index` through a smooth random displacement (±amplitude pixels, a 4×4 control grid
    upsampled bicubically), nearest neighbour: no new classes appear."""
    h, w = index.shape
    control = torch.from_numpy(rng.uniform(-1.0, 1.0, size=(1, 2, 4, 4)).astype(np.float32))
    field = F.interpolate(control, size=(h, w), mode="bicubic", align_corners=True)[0] * amplitude
    rows = (torch.arange(h, dtype=torch.float32)[:, None] + field[0]).round().clamp(0, h - 1).long()
    cols = (torch.arange(w, dtype=torch.float32)[None, :] + field[1]).round().clamp(0, w - 1).long()
    return index[rows, cols]


def paint_like(ids: np.ndarray | torch.Tensor, rng: np.random.Generator) -> np.ndarray:
    """uint8 label ids (h, w) -> uint8 label ids (h, w) that look hand-painted (module docstring).
    Only palette classes come out; the photo the map pairs with is not touched."""
    ids_np = ids.numpy() if isinstance(ids, torch.Tensor) else np.asarray(ids)
    h, w = ids_np.shape
    side = min(h, w)
    palette_index = ID_TO_PALETTE_INDEX[ids_np]
    # Work on the classes present only (a crop holds ~8 of 20): the filters cost per channel.
    # Channel 0 is always unlabeled, so the void rule in the filters holds.
    present = np.union1d([0], np.unique(palette_index))
    compact = np.searchsorted(present, palette_index)
    index = torch.from_numpy(compact.astype(np.int64))
    k = len(present)
    onehot = F.one_hot(index, k).permute(2, 0, 1)[None].float()  # (1, k, h, w)
    if rng.random() < 0.6:
        radius = int(rng.integers(max(1, side // 64), max(2, side // 20) + 1))
        index = _mode_filter(onehot, radius)
    else:
        block = int(rng.integers(max(2, side // 32), max(3, side // 12) + 1))
        index = _block_majority(onehot, block)
        index = _mode_filter(F.one_hot(index, k).permute(2, 0, 1)[None].float(), 1)
    index = torch.from_numpy(present)[index]  # back to palette indices
    if rng.random() < 0.7:
        size = int(rng.integers(max(3, side // 24), max(4, side // 8) + 1)) | 1  # odd: centred
        index = _close_boxes(index, size)
    if rng.random() < 0.8:
        index = _warp(index, float(rng.uniform(0.0, 0.04 * side)), rng)
    return PALETTE_IDS[index.numpy()]
