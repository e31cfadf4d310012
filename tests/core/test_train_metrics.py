"""Validation metrics and GAN losses against values computed independently."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.train import metrics
from core.train.losses import GANLoss, l1_loss


def _ssim_numpy(x: np.ndarray, y: np.ndarray) -> float:
    """Straight from Wang et al. 2004: every valid 11×11 window, Gaussian weights (sigma 1.5),
    population statistics, mean over windows and channels. x, y: (C, H, W) float64 in [0, 1]."""
    r = np.arange(11) - 5.0
    g = np.exp(-(r**2) / (2 * 1.5**2))
    w = np.outer(g, g)
    w /= w.sum()
    c1, c2 = 0.01**2, 0.03**2
    values = []
    for c in range(x.shape[0]):
        for i in range(x.shape[1] - 10):
            for j in range(x.shape[2] - 10):
                a, b = x[c, i:i + 11, j:j + 11], y[c, i:i + 11, j:j + 11]
                ma, mb = (w * a).sum(), (w * b).sum()
                va, vb = (w * (a - ma) ** 2).sum(), (w * (b - mb) ** 2).sum()
                cov = (w * (a - ma) * (b - mb)).sum()
                values.append(((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma**2 + mb**2 + c1) * (va + vb + c2)))
    return float(np.mean(values))


def test_identical_images_give_zero_l1_capped_psnr_and_ssim_one() -> None:
    img = torch.rand(2, 3, 24, 24) * 2 - 1
    assert metrics.l1(img, img) == 0.0
    u = metrics.to_unit(img)
    assert metrics.psnr(u, u) == metrics.PSNR_CAP
    assert metrics.ssim(u, u) == pytest.approx(1.0, abs=1e-6)


def test_constant_offset_has_known_psnr_l1_and_ssim() -> None:
    a = torch.full((1, 3, 16, 16), 0.5)
    b = torch.full((1, 3, 16, 16), 0.6)
    assert metrics.psnr(a, b) == pytest.approx(20.0, abs=1e-4)  # mse 0.01 -> 20 dB
    assert metrics.l1(a * 2 - 1, b * 2 - 1) == pytest.approx(0.2, abs=1e-6)  # measured in [-1, 1] units
    c1 = 0.01**2
    expected = (2 * 0.5 * 0.6 + c1) / (0.25 + 0.36 + c1)  # flat images: only the luminance term
    assert metrics.ssim(a, b) == pytest.approx(expected, abs=1e-5)


def test_ssim_of_noisy_image_matches_reference_formula() -> None:
    rng = np.random.default_rng(3)
    clean = rng.random((3, 20, 22))
    noisy = np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1)
    ours = metrics.ssim(torch.from_numpy(noisy)[None].float(), torch.from_numpy(clean)[None].float())
    assert ours == pytest.approx(_ssim_numpy(noisy, clean), abs=1e-4)
    assert 0.0 < ours < 0.99


def test_psnr_of_gaussian_noise_matches_its_variance() -> None:
    torch.manual_seed(0)
    clean = torch.rand(1, 3, 64, 64) * 0.6 + 0.2
    noisy = clean + torch.randn_like(clean) * 0.05  # stays inside [0, 1] almost surely
    mse = float(((noisy - clean) ** 2).mean())
    assert metrics.psnr(noisy, clean) == pytest.approx(10 * math.log10(1 / mse), abs=1e-3)
    assert metrics.psnr(noisy, clean) == pytest.approx(26.0, abs=0.3)  # 20·log10(1 / 0.05)


def test_vanilla_gan_loss_is_bce_with_logits_and_lsgan_is_mse() -> None:
    pred = torch.tensor([[[[2.0, -1.0], [0.0, 3.0]]]])
    vanilla = GANLoss("vanilla")
    expected_real = float(torch.nn.functional.softplus(-pred).mean())  # -log sigmoid(x)
    expected_fake = float(torch.nn.functional.softplus(pred).mean())  # -log(1 - sigmoid(x))
    assert float(vanilla(pred, True)) == pytest.approx(expected_real, rel=1e-6)
    assert float(vanilla(pred, False)) == pytest.approx(expected_fake, rel=1e-6)
    lsgan = GANLoss("lsgan")
    assert float(lsgan(pred, True)) == pytest.approx(float(((pred - 1) ** 2).mean()), rel=1e-6)
    assert float(lsgan(pred, False)) == pytest.approx(float((pred**2).mean()), rel=1e-6)
    with pytest.raises(ValueError):
        GANLoss("wgan")  # type: ignore[arg-type]  # deliberately invalid


def test_l1_loss_is_mean_absolute_error() -> None:
    a, b = torch.zeros(1, 3, 4, 4), torch.full((1, 3, 4, 4), -0.5)
    assert float(l1_loss(a, b)) == pytest.approx(0.5)
