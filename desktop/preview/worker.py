"""The inference worker: owns a core.render.infer.Predictor and runs it on its own QThread.

With a photo open (issue 19 §4) a request may be an *edit* request: it carries the PhotoSource,
and the worker renders it with a core.edit.PhotoEditor (one per renderer, loaded on first use)
instead of the label-only predictor: the photo itself, changed only where the labels differ
from the segmenter's. Same queue, same latest-wins rules (PreviewController).

Only this thread ever touches torch. The GUI talks to it through queued signals (see
PreviewController), which also keeps at most one request in flight, so the worker never builds a
backlog of stale work.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from core.edit.names import DEFAULT_RENDERER
from core.errors import UserError
from core.render.provenance import ModelStamp, file_sha256

if TYPE_CHECKING:
    from core.edit.editor import EditResult, PhotoEditor
    from desktop.photo.photo_layer import PhotoSource

#: The edit renderers (core.edit.RENDERERS) and how the output panel names them.
EDIT_RENDERER_TITLES: dict[str, str] = {"clone": "Photo edit (clone: the photo's own pixels)",
                                        "photo-edit": "Photo edit (photo-edit model)",
                                        "paste": "Photo edit (paste: default model)"}


@dataclass(frozen=True)
class PreviewRequest:
    version: int  # document version the ids were copied at
    ids: np.ndarray  # uint8 H×W label ids (a private copy)
    variation: int | None  # dropout seed, None = deterministic
    photo: PhotoSource | None = None  # an edit request: render the photo changed where ids differ
    renderer: str = DEFAULT_RENDERER  # which edit renderer (EDIT_RENDERER_TITLES), for edit requests


@dataclass(frozen=True)
class ModelSource:
    path: Path
    reference_netG: str | None = None  # "unet_256"/"unet_128" for a reference pix2pix .pth
    reference_norm: str = "batch"


@dataclass(frozen=True)
class ModelInfo:
    """What the UI shows about the loaded model (plain values, safe to pass between threads)."""

    path: Path
    name: str
    device: str
    config: Any  # core.config.GeneratorConfig
    card: dict[str, Any] = field(default_factory=dict)
    parameters: int = 0
    load_s: float = 0.0
    sha256: str = ""  # of the checkpoint file, for the provenance written into exported images

    def stamp(self) -> ModelStamp:
        """This model's identity for core.render.provenance."""
        return ModelStamp(name=self.name, sha256=self.sha256, step=_int_or_none(self.card.get("step")),
                          input_encoding=str(getattr(self.config, "input_encoding", "onehot")))


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


