"""Event consumers that write the run folder's logs: metrics.jsonl, sample PNGs, TensorBoard.

The loop feeds every event to these (rank 0 only) before yielding it, so by the time the GUI or
the CLI sees an event its files exist. They never change what the loop does, with one exception
(`deliver`): when the run folder stops taking files, the run stops with a Failed event instead of
a traceback, and a disk-full log or sample write is reported as a warning while training goes on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from core.io.atomic import DISK_FULL_ERRNOS, atomic_path, describe_write_error
from core.train.events import (CanvasPreview, CheckpointSaved, Event, Failed, Finished, Sample, Step, Validation,
                               Warning_, event_to_dict)
from core.train.run_files import RunFolderFault, RunFolderGuard

log = logging.getLogger(__name__)


class EventSink(Protocol):
    def handle(self, event: Event) -> None: ...

    def close(self) -> None: ...


class JsonlSink:
    """metrics.jsonl: one JSON object per event and line (images never), flushed per line, with
    a wall-clock `time`. A line cut off by a kill is dropped when the file is reopened, so the file
    always parses line by line. After a resume, steps after the resumed checkpoint that an earlier
    (killed) process had logged appear again; readers take the last occurrence of a step."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        _drop_partial_last_line(path)
        # A raw descriptor, one os.write per line: a write that fails (disk full) is cut back to
        # the last whole line, so the file never holds a torn line followed by more events.
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)

    def writes(self, event: Event) -> bool:
        return not isinstance(event, CanvasPreview)

    def handle(self, event: Event) -> None:
        if isinstance(event, CanvasPreview) or self._fd is None:
            return  # nothing but an image: not a metric
        record: dict[str, Any] = {"time": round(time.time(), 3), **event_to_dict(event)}
        data = (json.dumps(_finite(record), allow_nan=False) + "\n").encode("utf-8")
        size = os.fstat(self._fd).st_size
        try:
            written = os.write(self._fd, data)
            if written != len(data):  # a short write: the disk filled up mid-line
                raise OSError(28, os.strerror(28))
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, size)
            raise

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _finite(value: Any) -> Any:
    """NaN/inf floats become null: metrics.jsonl stays strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _drop_partial_last_line(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    with atomic_path(path) as tmp:
        tmp.write_bytes(data[: data.rfind(b"\n") + 1])


class SampleImageSink:
    """Writes each Sample event's grid to its `path` as PNG (atomically)."""

    def writes(self, event: Event) -> bool:
        return isinstance(event, Sample)

    def handle(self, event: Event) -> None:
        if isinstance(event, Sample):
            path = Path(event.path)
            with atomic_path(path) as tmp:
                Image.fromarray(event.image).save(tmp, format="PNG")

    def close(self) -> None:
        pass


