"""Run presets of the set-up form (the recipes of core.presets, the same ones
`roadstudio-cli train --preset` uses) and the discriminator patch-size choices. No Qt."""

from __future__ import annotations

import dataclasses

from core.config import RunConfig
from core.presets import preset_config

#: Patch size seen by one discriminator output -> PatchGAN n_layers (pix2pix paper, Fig. 6).
PATCH_SIZES: dict[int, int] = {1: 0, 16: 1, 70: 3, 286: 5}

QUICK_LOOK = "Quick look on CPU"
PAPER = "Paper pix2pix (unet_256, 70×70 PatchGAN, λ 100, 200 epochs)"
CUSTOM = "Custom"


def _core_preset(name: str, data_path: str) -> RunConfig:
    cfg = preset_config(name)
    return cfg.replace(data=dataclasses.replace(cfg.data, path=data_path))


def quick_look_config(data_path: str = "synthetic") -> RunConfig:
    """core.presets "quick-cpu": a model learning within minutes on a 2-core laptop CPU."""
    return _core_preset("quick-cpu", data_path)


def paper_config(data_path: str = "synthetic") -> RunConfig:
    """core.presets "paper": the pix2pix paper / reference defaults."""
    return _core_preset("paper", data_path)


PRESETS = {QUICK_LOOK: quick_look_config, PAPER: paper_config}


def patch_size_for_layers(n_layers: int) -> int | None:
    for size, layers in PATCH_SIZES.items():
        if layers == n_layers:
            return size
    return None