class PreviewWorker(QObject):
    """Lives in the worker thread. Slots are invoked through queued connections."""

    preview_ready = Signal(int, object, float)  # version, uint8 H×W×3, latency seconds
    model_loading = Signal(str)  # path being loaded
    model_stage = Signal(str)  # what loading is doing now ("starting PyTorch", ...), for the output pane
    model_loaded = Signal(object)  # ModelInfo
    failed = Signal(str)  # a prediction failed (message for the status bar)
    model_failed = Signal(str)  # model loading failed: "<file>: <reason>"
    backend_used = Signal(str)  # the predictor's path for the last preview: eager, onnxruntime, aoti
    edit_model_loaded = Signal(str, object)  # renderer, ModelInfo of its model (loaded on first use)
    edit_rendered = Signal(object)  # the EditResult of the next preview_ready (None: nothing edited yet)

    def __init__(self, device: str = "auto") -> None:
        super().__init__()
        self._device = device
        self._predictor: Any = None
        self._upgrade_to: str | None = None  # fast path to set up once the first image is out
        self._editors: dict[str, PhotoEditor] = {}  # renderer -> its editor, loaded on first use

    @Slot(object)
    def load_model(self, source: ModelSource) -> None:
        self.model_loading.emit(str(source.path))
        start = time.perf_counter()
        try:
            if "torch" not in sys.modules:
                # The app imports torch here, off the GUI thread and after the window is up (2-3 s
                # on a busy 2-core machine): the single largest part of the first minute.
                self.model_stage.emit("starting PyTorch")
            from core.weights.checkpoints import load_any_generator
            from core.render.fast import default_backend
            from core.render.infer import Predictor
            from core.models import count_parameters

            self.model_stage.emit(f"reading {Path(source.path).name}")
            loaded = load_any_generator(source.path, reference_netG=source.reference_netG,
                                        reference_norm=source.reference_norm)
            self.model_stage.emit("preparing the model")
            # Eager PyTorch first: the first image needs no ONNX export / session (1.5 s and more
            # before it). The fast path is set up right after the first image (see process()).
            # Eager and ONNX Runtime render the default model equally fast here (110-240 ms at
            # 256×512 on this machine), so nothing is lost meanwhile.
            wanted = default_backend()
            self._upgrade_to = None if wanted == "eager" else ("onnxruntime" if wanted == "auto" else wanted)
            predictor = Predictor(loaded, device=self._device, interactive=True, backend="eager")
            info = ModelInfo(path=Path(source.path), name=Path(source.path).name,
                             device=str(predictor.device), config=loaded.config,
                             card=dict(loaded.card or {}),
                             parameters=count_parameters(loaded.model),
                             load_s=time.perf_counter() - start,
                             sha256=file_sha256(source.path))  # here, not on the GUI thread
        except UserError as exc:
            self._report_load_failure(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a worker must report, never die silently
            self._report_load_failure(f"{source.path}: could not be loaded ({type(exc).__name__}: {exc})")
            return
        old, self._predictor = self._predictor, predictor  # the old model goes only once the new one works
        _close(old)
        self.model_loaded.emit(info)

    def _report_load_failure(self, message: str) -> None:
        self.model_failed.emit(message)

    @Slot()
    def unload_model(self) -> None:
        old, self._predictor = self._predictor, None
        _close(old)
        editors, self._editors = self._editors, {}
        for editor in editors.values():
            _close(editor)

    def _editor(self, renderer: str) -> PhotoEditor:
        """The editor of `renderer`, loaded (with its model's identity reported) on first use."""
        editor = self._editors.get(renderer)
        if editor is None:
            if "torch" not in sys.modules:
                self.model_stage.emit("starting PyTorch")
            from core.edit.editor import PhotoEditor
            from core.models import count_parameters

            start = time.perf_counter()
            editor = PhotoEditor.load(renderer, device=self._device, interactive=True)  # type: ignore[arg-type]  # checked by load
            predictor = editor.predictor
            path = editor.model_path
            info = ModelInfo(path=path, name=path.name, device=str(predictor.device), config=predictor.config,
                             card=dict(predictor.card or {}), parameters=count_parameters(predictor.model),
                             load_s=time.perf_counter() - start, sha256=file_sha256(path))
            self._editors[renderer] = editor
            self.edit_model_loaded.emit(renderer, info)
        return editor

    @Slot(str)
    def _preload_editor(self, renderer: str) -> None:
        """Load an editor before the first edit needs it (errors are reported by that edit)."""
        with contextlib.suppress(Exception):  # the next edit request reports the problem
            self._editor(renderer)

    def _render_edit(self, request: PreviewRequest, photo: PhotoSource) -> tuple[np.ndarray, EditResult | None]:
        if request.renderer not in self._editors and not photo.changed_mask(request.ids).any():
            # Nothing edited yet: the output is the photo, with no model needed; the editor loads
            # right after, so the first stroke does not wait for it.
            QTimer.singleShot(0, self, lambda: self._preload_editor(request.renderer))
            return np.array(photo.rgb), None
        result = self._editor(request.renderer).render(photo.rgb, photo.original_ids, request.ids)
        return result.image, result

    @Slot(object)
    def process(self, request: PreviewRequest) -> None:
        if request.photo is not None:
            self._process_edit(request, request.photo)
            return
        if self._predictor is None:
            self.failed.emit("No model loaded")
            return
        start = time.perf_counter()
        try:
            image = self._predictor.predict(request.ids, variation=request.variation)
        except Exception as exc:  # noqa: BLE001 - shown in the status bar; the app keeps running
            self.failed.emit(f"Preview failed: {type(exc).__name__}: {exc}")
            return
        latency = getattr(self._predictor, "last_latency_s", None) or (time.perf_counter() - start)
        backend = getattr(self._predictor, "last_backend", None)
        if backend:
            self.backend_used.emit(str(backend))  # queued before preview_ready, so it arrives first
        self.preview_ready.emit(request.version, np.ascontiguousarray(image), float(latency))
        if self._upgrade_to is not None:
            # After the requests already queued (the next preview of a stroke goes first).
            QTimer.singleShot(0, self._upgrade_backend)

    def _process_edit(self, request: PreviewRequest, photo: PhotoSource) -> None:
        start = time.perf_counter()
        try:
            image, result = self._render_edit(request, photo)
        except UserError as exc:
            self.failed.emit(f"Photo edit: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - shown in the status bar; the app keeps running
            self.failed.emit(f"Photo edit failed: {type(exc).__name__}: {exc}")
            return
        if result is not None and result.backend:
            self.backend_used.emit(result.backend)
        self.edit_rendered.emit(result)  # queued before preview_ready, so it arrives first
        latency = result.latency_s if result is not None else time.perf_counter() - start
        self.preview_ready.emit(request.version, np.ascontiguousarray(image), float(latency))

    @Slot()
    def _upgrade_backend(self) -> None:
        """Switch the loaded model to the fast path the start-up skipped (ONNX Runtime unless
        ROADSTUDIO_INFER_BACKEND says otherwise); on any failure the predictor stays eager."""
        target, self._upgrade_to = self._upgrade_to, None
        predictor = self._predictor
        if target is None or predictor is None:
            return
        try:
            predictor.switch_backend(target)
        except Exception:  # noqa: BLE001 - a fast path is an optimisation; eager keeps working
            return


def _close(predictor: Any) -> None:
    """Release a predictor's fast-path resources (compiled kernels, sessions) if it has any."""
    close = getattr(predictor, "close", None)
    if callable(close):
        with contextlib.suppress(Exception):  # releasing is best effort
            close()
