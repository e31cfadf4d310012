"""Paired folders: A/ and B/ with matching file names (the stem decides: A/x.jpg pairs with B/x.png),
directly in the dataset folder or per split (train/A, train/B, val/A, ...).

As for aligned images, direction "BtoA" means the label maps are in B/ (the pix2pix Cityscapes
convention) and "AtoB" that they are in A/. Labels may be label-id PNGs (one channel) or colour
label maps (snapped to the palette).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.config import Direction
from core.data.files import FilePairSource, LoadedPair, list_images, natural_key, relative_name
from core.errors import BadFileError
from core.io.imageio import read_label_map, read_rgb

SPLITS = ("train", "val", "test")


def folder_splits(root: Path) -> list[str]:
    """"" when A/ and B/ are directly in `root`, else the split folders that have both."""
    if (root / "A").is_dir() and (root / "B").is_dir():
        return [""]
    return [s for s in SPLITS if (root / s / "A").is_dir() and (root / s / "B").is_dir()]


class FolderPairsSource(FilePairSource):
    def __init__(self, root: str | Path, direction: Direction = "BtoA", split: str = "") -> None:
        self.root = Path(root)
        self.direction = direction
        self.split = split
        base = self.root / split if split else self.root
        a_files = {p.stem: p for p in list_images(base / "A")}
        b_files = {p.stem: p for p in list_images(base / "B")}
        stems = sorted(set(a_files) | set(b_files), key=lambda s: natural_key(Path(s)))
        self.pairs: list[tuple[Path | None, Path | None]] = [(a_files.get(s), b_files.get(s)) for s in stems]
        self._base = base
        self.name = f"folders:{self.root.name}/{split}" if split else f"folders:{self.root.name}"

    def __len__(self) -> int:
        return len(self.pairs)

    def describe(self, index: int) -> str:
        a, b = self.pairs[index]
        path = a or b
        assert path is not None
        return relative_name(path, self.root)

    def load_pair(self, index: int) -> LoadedPair:
        a, b = self.pairs[index]
        if a is None or b is None:
            present = a or b
            assert present is not None
            other = "B" if b is None else "A"
            raise BadFileError(present, f"missing partner file: no {other}/{present.stem}.* with the same name")
        label_path, photo_path = (b, a) if self.direction == "BtoA" else (a, b)
        photo = read_rgb(photo_path)
        read = read_label_map(label_path)
        if read.kind == "aligned":
            raise BadFileError(label_path, "is an A|B image (label and photo side by side), not a label map; "
                                           "use the aligned layout for such images")
        if read.ids.shape != photo.shape[:2]:
            raise BadFileError(label_path, f"A and B have different sizes: {_size(a, label_path, read.ids, photo)}")
        return LoadedPair(labels=read.ids, photo=photo, snapped=read.snapped, files=(a, b))


def _size(a: Path, label_path: Path, ids: np.ndarray, photo: np.ndarray) -> str:
    label_size = f"{ids.shape[1]}×{ids.shape[0]}"
    photo_size = f"{photo.shape[1]}×{photo.shape[0]}"
    a_size, b_size = (label_size, photo_size) if a == label_path else (photo_size, label_size)
    return f"A is {a_size}, B is {b_size}"
