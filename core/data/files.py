"""Listing image files the way users expect: known extensions, natural order (2.jpg before 10.jpg),
hidden files and our own temp files skipped."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm"})


def natural_key(path: Path) -> tuple:
    """Sort key: digit runs compare as numbers, so 2.jpg < 10.jpg."""
    parts = re.split(r"(\d+)", path.name.lower())
    return tuple(int(p) if p.isdigit() else p for p in parts)


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def list_images(folder: Path) -> list[Path]:
    """Image files directly in `folder` (not recursive), in natural order. Entries named like
    images are kept even when they are not regular files (a folder called x.png), so that reading
    them reports a named error instead of silently skipping them."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    return sorted((p for p in entries if is_image_file(p)), key=natural_key)


@dataclass(frozen=True)
class LoadedPair:
    """One decoded pair plus what the dataset check reports about it."""

    labels: np.ndarray  # uint8 H×W label ids
    photo: np.ndarray  # uint8 H×W×3
    snapped: int  # label pixels snapped to the palette (0 for id maps)
    files: tuple[Path, ...]  # the files the pair came from
    # Pixels of the dataset's own classes that its mapping sent to "unlabeled", by class name
    # (CamVid: {"Unlabelled": 5120, "Bridge": 80}); empty for sources already in Cityscapes ids.
    unmapped: dict[str, int] = field(default_factory=dict)


class FilePairSource:
    """Base of the dataset sources that read each pair from files: a subclass decodes a pair with
    `load_pair` (labels, photo and what the dataset check reports); indexing returns (labels, photo)."""

    def load_pair(self, index: int) -> LoadedPair:
        raise NotImplementedError

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        pair = self.load_pair(index)
        return pair.labels, pair.photo


def relative_name(path: Path, root: Path) -> str:
    """`path` relative to the dataset folder `root` (how a source describes a pair), else in full."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
