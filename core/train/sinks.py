"""Event consumers that write the run folder's logs: metrics.jsonl, sample PNGs, TensorBoard.

The loop feeds every event to these (rank 0 only) before yielding it, so by the time the GUI or
the CLI sees an event its files exist. They never change what the loop does.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import IO, Any, Protocol

from PIL import Image

from core.atomic import atomic_path
from core.train.events import CanvasPreview, CheckpointSaved, Event, Failed, Finished, Sample, Step, Validation, event_to_dict

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
        self._fh: IO[str] | None = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def handle(self, event: Event) -> None:
        if isinstance(event, CanvasPreview) or self._fh is None:
            return  # nothing but an image: not a metric
        record: dict[str, Any] = {"time": round(time.time(), 3), **event_to_dict(event)}
        self._fh.write(json.dumps(_finite(record), allow_nan=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


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


def close_all(sinks: list[EventSink]) -> None:
    for sink in sinks:
        try:
            sink.close()
        except Exception:  # noqa: BLE001 - closing a log must not hide the run's own outcome
            log.exception("closing %s failed", type(sink).__name__)
