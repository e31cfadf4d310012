"""Run plain Python functions off the GUI thread and get the result back on it.

`BackgroundTasks.run(fn, on_done, on_error)` runs `fn()` on a small private QThreadPool. The
result (or the exception) comes back through a signal of a QObject that lives in the GUI thread,
so the callbacks always run on the GUI thread (queued connection), never on the pool thread.
Used for file reads and writes that could take a noticeable time (large label maps).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


class _Relay(QObject):
    """Carries one task's outcome from the pool thread to the GUI thread."""

    succeeded = Signal(object)
    errored = Signal(object)

    def __init__(self, on_done: Callable[[Any], None], on_error: Callable[[BaseException], None],
                 forget: Callable[["_Relay"], None]) -> None:
        super().__init__()
        self._on_done = on_done
        self._on_error = on_error
        self._forget = forget
        self.succeeded.connect(self._on_task_succeeded)
        self.errored.connect(self._on_task_errored)

    @Slot(object)
    def _on_task_succeeded(self, result: Any) -> None:
        self._forget(self)
        self._on_done(result)

    @Slot(object)
    def _on_task_errored(self, exc: BaseException) -> None:
        self._forget(self)
        self._on_error(exc)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    def run(self) -> None:  # runs on a pool thread
        try:
            result = self._fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread's on_error
            self._relay.errored.emit(exc)
        else:
            self._relay.succeeded.emit(result)


class BackgroundTasks(QObject):
    """A private pool (so closing the window can wait for exactly our tasks)."""

    def __init__(self, parent: QObject | None = None, max_threads: int = 1) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._relays: set[_Relay] = set()  # keep relays alive until their task reported

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None],
            on_error: Callable[[BaseException], None]) -> None:
        relay = _Relay(on_done, on_error, self._relays.discard)
        self._relays.add(relay)
        self._pool.start(_Task(fn, relay))

    @property
    def busy(self) -> bool:
        return bool(self._relays)

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until every started task finished (used on close)."""
        return self._pool.waitForDone(timeout_ms)
