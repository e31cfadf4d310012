"""Fill an edited region with the photo's own pixels of each painted class ("clone").

A removed car painted over with road should become *this photo's* road: its asphalt, its light,
its grain. A generator asked to invent road inside a hole tends to paint the average road (the
pale, flat patch in docs/photo_editing.md). Where the photo already shows the painted class
somewhere else, copying it is the sharper answer — what a photo editor's clone stamp does, guided
by the label map instead of a hand:

    filled, done = clone_fill(photo, ids, hole)

For each class painted inside `hole`, the hole's pixels of that class are moved as one rigid
block by the offset (dy, dx) under which most of them land on the photo's pixels of the same
class outside the hole, near offsets weighing more and above all small vertical ones (in a street
photo a row is a depth: the road beside a car has its scale and light, the road below it does
not). The offset is found on a 4× coarser grid by FFT cross-correlation of the two masks, then
checked pixel by pixel at full size; what one offset does not cover gets another, up to ROUNDS. Pixels no offset
covers (a class the photo does not show, e.g. a hedge painted into a photo without vegetation)
are left to the caller (`done` is False there), which renders them with a generator. Only
pixels of a typical colour for their class are copied: a lane marking is road to the segmenter
but must not be repeated across the place of a removed car.

Pure numpy; no Qt, no torch.
"""

from __future__ import annotations

import numpy as np

from core.edit.masks import dilate

#: The grid the offset search runs on, in photo pixels (a block counts as source only when all
#: of it is the class, as target when any of it is in the hole).
GRID = 4
#: A vertical move costs this many horizontal ones (rows are depths in a street photo).
VERTICAL_COST = 3.0
#: The distance (in cost pixels) over which a move loses 1/e of its weight: the source of a fill
#: should be the nearest place that shows the class, not merely one that covers the whole hole.
REACH = 64.0
#: Pixels within this distance of another class are never copied: a segmenter's class edges are
#: soft (the reason the edited region is dilated), so a "road" pixel next to a car may be car.
SOURCE_MARGIN = 4
#: Half-width in px of the blend where two blocks moved by different offsets meet.
SEAM = 3
#: Offsets tried per class; what the last leaves uncovered goes to the generator.
ROUNDS = 8
#: An offset must cover at least this share of the remaining target blocks to be used.
MIN_COVER = 0.25
#: A pixel whose colour lies further than this many robust spreads (1.4826·MAD per channel) from
#: its class's median colour is not copied: lane markings on a road, a yellow jacket the segmenter
#: calls building. None keeps every pixel of the class. On the validation photos every limit
#: tried (3 to 6) beat None by about the same; 4 is the one under which no copied marking was left
#: to the eye (docs/photo_editing.md).
TYPICAL: float | None = 4.0
#: Atypical pixels are grown by this many px: a marking's soft, blurred edge goes with it.
TYPICAL_GROW = 2
#: Spread floor per channel (0-255), so a near-uniform class (an overcast sky) keeps its gradients.
MIN_SPREAD = 6.0


def atypical(photo: np.ndarray, where: np.ndarray, limit: float) -> np.ndarray:
    """bool H×W: the pixels of `where` whose colour is an outlier of `where`'s colours (more than
    `limit` robust spreads from the median in any channel)."""
    out = np.zeros(where.shape, bool)
    values = photo[where].astype(np.float32)
    if values.shape[0] < 16:
        return out
    median = np.median(values, axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(values - median), axis=0), MIN_SPREAD)
    out[where] = (np.abs(values - median) / spread).max(axis=1) > limit
    return out


def _coarse(mask: np.ndarray, grid: int, *, every: bool) -> np.ndarray:
    """mask (H×W bool) on a grid×grid block grid: a block is True when all (`every`) or any of
    its pixels are. Edge blocks that run past the image count the missing pixels as False."""
    h, w = mask.shape
    hh, ww = -(-h // grid), -(-w // grid)
    padded = np.zeros((hh * grid, ww * grid), bool)
    padded[:h, :w] = mask
    blocks = padded.reshape(hh, grid, ww, grid)
    return np.asarray(blocks.all(axis=(1, 3)) if every else blocks.any(axis=(1, 3)))


def _cover_counts(target: np.ndarray, source: np.ndarray) -> np.ndarray:
    """counts[dy, dx] = number of target cells t with source[t + (dy, dx)] True, for every shift
    (indices wrap: dy = counts.shape[0] - k means -k). FFT cross-correlation on zero-padded
    arrays, so shifts never wrap around the image."""
    h, w = target.shape
    size = (2 * h, 2 * w)
    t = np.fft.rfft2(target.astype(np.float64), size)
    s = np.fft.rfft2(source.astype(np.float64), size)
    counts = np.fft.irfft2(np.conj(t) * s, size)
    return np.rint(counts)


def best_offset(target: np.ndarray, source: np.ndarray, grid: int = GRID) -> tuple[int, int] | None:
    """The offset (dy, dx) in pixels (a multiple of `grid`) that moves the most of `target` onto
    `source`, each target block weighed down by the distance of the move (exp(-cost / REACH),
    cost = VERTICAL_COST·|dy| + |dx|): a near offset covering most of the target beats a far one
    covering all of it, and the rest is left to the next round. None when no offset covers
    MIN_COVER of the target."""
    t = _coarse(target, grid, every=False)
    s = _coarse(source, grid, every=True)
    total = int(t.sum())
    if total == 0 or not s.any():
        return None
    cover = _cover_counts(t, s) / total
    hh, ww = cover.shape
    dy = np.fft.fftfreq(hh, 1.0 / hh)[:, None] * grid  # 0, 1, …, -2, -1 blocks, in pixels
    dx = np.fft.fftfreq(ww, 1.0 / ww)[None, :] * grid
    cost = VERTICAL_COST * np.abs(dy) + np.abs(dx)
    score = np.where(cover >= MIN_COVER, cover * np.exp(-cost / REACH), -1.0)
    i, j = np.unravel_index(int(np.argmax(score)), score.shape)
    if score[i, j] < 0:
        return None
    return int(dy[i, 0]), int(dx[0, j])


def _box_sum(mask: np.ndarray, r: int) -> np.ndarray:
    """For every pixel, how many pixels of `mask` lie in the (2r+1)² window around it."""
    c = np.pad(mask.astype(np.int32), ((r + 1, r), (r + 1, r))).cumsum(0).cumsum(1)
    k = 2 * r + 1
    return c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]


