"""The commands' progress bars: a core (done, total) callback drawn as a tqdm bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def bar_callback(bar: Any) -> Callable[[int, int], None]:
    """A `progress(done, total)` callback that moves the tqdm `bar`, taking the total when it
    becomes known (work lists are counted while the work starts)."""

    def progress(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
            bar.refresh()
        bar.update(done - bar.n)

    return progress
