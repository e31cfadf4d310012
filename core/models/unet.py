"""U-Net generator of pix2pix (Isola et al. 2017), and the same network without skips.

Layer for layer the reference implementation (junyanz/pytorch-CycleGAN-and-pix2pix), but laid
out flat — `down[i]` and `up[i]` per level, level 0 outermost — instead of recursively nested
blocks, so that code and checkpoints read naturally. `core.weights.reference_import` maps the nested
keys onto these.

Level L has outer channels outer(L) and inner channels inner(L) = ngf·min(2^L, 8):
  down[L]: [LeakyReLU(0.2)] → Conv4×4 s2 (outer→inner) → [Norm]      (level 0: conv only;
                                                                      innermost: no norm)
  up[L]:   ReLU → ConvT4×4 s2 (inner·2→outer) → Norm → [Dropout 0.5]  (innermost: inner→outer;
                                                                      level 0: ConvT → Tanh)
Dropout sits in levels 4..depth-2, i.e. the three innermost up blocks of unet_256, as in the paper.

With `upsample = "resize"` each up block doubles the resolution by a nearest-neighbour resize and
then applies a 3×3 stride-1 convolution (ReLU → Resize×2 → Conv3×3 → Norm ...). A 4×4 stride-2
transposed convolution gives neighbouring output pixels different subsets of its kernel, which
shows as a grid of period 2 (and 4, 8, ... through the stacked levels); after a resize every
output pixel sees the same 3×3 kernel. The block keeps the names `conv` and `norm`, so BatchNorm
folding (core.render.fast.fold) and exports treat both variants alike.

With `modulation = "clade"` (class-adaptive normalisation, Tan et al. 2021) every up block but the
outermost normalises without an affine (`norm`, still foldable into `conv`) and then applies a
per-pixel scale and shift looked up by the pixel's painted class (`modulate`): the one-hot label
map, resized to the block's resolution by nearest neighbour, times a (classes × channels) table —
a 1×1 convolution of the one-hot map, which is exactly a table lookup. So the label map steers
every decoder level, not only the input, for 2·20·C parameters and one 1×1 conv per level.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.config import GeneratorConfig
from core.labels import NUM_PALETTE_CLASSES
from core.models.norm import conv_bias, make_norm


class DownBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, *, act: bool, norm: str, bias: bool) -> None:
        super().__init__()
        self.act = nn.LeakyReLU(0.2) if act else nn.Identity()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size=4, stride=2, padding=1, bias=bias)
        self.norm = make_norm(norm, out_ch) if norm != "none" else nn.Identity()  # type: ignore[arg-type]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(self.act(x)))


class ClassAffine(nn.Module):
    """Per-class (gamma, beta) tables applied per pixel: out = x · gamma[class] + beta[class].
    `seg` is the one-hot label map at x's resolution, (N, classes, h, w) in {0, 1}."""

    def __init__(self, classes: int, channels: int) -> None:
        super().__init__()
        # Start as the identity (gamma 1, beta 0): a fresh block behaves like plain normalisation.
        self.gamma = nn.Parameter(torch.ones(channels, classes, 1, 1))
        self.beta = nn.Parameter(torch.zeros(channels, classes, 1, 1))

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        # A 1×1 convolution of a one-hot map = a lookup of each pixel's class row.
        scaled = x * F.conv2d(seg, self.gamma)
        if torch.onnx.is_in_onnx_export():
            # Exported, the shift is a 1×1 conv over [x · scale, one-hot] with weights [I | beta]:
            # the same values, but ONNX Runtime keeps a Conv in its blocked (NCHWc) layout where an
            # Add would drop the following upsampling out of it (docs/performance.md).
            eye = torch.eye(self.gamma.shape[0], dtype=x.dtype, device=x.device)[:, :, None, None]
            return F.conv2d(torch.cat([scaled, seg], dim=1), torch.cat([eye, self.beta], dim=1))
        return scaled + F.conv2d(seg, self.beta)


