"""Keeps one unreadable file from ending a training run.

A pair whose file cannot be read (core.errors.BadFileError, raised by the source and naming the
file) is replaced by the next readable pair of the source — deterministically, so data order and
resume stay exact — and its message reaches the loop, which emits one Warning_ per bad file.
With DataLoader worker processes the messages travel through a multiprocessing queue.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues

from core.data.base import Pair, PairSource
from core.errors import BadFileError, UserError


class GuardedSource:
    def __init__(self, source: PairSource, *, worker_processes: bool) -> None:
        self.source = source
        self.name = source.name
        self._queue: multiprocessing.queues.SimpleQueue[str] | None = (
            multiprocessing.SimpleQueue() if worker_processes else None)
        self._local: list[str] = []

    def __len__(self) -> int:
        return len(self.source)

    def describe(self, index: int) -> str:
        return self.source.describe(index)

    def __getitem__(self, index: int) -> Pair:
        try:
            return self.source[index]
        except BadFileError as exc:
            first_error = exc
            self._report(str(exc))
        n = len(self.source)
        for offset in range(1, n):
            try:
                return self.source[(index + offset) % n]
            except BadFileError as exc:
                self._report(str(exc))
        raise UserError(f"no pair of {self.name} can be read (first problem: {first_error})")

    def _report(self, message: str) -> None:
        if self._queue is not None:
            self._queue.put(message)
        else:
            self._local.append(message)

    def drain(self) -> list[str]:
        """Messages reported since the last call (main process)."""
        out, self._local = self._local, []
        if self._queue is not None:
            while not self._queue.empty():
                out.append(self._queue.get())
        return out
