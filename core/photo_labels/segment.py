"""Label maps out of photos: `roadstudio-cli segment` and `roadstudio-cli data autolabel` (issue 19).

A photo is read as users have it (core.io.imageio.read_photo: JPEG/PNG/WebP/..., EXIF orientation
applied, greyscale/CMYK/16-bit converted to RGB), scaled down when its longer side exceeds
`max_side` (a note says so: the label map has the scaled size, which is also the size the photo
is paired at), segmented by a segmenter (default: the bundled 19-class `segmenter19.safetensors`)
and written as a Cityscapes labelIds PNG with provenance chunks naming the segmenter (file name,
SHA-256, class set) and the photo (name, SHA-256, size, notes). Every bad photo is a
BadFileError naming the file; nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core.render import provenance
from core.errors import BadFileError
from core.eval.segmenter import Segmenter, resolve_segmenter
from core.io.imageio import read_photo
from core.labels import ids_to_color

#: Longest photo side kept as is; larger photos are scaled down to it (the label map a canvas or
#: a training run uses does not need more, and the segmenter looks at ~320 px anyway).
MAX_PHOTO_SIDE = 2048
#: The bundled segmenter `segment` and `autolabel` use unless told otherwise.
DEFAULT_SEGMENTER = "city19"


@dataclass(frozen=True)
class SegmentedPhoto:
    path: Path
    photo: np.ndarray  # uint8 H×W×3: the upright RGB photo at the label map's size
    ids: np.ndarray  # uint8 H×W Cityscapes label ids
    source_size: tuple[int, int]  # (width, height) of the upright photo before any scaling
    notes: tuple[str, ...]  # what was done to the photo (orientation, conversion, scaling)
    unchanged: bool  # the file's own pixels, as stored: no orientation, conversion or scaling


def load_photo(path: str | Path, max_side: int = MAX_PHOTO_SIDE) -> tuple[np.ndarray, tuple[int, int], tuple[str, ...],
                                                                        bool]:
    """(uint8 RGB, (w, h) before scaling, notes, unchanged). BadFileError for a bad photo."""
    p = Path(path)
    read = read_photo(p)
    rgb = read.rgb
    h, w = rgb.shape[:2]
    if min(h, w) < 16:
        raise BadFileError(p, f"photo too small to segment ({w}×{h}; at least 16 px a side)")
    notes = list(read.notes)
    if max(h, w) > max_side:
        scale = max_side / max(h, w)
        nw, nh = max(16, round(w * scale)), max(16, round(h * scale))
        rgb = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.Resampling.LANCZOS), dtype=np.uint8)
        notes.append(f"scaled down from {w}×{h} to {nw}×{nh} (longest side {max_side})")
    return rgb, (w, h), tuple(notes), not notes


class PhotoSegmenter:
    """A loaded segmenter plus what provenance records about it (hashed once)."""

    def __init__(self, segmenter: str | Path | None = DEFAULT_SEGMENTER, device: str = "cpu",
                 max_side: int = MAX_PHOTO_SIDE) -> None:
        path = resolve_segmenter(segmenter)
        self.segmenter = Segmenter.load(path, device)  # CheckpointError names the file
        self.sha256 = provenance.file_sha256(path)
        self.max_side = max_side

    def segment_file(self, path: str | Path) -> SegmentedPhoto:
        p = Path(path)
        rgb, size, notes, unchanged = load_photo(p, self.max_side)
        return SegmentedPhoto(path=p, photo=rgb, ids=self.segment_rgb(rgb), source_size=size, notes=notes,
                              unchanged=unchanged)

    def segment_rgb(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 H×W×3 RGB -> uint8 H×W label ids."""
        return np.ascontiguousarray(self.segmenter.predict_ids(rgb), dtype=np.uint8)

    def record(self, result: SegmentedPhoto, kind: str = "segment") -> provenance.Provenance:
        seg = self.segmenter
        extra = {"segmenter_name": seg.path.name if seg.path else "", "segmenter_sha256": self.sha256,
                 "segmenter_classes": seg.class_set.key, "photo_name": result.path.name,
                 "photo_sha256": provenance.file_sha256(result.path),
                 "photo_size": f"{result.source_size[0]}x{result.source_size[1]}"}
        if result.notes:
            extra["photo_notes"] = "; ".join(result.notes)
        return provenance.Provenance(kind=kind, model=None, extra=extra)

    def write(self, result: SegmentedPhoto, out: Path, colour: Path | None = None) -> None:
        """The labelIds PNG (and a colour view) with provenance, atomically."""
        record = self.record(result)
        provenance.write_png(out, result.ids, record)
        if colour is not None:
            provenance.write_png(colour, ids_to_color(result.ids), record)
