"""Start a new run from trained weights instead of random ones (fine-tuning): `--init-from`.

A user with a few hundred photos of their own street gets further by fine-tuning the bundled model
than by training from scratch on a CPU, and the every-brush default model is the bundled version
0.2 model taught the classes CamVid lacks. What is loaded:

- the generator from a weights file (`.safetensors`) or a training state (`.pt`); its config must
  describe the same network as the run's (depth, width, norm, input, decoder), except that a plain
  model may start a **class-modulated** (CLADE) one: each decoder BatchNorm's learned affine
  (gamma, beta) becomes every class's row of that block's class table, so the new network computes
  exactly what the old one did until training moves the rows apart;
- a brush class the model barely saw (its card's `class_pixel_share` under BORROW_BELOW_SHARE)
  starts as its nearest seen class
  (core.weights.class_coverage.NEAREST_SEEN_CLASS: bus as car, wall as building, ...): its one-hot input
  channel gets that class's weights in the generator's first convolution and in every
  discriminator scale's first convolution. Otherwise it would start as "no class" (a channel that
  was always zero never received a gradient) and fine-tuning would have to teach it from nothing;
- a label-only model may start a photo-edit one (`condition = "labels+photo"`, core.edit): the
  first convolution of G and of each discriminator scale gets zero weights for the 4 new input
  channels (the masked photo and the hole), so at step 0 the photo-edit generator is the label
  model and ignores the photo; fine-tuning with random holes teaches it to continue the photo;
- the PatchGAN discriminator trained with it, when one is found beside it (core.eval.critic's
  `discriminator_file_for`: the step's `.pt`, or `<stem>.discriminator.safetensors` as the bundled
  model ships it) and fits the run's discriminator; otherwise the discriminator starts from random
  weights and a note says why (a fresh D against a trained G is how pix2pix fine-tuning usually
  starts, so this is a note, not an error).

Optimiser moments, the step counter and the learning-rate schedule start fresh: this is a new run.
Resuming a run (`--resume`) never goes through here. No Qt here.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from core.weights.checkpoints import load_any_generator, load_training_state, unwrap
from core.weights.class_coverage import BARELY_SEEN_SHARE, NEAREST_SEEN_CLASS, class_shares
from core.config import GeneratorConfig
from core.errors import CheckpointError, UserError
from core.labels import PALETTE
from core.io.resources import resource_path

#: A class seen under this share of the training pixels starts as its nearest seen class. Higher
#: than the palette's "barely seen" mark (0.1 %): version 0.2 saw terrain at 0.6 % and still
#: rendered it as dark asphalt.
BORROW_BELOW_SHARE = 0.01

#: `--init-from default` (and the panel's "bundled default model"): the model the app opens with.
BUNDLED_DEFAULT = "default"

# Decoder blocks whose plain BatchNorm affine turns into class tables: "...<block>.norm.weight".
_NORM_AFFINE = re.compile(r"^(?P<block>.+)\.norm\.(?P<kind>weight|bias)$")


def resolve_init_path(init_from: str) -> Path:
    """The file `init_from` names: a path, or "default" for the bundled default model."""
    if init_from == BUNDLED_DEFAULT:
        return resource_path("models", "default.safetensors")
    path = Path(init_from).expanduser()
    if not path.is_file():
        raise UserError(f"{path}: no such weights file to start from (--init-from)")
    return path


def warm_start(init_from: str, generator: torch.nn.Module, discriminator: torch.nn.Module | None,
               run_generator: GeneratorConfig) -> list[str]:
    """Load `init_from` into the run's freshly built models (in place); returns notes for the
    run's warnings. Raises CheckpointError naming the file when the generator does not fit."""
    path = resolve_init_path(init_from)
    loaded = load_any_generator(path)
    _check_same_network(loaded.config, run_generator, path)
    target = unwrap(generator)
    target.load_state_dict(_adapt_generator_state(loaded.model.state_dict(), target.state_dict(), path,
                                                  loaded.config.label_nc), strict=True)
    notes = [f"generator starts from {path.name} (fine-tuning; optimiser and schedule start fresh)"]
    borrowed = borrowed_classes(loaded.card) if run_generator.input_encoding == "onehot" else {}
    _borrow_input_channels(target, borrowed)
    if discriminator is not None:
        notes.append(_warm_start_discriminator(path, unwrap(discriminator), loaded.config.label_nc))
        _borrow_input_channels(unwrap(discriminator), borrowed)
    if borrowed:
        notes.append("classes it barely saw start as their nearest seen class: " +
                     ", ".join(f"{PALETTE[t].name} as {PALETTE[s].name}" for t, s in borrowed.items()))
    return notes


def borrowed_classes(card: dict[str, object]) -> dict[int, int]:
    """Palette index of each barely seen class -> palette index of the seen class it starts as
    (empty when the card records no class shares: then nothing is known to be missing)."""
    shares = class_shares(card)
    if shares is None:
        return {}
    index = {c.name: i for i, c in enumerate(PALETTE)}
    return {index[name]: index[near] for name, near in NEAREST_SEEN_CLASS.items()
            if shares.get(name, 0.0) < BORROW_BELOW_SHARE and shares.get(near, 0.0) >= BARELY_SEEN_SHARE}


