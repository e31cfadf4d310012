"""The files of a run folder and the checkpoint bookkeeping (rank 0 only writes them).

    run_dir/
      config.toml                      RunConfig (core.config.save_run_config)
      metrics.jsonl                    one event per line (JsonlSink)
      samples/step_0000100.png         input colour | output | target rows (SampleImageSink)
      tensorboard/                     TensorBoard scalars, when `tensorboard` is installed
      checkpoints/
        step_0000500.safetensors       generator weights + GeneratorConfig + card (inference)
        step_0000500.pt                full training state (resume; core.train.state)
        last.safetensors, last.pt      the newest step checkpoint (hard link or copy, atomic)
        best.safetensors               generator with the lowest validation L1 so far

Only the newest `keep_checkpoints` step pairs are kept; last and best always stay.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from core.atomic import atomic_path
from core.checkpoints import save_training_state, save_weights
from core.config import GeneratorConfig

_STEP_FILE = re.compile(r"^step_(\d{7,})\.(safetensors|pt)$")


@dataclass(frozen=True)
class RunPaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def last_state(self) -> Path:
        return self.checkpoints / "last.pt"

    @property
    def last_weights(self) -> Path:
        return self.checkpoints / "last.safetensors"

    @property
    def best_weights(self) -> Path:
        return self.checkpoints / "best.safetensors"

    def step_weights(self, step: int) -> Path:
        return self.checkpoints / f"step_{step:07d}.safetensors"

    def step_state(self, step: int) -> Path:
        return self.checkpoints / f"step_{step:07d}.pt"

    def sample(self, step: int) -> Path:
        return self.samples / f"step_{step:07d}.png"


def link_atomically(source: Path, target: Path) -> None:
    """Make `target` the same file as `source` atomically: a hard link (no copy of hundreds of
    MB) where the file system allows it, else a copy; either way through a temp name + os.replace,
    so a reader never sees a missing or half-written `last.*`."""
    with atomic_path(target) as tmp:
        tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)


class CheckpointWriter:
    """Writes step checkpoints, updates last.*, keeps the newest `keep` pairs and best.safetensors."""

    def __init__(self, paths: RunPaths, generator_config: GeneratorConfig, keep: int) -> None:
        self.paths = paths
        self.generator_config = generator_config
        self.keep = max(0, keep)

    def save_step(self, step: int, generator: torch.nn.Module, state: dict[str, Any],
                  card: dict[str, Any]) -> tuple[Path, Path]:
        weights = save_weights(self.paths.step_weights(step), generator, self.generator_config, card)
        training = save_training_state(self.paths.step_state(step), state)
        # Weights first, then state, then last.*: last.pt always has a matching last.safetensors
        # at least as new, and a kill anywhere leaves the previous last.* intact.
        link_atomically(weights, self.paths.last_weights)
        link_atomically(training, self.paths.last_state)
        self._prune()
        if not weights.exists():  # keep = 0: only last.* remain
            return self.paths.last_weights, self.paths.last_state
        return weights, training

    def save_best(self, generator: torch.nn.Module, card: dict[str, Any]) -> Path:
        return save_weights(self.paths.best_weights, generator, self.generator_config, card)

    def step_files(self) -> list[int]:
        if not self.paths.checkpoints.is_dir():
            return []
        steps = {int(m.group(1)) for p in self.paths.checkpoints.iterdir() if (m := _STEP_FILE.match(p.name))}
        return sorted(steps)

    def _prune(self) -> None:
        steps = self.step_files()
        for step in steps[: max(0, len(steps) - self.keep)]:
            for path in (self.paths.step_weights(step), self.paths.step_state(step)):
                path.unlink(missing_ok=True)
