"""Normalisation layers as in the reference pix2pix: BatchNorm (affine, running stats),
InstanceNorm (no affine, no running stats), or none."""

from __future__ import annotations

from torch import nn

from core.config import Norm


def make_norm(kind: Norm, channels: int, affine: bool = True) -> nn.Module:
    """`affine=False` for blocks whose affine comes from elsewhere (class-adaptive modulation)."""
    if kind == "batch":
        return nn.BatchNorm2d(channels, affine=affine, track_running_stats=True)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    return nn.Identity()


def conv_bias(kind: Norm) -> bool:
    """Convs followed by BatchNorm need no bias (BN's shift replaces it). The reference also gives
    InstanceNorm convs a bias; with no norm at all a bias is needed too."""
    return kind != "batch"