def _borrow_input_channels(net: torch.nn.Module, borrowed: dict[int, int]) -> None:
    """In every convolution that reads the one-hot label map, copy the seen class's input-channel
    weights to the barely seen class's channel."""
    if not borrowed:
        return
    with torch.no_grad():
        for conv in _label_reading_convs(net):
            for target, source in borrowed.items():
                conv.weight[:, target] = conv.weight[:, source]


def _label_reading_convs(net: torch.nn.Module) -> list[torch.nn.Conv2d]:
    """The first convolution of the generator, or of each PatchGAN scale: they read the label
    channels (first in the input, before the photo in a discriminator's)."""
    from core.models.discriminator import PatchDiscriminator

    roots: list[torch.nn.Module] = [m for m in net.modules() if isinstance(m, PatchDiscriminator)] or [net]
    return [next(m for m in root.modules() if isinstance(m, torch.nn.Conv2d)) for root in roots]


def _check_same_network(source: GeneratorConfig, run: GeneratorConfig, path: Path) -> None:
    # Two differences are allowed, one way each: plain -> modulated (a class table can start as a
    # copy of one affine, not the other way round) and labels -> labels+photo (new input channels
    # start at zero; dropping the photo's channels would change what the model computes).
    if source.modulation != "none" and run.modulation != source.modulation:
        raise CheckpointError(path, f"its generator has modulation {source.modulation!r}; this run's has "
                                    f"{run.modulation!r} (per-class tables cannot become one affine)")
    if source.condition != "labels" and run.condition != source.condition:
        raise CheckpointError(path, f"its generator is conditioned on {source.condition!r}; this run's on "
                                    f"{run.condition!r}")
    comparable = dataclasses.replace(source, modulation=run.modulation, condition=run.condition)
    if comparable != run:
        differences = [f"{f.name} {getattr(source, f.name)!r} vs {getattr(run, f.name)!r}"
                       for f in dataclasses.fields(run) if getattr(comparable, f.name) != getattr(run, f.name)]
        raise CheckpointError(path, "its generator is not this run's network (" + ", ".join(differences) +
                                    "); choose the same architecture to start from it")


def _widen_input(weight: torch.Tensor, like: torch.Tensor, at: int) -> torch.Tensor | None:
    """A conv weight (out, in, k, k) with zero input channels inserted at `at` so it has `like`'s
    shape, or None when the two differ in anything but the input channels."""
    if weight.dim() != 4 or like.dim() != 4 or weight.shape[0] != like.shape[0] or \
            weight.shape[2:] != like.shape[2:] or like.shape[1] <= weight.shape[1]:
        return None
    extra = like.shape[1] - weight.shape[1]
    out = torch.zeros_like(like)
    out[:, :at] = weight[:, :at]
    out[:, at + extra:] = weight[:, at:]
    return out


def _adapt_generator_state(source: dict[str, torch.Tensor], target: dict[str, torch.Tensor],
                           path: Path, label_nc: int) -> dict[str, torch.Tensor]:
    """`source` rearranged to `target`'s keys: identical entries copied, plain decoder norms'
    affine spread over every class row of the modulated block's tables, a label model's first
    convolution widened with zero weights for a photo-edit run's extra input channels."""
    adapted: dict[str, torch.Tensor] = {}
    for key, value in source.items():
        match = _NORM_AFFINE.match(key)
        if key in target:
            widened = _widen_input(value, target[key], label_nc) if value.shape != target[key].shape else None
            adapted[key] = value if widened is None else widened
        elif match is not None and f"{match['block']}.modulate.gamma" in target:
            table = f"{match['block']}.modulate.{'gamma' if match['kind'] == 'weight' else 'beta'}"
            shape = target[table].shape  # (channels, classes, 1, 1)
            adapted[table] = value.detach().reshape(-1, 1, 1, 1).expand(shape).clone()
        else:
            raise CheckpointError(path, f"its weight {key!r} has no place in this run's generator")
    missing = sorted(set(target) - set(adapted))
    if missing:
        raise CheckpointError(path, f"has no weights for {missing[0]!r} (and {len(missing) - 1} more)")
    for key, value in adapted.items():
        if value.shape != target[key].shape:
            raise CheckpointError(path, f"weight {key!r} has shape {tuple(value.shape)}, this run's "
                                        f"{tuple(target[key].shape)}")
    return adapted


def _warm_start_discriminator(generator_path: Path, discriminator: torch.nn.Module, label_nc: int) -> str:
    from core.eval.critic import discriminator_file_for

    source = discriminator_file_for(generator_path)
    if source is None:
        return f"no discriminator beside {generator_path.name}: the discriminator starts from random weights"
    try:
        if source.suffix.lower() == ".pt":
            state = load_training_state(source).get("discriminator")
            if state is None:
                return f"{source.name} holds no PatchGAN: the discriminator starts from random weights"
        else:
            state = load_file(str(source))
        own = discriminator.state_dict()
        for key, value in state.items():  # a photo-edit run's D reads 4 more channels after the labels
            if key in own and value.shape != own[key].shape:
                widened = _widen_input(value, own[key], label_nc)
                if widened is not None:
                    state[key] = widened
        discriminator.load_state_dict(state, strict=True)
    except (CheckpointError, SafetensorError, OSError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[0][:160]
        return f"{source.name} does not fit this run's discriminator ({reason}): it starts from random weights"
    return f"discriminator starts from {source.name}"
