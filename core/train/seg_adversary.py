"""The segmentation discriminator's part of a training step (OASIS; DiscriminatorConfig.kind
"segmentation" or "patch+segmentation"), kept apart from the PatchGAN code in core.train.loop.

    seg = SegAdversary(cfg, device)           # builds D_seg (seeded init) and its own Adam
    d_losses = seg.d_step(real, fake.detach(), classes, autocast)   # D_seg_real, D_seg_fake[, D_seg_mix]
    g_loss = seg.g_loss(fake, classes, autocast)                    # G_seg (λ_seg applied)

`classes` are the label map's palette indices (N, H, W) (`palette_classes`): 0 = unlabeled
(ignored), 1..19 the train classes, which are also D_seg's output channels; channel 0 is "fake".
D step: class-balanced CE of D_seg(real) to `classes` + of D_seg(fake) to channel 0 (weighted by
the painted classes' balance, as OASIS does), + λ_LM · LabelMix when TrainConfig.seg_labelmix > 0
(its random class mask draws from the global torch RNG: seeded and saved, so resume stays exact).
G step (D_seg frozen): λ_seg · class-balanced CE of D_seg(fake) to `classes` — every generated
pixel should be recognisable as its painted class.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch

from core.config import RunConfig
from core.labels import ID_TO_PALETTE_INDEX, NUM_PALETTE_CLASSES
from core.models import build_seg_discriminator
from core.train.distributed import local_module
from core.train.losses import class_balanced_ce, labelmix_loss

Autocast = Callable[[], contextlib.AbstractContextManager[Any]]
LOSS_NAMES = ("G_seg", "D_seg_real", "D_seg_fake")
LABELMIX_LOSS_NAME = "D_seg_mix"  # reported only with seg_labelmix > 0


def palette_classes(ids: torch.Tensor) -> torch.Tensor:
    """uint8 label ids (N, H, W) -> long palette indices (N, H, W) on the same device."""
    return torch.from_numpy(ID_TO_PALETTE_INDEX).long().to(ids.device)[ids.long()]


class SegAdversary:
    def __init__(self, cfg: RunConfig, device: torch.device) -> None:
        t = cfg.train
        self.lambda_seg = t.lambda_seg
        self.lambda_labelmix = t.seg_labelmix
        self.device = device
        self.net: torch.nn.Module = build_seg_discriminator(cfg.discriminator).to(device)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=t.lr, betas=(t.beta1, t.beta2))

    @property
    def plain(self) -> torch.nn.Module:
        """The unwrapped network (for checkpoints and parameter counts)."""
        from core.weights.checkpoints import unwrap

        return unwrap(self.net)

    def wrap(self, wrap: Callable[[torch.nn.Module], torch.nn.Module]) -> None:
        """Apply the loop's compile / DDP wrapping (after the state is restored)."""
        self.net = wrap(self.net)

    def d_step(self, real: torch.Tensor, fake: torch.Tensor, classes: torch.Tensor,
               autocast: Autocast) -> dict[str, torch.Tensor]:
        """One optimizer step of D_seg on the real photo and the detached fake."""
        net = self.net
        _set_requires_grad(net, True)
        self.opt.zero_grad(set_to_none=True)
        with autocast():
            out_real = net(real)  # (N, 20, H, W)
            out_fake = net(fake)
        loss_real = class_balanced_ce(out_real, classes)
        loss_fake = class_balanced_ce(out_fake, classes, fake=True)
        losses = {"D_seg_real": loss_real, "D_seg_fake": loss_fake}
        loss = loss_real + loss_fake
        if self.lambda_labelmix > 0:
            # One random bit per class of the batch: 1 = take the real photo's pixels there.
            bits = torch.randint(0, 2, (NUM_PALETTE_CLASSES,)).to(real.device, dtype=real.dtype)
            mask = bits[classes].unsqueeze(1)  # (N, 1, H, W)
            with autocast():
                out_mixed = net(mask * real + (1.0 - mask) * fake)
            loss_mix = labelmix_loss(out_mixed, out_real, out_fake, mask) * self.lambda_labelmix
            losses[LABELMIX_LOSS_NAME] = loss_mix
            loss = loss + loss_mix
        loss.backward()
        self.opt.step()
        return losses

    def g_loss(self, fake: torch.Tensor, classes: torch.Tensor, autocast: Autocast) -> torch.Tensor:
        """G's term, with D_seg frozen (called outside DDP: a frozen D makes no gradients to sync)."""
        _set_requires_grad(self.net, False)
        with autocast():
            out = local_module(self.net)(fake)
        return class_balanced_ce(out, classes) * self.lambda_seg

    def state(self) -> dict[str, Any]:
        return {"seg_discriminator": self.plain.state_dict(), "optimizer_D_seg": self.opt.state_dict()}

    def load_state(self, state: dict[str, Any]) -> None:
        self.plain.load_state_dict(state["seg_discriminator"])
        self.opt.load_state_dict(state["optimizer_D_seg"])


def _set_requires_grad(net: torch.nn.Module, flag: bool) -> None:
    for p in net.parameters():
        p.requires_grad_(flag)
