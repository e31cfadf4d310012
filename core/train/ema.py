"""An exponential moving average (EMA) of the generator's weights, kept during training.

    ema = GeneratorEMA(generator, decay=0.999)
    ...after each optimizer step k (1-based):  ema.update(generator, k)
    ema.module  -> the averaged generator (eval mode, no gradients): validation, samples, previews,
                   pins and the step checkpoints' weights files use it when TrainConfig.ema_decay > 0

Update after step k, with warm-up so the average is not stuck at the random init for the first
~1/(1-decay) steps (as TensorFlow's ExponentialMovingAverage with num_updates does):
    d_k = min(decay, (1 + k) / (10 + k))
    θ_ema <- d_k · θ_ema + (1 - d_k) · θ

BatchNorm running statistics are *averaged* with the same d_k (integer buffers such as
num_batches_tracked are copied). Why averaged rather than copied: the statistics the EMA network
needs are those of its own (averaged) weights; while the weights change slowly, the activation
statistics of an average of weights are, to first order, the same average of the statistics of
each weight set, so averaging the buffers matches the EMA weights to first order where copying
them describes only today's raw weights. (Recomputing them with forward passes would be exact but
costs steps and would touch the dropout RNG, which exact resume forbids.)

No random numbers are drawn and nothing is read from the data, so keeping an EMA never changes
what the raw generator learns: an EMA run's raw weights equal those of the same run without it.
"""

from __future__ import annotations

import copy

import torch


def ema_decay_at(decay: float, step: int) -> float:
    """The warm-up decay used for the update after optimizer step `step` (1-based)."""
    return min(decay, (1.0 + step) / (10.0 + step))


class GeneratorEMA:
    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        """Fold `model`'s current weights (the plain module, no DDP/compile wrapper) into the average."""
        d = ema_decay_at(self.decay, step)
        ema_params: list[torch.Tensor] = list(self.module.parameters())
        params = [p.detach() for p in model.parameters()]
        torch._foreach_lerp_(ema_params, params, 1.0 - d)  # θ_ema + (1-d)(θ - θ_ema)
        for b_ema, b in zip(self.module.buffers(), model.buffers(), strict=True):
            if b_ema.dtype.is_floating_point:
                b_ema.lerp_(b, 1.0 - d)
            else:
                b_ema.copy_(b)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.module.load_state_dict(state, strict=True)
