"""Joint transforms: the label map and the photo always move together.

resize to load size -> random crop to crop size -> random horizontal flip (training), or a plain
resize to crop size (validation / preprocess="resize"); preprocess="multiscale_crop" takes a crop
of random scale (multiscale_box) and resizes it to crop size. Labels are resized with nearest neighbour
(as a tv_tensors.Mask) so no new ids appear; never vertical flips or rotations for street scenes.
Randomness comes from an explicit numpy Generator, so a pair's augmentation depends only on
(seed, epoch, index) — identical across DataLoader workers, ranks and resumes.

Two training-only extras: with `rare_ids` (core.data.rare) and DataConfig.rare_crop_prob a crop of
a frame that holds a rare class is moved to contain one of its pixels; with DataConfig.painted_share
the cropped label map is replaced by a painting-like one (core.data.painting), the photo unchanged.
Neither draws from the generator when it is off, so older runs augment exactly as before.
"""

from __future__ import annotations

import numpy as np
import torch
from torchvision import tv_tensors
from torchvision.transforms.v2 import functional as F

from core.config import DataConfig
from core.data.painting import paint_like
from core.data.rare import rare_crop_centre


def _around(centre: int, size: int, limit: int, rng: np.random.Generator) -> int:
    """Start of a window of `size` in [0, limit) that contains `centre`, at a random offset."""
    low = max(0, centre - size + 1)
    high = min(limit - size, centre)
    return int(rng.integers(low, high + 1)) if high >= low else max(0, min(limit - size, centre - size // 2))


def multiscale_box(height: int, width: int, cfg: DataConfig, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """(top, left, h, w) of a random crop with crop_size's aspect ratio whose side is a share
    s ~ U(crop_scale) of the largest such box that fits the image. s is raised so the crop is never
    smaller than crop_size (no upsampling): a 256×512 synthetic scene with a 256×512 crop_size is
    used whole, a 1024×2048 Cityscapes frame yields crops from 256×512 to the full frame."""
    crop_h, crop_w = cfg.crop_size
    aspect = crop_w / crop_h
    full_h, full_w = (height, height * aspect) if width >= height * aspect else (width / aspect, width)
    low, high = cfg.crop_scale
    low = min(max(low, crop_h / full_h), 1.0)
    high = max(high, low)
    scale = float(rng.uniform(low, high))
    h = max(1, min(height, round(full_h * scale)))
    w = max(1, min(width, round(full_w * scale)))
    top = int(rng.integers(0, height - h + 1))
    left = int(rng.integers(0, width - w + 1))
    return top, left, h, w


def joint_transform(labels: np.ndarray, photo: np.ndarray, cfg: DataConfig, rng: np.random.Generator,
                    train: bool, rare_ids: frozenset[int] = frozenset()) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 (H, W) ids + uint8 (H, W, 3) photo -> uint8 (h, w) ids tensor, uint8 (3, h, w) photo tensor."""
    centre = None  # a rare-class pixel (row, col) of `labels` the crop must contain
    if train and rare_ids and cfg.rare_crop_prob > 0 and rng.random() < cfg.rare_crop_prob:
        centre = rare_crop_centre(labels, rare_ids, rng)
    # np.require(..., "W"): decoded PNGs can be read-only, which torch.from_numpy warns about.
    mask = tv_tensors.Mask(torch.from_numpy(np.require(labels, requirements=["C", "W"]))[None])  # (1, H, W)
    image = tv_tensors.Image(torch.from_numpy(np.require(photo, requirements=["C", "W"])).permute(2, 0, 1))  # (3, H, W)
    crop_h, crop_w = cfg.crop_size
    if cfg.preprocess == "resize_and_crop" and train:
        load_h, load_w = cfg.load_size
        mask = F.resize(mask, [load_h, load_w], interpolation=F.InterpolationMode.NEAREST)
        image = F.resize(image, [load_h, load_w], antialias=True)
        top = int(rng.integers(0, load_h - crop_h + 1))
        left = int(rng.integers(0, load_w - crop_w + 1))
        if centre is not None:
            row = int(centre[0] * load_h / labels.shape[0])
            col = int(centre[1] * load_w / labels.shape[1])
            top, left = _around(row, crop_h, load_h, rng), _around(col, crop_w, load_w, rng)
        mask = F.crop(mask, top, left, crop_h, crop_w)
        image = F.crop(image, top, left, crop_h, crop_w)
    elif cfg.preprocess == "multiscale_crop" and train:
        top, left, h, w = multiscale_box(labels.shape[0], labels.shape[1], cfg, rng)
        if centre is not None:
            top = _around(centre[0], h, labels.shape[0], rng)
            left = _around(centre[1], w, labels.shape[1], rng)
        mask = F.resized_crop(mask, top, left, h, w, [crop_h, crop_w], interpolation=F.InterpolationMode.NEAREST)
        image = F.resized_crop(image, top, left, h, w, [crop_h, crop_w], antialias=True)
    elif cfg.preprocess != "none" or mask.shape[-2:] != (crop_h, crop_w):
        mask = F.resize(mask, [crop_h, crop_w], interpolation=F.InterpolationMode.NEAREST)
        image = F.resize(image, [crop_h, crop_w], antialias=True)
    if train and cfg.flip and rng.random() < 0.5:
        mask = F.horizontal_flip(mask)
        image = F.horizontal_flip(image)
    ids = mask.as_subclass(torch.Tensor)[0].contiguous()
    if train and cfg.painted_share > 0 and rng.random() < cfg.painted_share:
        ids = torch.from_numpy(paint_like(ids, rng))
    return ids, image.as_subclass(torch.Tensor).contiguous()
