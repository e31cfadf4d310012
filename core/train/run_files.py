"""The files of a run folder and the checkpoint bookkeeping (rank 0 only writes them).

    run_dir/
      config.toml                      RunConfig (core.config.save_run_config)
      metrics.jsonl                    one event per line (JsonlSink)
      samples/step_0000100.png         input colour | output | target rows (SampleImageSink)
      tensorboard/                     TensorBoard scalars, when `tensorboard` is installed
      checkpoints/
        step_0000500.safetensors       generator weights + GeneratorConfig + card (inference)
        step_0000500.pt                full training state (resume; core.train.state)
        step_0000500.raw.safetensors   only with an EMA (TrainConfig.ema_decay > 0): the raw generator;
                                       step_/last/best.safetensors then hold the EMA generator
        last.safetensors, last.pt      the newest step checkpoint (hard link or copy, atomic)
        last.raw.safetensors           with an EMA: the newest raw generator
        best.safetensors               the best validation so far: highest realism (FCN mIoU) when
                                       scored (core.eval.realism), else lowest L1

Only the newest `keep_checkpoints` step pairs are kept; last and best always stay.

When the folder stops taking files under a running training (disk full, made read-only, deleted
or moved away), writes raise RunFolderFault with a message for the user; the loop turns it into a
Failed event. A deleted folder is never re-created piecemeal, and a checkpoint that could not be
written completely leaves no half of itself behind: last.* keep pointing at the previous one.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from core.io.atomic import DISK_FULL_ERRNOS, atomic_path, describe_write_error
from core.weights.checkpoints import save_training_state, save_weights
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

    def step_raw_weights(self, step: int) -> Path:
        """The raw (non-EMA) generator of a step, written only by runs that keep an EMA."""
        return self.checkpoints / f"step_{step:07d}.raw.safetensors"

    @property
    def last_raw_weights(self) -> Path:
        return self.checkpoints / "last.raw.safetensors"

    def step_state(self, step: int) -> Path:
        return self.checkpoints / f"step_{step:07d}.pt"

    def sample(self, step: int) -> Path:
        return self.samples / f"step_{step:07d}.png"


class RunFolderFault(Exception):  # noqa: N818 - a fault of the run folder that ends the run; the app and tests use this name
    """The run folder cannot take the run's files any more (disk full, read-only, deleted): the
    run must stop. The message names the folder or file and the reason, without a traceback."""


class RunFolderGuard:
    """Tells whether the run folder is still the one the run started in: the same directory
    (device and inode) as at the first check, still holding its config.toml if it did then.
    Deleted, or moved away (and maybe replaced), means the run has nowhere to write."""

    def __init__(self, paths: RunPaths) -> None:
        self.paths = paths
        self._identity: tuple[int, int] | None = None
        self._had_config = False

    def check(self) -> None:
        root = self.paths.root
        try:
            st = os.stat(root)
            config_present = self.paths.config.is_file()
        except OSError:
            st, config_present = None, False
        identity = (st.st_dev, st.st_ino) if st is not None else None
        if self._identity is None:  # the first look: what the folder is (if it exists yet)
            if identity is not None:
                self._identity, self._had_config = identity, config_present
            return
        if identity != self._identity or (self._had_config and not config_present):
            raise RunFolderFault(f"the run folder {root} was deleted or moved away while training; the run "
                                 "stopped and writes nothing more there")


def fault_for_write(path: Path, exc: OSError, *, what: str) -> RunFolderFault:
    """RunFolderFault for a failed write of `what` (e.g. "checkpoint step_0000010") at `path`."""
    reason = describe_write_error(exc)
    if exc.errno in DISK_FULL_ERRNOS:
        advice = "free some space, then resume the run (roadstudio-cli train --resume, or Resume in the panel)"
    else:
        advice = "make the folder writable again, then resume the run"
    return RunFolderFault(f"could not write {what} in {path.parent} ({reason}); the run stopped. "
                          f"The files written before are intact: {advice}")


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
        self.guard = RunFolderGuard(paths)

    def save_step(self, step: int, generator: torch.nn.Module, state: dict[str, Any],
                  card: dict[str, Any], raw: tuple[torch.nn.Module, dict[str, Any]] | None = None
                  ) -> tuple[Path, Path]:
        """Raises RunFolderFault when the folder is gone or a file cannot be written; then neither
        file of this step remains and last.* still hold the previous step's pair.
        raw: (generator, card) written as step_N.raw.safetensors (runs with an EMA: `generator` is
        the EMA one, `raw` the trained weights)."""
        # Before writing: atomic_path would re-create a deleted folder's checkpoints/ alone.
        self.guard.check()
        weights_path, state_path = self.paths.step_weights(step), self.paths.step_state(step)
        try:
            weights = save_weights(weights_path, generator, self.generator_config, card)
            if raw is not None:
                save_weights(self.paths.step_raw_weights(step), raw[0], self.generator_config, raw[1])
            training = save_training_state(state_path, state)
            # Weights first, then state, then last.*: last.pt always has a matching last.safetensors
            # at least as new, and a kill anywhere leaves the previous last.* intact.
            link_atomically(weights, self.paths.last_weights)
            if raw is not None:
                link_atomically(self.paths.step_raw_weights(step), self.paths.last_raw_weights)
            link_atomically(training, self.paths.last_state)
        except OSError as exc:
            self._discard(step)
            raise fault_for_write(state_path, exc, what=f"checkpoint {weights_path.stem}") from None
        self._prune()
        if not weights.exists():  # keep = 0: only last.* remain
            return self.paths.last_weights, self.paths.last_state
        return weights, training

    def _discard(self, step: int) -> None:
        """Remove what a failed save of `step` wrote: a step pair is complete or absent."""
        for path in (self.paths.step_weights(step), self.paths.step_raw_weights(step), self.paths.step_state(step)):
            with contextlib.suppress(OSError):  # a read-only folder keeps it; last.* are what a resume reads
                path.unlink(missing_ok=True)

    def save_best(self, generator: torch.nn.Module, card: dict[str, Any]) -> Path:
        self.guard.check()
        try:
            return save_weights(self.paths.best_weights, generator, self.generator_config, card)
        except OSError as exc:
            raise fault_for_write(self.paths.best_weights, exc, what="best.safetensors") from None

    def step_files(self) -> list[int]:
        if not self.paths.checkpoints.is_dir():
            return []
        steps = {int(m.group(1)) for p in self.paths.checkpoints.iterdir() if (m := _STEP_FILE.match(p.name))}
        return sorted(steps)

    def _prune(self) -> None:
        steps = self.step_files()
        for step in steps[: max(0, len(steps) - self.keep)]:
            for path in (self.paths.step_weights(step), self.paths.step_raw_weights(step), self.paths.step_state(step)):
                path.unlink(missing_ok=True)
