"""Start a new run from trained weights instead of random ones (fine-tuning): `--init-from`.

A user with a few hundred photos of their own street gets further by fine-tuning the bundled model
than by training from scratch on a CPU, and the every-brush default model is the bundled version
0.2 model taught the classes CamVid lacks. What is loaded:

- the generator from a weights file (`.safetensors`) or a training state (`.pt`); its config must
  describe the same network as the run's (depth, width, norm, input, decoder), except that a plain
  model may start a **class-modulated** (CLADE) one: each decoder BatchNorm's learned affine
  (gamma, beta) becomes every class's row of that block's class table, so the new network computes
  exactly what the old one did until training moves the rows apart;
- the PatchGAN discriminator trained with it, when one is found beside it (core.realism's
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

from core.checkpoints import load_any_generator, load_training_state, unwrap
from core.config import GeneratorConfig
from core.errors import CheckpointError, UserError
from core.resources import resource_path

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
    target.load_state_dict(_adapt_generator_state(loaded.model.state_dict(), target.state_dict(), path),
                           strict=True)
    notes = [f"generator starts from {path.name} (fine-tuning; optimiser and schedule start fresh)"]
    if discriminator is not None:
        notes.append(_warm_start_discriminator(path, unwrap(discriminator)))
    return notes


def _check_same_network(source: GeneratorConfig, run: GeneratorConfig, path: Path) -> None:
    # Modulation is the one difference allowed, and only plain -> modulated (a class table can
    # start as a copy of one affine, not the other way round).
    if source.modulation != "none" and run.modulation != source.modulation:
        raise CheckpointError(path, f"its generator has modulation {source.modulation!r}; this run's has "
                                    f"{run.modulation!r} (per-class tables cannot become one affine)")
    comparable = dataclasses.replace(source, modulation=run.modulation)
    if comparable != run:
        differences = [f"{f.name} {getattr(source, f.name)!r} vs {getattr(run, f.name)!r}"
                       for f in dataclasses.fields(run) if getattr(comparable, f.name) != getattr(run, f.name)]
        raise CheckpointError(path, "its generator is not this run's network (" + ", ".join(differences) +
                                    "); choose the same architecture to start from it")


def _adapt_generator_state(source: dict[str, torch.Tensor], target: dict[str, torch.Tensor],
                           path: Path) -> dict[str, torch.Tensor]:
    """`source` rearranged to `target`'s keys: identical entries copied, plain decoder norms'
    affine spread over every class row of the modulated block's tables."""
    adapted: dict[str, torch.Tensor] = {}
    for key, value in source.items():
        match = _NORM_AFFINE.match(key)
        if key in target:
            adapted[key] = value
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


def _warm_start_discriminator(generator_path: Path, discriminator: torch.nn.Module) -> str:
    from core.realism import discriminator_file_for

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
        discriminator.load_state_dict(state, strict=True)
    except (CheckpointError, SafetensorError, OSError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[0][:160]
        return f"{source.name} does not fit this run's discriminator ({reason}): it starts from random weights"
    return f"discriminator starts from {source.name}"
