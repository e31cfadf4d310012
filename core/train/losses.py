"""Losses of pix2pix: the conditional GAN loss (vanilla or LSGAN) and the L1 reconstruction term.

The discriminator outputs raw logits per patch. "vanilla" is binary cross-entropy on those logits
(BCEWithLogits: numerically stable, the reference's choice); "lsgan" is the least-squares loss of
Mao et al. on the same logits. Targets are 1 for real and 0 for fake, as in the reference.
"""

from __future__ import annotations

import torch
from torch import nn

from core.config import GanMode


class GANLoss(nn.Module):
    """loss(prediction, target_is_real) with targets broadcast to the prediction's shape."""

    criterion: nn.Module
    real_label: torch.Tensor  # buffers (registered below)
    fake_label: torch.Tensor

    def __init__(self, mode: GanMode, real_label: float = 1.0, fake_label: float = 0.0) -> None:
        super().__init__()
        if mode == "vanilla":
            self.criterion: nn.Module = nn.BCEWithLogitsLoss()
        elif mode == "lsgan":
            self.criterion = nn.MSELoss()
        else:
            raise ValueError(f"unknown gan mode {mode!r}")
        self.mode = mode
        # Buffers, so .to(device) moves them; not saved (the values come from the config).
        self.register_buffer("real_label", torch.tensor(real_label), persistent=False)
        self.register_buffer("fake_label", torch.tensor(fake_label), persistent=False)

    def forward(self, prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        target = self.real_label if target_is_real else self.fake_label
        # Losses in float32 even under bf16 autocast: tiny patch logits lose too much precision.
        prediction = prediction.float()
        return self.criterion(prediction, target.to(prediction.dtype).expand_as(prediction))


def gan_loss_over_scales(gan: GANLoss, features: list[list[torch.Tensor]], target_is_real: bool) -> torch.Tensor:
    """The GAN loss averaged over a discriminator's scales (`features[scale][-1]` are the logits).
    One scale gives exactly `gan(logits)`, so the paper's setup computes what it always did."""
    losses = [gan(per_scale[-1], target_is_real) for per_scale in features]
    return losses[0] if len(losses) == 1 else torch.stack(losses).mean()


def feature_matching_loss(fake: list[list[torch.Tensor]], real: list[list[torch.Tensor]]) -> torch.Tensor:
    """pix2pixHD's discriminator feature matching: L1 between D's intermediate activations for
    the fake and for the real photo (the real side detached: it is a target, not a path for
    gradients), averaged over layers and scales. The logits (last entry) are the GAN loss's."""
    per_scale = []
    for fake_feats, real_feats in zip(fake, real, strict=True):
        layers = [torch.nn.functional.l1_loss(f.float(), r.detach().float())
                  for f, r in zip(fake_feats[:-1], real_feats[:-1], strict=True)]
        per_scale.append(torch.stack(layers).mean())
    return torch.stack(per_scale).mean()


def l1_loss(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.l1_loss(fake.float(), real.float())


# --------------------------------------------------------- segmentation discriminator (OASIS)


def class_balanced_ce(logits: torch.Tensor, classes: torch.Tensor, *, fake: bool = False) -> torch.Tensor:
    """OASIS's class-balanced cross-entropy for a segmentation discriminator.

    logits: (N, C, H, W), channel 0 = "fake" (core.models.seg_discriminator); classes: (N, H, W)
    palette indices of the label map, 0 = unlabeled. Target: `classes`, or channel 0 everywhere
    when `fake`. Each pixel is weighted by 1 / (pixels of its class in the batch) and the sum is
    normalised by the weights' total, so every class present counts the same (the loss is the
    mean over present classes of their mean CE; rare classes are not drowned by road and sky).
    Unlabeled pixels weigh 0 — a real photo's unlabeled pixels have no class to learn, and a
    painted map's have none to render (as OASIS's "don't care" label). Computed in float32.
    """
    counts = torch.bincount(classes.reshape(-1), minlength=logits.shape[1]).to(torch.float32)
    counts[0] = 0.0
    inverse = torch.where(counts > 0, 1.0 / counts.clamp(min=1.0), torch.zeros_like(counts))
    weights = inverse[classes]  # (N, H, W)
    target = torch.zeros_like(classes) if fake else classes
    per_pixel = torch.nn.functional.cross_entropy(logits.float(), target, reduction="none")
    # Nothing labelled in the batch: 0 / tiny = 0, no signal (and no device sync to test for it).
    return (per_pixel * weights).sum() / weights.sum().clamp(min=1e-12)


def labelmix_loss(mixed: torch.Tensor, real: torch.Tensor, fake: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """OASIS's LabelMix consistency: D's logits on a photo mixed from real (mask 1) and fake
    (mask 0) regions should be the same mix of its logits on the real and on the fake photo.
    All (N, C, H, W) logits; mask (N, 1, H, W) of 0/1."""
    return torch.nn.functional.mse_loss(mixed.float(), (mask * real.float() + (1.0 - mask) * fake.float()))
