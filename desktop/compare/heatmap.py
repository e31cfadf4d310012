"""Colour maps for the compare views, in numpy (no Qt): the |A − B| difference heat map and the
discriminator's critic map. Lookup tables, so a 256×512 map costs about a millisecond."""

from __future__ import annotations

import numpy as np

# Control points of a perceptually ordered dark-to-bright map (black, purple, red, orange, pale
# yellow), interpolated to 256 entries: small differences stay dark, large ones glow.
_HEAT_POINTS = np.array([[0, 0, 4], [60, 15, 110], [150, 38, 100], [225, 80, 45], [250, 160, 20],
                         [252, 255, 164]], dtype=np.float64)
# Critic map: red (the discriminator calls the patch fake) through neutral grey-yellow to green (real).
_CRITIC_POINTS = np.array([[215, 40, 40], [240, 140, 50], [235, 225, 120], [120, 200, 90], [30, 150, 70]],
                           dtype=np.float64)


def _lut(points: np.ndarray) -> np.ndarray:
    x = np.linspace(0.0, 1.0, len(points))
    t = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(t, x, points[:, c]) for c in range(3)], axis=1).round().astype(np.uint8)


HEAT_LUT = _lut(_HEAT_POINTS)  # (256, 3)
CRITIC_LUT = _lut(_CRITIC_POINTS)  # (256, 3); index 0 = fake, 255 = real


def abs_difference(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float]:
    """uint8 H×W×3 images -> (uint8 H×W mean absolute difference over the channels, 0..255;
    the mean over all pixels and channels)."""
    if a.shape != b.shape:
        raise ValueError(f"images differ in size: {a.shape} vs {b.shape}")
    # max - min on uint8 is |a - b| without widening the whole image to int16.
    per_channel = np.maximum(a, b) - np.minimum(a, b)
    total = per_channel.sum(axis=2, dtype=np.uint16)
    mean = float(total.sum(dtype=np.int64)) / max(1, per_channel.size)
    return (total // 3).astype(np.uint8), mean


def difference_heatmap(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int, float]:
    """(H×W×3 heat map of |A − B|, the largest difference, the mean). The map is scaled so the
    largest difference is the brightest colour (a legend shows the scale); identical images are black."""
    diff, mean = abs_difference(a, b)
    top = int(diff.max()) if diff.size else 0
    if top == 0:
        return HEAT_LUT[np.zeros_like(diff)], 0, mean
    index = np.minimum(np.arange(256, dtype=np.float32) * (255.0 / top), 255).astype(np.uint8)
    return HEAT_LUT[index[diff]], top, mean


def critic_colors(probability: np.ndarray) -> np.ndarray:
    """float H×W probabilities of "real" in [0, 1] -> uint8 H×W×3 colours."""
    index = np.clip(np.rint(probability * 255.0), 0, 255).astype(np.uint8)
    return CRITIC_LUT[index]
