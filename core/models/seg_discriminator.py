"""OASIS's segmentation discriminator (Schönfeld et al. 2021, "You Only Need Adversarial
Supervision for Semantic Image Synthesis"), sized for a CPU.

Input: the photo only, (N, 3, H, W) in [-1, 1] (no label map: D must recognise the classes from
the pixels). Output: per pixel NUM_PALETTE_CLASSES = 20 logits, (N, 20, H, W): channel 0 (the
palette's "unlabeled" index) means FAKE, channels 1..19 the 19 train classes in palette order
(core.labels.ID_TO_PALETTE_INDEX). Losses: core.train.losses.class_balanced_ce.

A small U-Net: a 3×3 stem at full resolution, four 4×4 stride-2 convs down (×1/16), then ×2
nearest resize + 3×3 conv up with the encoder's activations concatenated at each level, and a 1×1
conv to the 20 logits at full resolution. LeakyReLU(0.2), no normalisation layer (a batch of one
makes BatchNorm an instance norm that would erase the colour statistics D judges by); spectral
norm on every conv as in OASIS (optional). With seg_ndf 16 (~0.63M parameters), a 128×128 pass
costs about the same multiply-adds as the default model's two-scale ndf-32 PatchGAN.
Input sides must be multiples of 16 (every U-Net generator's input already is).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.functional import interpolate

from core.config import DiscriminatorConfig
from core.labels import NUM_PALETTE_CLASSES
from core.models.init import init_weights

FAKE_CHANNEL = 0  # the palette's "unlabeled" index
LEVELS = 4  # stride-2 downsamplings: inputs must be multiples of 2**LEVELS


def _conv(cin: int, cout: int, kernel: int, stride: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, stride, padding=(kernel - 1) // 2 if stride == 1 else 1)


class SegmentationDiscriminator(nn.Module):
    def __init__(self, cfg: DiscriminatorConfig, num_classes: int = NUM_PALETTE_CLASSES, init: bool = True) -> None:
        super().__init__()
        self.config = cfg
        c = cfg.seg_ndf
        widths = [c] + [c * min(2 ** (i + 1), 8) for i in range(LEVELS)]  # 16, 32, 64, 128, 128
        self.stem = _conv(3, widths[0], 3, 1)
        self.down = nn.ModuleList(_conv(widths[i], widths[i + 1], 4, 2) for i in range(LEVELS))
        # up[i] takes level i+1's output (upsampled to level i) concatenated with level i's skip.
        self.up = nn.ModuleList(_conv(widths[i + 1] + widths[i], widths[i] if i else c, 3, 1)
                                for i in reversed(range(LEVELS)))
        self.head = _conv(c, num_classes, 1, 1)
        self.act = nn.LeakyReLU(0.2)
        if init:
            init_weights(self)  # before spectral norm, which re-parametrises the weights
        if cfg.seg_spectral_norm:
            for module in list(self.modules()):
                if isinstance(module, nn.Conv2d):
                    nn.utils.parametrizations.spectral_norm(module)  # draws its start vector: seeded

    def forward(self, photo: torch.Tensor) -> torch.Tensor:
        h = self.act(self.stem(photo))  # (N, c, H, W)
        skips = [h]
        for conv in self.down:
            h = self.act(conv(h))  # (N, w_i, H/2^i, W/2^i)
            skips.append(h)
        skips.pop()  # the deepest level is h itself
        for conv in self.up:
            skip = skips.pop()
            h = interpolate(h, size=skip.shape[-2:], mode="nearest")
            h = self.act(conv(torch.cat([h, skip], dim=1)))
        return self.head(h)  # (N, 20, H, W) logits; channel 0 = fake


def build_seg_discriminator(cfg: DiscriminatorConfig, init: bool = True) -> SegmentationDiscriminator:
    return SegmentationDiscriminator(cfg, init=init)
