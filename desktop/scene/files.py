"""Label-map files, exports, the recent-files list and crash recovery. No widgets here: the
functions run on any thread (the file controller calls the slow ones on a background thread).

All reading and writing goes through core.io.imageio (errors are BadFileError naming the file);
every write is atomic.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from core.io import imageio
from core.io.atomic import atomic_write_text, describe_write_error
from core.data.camvid import read_label_file
from core.errors import BadFileError
from core.labels import ids_to_color

if TYPE_CHECKING:  # a type only: this module imports no Qt
    from PySide6.QtCore import QSettings

#: Sizes a new scene may have (height and width). The upper bound is what read_label_map accepts.
MIN_SCENE_SIDE = 8
MAX_SCENE_SIDE = imageio.MAX_LABEL_MAP_SIDE
DEFAULT_SCENE_SIZE = (256, 512)  # (height, width), the pix2pix Cityscapes size

LABEL_FILE_FILTER = "Label maps (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;All files (*)"
SaveFormat = Literal["ids", "color"]


@dataclass(frozen=True)
class OpenedMap:
    path: Path
    ids: np.ndarray  # uint8 H×W label ids
    kind: Literal["ids", "color", "aligned", "camvid11"]
    snapped: int
    total: int

    def summary(self) -> str:
        """One line for the status bar: what was read and how much was snapped."""
        h, w = self.ids.shape
        what = {"ids": "label ids", "color": "colour label map",
                "aligned": "pix2pix A|B image (label half)",
                "camvid11": "CamVid label file (SegNet's 11 classes, read with the CamVid table)"}[self.kind]
        text = f"Opened {self.path.name}: {what}, {w}×{h}"
        if self.kind in ("color", "aligned"):
            share = self.snapped / self.total if self.total else 0.0
            text += f"; {share:.1%} of pixels snapped to the nearest class colour"
        return text


def open_label_map(path: str | Path) -> OpenedMap:
    """Read any label map the user hands us. Raises BadFileError (file + reason)."""
    p = Path(path)
    read = read_label_file(p)  # a SegNet CamVid label file is read with the CamVid table
    h, w = read.ids.shape
    if min(h, w) < MIN_SCENE_SIDE:
        raise BadFileError(p, f"label map too small ({w}×{h}; at least {MIN_SCENE_SIDE} px a side)")
    return OpenedMap(path=p, ids=read.ids, kind=read.kind, snapped=read.snapped, total=read.total)


def save_format_for(path: str | Path, selected_filter: str = "") -> SaveFormat:
    """Colour PNG when the user picked the colour filter or named the file like Cityscapes'
    `*_color.png`; label ids otherwise (the lossless, canonical form)."""
    if "colour" in selected_filter.lower() or "color" in selected_filter.lower():
        return "color"
    return "color" if Path(path).name.lower().endswith("_color.png") else "ids"


def save_label_map(path: str | Path, ids: np.ndarray, fmt: SaveFormat) -> Path:
    p = Path(path)
    try:
        if fmt == "color":
            imageio.write_color_png(p, ids)
        else:
            imageio.write_label_ids_png(p, ids)
    except OSError as exc:
        raise BadFileError(p, f"cannot be written: {describe_write_error(exc)}") from None
    return p


def export_png(path: str | Path, rgb: np.ndarray) -> Path:
    p = Path(path)
    try:
        imageio.write_png(p, rgb)
    except OSError as exc:
        raise BadFileError(p, f"cannot be written: {describe_write_error(exc)}") from None
    return p


def side_by_side(ids: np.ndarray, output: np.ndarray) -> np.ndarray:
    """Colour labels left, generated image right (same height; the output is H×W×3)."""
    labels = ids_to_color(ids)
    if labels.shape[:2] != output.shape[:2]:
        raise ValueError(f"labels {labels.shape[:2]} and output {output.shape[:2]} differ in size")
    return np.concatenate([labels, output], axis=1)


def blank_scene(height: int, width: int, fill_id: int = 0) -> np.ndarray:
    if not (MIN_SCENE_SIDE <= height <= MAX_SCENE_SIDE and MIN_SCENE_SIDE <= width <= MAX_SCENE_SIDE):
        raise ValueError(f"scene size {width}×{height} outside {MIN_SCENE_SIDE}..{MAX_SCENE_SIDE}")
    return np.full((height, width), fill_id, dtype=np.uint8)


# ---------------------------------------------------------------------------------- recent files


class RecentFiles:
    """Most-recently-used label maps, newest first, stored in QSettings."""

    KEY = "files/recent"
    LIMIT = 10

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def paths(self) -> list[Path]:
        raw = self._settings.value(self.KEY, [])
        if isinstance(raw, str):  # QSettings returns a bare string for a one-element list
            raw = [raw]
        return [Path(p) for p in raw] if isinstance(raw, list) else []  # None when unset

    def add(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        entries = [p] + [str(e) for e in self.paths() if str(e) != p]
        self._settings.setValue(self.KEY, entries[: self.LIMIT])

    def remove(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        self._settings.setValue(self.KEY, [str(e) for e in self.paths() if str(e) != p])

    def clear(self) -> None:
        self._settings.setValue(self.KEY, [])


# ------------------------------------------------------------------------------------- recovery


@dataclass(frozen=True)
class Recovered:
    ids: np.ndarray
    original_path: Path | None  # the file the scene came from, None for a new scene
    saved_at: float  # time.time() of the autosave
    save_format: SaveFormat = "ids"  # how the original file was written (Ctrl+S keeps it)

    def describe(self) -> str:
        h, w = self.ids.shape
        origin = str(self.original_path) if self.original_path else "a new, never saved scene"
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        return f"Unsaved changes to {origin} ({w}×{h}), autosaved {when}."


class RecoveryStore:
    """One recovery slot: `scene.png` (label ids) + `scene.json` (original path, time).

    The PNG is written first and the JSON last, each atomically, so a JSON that exists always
    describes a complete PNG. One slot per user: with two windows open, the last stroke wins."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.png = self.folder / "scene.png"
        self.meta = self.folder / "scene.json"

    def save(self, ids: np.ndarray, original_path: str | Path | None, save_format: SaveFormat = "ids") -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        imageio.write_label_ids_png(self.png, ids)
        meta = {"original_path": str(original_path) if original_path else None, "save_format": save_format,
                "saved_at": time.time(), "shape": list(ids.shape), "pid": os.getpid()}
        atomic_write_text(self.meta, json.dumps(meta))

    def exists(self) -> bool:
        return self.meta.is_file() and self.png.is_file()

    def load(self) -> Recovered | None:
        """The recovered scene, or None when there is none or it is unreadable (then removed)."""
        if not self.exists():
            return None
        try:
            meta = json.loads(self.meta.read_text(encoding="utf-8"))
            ids = imageio.read_label_ids(self.png)
            original = meta.get("original_path")
            fmt: SaveFormat = "color" if meta.get("save_format") == "color" else "ids"
            return Recovered(ids=ids, original_path=Path(original) if original else None,
                             saved_at=float(meta.get("saved_at", 0.0)), save_format=fmt)
        except (OSError, ValueError, BadFileError, AttributeError):
            self.clear()  # a broken recovery file must not nag on every start
            return None

    def clear(self) -> None:
        for p in (self.meta, self.png):
            p.unlink(missing_ok=True)


