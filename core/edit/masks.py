"""The edited region of a photo, and how the new pixels are blended into it.

    mask   = edited_region(original_ids, edited_ids)     # where the labels differ
    region = dilate(mask, EDIT_DILATION)                 # a few pixels more: a segmenter's edges are
                                                         # soft, an object's rim belongs to it
    alpha  = feather(region, FEATHER)                    # 1 inside, ramping to 0 at region's border
    out    = blend(photo, rendering, region, alpha)      # == photo outside `region`, bit for bit

The blend copies the photo and writes only the pixels of `region`, so the output outside it is
the photo's own bytes (not a float round trip). Inside, alpha is 1 everywhere but a band of
FEATHER pixels along the region's border, where the rendering fades into the photo: the seam.
The dilation is larger than the feather, so every edited pixel itself gets the full rendering.
Dilation and the feather's distance use 3×3 steps (chessboard distance): simple, and at a few
pixels indistinguishable from a disc.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Pixels the edited region grows by before rendering (at the photo's resolution).
EDIT_DILATION = 6
#: Width in pixels of the band along the region's border where rendering and photo are blended.
FEATHER = 4


def edited_region(original_ids: np.ndarray, edited_ids: np.ndarray) -> np.ndarray:
    """bool H×W: where the two label maps differ. ValueError when their shapes differ."""
    if original_ids.shape != edited_ids.shape:
        raise ValueError(f"the edited label map is {edited_ids.shape[1]}×{edited_ids.shape[0]}, "
                         f"the photo's is {original_ids.shape[1]}×{original_ids.shape[0]}; they must match")
    return np.asarray(original_ids != edited_ids)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation of a bool H×W mask by `radius` px (3×3 steps)."""
    out = np.ascontiguousarray(mask, dtype=bool)
    for _ in range(max(0, radius)):
        grown = out.copy()
        grown[1:] |= out[:-1]
        grown[:-1] |= out[1:]
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        # the diagonals, so that each step is a 3×3 square
        grown[1:, 1:] |= out[:-1, :-1]
        grown[1:, :-1] |= out[:-1, 1:]
        grown[:-1, 1:] |= out[1:, :-1]
        grown[:-1, :-1] |= out[1:, 1:]
        out = grown
    return out


def _erode(mask: np.ndarray) -> np.ndarray:
    """One 3×3 erosion; pixels on the image border count as inside (the photo ends there, no seam)."""
    padded = np.pad(mask, 1, mode="edge")
    out = mask.copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            out &= padded[dy:dy + mask.shape[0], dx:dx + mask.shape[1]]
    return out


def feather(region: np.ndarray, width: int = FEATHER) -> np.ndarray:
    """float32 H×W alpha: 0 outside `region`, (k+1)/(width+1) on the k-th ring inside its border
    (k = 0 on the border itself), 1 from `width` pixels in."""
    alpha = np.zeros(region.shape, np.float32)
    current = np.ascontiguousarray(region, dtype=bool)
    for k in range(width):
        inner = _erode(current)
        alpha[current & ~inner] = (k + 1) / (width + 1)
        current = inner
    alpha[current] = 1.0
    return alpha


def blend(photo: np.ndarray, rendering: np.ndarray, region: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The photo with `rendering` blended in by `alpha` inside `region` (uint8 H×W×3). Outside
    `region` the result is a copy of the photo's bytes."""
    out = photo.copy()
    a = alpha[region][:, None]  # (K, 1)
    mixed = a * rendering[region].astype(np.float32) + (1.0 - a) * photo[region].astype(np.float32)
    out[region] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    return out


@dataclass(frozen=True)
class Box:
    """A crop: rows top:bottom, columns left:right."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)


def _span(lo: int, hi: int, size: int, limit: int) -> tuple[int, int]:
    """A window of `size` (at most `limit`) around [lo, hi), shifted to fit inside [0, limit)."""
    size = min(size, limit)
    centre = (lo + hi) // 2
    start = min(max(0, centre - size // 2), limit - size)
    return start, start + size


def render_box(region: np.ndarray, multiple: int, context: int) -> Box | None:
    """The crop to render for `region`: its bounding box grown by `context` px on every side, then
    to a multiple of `multiple` (the U-Net's input size rule), kept inside the image. None when
    the region is empty. A side that cannot reach a multiple inside the image keeps the image's
    full extent (the renderer pads it)."""
    rows, cols = np.nonzero(region.any(axis=1))[0], np.nonzero(region.any(axis=0))[0]
    if rows.size == 0:
        return None
    h, w = region.shape
    top, bottom = int(rows[0]) - context, int(rows[-1]) + 1 + context
    left, right = int(cols[0]) - context, int(cols[-1]) + 1 + context
    need_h = -(-(bottom - top) // multiple) * multiple
    need_w = -(-(right - left) // multiple) * multiple
    y0, y1 = _span(top, bottom, need_h, h)
    x0, x1 = _span(left, right, need_w, w)
    return Box(y0, x0, y1, x1)