class UpBlock(nn.Module):
    def __init__(
        self, in_ch: int, out_ch: int, *, norm: str, bias: bool, dropout: bool, outermost: bool,
        upsample: str = "transpose", modulated: bool = False,
    ) -> None:
        super().__init__()
        self.act = nn.ReLU()
        self.conv: nn.Conv2d | nn.ConvTranspose2d
        if upsample == "resize":
            # ReLU before the resize: the same result as after it (nearest copies values), on a
            # quarter of the pixels.
            self.resize: nn.Module = nn.Upsample(scale_factor=2, mode="nearest")
            self.conv = nn.Conv2d(in_ch, out_ch, kernel_size=3, stride=1, padding=1, bias=bias)
        else:
            self.resize = nn.Identity()
            self.conv = nn.ConvTranspose2d(in_ch, out_ch, kernel_size=4, stride=2, padding=1, bias=bias)
        self.modulate: ClassAffine | None = None
        if outermost:
            self.norm: nn.Module = nn.Tanh()
        elif modulated:
            # No affine in the norm: the class tables are the affine (and BatchNorm without one
            # still folds into the conv for inference).
            self.norm = make_norm(norm, out_ch, affine=False)  # type: ignore[arg-type]
            self.modulate = ClassAffine(NUM_PALETTE_CLASSES, out_ch)
        else:
            self.norm = make_norm(norm, out_ch)  # type: ignore[arg-type]
        self.dropout = nn.Dropout(0.5) if dropout else nn.Identity()

    def forward(self, x: torch.Tensor, seg: torch.Tensor | None = None) -> torch.Tensor:
        """`seg`: the one-hot label map, at this block's output resolution (UNetGenerator passes
        it so) or at any multiple of it (then resized here by nearest neighbour)."""
        h = self.norm(self.conv(self.resize(self.act(x))))
        if self.modulate is not None:
            assert seg is not None, "a modulated block needs the one-hot label map"
            # Nearest resize of the one-hot map keeps it one-hot (no blended classes).
            if seg.shape[-2:] != h.shape[-2:]:
                seg = F.interpolate(seg, size=h.shape[-2:], mode="nearest")
            h = self.modulate(h, seg)
        return self.dropout(h)


class UNetGenerator(nn.Module):
    """Label encoding (N, input_nc, H, W) in [-1, 1] -> photo (N, output_nc, H, W) in [-1, 1].
    H and W must be multiples of 2**depth. A "labels+photo" generator's input is the label
    encoding followed by the masked photo and the hole mask (core.models.encoding.encode_input)."""

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.config = cfg
        self.skips = cfg.arch == "unet"
        self.modulated = cfg.modulation == "clade"
        depth, ngf, norm = cfg.depth, cfg.ngf, cfg.norm
        bias = conv_bias(norm)
        inner = [ngf * min(2**level, 8) for level in range(depth)]
        outer = [cfg.output_nc] + inner[:-1]
        downs, ups = [], []
        for level in range(depth):
            outermost, innermost = level == 0, level == depth - 1
            in_ch = cfg.input_nc if outermost else outer[level]
            downs.append(
                DownBlock(in_ch, inner[level], act=not outermost,
                          norm="none" if (outermost or innermost) else norm, bias=bias)
            )
            up_in = inner[level] * (2 if (self.skips and not innermost) else 1)
            ups.append(
                UpBlock(up_in, outer[level], norm=norm, bias=True if outermost else bias,
                        dropout=cfg.dropout and 4 <= level <= depth - 2, outermost=outermost,
                        upsample=cfg.upsample, modulated=self.modulated and not outermost)
            )
        self.down = nn.ModuleList(downs)
        self.up = nn.ModuleList(ups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats: list[torch.Tensor] = []
        h = x
        for block in self.down:
            h = block(h)  # level L: (N, inner(L), H / 2^(L+1), W / 2^(L+1))
            feats.append(h)
        segs = self._label_pyramid(x) if self.modulated else [None] * len(self.up)
        h = self.up[-1](feats[-1], segs[-1])
        for level in range(len(self.up) - 2, -1, -1):
            if self.skips:
                h = torch.cat([feats[level], h], dim=1)
            h = self.up[level](h, segs[level])
        return h

    def _label_pyramid(self, x: torch.Tensor) -> list[torch.Tensor | None]:
        """The one-hot label map at every up block's output resolution: level L at 1/2^L (level 0,
        the outermost block, is not modulated: None).

        Each level is the previous one subsampled by 2 (a 1×1 max-pool of stride 2 = every other
        pixel = PyTorch's nearest resize by 1/2, value for value). Why not one nearest resize per
        level from the full map: ONNX Runtime runs max-pool in its blocked (NCHWc) layout, so the
        exported graph feeds the class tables without a Resize and a layout reorder per level
        (with the 1×1-conv shift of ClassAffine: version 0.3's ONNX Runtime run at 256×512 went
        from 30.6 to 28.2 ms with the app's settings; docs/performance.md)."""
        # onehot input: the label map itself (a photo-conditioned input has it in front); no
        # slice when it is the whole input (the exported graph would copy it)
        seg = x if x.shape[1] == NUM_PALETTE_CLASSES else x[:, :NUM_PALETTE_CLASSES]
        pyramid: list[torch.Tensor | None] = [None]
        for _level in range(1, len(self.up)):
            seg = F.max_pool2d(seg, kernel_size=1, stride=2)
            pyramid.append(seg)
        return pyramid
