"""Joint transforms: the label map and the photo always move together.

resize to load size -> random crop to crop size -> random horizontal flip (training), or a plain
resize to crop size (validation / preprocess="resize"). Labels are resized with nearest neighbour
(as a tv_tensors.Mask) so no new ids appear; never vertical flips or rotations for street scenes.
Randomness comes from an explicit numpy Generator, so a pair's augmentation depends only on
(seed, epoch, index) — identical across DataLoader workers, ranks and resumes.
"""

from __future__ import annotations

import numpy as np
import torch
from torchvision import tv_tensors
from torchvision.transforms.v2 import functional as F

from core.config import DataConfig


def joint_transform(labels: np.ndarray, photo: np.ndarray, cfg: DataConfig, rng: np.random.Generator,
                    train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 (H, W) ids + uint8 (H, W, 3) photo -> uint8 (h, w) ids tensor, uint8 (3, h, w) photo tensor."""
    mask = tv_tensors.Mask(torch.from_numpy(np.ascontiguousarray(labels))[None])  # (1, H, W)
    image = tv_tensors.Image(torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1))  # (3, H, W)
    crop_h, crop_w = cfg.crop_size
    if cfg.preprocess == "resize_and_crop" and train:
        load_h, load_w = cfg.load_size
        mask = F.resize(mask, [load_h, load_w], interpolation=F.InterpolationMode.NEAREST)
        image = F.resize(image, [load_h, load_w], antialias=True)
        top = int(rng.integers(0, load_h - crop_h + 1))
        left = int(rng.integers(0, load_w - crop_w + 1))
        mask = F.crop(mask, top, left, crop_h, crop_w)
        image = F.crop(image, top, left, crop_h, crop_w)
    elif cfg.preprocess != "none" or mask.shape[-2:] != (crop_h, crop_w):
        mask = F.resize(mask, [crop_h, crop_w], interpolation=F.InterpolationMode.NEAREST)
        image = F.resize(image, [crop_h, crop_w], antialias=True)
    if train and cfg.flip and rng.random() < 0.5:
        mask = F.horizontal_flip(mask)
        image = F.horizontal_flip(image)
    return mask.as_subclass(torch.Tensor)[0].contiguous(), image.as_subclass(torch.Tensor).contiguous()
