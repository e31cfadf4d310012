"""Rendered images kept per (checkpoint, painting, seed), so scrubbing back and forth over a run's
checkpoints shows a step again without rendering it again. No Qt, no torch: lookups happen on
the GUI thread and must be cheap (a dict lookup)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

#: Rendered images kept (a 256×512 RGB image is 384 KB: 64 of them ≈ 25 MB).
DEFAULT_CAPACITY = 64


@dataclass(frozen=True)
class RenderKey:
    checkpoint: str  # the checkpoint's path (step files never change once written)
    labels_sha256: str  # core.render.provenance.labels_sha256 of the painting
    variation: int | None = None
    what: str = "image"  # "image", or "critic" for a discriminator map


class RenderCache:
    """A small LRU of rendered images (and critic maps)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = max(1, capacity)
        self._items: OrderedDict[RenderKey, np.ndarray] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: RenderKey) -> np.ndarray | None:
        image = self._items.get(key)
        if image is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return image

    def put(self, key: RenderKey, image: np.ndarray) -> None:
        self._items[key] = image
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def forget_checkpoint(self, checkpoint: str) -> None:
        """A file that was rewritten (last.*, best.* during training): its renders are stale."""
        for key in [k for k in self._items if k.checkpoint == checkpoint]:
            del self._items[key]

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items
