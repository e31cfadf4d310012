"""Start a wider RoadSegNet from a trained narrower one, computing exactly the same function.

Every channel dimension of RoadSegNet is a list of segments whose sizes are multiples of the
width (the decoder's inputs are concatenations: dec2 sees 8w up-sampled /16 channels then 4w /8
channels). Widening from w to W keeps each old channel at the start of its segment. The wider
network's own (random) initialisation is kept for every new output channel, and the weights from
new input channels into old output channels are set to zero, so the old channels compute what
they computed before and the new ones are invisible to the logits (the head's weights from them
are zero too) until training moves them. Unlike duplicating channels (Net2Net), nothing needs
symmetry breaking: the new channels start from random weights of their own.

Used by scripts/train_segmenter.py --widen-from (a capacity experiment for issue 19's
segmenter, CPU-trainable because it starts from the trained network rather than from scratch).
"""

from __future__ import annotations

import torch

from core.eval.segnet import RoadSegNet

#: Channel segments (in units of the width) of each layer's input and output, in state-dict
#: prefixes. "3" and "classes" are fixed sizes.
_LAYOUT: dict[str, tuple[tuple[int | str, ...], tuple[int | str, ...]]] = {
    "stem.0": (("rgb",), (1,)),
    "enc1.0.0": ((1,), (2,)), "enc1.1.0": ((2,), (2,)),
    "enc2.0.0": ((2,), (4,)), "enc2.1.0": ((4,), (4,)),
    "enc3.0.0": ((4,), (8,)), "enc3.1.0": ((8,), (8,)), "enc3.2.0": ((8,), (8,)), "enc3.3.0": ((8,), (8,)),
    "context.0": ((8,), (8,)),
    "dec2.0": ((8, 4), (4,)),
    "dec1.0": ((4, 2), (3,)),
    "head": ((3,), ("classes",)),
}
#: BatchNorm layers and the conv whose outputs they normalise.
_NORMS = {"stem.1": "stem.0", "enc1.0.1": "enc1.0.0", "enc1.1.1": "enc1.1.0", "enc2.0.1": "enc2.0.0",
          "enc2.1.1": "enc2.1.0", "enc3.0.1": "enc3.0.0", "enc3.1.1": "enc3.1.0", "enc3.2.1": "enc3.2.0",
          "enc3.3.1": "enc3.3.0", "dec2.1": "dec2.0", "dec1.1": "dec1.0"}


def _old_positions(segments: tuple[int | str, ...], old_width: int, new_width: int,
                   fixed: int) -> torch.Tensor:
    """Indices, in the new layout, of the old layout's channels (in order)."""
    positions: list[int] = []
    start = 0
    for seg in segments:
        if isinstance(seg, str):  # a fixed-size segment (RGB input, class logits): kept whole
            positions.extend(range(start, start + fixed))
            start += fixed
        else:
            positions.extend(range(start, start + seg * old_width))
            start += seg * new_width
    return torch.tensor(positions)


def widen_roadsegnet(old: RoadSegNet, new: RoadSegNet) -> None:
    """Load `old` into the wider `new` (same classes) in place: `new` then gives `old`'s logits."""
    w, big = old.config.width, new.config.width
    if old.config.arch != "roadsegnet" or new.config.arch != "roadsegnet":
        raise ValueError("widening is defined for RoadSegNet only")
    if big < w or old.config.num_classes != new.config.num_classes:
        raise ValueError(f"cannot widen width {w} ({old.config.num_classes} classes) to width {big} "
                         f"({new.config.num_classes} classes)")
    classes = old.config.num_classes
    src, dst = old.state_dict(), new.state_dict()
    out_pos: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for layer, (ins, outs) in _LAYOUT.items():
            in_idx = _old_positions(ins, w, big, 3)
            o_idx = _old_positions(outs, w, big, classes)
            out_pos[layer] = o_idx
            weight = dst[f"{layer}.weight"]
            new_in = torch.ones(weight.shape[1], dtype=torch.bool)
            new_in[in_idx] = False
            # old outputs must not see the new inputs
            weight[o_idx[:, None], torch.nonzero(new_in).flatten()[None, :]] = 0.0
            weight[o_idx[:, None], in_idx[None, :]] = src[f"{layer}.weight"]
            if f"{layer}.bias" in dst:
                dst[f"{layer}.bias"][o_idx] = src[f"{layer}.bias"]
        for norm, conv in _NORMS.items():
            idx = out_pos[conv]
            for name in ("weight", "bias", "running_mean", "running_var"):
                dst[f"{norm}.{name}"][idx] = src[f"{norm}.{name}"]
    new.load_state_dict(dst, strict=True)
