"""The scene shown when the app starts with nothing to open: a bundled sample scene if there is
one, else a procedural street from core.data.synthetic (when that module exists), else a blank
canvas of the default size."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import BadFileError
from core.io.resources import resource_path
from desktop.scene import files

SAMPLE_SUFFIXES = (".png", ".jpg", ".jpeg")


def sample_scene_paths() -> list[Path]:
    folder = resource_path("samples")
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SAMPLE_SUFFIXES and p.is_file())


def default_scene() -> tuple[np.ndarray, Path | None, str]:
    """(label ids, the sample file it came from or None, a description)."""
    for path in sample_scene_paths():
        try:
            opened = files.open_label_map(path)
        except BadFileError:
            continue  # a broken sample must not stop the app from starting
        return opened.ids, path, f"sample scene {path.name}"
    ids = _synthetic_scene()
    if ids is not None:
        return ids, None, "a generated street scene"
    h, w = files.DEFAULT_SCENE_SIZE
    return files.blank_scene(h, w), None, "a blank scene"


def _synthetic_scene() -> np.ndarray | None:
    """A procedural street from core.data.synthetic, whatever its exact entry point is named."""
    try:
        from core.data import synthetic
    except ImportError:
        return None
    h, w = files.DEFAULT_SCENE_SIZE
    for name in ("street_labels", "generate_labels", "render_labels", "make_label_map"):
        fn = getattr(synthetic, name, None)
        if fn is None:
            continue
        try:
            ids = fn(0, height=h, width=w)
        except TypeError:
            try:
                ids = fn(0)
            except Exception:  # noqa: BLE001 - fall back to the next option
                continue
        except Exception:  # noqa: BLE001 - a generator that fails: try the next option
            continue
        arr = np.asarray(ids)
        if arr.ndim == 2 and arr.dtype == np.uint8:
            return arr
    return None
