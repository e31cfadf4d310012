#!/usr/bin/env python
"""Start a photo-edit run (preset photo-edit) from the bundled label-only default model.

    python scripts/warm_start_photo_edit.py runs/photo-edit-warm [--epochs 4 --epochs-decay 4]
    roadstudio-cli train --resume runs/photo-edit-warm

Why: the photo-edit generator is the default model's network with 4 more input channels (the
masked photo and the hole). Trained from scratch for an hour on a busy 2-core CPU (1.2k steps) it
learned to continue the photo's colours into the hole but barely to follow the labels
(docs/photo_editing.md); the default model had 22k steps to learn the labels. So: copy the default
model's weights, with zero weights for the new input channels (at step 0 the generator IS the
default model and ignores the photo), and the default model's discriminator likewise (its input
gains the same 4 channels between the label encoding and the photo), then fine-tune with random
holes. The script writes the run folder (config.toml and a step-0 training state,
core.train.state's format with fresh Adam states); `train --resume` trains it like any run, and
resumes exactly. When the engine gets its own warm start (TrainConfig), this script's weight
widening (widen_input) is the part to keep.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch
from safetensors.torch import load_file

from core.weights.checkpoints import save_training_state
from core.config import save_run_config, to_dict
from core.labels import NUM_PALETTE_CLASSES
from core.models import build_discriminator, build_generator
from core.train.presets import preset_config
from core.io.resources import resource_path
from core.train.loop import make_optimizers
from core.train.state import STATE_FORMAT, capture_rng_state, seed_everything


def widen_input(old: torch.Tensor, new: torch.Tensor, at: int) -> torch.Tensor:
    """A conv weight (out, in, k, k) with zero input channels inserted at `at` to fill `new`'s shape."""
    extra = new.shape[1] - old.shape[1]
    out = torch.zeros_like(new)
    out[:, :at] = old[:, :at]
    out[:, at + extra:] = old[:, at:]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--epochs-decay", type=int, default=None, help="default: the preset's")
    args = parser.parse_args()
    base = preset_config("photo-edit")
    epochs = base.train.epochs if args.epochs is None else args.epochs
    decay = base.train.epochs_decay if args.epochs_decay is None else args.epochs_decay
    cfg = base.replace(name="photo-edit", train=dataclasses.replace(base.train, epochs=epochs, epochs_decay=decay))
    if (args.run / "config.toml").exists():
        raise SystemExit(f"{args.run} already holds a run")
    seed_everything(cfg.train.seed)
    g = build_generator(cfg.generator)
    d = build_discriminator(cfg.discriminator, cfg.generator)
    g_old = load_file(str(resource_path("models", "default.safetensors")))
    d_old = load_file(str(resource_path("models", "default.discriminator.safetensors")))
    label_nc = NUM_PALETTE_CLASSES
    for net, old in ((g, g_old), (d, d_old)):
        state = net.state_dict()
        for key, value in old.items():
            if value.shape != state[key].shape:  # the first conv: the 4 new input channels
                value = widen_input(value, state[key], label_nc)
            state[key] = value
        net.load_state_dict(state)
    opt_g, opt_d = make_optimizers(g, d, cfg.train, torch.device("cpu"))
    assert opt_d is not None
    training_state = {
        "format": STATE_FORMAT, "generator": g.state_dict(), "discriminator": d.state_dict(),
        "optimizer_G": opt_g.state_dict(), "optimizer_D": opt_d.state_dict(),
        "scheduler": {"base_lr": cfg.train.lr, "lr": cfg.train.lr, "epoch": 0},
        "step": 0, "epoch": 0, "consumed": 0, "best_val_l1": None, "best_realism": None,
        "class_pixels": [0] * NUM_PALETTE_CLASSES, "collapse_streak": 0, "rng": capture_rng_state(),
        "config": to_dict(cfg), "generator_config": to_dict(cfg.generator),
        "card": {"warm_start": "default.safetensors + default.discriminator.safetensors, new input channels zero"},
    }
    (args.run / "checkpoints").mkdir(parents=True, exist_ok=True)
    save_run_config(cfg, args.run / "config.toml")
    save_training_state(args.run / "checkpoints" / "last.pt", training_state)
    print(f"wrote {args.run}; train it with: roadstudio-cli train --resume {args.run}")


if __name__ == "__main__":
    main()
