"""The full training state: what a checkpoint `.pt` holds so that a resumed run continues exactly.

Only tensors and plain Python values (dicts, lists, tuples, str, int, float, bool, None), so the
file loads with `torch.load(weights_only=True)` (core.weights.checkpoints.load_training_state).

Keys of the state dict (STATE_FORMAT 1):
  format              int, STATE_FORMAT
  generator           G state_dict (plain module, no DDP/compile prefixes)
  discriminator       D state_dict
  optimizer_G         Adam state_dict of G
  optimizer_D         Adam state_dict of D
  scheduler           {"base_lr": float, "lr": float, "epoch": int} (lr of the current epoch)
  step                int, optimizer steps done
  epoch               int, 0-based epoch of the next sample to draw (see `consumed`)
  consumed            int, samples of this rank's share of `epoch` already trained on
  best_val_l1         float or None
  class_pixels        [int] * 20, label pixels trained on per palette class so far (older states: absent)
  collapse_streak     int, consecutive steps with a near-zero D loss (warning monitor)
  rng                 {"python": tuple, "numpy": {...}, "torch": ByteTensor, "cuda": [ByteTensor]}
                      (cuda: the generator of the device this process trains on, or [])
  config              core.config.to_dict(RunConfig)
  generator_config    core.config.to_dict(GeneratorConfig) (read by load_generator_from_state)
  card                model card dict (run, step, epoch, data, ...)
Optional keys (present only for runs that use the feature; STATE_FORMAT stays 1):
  ema_generator       state_dict of the EMA generator (TrainConfig.ema_decay > 0; core.train.ema)
  seg_discriminator   state_dict of the segmentation discriminator (DiscriminatorConfig.kind
                      "segmentation" or "patch+segmentation"; core.models.seg_discriminator)
  optimizer_D_seg     its Adam state_dict
A run with kind "segmentation" has no PatchGAN: its "discriminator" and "optimizer_D" are absent.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

STATE_FORMAT = 1


# ------------------------------------------------------------------------------------- RNG


def capture_rng_state() -> dict[str, Any]:
    """Every global random generator the step can touch, as tensors and plain values."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state: dict[str, Any] = {
        "python": (int(version), tuple(int(v) for v in internal), gauss),
        "numpy": {
            "name": str(name),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64).copy()),  # uint32 has no torch dtype
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
        # Only the current device (cuda:LOCAL_RANK under torchrun): touching every GPU's generator
        # would create a CUDA context on every GPU in every process.
        "cuda": [torch.cuda.get_rng_state().cpu()] if torch.cuda.is_available() else [],
    }
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((int(version), tuple(int(v) for v in internal), gauss))
    npst = state["numpy"]
    np.random.set_state((npst["name"], npst["keys"].numpy().astype(np.uint32), int(npst["pos"]),
                         int(npst["has_gauss"]), float(npst["cached_gaussian"])))
    torch.set_rng_state(state["torch"].cpu())
    cuda_states = state.get("cuda") or []
    if cuda_states and torch.cuda.is_available():
        # Into the current device's generator. Under torchrun every rank draws from the same seeded
        # stream, so rank 0's saved state is every rank's. (Older files list every device; their
        # first entry is cuda:0, the device a single process trains on.)
        torch.cuda.set_rng_state(cuda_states[0].cpu())


def seed_everything(seed: int) -> None:
    """Seed python, numpy (legacy global) and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# ------------------------------------------------------------------------------------- LR


def lr_multiplier(epoch: int, epochs: int, epochs_decay: int) -> float:
    """The reference pix2pix "linear" policy: 1 for the first `epochs` epochs, then a linear
    decay towards zero over `epochs_decay` more (epoch is 0-based)."""
    return 1.0 - max(0, epoch + 1 - epochs) / float(epochs_decay + 1)


def lr_for_epoch(base_lr: float, epoch: int, epochs: int, epochs_decay: int) -> float:
    return base_lr * lr_multiplier(epoch, epochs, epochs_decay)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
