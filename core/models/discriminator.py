"""PatchGAN discriminators of pix2pix, as in the reference implementation.

Input: concat(label encoding, photo) along channels. Output: one logit per patch.
n_layers = 0 is the 1×1 "PixelGAN"; 1 gives 16×16 patches, 3 gives 70×70, 5 gives 286×286.

`MultiScaleDiscriminator` (pix2pixHD, Wang et al. 2018) runs `scales` PatchGANs of the same
architecture, each with its own weights, on the input average-pooled ×1, ×1/2, ×1/4, ...

Both take `return_features=True` (used by the training loop for the GAN loss over scales and the
feature-matching loss): then they return, per scale, the activations after every LeakyReLU and
the logits last — `list[list[Tensor]]` for either class, so the loop has one code path. Without
it a single PatchGAN returns its logits (N, 1, h', w') as in the paper, and the multi-scale one a
list of logits per scale.
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

    def forward(self, x: torch.Tensor, return_features: bool = False
                ) -> torch.Tensor | list[list[torch.Tensor]]:
        if not return_features:
            return self.model(x)  # (N, 1, h', w') patch logits
        features: list[torch.Tensor] = []
        h = x
        for layer in self.model:
            h = layer(h)
            if isinstance(layer, nn.LeakyReLU):
                features.append(h)
        features.append(h)  # the logits
        return [features]


def downsample(x: torch.Tensor) -> torch.Tensor:
    """×1/2 for the next scale: 3×3 average with stride 2, padding not counted (pix2pixHD's)."""
    return nn.functional.avg_pool2d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False)


class MultiScaleDiscriminator(nn.Module):
    def __init__(self, cfg: DiscriminatorConfig, input_nc: int) -> None:
        super().__init__()
        self.config = cfg
        self.scales = nn.ModuleList(PatchDiscriminator(cfg, input_nc) for _ in range(cfg.scales))

    def forward(self, x: torch.Tensor, return_features: bool = False
                ) -> list[torch.Tensor] | list[list[torch.Tensor]]:
        outputs: list = []
        for index, net in enumerate(self.scales):
            if index:
                x = downsample(x)
            if return_features:
                outputs += net(x, return_features=True)
            else:
                outputs.append(net(x))
        return outputs
