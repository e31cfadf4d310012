"""The segmentation networks behind the segmenter files (core.eval.segmenter), and their config.

Both take a photo as float (N, 3, H, W) 0..255, normalise it, encode it to 1/16, decode with skips
at 1/8 and 1/4 and return logits at (H, W); H and W must be multiples of 16. `SegNetConfig.arch`
names the network a file holds:

* "roadsegnet" (`RoadSegNet`, the bundled 11-class FCN-score judge): a compact encoder-decoder
  (~0.8 M parameters at width 16, ~3 MB as float32).

      photo (3, H, W) -> stem /2 -> enc1 /4 -> enc2 /8 -> enc3 /16 (dilated 2, 4) + global context
                      -> dec2 /8 (skip enc2) -> dec1 /4 (skip enc1) -> 1×1 classifier -> ×4 bilinear

  Why this shape: it has to train in half an hour on one CPU thread and segment a 240×320 frame
  in tens of milliseconds, so the work happens at 1/4 resolution and below; dilation and a pooled
  global-context term give the deepest features a field of view of the whole frame (sky above,
  road below), which a plain shallow net lacks.

* "context" (`ContextSegNet`, the bundled 19-class photo segmenter): a residual encoder-decoder
  with a dilated 1/16 stage and an ASPP-like context head (~2.3 M parameters at width 24, ~9 MB).

      photo (3, H, W) -> stem /2 -> /4 (1 residual block) -> /8 (2 blocks) -> /16 (4 blocks,
      dilations 1, 2, 4, 8) -> context: 1×1 | 3×3 dilated 6 | 3×3 dilated 12 | pooled frame mean
      -> dec /8 (skip) -> dec /4 (skip) -> 1×1 classifier -> bilinear to (H, W)

  Why this shape (issue 19): it is trained from scratch (no pretrained weights can be fetched) in
  about an hour on one CPU thread and must segment a 480×360 photo in well under 250 ms, so the
  work happens at 1/4 resolution and below with plain 3×3 convolutions (on one CPU thread they
  run faster per useful FLOP than depthwise ones, whose backward pass is memory-bound). Residual
  blocks make the deeper net trainable in a few thousand steps; the dilated stage and the context
  branches see the whole frame (sky above, road below, a wall's extent), which separates the
  look-alike pairs the 19 classes add (wall/building, terrain/vegetation, truck/bus/car); the two
  skips keep thin classes (pole, sign, person) at 1/4 resolution.
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
    # Which network: "roadsegnet" (RoadSegNet) or "context" (ContextSegNet); files written before
    # the field existed are "roadsegnet".
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
                value = known[key]
                if not isinstance(value, list | tuple):
                    raise TypeError(f"{key} must be a list of 3 numbers, not {value!r}")
                known[key] = tuple(float(v) for v in value)
        return cls(**known)  # type: ignore[arg-type]


def _cbr(cin: int, cout: int, stride: int = 1, dilation: int = 1, kernel: int = 3) -> nn.Sequential:
    """Convolution, BatchNorm, ReLU; padding keeps the size (divided by the stride)."""
    pad = dilation * (kernel // 2)
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=pad, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class _SegNet(nn.Module):
    """What both networks share: input normalisation and the decoder's two skips. A subclass
    builds `stem`, `enc1`..`enc3`, `dec2`, `dec1` and `head`, and says how /16 features are made."""

    mean: torch.Tensor  # buffers: the input normalisation, in 0..255 units
    inv_std: torch.Tensor
    stem: nn.Module
    enc1: nn.Module
    enc2: nn.Module
    dec2: nn.Module
    dec1: nn.Module
    head: nn.Module

    def __init__(self, config: SegNetConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.tensor(config.mean).view(1, 3, 1, 1) * 255.0, persistent=False)
        self.register_buffer("inv_std", 1.0 / (torch.tensor(config.std).view(1, 3, 1, 1) * 255.0),
                             persistent=False)

    def deepest(self, e2: torch.Tensor) -> torch.Tensor:
        """/8 features -> /16 features with the whole frame in view."""
        raise NotImplementedError

    def forward(self, rgb255: torch.Tensor) -> torch.Tensor:
        """float (N, 3, H, W) with values 0..255 -> logits (N, classes, H, W)."""
        h, w = rgb255.shape[-2:]
        x = self.stem((rgb255 - self.mean) * self.inv_std)
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.deepest(e2)
        d2 = self.dec2(torch.cat([F.interpolate(e3, size=e2.shape[-2:], mode="bilinear", align_corners=False),
                                  e2], dim=1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, size=e1.shape[-2:], mode="bilinear", align_corners=False),
                                  e1], dim=1))
        return F.interpolate(self.head(d1), size=(h, w), mode="bilinear", align_corners=False)


class RoadSegNet(_SegNet):
    """config.arch == "roadsegnet". Channels: w at /2, 2w at /4, 4w at /8, 8w at /16."""

    def __init__(self, config: SegNetConfig) -> None:
        super().__init__(config)
        w = config.width
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

    def deepest(self, e2: torch.Tensor) -> torch.Tensor:
        e3 = self.enc3(e2)
        return e3 + self.context(e3.mean(dim=(2, 3), keepdim=True))


class _Block(nn.Module):
    """A basic residual block (two 3×3 convolutions) at one resolution."""

    def __init__(self, channels: int, dilation: int = 1) -> None:
        super().__init__()
        self.conv1 = _cbr(channels, channels, dilation=dilation)
        self.conv2 = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.conv2(self.conv1(x)), inplace=True)


class _Context(nn.Module):
    """ASPP-like: parallel 1×1, two dilated 3×3 and the frame's mean feature, fused by a 1×1."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        branch = cout // 2
        self.b1 = _cbr(cin, branch, kernel=1)
        self.b6 = _cbr(cin, branch, dilation=6)
        self.b12 = _cbr(cin, branch, dilation=12)
        self.pool = nn.Sequential(nn.Conv2d(cin, branch, 1), nn.ReLU(inplace=True))  # 1×1 input: no norm
        self.fuse = _cbr(4 * branch, cout, kernel=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.pool(x.mean(dim=(2, 3), keepdim=True)).expand(-1, -1, *x.shape[-2:])
        return self.fuse(torch.cat([self.b1(x), self.b6(x), self.b12(x), pooled], dim=1))


class ContextSegNet(_SegNet):
    """config.arch == "context". Channels: w at /2, 2w at /4, 4w at /8, 6w at /16."""

    def __init__(self, config: SegNetConfig) -> None:
        super().__init__(config)
        w = config.width
        self.stem = _cbr(3, w, stride=2)
        self.enc1 = nn.Sequential(_cbr(w, 2 * w, stride=2), _Block(2 * w))
        self.enc2 = nn.Sequential(_cbr(2 * w, 4 * w, stride=2), _Block(4 * w), _Block(4 * w))
        self.enc3 = nn.Sequential(_cbr(4 * w, 6 * w, stride=2), _Block(6 * w), _Block(6 * w, 2),
                                  _Block(6 * w, 4), _Block(6 * w, 8))
        self.context = _Context(6 * w, 6 * w)
        self.dec2 = nn.Sequential(_cbr(6 * w + 4 * w, 4 * w), _cbr(4 * w, 4 * w))
        self.dec1 = nn.Sequential(_cbr(4 * w + 2 * w, 3 * w), _cbr(3 * w, 3 * w))
        self.head = nn.Conv2d(3 * w, config.num_classes, 1)

    def deepest(self, e2: torch.Tensor) -> torch.Tensor:
        return self.context(self.enc3(e2))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
