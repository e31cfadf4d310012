"""Label map and photo <-> network tensors.

Model input encodings (chosen by GeneratorConfig.input_encoding):
  onehot: one channel per palette class (20), values in {0, 1}.
  color:  the Cityscapes colour of every pixel, RGB scaled to [-1, 1] (reference pix2pix models).
Photos are RGB scaled to [-1, 1].
"""

from __future__ import annotations

import numpy as np
import torch

from core.config import Encoding
from core.labels import ID_TO_COLOR, ID_TO_PALETTE_INDEX, NUM_PALETTE_CLASSES


def encode_labels(ids: np.ndarray | torch.Tensor, encoding: Encoding) -> torch.Tensor:
    """uint8 label ids (H, W) or (N, H, W) -> float32 (C, H, W) or (N, C, H, W).

    onehot gives {0, 1} per channel (palette index: 0 unlabeled, 1..19 train ids); ids outside the
    palette count as unlabeled. color gives palette RGB in [-1, 1].
    """
    t = torch.as_tensor(ids)
    batched = t.ndim == 3
    if not batched:
        t = t.unsqueeze(0)
    t = t.long()
    if encoding == "onehot":
        index = torch.from_numpy(ID_TO_PALETTE_INDEX).long().to(t.device)[t]  # (N, H, W)
        out = torch.nn.functional.one_hot(index, NUM_PALETTE_CLASSES)  # (N, H, W, C)
        out = out.permute(0, 3, 1, 2).float()
    elif encoding == "color":
        rgb = torch.from_numpy(ID_TO_COLOR).to(t.device)[t]  # (N, H, W, 3) uint8
        out = rgb.permute(0, 3, 1, 2).float() / 127.5 - 1.0
    else:
        raise ValueError(f"unknown input encoding {encoding!r}")
    out = out.contiguous()
    return out if batched else out[0]


def photo_to_tensor(photo: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 RGB (H, W, 3) or (N, H, W, 3) -> float32 (3, H, W) / (N, 3, H, W) in [-1, 1]."""
    t = torch.as_tensor(photo)
    if t.ndim == 3:
        return (t.permute(2, 0, 1).float() / 127.5 - 1.0).contiguous()
    return (t.permute(0, 3, 1, 2).float() / 127.5 - 1.0).contiguous()


def tensor_to_photo(t: torch.Tensor) -> np.ndarray:
    """float (3, H, W) or (N, 3, H, W) in [-1, 1] -> uint8 RGB (H, W, 3) / (N, H, W, 3), rounded."""
    t = t.detach().float().clamp(-1.0, 1.0)
    t = ((t + 1.0) * 127.5).round().to(torch.uint8)
    if t.ndim == 3:
        return t.permute(1, 2, 0).cpu().numpy()
    return t.permute(0, 2, 3, 1).cpu().numpy()
