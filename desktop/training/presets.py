"""Run presets of the set-up form (the recipes of core.train.presets, the same ones
`roadstudio-cli train --preset` uses) and the discriminator patch-size choices. No Qt."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from core.config import RunConfig
from core.train.presets import preset_config

#: Patch size seen by one discriminator output -> PatchGAN n_layers (pix2pix paper, Fig. 6).
PATCH_SIZES: dict[int, int] = {1: 0, 16: 1, 70: 3, 286: 5}

QUICK_LOOK = "Quick look on CPU"
PAPER = "Paper pix2pix (unet_256, 70×70 PatchGAN, λ 100, 200 epochs)"
DEFAULT_MODEL = "Default model recipe (real photos)"
EVERY_BRUSH = "Every brush (real photos + Cityscapes clips, CLADE)"
PHOTO_EDIT = "Photo edit (labels + photo with holes, for edit mode)"
CUSTOM = "Custom"
#: The repository root: the default-model recipe names its extra datasets relative to it.
_REPO = Path(__file__).resolve().parents[2]


def _core_preset(name: str, data_path: str) -> RunConfig:
    cfg = preset_config(name)
    return cfg.replace(data=dataclasses.replace(cfg.data, path=data_path))


def quick_look_config(data_path: str = "synthetic") -> RunConfig:
    """core.train.presets "quick-cpu": a model learning within minutes on a 2-core laptop CPU."""
    return _core_preset("quick-cpu", data_path)


def paper_config(data_path: str = "synthetic") -> RunConfig:
    """core.train.presets "paper": the pix2pix paper / reference defaults."""
    return _core_preset("paper", data_path)


def default_model_config(data_path: str = "synthetic") -> RunConfig:
    """core.train.presets "default-model" on the chosen folder (see _with_existing_extras)."""
    return _with_existing_extras(_core_preset("default-model", data_path))


def every_brush_config(data_path: str = "synthetic") -> RunConfig:
    """core.train.presets "every-brush" (issue 18's recipe) on the chosen folder."""
    return _with_existing_extras(_core_preset("every-brush", data_path))


def photo_edit_config(data_path: str = "synthetic") -> RunConfig:
    """core.train.presets "photo-edit" (issue 19 §4: the bundled photo-edit model's recipe)."""
    return _with_existing_extras(_core_preset("photo-edit", data_path))


def _with_existing_extras(cfg: RunConfig) -> RunConfig:
    """The recipe's extra datasets (Cityscapes frames and clips, named relative to a source
    checkout) kept where they exist, dropped otherwise."""
    data = cfg.data
    repeats = data.extra_repeats or (data.extra_repeat,) * len(data.extra_paths)
    kept = [(str((_REPO / path).resolve()), repeat) for path, repeat in zip(data.extra_paths, repeats, strict=True)
            if (_REPO / path).is_dir()]
    data = dataclasses.replace(data, extra_paths=tuple(path for path, _ in kept),
                               extra_repeats=tuple(repeat for _, repeat in kept) if data.extra_repeats else ())
    return cfg.replace(data=data)


PRESETS = {QUICK_LOOK: quick_look_config, PAPER: paper_config, DEFAULT_MODEL: default_model_config,
           EVERY_BRUSH: every_brush_config, PHOTO_EDIT: photo_edit_config}


def patch_size_for_layers(n_layers: int) -> int | None:
    for size, layers in PATCH_SIZES.items():
        if layers == n_layers:
            return size
    return None
