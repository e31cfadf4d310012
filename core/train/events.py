"""Typed events emitted by the training loop.

Training is a stream of these. The GUI worker, the CLI progress bar, the metrics.jsonl writer and
TensorBoard are all consumers of the same stream; none of them changes what the loop does.
Every event has `kind` (a stable string written to metrics.jsonl) and can be turned into a
JSON-able dict with `event_to_dict` (images are left out of the dict; they are written as files).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Started:
    run_dir: str
    device: str
    total_steps: int  # planned optimizer steps for the whole run
    steps_per_epoch: int
    start_step: int  # 0 for a new run, the checkpoint's step when resuming
    start_epoch: int
    train_pairs: int
    val_pairs: int
    generator_params: int
    discriminator_params: int
    world_size: int = 1
    # > 0: the run keeps an EMA of G's weights (core.train.ema); validation, samples, the canvas
    # preview, pins and the checkpoints' weights files then show the EMA generator.
    ema_decay: float = 0.0
    kind: str = "started"


@dataclass(frozen=True)
class Step:
    step: int  # optimizer steps done so far (1-based after the first step)
    epoch: int  # 0-based epoch this step belongs to
    losses: dict[str, float]  # G_GAN, G_L1, D_real, D_fake
    lr: float
    data_time: float  # seconds waiting for the batch
    step_time: float  # seconds of compute for the step
    samples_per_s: float
    kind: str = "step"


@dataclass(frozen=True)
class Sample:
    step: int
    path: str  # PNG grid written to samples/: rows of input | output | target
    image: np.ndarray = field(repr=False, compare=False)  # uint8 H×W×3 of the same grid
    kind: str = "sample"


@dataclass(frozen=True)
class CanvasPreview:
    """The user's current painting rendered with the current training weights (GUI feature)."""

    step: int
    image: np.ndarray = field(repr=False, compare=False)  # uint8 H×W×3
    kind: str = "canvas_preview"


@dataclass(frozen=True)
class Validation:
    step: int
    epoch: int
    l1: float  # mean absolute error in [0, 2] pixel units ([-1, 1] images)
    psnr: float  # dB on [0, 1] images
    ssim: float
    is_best: bool  # the best so far: highest realism when scored, else lowest validation L1
    # FCN-score of a fixed handful of validation pairs (core.eval.realism), when the validation
    # data is real photos and the segmenter is installed; None otherwise.
    realism: float | None = None  # mean IoU of the segmented renderings, in [0, 1]
    realism_pixel_acc: float | None = None
    realism_class_acc: float | None = None
    realism_real: float | None = None  # the same mean IoU for the real photos: the ceiling
    ema: bool = False  # scored with the EMA generator (TrainConfig.ema_decay > 0), not the raw one
    kind: str = "validation"


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    epoch: int
    weights_path: str  # .safetensors generator weights (inference, "Use in canvas")
    state_path: str  # .pt full training state (resume)
    reason: str  # "interval", "epoch", "stop", "final", "best"
    kind: str = "checkpoint"


@dataclass(frozen=True)
class Warning_:  # noqa: N801 - `Warning` would shadow the builtin exception class
    step: int
    message: str
    kind: str = "warning"


@dataclass(frozen=True)
class Paused:
    step: int
    kind: str = "paused"


@dataclass(frozen=True)
class Resumed:
    step: int
    kind: str = "resumed"


@dataclass(frozen=True)
class Finished:
    step: int
    epoch: int
    reason: str  # "completed" (all epochs), "max_steps", "stopped" (user)
    # Share of the label pixels trained on per class name, over the whole run (this rank's crops).
    # (Not part of equality: two runs that end alike are alike whatever their data saw.)
    class_pixel_share: dict[str, float] | None = field(default=None, compare=False)
    kind: str = "finished"


@dataclass(frozen=True)
class Failed:
    step: int
    message: str
    last_checkpoint: str | None  # the last good .safetensors, if any
    kind: str = "failed"


Event = (
    Started | Step | Sample | CanvasPreview | Validation | CheckpointSaved | Warning_ | Paused | Resumed
    | Finished | Failed
)


def event_to_dict(event: Event) -> dict[str, Any]:
    """JSON-able dict of an event (image arrays dropped)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(value, np.ndarray):
            continue
        out[f.name] = value
    return out
