"""GUI-side half of the live preview: decides *when* to ask the worker for a new image.

Rules (issue 4):
- at most one request is in flight; while it runs, new requests only mark the preview dirty
  (the pending slot never holds more than "the newest state"), so the worker never computes a
  stale map and painting fast never builds a queue;
- when the in-flight request returns and the preview is dirty, the *current* document is sent
  (so a final preview always follows the end of a stroke);
- a result older than the one already shown is dropped (latest wins);
- the ids are copied only when a request is actually sent, never per mouse move.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.preview.worker import ModelInfo, ModelSource, PreviewRequest, PreviewWorker

#: Returns (document version, live ids array); the controller copies the array itself.
DocumentSource = Callable[[], tuple[int, np.ndarray]]


@dataclass(frozen=True)
class ShownPreview:
    """How the image on screen was made: what an export records as its provenance."""

    version: int
    ids: np.ndarray  # the labels it was rendered from (the controller's private copy)
    variation: int | None
    model: ModelInfo | None
    backend: str | None


class PreviewController(QObject):
    preview_shown = Signal(int, object, float)  # version, image, latency (after stale dropping)
    labels_for_preview = Signal(object)  # ids the shown preview was computed from
    model_loading = Signal(str)
    model_stage = Signal(str)  # what the loading does now (the worker's model_stage)
    model_loaded = Signal(object)  # ModelInfo
    failed = Signal(str)
    model_failed = Signal(str)
    busy_changed = Signal(bool)

    _send_request = Signal(object)
    _send_load = Signal(object)

    def __init__(self, source: DocumentSource, device: str = "auto", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._thread = QThread()
        self._thread.setObjectName("preview-worker")
        self._worker = PreviewWorker(device)
        self._worker.moveToThread(self._thread)
        self._send_request.connect(self._worker.process)
        self._send_load.connect(self._worker.load_model)
        self._worker.preview_ready.connect(self._on_worker_preview_ready)
        self._worker.failed.connect(self._on_worker_failed)
        self._worker.model_failed.connect(self._on_worker_model_failed)
        self._worker.model_loaded.connect(self._on_worker_model_loaded)
        self._worker.model_loading.connect(self.model_loading)
        self._worker.model_stage.connect(self.model_stage)
        self._worker.backend_used.connect(self._on_worker_backend_used)
        self._thread.start()

        self.model: ModelInfo | None = None
        self.variation: int | None = None
        self._loading = False
        # The one request in flight: (document generation, version, ids, sent at, variation).
        self._in_flight: tuple[int, int, np.ndarray, float, int | None] | None = None
        self.last_shown: ShownPreview | None = None
        # Versions count per document; a new document (New, Open) starts a new generation so its
        # low versions are not mistaken for stale results of the old one, and vice versa.
        self._generation = 0
        self._dirty = False
        self._shown_version = -1
        self._stopped = False
        self.last_latency_s: float | None = None
        self.last_backend: str | None = None
        self.last_roundtrip_s: float | None = None  # request sent -> result on the GUI thread
        self.sent_versions: list[int] = []  # for tests and the benchmark

    # ---------------------------------------------------------------- requests from the window

    def request(self) -> None:
        """The document changed (or the variation/model did): the preview should follow."""
        self._dirty = True
        self._dispatch()

    def document_replaced(self) -> None:
        """A different document is shown: forget what was shown, render the new one."""
        self._generation += 1
        self._shown_version = -1
        self.request()

    def set_variation(self, seed: int | None) -> None:
        self.variation = seed if seed else None
        self._shown_version = -1  # the same document version must be re-rendered
        self.request()

    def load_model(self, source: ModelSource) -> None:
        self._loading = True
        self.busy_changed.emit(True)
        self._send_load.emit(source)

    @property
    def has_model(self) -> bool:
        return self.model is not None

    @property
    def loading(self) -> bool:
        """A model is being loaded (the preview follows once it is)."""
        return self._loading

    @property
    def in_flight(self) -> bool:
        return self._in_flight is not None

    def _dispatch(self) -> None:
        if self._stopped or not self._dirty or self._in_flight is not None:
            return
        if self.model is None or self._loading:
            return  # the preview follows as soon as a model is loaded
        version, ids = self._source()
        ids = ids.copy()
        self._dirty = False
        self._in_flight = (self._generation, version, ids, time.perf_counter(), self.variation)
        self.sent_versions.append(version)
        self.busy_changed.emit(True)
        self._send_request.emit(PreviewRequest(version=version, ids=ids, variation=self.variation))

    # ---------------------------------------------------------------------- worker -> GUI

    @Slot(int, object, float)
    def _on_worker_preview_ready(self, version: int, image: np.ndarray, latency_s: float) -> None:
        in_flight, self._in_flight = self._in_flight, None
        current = in_flight is None or in_flight[0] == self._generation
        if in_flight is not None:
            self.last_roundtrip_s = time.perf_counter() - in_flight[3]
        if current and version >= self._shown_version and not self._stopped:
            self._shown_version = version
            self.last_latency_s = latency_s
            if in_flight is not None and in_flight[1] == version:
                # Results arrive before the worker's next model_loaded, so self.model made this one.
                self.last_shown = ShownPreview(version, in_flight[2], in_flight[4], self.model, self.last_backend)
                self.labels_for_preview.emit(in_flight[2])
            self.preview_shown.emit(version, image, latency_s)
        self._after_result()

    @Slot(str)
    def _on_worker_backend_used(self, backend: str) -> None:
        self.last_backend = backend

    @Slot(str)
    def _on_worker_failed(self, message: str) -> None:
        self._in_flight = None
        self.failed.emit(message)
        self._after_result()

    @Slot(object)
    def _on_worker_model_loaded(self, info: ModelInfo) -> None:
        self._loading = False
        self.model = info
        self._shown_version = -1
        self.model_loaded.emit(info)
        self._dirty = True
        self._after_result()

    @Slot(str)
    def _on_worker_model_failed(self, message: str) -> None:
        self._loading = False
        self.model_failed.emit(message)
        self._after_result()

    def _after_result(self) -> None:
        self._dispatch()
        if self._in_flight is None and not self._loading:
            self.busy_changed.emit(False)

    # -------------------------------------------------------------------------------- shutdown

    def stop(self, timeout_ms: int = 30_000) -> None:
        """Stop the worker thread and wait for it (a running inference finishes first)."""
        if self._stopped:
            return
        self._stopped = True
        self._thread.quit()
        if self._thread.wait(timeout_ms):
            self._worker.unload_model()  # the thread has ended: safe to call from here
