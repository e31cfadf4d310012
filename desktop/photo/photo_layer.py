"""What the app remembers about a photo opened as a label map (File ▸ Open photo…).

No Qt here: the edit mode (issue 19 §4) reads it from a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


def _frozen(array: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(array)
    out.flags.writeable = False  # shared between threads and the undo stack: never written
    return out


@dataclass(frozen=True, eq=False)
class PhotoSource:
    """The photo behind the canvas document, and the labels the segmenter made of it.

    `rgb` is the upright photo (EXIF orientation applied, greyscale/CMYK/16-bit converted, huge
    photos scaled down) at exactly the label map's size, so pixel (y, x) of the photo is pixel
    (y, x) of the labels. `original_ids` are the segmenter's labels as opened: the user's edits
    are where the document's ids differ from them (`changed_mask`), which is the only region an
    edit mode needs to re-render; everywhere else the photo stays as it is. Both arrays are
    read-only.
    """

    path: Path  # the photo file as opened
    sha256: str  # SHA-256 of that file (core.render.provenance.file_sha256), for provenance of edits
    rgb: np.ndarray  # uint8 H×W×3, upright, at the label map's size
    original_ids: np.ndarray  # uint8 H×W Cityscapes label ids made by the segmenter
    source_size: tuple[int, int]  # (width, height) of the upright photo before any scaling
    notes: tuple[str, ...]  # what was done to the photo to read it (orientation, conversion, scaling)
    segmenter: str  # file name of the segmenter that made `original_ids`
    segmenter_sha256: str

    def __post_init__(self) -> None:
        if self.rgb.ndim != 3 or self.rgb.shape[2] != 3 or self.rgb.dtype != np.uint8:
            raise ValueError(f"photo must be uint8 H×W×3, got {self.rgb.dtype} {self.rgb.shape}")
        if self.original_ids.shape != self.rgb.shape[:2] or self.original_ids.dtype != np.uint8:
            raise ValueError(f"labels {self.original_ids.dtype} {self.original_ids.shape} do not fit the photo "
                             f"{self.rgb.shape[:2]}")
        object.__setattr__(self, "rgb", _frozen(self.rgb))
        object.__setattr__(self, "original_ids", _frozen(self.original_ids))

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the photo and of its label map."""
        return (int(self.rgb.shape[0]), int(self.rgb.shape[1]))

    def changed_mask(self, ids: np.ndarray) -> np.ndarray:
        """bool H×W: where `ids` (the document's labels now) differ from the segmenter's."""
        if ids.shape != self.original_ids.shape:
            raise ValueError(f"labels {ids.shape} are not the photo's size {self.original_ids.shape}")
        return np.asarray(ids) != self.original_ids

    def describe(self) -> str:
        """One line for the status bar."""
        h, w = self.shape
        text = f"{self.path.name}: {w}×{h}, labels by {self.segmenter}"
        return f"{text} ({'; '.join(self.notes)})" if self.notes else text
