"""Pinned paintings: a run's own evaluation set, rendered at every sample step.

    run_dir/pinned/NAME.png                    a pinned label map (labelIds PNG)
    run_dir/pinned/NAME/step_0000200.png       NAME rendered with the weights of step 200

A painting is pinned by writing its label map into `pinned/` — from the app (Pin painting), with
`roadstudio-cli train --pin LABEL.png`, or by copying a file there; the folder is re-read at every
sample step, so a pin added while the run trains is rendered from the next sample on, and pins
survive a resume (they live in the run folder). Rendering uses core.train.previews.render_labels
(eval mode, no_grad, no RNG), so pins never change what the run learns: resuming stays bit-exact.
The loop yields one PinnedSample event per pin; PinnedImageSink writes its PNG (rank 0 only) with
its provenance. No Qt here.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.render import provenance
from core.config import GeneratorConfig
from core.errors import BadFileError, UserError
from core.io.imageio import read_label_ids, read_label_map, write_label_ids_png
from core.train.previews import render_labels

log = logging.getLogger(__name__)

PINNED_DIR = "pinned"
_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_STEP_FILE = re.compile(r"^step_(\d+)\.png$")


@dataclass(frozen=True)
class PinnedSample:
    """A pinned painting rendered with the weights of `step` (an event of the training stream)."""

    step: int
    name: str
    path: str  # where PinnedImageSink writes it: pinned/NAME/step_XXXXXXX.png
    image: np.ndarray = field(repr=False, compare=False)  # uint8 H×W×3
    labels: np.ndarray = field(repr=False, compare=False)  # uint8 H×W, for the file's provenance
    kind: str = "pinned_sample"


def pinned_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / PINNED_DIR


def safe_name(name: str) -> str:
    """A file-name-safe pin name (letters, digits, . _ -)."""
    cleaned = _NAME.sub("_", name).strip("._") or "painting"
    return cleaned[:80]


def render_path(run_dir: str | Path, name: str, step: int) -> Path:
    return pinned_dir(run_dir) / name / f"step_{step:07d}.png"


def pin_labels(run_dir: str | Path, ids: np.ndarray, name: str) -> Path:
    """Pin a label map to a run: writes pinned/NAME.png (a new name when NAME is taken by a
    different painting; the same painting pinned twice keeps one file)."""
    folder = pinned_dir(run_dir)
    base = safe_name(name)
    candidate, n = base, 2
    while (folder / f"{candidate}.png").exists():
        try:
            if np.array_equal(read_label_ids(folder / f"{candidate}.png"), ids):
                return folder / f"{candidate}.png"
        except BadFileError:
            pass
        candidate, n = f"{base}-{n}", n + 1
    path = folder / f"{candidate}.png"
    write_label_ids_png(path, np.ascontiguousarray(ids, dtype=np.uint8))
    return path


def pin_file(run_dir: str | Path, label_file: str | Path) -> Path:
    """`train --pin LABEL.png`: any label map (ids, colours, pix2pix A|B) pinned under its stem.
    UserError naming the file when it cannot be read."""
    read = read_label_map(label_file)  # raises BadFileError (a UserError) naming the file
    return pin_labels(run_dir, read.ids, Path(label_file).stem)


def list_pins(run_dir: str | Path) -> list[tuple[str, Path]]:
    """(name, label file) of every pin, sorted by name."""
    try:
        names = sorted(os.listdir(pinned_dir(run_dir)))
    except OSError:
        return []
    return [(n[:-4], pinned_dir(run_dir) / n) for n in names if n.endswith(".png")]


def list_renders(run_dir: str | Path) -> dict[str, list[tuple[int, Path]]]:
    """Pin name -> [(step, rendered PNG)] oldest first, for every pin (empty lists included)."""
    out: dict[str, list[tuple[int, Path]]] = {}
    for name, _ in list_pins(run_dir):
        try:
            files = os.listdir(pinned_dir(run_dir) / name)
        except OSError:
            files = []
        steps = sorted((int(m.group(1)), pinned_dir(run_dir) / name / f)
                       for f in files if (m := _STEP_FILE.match(f)))
        out[name] = steps
    return out


class PinSet:
    """The run's pins, re-read at each sample step (a cheap listdir; a file is decoded again only
    when its modification time changes). Unreadable pins are skipped with one log line."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self._cache: dict[Path, tuple[int, np.ndarray | None]] = {}

    def current(self) -> list[tuple[str, np.ndarray]]:
        pins: list[tuple[str, np.ndarray]] = []
        for name, path in list_pins(self.run_dir):
            try:
                stamp = path.stat().st_mtime_ns
            except OSError:
                continue
            cached = self._cache.get(path)
            if cached is None or cached[0] != stamp:
                try:
                    cached = (stamp, read_label_ids(path))
                except UserError as exc:
                    log.warning("pinned painting skipped: %s", exc)
                    cached = (stamp, None)
                self._cache[path] = cached
            if cached[1] is not None:
                pins.append((name, cached[1]))
        return pins

    def render(self, generator: torch.nn.Module, config: GeneratorConfig, device: torch.device, step: int, *,
               channels_last: bool = False) -> Iterator[PinnedSample]:
        """One PinnedSample per pin, rendered with `generator` as it is at `step`."""
        for name, ids in self.current():
            image = render_labels(generator, config, ids, device, channels_last=channels_last)
            yield PinnedSample(step=step, name=name, path=str(render_path(self.run_dir, name, step)), image=image,
                               labels=ids)


class PinnedImageSink:
    """Writes each PinnedSample's PNG (atomically) with its provenance: run, step, pin, label map.
    A failed write (disk full) is logged and training goes on: a missing film-strip frame is no
    reason to lose a run."""

    def __init__(self, run_name: str = "", input_encoding: str = "onehot") -> None:
        self.run_name = run_name
        self.input_encoding = input_encoding

    def handle(self, event: object) -> None:
        if not isinstance(event, PinnedSample):
            return
        record = provenance.Provenance(kind="pinned", model=None, labels=event.labels,
                                       extra={"run": self.run_name, "step": str(event.step), "pin": event.name,
                                              "input_encoding": self.input_encoding,
                                              "weights": "the run's generator at this step (eval mode)"})
        try:
            provenance.write_png(event.path, event.image, record)
        except OSError as exc:
            log.warning("pinned render %s not written: %s", event.path, exc)

    def close(self) -> None:
        pass
