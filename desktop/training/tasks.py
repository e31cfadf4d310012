"""One-shot background jobs (dataset check, reading a run's metrics, listing runs).

superqt-style: a QRunnable owns a small signals object, so the job runs on QThreadPool and its
result comes back to the GUI thread as a queued signal. The GUI thread never does dataset or run
folder I/O itself. Errors the user can fix (core.errors.UserError) come back as their message;
anything else as "type: message" — never a traceback in the UI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core.errors import UserError


class TaskSignals(QObject):
    succeeded = Signal(int, object)  # (task id, result)
    failed = Signal(int, str)  # (task id, message)
    progressed = Signal(int, int, int)  # (task id, done, total)


class Task(QRunnable):
    def __init__(self, task_id: int, fn: Callable[..., Any], with_progress: bool = False) -> None:
        super().__init__()
        self.task_id = task_id
        self.fn = fn
        self.with_progress = with_progress
        self.signals = TaskSignals()
        # The pool must not delete the runnable (and its signals) before the queued signal is
        # delivered; the runner keeps it alive instead.
        self.setAutoDelete(False)

    def run(self) -> None:  # runs on a pool thread
        try:
            if self.with_progress:
                result = self.fn(lambda done, total: self.signals.progressed.emit(self.task_id, done, total))
            else:
                result = self.fn()
        except UserError as exc:
            self.signals.failed.emit(self.task_id, str(exc))
        except Exception as exc:  # noqa: BLE001 - shown to the user as one line
            self.signals.failed.emit(self.task_id, f"{type(exc).__name__}: {exc}")
        else:
            self.signals.succeeded.emit(self.task_id, result)


class TaskRunner(QObject):
    """Starts tasks and delivers their results on the GUI thread. A newer task with the same key
    makes older results stale (a second dataset check started before the first ends wins)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._next_id = 0
        # task id -> (task, key, on_success, on_failure); the reference keeps the task alive.
        self._live: dict[int, tuple[Task, str, Callable[[Any], None], Callable[[str], None]]] = {}
        self._progress: dict[int, Callable[[int, int], None]] = {}
        self._latest: dict[str, int] = {}

    def submit(self, key: str, fn: Callable[..., Any], on_success: Callable[[Any], None],
               on_failure: Callable[[str], None],
               on_progress: Callable[[int, int], None] | None = None) -> None:
        """Run fn() on the pool (fn(progress) when on_progress is given; progress(done, total)
        may be called from the task and arrives at on_progress on the GUI thread)."""
        self._next_id += 1
        task = Task(self._next_id, fn, with_progress=on_progress is not None)
        # Bound methods of this QObject: Qt queues the call onto the GUI thread.
        task.signals.succeeded.connect(self._on_task_succeeded)
        task.signals.failed.connect(self._on_task_failed)
        task.signals.progressed.connect(self._on_task_progressed)
        self._live[task.task_id] = (task, key, on_success, on_failure)
        self._latest[key] = task.task_id
        if on_progress is not None:
            self._progress[task.task_id] = on_progress
        self._pool.start(task)

    def cancel(self, key: str) -> None:
        """Forget pending results of `key` (the job itself finishes in the background)."""
        self._latest.pop(key, None)

    @property
    def busy(self) -> bool:
        return bool(self._live)

    def wait(self, msecs: int = 30000) -> bool:
        return self._pool.waitForDone(msecs)

    def _on_task_progressed(self, task_id: int, done: int, total: int) -> None:
        entry = self._live.get(task_id)
        callback = self._progress.get(task_id)
        if entry is not None and callback is not None and self._latest.get(entry[1]) == task_id:
            callback(done, total)

    def _on_task_succeeded(self, task_id: int, result: Any) -> None:
        self._progress.pop(task_id, None)
        entry = self._live.pop(task_id, None)
        if entry is not None and self._latest.get(entry[1]) == task_id and _receiver_alive(entry[2]):
            entry[2](result)

    def _on_task_failed(self, task_id: int, message: str) -> None:
        self._progress.pop(task_id, None)
        entry = self._live.pop(task_id, None)
        if entry is not None and self._latest.get(entry[1]) == task_id and _receiver_alive(entry[3]):
            entry[3](message)


def _receiver_alive(callback: Callable[..., Any]) -> bool:
    """False for a bound method of a Qt object whose C++ side is gone (a widget closed while its
    job ran): calling into it would touch freed memory."""
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)
