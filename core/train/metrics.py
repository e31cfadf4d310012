"""Image quality metrics for validation: L1, PSNR and SSIM, in torch (any device).

Conventions (the same numbers the GUI and metrics.jsonl show):
  * L1 is the mean absolute error of images in [-1, 1] (the networks' range), so in [0, 2].
  * PSNR and SSIM are computed on images mapped to [0, 1] (data range 1).
  * PSNR is per image, averaged over the batch, and capped at PSNR_CAP dB so that identical images
    give a finite number (metrics.jsonl must stay valid JSON; `Infinity` is not).
  * SSIM (Wang et al. 2004) uses an 11×11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03,
    population statistics, and only "valid" windows (no padding); the SSIM map is averaged per
    channel, then over channels and images. This equals skimage's structural_similarity with
    gaussian_weights=True, use_sample_covariance=False, data_range=1. Images smaller than the window
    use the largest odd window that fits.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

PSNR_CAP = 100.0  # dB; the PSNR of identical images
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
_K1, _K2 = 0.01, 0.03


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1], clamped."""
    return ((images.float() + 1.0) * 0.5).clamp(0.0, 1.0)


def l1(fake: torch.Tensor, real: torch.Tensor) -> float:
    """Mean absolute error of two (N, C, H, W) batches in [-1, 1]."""
    return float((fake.float() - real.float()).abs().mean())


def psnr(fake01: torch.Tensor, real01: torch.Tensor) -> float:
    """Mean per-image PSNR in dB of (N, C, H, W) batches in [0, 1], capped at PSNR_CAP."""
    mse = (fake01.float() - real01.float()).pow(2).flatten(1).mean(dim=1)  # (N,)
    values = [PSNR_CAP if m <= 0 else min(PSNR_CAP, 10.0 * math.log10(1.0 / m)) for m in mse.tolist()]
    return sum(values) / len(values)


def _gaussian_window(size: int, sigma: float, channels: int, device: torch.device,
                     dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """The 2-D Gaussian window as its two 1-D factors (depthwise conv weights): the separable
    blur gives the same values as the (size × size) kernel at ~size/2 times less work (a float64
    11×11 depthwise conv took seconds per 256×512 image on a 2-core CPU)."""
    coords = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2.0
    g = torch.exp(-(coords**2) / (2.0 * sigma**2))
    g = g / g.sum()  # sums to 1, so outer(g, g) does too
    vertical = g.view(1, 1, size, 1).expand(channels, 1, size, 1).contiguous()
    horizontal = g.view(1, 1, 1, size).expand(channels, 1, 1, size).contiguous()
    return vertical, horizontal


def ssim(fake01: torch.Tensor, real01: torch.Tensor) -> float:
    """Mean SSIM of (N, C, H, W) batches in [0, 1]."""
    # float64 where the device has it: E[x²] - E[x]² cancels badly in float32 on flat regions.
    dtype = torch.float32 if fake01.device.type == "mps" else torch.float64
    x, y = fake01.to(dtype), real01.to(dtype)
    channels = x.shape[1]
    size = min(SSIM_WINDOW, x.shape[-2], x.shape[-1])
    if size % 2 == 0:
        size -= 1
    vertical, horizontal = _gaussian_window(size, SSIM_SIGMA, channels, x.device, dtype)

    def blur(t: torch.Tensor) -> torch.Tensor:
        # "valid": no padding
        return F.conv2d(F.conv2d(t, vertical, groups=channels), horizontal, groups=channels)

    mu_x, mu_y = blur(x), blur(y)
    sigma_xx = blur(x * x) - mu_x * mu_x
    sigma_yy = blur(y * y) - mu_y * mu_y
    sigma_xy = blur(x * y) - mu_x * mu_y
    c1, c2 = _K1**2, _K2**2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (sigma_xx + sigma_yy + c2)
    )
    return float(ssim_map.mean(dim=(-2, -1)).mean())