class TensorBoardSink:
    """Scalars for TensorBoard (losses, lr, throughput, validation metrics)."""

    def __init__(self, log_dir: Path, purge_step: int | None = None) -> None:
        from torch.utils.tensorboard import SummaryWriter  # needs the optional `tensorboard` package

        # purge_step drops what a killed earlier process logged after the resumed checkpoint.
        self._writer: Any = SummaryWriter(log_dir=str(log_dir), purge_step=purge_step)
        self._io_error: OSError | None = None
        self._catch_writer_thread_errors()

    def _catch_writer_thread_errors(self) -> None:
        """TensorBoard writes from a thread of its own; a write error there (disk full, read-only
        folder) kills that thread with a traceback on stderr and comes back at some later call.
        Its record writer's file calls are wrapped so the error is kept instead and raised in
        handle(), on the training thread, where core.train.sinks.deliver deals with it."""
        try:
            record_writer = self._writer._get_file_writer().event_writer._async_writer._writer  # noqa: SLF001
        except AttributeError:
            return  # another tensorboard version: its own error handling stays

        for name in ("write", "flush", "close"):
            original = getattr(record_writer, name, None)
            if original is None:
                continue

            def guarded(*args: Any, _original: Any = original) -> Any:
                try:
                    return _original(*args)
                except OSError as exc:
                    self._io_error = self._io_error or exc
                    return None

            setattr(record_writer, name, guarded)

    def writes(self, event: Event) -> bool:
        return isinstance(event, (Step, Validation, CheckpointSaved, Finished, Failed))

    @staticmethod
    def available() -> bool:
        try:
            import tensorboard  # noqa: F401
        except ImportError:
            return False
        return True

    def handle(self, event: Event) -> None:
        w = self._writer
        if w is None:
            return
        if self._io_error is not None:
            error, self._io_error = self._io_error, None
            raise error
        if isinstance(event, Step):
            for name, value in event.losses.items():
                w.add_scalar(f"loss/{name}", value, event.step)
            w.add_scalar("train/lr", event.lr, event.step)
            w.add_scalar("train/samples_per_s", event.samples_per_s, event.step)
        elif isinstance(event, Validation):
            w.add_scalar("val/l1", event.l1, event.step)
            w.add_scalar("val/psnr", event.psnr, event.step)
            w.add_scalar("val/ssim", event.ssim, event.step)
        elif isinstance(event, (CheckpointSaved, Finished, Failed)):
            w.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


# What each sink writes, for messages.
_SINK_FILES = {"JsonlSink": "metrics.jsonl", "SampleImageSink": "sample images", "TensorBoardSink": "TensorBoard logs"}


def deliver(events: Iterator[Event], sinks: list[EventSink], guard: RunFolderGuard | None,
            last_checkpoint: Callable[[], str | None]) -> Iterator[Event]:
    """Feed each event to the sinks, then yield it; this is how the loop writes its logs.

    - The run folder deleted or moved away (`guard`), or a sink's write refused because the folder
      is read-only: the run stops at once with a Failed event (its own stream is closed), so it
      never trains on for hours writing nothing.
    - A sink's write failing for want of space: a Warning_ (once, until that sink writes again)
      and training goes on without that file; a checkpoint that cannot be written stops the run
      (core.train.run_files)."""
    failing: set[str] = set()
    step = 0
    for event in events:
        step = getattr(event, "step", step)
        warnings: list[Warning_] = []
        try:
            if guard is not None and not isinstance(event, (Finished, Failed)):
                guard.check()
            for sink in sinks:
                name = type(sink).__name__
                try:
                    sink.handle(event)
                except OSError as exc:
                    what = _SINK_FILES.get(name, name)
                    if exc.errno not in DISK_FULL_ERRNOS:
                        where = guard.paths.root if guard else "the run folder"
                        raise RunFolderFault(f"could not write {what} in {where} ({describe_write_error(exc)}); "
                                             "the run stopped. The files written before are intact") from None
                    if name not in failing:
                        failing.add(name)
                        warnings.append(Warning_(step=step, message=f"could not write {what} (disk full); training "
                                                 "goes on without them until there is space again"))
                else:
                    if getattr(sink, "writes", lambda _e: True)(event):
                        failing.discard(name)  # it wrote again: warn again should it fail later
        except RunFolderFault as exc:
            close = getattr(events, "close", None)
            if close is not None:
                close()  # ends the loop's stream here: no further step
            failed = Failed(step=step, message=str(exc), last_checkpoint=last_checkpoint())
            _best_effort(sinks, failed)
            yield failed
            return
        if isinstance(event, (Finished, Failed)):
            yield from warnings
            yield event
        else:
            yield event
            yield from warnings


def _best_effort(sinks: list[EventSink], event: Event) -> None:
    """Log `event` where still possible (a read-only folder may refuse it)."""
    for sink in sinks:
        with contextlib.suppress(OSError):
            sink.handle(event)


def close_all(sinks: list[EventSink]) -> None:
    for sink in sinks:
        try:
            sink.close()
        except Exception:  # closing a log must not hide the run's own outcome (logged, not raised)
            log.exception("closing %s failed", type(sink).__name__)