def _soften_seams(photo: np.ndarray, out: np.ndarray, ids: np.ndarray,
                  blocks: list[tuple[int, int, int, np.ndarray, np.ndarray]], width: int) -> None:
    """Where blocks moved by different offsets meet, mix their sources over `width` px: each
    such pixel becomes the mean of the candidates of the blocks within `width` of it (weighted by
    how many of their pixels are near), counting a block only where its source is still its
    class. Pixels near one block only are left as they are (exact copies)."""
    if len(blocks) < 2 or width <= 0:
        return
    h, w = ids.shape
    filled_any = np.zeros((h, w), bool)
    for block in blocks:
        filled_any |= block[3]
    rows, cols = np.nonzero(filled_any.any(axis=1))[0], np.nonzero(filled_any.any(axis=0))[0]
    y0, y1 = max(0, int(rows[0]) - width), min(h, int(rows[-1]) + 1 + width)
    x0, x1 = max(0, int(cols[0]) - width), min(w, int(cols[-1]) + 1 + width)
    sums = [_box_sum(block[3][y0:y1, x0:x1], width) for block in blocks]
    near_blocks = np.zeros((y1 - y0, x1 - x0), np.int32)
    for near in sums:
        near_blocks += near > 0
    py, px = np.nonzero(filled_any[y0:y1, x0:x1] & (near_blocks >= 2))
    if py.size == 0:
        return
    total = np.zeros(py.size, np.float32)
    acc = np.zeros((py.size, 3), np.float32)
    gy, gx = py + y0, px + x0  # in the photo
    for (c, dy, dx, _filled, source), near in zip(blocks, sums, strict=True):
        sy, sx = gy + dy, gx + dx
        usable = (ids[gy, gx] == c) & (sy >= 0) & (sy < h) & (sx >= 0) & (sx < w)
        usable[usable] = source[sy[usable], sx[usable]]
        weight = near[py, px].astype(np.float32) * usable
        total += weight
        acc += weight[:, None] * photo[np.clip(sy, 0, h - 1), np.clip(sx, 0, w - 1)].astype(np.float32)
    ok = total > 0
    out[gy[ok], gx[ok]] = np.clip(np.rint(acc[ok] / total[ok, None]), 0, 255).astype(np.uint8)


def clone_fill(photo: np.ndarray, ids: np.ndarray, hole: np.ndarray, *, rounds: int = ROUNDS,
               grid: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    """photo uint8 H×W×3, label ids uint8 H×W (the edited map), hole bool H×W -> (the photo with
    hole pixels copied from elsewhere in the photo, bool H×W: the hole pixels that were filled).
    A pixel is only ever taken from pixels outside the hole with the same label id, at least
    SOURCE_MARGIN px from any other label and from the hole, whose colour is typical of that
    label's pixels (TYPICAL; where two blocks meet, a mean of such pixels: SEAM px of blending)."""
    out = photo.copy()
    done = np.zeros(hole.shape, bool)
    h, w = hole.shape
    ys, xs = np.mgrid[0:h, 0:w]
    blocks: list[tuple[int, int, int, np.ndarray, np.ndarray]] = []
    for c in np.unique(ids[hole]).tolist():
        remaining = hole & (ids == c)
        source = ~dilate(hole | (ids != c), SOURCE_MARGIN)
        if TYPICAL is not None:
            source &= ~dilate(atypical(photo, source, TYPICAL), TYPICAL_GROW)
        for _ in range(rounds):
            if not remaining.any():
                break
            offset = best_offset(remaining, source, grid)
            if offset is None:
                break
            dy, dx = offset
            sy, sx = ys + dy, xs + dx
            inside = (sy >= 0) & (sy < h) & (sx >= 0) & (sx < w)
            ok = remaining & inside
            ok[ok] = source[sy[ok], sx[ok]]
            if not ok.any():
                break
            out[ok] = photo[sy[ok], sx[ok]]
            blocks.append((c, dy, dx, ok, source))
            done |= ok
            remaining &= ~ok
    _soften_seams(photo, out, ids, blocks, SEAM)
    return out, done
