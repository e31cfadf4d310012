"""Training a photo-edit generator ("labels+photo", GeneratorConfig.condition): random holes, the
generator's input, and the losses. Used by core.train.loop; nothing here touches a global RNG.

Holes. At editing time the hole is the region whose labels the user changed, dilated by a few
pixels (core.edit.masks): an object's shape (a car repainted as road) or a painted blob (a hedge
brushed onto a wall). Training holes imitate both, per crop:
- 50 %: an object mask: the connected region of one class around a random pixel of a class
  present in the crop (every present class equally likely, so poles and signs as often as road),
  cut to a random box when it covers most of the crop (road, sky), dilated by 1-6 px;
- 40 %: free-form brush strokes (2-6 vertex polylines with round joints, 4-16 % of the crop wide,
  after Yu et al. 2019, DeepFill v2);
- 5 %: both;
- 5 %: the whole crop: the model must then render from the labels alone, which is how previews,
  pins, `infer` and ONNX export run it (core.models.encoding.encode_input with no photo).
The masks are drawn from a numpy generator seeded by (run seed, rank, step) — or by the
validation batch's index, so every validation sees the same holes — so an interrupted run resumes
bit-exactly (core.train.loop's module docstring).

Losses (why these):
- The image the user sees is the composite: the photo outside the hole, G's output inside. So the
  discriminator judges the composite (Yu et al. 2019; Iizuka et al. 2017): it must spot the hole
  and its seam against real context, which is exactly the failure that shows.
- L1 is measured per hole pixel (the mean over the hole, not over the crop: a 3 % hole would
  otherwise barely count), plus a tenth of the mean outside it: G's output outside the hole is
  never shown, but matching the photo there keeps it continuous across the hole's border, where
  the feathered blend of core.edit mixes G's output with the photo.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from core.labels import ID_TO_PALETTE_INDEX

#: Weight of the L1 outside the hole relative to the per-pixel L1 inside it.
OUTSIDE_L1_WEIGHT = 0.1
#: Chance that a training hole is the whole crop (render from labels alone).
FULL_HOLE_SHARE = 0.05
#: Seed salt of the validation holes (kept apart from the training steps' seeds).
_VALIDATION_SALT = 7_919


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by `radius` px (a square, grown 1 px at a time)."""
    out = mask.copy()
    for _ in range(radius):
        grown = out.copy()
        grown[1:] |= out[:-1]
        grown[:-1] |= out[1:]
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        out = grown
    return out


def connected_region(mask: np.ndarray, y: int, x: int) -> np.ndarray:
    """The 4-connected region of `mask` (bool H×W) holding pixel (y, x): grown from the pixel
    inside the mask until it stops changing (geodesic dilation)."""
    region = np.zeros_like(mask)
    region[y, x] = True
    while True:
        grown = _dilate(region, 1) & mask
        if grown.sum() == region.sum():
            return region
        region = grown


def object_hole(ids: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """The dilated region of one class around a random pixel; None when the crop has no labels."""
    classes = ID_TO_PALETTE_INDEX[ids]
    present = [c for c in np.unique(classes).tolist() if c != 0]
    if not present:
        return None
    cls = present[int(rng.integers(len(present)))]
    ys, xs = np.nonzero(classes == cls)
    pick = int(rng.integers(len(ys)))
    y, x = int(ys[pick]), int(xs[pick])
    h, w = ids.shape
    region = connected_region(classes == cls, y, x)
    if region.mean() > 0.35:
        # Road, sky, a facade: an editable piece of it, a box around the picked pixel.
        bh, bw = int(h * rng.uniform(0.15, 0.5)), int(w * rng.uniform(0.15, 0.5))
        top, left = max(0, y - int(rng.integers(bh + 1))), max(0, x - int(rng.integers(bw + 1)))
        box = np.zeros_like(region)
        box[top:top + bh, left:left + bw] = True
        region &= box
    return _dilate(region, int(rng.integers(1, 7)))


def stroke_hole(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """1-4 free-form brush strokes (polylines with round joints)."""
    h, w = shape
    side = min(h, w)
    image = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 5))):
        width = max(2, int(side * rng.uniform(0.04, 0.16)))
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        points = [(x, y)]
        for _ in range(int(rng.integers(1, 6))):
            angle = rng.uniform(0, 2 * np.pi)
            length = side * rng.uniform(0.1, 0.4)
            x = float(np.clip(x + length * np.cos(angle), 0, w - 1))
            y = float(np.clip(y + length * np.sin(angle), 0, h - 1))
            points.append((x, y))
        draw.line(points, fill=255, width=width, joint="curve")
        r = width / 2
        for px, py in (points[0], points[-1]):
            draw.ellipse((px - r, py - r, px + r, py + r), fill=255)
    return np.asarray(image) > 0


def random_hole(ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One training hole (bool H×W) for the label map `ids` (module docstring: the mix)."""
    u = rng.random()
    if u < FULL_HOLE_SHARE:
        return np.ones(ids.shape, bool)
    with_object = u < 0.55 or u >= 0.95  # [0.05, 0.55): object; [0.95, 1): object and strokes
    with_strokes = u >= 0.55  # [0.55, 0.95): strokes
    hole = object_hole(ids, rng) if with_object else None
    if hole is None or with_strokes:
        strokes = stroke_hole(ids.shape, rng)
        hole = strokes if hole is None else hole | strokes
    if not hole.any():  # never an empty hole: nothing to learn from
        hole = stroke_hole(ids.shape, rng)
    return hole


def hole_batch(ids: torch.Tensor | np.ndarray, seed: int, key: tuple[int, ...]) -> torch.Tensor:
    """Holes for a batch of label maps (N, H, W) -> float (N, 1, H, W) in {0, 1}, drawn from a
    generator seeded by (seed, *key) only."""
    arr = ids.numpy() if isinstance(ids, torch.Tensor) else np.asarray(ids)
    rng = np.random.default_rng([int(seed) & 0xFFFF_FFFF, *[int(k) for k in key]])
    holes = np.stack([random_hole(a, rng) for a in arr])
    return torch.from_numpy(holes.astype(np.float32))[:, None]


def training_holes(ids: torch.Tensor, seed: int, rank: int, step: int) -> torch.Tensor:
    """The holes of training step `step` (1-based) on `rank`."""
    return hole_batch(ids, seed, (rank, step))


def validation_holes(ids: torch.Tensor, seed: int, batch_index: int) -> torch.Tensor:
    """The holes of validation batch `batch_index`: the same at every validation."""
    return hole_batch(ids, seed, (_VALIDATION_SALT, batch_index))


def photo_input(x: torch.Tensor, real: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """The label encoding x (N, C, h, w) extended by the masked photo and the hole."""
    hole = hole.to(real.device, real.dtype)
    return torch.cat([x, real * (1.0 - hole), hole], dim=1)


def composite(fake: torch.Tensor, real: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """The photo outside the hole, the generator's output inside it."""
    return hole * fake + (1.0 - hole) * real


def hole_l1(fake: torch.Tensor, real: torch.Tensor, hole: torch.Tensor,
            outside_weight: float = OUTSIDE_L1_WEIGHT) -> torch.Tensor:
    """Mean absolute error per hole pixel, plus `outside_weight` times the mean outside it."""
    diff = (fake.float() - real.float()).abs().mean(dim=1, keepdim=True)  # (N, 1, h, w)
    hole = hole.float()
    inside = (diff * hole).sum() / hole.sum().clamp_min(1.0)
    outside = (diff * (1.0 - hole)).sum() / (1.0 - hole).sum().clamp_min(1.0)
    return inside + outside_weight * outside
