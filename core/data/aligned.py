"""pix2pix "aligned" datasets: one image per pair, the two halves side by side (A | B).

On the Cityscapes pix2pix set the photo is on the left (A) and the colour label map on the right
(B), and label -> photo is direction "BtoA". So the *input label* is B (right half) for BtoA and A
(left half) for AtoB. The label half is a colour map, usually JPEG: it is snapped to the palette
(core.data.snap) and the snapped share is reported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.config import Direction
from core.data.files import FilePairSource, LoadedPair, list_images, relative_name
from core.data.snap import snap_colors
from core.errors import BadFileError
from core.io.imageio import looks_like_label_map, read_rgb

SPLITS = ("train", "val", "test")
# Each half must be between 1:2 (portrait) and 2:1 (landscape); pix2pix sets are square halves
# (W = 2H). Anything else is most likely a stray photo, not a pair.
MIN_HALF_ASPECT, MAX_HALF_ASPECT = 0.5, 2.0


def aligned_splits(root: Path) -> dict[str, list[Path]]:
    """{split: files} for train/, val/, test/ subfolders holding images; {"": files} for a flat
    folder of images (used when no split subfolder has any)."""
    splits = {s: list_images(root / s) for s in SPLITS if (root / s).is_dir()}
    splits = {s: files for s, files in splits.items() if files}
    if not splits:
        flat = list_images(root)
        if flat:
            splits[""] = flat
    return splits


class AlignedSource(FilePairSource):
    """Pairs from A|B images. `split` "" means the images directly in `root`."""

    def __init__(self, root: str | Path, direction: Direction = "BtoA", split: str = "train",
                 files: list[Path] | None = None) -> None:
        self.root = Path(root)
        self.direction = direction
        self.split = split
        self.files = files if files is not None else list_images(self.root / split if split else self.root)
        self.name = f"aligned:{self.root.name}/{split}" if split else f"aligned:{self.root.name}"

    def __len__(self) -> int:
        return len(self.files)

    def describe(self, index: int) -> str:
        return relative_name(self.files[index], self.root)

    def load_pair(self, index: int) -> LoadedPair:
        path = self.files[index]
        image = read_rgb(path)
        h, w, _ = image.shape
        if w % 2:
            raise BadFileError(path, f"odd width {w}: an aligned image is two equal halves side by side")
        half = w // 2
        if not MIN_HALF_ASPECT <= half / h <= MAX_HALF_ASPECT:
            raise BadFileError(
                path, f"wrong aspect {w}×{h}: an aligned image is two halves side by side "
                      f"(usually width = 2 × height)")
        left, right = image[:, :half], image[:, half:]
        label_half, photo_half = (right, left) if self.direction == "BtoA" else (left, right)
        if not looks_like_label_map(label_half):
            side, other = ("right (B)", "left") if self.direction == "BtoA" else ("left (A)", "right")
            hint = (f", the {other} half is: try direction {'AtoB' if self.direction == 'BtoA' else 'BtoA'}"
                    if looks_like_label_map(photo_half) else "")
            if not hint and _is_grey(label_half):
                hint = " (the image is grayscale; label maps must be in the Cityscapes colours)"
            raise BadFileError(path, f"the {side} half is not a Cityscapes colour label map{hint}")
        snap = snap_colors(np.ascontiguousarray(label_half))
        return LoadedPair(labels=snap.ids, photo=np.ascontiguousarray(photo_half), snapped=snap.snapped,
                          files=(path,))


def _is_grey(rgb: np.ndarray) -> bool:
    return bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))
