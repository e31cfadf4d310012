"""Segment a photo off the GUI thread: File ▸ Open photo… and a photo dropped as a label map.

`PhotoOpener.open(path)` hands the path to a worker on its own QThread, which reads the photo
(core.photo_labels.segment.load_photo: EXIF orientation, greyscale/CMYK/16-bit, huge photos scaled down),
loads the bundled 19-class segmenter once (kept for later photos), segments the photo and hashes
the file. Each of these stages is reported (`progressed`), and a cancel takes effect at the next
stage boundary; a newer `open` cancels the one under way (latest wins). The GUI thread does no
torch and no photo reads: it only receives the finished PhotoSource.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from typing import TYPE_CHECKING

from core.render import provenance
from core.errors import UserError
from core.io.imageio import MAX_LABEL_MAP_SIDE
from desktop.photo.photo_layer import PhotoSource

if TYPE_CHECKING:
    from core.photo_labels.segment import PhotoSegmenter

#: The bundled 19-class segmenter (core.photo_labels.segment.DEFAULT_SEGMENTER; core.photo_labels.segment imports torch,
#: which the window must not wait for at start-up, so it is imported in the worker).
DEFAULT_SEGMENTER = "city19"

#: The stages a photo goes through, as the progress bar names them.
STAGES = ("Reading the photo", "Loading the segmenter", "Segmenting", "Hashing the file")


class _CancelledError(Exception):
    pass


class _SegmentWorker(QObject):
    """Lives on the opener's thread; `run` is called there through a queued signal."""

    progressed = Signal(int, int, int, str)  # job, stages done, stages in all, stage now
    succeeded = Signal(int, object)  # job, PhotoSource
    failed = Signal(int, str)  # job, message naming the file
    cancelled = Signal(int)  # job

    def __init__(self, segmenter: str | Path | None) -> None:
        super().__init__()
        self._segmenter_name = segmenter
        self._segmenter: PhotoSegmenter | None = None
        # Jobs up to this number are cancelled. Written by the GUI thread, read here between
        # stages; an int store/load is atomic in CPython, so no lock is needed.
        self.cancelled_up_to = 0

    @Slot(int, str)
    def run(self, job: int, path: str) -> None:
        try:
            self.succeeded.emit(job, self._segment(job, Path(path)))
        except _CancelledError:
            self.cancelled.emit(job)
        except UserError as exc:  # BadFileError / CheckpointError: already names the file
            self.failed.emit(job, str(exc))
        except MemoryError:
            self.failed.emit(job, f"{path}: too large to segment in the memory available")
        except Exception as exc:  # noqa: BLE001 - the worker must report, never die
            self.failed.emit(job, f"{path}: could not be segmented ({type(exc).__name__}: {exc})")

    def _stage(self, job: int, index: int) -> None:
        if job <= self.cancelled_up_to:
            raise _CancelledError
        self.progressed.emit(job, index, len(STAGES), STAGES[index])

    def _segment(self, job: int, path: Path) -> PhotoSource:
        from core.photo_labels.segment import MAX_PHOTO_SIDE, PhotoSegmenter, load_photo  # torch, in this thread

        self._stage(job, 0)
        rgb, size, notes, _unchanged = load_photo(path, min(MAX_PHOTO_SIDE, MAX_LABEL_MAP_SIDE))
        self._stage(job, 1)
        if self._segmenter is None:
            self._segmenter = PhotoSegmenter(self._segmenter_name)
        segmenter = self._segmenter
        self._stage(job, 2)
        ids = segmenter.segment_rgb(rgb)
        self._stage(job, 3)
        sha = provenance.file_sha256(path)
        if job <= self.cancelled_up_to:
            raise _CancelledError
        seg_path = segmenter.segmenter.path
        return PhotoSource(path=path, sha256=sha, rgb=rgb, original_ids=ids, source_size=size, notes=notes,
                           segmenter=seg_path.name if seg_path else str(self._segmenter_name),
                           segmenter_sha256=segmenter.sha256)


class PhotoOpener(QObject):
    """Segments photos on one worker thread; every signal arrives on the GUI thread.

    Signals:
      started(str)               a photo (path) is being segmented
      progressed(int, int, str)  stages done, stages in all, the stage running now
      opened(object)             the PhotoSource of the latest photo asked for
      failed(str)                why the photo could not be used (names the file), never a traceback
      cancelled(str)             the photo (path) was cancelled; nothing changes
    """

    started = Signal(str)
    progressed = Signal(int, int, str)
    opened = Signal(object)
    failed = Signal(str)
    cancelled = Signal(str)
    _request = Signal(int, str)

    def __init__(self, segmenter: str | Path | None = DEFAULT_SEGMENTER, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("photo-segmenter")
        self._worker = _SegmentWorker(segmenter)
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.run)
        self._worker.progressed.connect(self._on_worker_progressed)
        self._worker.succeeded.connect(self._on_worker_succeeded)
        self._worker.failed.connect(self._on_worker_failed)
        self._worker.cancelled.connect(self._on_worker_cancelled)
        self._job = 0
        self._paths: dict[int, str] = {}  # jobs sent and not yet reported
        self._stopped = False

    @property
    def busy(self) -> bool:
        """A photo is being segmented (and not cancelled)."""
        return self._job in self._paths and self._job > self._worker.cancelled_up_to

    def open(self, path: str | Path) -> None:
        """Segment `path`; a photo still under way is cancelled (its result is dropped)."""
        if self._stopped:
            return
        if not self._thread.isRunning():
            self._thread.start()
        self.cancel()
        self._job += 1
        self._paths[self._job] = str(path)
        self.started.emit(str(path))
        self._request.emit(self._job, str(path))

    def cancel(self) -> None:
        """Drop the photo under way: its result, if it still comes, is ignored."""
        if self._job in self._paths and self._job > self._worker.cancelled_up_to:
            self._worker.cancelled_up_to = self._job
            self.cancelled.emit(self._paths[self._job])

    def stop(self) -> None:
        """Cancel, end the thread and join it (window closing). A segmentation running now
        finishes first (torch cannot be interrupted mid-call); its result is dropped."""
        self._stopped = True
        self._worker.cancelled_up_to = self._job
        self._thread.quit()
        self._thread.wait()

    def _current(self, job: int) -> bool:
        return job == self._job and job > self._worker.cancelled_up_to

    def _on_worker_progressed(self, job: int, done: int, total: int, stage: str) -> None:
        if self._current(job):
            self.progressed.emit(done, total, stage)

    def _on_worker_succeeded(self, job: int, source: PhotoSource) -> None:
        current = self._current(job)
        self._paths.pop(job, None)
        if current:
            self.opened.emit(source)

    def _on_worker_failed(self, job: int, message: str) -> None:
        current = self._current(job)
        self._paths.pop(job, None)
        if current:
            self.failed.emit(message)

    def _on_worker_cancelled(self, job: int) -> None:
        self._paths.pop(job, None)  # `cancelled` was already said when cancel() was called
