"""Pictures made during training: the sample grid and the live canvas preview.

Neither touches a random generator or a BatchNorm running statistic (the grid reuses the step's
own tensors; the preview runs in eval mode under no_grad), so they never change the weights a run
ends with — resuming stays bit-exact whether or not a preview was asked for.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from core.config import GeneratorConfig
from core.models.encoding import encode_input, tensor_to_photo
from core.labels import ID_TO_COLOR

MAX_SAMPLE_ROWS = 4


def sample_grid(label_ids: torch.Tensor, fake: torch.Tensor, real: torch.Tensor,
                max_rows: int = MAX_SAMPLE_ROWS) -> np.ndarray:
    """uint8 (N, h, w) ids + (N, 3, h, w) fake/real in [-1, 1] -> uint8 grid (rows·h, 3·w, 3):
    one row per image: input label colours | generator output | target photo."""
    n = min(max_rows, label_ids.shape[0])
    ids = label_ids[:n].cpu().numpy()
    colours = ID_TO_COLOR[ids]  # (n, h, w, 3)
    outputs = tensor_to_photo(fake[:n].float())
    targets = tensor_to_photo(real[:n].float())
    rows = [np.concatenate([colours[i], outputs[i], targets[i]], axis=1) for i in range(n)]
    return np.ascontiguousarray(np.concatenate(rows, axis=0))


@torch.no_grad()
def render_labels(generator: torch.nn.Module, config: GeneratorConfig, ids: np.ndarray,
                  device: torch.device, *, channels_last: bool = False) -> np.ndarray:
    """Render uint8 label ids (H, W) of any size with `generator` in eval mode -> uint8 (H, W, 3).

    The input is padded (edge pixels repeated) to the U-Net's size multiple and the output cropped
    back. The generator's train/eval mode is restored afterwards."""
    was_training = generator.training
    generator.eval()
    try:
        h, w = ids.shape
        mult = config.size_multiple
        # A photo-edit generator renders from the labels alone here (an all-hole input).
        x = encode_input(torch.from_numpy(np.ascontiguousarray(ids)).to(device)[None], config)
        pad_h, pad_w = (-h) % mult, (-w) % mult
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        y = generator(x)[..., :h, :w]
        return tensor_to_photo(y[0].float())
    finally:
        generator.train(was_training)
