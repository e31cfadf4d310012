"""GUI-side half of A/B compare: which generator each side shows, and when to ask its worker.

The same rules as the live preview, per side: one request in flight; newer wishes replace the
waiting one (latest wins, no queue of stale renders while scrubbing); results of superseded
requests are cached but not shown. Renders are cached per (checkpoint, painting hash, seed), so
a cache hit is shown at once without touching the worker. The GUI thread does no torch and no
file I/O here: it hashes the painting once per document version (~0.3 ms at 256×512) and looks
up a dict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.render.provenance import ModelStamp, labels_sha256
from desktop.compare.cache import RenderCache, RenderKey
from desktop.compare.worker import CompareWorker, RenderRequest, RenderResult
from desktop.preview.worker import ModelSource

Side = Literal["A", "B"]
SIDES: tuple[Side, ...] = ("A", "B")
#: Returns (document version, live ids array); copied only when a request is sent.
LabelsSource = Callable[[], tuple[int, np.ndarray]]


@dataclass(frozen=True)
class Shown:
    """What one side shows now (for the views, exports and tests)."""

    side: Side
    source: ModelSource
    image: np.ndarray
    labels_sha256: str
    ids: np.ndarray
    stamp: ModelStamp | None  # None for a cache hit of a model this session never described
    latency_s: float | None  # None for a cache hit
    cached: bool
    critic_map: object = None  # core.eval.critic.CriticMap or None
    critic_note: str = ""
    coverage: str = ""  # brushes the model barely saw in training ("" when not known yet)


class _SideState(QObject):
    """One side: its worker thread, its source, the request in flight and the waiting wish."""

    _send = Signal(object)

    def __init__(self, side: Side, device: str, parent: QObject) -> None:
        super().__init__(parent)
        self.side = side
        self.worker_thread = QThread()
        self.worker_thread.setObjectName(f"compare-worker-{side}")
        self.worker = CompareWorker(device)
        self.worker.moveToThread(self.worker_thread)
        self._send.connect(self.worker.render)
        self.worker_thread.start()
        self.source: ModelSource | None = None
        self.token = 0
        self.in_flight: RenderRequest | None = None
        self.wanted: RenderRequest | None = None  # the newest wish while one is in flight
        self.shown: Shown | None = None
        self.stamps: dict[str, ModelStamp] = {}  # checkpoint path -> stamp, from results
        self.coverage: dict[str, str] = {}  # checkpoint path -> class coverage summary, from results

    def send(self, request: RenderRequest) -> None:
        self.in_flight = request
        self._send.emit(request)

    def stop(self, timeout_ms: int) -> None:
        self.worker_thread.quit()
        if self.worker_thread.wait(timeout_ms):
            self.worker.unload()  # the thread has ended: safe to call from here


class CompareController(QObject):
    shown_changed = Signal(str)  # side whose image changed ("A" or "B")
    busy_changed = Signal(str, bool)  # side, rendering
    failed = Signal(str, str)  # side, message
    rendered = Signal(str, float)  # side, seconds the worker took (also for superseded renders)

    def __init__(self, labels: LabelsSource, device: str = "auto", parent: QObject | None = None,
                 cache: RenderCache | None = None) -> None:
        super().__init__(parent)
        self._labels = labels
        self.cache = cache or RenderCache()
        self.variation: int | None = None
        self.critic_map = False
        self._sides = {side: _SideState(side, device, self) for side in SIDES}
        for state in self._sides.values():
            state.worker.rendered.connect(self._on_worker_rendered)
            state.worker.failed.connect(lambda token, message, s=state: self._on_worker_failed(s, token, message))
        self._hash_version: int | None = None
        self._hash_ids: np.ndarray | None = None
        self._hash: str = ""
        self._stopped = False
        self.requests_sent = dict.fromkeys(SIDES, 0)  # for tests and the benchmark

    # ------------------------------------------------------------------------- requests

    def set_source(self, side: Side, source: ModelSource | None) -> None:
        """Show `source` on `side` (None clears it)."""
        state = self._sides[side]
        state.source = source
        if source is None:
            state.shown = None
            state.wanted = None
            self.shown_changed.emit(side)
            return
        self._want(state)

    def source(self, side: Side) -> ModelSource | None:
        return self._sides[side].source

    def shown(self, side: Side) -> Shown | None:
        return self._sides[side].shown

    def refresh(self) -> None:
        """The painting (or the seed) changed: both sides follow."""
        for state in self._sides.values():
            if state.source is not None:
                self._want(state)

    def set_variation(self, seed: int | None) -> None:
        self.variation = seed or None
        self.refresh()

    def set_critic_map(self, on: bool) -> None:
        """Ask for the discriminator's critic map with every render (computed in the worker)."""
        if on != self.critic_map:
            self.critic_map = on
            self.refresh()

    def forget_checkpoint(self, path: str) -> None:
        """`path` was rewritten (last.*, best.* of a training run): render it again when shown."""
        self.cache.forget_checkpoint(path)
        self.cache.forget_checkpoint(path + "#critic")
        for state in self._sides.values():
            if state.source is not None and str(state.source.path) == path:
                self._want(state)

    def busy(self, side: Side) -> bool:
        return self._sides[side].in_flight is not None

    def _painting(self) -> tuple[np.ndarray, str]:
        version, ids = self._labels()
        if version != self._hash_version or self._hash_ids is None or self._hash_ids.shape != ids.shape:
            self._hash_ids = np.array(ids, dtype=np.uint8, copy=True)
            self._hash = labels_sha256(self._hash_ids)
            self._hash_version = version
        return self._hash_ids, self._hash

    def _key(self, source: ModelSource, sha: str) -> RenderKey:
        return RenderKey(str(source.path), sha, self.variation)

    def _want(self, state: _SideState) -> None:
        if self._stopped or state.source is None:
            return
        ids, sha = self._painting()
        key = self._key(state.source, sha)
        cached = self.cache.get(key)
        critic_map = self.cache.get(RenderKey(key.checkpoint + "#critic", sha, self.variation, "critic")) \
            if self.critic_map else None
        if cached is not None and (not self.critic_map or critic_map is not None):
            state.wanted = None  # what is in flight (if anything) is stale now: shown, not waited for
            state.shown = Shown(state.side, state.source, cached, sha, ids, state.stamps.get(key.checkpoint),
                                None, True, critic_map, coverage=state.coverage.get(key.checkpoint, ""))
            self.shown_changed.emit(state.side)
            return
        state.token += 1
        request = RenderRequest(token=state.token, source=state.source, ids=ids, labels_sha256=sha,
                                variation=self.variation, critic_map=self.critic_map)
        if state.in_flight is not None:
            state.wanted = request  # replaces any older wish: latest wins
            return
        self._send(state, request)

    def _send(self, state: _SideState, request: RenderRequest) -> None:
        self.requests_sent[state.side] += 1
        state.send(request)
        self.busy_changed.emit(state.side, True)

    # ------------------------------------------------------------------------ worker -> GUI

    def _state_for(self, request: RenderRequest) -> _SideState | None:
        for state in self._sides.values():
            if state.in_flight is request:
                return state
        return None

    @Slot(object)
    def _on_worker_rendered(self, result: RenderResult) -> None:
        state = self._state_for(result.request)
        if state is None or self._stopped:
            return
        state.in_flight = None
        request = result.request
        key = RenderKey(str(request.source.path), request.labels_sha256, request.variation)
        self.cache.put(key, result.image)
        if result.critic_map is not None:
            self.cache.put(RenderKey(key.checkpoint + "#critic", key.labels_sha256, key.variation, "critic"),
                           result.critic_map)
        state.stamps[key.checkpoint] = result.stamp
        state.coverage[key.checkpoint] = result.coverage
        self.rendered.emit(state.side, result.latency_s + result.load_s)
        current = state.source is not None and str(state.source.path) == key.checkpoint
        if state.wanted is None and current and request.token == state.token:
            state.shown = Shown(state.side, request.source, result.image, request.labels_sha256, request.ids,
                                result.stamp, result.latency_s, False, result.critic_map, result.critic_note,
                                result.coverage)
            self.shown_changed.emit(state.side)
        self._after(state)

    def _on_worker_failed(self, state: _SideState, token: int, message: str) -> None:
        if self._stopped:
            return
        state.in_flight = None
        if state.wanted is None:
            self.failed.emit(state.side, message)
        self._after(state)

    def _after(self, state: _SideState) -> None:
        wanted, state.wanted = state.wanted, None
        if wanted is not None:
            # Look again rather than send the old wish: it may be in the cache by now (the result
            # that just came back), and the painting may have moved on.
            self._want(state)
        if state.in_flight is None:
            self.busy_changed.emit(state.side, False)

    # ---------------------------------------------------------------------------- shutdown

    def stop(self, timeout_ms: int = 30_000) -> None:
        if self._stopped:
            return
        self._stopped = True
        for state in self._sides.values():
            state.stop(timeout_ms)
