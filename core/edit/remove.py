"""Remove an object from a label map: its pixels take the labels around it.

A user removing a parked car from a photo wants what was *behind* it: road where the car stood
on the road, pavement and building where it hid them. Painting that by hand takes several
brushes; this does it in one step for any region:

    new_ids = fill_from_surroundings(ids, region)

Each region pixel takes the label of the nearest pixel outside the region **in its own row**
(left or right, the nearer; ties go left). In a street scene a row is a depth: what continues
beside a car at the height of its roof is the building or pavement behind it, and at the
height of its wheels the road. Rows where the region spans the whole width take the nearest
label above or below in their column instead; a region that is the whole map is left as it
is (there is nothing around it). Pure numpy; no Qt, no torch.
"""

from __future__ import annotations

import numpy as np


def _nearest_along_rows(ids: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels, found): for every pixel, the label of the nearest non-region pixel in its row,
    and whether the row has one."""
    h, w = ids.shape
    cols = np.broadcast_to(np.arange(w), (h, w))
    outside = ~region
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
    by_row, row_found = _nearest_along_rows(ids, region)
    take = region & row_found
    out[take] = by_row[take]
    rest = region & ~row_found
    if rest.any():  # whole rows inside the region: look up and down instead
        by_col, col_found = _nearest_along_rows(ids.T, region.T)
        take = rest & col_found.T
        out[take] = by_col.T[take]
    return out
