"""Training on several sources at once: concatenation, repetition and exclusion of pairs.

Used by core.data.registry for DataConfig.extra_paths / extra_repeat / exclude: e.g. the default
model trains on 260 synthetic scenes per epoch plus 7 real Cityscapes frames repeated 20 times
each (every repeat gets its own random multi-scale crop, since augmentation depends on the index).
"""

from __future__ import annotations

import bisect
import fnmatch
from collections import OrderedDict
from collections.abc import Sequence

from core.data.base import Pair, PairSource, SubsetSource

#: Decoded pairs a RepeatSource keeps: a repeated source is small (a few real frames), and decoding
#: a 1024×2048 PNG pair costs ~100 ms, far more than the training step's data budget.
REPEAT_CACHE_PAIRS = 16


class ConcatSource:
    """The pairs of several sources one after another."""

    def __init__(self, sources: Sequence[PairSource], name: str | None = None) -> None:
        self.sources = [s for s in sources if len(s) > 0]
        self.name = name or " + ".join(s.name for s in sources)
        self._ends: list[int] = []
        total = 0
        for source in self.sources:
            total += len(source)
            self._ends.append(total)

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def _locate(self, index: int) -> tuple[PairSource, int]:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index %= len(self)
        which = bisect.bisect_right(self._ends, index)
        start = self._ends[which - 1] if which else 0
        return self.sources[which], index - start

    def __getitem__(self, index: int) -> Pair:
        source, local = self._locate(index)
        return source[local]

    def describe(self, index: int) -> str:
        source, local = self._locate(index)
        return source.describe(local)


class RepeatSource:
    """Each pair of `source` `repeat` times (index i is pair i % len(source)), with the last
    decoded pairs cached in memory (see REPEAT_CACHE_PAIRS)."""

    def __init__(self, source: PairSource, repeat: int) -> None:
        if repeat <= 0:
            raise ValueError("repeat must be positive")
        self.source = source
        self.repeat = int(repeat)
        self.name = source.name if repeat == 1 else f"{source.name} ×{repeat}"
        self._cache: OrderedDict[int, Pair] = OrderedDict()

    def __len__(self) -> int:
        return len(self.source) * self.repeat

    def _base(self, index: int) -> int:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return index % len(self.source)

    def __getitem__(self, index: int) -> Pair:
        base = self._base(index)
        if base in self._cache:
            self._cache.move_to_end(base)
            return self._cache[base]
        pair = self.source[base]  # a BadFileError propagates uncached, so it is reported again
        self._cache[base] = pair
        if len(self._cache) > REPEAT_CACHE_PAIRS:
            self._cache.popitem(last=False)
        return pair

    def describe(self, index: int) -> str:
        return self.source.describe(self._base(index))


def exclude_pairs(source: PairSource, patterns: Sequence[str]) -> tuple[PairSource, list[str]]:
    """`source` without the pairs whose description matches one of the fnmatch `patterns`, and the
    descriptions left out. Descriptions only (no decoding), so this is cheap."""
    if not patterns:
        return source, []
    keep: list[int] = []
    dropped: list[str] = []
    for index in range(len(source)):
        text = source.describe(index)
        if any(fnmatch.fnmatchcase(text, p) for p in patterns):
            dropped.append(text)
        else:
            keep.append(index)
    if not dropped:
        return source, []
    return SubsetSource(source, keep, name=source.name), dropped
