"""One-shot background jobs: run a plain function off the GUI thread, get its outcome on it.

`TaskRunner.submit(fn, on_success, on_failure)` runs `fn()` on the runner's private QThreadPool
(private, so closing a window waits for exactly its own jobs). The job's id comes back as a queued
signal of the runner and its outcome is read there, so the callbacks always run on the GUI
thread, never on the pool thread. The GUI thread never does
dataset, run-folder or label-map file I/O itself.

- **Latest wins per key:** jobs submitted with the same `key` make older ones stale: only the
  newest one's outcome is delivered (a second dataset check started before the first ends wins).
  `cancel(key)` drops the pending outcome. Jobs without a key are always delivered.
- **Order:** with the default single thread, jobs run one after another in submission order
  (a save submitted after an open runs after it).
- **Errors** arrive at `on_failure` as the exception; `error_message` turns one into the line the
  UI shows (a `core.errors.UserError`'s own message, otherwise "type: message"), never a traceback.
- **Progress:** with `on_progress`, the job is called as `fn(progress)`; `progress(done, total)`
  may be called from the job and arrives at `on_progress` on the GUI thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThreadPool, Signal

from core.errors import UserError


def error_message(exc: BaseException) -> str:
    """The one line the UI shows for a failed job."""
    return str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"


@dataclass
class _Pending:
    """A submitted job until its outcome is delivered."""

    key: str | None
    on_success: Callable[[Any], None]
    on_failure: Callable[[BaseException], None]
    on_progress: Callable[[int, int], None] | None
    outcome: tuple[bool, Any] | None = None  # (succeeded, result or exception), set on the pool thread


class TaskRunner(QObject):
    """Starts jobs on a private pool and delivers their outcomes on the GUI thread."""

    # Emitted from pool threads; the runner lives on the GUI thread, so Qt queues the slots there.
    # Only ints cross threads (the outcome waits in `_live`), and the pool runs plain Python
    # callables: no Qt object is ever created or destroyed on a pool thread. (The earlier design, a
    # Python QRunnable owning a signals QObject, let the last reference to both drop on whichever
    # thread finished last, and once segfaulted the GUI thread under a fully loaded machine.)
    _finished = Signal(int)  # task id
    _progressed = Signal(int, int, int)  # (task id, done, total)

    def __init__(self, parent: QObject | None = None, max_threads: int = 1) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._next_id = 0
        self._live: dict[int, _Pending] = {}
        self._latest: dict[str, int] = {}  # key -> id of the newest job with it
        self._finished.connect(self._on_task_finished)
        self._progressed.connect(self._on_task_progressed)

    def submit(self, fn: Callable[..., Any], on_success: Callable[[Any], None],
               on_failure: Callable[[BaseException], None], *, key: str | None = None,
               on_progress: Callable[[int, int], None] | None = None) -> None:
        """Run `fn()` (or `fn(progress)` with `on_progress`) on the pool; see the module doc."""
        self._next_id += 1
        task_id = self._next_id
        pending = _Pending(key, on_success, on_failure, on_progress)
        self._live[task_id] = pending
        if key is not None:
            self._latest[key] = task_id
        finished, progressed = self._finished, self._progressed

        def run() -> None:  # on a pool thread
            try:
                if on_progress is not None:
                    result = fn(lambda done, total: _emit_quietly(progressed, task_id, done, total))
                else:
                    result = fn()
            except BaseException as exc:  # noqa: BLE001 - every outcome reaches on_failure, so `busy` always clears
                pending.outcome = (False, exc)
            else:
                pending.outcome = (True, result)
            _emit_quietly(finished, task_id)  # nothing when the runner was deleted meanwhile

        self._pool.start(run)

    def cancel(self, key: str) -> None:
        """Forget the pending outcome of `key`'s job (the job itself finishes in the background)."""
        self._latest.pop(key, None)

    @property
    def busy(self) -> bool:
        """Some job's outcome has not been delivered yet."""
        return bool(self._live)

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until every started job finished (used on close)."""
        return self._pool.waitForDone(timeout_ms)

    def _current(self, task_id: int, pending: _Pending) -> bool:
        return pending.key is None or self._latest.get(pending.key) == task_id

    def _on_task_progressed(self, task_id: int, done: int, total: int) -> None:
        pending = self._live.get(task_id)
        if pending is not None and pending.on_progress is not None and self._current(task_id, pending):
            pending.on_progress(done, total)

    def _on_task_finished(self, task_id: int) -> None:
        pending = self._live.pop(task_id, None)
        if pending is None or pending.outcome is None or not self._current(task_id, pending):
            return
        succeeded, value = pending.outcome
        callback = pending.on_success if succeeded else pending.on_failure
        if _receiver_alive(callback):
            callback(value)


def _emit_quietly(signal: Any, *args: int) -> None:
    """Emit from a pool thread; nothing when the runner is gone."""
    with contextlib.suppress(RuntimeError):
        signal.emit(*args)


def _receiver_alive(callback: Callable[..., Any]) -> bool:
    """False for a bound method of a Qt object whose C++ side is gone (a widget closed while its
    job ran): calling into it would touch freed memory."""
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)
