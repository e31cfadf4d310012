"""The training worker: runs the engine's event generator on its own QThread and forwards every
event to the GUI thread as a Qt signal.

The GUI thread never runs torch: the generator (models, data loading, checkpoint writes) and the
CUDA memory query all happen here. Pause / resume / stop go through core's thread-safe
TrainingControl, which the loop checks between steps. Errors become `failed(str)` with a message
fit for the UI (never a traceback).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDeadlineTimer, QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QImage

from core.config import RunConfig
from core.errors import UserError
from core.train.control import TrainingControl
from core.train.events import CanvasPreview, Event, Failed, Sample, Started, Step
from desktop.qimage import rgb_to_qimage

TrainFn = Callable[..., Iterator[Event]]


def _engine_train(*args: Any, **kwargs: Any) -> Iterator[Event]:
    # Imported lazily: torch loads in the worker thread on first use, not at app start.
    from core.train.loop import train

    return train(*args, **kwargs)


def _match_intra_op_threads() -> None:
    """Give this thread the same intra-op parallelism as the main thread (the CLI's).

    OpenMP keeps its thread count per calling thread: torch.set_num_threads() in the main
    thread does not reach a thread started later, which then runs with OpenMP's own default.
    Setting the global value again from here makes the panel train exactly like the CLI."""
    import torch

    torch.set_num_threads(torch.get_num_threads())


# How much lower than the app's other threads the training thread runs (Linux nice levels). A run
# in the panel shares the CPU with the GUI thread and the live preview; when they compete, the
# person painting must win: at nice +10 the training thread gets about a tenth of a core the
# GUI thread wants, and all of the CPU nobody else wants, so an idle app trains at full speed.
TRAINING_NICE_OFFSET = 10


def lower_own_priority() -> int | None:
    """Lower the calling thread's CPU priority below the app's (Linux: the thread's nice value,
    TRAINING_NICE_OFFSET above the process's; threads it starts later, such as its OpenMP team,
    inherit it). Idempotent. Returns the thread's nice value, or None where threads have no nice
    value of their own (macOS, Windows: there QThread's LowPriority does the job)."""
    if not sys.platform.startswith("linux"):
        return None
    tid = threading.get_native_id()
    try:
        wanted = min(19, os.getpriority(os.PRIO_PROCESS, os.getpid()) + TRAINING_NICE_OFFSET)
        if os.getpriority(os.PRIO_PROCESS, tid) < wanted:
            os.setpriority(os.PRIO_PROCESS, tid, wanted)
        return os.getpriority(os.PRIO_PROCESS, tid)
    except OSError:  # a sandbox that forbids it: train at normal priority
        return None


class TrainingWorker(QObject):
    """Iterates `train(cfg, run_dir, control, sources=..., resume=...)`; lives on a QThread."""

    event_emitted = Signal(object)  # every core.train.events event, in order
    # (kind "sample" | "canvas_preview", step, QImage): the event's picture, converted (and
    # shrunk to at most MAX_IMAGE_SIDE) here, so a full-size canvas preview costs the GUI
    # thread nothing but drawing a small pixmap. QImage, unlike QPixmap, is thread-safe.
    image_ready = Signal(str, int, QImage)
    gpu_memory_measured = Signal(object)  # int bytes (object: a Qt int is 32-bit, GPUs hold more)
    failed = Signal(str)  # a Failed event or an exception, as one line for the user
    done = Signal()  # the generator has ended, whatever the reason

    # How often (in steps) to query CUDA memory; the query is cheap but not free.
    MEMORY_EVERY = 20
    MAX_IMAGE_SIDE = 1024

    def __init__(self, cfg: RunConfig, run_dir: Path, control: TrainingControl, *, resume: bool,
                 sources: Any = None, train_fn: TrainFn | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.run_dir = run_dir
        self.control = control
        self.resume = resume
        self.sources = sources
        self.train_fn = train_fn or _engine_train
        self._cuda = False

    @Slot()
    def run(self) -> None:
        try:
            # Before torch's first parallel op in this thread: its OpenMP team inherits the priority.
            lower_own_priority()
            _match_intra_op_threads()
            kwargs: dict[str, Any] = {"resume": self.resume}
            if self.sources is not None:
                kwargs["sources"] = self.sources
            for event in self.train_fn(self.cfg, self.run_dir, self.control, **kwargs):
                if isinstance(event, (Sample, CanvasPreview)):
                    self.image_ready.emit(event.kind, event.step, self._to_qimage(event.image))
                self.event_emitted.emit(event)
                if isinstance(event, Started):
                    self._cuda = event.device.startswith("cuda")
                elif isinstance(event, Step) and self._cuda and event.step % self.MEMORY_EVERY == 0:
                    self._emit_gpu_memory()
                elif isinstance(event, Failed):
                    self.failed.emit(event.message)
        except UserError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - the worker must never die silently
            self.failed.emit(f"Training stopped by an internal error: {type(exc).__name__}: {exc}")
        finally:
            self.done.emit()

    def _to_qimage(self, rgb: Any) -> QImage:
        image = rgb_to_qimage(rgb)
        side = self.MAX_IMAGE_SIDE
        if image.width() > side or image.height() > side:
            image = image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        return image

    def _emit_gpu_memory(self) -> None:
        try:
            import torch

            self.gpu_memory_measured.emit(int(torch.cuda.max_memory_allocated()))
        except Exception:  # noqa: BLE001 - memory display is best effort
            self._cuda = False


class TrainingSession(QObject):
    """Owns one run: the control, the worker and its thread. Create one per run."""

    event_emitted = Signal(object)
    image_ready = Signal(str, int, QImage)
    gpu_memory_measured = Signal(object)
    failed = Signal(str)
    ended = Signal()  # the worker thread has finished

    def __init__(self, cfg: RunConfig, run_dir: Path, *, resume: bool = False, sources: Any = None,
                 train_fn: TrainFn | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cfg = cfg
        self.run_dir = Path(run_dir)
        self.resume = resume
        self.control = TrainingControl()
        self._thread = QThread()
        self._thread.setObjectName(f"training:{self.run_dir.name}")
        self._worker = TrainingWorker(cfg, self.run_dir, self.control, resume=resume, sources=sources,
                                      train_fn=train_fn)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        # Queued onto this (GUI-thread) object, then re-emitted: consumers connect to the session.
        self._worker.event_emitted.connect(self.event_emitted)
        self._worker.image_ready.connect(self.image_ready)
        self._worker.gpu_memory_measured.connect(self.gpu_memory_measured)
        self._worker.failed.connect(self.failed)
        # Direct: quit() is thread-safe, and a queued call would wait for the GUI thread, which
        # may itself be blocked in wait() during shutdown (deadlock).
        self._worker.done.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)
        self._running = False

    def start(self) -> None:
        self._running = True
        self._thread.start(QThread.Priority.LowPriority)  # Windows/macOS; Linux: lower_own_priority

    @property
    def running(self) -> bool:
        return self._running

    def pause(self) -> None:
        self.control.pause()

    def resume_run(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        """The engine saves a checkpoint, then finishes with reason "stopped"."""
        self.control.stop()

    def set_preview_labels(self, ids: Any) -> None:
        self.control.set_preview_labels(ids)

    def wait(self, msecs: int | None = None) -> bool:
        """Block until the worker thread ends (None: however long it takes). True when it ended."""
        if not self._thread.isRunning():
            return True
        if msecs is None:
            return self._thread.wait(QDeadlineTimer(QDeadlineTimer.ForeverConstant.Forever))
        return self._thread.wait(msecs)

    def _on_thread_finished(self) -> None:
        self._running = False
        self.ended.emit()
