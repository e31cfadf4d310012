"""Dataset sources, joint transforms, loaders and the dataset check."""

from core.data.base import InMemoryPairs, Pair, PairSource, SubsetSource

__all__ = ["InMemoryPairs", "Pair", "PairSource", "SubsetSource"]
