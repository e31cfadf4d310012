"""Render many label maps in one job: `roadstudio-cli infer` over a folder, `eval` over a split.

    for r in render_many(predictor, items, load=read_ids, save=write_photo):  # write_photo(r)
        ...  # r.item, r.ids, r.photo (None on failure), r.error; in the order of `items`

A dataset split (`eval`): items are (ids, photo) pairs, resized in a generator; the label half
is rendered, the pair comes back with its photo:

    pairs = (resize_pair(ids, photo, size) for ids, photo in iter_pairs(source, limit))
    for r in render_many(predictor, pairs, load=lambda pair: pair[0], count=n, plan=True):
        (ids, photo), generated = r.item, r.photo

What it does for the job it is given, where `Predictor.predict` in a loop would not:

* **I/O overlapped with compute.** `load(item)` (decode a file, resize a pair...) runs in one
  producer thread ahead of the model, `save(rendered)` in a small pool behind it; the model runs
  in the caller's thread. Pillow's decoders/encoders and zlib release the GIL, as does torch.
* **Batches.** Consecutive maps of the same padded size go through the model together
  (`Predictor.predict_batch`): on CPU the U-Net's inner layers are weight-bound at batch 1
  (ngf 64 reads ~218 MB of weights per call), so a batch of four 256×512 maps costs less per map.
  The batch size comes from a pixel budget (BATCH_PIXELS; 4 maps at 256×512, 1 at 1024×2048).
* **A fast path only when it pays back.** With `plan=True` the job starts on eager PyTorch,
  times its first batches, and switches to ONNX Runtime only when the images still to render
  save more than the switch costs: (remaining maps) × (eager s/map) × (1 - 1/speed-up) >
  PAYBACK_MARGIN × set-up s. Set-up and speed-up are the ones measured the last time a job
  switched for this checkpoint and size on this machine (a small JSON in the fast-path cache
  folder), else cautious defaults (a first ONNX export of a large model takes 5-20 s). A
  background AOTInductor compile is never started: the process ends before it could be used.
* **Failures per item.** A `load` or `save` that raises marks that item (`error`) and the job goes
  on; an exception from iterating `items` itself, or from the model, propagates.

Variations (dropout noise with a seed) render one map at a time on eager PyTorch, so each equals
`predict(ids, variation=seed)`. Deterministic renders equal `predict(ids)` within float rounding
(batched convolutions may sum in another order: ~1e-6 in [-1, 1], far below one uint8 step;
ONNX Runtime within core.render.fast.TOLERANCE).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from core.render.infer import Predictor, validate_label_ids

T = TypeVar("T")

#: Pixels (padded) per model call on CPU: 4 maps at 256×512, 8 at 256×256. Measured at ngf 64 on
#: the 2-core dev CPU: batch 4 took ~0.75-0.8× the time per map of batch 1 (docs/performance.md).
BATCH_PIXELS = 4 * 256 * 512
#: On CUDA the GPU wants more work per call; memory stays small at these sizes.
BATCH_PIXELS_CUDA = 16 * 256 * 512
MAX_BATCH = 16
#: A switch must save this many times its set-up cost (the estimate is noisy on a busy machine).
PAYBACK_MARGIN = 1.25
#: Used before this machine has measured a switch for the checkpoint and size.
DEFAULT_SETUP_S = 10.0  # a first ONNX export (~7 s) + digest + verification, ngf-64 U-Net, busy 2 cores
DEFAULT_SPEEDUP = 1.25  # ONNX Runtime over eager channels_last, ngf 64, 256×512 (1.28-1.47 measured)
#: Eager batches timed before deciding (the first includes oneDNN's one-off primitive set-up).
PLAN_AFTER_BATCHES = 2
TIMINGS_FILE = "batch-timings.json"


@dataclass(frozen=True)
class Rendered(Generic[T]):
    """One item of a job: its label map and photo, or the error that stopped it."""

    item: T
    ids: np.ndarray | None
    photo: np.ndarray | None
    error: BaseException | None = None
    backend: str = ""  # the path that rendered it: eager, onnxruntime, aoti

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class JobReport:
    """What a job decided and measured (filled in while render_many runs)."""

    batch_size: int = 1
    backend: str = "eager"
    decision: str = ""  # why this path, in words
    eager_s_per_map: float | None = None
    switch_s: float | None = None
    rendered: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)


def batch_size_for(predictor: Predictor, height: int, width: int) -> int:
    """Maps per model call for maps of this size on this predictor's device."""
    ph, pw = predictor.padded_shape(height, width)
    budget = BATCH_PIXELS_CUDA if predictor.device.type == "cuda" else BATCH_PIXELS
    return max(1, min(MAX_BATCH, budget // (ph * pw)))


# ------------------------------------------------------------------------------------ timings

def _timings_path() -> Path:
    from core.render.fast import default_cache_dir

    return default_cache_dir() / TIMINGS_FILE


def _checkpoint_key(predictor: Predictor, shape: tuple[int, int], backend: str) -> str | None:
    """Identity of (checkpoint file, size, path) without hashing 200 MB of weights."""
    try:
        st = Path(predictor.path).stat()
    except OSError:
        return None  # an in-memory model: nothing to remember it by
    raw = f"{Path(predictor.path).resolve()}|{st.st_size}|{st.st_mtime_ns}|{shape[0]}x{shape[1]}|{backend}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _read_timings() -> dict[str, Any]:
    try:
        data = json.loads(_timings_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _remember(key: str | None, setup_s: float, speedup: float) -> None:
    if key is None:
        return
    from core.io.atomic import atomic_write_text

    data = _read_timings()
    data[key] = {"setup_s": round(setup_s, 3), "speedup": round(speedup, 3), "when": int(time.time())}
    if len(data) > 200:  # stale entries are harmless; keep the file small
        for old in sorted(data, key=lambda k: data[k].get("when", 0))[: len(data) - 200]:
            data.pop(old)
    try:
        path = _timings_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(data, indent=1))
    except OSError:
        pass  # a read-only cache only costs the next job its estimate


def switch_pays_back(remaining: int, eager_s_per_map: float, setup_s: float, speedup: float) -> bool:
    """Whether setting up a path `speedup`× faster than eager, for `setup_s`, saves time over
    `remaining` maps (with PAYBACK_MARGIN)."""
    if speedup <= 1.0 or remaining <= 0:
        return False
    saved = remaining * eager_s_per_map * (1.0 - 1.0 / speedup)
    return saved > PAYBACK_MARGIN * setup_s


# ------------------------------------------------------------------------------------ producer

_END = object()


@dataclass(frozen=True)
class _Raise:
    """Iterating the items failed: the caller's thread re-raises `exc`."""

    exc: BaseException


class _Producer(threading.Thread):
    """Iterates `items` and runs `load` on each, ahead of the model, into a bounded queue."""

    def __init__(self, items: Iterable[T], load: Callable[[T], np.ndarray], lookahead: int) -> None:
        super().__init__(name="batch-render-load", daemon=True)
        self.items = items
        self.load = load
        self.out: queue.Queue[Any] = queue.Queue(maxsize=max(1, lookahead))
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            for item in self.items:
                if self.stop.is_set():
                    return
                try:
                    ids = validate_label_ids(self.load(item))  # a bad map fails its item, not its batch
                    entry: tuple[Any, np.ndarray | None, BaseException | None] = (item, ids, None)
                except Exception as exc:  # noqa: BLE001 - reported per item
                    entry = (item, None, exc)
                self._put(entry)
        except BaseException as exc:  # noqa: BLE001 - the iterable itself failed: re-raised by the caller
            self._put(_Raise(exc))
            return
        self._put(_END)

    def _put(self, entry: object) -> None:
        while not self.stop.is_set():
            try:
                self.out.put(entry, timeout=0.1)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        self.stop.set()
        try:
            while True:
                self.out.get_nowait()
        except queue.Empty:
            pass


# ------------------------------------------------------------------------------------ the job

def render_many(predictor: Predictor, items: Iterable[T], load: Callable[[T], np.ndarray] | None = None,
                save: Callable[[Rendered[T]], None] | None = None, *, count: int | None = None,
                batch_size: int | None = None, variation: int | None = None, plan: bool = False,
                save_workers: int = 2, report: JobReport | None = None) -> Iterator[Rendered[T]]:
    """Render every item's label map; yield one Rendered per item, in input order.

    predictor: used from this thread only (the caller's). With plan=True it should have been
      built with backend="eager"; the job may switch it (Predictor.switch_backend).
    items: anything iterable (a list of paths, a generator of dataset pairs); iterated in a
      background thread, so a generator must not depend on this thread's state.
    load: item -> uint8 H×W label ids (default: the item is the label map), run ahead of the model.
    save: Rendered -> None (item, ids, photo, backend), run in a pool of `save_workers` threads; a
      result is yielded once its save is done, so a yielded item is finished on disk; a save that
      raises turns its result into an error (photo None, ids kept).
    count: how many items there are (for the payback estimate; len(items) when it has one).
    batch_size: maps per model call (default: batch_size_for the first map's size).
    variation: a dropout seed: one map at a time on eager PyTorch, as Predictor.predict.
    plan: decide eager vs ONNX Runtime for this job (see the module docstring).
    report: filled in with the decisions and timings.
    """
    rep = report if report is not None else JobReport()
    if count is None and hasattr(items, "__len__"):
        count = len(items)  # type: ignore[arg-type]
    load_fn: Callable[[T], np.ndarray] = load if load is not None else (lambda item: item)  # type: ignore[assignment,return-value]
    producer = _Producer(items, load_fn, lookahead=2 * (batch_size or MAX_BATCH) + 2)
    pool = ThreadPoolExecutor(max_workers=max(1, save_workers), thread_name_prefix="batch-render-save")
    pending: deque[tuple[Rendered[T], Future[None] | None]] = deque()
    planner = _Planner(predictor, count, rep) if plan and variation is None else None
    rep.backend = predictor.backend
    producer.start()

    def flush(batch: list[tuple[T, np.ndarray]]) -> None:
        _run_batch(predictor, batch, variation, planner, rep, save, pool, pending)
        batch.clear()

    try:
        batch: list[tuple[T, np.ndarray]] = []
        size: int | None = batch_size if variation is None else 1
        shape: tuple[int, int] | None = None
        while True:
            entry = producer.out.get()
            if entry is _END:
                flush(batch)
                break
            if isinstance(entry, _Raise):
                raise entry.exc
            item, ids, error = entry
            if error is not None:
                flush(batch)  # keeps the output in input order
                rep.failed += 1
                pending.append((Rendered(item, None, None, error), None))
            else:
                padded = predictor.padded_shape(*ids.shape)
                if padded != shape:
                    flush(batch)  # one model call takes one size
                    shape = padded
                if size is None:
                    size = batch_size_for(predictor, *ids.shape)
                rep.batch_size = size
                batch.append((item, ids))
                if len(batch) >= size:
                    flush(batch)
            yield from _ready(pending, wait=False)
        yield from _ready(pending, wait=True)
    finally:
        producer.close()
        pool.shutdown(wait=True, cancel_futures=True)
        rep.backend = predictor.last_backend


def _run_batch(predictor: Predictor, batch: list[tuple[T, np.ndarray]], variation: int | None,
               planner: _Planner | None, rep: JobReport, save: Callable[[Rendered[T]], None] | None,
               pool: ThreadPoolExecutor, pending: deque[tuple[Rendered[T], Future[None] | None]]) -> None:
    """Render `batch` in one model call and queue its saves."""
    if not batch:
        return
    start = time.perf_counter()
    if variation is not None:
        photos = [predictor.predict(ids, variation=variation) for _, ids in batch]
    else:
        photos = predictor.predict_batch([ids for _, ids in batch])
    elapsed = time.perf_counter() - start
    backend = predictor.last_backend
    if planner is not None:
        planner.after_batch(len(batch), elapsed, backend, predictor.padded_shape(*batch[0][1].shape))
    for (item, ids), photo in zip(batch, photos, strict=True):
        rep.rendered += 1
        result = Rendered(item, ids, photo, None, backend)
        future = pool.submit(save, result) if save is not None else None
        pending.append((result, future))


def _ready(pending: deque[tuple[Rendered[T], Any]], *, wait: bool) -> Iterator[Rendered[T]]:
    """Yield finished results from the front of `pending`, in order (all of them when `wait`)."""
    while pending:
        result, future = pending[0]
        if future is not None:
            if not wait and not future.done():
                return
            error = future.exception()
            if error is not None:
                result = Rendered(result.item, result.ids, None, error, result.backend)
        pending.popleft()
        yield result


class _Planner:
    """Times the eager batches of a job and switches to ONNX Runtime when that pays back."""

    def __init__(self, predictor: Predictor, count: int | None, rep: JobReport) -> None:
        self.predictor = predictor
        self.count = count
        self.rep = rep
        self.seen = 0
        self.batches = 0
        self.eager_times: list[float] = []  # s per map of each eager batch
        self.decided = predictor.device.type != "cpu" or predictor.backend != "eager"
        self.switched: tuple[str | None, float, float] | None = None  # (key, set-up s, eager s/map)
        self.fast_times: list[float] = []
        if predictor.device.type != "cpu":
            rep.decision = f"eager PyTorch on {predictor.device.type} (fast paths are CPU-only)"
        elif predictor.backend != "eager":
            rep.decision = f"{predictor.backend} (chosen by the caller)"

    def after_batch(self, n: int, seconds: float, backend: str, shape: tuple[int, int]) -> None:
        self.seen += n
        self.batches += 1
        if backend == "eager":
            self.eager_times.append(seconds / n)
        elif self.switched is not None:
            self.fast_times.append(seconds / n)
            if len(self.fast_times) == 2:  # the first fast batch warms up; remember the second
                key, setup_s, eager = self.switched
                _remember(key, setup_s, eager / self.fast_times[-1])
        if self.decided or self.batches < PLAN_AFTER_BATCHES:
            return
        self.decided = True
        remaining = (self.count - self.seen) if self.count is not None else 0
        # the later batch: the first pays for oneDNN's one-off set-up
        eager = min(self.eager_times[1:] or self.eager_times)
        self.rep.eager_s_per_map = eager
        key = _checkpoint_key(self.predictor, shape, "onnxruntime")
        known = _read_timings().get(key or "", {}) if key else {}
        setup_s = float(known.get("setup_s", DEFAULT_SETUP_S))
        speedup = float(known.get("speedup", DEFAULT_SPEEDUP))
        source = "measured on an earlier job" if known else "defaults: no earlier job measured it"
        estimate = (f"{remaining} maps left × {eager * 1000:.0f} ms eager; ONNX Runtime set-up {setup_s:.1f} s, "
                    f"{speedup:.2f}× ({source})")
        if not switch_pays_back(remaining, eager, setup_s, speedup):
            self.rep.decision = f"eager: a switch would not pay back ({estimate})"
            return
        try:
            spent = self.predictor.switch_backend("onnxruntime")
        except Exception as exc:  # noqa: BLE001 - eager keeps working
            self.rep.decision = f"eager: ONNX Runtime set-up failed ({type(exc).__name__}: {exc})"
            return
        self.rep.switch_s = spent
        if self.predictor.backend != "onnxruntime":
            self.rep.decision = f"eager: ONNX Runtime unavailable ({'; '.join(self.predictor.backend_notes)})"
            self.rep.notes += self.predictor.backend_notes
            return
        self.switched = (key, spent, eager)
        self.rep.decision = f"onnxruntime after {self.seen} maps (set-up took {spent:.1f} s; {estimate})"


def default_save_workers() -> int:
    """Two threads: enough to hide PNG encoding behind the model on a small CPU."""
    return max(1, min(2, (os.cpu_count() or 2)))


__all__ = ["BATCH_PIXELS", "JobReport", "Rendered", "batch_size_for", "default_save_workers", "render_many",
           "switch_pays_back"]
