"""What every dataset source is: an indexable collection of (label ids, photo) pairs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

Pair = tuple[np.ndarray, np.ndarray]  # (uint8 H×W label ids, uint8 H×W×3 RGB photo), same H×W


@runtime_checkable
class PairSource(Protocol):
    """A source of pairs. `__getitem__` must be safe to call from DataLoader worker processes
    (so sources hold paths, not open file handles) and raise core.errors.BadFileError (naming the
    file) for a pair that cannot be read."""

    name: str

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Pair: ...

    def describe(self, index: int) -> str:
        """Where pair `index` comes from (a file name, "synthetic #12"), for messages."""
        ...


class InMemoryPairs:
    """Pairs held in memory (tests, tiny experiments)."""

    def __init__(self, pairs: Sequence[Pair], name: str = "in-memory") -> None:
        for labels, photo in pairs:
            if labels.dtype != np.uint8 or photo.dtype != np.uint8:
                raise ValueError("labels and photos must be uint8")
            if labels.shape != photo.shape[:2] or photo.ndim != 3 or photo.shape[2] != 3:
                raise ValueError(f"pair shapes do not match: {labels.shape} vs {photo.shape}")
        self._pairs = list(pairs)
        self.name = name

    def __len__(self) -> int:
        return len(self._pairs)

    def __getitem__(self, index: int) -> Pair:
        return self._pairs[index]

    def describe(self, index: int) -> str:
        return f"{self.name} #{index}"


class SubsetSource:
    """A view of some indices of another source (train/validation split)."""

    def __init__(self, source: PairSource, indices: Sequence[int], name: str) -> None:
        self.source = source
        self.indices = list(indices)
        self.name = name

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Pair:
        return self.source[self.indices[index]]

    def describe(self, index: int) -> str:
        return self.source.describe(self.indices[index])
