"""One-shot background jobs: run a plain function off the GUI thread, get its outcome on it.

`TaskRunner.submit(fn, on_success, on_failure)` runs `fn()` on the runner's private QThreadPool
(private, so closing a window waits for exactly its own jobs). superqt-style, each job is a
QRunnable that owns a small signals object; the job's id comes back as a queued signal and the
outcome is read from the job there, so the callbacks always run on the GUI thread, never on the
pool thread. The GUI thread never does
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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core.errors import UserError


def error_message(exc: BaseException) -> str:
    """The one line the UI shows for a failed job."""
    return str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"


class _TaskSignals(QObject):
    # Only ints cross threads: the outcome itself stays on the task (`_Task.outcome`), which the
    # runner holds until delivery. Passing Python objects through a queued `object` signal once
    # crashed the GUI thread on delivery under heavy load (a segfault entering the slot).
    finished = Signal(int)  # task id; its outcome is on the task
    progressed = Signal(int, int, int)  # (task id, done, total)


class _Task(QRunnable):
    def __init__(self, task_id: int, fn: Callable[..., Any], with_progress: bool) -> None:
        super().__init__()
        self.task_id = task_id
        self.fn = fn
        self.with_progress = with_progress
        self.signals = _TaskSignals()
        self.outcome: tuple[bool, Any] | None = None  # (succeeded, result or exception), set before `finished`
        # The pool must not delete the runnable (and its signals) before the queued signal is
        # delivered; the runner keeps it alive instead.
        self.setAutoDelete(False)

    def run(self) -> None:  # runs on a pool thread
        try:
            if self.with_progress:
                result = self.fn(lambda done, total: self.signals.progressed.emit(self.task_id, done, total))
            else:
                result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - every outcome reaches on_failure, so `busy` always clears
            self.outcome = (False, exc)
        else:
            self.outcome = (True, result)
        self.signals.finished.emit(self.task_id)


@dataclass
class _Pending:
    """A submitted job until its outcome is delivered (holding the task keeps it alive)."""

    task: _Task
    key: str | None
    on_success: Callable[[Any], None]
    on_failure: Callable[[BaseException], None]
    on_progress: Callable[[int, int], None] | None


class TaskRunner(QObject):
    """Starts jobs on a private pool and delivers their outcomes on the GUI thread."""

    def __init__(self, parent: QObject | None = None, max_threads: int = 1) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._next_id = 0
        self._live: dict[int, _Pending] = {}
        self._latest: dict[str, int] = {}  # key -> id of the newest job with it

    def submit(self, fn: Callable[..., Any], on_success: Callable[[Any], None],
               on_failure: Callable[[BaseException], None], *, key: str | None = None,
               on_progress: Callable[[int, int], None] | None = None) -> None:
        """Run `fn()` (or `fn(progress)` with `on_progress`) on the pool; see the module doc."""
        self._next_id += 1
        task = _Task(self._next_id, fn, with_progress=on_progress is not None)
        # Bound methods of this QObject (which lives on the GUI thread): Qt queues the calls there.
        task.signals.finished.connect(self._on_task_finished)
        task.signals.progressed.connect(self._on_task_progressed)
        self._live[task.task_id] = _Pending(task, key, on_success, on_failure, on_progress)
        if key is not None:
            self._latest[key] = task.task_id
        self._pool.start(task)

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
        if pending is None or pending.task.outcome is None or not self._current(task_id, pending):
            return
        succeeded, value = pending.task.outcome
        callback = pending.on_success if succeeded else pending.on_failure
        if _receiver_alive(callback):
            callback(value)


def _receiver_alive(callback: Callable[..., Any]) -> bool:
    """False for a bound method of a Qt object whose C++ side is gone (a widget closed while its
    job ran): calling into it would touch freed memory."""
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)
