"""Which layout a dataset folder has, and the sources for its splits.

Detection looks at folder names only (no image is decoded): Cityscapes has leftImg8bit/ and gtFine/;
paired folders have A/ and B/ (directly or per split); CamVid has SegNet's trainannot/ (valannot/,
testannot/) beside train/ (or train.txt-style pair lists), or photos X.png with colour labels X_L.png
(checked before the aligned fallback, since SegNet's train/ of plain photos would otherwise pass for
aligned images); anything else holding images — in train/, val/, test/ or directly — is taken as
aligned A|B images. The user can override the guess, and a
folder that does not fit the layout asked for is a UserError saying what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from core.config import DataFormat, Direction
from core.data.aligned import AlignedSource, aligned_splits
from core.data.base import PairSource
from core.data.camvid import CAMVID_EXPECTED, CamVidSource, find_camvid
from core.data.cityscapes import CityscapesSource, cityscapes_splits
from core.data.folders import FolderPairsSource, folder_splits
from core.errors import UserError

SYNTHETIC: Final = "synthetic"

EXPECTED_LAYOUTS = (
    "aligned A|B images (train/*.jpg, val/*.jpg or *.jpg directly), "
    "Cityscapes (leftImg8bit/<split>/<city>/*_leftImg8bit.png + gtFine/<split>/<city>/*_gtFine_labelIds.png), "
    "paired folders A/ and B/ with matching file names, "
    "or " + CAMVID_EXPECTED
)


@dataclass(frozen=True)
class Layout:
    """A detected dataset: its format and the split names that hold pairs ("" = no split folder)."""

    root: Path
    format: DataFormat
    splits: tuple[str, ...]
    detail: str = ""  # a finer description where one format has variants (CamVid SegNet / 32-class)

    def describe(self) -> str:
        splits = ", ".join(s or "(no split folders)" for s in self.splits)
        return f"{self.format} ({splits})"


def _check_folder(root: Path) -> None:
    if not root.exists():
        raise UserError(f"{root}: no such folder")
    if not root.is_dir():
        raise UserError(f"{root}: is a file, not a dataset folder; expected {EXPECTED_LAYOUTS}")
    try:
        entries = [p for p in root.iterdir() if not p.name.startswith(".")]
    except PermissionError:
        raise UserError(f"{root}: cannot be read: permission denied") from None
    if not entries:
        raise UserError(f"{root}: the folder is empty; expected {EXPECTED_LAYOUTS}")


def detect_layout(path: str | Path,
                  format: DataFormat = "auto",  # noqa: A002 - the setting's own name (data.format, --format)
                  ) -> Layout:
    """Find the layout of `path` (or check that it fits `format`). Raises UserError."""
    if format == SYNTHETIC or (format == "auto" and str(path) == SYNTHETIC):
        return Layout(Path(SYNTHETIC), SYNTHETIC, ("train", "val"))
    root = Path(path).expanduser()
    _check_folder(root)
    if format in ("auto", "cityscapes"):
        splits = cityscapes_splits(root)
        if (root / "leftImg8bit").is_dir() and (root / "gtFine").is_dir() and splits:
            return Layout(root, "cityscapes", tuple(splits))
        if format == "cityscapes":
            raise UserError(f"{root}: not a Cityscapes folder: expected leftImg8bit/<split>/<city>/*_leftImg8bit.png "
                            "and gtFine/<split>/<city>/*_gtFine_labelIds.png")
    if format in ("auto", "folders"):
        splits = folder_splits(root)
        if splits:
            return Layout(root, "folders", tuple(splits))
        if format == "folders":
            raise UserError(f"{root}: not a paired-folders dataset: expected A/ and B/ (or train/A and train/B) "
                            "with matching file names")
    if format in ("auto", "camvid"):
        camvid = find_camvid(root)
        if camvid is not None:
            return Layout(root, "camvid", camvid.splits, detail=camvid.describe(root))
        if format == "camvid":
            raise UserError(f"{root}: not a CamVid folder: expected {CAMVID_EXPECTED}")
    if format in ("auto", "aligned"):
        found = aligned_splits(root)
        if found:
            return Layout(root, "aligned", tuple(found))
        if format == "aligned":
            raise UserError(f"{root}: no images found: an aligned dataset has A|B images in train/, val/, test/ "
                            "or directly in the folder")
    nested = _datasets_inside(root)
    if nested:
        raise UserError(f"{root}: not a dataset itself, but it holds {len(nested)}: "
                        + ", ".join(str(p) for p in nested[:4]) + (", ..." if len(nested) > 4 else ""))
    raise UserError(f"{root}: not a dataset (no images found); expected {EXPECTED_LAYOUTS}")


def _datasets_inside(root: Path) -> list[Path]:
    """Sub-folders of `root` that are datasets (for a helpful message when the user picked the
    folder above the dataset)."""
    found = []
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    for child in children[:50]:
        try:
            detect_layout(child)
        except UserError:
            continue
        found.append(child)
    return found


def open_split(layout: Layout, split: str, direction: Direction = "BtoA") -> PairSource:
    """The source for one split of a detected (non-synthetic) layout."""
    if layout.format == "cityscapes":
        return CityscapesSource(layout.root, split)
    if layout.format == "folders":
        return FolderPairsSource(layout.root, direction, split)
    if layout.format == "aligned":
        return AlignedSource(layout.root, direction, split)
    if layout.format == "camvid":
        return CamVidSource(layout.root, split)
    raise ValueError(f"no file source for format {layout.format!r}")
