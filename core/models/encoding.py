"""Label map and photo <-> network tensors.

Model input encodings (chosen by GeneratorConfig.input_encoding):
  onehot: one channel per palette class (20), values in {0, 1}.
  color:  the Cityscapes colour of every pixel, RGB scaled to [-1, 1] (reference pix2pix models).
Photos are RGB scaled to [-1, 1].

A "labels+photo" generator (GeneratorConfig.condition, the photo-edit model of core.edit) takes
four more channels after the label encoding: the photo with the hole blanked (RGB in [-1, 1], 0 in
the hole) and the hole mask (1 = paint here, 0 = keep the photo). Given no photo, the whole image
is the hole: the model then renders from the labels alone, so previews, pins, ONNX export and
`infer` work for it like for any label-only model.
"""

from __future__ import annotations

import numpy as np
import torch

from core.config import Encoding, GeneratorConfig
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


def photo_condition(photo: torch.Tensor | None, hole: torch.Tensor | None, shape: tuple[int, int, int],
                    device: torch.device | str = "cpu") -> torch.Tensor:
    """The extra channels of a "labels+photo" input, (N, 4, H, W): photo · (1 - hole), hole.

    photo: (N, 3, H, W) in [-1, 1] or None; hole: (N, 1, H, W) in {0, 1} (float) or None.
    shape: (N, H, W). No photo means an all-hole input (render from the labels alone); a photo
    without a hole means nothing to paint (an all-zero mask)."""
    n, h, w = shape
    if photo is None:
        return torch.cat([torch.zeros(n, 3, h, w, device=device), torch.ones(n, 1, h, w, device=device)], dim=1)
    photo = photo.float()
    if hole is None:
        hole = torch.zeros(n, 1, h, w, device=photo.device)
    hole = hole.to(photo.dtype)
    return torch.cat([photo * (1.0 - hole), hole], dim=1)


def encode_input(ids: np.ndarray | torch.Tensor, config: GeneratorConfig, photo: torch.Tensor | None = None,
                 hole: torch.Tensor | None = None) -> torch.Tensor:
    """The generator input for uint8 label ids (N, H, W) (or (H, W) -> unbatched): the label
    encoding, and for a "labels+photo" generator the masked photo and hole (photo_condition)."""
    x = encode_labels(ids, config.input_encoding)
    if not config.photo_conditioned:
        return x
    batched = x.ndim == 4
    xb = x if batched else x[None]
    if photo is not None and photo.ndim == 3:
        photo = photo[None]
    if hole is not None and hole.ndim == 3:
        hole = hole[None]
    extra = photo_condition(photo, hole, (xb.shape[0], xb.shape[2], xb.shape[3]), xb.device)
    out = torch.cat([xb, extra.to(xb.device)], dim=1)
    return out if batched else out[0]
