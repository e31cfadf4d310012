"""Generators and discriminators, their weight initialisation, and the label-map encoding they
take (core.models.encoding)."""

from __future__ import annotations

from torch import nn

from core.config import DiscriminatorConfig, GeneratorConfig
from core.models.discriminator import MultiScaleDiscriminator, PatchDiscriminator
from core.models.init import init_weights
from core.models.seg_discriminator import SegmentationDiscriminator, build_seg_discriminator
from core.models.unet import UNetGenerator

__all__ = ["MultiScaleDiscriminator", "PatchDiscriminator", "SegmentationDiscriminator", "UNetGenerator",
           "build_discriminator", "build_generator", "build_seg_discriminator", "count_parameters", "init_weights"]


def build_generator(cfg: GeneratorConfig, init: bool = True) -> UNetGenerator:
    net = UNetGenerator(cfg)
    if init:
        init_weights(net)
    return net


def build_discriminator(cfg: DiscriminatorConfig, gen_cfg: GeneratorConfig, init: bool = True
                        ) -> PatchDiscriminator | MultiScaleDiscriminator:
    """One PatchGAN (the paper's; its state dict is the reference layout), or pix2pixHD's
    multi-scale set when cfg.scales > 1."""
    input_nc = gen_cfg.input_nc + gen_cfg.output_nc
    net: PatchDiscriminator | MultiScaleDiscriminator = (
        PatchDiscriminator(cfg, input_nc) if cfg.scales == 1 else MultiScaleDiscriminator(cfg, input_nc))
    if init:
        init_weights(net)
    return net


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
