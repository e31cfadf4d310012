"""Weight initialisation of the pix2pix reference, shared by every network here (a leaf module:
the networks import it, and core.models re-exports it)."""

from __future__ import annotations

from torch import nn


def init_weights(net: nn.Module, gain: float = 0.02) -> None:
    """pix2pix init: conv weights N(0, 0.02), biases 0; norm weights N(1, 0.02), biases 0.
    Uses the global torch RNG, so a seeded run initialises identically."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)
