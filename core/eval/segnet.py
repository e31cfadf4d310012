"""The segmentation network behind the FCN-score: a compact encoder-decoder (~0.8 M parameters
at width 16, ~3 MB as float32).

    photo (3, H, W) -> stem /2 -> enc1 /4 -> enc2 /8 -> enc3 /16 (dilated 2, 4) + global context
                    -> dec2 /8 (skip enc2) -> dec1 /4 (skip enc1) -> 1×1 classifier -> ×4 bilinear

Why this shape: it has to train in half an hour on one CPU thread and segment a 240×320 frame in
tens of milliseconds, so the work happens at 1/4 resolution and below; dilation and a pooled
global-context term give the deepest features a field of view of the whole frame (sky above,
road below), which a plain shallow net lacks. H and W must be multiples of 16.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

MULTIPLE = 16  # total stride of the encoder


@dataclass(frozen=True)
class SegNetConfig:
    num_classes: int = 11
    width: int = 16  # channels after the stem; deeper stages use 2, 4 and 8 times as many
    # Pixels per frame the net was trained to see (core.eval.segmenter.work_size): 240×320.
    work_area: int = 240 * 320
    # Input normalisation: (rgb / 255 - mean) / std, per channel.
    mean: tuple[float, float, float] = (0.40, 0.42, 0.42)
    std: tuple[float, float, float] = (0.27, 0.27, 0.28)
    # Which network: "roadsegnet" (this module) or "context" (core.eval.ctxnet); files written
    # before the field existed are "roadsegnet".
    arch: str = "roadsegnet"
    # Also segment the mirrored frame and average the logits (test-time flip: about 2× the time).
    tta_flip: bool = False

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> SegNetConfig:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for key in ("mean", "std"):
            if key in known:
                known[key] = tuple(float(v) for v in known[key])  # type: ignore[union-attr]
        return cls(**known)  # type: ignore[arg-type]


def _cbr(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class RoadSegNet(nn.Module):
    def __init__(self, config: SegNetConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.register_buffer("mean", torch.tensor(config.mean).view(1, 3, 1, 1) * 255.0, persistent=False)
        self.register_buffer("inv_std", 1.0 / (torch.tensor(config.std).view(1, 3, 1, 1) * 255.0),
                             persistent=False)
        self.stem = _cbr(3, w, stride=2)
        self.enc1 = nn.Sequential(_cbr(w, 2 * w, stride=2), _cbr(2 * w, 2 * w))
        self.enc2 = nn.Sequential(_cbr(2 * w, 4 * w, stride=2), _cbr(4 * w, 4 * w))
        self.enc3 = nn.Sequential(_cbr(4 * w, 8 * w, stride=2), _cbr(8 * w, 8 * w),
                                  _cbr(8 * w, 8 * w, dilation=2), _cbr(8 * w, 8 * w, dilation=4))
        # Global context: the frame's mean feature, added back everywhere (no norm: it is 1×1).
        self.context = nn.Sequential(nn.Conv2d(8 * w, 8 * w, 1), nn.ReLU(inplace=True))
        self.dec2 = _cbr(8 * w + 4 * w, 4 * w)
        self.dec1 = _cbr(4 * w + 2 * w, 3 * w)
        self.head = nn.Conv2d(3 * w, config.num_classes, 1)

    def forward(self, rgb255: torch.Tensor) -> torch.Tensor:
        """float (N, 3, H, W) with values 0..255 -> logits (N, classes, H, W)."""
        h, w = rgb255.shape[-2:]
        x = (rgb255 - self.mean) * self.inv_std
        x = self.stem(x)
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        e3 = e3 + self.context(e3.mean(dim=(2, 3), keepdim=True))
        d2 = self.dec2(torch.cat([F.interpolate(e3, size=e2.shape[-2:], mode="bilinear", align_corners=False),
                                  e2], dim=1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, size=e1.shape[-2:], mode="bilinear", align_corners=False),
                                  e1], dim=1))
        return F.interpolate(self.head(d1), size=(h, w), mode="bilinear", align_corners=False)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
