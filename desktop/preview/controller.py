"""GUI-side half of the live preview: decides *when* to ask the worker for a new image.

Rules (issue 4):
- at most one request is in flight; while it runs, new requests only mark the preview dirty
  (the pending slot never holds more than "the newest state"), so the worker never computes a
  stale map and painting fast never builds a queue;
- when the in-flight request returns and the preview is dirty, the *current* document is sent
  (so a final preview always follows the end of a stroke);
- a result older than the one already shown is dropped (latest wins);
- the ids are copied only when a request is actually sent, never per mouse move.

Edit mode (issue 19 §4): while a photo is open (`photo_source` gives a PhotoSource of the
document's size) and an edit renderer is chosen, each request is an edit request: the worker's
PhotoEditor renders the photo changed only where the labels differ from the segmenter's. The
same rules apply; no label-only model is needed for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.edit.names import DEFAULT_RENDERER
from desktop.preview.worker import ModelInfo, ModelSource, PreviewRequest, PreviewWorker

if TYPE_CHECKING:
    from core.edit.editor import EditResult
    from desktop.photo.photo_layer import PhotoSource

#: Returns (document version, live ids array); the controller copies the array itself.
DocumentSource = Callable[[], tuple[int, np.ndarray]]
#: Returns the photo behind the document (edit mode), or None.
PhotoSourceGetter = Callable[[], "PhotoSource | None"]


@dataclass(frozen=True)
class ShownPreview:
    """How the image on screen was made: what an export records as its provenance."""

    version: int
    ids: np.ndarray  # the labels it was rendered from (the controller's private copy)
    variation: int | None
    model: ModelInfo | None  # for an edit: the edit renderer's model
    backend: str | None
    photo: PhotoSource | None = None  # set for an edit of this photo
    renderer: str | None = None  # the edit renderer ("photo-edit", "paste", "clone")
    edit: EditResult | None = None  # the edit's region and counts; None when nothing was edited


@dataclass(frozen=True)
class _Sent:
    """The one request in flight, and what the controller needs to know about it on return."""

    generation: int
    request: PreviewRequest
    sent_at: float


class PreviewController(QObject):
    preview_shown = Signal(int, object, float)  # version, image, latency (after stale dropping)
    labels_for_preview = Signal(object)  # ids the shown preview was computed from
    model_loading = Signal(str)
    model_stage = Signal(str)  # what the loading does now (the worker's model_stage)
    model_loaded = Signal(object)  # ModelInfo
    failed = Signal(str)
    model_failed = Signal(str)
    busy_changed = Signal(bool)
    edit_model_loaded = Signal(str, object)  # renderer, ModelInfo of the edit model (first use)

    _send_request = Signal(object)
    _send_load = Signal(object)

    def __init__(self, source: DocumentSource, device: str = "auto", parent: QObject | None = None, *,
                 photo_source: PhotoSourceGetter | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._photo_source = photo_source
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
        self._worker.edit_model_loaded.connect(self._on_worker_edit_model_loaded)
        self._worker.edit_rendered.connect(self._on_worker_edit_rendered)
        self._thread.start()

        self.model: ModelInfo | None = None
        self.variation: int | None = None
        self._loading = False
        self.edit_renderer: str | None = DEFAULT_RENDERER  # None: the usual preview even with a photo open
        self.edit_models: dict[str, ModelInfo] = {}  # renderer -> its model, once loaded
        self._last_edit: EditResult | None = None  # from the worker, just before its preview_ready
        self._in_flight: _Sent | None = None
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

    def set_edit_renderer(self, renderer: str | None) -> None:
        """The edit renderer used while a photo is open ("photo-edit", "paste", "clone"), or None for the
        usual label-only preview."""
        if renderer != self.edit_renderer:
            self.edit_renderer = renderer
            self._shown_version = -1
            self.request()

    def edit_photo(self) -> PhotoSource | None:
        """The photo the next request edits: open, of the document's size, edit mode on."""
        if self._photo_source is None or self.edit_renderer is None:
            return None
        photo = self._photo_source()
        if photo is None or photo.shape != self._source()[1].shape:
            return None
        return photo

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
        photo = self.edit_photo()
        if photo is None and (self.model is None or self._loading):
            return  # the preview follows as soon as a model is loaded
        version, ids = self._source()
        request = PreviewRequest(version=version, ids=ids.copy(), variation=self.variation, photo=photo,
                                 renderer=self.edit_renderer or DEFAULT_RENDERER)
        self._dirty = False
        self._in_flight = _Sent(self._generation, request, time.perf_counter())
        self.sent_versions.append(version)
        self.busy_changed.emit(True)
        self._send_request.emit(request)

    # ---------------------------------------------------------------------- worker -> GUI

    @Slot(int, object, float)
    def _on_worker_preview_ready(self, version: int, image: np.ndarray, latency_s: float) -> None:
        in_flight, self._in_flight = self._in_flight, None
        edit, self._last_edit = self._last_edit, None
        current = in_flight is None or in_flight.generation == self._generation
        if in_flight is not None:
            self.last_roundtrip_s = time.perf_counter() - in_flight.sent_at
        if current and version >= self._shown_version and not self._stopped:
            self._shown_version = version
            self.last_latency_s = latency_s
            if in_flight is not None and in_flight.request.version == version:
                self.last_shown = self._shown(in_flight.request, edit)
                self.labels_for_preview.emit(in_flight.request.ids)
            self.preview_shown.emit(version, image, latency_s)
        self._after_result()

    def _shown(self, request: PreviewRequest, edit: EditResult | None) -> ShownPreview:
        if request.photo is None:
            # Results arrive before the worker's next model_loaded, so self.model made this one.
            return ShownPreview(request.version, request.ids, request.variation, self.model, self.last_backend)
        return ShownPreview(request.version, request.ids, None, self.edit_models.get(request.renderer),
                            edit.backend if edit is not None else None, photo=request.photo,
                            renderer=request.renderer, edit=edit)

    @property
    def showing_edit(self) -> bool:
        """The output on screen is a photo edit (not the label-only preview)."""
        return self.last_shown is not None and self.last_shown.photo is not None

    @Slot(str, object)
    def _on_worker_edit_model_loaded(self, renderer: str, info: ModelInfo) -> None:
        self.edit_models[renderer] = info
        self.edit_model_loaded.emit(renderer, info)

    @Slot(object)
    def _on_worker_edit_rendered(self, result: EditResult | None) -> None:
        self._last_edit = result

    @Slot(str)
    def _on_worker_backend_used(self, backend: str) -> None:
        self.last_backend = backend

    @Slot(str)
    def _on_worker_failed(self, message: str) -> None:
        self._in_flight = None
        self._last_edit = None
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
