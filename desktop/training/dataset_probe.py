"""The dataset check as the form needs it: runs core.data.check (in a background task) and
returns a headline, the full text report and a preview grid (uint8 RGB), all plain data (no Qt)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.errors import UserError

if TYPE_CHECKING:
    from core.config import DataFormat, Direction

SYNTHETIC = "synthetic"


@dataclass(frozen=True)
class ProbeResult:
    ok: bool  # at least one usable pair
    headline: str  # one line for the form: "aligned: 8 usable pairs" or why the folder is unusable
    report: str  # the full check report, as `roadstudio-cli data check` prints it
    preview: np.ndarray | None  # uint8 H×W×3 grid of a few pairs (label colours | photo)
    photos_only: int = 0  # a folder of this many photos and no labels: the segmenter labels them


def probe_dataset(path: str, data_format: DataFormat, direction: Direction, preview_pairs: int = 4,
                  progress: Callable[[int, int], None] | None = None) -> ProbeResult:
    """Check `path` ("synthetic" or a folder) as a dataset. Never raises for bad data: an unusable
    folder is ok=False with the reason as headline (the engine refuses it with the same reason)."""
    from core.data.check import check_dataset, write_preview_grid

    if path != SYNTHETIC:
        folder = Path(path).expanduser()
        if not folder.exists():
            return ProbeResult(False, f"{folder}: no such folder", "", None)
        if not folder.is_dir():
            return ProbeResult(False, f"{folder}: is a file, not a dataset folder", "", None)
        path = str(folder)
    try:
        report = check_dataset(path, data_format, direction, progress=progress)
    except UserError as exc:
        return _photos_only(path, data_format) or ProbeResult(False, str(exc), "", None)
    text = report.format_text()
    if not report.usable:
        photos = _photos_only(path, data_format)
        if photos is not None:
            return photos
        reason = f"{report.root}: no usable pairs ({len(report.bad_files)} bad files; see the report)"
        return ProbeResult(False, reason, text, None)
    split_text = ", ".join(f"{name or 'all'} {split.valid}" for name, split in report.splits.items())
    headline = f"{report.layout}: {report.valid_pairs} usable pairs ({split_text})"
    if report.bad_files:
        headline += f", {len(report.bad_files)} bad files skipped"
    preview = None
    try:
        with tempfile.TemporaryDirectory(prefix="roadstudio-preview-") as tmp:
            out = write_preview_grid(report, Path(tmp) / "preview.png", n=preview_pairs, row_height=96)
            from PIL import Image

            with Image.open(out) as im:
                preview = np.asarray(im.convert("RGB")).copy()
    except (UserError, OSError, ValueError) as exc:
        text += f"\n(preview unavailable: {exc})"
    return ProbeResult(True, headline, text, preview)


def _photos_only(path: str, data_format: str) -> ProbeResult | None:
    """A folder of photos alone (format "Detect"): usable, the segmenter makes its labels."""
    if path == SYNTHETIC or data_format != "auto":
        return None
    from desktop.training.photos_first import photos_only_count

    count = photos_only_count(Path(path))
    if not count:
        return None
    report = (f"{path}: {count} photos and no labels.\nWhen the run starts, the bundled segmenter labels "
              "every photo (Cityscapes classes) into the run folder's autolabelled/ (A/ photos, B/ labels), "
              "and the run trains on that. Photos that cannot be read are named and skipped.")
    return ProbeResult(True, f"photos only: labels will be made by the segmenter ({count} photos)", report, None,
                       photos_only=count)
