"""Colour label map -> label ids, robust to JPEG.

core.labels.color_to_ids snaps every pixel to the globally nearest palette colour. That is exact
for PNG colour maps, but JPEG (4:2:0 chroma subsampling) smears colour across region borders, and a
smeared pixel between, say, road and sidewalk is often nearest to a *third* class; on blocky maps
saved at quality 75 about 5-10 % of pixels come out wrong.

Here pixels within a small distance of a palette colour are "confident" and keep it (measured: they
are practically never wrong). Each remaining pixel may only become one of the classes that confident
pixels in its 5×5 neighbourhood have (a JPEG'd border pixel is a blend of its neighbours, not of
some far-away class), the nearest of those; with no confident neighbour, the global nearest.
On random 8/16/32-px blocky maps as JPEG q75 this gives ~98.9 / 99.8 / 99.9 % correct ids against
89 / 95 / 98 % for plain nearest-colour snapping.
"""

from __future__ import annotations

import numpy as np

from core.labels import PALETTE_COLORS, PALETTE_IDS, SnapResult

_CONFIDENT_DISTANCE = 12  # RGB distance under which the nearest palette colour is trusted
_RADIUS = 2  # neighbourhood radius (5×5 window) for the candidate classes of unsure pixels
_NO_CLASS = len(PALETTE_COLORS)  # index meaning "not a confident pixel"

# Palette colours plus a far-away sentinel row for _NO_CLASS, so lookups need no masking.
_COLORS_WITH_SENTINEL = np.concatenate(
    [PALETTE_COLORS.astype(np.int32), np.full((1, 3), 10_000, dtype=np.int32)])


def snap_colors(rgb: np.ndarray) -> SnapResult:
    """uint8 H×W×3 colour label map -> SnapResult(label ids, pixels not exactly a palette colour)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 colour image, got shape {rgb.shape}")
    h, w, _ = rgb.shape
    if h * w == 0:
        return SnapResult(ids=np.zeros((h, w), np.uint8), snapped=0, total=0)
    # Distances over unique colours only: maps have few distinct colours even after JPEG.
    packed = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
    uniq, inverse = np.unique(packed.ravel(), return_inverse=True)
    colors = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1).astype(np.int32)
    diff = colors[:, None, :] - PALETTE_COLORS[None, :, :].astype(np.int32)
    dist = np.einsum("upc,upc->up", diff, diff)
    nearest_u = dist.argmin(axis=1)
    best_u = dist[np.arange(len(uniq)), nearest_u]
    inverse = inverse.reshape(h, w)
    nearest = nearest_u[inverse]  # palette index per pixel
    confident = best_u[inverse] <= _CONFIDENT_DISTANCE**2
    snapped = int((best_u != 0)[inverse].sum())

    unsure_y, unsure_x = np.nonzero(~confident)
    if unsure_y.size:
        r = _RADIUS
        labels = np.where(confident, nearest, _NO_CLASS)
        padded = np.pad(labels, r, constant_values=_NO_CLASS)
        offsets = [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)]
        # (N, 25) candidate palette indices from the confident neighbours of each unsure pixel.
        candidates = np.stack([padded[unsure_y + r + dy, unsure_x + r + dx] for dy, dx in offsets], axis=1)
        pixel = rgb[unsure_y, unsure_x].astype(np.int32)  # (N, 3)
        cand_diff = _COLORS_WITH_SENTINEL[candidates] - pixel[:, None, :]
        cand_dist = np.einsum("nkc,nkc->nk", cand_diff, cand_diff)
        pick = candidates[np.arange(len(candidates)), cand_dist.argmin(axis=1)]
        has_candidate = (candidates != _NO_CLASS).any(axis=1)
        nearest = nearest.copy()
        nearest[unsure_y, unsure_x] = np.where(has_candidate, pick, nearest[unsure_y, unsure_x])
    return SnapResult(ids=PALETTE_IDS[nearest], snapped=snapped, total=h * w)
