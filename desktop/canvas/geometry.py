"""Pixel-exact masks for the painting tools (numpy only, no Qt).

Coordinate convention (used by the whole canvas package)
--------------------------------------------------------
``x`` is the column, ``y`` the row, both floats in *document pixels*. Pixel ``(col i, row j)``
covers the square ``[i, i+1) × [j, j+1)``; its centre is ``(i + 0.5, j + 0.5)``. A point belongs to
pixel ``(floor(x), floor(y))``.

A shape "covers" a pixel when the pixel's *centre* lies in the shape. That gives crisp edges by
construction: every pixel gets exactly one class, never a blend.

Masks are returned as ``(y0, x0, mask)``: a bool array whose top-left element is pixel
``(row y0, col x0)``, already clipped to the document (``None`` when nothing is inside).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Point = tuple[float, float]  # (x, y)
Mask = tuple[int, int, np.ndarray]  # (y0, x0, bool mask)

# Distances are compared with this slack so a centre lying exactly on the brush edge (d == r, very
# common because centres sit on a half-pixel grid) is inside regardless of float rounding.
_EPS = 1e-9


def snap_brush_center(x: float, y: float, size: int) -> Point:
    """Snap a cursor position to where a brush of diameter ``size`` is centred.

    Odd sizes centre on the pixel under the cursor, even sizes on the nearest pixel corner, so a
    stamp is always a symmetric disc of exactly ``size`` pixels across (size 1 = one pixel,
    size 2 = a 2×2 block, size 3 = a 3×3 block, size 5 = a 5×5 disc without its corners …).
    """
    if size % 2:
        return (math.floor(x) + 0.5, math.floor(y) + 0.5)
    return (float(math.floor(x + 0.5)), float(math.floor(y + 0.5)))


def pixel_center(x: float, y: float) -> Point:
    """Centre of the pixel containing (x, y)."""
    return (math.floor(x) + 0.5, math.floor(y) + 0.5)


def _center_range(lo: float, hi: float, n: int) -> tuple[int, int]:
    """Pixel indices i (clipped to 0..n) with lo <= i + 0.5 <= hi, as a half-open range."""
    i0 = max(0, math.ceil(lo - 0.5 - _EPS))
    i1 = min(n, math.floor(hi - 0.5 + _EPS) + 1)
    return i0, i1


def capsule_mask(p0: Point, p1: Point, radius: float, shape: tuple[int, int]) -> Mask | None:
    """Pixels whose centre lies within ``radius`` of the segment p0–p1 (a disc when p0 == p1).

    This is the swept brush: the union of all discs along the segment, so a fast mouse never leaves
    gaps and nothing depends on stamp spacing.

    Computed per row, not per pixel: the capsule is convex, so each row of pixel centres meets it
    in one interval, the hull of where the row meets the end discs and the band between them.
    That is O(rows) float work plus one integer compare per pixel of the box, so a 512 px brush
    costs about a millisecond per mouse move instead of tens.
    """
    h, w = shape
    (ax, ay), (bx, by) = p0, p1
    r = float(radius)
    y0, y1 = _center_range(min(ay, by) - r, max(ay, by) + r, h)
    x0, x1 = _center_range(min(ax, bx) - r, max(ax, bx) + r, w)
    if y0 >= y1 or x0 >= x1:
        return None
    r2 = r * r + _EPS  # the same "within r" slack as a per-pixel distance test
    cy = np.arange(y0, y1, dtype=np.float64) + 0.5
    lo = np.full(cy.shape, np.inf)
    hi = np.full(cy.shape, -np.inf)
    for ex, ey in ((ax, ay), (bx, by)):  # end discs
        d2 = r2 - (cy - ey) ** 2
        half = np.sqrt(np.maximum(d2, 0.0))
        inside = d2 >= 0.0
        lo = np.where(inside, np.minimum(lo, ex - half), lo)
        hi = np.where(inside, np.maximum(hi, ex + half), hi)
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 > 0.0:
        # Band: 0 <= (P - a)·d <= |d|²  and  |d × (P - a)| <= r·|d|, for P = (x, cy).
        rel = cy - ay
        band_lo = np.full(cy.shape, -np.inf)
        band_hi = np.full(cy.shape, np.inf)
        if dx != 0.0:
            t0 = ax - rel * dy / dx
            t1 = ax + (length2 - rel * dy) / dx
            band_lo, band_hi = np.maximum(band_lo, np.minimum(t0, t1)), np.minimum(band_hi, np.maximum(t0, t1))
        else:
            along = rel * dy
            out = (along < 0.0) | (along > length2)
            band_lo[out], band_hi[out] = np.inf, -np.inf
        reach = math.sqrt(r2 * length2)
        if dy != 0.0:
            c0 = ax + (dx * rel - reach) / dy
            c1 = ax + (dx * rel + reach) / dy
            band_lo, band_hi = np.maximum(band_lo, np.minimum(c0, c1)), np.minimum(band_hi, np.maximum(c0, c1))
        else:
            out = np.abs(dx * rel) > reach
            band_lo[out], band_hi[out] = np.inf, -np.inf
        has_band = band_lo <= band_hi
        lo = np.where(has_band, np.minimum(lo, band_lo), lo)
        hi = np.where(has_band, np.maximum(hi, band_hi), hi)
    # Pixel i is covered when lo <= i + 0.5 <= hi.
    with np.errstate(invalid="ignore"):
        first = np.ceil(lo - 0.5 - 1e-12)
        last = np.floor(hi - 0.5 + 1e-12)
    first = np.where(np.isfinite(first), first, x1).astype(np.int64)
    last = np.where(np.isfinite(last), last, x0 - 1).astype(np.int64)
    cols = np.arange(x0, x1, dtype=np.int64)
    mask = (cols[None, :] >= first[:, None]) & (cols[None, :] <= last[:, None])
    return (y0, x0, mask)


def rect_mask(p0: Point, p1: Point, shape: tuple[int, int]) -> Mask | None:
    """Every pixel from the one containing p0 to the one containing p1, both included."""
    h, w = shape
    c0, c1 = sorted((math.floor(p0[0]), math.floor(p1[0])))
    r0, r1 = sorted((math.floor(p0[1]), math.floor(p1[1])))
    y0, y1 = max(0, r0), min(h, r1 + 1)
    x0, x1 = max(0, c0), min(w, c1 + 1)
    if y0 >= y1 or x0 >= x1:
        return None
    return (y0, x0, np.ones((y1 - y0, x1 - x0), dtype=bool))


def polygon_interior_mask(points: Sequence[Point], shape: tuple[int, int]) -> Mask | None:
    """Pixels whose centre is inside the closed polygon, even-odd rule.

    Scanline fill: the crossing x of every (edge, row centre line) pair is computed at once, then
    the sorted crossings of each row pair up into inside spans (pixel i is inside a span
    [xa, xb) when xa <= i + 0.5 < xb). Edges are half-open in y (ymin <= cy < ymax) so a vertex on
    a scanline is counted once.
    """
    if len(points) < 3:
        return None
    h, w = shape
    pts = np.asarray(points, dtype=np.float64)
    y0, y1 = _center_range(pts[:, 1].min(), pts[:, 1].max(), h)
    x0, x1 = _center_range(pts[:, 0].min(), pts[:, 0].max(), w)
    if y0 >= y1 or x0 >= x1:
        return None
    a = pts
    b = np.roll(pts, -1, axis=0)
    keep = a[:, 1] != b[:, 1]  # horizontal edges never cross a scanline
    a, b = a[keep], b[keep]
    cy = np.arange(y0, y1, dtype=np.float64) + 0.5  # (R,)
    ylo = np.minimum(a[:, 1], b[:, 1])[:, None]
    yhi = np.maximum(a[:, 1], b[:, 1])[:, None]
    crosses = (ylo <= cy[None, :]) & (cy[None, :] < yhi)  # (E, R)
    slope = ((b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1]))[:, None]
    xc = a[:, 0][:, None] + (cy[None, :] - a[:, 1][:, None]) * slope  # (E, R)
    edge_idx, row_idx = np.nonzero(crosses)
    # Pixel i is right of (or on) the crossing when i + 0.5 >= xc, i.e. i >= ceil(xc - 0.5).
    col = np.ceil(xc[edge_idx, row_idx] - 0.5 - _EPS).astype(np.int64) - x0
    col = np.clip(col, 0, x1 - x0)  # crossings left of the box toggle the whole row
    # Every scanline crosses a closed polygon an even number of times (half-open edges), so after
    # sorting by (row, column) consecutive crossings pair up into the inside spans [c0, c1).
    order = np.lexsort((col, row_idx))
    rows, cols = row_idx[order], col[order]
    inside = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    # A polygon has few spans per row: slicing them in Python beats a cumulative sum over the box.
    for r, c0, c1 in zip(rows[0::2].tolist(), cols[0::2].tolist(), cols[1::2].tolist(), strict=True):
        inside[r, c0:c1] = True
    return (y0, x0, inside)


def polygon_mask(points: Sequence[Point], shape: tuple[int, int]) -> Mask | None:
    """A filled polygon as the user sees it: the even-odd interior plus its outline (pixel centres
    within 0.5 px of an edge), so the clicked vertex pixels and thin slivers are always painted."""
    if not points:
        return None
    h, w = shape
    pts = list(points)
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    y0, y1 = _center_range(min(ys) - 0.5, max(ys) + 0.5, h)
    x0, x1 = _center_range(min(xs) - 0.5, max(xs) + 0.5, w)
    if y0 >= y1 or x0 >= x1:
        return None
    out = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    _or_into(out, y0, x0, polygon_interior_mask(pts, shape))
    n = len(pts)
    segments = [(pts[i], pts[(i + 1) % n]) for i in range(n)] if n > 2 else [(pts[0], pts[-1])]
    for a, b in segments:
        _or_into(out, y0, x0, capsule_mask(a, b, 0.5, shape))
    return (y0, x0, out)


def _or_into(out: np.ndarray, y0: int, x0: int, part: Mask | None) -> None:
    if part is None:
        return
    py, px, m = part
    out[py - y0 : py - y0 + m.shape[0], px - x0 : px - x0 + m.shape[1]] |= m


def flood_fill_mask(ids: np.ndarray, x: int, y: int) -> Mask | None:
    """The 4-connected region of pixels with the same id as pixel (x, y).

    Vectorised over row *runs* instead of pixels (no scipy): split the same-id mask into
    horizontal runs, find for every run the range of overlapping runs in the rows above and below
    with two ``searchsorted`` calls, then breadth-first search over runs with whole frontiers at a
    time. A Cityscapes frame has a few thousand runs per class, so this is milliseconds where a
    per-pixel Python fill would take seconds.
    """
    h, w = ids.shape
    if not (0 <= y < h and 0 <= x < w):
        return None
    same = ids == ids[y, x]
    edges = np.zeros((h, w + 2), dtype=np.int8)
    edges[:, 1:-1] = same
    d = np.diff(edges, axis=1)  # +1 where a run starts, -1 one past where it ends
    stride = w + 1
    flat = np.flatnonzero(d)  # row-major: each run's start is followed by its end
    starts, ends = flat[0::2], flat[1::2]
    run_row, run_start = np.divmod(starts, stride)
    run_end = ends - run_row * stride
    key_start = run_row * stride + run_start
    key_end = run_row * stride + run_end
    # Runs in row r±1 overlapping [s, e): key_end > (r±1)·stride + s and key_start < (r±1)·stride + e.
    lo_dn = np.searchsorted(key_end, (run_row + 1) * stride + run_start, side="right")
    hi_dn = np.searchsorted(key_start, (run_row + 1) * stride + run_end, side="left")
    lo_up = np.searchsorted(key_end, (run_row - 1) * stride + run_start, side="right")
    hi_up = np.searchsorted(key_start, (run_row - 1) * stride + run_end, side="left")
    lo = np.concatenate([lo_dn[:, None], lo_up[:, None]], axis=1)
    hi = np.concatenate([hi_dn[:, None], hi_up[:, None]], axis=1)

    row_first = int(np.searchsorted(run_row, y, side="left"))
    row_end = int(np.searchsorted(run_row, y, side="right"))
    seed = row_first + int(np.searchsorted(run_start[row_first:row_end], x, side="right")) - 1
    visited = np.zeros(run_row.size, dtype=bool)
    visited[seed] = True
    frontier = np.array([seed], dtype=np.int64)
    while frontier.size:
        los = lo[frontier].ravel()
        counts = np.maximum(hi[frontier].ravel() - los, 0)
        total = int(counts.sum())
        if total == 0:
            break
        # Expand the [lo, hi) ranges into indices without a Python loop.
        offsets = np.repeat(np.cumsum(counts) - counts, counts)
        nbrs = np.arange(total) - offsets + np.repeat(los, counts)
        nbrs = np.unique(nbrs[~visited[nbrs]])
        visited[nbrs] = True
        frontier = nbrs

    rows, starts, ends = run_row[visited], run_start[visited], run_end[visited]
    ry0, ry1 = int(rows.min()), int(rows.max()) + 1
    rx0, rx1 = int(starts.min()), int(ends.max())
    toggles = np.zeros((ry1 - ry0, rx1 - rx0 + 1), dtype=np.int8)
    toggles[rows - ry0, starts - rx0] += 1  # runs in one row never share a start or an end
    toggles[rows - ry0, ends - rx0] -= 1
    mask = np.cumsum(toggles, axis=1, dtype=np.int8)[:, : rx1 - rx0] > 0
    return (ry0, rx0, mask)


def constrain_angle(p0: Point, p1: Point) -> Point:
    """p1 moved onto the nearest 0°/45°/90° ray from p0 (Shift while drawing a line)."""
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    angle = round(math.atan2(dy, dx) / (math.pi / 4)) * (math.pi / 4)
    length = math.hypot(dx, dy)
    if abs(math.cos(angle)) > 0.5 and abs(math.sin(angle)) > 0.5:
        length = max(abs(dx), abs(dy)) * math.sqrt(2.0)  # keep diagonal on whole pixels
    return (p0[0] + round(length * math.cos(angle), 9), p0[1] + round(length * math.sin(angle), 9))


def constrain_square(p0: Point, p1: Point) -> Point:
    """p1 moved so p0–p1 spans a square (Shift while drawing a rectangle)."""
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    side = max(abs(dx), abs(dy))
    return (p0[0] + math.copysign(side, dx), p0[1] + math.copysign(side, dy))
