"""Remove an object from a label map: its pixels take the labels around it.

A user removing a parked car from a photo wants what was *behind* it: road where the car stood
on the road, pavement and building where it hid them. Painting that by hand takes several
brushes; this does it in one step for any region:

    new_ids = fill_from_surroundings(ids, region)

Each region pixel takes the label of the nearest pixel outside the region **in its own row**
(left or right, the nearer; ties go left). In a street scene a row is a depth: what continues
beside a car at the height of its roof is the building or pavement behind it, and at the
height of its wheels the road. Only **background** counts as "beside" (Cityscapes' flat,
construction, nature and sky categories: road, pavement, building, wall, fence, vegetation,
terrain, sky): the bicycle, pole or person next to a removed car stood in front of the same
background, and spreading it across the car's place would paint a band of bicycles. Rows where
the region spans the whole width (or meets no background) take the nearest background label
above or below in their column instead; only where no background is found either way does any
neighbouring label do. A region that is the whole map is left as it is (there is nothing around
it). Pure numpy; no Qt, no torch.
"""

from __future__ import annotations

import numpy as np

from core.labels import ALL_CLASSES

#: Cityscapes categories a removed object's place is filled from: what stands behind objects.
BACKGROUND_CATEGORIES = frozenset({"flat", "construction", "nature", "sky"})
_IS_BACKGROUND = np.zeros(256, bool)
_IS_BACKGROUND[[c.id for c in ALL_CLASSES if c.category in BACKGROUND_CATEGORIES and 0 <= c.id < 256]] = True


def _nearest_along_rows(ids: np.ndarray, usable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels, found): for every pixel, the label of the nearest `usable` pixel in its row,
    and whether the row has one."""
    h, w = ids.shape
    cols = np.broadcast_to(np.arange(w), (h, w))
    outside = usable
    # index of the nearest outside pixel at or to the left / right (-1 / w when none)
    left = np.maximum.accumulate(np.where(outside, cols, -1), axis=1)
    right = np.minimum.accumulate(np.where(outside, cols, w)[:, ::-1], axis=1)[:, ::-1]
    has_left, has_right = left >= 0, right < w
    dist_left = np.where(has_left, cols - left, np.iinfo(np.int64).max)
    dist_right = np.where(has_right, right - cols, np.iinfo(np.int64).max)
    take_left = dist_left <= dist_right
    source = np.where(take_left, left, right).clip(0, w - 1)
    rows = np.broadcast_to(np.arange(h)[:, None], (h, w))
    return ids[rows, source], has_left | has_right


def fill_from_surroundings(ids: np.ndarray, region: np.ndarray) -> np.ndarray:
    """A copy of `ids` (uint8 H×W) with every pixel of `region` (bool H×W) relabelled from its
    surroundings (module docstring). Pixels outside `region` are unchanged."""
    if ids.shape != region.shape:
        raise ValueError(f"the region is {region.shape[1]}×{region.shape[0]}, the label map "
                         f"{ids.shape[1]}×{ids.shape[0]}")
    out = ids.copy()
    if not region.any() or region.all():
        return out
    background = ~region & _IS_BACKGROUND[ids]
    rest = region.copy()
    # Background beside it in the row, then above or below in the column, then any label
    # (a region surrounded by objects only) in the same order.
    for usable in (background, ~region):
        for transposed in (False, True):
            if not rest.any():
                return out
            if transposed:
                labels, found = (a.T for a in _nearest_along_rows(ids.T, usable.T))
            else:
                labels, found = _nearest_along_rows(ids, usable)
            take = rest & found
            out[take] = labels[take]
            rest &= ~take
    return out
