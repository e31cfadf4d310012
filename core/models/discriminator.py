"""PatchGAN discriminators of pix2pix, as in the reference implementation.

Input: concat(label encoding, photo) along channels. Output: one logit per patch.
n_layers = 0 is the 1×1 "PixelGAN"; 1 gives 16×16 patches, 3 gives 70×70, 5 gives 286×286.
"""

from __future__ import annotations

import torch
from torch import nn

from core.config import DiscriminatorConfig
from core.models.norm import conv_bias, make_norm


class PatchDiscriminator(nn.Module):
    def __init__(self, cfg: DiscriminatorConfig, input_nc: int) -> None:
        super().__init__()
        self.config = cfg
        ndf, norm = cfg.ndf, cfg.norm
        bias = conv_bias(norm)
        layers: list[nn.Module]
        if cfg.n_layers == 0:
            layers = [
                nn.Conv2d(input_nc, ndf, 1, 1, 0),
                nn.LeakyReLU(0.2),
                nn.Conv2d(ndf, ndf * 2, 1, 1, 0, bias=bias),
                make_norm(norm, ndf * 2),
                nn.LeakyReLU(0.2),
                nn.Conv2d(ndf * 2, 1, 1, 1, 0, bias=bias),
            ]
        else:
            layers = [nn.Conv2d(input_nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
            mult = 1
            for n in range(1, cfg.n_layers):
                prev, mult = mult, min(2**n, 8)
                layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2, 1, bias=bias),
                           make_norm(norm, ndf * mult), nn.LeakyReLU(0.2)]
            prev, mult = mult, min(2**cfg.n_layers, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 1, 1, bias=bias),
                       make_norm(norm, ndf * mult), nn.LeakyReLU(0.2),
                       nn.Conv2d(ndf * mult, 1, 4, 1, 1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)  # (N, 1, h', w') patch logits
