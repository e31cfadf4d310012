"""Where the discriminator sees fakes: a PatchGAN's per-patch probability of "real", spread back
over the image through each patch's receptive field.

A PatchGAN scores overlapping patches (70×70 pixels for n_layers 3): logit (i, j) judges the
input pixels of its receptive field. `Critic.score` runs the run's discriminator (eval mode: the
running BatchNorm statistics, no dropout) on concat(label encoding, image), turns logits into
probabilities (sigmoid for the vanilla GAN loss; LSGAN's least-squares score clipped to [0, 1]),
and gives every pixel the mean probability of the patches that cover it — computed exactly with
two small coverage matrices per scale (rows × patches, patches × columns), not by resizing. For a
multi-scale discriminator the scales' maps are averaged.

Where the discriminator comes from, for a generator file G:
- G itself when it is a full training state `.pt` (it holds "discriminator" and "config");
- the `.pt` next to a `.safetensors` of the same stem (step_N.pt, last.pt);
- `<stem>.discriminator.safetensors` next to it (how a shipped model carries its critic; write one
  with `export_discriminator`).
Without one, `load_critic` says why (e.g. best.safetensors has no training state). No Qt here.

A run with DiscriminatorConfig.kind "patch+segmentation" is scored by its PatchGAN, as before. A
segmentation-discriminator-only run (OASIS, core.models.seg_discriminator) has no PatchGAN: its
critic is `SegCritic`, whose map is 1 − p(fake) per pixel (softmax over the 20 channels, channel 0
= fake) — already per pixel, so no receptive-field spreading (receptive_field reported as 1).
The raw weights of an EMA run (step_N.raw.safetensors) find the critic in step_N.pt too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.weights.checkpoints import load_training_state
from core.config import DiscriminatorConfig, GeneratorConfig, from_dict
from core.errors import CheckpointError, ConfigError

DISCRIMINATOR_SUFFIX = ".discriminator.safetensors"
_META_KEY = "roadstudio.discriminator"


@dataclass(frozen=True)
class CriticMap:
    probability: np.ndarray  # float32 H×W in [0, 1]: P(real) of the patches covering each pixel
    patch_probability: list[np.ndarray]  # per scale, the raw (h', w') patch probabilities
    receptive_field: list[int]  # per scale, the patch size in image pixels
    mean: float  # mean P(real) over the image

    @property
    def share_fake(self) -> float:
        """Share of pixels the discriminator thinks more likely fake than real."""
        return float((self.probability < 0.5).mean())


@dataclass(frozen=True)
class _Layer:
    kernel: int
    stride: int
    padding: int


def _chain(net: nn.Module) -> list[_Layer]:
    """The conv (and pooling) geometry of one PatchDiscriminator, in order."""
    layers: list[_Layer] = []
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            k, s, p = module.kernel_size[0], module.stride[0], module.padding[0]
            layers.append(_Layer(int(k), int(s), int(p)))
    return layers


def _geometry(layers: list[_Layer]) -> tuple[float, float, float]:
    """(receptive field, jump, centre of output cell 0) in input pixels (pixel i spans [i, i+1))."""
    field, jump, start = 1.0, 1.0, 0.5
    for layer in layers:
        field += (layer.kernel - 1) * jump
        start += ((layer.kernel - 1) / 2 - layer.padding) * jump
        jump *= layer.stride
    return field, jump, start


def _coverage(size: int, cells: int, field: float, jump: float, start: float) -> np.ndarray:
    """(size, cells) 0/1 matrix: pixel y lies in the receptive field of cell i."""
    centres = start + jump * np.arange(cells)
    pixels = np.arange(size) + 0.5
    return (np.abs(pixels[:, None] - centres[None, :]) <= field / 2).astype(np.float32)


class Critic:
    """A run's discriminator, ready to score (label ids, image) pairs on one device."""

    def __init__(self, net: nn.Module, gen_cfg: GeneratorConfig, gan_mode: str, device: torch.device,
                 source: Path) -> None:
        self.net = net.to(device).eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.gen_cfg = gen_cfg
        self.gan_mode = gan_mode
        self.device = device
        self.source = source
        scales = list(getattr(net, "scales", [net]))
        pool = [_Layer(3, 2, 1)]  # core.models.discriminator.downsample before each coarser scale
        self._chains = [pool * i + _chain(scale) for i, scale in enumerate(scales)]

    @torch.no_grad()
    def score(self, ids: np.ndarray, image: np.ndarray) -> CriticMap:
        """uint8 H×W label ids + uint8 H×W×3 image -> the critic map."""
        from core.render.infer import encode_ids

        h, w = ids.shape
        x = encode_ids(np.ascontiguousarray(ids), self.gen_cfg.input_encoding,
                       self.gen_cfg.photo_conditioned)  # (1, C, H, W); photo-edit: all-hole
        photo = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float()[None] / 127.5 - 1.0
        outputs = self.net(torch.cat([x, photo], dim=1).to(self.device), return_features=True)
        total = np.zeros((h, w), np.float32)
        patches: list[np.ndarray] = []
        fields: list[int] = []
        for chain, features in zip(self._chains, outputs, strict=True):
            logits = features[-1][0, 0].float()
            prob = torch.sigmoid(logits) if self.gan_mode == "vanilla" else logits.clamp(0.0, 1.0)
            p = prob.cpu().numpy()
            field, jump, start = _geometry(chain)
            rows = _coverage(h, p.shape[0], field, jump, start)
            cols = _coverage(w, p.shape[1], field, jump, start)
            covered = rows @ np.ones_like(p) @ cols.T
            summed = rows @ p @ cols.T
            spread = np.where(covered > 0, summed / np.maximum(covered, 1e-6), float(p.mean()))
            total += spread.astype(np.float32)
            patches.append(p)
            fields.append(int(field))
        probability = np.clip(total / len(self._chains), 0.0, 1.0)
        return CriticMap(probability=probability, patch_probability=patches, receptive_field=fields,
                          mean=float(probability.mean()))


