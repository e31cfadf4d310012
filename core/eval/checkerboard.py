"""Checkerboard index: how much stronger an image's spectrum is at the periods a stride-2
upsampling stack leaves (2, 4, 8, 16, 32 px) than right next to them.

Transposed convolutions with stride 2 paint a faint grid whose period doubles with every layer
(Odena et al., "Deconvolution and checkerboard artifacts", Distill 2016). In the spectrum such a
grid is a set of sharp peaks at the frequencies f = 1/p along x, along y and on the diagonals
(the "corners" (±1/p, ±1/p)). A photo's spectrum is smooth there.

Formula, for one RGB image (values in [0, 1]) and each channel c:
  1. whiten: D_x = I[y, x+1] - I[y, x], D_y = I[y+1, x] - I[y, x]. Natural images have power
     falling like 1/f²; a difference filter multiplies it by ~f², so the spectrum becomes roughly
     flat and a peak can be compared with its neighbours without a slope bias.
  2. window each difference image with a 2-D Hann window (no edge leakage: the frame's borders
     would otherwise put a cross of power on both axes) and zero-pad it to Ny × Nx, the next
     multiples of 32 (at least 256), so f = 1/p falls exactly on bin k = N/p for every p ≤ 32.
  3. P = Σ_c (|FFT(D_x)|² + |FFT(D_y)|²).
For each period p and each peak position (0, ±Nx/p), (±Ny/p, 0), (±Ny/p, ±Nx/p) (distinct bins):
  ratio = mean of P over the 3×3 peak bins / mean of P over the neighbourhood, where the
  neighbourhood excludes the peak bins and the Hann main lobe:
    * diagonal peaks: the bins at Chebyshev distance 3..5 from the peak;
    * axis peaks: the bins within ±1 of the axis at distance 3..6 along it (street scenes put
      extra power on the axes — verticals and horizontals — so axis bins are compared with axis
      bins).
The per-period value is the mean ratio over its peaks; the image's index is the mean over the
five periods; a set of images scores the mean of its images. About 1 means no excess power at the
stride periods (real photos; their value is the reference to compare with); a visible grid gives
several times that.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from core.eval.segmenter import as_tensor

PERIODS: tuple[int, ...] = (2, 4, 8, 16, 32)
PEAK_RADIUS = 1  # Chebyshev radius of the peak region (3×3 bins)
RING = (3, 5)  # Chebyshev distances of a diagonal peak's neighbourhood
AXIS_RING = (3, 6)  # distances along the axis of an axis peak's neighbourhood
MIN_FFT = 256


@dataclass(frozen=True)
class CheckerboardScore:
    index: float  # mean over PERIODS
    per_period: dict[int, float]

    def as_dict(self) -> dict[str, object]:
        return {"index": self.index, "per_period": {str(p): v for p, v in self.per_period.items()}}


def _fft_size(n: int) -> int:
    return max(MIN_FFT, -(-n // 32) * 32)


@lru_cache(maxsize=16)
def _hann2d(h: int, w: int) -> torch.Tensor:
    return torch.from_numpy(np.outer(np.hanning(h), np.hanning(w)).astype(np.float32))


def whitened_power(image: np.ndarray) -> np.ndarray:
    """P (Ny, Nx) of steps 1-3 of the module docstring, for uint8 H×W×3 / H×W or float [0, 1]."""
    img = as_tensor(np.asarray(image))
    img = img.float() / 255.0 if img.dtype == torch.uint8 else img.float()
    if img.ndim == 2:
        img = img[..., None]
    h, w = img.shape[:2]
    if h < 8 or w < 8:
        raise ValueError(f"image {w}×{h} is too small for a checkerboard index (8×8 at least)")
    img = img.permute(2, 0, 1)  # (C, H, W)
    base = img[:, :-1, :-1]
    diffs = torch.cat([img[:, :-1, 1:] - base, img[:, 1:, :-1] - base]) * _hann2d(h - 1, w - 1)
    ny, nx = _fft_size(h - 1), _fft_size(w - 1)
    # Real input: the half spectrum (rfft2, float32: ~5× faster than numpy's float64 fft2) holds
    # everything; the other half is its mirror, P[ky, kx] = P[-ky, -kx].
    half = torch.fft.rfft2(diffs, s=(ny, nx)).abs().square().sum(dim=0).double().numpy()
    power = np.empty((ny, nx))
    power[:, : half.shape[1]] = half
    kx = np.arange(half.shape[1], nx)
    power[:, half.shape[1]:] = half[(-np.arange(ny)) % ny][:, nx - kx]
    return power


@lru_cache(maxsize=32)
def _regions(ny: int, nx: int, period: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """For each distinct peak of `period`: (flat indices of the peak bins, of the neighbourhood)."""
    ky, kx = ny // period, nx // period
    peaks = {(0, kx % nx), (0, -kx % nx), (ky % ny, 0), (-ky % ny, 0)}
    peaks |= {(sy * ky % ny, sx * kx % nx) for sy in (1, -1) for sx in (1, -1)}
    out = []
    for cy, cx in sorted(peaks):
        if cy == 0 or cx == 0:  # an axis peak: along the axis only
            along, across = (np.arange(-AXIS_RING[1], AXIS_RING[1] + 1), np.arange(-PEAK_RADIUS, PEAK_RADIUS + 1))
            a, b = (v.ravel() for v in np.meshgrid(along, across, indexing="ij"))
            dy, dx = (b, a) if cy == 0 else (a, b)
            dist_along = np.abs(a)
            peak = dist_along <= PEAK_RADIUS
            ring = (dist_along >= AXIS_RING[0]) & (dist_along <= AXIS_RING[1])
        else:
            r = np.arange(-RING[1], RING[1] + 1)
            dy, dx = (v.ravel() for v in np.meshgrid(r, r, indexing="ij"))
            cheb = np.maximum(np.abs(dy), np.abs(dx))
            peak = cheb <= PEAK_RADIUS
            ring = (cheb >= RING[0]) & (cheb <= RING[1])
        flat = ((cy + dy) % ny) * nx + (cx + dx) % nx
        out.append((np.unique(flat[peak]), np.unique(flat[ring])))
    return tuple(out)


def checkerboard_score(image: np.ndarray) -> CheckerboardScore:
    """The index of one image (uint8 H×W×3 or H×W, or float in [0, 1])."""
    power = whitened_power(image)
    flat = power.ravel()
    tiny = 1e-20  # a flat image has no power anywhere: ratio 1, not 0/0
    per_period: dict[int, float] = {}
    for period in PERIODS:
        ratios = [(flat[peak].mean() + tiny) / (flat[ring].mean() + tiny)
                  for peak, ring in _regions(power.shape[0], power.shape[1], period)]
        per_period[period] = float(np.mean(ratios))
    return CheckerboardScore(index=float(np.mean(list(per_period.values()))), per_period=per_period)


class CheckerboardMean:
    """Running mean of checkerboard scores over a set of images."""

    def __init__(self) -> None:
        self.count = 0
        self._index = 0.0
        self._periods = dict.fromkeys(PERIODS, 0.0)

    def add(self, image: np.ndarray) -> CheckerboardScore:
        score = checkerboard_score(image)
        self.count += 1
        self._index += score.index
        for p, v in score.per_period.items():
            self._periods[p] += v
        return score

    def result(self) -> CheckerboardScore:
        n = max(1, self.count)
        return CheckerboardScore(index=self._index / n, per_period={p: v / n for p, v in self._periods.items()})
