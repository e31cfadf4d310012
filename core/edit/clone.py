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

from dataclasses import dataclass

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
#: calls building (clone_fill's `typical`; None there keeps every pixel). On the validation photos every limit
#: tried (3 to 6) beat None by about the same; 4 is the one under which no copied marking was left
#: to the eye (docs/photo_editing.md).
TYPICAL = 4.0
#: Atypical pixels are grown by this many px: a marking's soft, blurred edge goes with it. Must
#: stay below SOURCE_MARGIN (clone_fill grows all classes' atypical pixels at once).
TYPICAL_GROW = 2
#: Spread floor per channel (0-255), so a near-uniform class (an overcast sky) keeps its gradients.
MIN_SPREAD = 6.0


def colour_statistics(photo: np.ndarray, where: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(median, robust spread) of the colours of `where`'s pixels, per channel (float32 ×3); the
    spread is 1.4826 × the median absolute deviation, at least MIN_SPREAD. None for fewer than 16
    pixels. A large region is sampled (its statistics need no more)."""
    step = 2 if int(where.sum()) >= 4096 else 1  # a large region: every other row and column will do
    sample = photo[::step, ::step][where[::step, ::step]].astype(np.float32)
    if sample.shape[0] < 16:
        return None
    sample = sample[:: max(1, sample.shape[0] // 8192)]
    median = np.median(sample, axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(sample - median), axis=0), MIN_SPREAD)
    return median, spread


def atypical(photo: np.ndarray, ids: np.ndarray, regions: dict[int, np.ndarray], limit: float) -> np.ndarray:
    """bool H×W: the pixels of each label's region (`regions[label]`, disjoint bool H×W masks) whose
    colour lies more than `limit` robust spreads from the median colour of that region in any
    channel: a lane marking in the road, a yellow jacket in "building". One vectorised pass for
    all labels."""
    # Per label and channel, the typical range [median - limit·spread, median + limit·spread] as
    # uint8 bounds, so that the test is two table look-ups and comparisons per pixel and channel.
    low = np.zeros((3, 256), np.uint8)
    high = np.full((3, 256), 255, np.uint8)  # labels without statistics: nothing is atypical
    considered = np.zeros(ids.shape, bool)
    for label, region in regions.items():
        stats = colour_statistics(photo, region)
        if stats is not None:
            median, reach = stats[0], limit * stats[1]
            low[:, label] = np.clip(np.ceil(median - reach), 0, 255)
            high[:, label] = np.clip(np.floor(median + reach), 0, 255)
            considered |= region
    out = np.zeros(ids.shape, bool)
    for channel in range(3):
        value = photo[..., channel]
        out |= (value < low[channel][ids]) | (value > high[channel][ids])
    return out & considered


_WORD = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}  # grid → one block row as one integer


def _coarse(mask: np.ndarray, grid: int, *, every: bool) -> np.ndarray:
    """mask (H×W bool) on a grid×grid block grid: a block is True when all (`every`) or any of
    its pixels are. Edge blocks that run past the image count the missing pixels as False."""
    h, w = mask.shape
    hh, ww = -(-h // grid), -(-w // grid)
    padded = np.zeros((hh * grid, ww * grid), np.uint8)
    padded[:h, :w] = mask
    word = _WORD.get(grid)
    if word is not None:
        # Each block row's `grid` bytes read as one integer: all ones is 0x01…01, none is 0. Some
        # 17× faster than a boolean reduction over two axes (this runs every round of every class).
        rows = padded.view(word).reshape(hh, grid, ww)
        full = int.from_bytes(b"\x01" * grid, "little")
        return np.asarray((rows == full).all(axis=1) if every else (rows != 0).any(axis=1))
    blocks = padded.reshape(hh, grid, ww, grid).astype(bool)
    return np.asarray(blocks.all(axis=(1, 3)) if every else blocks.any(axis=(1, 3)))


class _SourceGrid:
    """A class's source mask on the coarse grid, with what every offset search against it needs
    (its FFT at the padded size, and each shift's distance weight), computed once per class:
    the rounds of one class search the same source for different targets."""

    def __init__(self, source: np.ndarray, grid: int) -> None:
        self.grid = grid
        coarse = _coarse(source, grid, every=True)
        self.any = bool(coarse.any())
        hh, ww = coarse.shape
        self.size = (2 * hh, 2 * ww)  # zero padding: shifts never wrap around the image
        self.fft = np.fft.rfft2(coarse.astype(np.float64), self.size)
        dy = np.fft.fftfreq(self.size[0], 1.0 / self.size[0])[:, None] * grid  # 0, 1, …, -2, -1 blocks, in px
        dx = np.fft.fftfreq(self.size[1], 1.0 / self.size[1])[None, :] * grid
        self.dy, self.dx = dy, dx
        self.weight = np.exp(-(VERTICAL_COST * np.abs(dy) + np.abs(dx)) / REACH)

    def cover(self, target: np.ndarray) -> np.ndarray:
        """counts[dy, dx] = number of target cells t with source[t + (dy, dx)] True, for every shift
        (indices wrap: dy = counts.shape[0] - k means -k): an FFT cross-correlation."""
        t = np.fft.rfft2(target.astype(np.float64), self.size)
        return np.rint(np.fft.irfft2(np.conj(t) * self.fft, self.size))

    def best_offset(self, target: np.ndarray) -> tuple[int, int] | None:
        t = _coarse(target, self.grid, every=False)
        total = int(t.sum())
        if total == 0 or not self.any:
            return None
        cover = self.cover(t) / total
        score = np.where(cover >= MIN_COVER, cover * self.weight, -1.0)
        i, j = np.unravel_index(int(np.argmax(score)), score.shape)
        if score[i, j] < 0:
            return None
        return int(self.dy[i, 0]), int(self.dx[0, j])


def best_offset(target: np.ndarray, source: np.ndarray, grid: int = GRID) -> tuple[int, int] | None:
    """The offset (dy, dx) in pixels (a multiple of `grid`) that moves the most of `target` onto
    `source`, each target block weighed down by the distance of the move (exp(-cost / REACH),
    cost = VERTICAL_COST·|dy| + |dx|): a near offset covering most of the target beats a far one
    covering all of it, and the rest is left to the next round. None when no offset covers
    MIN_COVER of the target."""
    return _SourceGrid(source, grid).best_offset(target)


def _box_sum(mask: np.ndarray, r: int) -> np.ndarray:
    """For every pixel, how many pixels of `mask` lie in the (2r+1)² window around it."""
    c = np.pad(mask.astype(np.int32), ((r + 1, r), (r + 1, r))).cumsum(0).cumsum(1)
    k = 2 * r + 1
    return c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]


@dataclass(frozen=True)
class _Block:
    """The pixels of one class that one offset filled: `filled` is a bool H×W mask whose True
    pixels all lie in rows y0:y1 and columns x0:x1."""
    label: int
    dy: int
    dx: int
    filled: np.ndarray
    source: np.ndarray
    y0: int
    y1: int
    x0: int
    x1: int


def _soften_seams(photo: np.ndarray, out: np.ndarray, ids: np.ndarray, blocks: list[_Block], width: int) -> None:
    """Where blocks moved by different offsets meet, mix their sources over `width` px: each
    such pixel becomes the mean of the candidates of the blocks within `width` of it (weighted by
    how many of their pixels are near), counting a block only where its source is still its
    class. Pixels near one block only are left as they are (exact copies)."""
    if len(blocks) < 2 or width <= 0:
        return
    h, w = ids.shape
    # Each block's neighbourhood counts, only within its own box grown by `width`.
    near: list[tuple[int, int, np.ndarray]] = []
    near_blocks = np.zeros((h, w), np.int8)
    filled_any = np.zeros((h, w), bool)
    for b in blocks:
        y0, y1 = max(0, b.y0 - width), min(h, b.y1 + width)
        x0, x1 = max(0, b.x0 - width), min(w, b.x1 + width)
        counts = _box_sum(b.filled[y0:y1, x0:x1], width)
        near.append((y0, x0, counts))
        near_blocks[y0:y1, x0:x1] += counts > 0
        filled_any[b.y0:b.y1, b.x0:b.x1] |= b.filled[b.y0:b.y1, b.x0:b.x1]
    gy, gx = np.nonzero(filled_any & (near_blocks >= 2))
    if gy.size == 0:
        return
    total = np.zeros(gy.size, np.float32)
    acc = np.zeros((gy.size, 3), np.float32)
    for b, (y0, x0, counts) in zip(blocks, near, strict=True):
        ly, lx = gy - y0, gx - x0  # in the block's box
        inside = (ly >= 0) & (ly < counts.shape[0]) & (lx >= 0) & (lx < counts.shape[1])
        weight = np.zeros(gy.size, np.float32)
        weight[inside] = counts[ly[inside], lx[inside]]
        sy, sx = gy + b.dy, gx + b.dx
        usable = (weight > 0) & (ids[gy, gx] == b.label) & (sy >= 0) & (sy < h) & (sx >= 0) & (sx < w)
        usable[usable] = b.source[sy[usable], sx[usable]]
        weight *= usable
        total += weight
        acc += weight[:, None] * photo[np.clip(sy, 0, h - 1), np.clip(sx, 0, w - 1)].astype(np.float32)
    ok = total > 0
    out[gy[ok], gx[ok]] = np.clip(np.rint(acc[ok] / total[ok, None]), 0, 255).astype(np.uint8)


def clone_fill(photo: np.ndarray, ids: np.ndarray, hole: np.ndarray, *, rounds: int = ROUNDS,
               grid: int = GRID, typical: float | None = TYPICAL) -> tuple[np.ndarray, np.ndarray]:
    """photo uint8 H×W×3, label ids uint8 H×W (the edited map), hole bool H×W -> (the photo with
    hole pixels copied from elsewhere in the photo, bool H×W: the hole pixels that were filled).
    A pixel is only ever taken from pixels outside the hole with the same label id, at least
    SOURCE_MARGIN px from any other label and from the hole, whose colour is typical of that
    label's pixels (`typical` spreads, None: any colour; where two blocks meet, a mean of such
    pixels: SEAM px of blending)."""
    out = photo.copy()
    done = np.zeros(hole.shape, bool)
    h, w = hole.shape
    blocks: list[_Block] = []
    classes = np.unique(ids[hole]).tolist()
    sources = {c: ~dilate(hole | (ids != c), SOURCE_MARGIN) for c in classes}
    if typical is not None:
        # One dilation serves every class: a grown atypical pixel of another class cannot reach a
        # source, which keeps SOURCE_MARGIN > TYPICAL_GROW px from other classes anyway.
        unusable = dilate(atypical(photo, ids, sources, typical), TYPICAL_GROW)
        for source in sources.values():
            source &= ~unusable
    for c in classes:
        remaining = hole & (ids == c)
        source = sources[c]
        grid_source = _SourceGrid(source, grid)
        for _ in range(rounds):
            if not remaining.any():
                break
            offset = grid_source.best_offset(remaining)
            if offset is None:
                break
            dy, dx = offset
            ty, tx = np.nonzero(remaining)  # the pixels still to fill, and where they would come from
            sy, sx = ty + dy, tx + dx
            usable = (sy >= 0) & (sy < h) & (sx >= 0) & (sx < w)
            usable[usable] = source[sy[usable], sx[usable]]
            if not usable.any():
                break
            ty, tx, sy, sx = ty[usable], tx[usable], sy[usable], sx[usable]
            ok = np.zeros((h, w), bool)
            ok[ty, tx] = True
            out[ty, tx] = photo[sy, sx]
            box = (int(ty.min()), int(ty.max()) + 1, int(tx.min()), int(tx.max()) + 1)
            blocks.append(_Block(c, dy, dx, ok, source, *box))
            done |= ok
            remaining &= ~ok
    _soften_seams(photo, out, ids, blocks, SEAM)
    return out, done