class SegCritic:
    """A segmentation-only run's discriminator: P(real) = 1 − softmax(logits)[fake] per pixel."""

    def __init__(self, net: nn.Module, device: torch.device, source: Path) -> None:
        self.net = net.to(device).eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.device = device
        self.source = source

    @torch.no_grad()
    def score(self, ids: np.ndarray, image: np.ndarray) -> CriticMap:
        """uint8 H×W label ids (unused: this D sees the photo only) + uint8 H×W×3 image -> map."""
        from core.models.seg_discriminator import FAKE_CHANNEL, LEVELS

        h, w = image.shape[:2]
        photo = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float()[None] / 127.5 - 1.0
        mult = 2**LEVELS
        pad_h, pad_w = (-h) % mult, (-w) % mult
        if pad_h or pad_w:  # any canvas size: pad to the network's multiple, crop back
            photo = nn.functional.pad(photo, (0, pad_w, 0, pad_h), mode="replicate")
        logits = self.net(photo.to(self.device))[0, :, :h, :w].float()
        p = (1.0 - torch.softmax(logits, dim=0)[FAKE_CHANNEL]).cpu().numpy().astype(np.float32)
        return CriticMap(probability=p, patch_probability=[p], receptive_field=[1], mean=float(p.mean()))


def discriminator_file_for(generator: Path) -> Path | None:
    """The file that holds the discriminator trained with `generator`, if there is one."""
    generator = Path(generator)
    if generator.suffix.lower() == ".pt":
        return generator
    if generator.name.endswith(".raw.safetensors"):  # an EMA run's raw weights: the same step's .pt
        generator = generator.with_name(generator.name.removesuffix(".raw.safetensors") + ".safetensors")
    for candidate in (generator.with_suffix(".pt"), generator.with_name(generator.stem + DISCRIMINATOR_SUFFIX)):
        if candidate.is_file():
            return candidate
    return None


