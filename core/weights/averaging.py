"""Average the generator weights of several checkpoints of one run (checkpoint averaging).

A GAN generator's weights wander from checkpoint to checkpoint: two checkpoints 1,000 steps
apart can differ clearly in how real their images look, and the last one is not reliably the
best. The mean of the weights of a few neighbouring checkpoints (Polyak averaging after the fact;
Yazıcı et al. 2019, "The Unusual Effectiveness of Averaging in GAN Training") sits in the middle
of that wandering and renders steadier, more realistic images than any single one of them. It is
how Road Studio's default model was made (resources/models/MODEL_CARD.md).

Every floating-point tensor of the state is averaged, BatchNorm's running mean and variance
included: the averaged statistics match the averaged weights well enough that recomputing them
on training images scored worse in the measurements (docs/output_quality.md). Integer tensors
(BatchNorm's batch counters) come from the newest checkpoint. All checkpoints must have the same
generator config; the mean is computed in float64.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from core.weights.checkpoints import LoadedGenerator, load_any_generator
from core.config import GeneratorConfig, to_dict
from core.errors import BadFileError, CheckpointError, UserError

_STEP_FILE = re.compile(r"^step_(\d+)\.(safetensors|pt)$")


@dataclass(frozen=True)
class AveragedGenerator:
    model: torch.nn.Module  # CPU, eval mode
    config: GeneratorConfig
    card: dict[str, Any]  # the newest checkpoint's card, plus what was averaged


def _step_of(loaded: LoadedGenerator) -> int | None:
    step = loaded.card.get("step")
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def _config_difference(a: GeneratorConfig, b: GeneratorConfig) -> str:
    da, db = to_dict(a), to_dict(b)
    return ", ".join(f"{k} {db.get(k)!r} instead of {da.get(k)!r}" for k in sorted(set(da) | set(db))
                     if da.get(k) != db.get(k))


def average_generators(paths: Sequence[str | Path]) -> AveragedGenerator:
    """The element-wise mean of the generators in `paths` (two or more; .safetensors or .pt).
    Raises CheckpointError naming the file when one cannot be read or has another architecture."""
    if len(paths) < 2:
        raise UserError(f"averaging needs at least two checkpoints, got {len(paths)}")
    first = load_any_generator(paths[0])
    sums = {k: v.detach().to(torch.float64).clone() for k, v in first.model.state_dict().items()
            if v.dtype.is_floating_point}
    loaded_steps: list[int | None] = [_step_of(first)]
    newest = first
    for path in paths[1:]:
        loaded = load_any_generator(path)
        if loaded.config != first.config:
            raise CheckpointError(path, f"another generator than {Path(paths[0]).name}: "
                                        f"{_config_difference(first.config, loaded.config)}; only "
                                        "checkpoints of one architecture can be averaged")
        for key, value in loaded.model.state_dict().items():
            if key in sums:
                sums[key] += value.detach().to(torch.float64)
        step, newest_step = _step_of(loaded), _step_of(newest)
        loaded_steps.append(step)
        if step is not None and (newest_step is None or step > newest_step):
            newest = loaded
    count = len(paths)
    state = newest.model.state_dict()
    averaged = {k: (sums[k] / count).to(v.dtype) if k in sums else v for k, v in state.items()}
    model = newest.model
    model.load_state_dict(averaged)
    model.eval()
    known = sorted(s for s in loaded_steps if s is not None)
    card = dict(newest.card)
    card["averaged_from"] = {"checkpoints": [Path(p).name for p in paths], "steps": loaded_steps}
    if known:
        card["step"] = known[-1]
        card["averaged_steps"] = f"{known[0]}–{known[-1]}"
    return AveragedGenerator(model=model, config=first.config, card=card)


def run_checkpoints(run_dir: str | Path, first_step: int | None = None,
                    last_step: int | None = None) -> list[Path]:
    """The step checkpoints of a run folder between first_step and last_step (inclusive), one file
    per step (weights .safetensors preferred over the full .pt), in step order."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        raise BadFileError(run_dir, "not a run folder (no checkpoints/ folder)")
    by_step: dict[int, Path] = {}
    for path in folder.iterdir():
        found = _STEP_FILE.match(path.name)
        if found is None:
            continue
        step = int(found.group(1))
        if (first_step is not None and step < first_step) or (last_step is not None and step > last_step):
            continue
        if step not in by_step or path.suffix == ".safetensors":
            by_step[step] = path
    if not by_step:
        span = "" if first_step is None and last_step is None else \
            f" between steps {first_step or 0} and {'the end' if last_step is None else last_step}"
        raise BadFileError(folder, f"no step checkpoints{span}")
    return [by_step[s] for s in sorted(by_step)]