class Autosaver:
    """Writes the recovery file after every stroke on one background thread.

    Only the newest scene matters: a save request that arrives while a write runs replaces any
    older waiting request, so a burst of strokes costs at most two writes. The GUI thread only
    copies the array (≈0.1 ms for 256×512, ≈1 ms for 1024×2048).

    `on_result(error)` is called on the autosave thread after every write: None when it worked,
    else a one-line reason (disk full, read-only, ...); the recovery files written before stay
    as they were (every write is atomic)."""

    def __init__(self, store: RecoveryStore, on_result: Callable[[str | None], None] | None = None) -> None:
        self.store = store
        self.on_result = on_result
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        self._lock = threading.Lock()
        self._pending: tuple[np.ndarray, Path | None, SaveFormat] | None = None
        self._future: Future | None = None
        self._cleared_generation = 0
        self.last_error: BaseException | None = None
        self.last_write_s: float | None = None
        self._closed = False

    def schedule(self, ids: np.ndarray, original_path: str | Path | None, save_format: SaveFormat = "ids") -> None:
        if self._closed:
            return
        with self._lock:
            self._pending = (ids.copy(), Path(original_path) if original_path else None, save_format)
            if self._future is None or self._future.done():
                self._future = self._executor.submit(self._drain)

    def _drain(self) -> None:
        while True:
            with self._lock:
                item, self._pending = self._pending, None
            if item is None:
                return
            start = time.perf_counter()
            problem: str | None = None
            try:
                self.store.save(*item)
            except OSError as exc:
                self.last_error, problem = exc, describe_write_error(exc)
            except (BadFileError, ValueError) as exc:
                self.last_error, problem = exc, str(exc)
            self.last_write_s = time.perf_counter() - start
            if self.on_result is not None:
                self.on_result(problem)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait for the writes scheduled so far (tests, and before clearing)."""
        with self._lock:
            future = self._future
        if future is not None:
            future.result(timeout=timeout)

    def clear(self) -> None:
        """The scene was saved (or closed cleanly): drop waiting writes and the recovery file."""
        with self._lock:
            self._pending = None
        self.flush()
        self.store.clear()

    def shutdown(self) -> None:
        self._closed = True
        self.flush()
        self._executor.shutdown(wait=True)
