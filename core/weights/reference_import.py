"""Import generators trained with the reference pix2pix code (junyanz/pytorch-CycleGAN-and-pix2pix).

The reference saves `latest_net_G.pth` as a plain state dict of `UnetGenerator`, whose blocks are
nested recursively: every `UnetSkipConnectionBlock` holds a `model` Sequential, and the next
inner block sits inside it. Per level L (0 outermost, depth-1 innermost) the Sequential is

  outermost     [0 Conv, 1 submodule, 2 ReLU, 3 ConvT, 4 Tanh]
  intermediate  [0 LeakyReLU, 1 Conv, 2 Norm, 3 submodule, 4 ReLU, 5 ConvT, 6 Norm, (7 Dropout)]
  innermost     [0 LeakyReLU, 1 Conv, 2 ReLU, 3 ConvT, 4 Norm]

so the key prefix of level L is `model.model.` (L = 0), `model.model.1.model.` (L = 1), and one
`3.model.` deeper per further level. Our UNetGenerator is the same network laid out flat
(`down[L]`, `up[L]`); this module renames the keys. The reference uses conv biases only with
InstanceNorm (affine=False, no running stats, hence no norm keys); its outermost ConvT always has
a bias. Such models take the `color` input encoding and use dropout (pix2pix trains with it).

This module only converts state dicts and imports nothing of Road Studio's file loading: reading a
`latest_net_G.pth` (refusing pickles that carry code) is core.weights.checkpoints' job, which owns loading
every kind of generator file (`import_reference_generator`, `load_any_generator`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import torch

from core.config import NETG_PRESETS, GeneratorConfig, Norm
from core.errors import CheckpointError, ConfigError
from core.models import UNetGenerator, build_generator

RefNetG = Literal["unet_256", "unet_128"]
REFERENCE_NETGS: tuple[str, ...] = ("unet_256", "unet_128")
REFERENCE_NORMS: tuple[str, ...] = ("batch", "instance")

_LEVEL_PREFIX = re.compile(r"^model\.model\.((?:1\.model\.)?(?:3\.model\.)*)")
_BN_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def level_prefix(level: int) -> str:
    """Key prefix of the reference block at `level` (0 = outermost)."""
    if level == 0:
        return "model.model."
    return "model.model.1.model." + "3.model." * (level - 1)


def reference_key_map(depth: int) -> dict[str, str]:
    """Reference module path -> our module path, for every conv and norm of a depth-`depth` U-Net."""
    mapping: dict[str, str] = {}
    for level in range(depth):
        p = level_prefix(level)
        if level == 0:
            mapping[p + "0"] = "down.0.conv"
            mapping[p + "3"] = "up.0.conv"
        elif level == depth - 1:
            mapping[p + "1"] = f"down.{level}.conv"
            mapping[p + "3"] = f"up.{level}.conv"
            mapping[p + "4"] = f"up.{level}.norm"
        else:
            mapping[p + "1"] = f"down.{level}.conv"
            mapping[p + "2"] = f"down.{level}.norm"
            mapping[p + "5"] = f"up.{level}.conv"
            mapping[p + "6"] = f"up.{level}.norm"
    return mapping


def _reference_depth(keys: list[str]) -> int:
    """Nesting depth of a reference state dict, read from its deepest key prefix."""
    deepest = 0
    for key in keys:
        m = _LEVEL_PREFIX.match(key)
        if not m:
            continue
        inner = m.group(1)
        level = 0 if not inner else 1 + inner.count("3.model.")
        deepest = max(deepest, level)
    return deepest + 1


def convert_reference_state_dict(state: dict[str, torch.Tensor], depth: int, norm: Norm,
                                 *, source: str | Path = "state dict") -> dict[str, torch.Tensor]:
    """Rename a reference UnetGenerator state dict to our flat layout.

    Drops norm buffers our modules do not have (running stats saved by InstanceNorm with
    track_running_stats, `num_batches_tracked`), adds a zero `num_batches_tracked` that old
    BatchNorm checkpoints lack. Raises CheckpointError naming `source` for any other mismatch.
    """
    state = _strip_module_prefix(state)
    keys = list(state)
    if not any(k.startswith("model.model.0.") for k in keys):
        hint = " (it looks like a discriminator)" if any(k.startswith("model.0.") for k in keys) else ""
        raise CheckpointError(source, "not a reference pix2pix U-Net generator state dict: no "
                                      f"'model.model.0.weight'{hint}")
    found_depth = _reference_depth(keys)
    if found_depth != depth:
        names = {NETG_PRESETS[n][1]: n for n in REFERENCE_NETGS}
        wanted = names.get(depth, f"depth {depth}")
        if found_depth in names:
            reason = (f"the weights are a {names[found_depth]} generator ({found_depth} levels), not "
                      f"{wanted} ({depth} levels); use --netG {names[found_depth]}")
        else:
            reason = f"the weights have {found_depth} U-Net levels, expected {depth} ({wanted})"
        raise CheckpointError(source, reason)
    has_norm_affine = f"{level_prefix(1)}2.weight" in state
    if norm == "batch" and not has_norm_affine:
        raise CheckpointError(source, "the weights have no BatchNorm parameters; they were trained with "
                                      "instance norm (use --norm instance)")
    if norm == "instance" and has_norm_affine:
        raise CheckpointError(source, "the weights contain BatchNorm parameters; they were trained with "
                                      "batch norm (use --norm batch)")
    mapping = reference_key_map(depth)
    out: dict[str, torch.Tensor] = {}
    unexpected: list[str] = []
    for key, value in state.items():
        module, _, param = key.rpartition(".")
        ours = mapping.get(module)
        if ours is None:
            unexpected.append(key)
            continue
        if ours.endswith(".norm") and norm == "instance" and param in _BN_BUFFERS:
            continue  # InstanceNorm saved with running stats: our InstanceNorm keeps none
        if param == "num_batches_tracked":
            value = value.reshape(()).to(torch.long)
        out[f"{ours}.{param}"] = value
    if unexpected:
        raise CheckpointError(source, f"unexpected keys for a {depth}-level U-Net generator: "
                                      + ", ".join(unexpected[:4]) + (" ..." if len(unexpected) > 4 else ""))
    if norm == "batch":
        for module in mapping.values():
            if module.endswith(".norm") and f"{module}.running_mean" in out:
                out.setdefault(f"{module}.num_batches_tracked", torch.tensor(0, dtype=torch.long))
    return out


def _strip_module_prefix(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """DataParallel saves `module.`-prefixed keys; the reference strips them, others may not."""
    if state and all(k.startswith("module.") for k in state):
        return {k[len("module."):]: v for k, v in state.items()}
    return dict(state)


def reference_depth(netG: str, norm: str) -> int:
    """The U-Net depth of a reference netG; ConfigError for a netG or norm we cannot import."""
    if netG not in REFERENCE_NETGS:
        raise ConfigError(f"netG = {netG!r} is not one of {', '.join(REFERENCE_NETGS)}")
    if norm not in REFERENCE_NORMS:
        raise ConfigError(f"norm = {norm!r} is not one of {', '.join(REFERENCE_NORMS)}")
    return NETG_PRESETS[netG][1]


def generator_from_reference_state(state: dict[str, torch.Tensor], netG: str, norm: str, *,
                                   source: Path) -> tuple[UNetGenerator, GeneratorConfig, dict[str, Any]]:
    """Our generator (CPU, eval mode, colour input), its config and card from a reference state
    dict; CheckpointError naming `source` when the weights do not fit. Reading the file is
    core.weights.checkpoints' job (import_reference_generator)."""
    depth = reference_depth(netG, norm)
    converted = convert_reference_state_dict(state, depth, norm, source=source)  # type: ignore[arg-type]  # norm checked above
    first, last = converted.get("down.0.conv.weight"), converted.get("up.0.conv.weight")
    if first is None or last is None or first.ndim != 4 or last.ndim != 4:
        raise CheckpointError(source, "the outermost convolutions are missing or malformed")
    ngf, input_nc = int(first.shape[0]), int(first.shape[1])
    output_nc = int(last.shape[1])  # ConvTranspose2d weight: (in, out, kh, kw)
    if input_nc != 3:
        raise CheckpointError(source, f"the generator takes {input_nc} input channels; Road Studio imports "
                                      "label-to-photo models with 3-channel colour label input")
    config = GeneratorConfig(arch="unet", depth=depth, ngf=ngf, norm=norm,  # type: ignore[arg-type]  # checked above
                             dropout=True, input_encoding="color", output_nc=output_nc)
    model = build_generator(config, init=False)
    try:
        model.load_state_dict(converted, strict=True)
    except RuntimeError as exc:
        first_lines = " ".join(str(exc).strip().splitlines()[:2])
        raise CheckpointError(source, f"weights do not fit a {netG} generator: {first_lines[:300]}") from None
    model.eval()
    card = {"source": "reference pix2pix (junyanz/pytorch-CycleGAN-and-pix2pix)",
            "imported_from": source.name, "imported_as": f"{netG}, {norm} norm"}
    return model, config, card


def detect_reference_layout(state: dict[str, torch.Tensor]) -> tuple[str, str] | None:
    """(netG, norm) of a reference U-Net generator state dict, or None if it is not one."""
    if not all(isinstance(k, str) for k in state):
        return None
    state = _strip_module_prefix(state)
    if "model.model.0.weight" not in state:
        return None
    depth = _reference_depth(list(state))
    names = {NETG_PRESETS[n][1]: n for n in REFERENCE_NETGS}
    if depth not in names:
        return None
    norm = "batch" if f"{level_prefix(1)}2.weight" in state else "instance"
    return names[depth], norm
