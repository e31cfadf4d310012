"""A compare worker: renders label maps with any of a few generators on its own QThread.

Each side of an A/B comparison has one (so A and B render in parallel, and a slow B never holds
up A while scrubbing). It keeps the last few loaded models (scrubbing back and forth over steps
reuses them) and runs eager PyTorch unless ROADSTUDIO_INFER_BACKEND says otherwise: exporting a
fast path per scrubbed checkpoint would cost more than it saves. Only this thread touches torch.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from core.weights import class_coverage
from core.errors import UserError
from core.render.provenance import ModelStamp, file_sha256
from desktop.preview.worker import ModelSource

#: Loaded generators kept per worker (a default-sized model is ~10 MB).
MODEL_CACHE_SIZE = 4


@dataclass(frozen=True)
class RenderRequest:
    token: int  # increases per request of one side; results of older tokens are stale
    source: ModelSource
    ids: np.ndarray  # uint8 H×W (a private copy)
    labels_sha256: str
    variation: int | None = None
    critic_map: bool = False  # also compute the discriminator's critic map (core.eval.critic)


@dataclass(frozen=True)
class RenderResult:
    token: int
    request: RenderRequest
    image: np.ndarray  # uint8 H×W×3
    stamp: ModelStamp
    device: str
    backend: str
    latency_s: float  # prediction only
    load_s: float  # model loading (0 when it was already loaded)
    critic_map: Any = None  # core.eval.critic.CriticMap, when asked for and available
    critic_note: str = ""  # why there is no critic map (no discriminator in this run, ...)
    coverage: str = ""  # which brushes the model barely saw in training (core.weights.class_coverage.summary)


class _Loaded:
    def __init__(self, predictor: Any, stamp: ModelStamp) -> None:
        self.predictor = predictor
        self.stamp = stamp
        self.critic: Any = None  # Critic, loaded on first use
        self.critic_note: str | None = None


class CompareWorker(QObject):
    """Lives in its worker thread; `render` is invoked through a queued connection."""

    rendered = Signal(object)  # RenderResult
    failed = Signal(int, str)  # token, "<file>: <reason>"

    def __init__(self, device: str = "auto") -> None:
        super().__init__()
        self._device = device
        self._models: OrderedDict[str, _Loaded] = OrderedDict()

    @Slot(object)
    def render(self, request: RenderRequest) -> None:
        try:
            start = time.perf_counter()
            loaded = self._model(request.source)
            load_s = time.perf_counter() - start
            predictor = loaded.predictor
            image = predictor.predict(request.ids, variation=request.variation)
            latency = predictor.last_latency_s or 0.0
            critic_map, note = None, ""
            if request.critic_map:
                critic_map, note = self._critic_map(loaded, request, image)
        except UserError as exc:
            self.failed.emit(request.token, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - reported in the compare panel, the app keeps running
            self.failed.emit(request.token, f"{request.source.path}: {type(exc).__name__}: {exc}")
            return
        self.rendered.emit(RenderResult(token=request.token, request=request, image=np.ascontiguousarray(image),
                                        stamp=loaded.stamp, device=str(predictor.device),
                                        backend=str(predictor.last_backend), latency_s=float(latency),
                                        load_s=load_s, critic_map=critic_map, critic_note=note,
                                        coverage=class_coverage.summary(predictor.card)))

    def _model(self, source: ModelSource) -> _Loaded:
        key = f"{source.path}|{source.reference_netG}|{source.reference_norm}"
        loaded = self._models.get(key)
        if loaded is not None:
            self._models.move_to_end(key)
            return loaded
        from core.weights.checkpoints import load_any_generator
        from core.render.infer import Predictor

        generator = load_any_generator(source.path, reference_netG=source.reference_netG,
                                       reference_norm=source.reference_norm)
        backend = os.environ.get("ROADSTUDIO_INFER_BACKEND") or "eager"
        predictor = Predictor(generator, device=self._device, backend=backend, background_build=False,
                              interactive=True)
        stamp = ModelStamp(name=Path(source.path).name, sha256=file_sha256(source.path),
                           step=_int_or_none(generator.card.get("step")),
                           input_encoding=generator.config.input_encoding)
        loaded = _Loaded(predictor, stamp)
        self._models[key] = loaded
        while len(self._models) > MODEL_CACHE_SIZE:
            _, old = self._models.popitem(last=False)
            old.predictor.close()
        return loaded

    def _critic_map(self, loaded: _Loaded, request: RenderRequest, image: np.ndarray) -> tuple[Any, str]:
        from core.eval.critic import load_critic

        if loaded.critic is None and loaded.critic_note is None:
            loaded.critic, loaded.critic_note = load_critic(Path(request.source.path), self._device)
        if loaded.critic is None:
            return None, loaded.critic_note or ""
        return loaded.critic.score(request.ids, image), ""

    @Slot()
    def unload(self) -> None:
        for loaded in self._models.values():
            loaded.predictor.close()
        self._models.clear()


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None