def load_critic(generator: Path, device: str | torch.device = "cpu") -> tuple[Critic | SegCritic | None, str]:
    """(Critic, "") or (None, why there is none) for the generator file `generator`."""
    from core.render.infer import resolve_device

    source = discriminator_file_for(generator)
    if source is None:
        name = Path(generator).name
        hint = (" (best.safetensors keeps weights only; use a step or last checkpoint of the run)"
                if name.startswith("best.") else "")
        return None, f"{name}: no discriminator saved with this generator{hint}"
    try:
        if source.suffix.lower() == ".pt":
            seg = _seg_from_state(source)
            if seg is not None:
                return SegCritic(seg, resolve_device(device), source), ""
        net, gen_cfg, gan_mode = (_from_state(source) if source.suffix.lower() == ".pt"
                                  else _from_safetensors(source))
        return Critic(net, gen_cfg, gan_mode, resolve_device(device), source), ""
    except (CheckpointError, ConfigError, KeyError, TypeError, RuntimeError, ValueError) as exc:
        return None, f"{source.name}: the discriminator cannot be used ({str(exc).splitlines()[0][:160]})"


def _build(disc: dict[str, Any], gen: dict[str, Any],
           weights: dict[str, torch.Tensor]) -> tuple[nn.Module, GeneratorConfig]:
    from core.models import build_discriminator

    d_cfg = from_dict(DiscriminatorConfig, disc)
    g_cfg = from_dict(GeneratorConfig, gen)
    net = build_discriminator(d_cfg, g_cfg, init=False)
    net.load_state_dict(weights, strict=True)
    return net, g_cfg


def _seg_from_state(path: Path) -> nn.Module | None:
    """The segmentation discriminator of a run that has no PatchGAN, else None."""
    from core.models import build_seg_discriminator

    state = load_training_state(path)
    if "discriminator" in state or "seg_discriminator" not in state or "config" not in state:
        return None
    net = build_seg_discriminator(from_dict(DiscriminatorConfig, state["config"]["discriminator"]), init=False)
    net.load_state_dict(state["seg_discriminator"], strict=True)
    return net


def _from_state(path: Path) -> tuple[nn.Module, GeneratorConfig, str]:
    state = load_training_state(path)
    if "discriminator" not in state or "config" not in state:
        raise CheckpointError(path, "a training state without a discriminator")
    config = state["config"]
    net, g_cfg = _build(config["discriminator"], state.get("generator_config") or config["generator"],
                        state["discriminator"])
    return net, g_cfg, str(config.get("train", {}).get("gan_mode", "vanilla"))


def _from_safetensors(path: Path) -> tuple[nn.Module, GeneratorConfig, str]:
    from safetensors.torch import load_file, safe_open

    with safe_open(str(path), framework="pt") as fh:
        meta = json.loads((fh.metadata() or {}).get(_META_KEY, "{}"))
    if not meta:
        raise CheckpointError(path, "no Road Studio discriminator config in its metadata")
    net, g_cfg = _build(meta["discriminator"], meta["generator"], load_file(str(path)))
    return net, g_cfg, str(meta.get("gan_mode", "vanilla"))


def export_discriminator(state_path: str | Path, out: str | Path) -> Path:
    """Write a training state's discriminator as `<generator stem>.discriminator.safetensors`
    (weights + configs in the metadata): how a shipped model keeps its critic without the 3×
    larger optimizer state."""
    from safetensors.torch import save_file

    from core.io.atomic import atomic_path

    state = load_training_state(state_path)
    if "discriminator" not in state:
        raise CheckpointError(Path(state_path), "has no PatchGAN (a segmentation-discriminator-only run); its "
                                                "critic is read from the training state itself")
    config = state["config"]
    meta = {"discriminator": config["discriminator"], "generator": state.get("generator_config") or config["generator"],
            "gan_mode": config.get("train", {}).get("gan_mode", "vanilla"), "step": state.get("step")}
    tensors = {k: v.detach().cpu().contiguous() for k, v in state["discriminator"].items()}
    out = Path(out)
    with atomic_path(out) as tmp:
        save_file(tensors, str(tmp), metadata={_META_KEY: json.dumps(meta)})
    return out
