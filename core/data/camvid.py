"""CamVid, in the two forms it is distributed in:

- SegNet layout (../shared/data/camvid/): train/ trainannot/ val/ valannot/ test/ testannot/ with
  RGB photos and uint8 PNGs of SegNet's 11 CamVid class indices (0..11), and optionally
  train.txt / val.txt / test.txt listing one "photo label" pair per line. When a list exists it
  decides the pairs (in its order); its paths are taken literally (relative to the dataset folder,
  or absolute), and when that file does not exist, by their last two components inside the dataset
  folder (SegNet's lists say /SegNet/CamVid/train/x.png). Without lists, split/x.png pairs with
  splitannot/x.png.
- the original 32-class release: photos X.png with colour labels X_L.png, either in one folder or
  in two (e.g. 701_StillsRaw_full/ and LabeledApproved_full/). It has no official split: one split
  "" (training holds out a seeded share for validation).

Label PNGs hold CamVid classes, never Cityscapes ids, so they are not read with
core.io.imageio.read_label_ids: the raw indices (or exact colours) are mapped to Cityscapes label ids
with the one table of core.data.camvid_classes. A value or colour outside the table is a
BadFileError naming the file, the bad values and what is allowed; no snapping (lossless PNGs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from core.data.camvid_classes import (
    CAMVID11_CLASSES,
    CAMVID11_COVERED_LABEL_IDS,
    CAMVID11_LUT,
    CAMVID11_TO_LABEL_ID,
    CAMVID11_UNLABELLED,
    CAMVID11_VALID,
    CAMVID32_CLASSES,
    CAMVID32_COLOR_KEY_TO_CLASS,
    CAMVID32_COVERED_LABEL_IDS,
    CAMVID32_LUT,
    CAMVID32_NAMES,
    CAMVID32_TO_LABEL_ID,
    COLOR_KEY_BAD,
    UNLABELED_ID,
    CamVidClass,
)
from core.data.files import FilePairSource, LoadedPair, is_image_file, list_images, natural_key
from core.errors import BadFileError
from core.io.imageio import read_index_map, read_rgb

__all__ = [
    "CAMVID11_CLASSES", "CAMVID11_COVERED_LABEL_IDS", "CAMVID11_LUT", "CAMVID11_TO_LABEL_ID",
    "CAMVID32_CLASSES", "CAMVID32_COVERED_LABEL_IDS", "CAMVID32_NAMES", "CAMVID32_TO_LABEL_ID",
    "CAMVID_EXPECTED", "CamVidClass", "CamVidLayout", "CamVidSource", "camvid_splits", "find_camvid",
    "looks_like_camvid11", "map_camvid11", "map_camvid32_colors", "read_label_file",
]

SPLITS = ("train", "val", "test")
ANNOT = "annot"  # SegNet: the labels of split/ are in split + "annot"/
COLOR_LABEL_SUFFIX = "_L"  # original release: X.png's labels are X_L.png
_MAX_SUBFOLDERS = 50  # sub-folders looked at when searching the two-folder 32-class release

CAMVID_EXPECTED = (
    "CamVid: SegNet layout train/ trainannot/ (val/ valannot/, test/ testannot/, optional train.txt "
    "val.txt test.txt lists of 'photo label' lines), or the 32-class release: photos X.png with "
    "colour labels X_L.png in one folder or in two (e.g. 701_StillsRaw_full/ and LabeledApproved_full/)"
)

Variant = Literal["segnet", "colour"]


# ---- Mapping ------------------------------------------------------------------------------------

def _unmapped_by_name(counts: np.ndarray, lut: np.ndarray, names: tuple[str, ...]) -> dict[str, int]:
    """{class name: pixels} for the classes present that map to unlabeled."""
    return {names[i]: int(counts[i]) for i in range(len(names)) if counts[i] and lut[i] == UNLABELED_ID}


def map_camvid11(raw: np.ndarray, path: Path) -> tuple[np.ndarray, dict[str, int]]:
    """SegNet class indices (uint8 H×W) -> (Cityscapes label ids, unmapped pixels by class).
    One 256-bin count both validates and counts; one gather maps."""
    counts = np.bincount(raw.ravel(), minlength=256)
    bad = np.flatnonzero((counts > 0) & ~CAMVID11_VALID)
    if bad.size:
        shown = ", ".join(f"{int(v)} ({int(counts[v])} px)" for v in bad[:10]) + (", ..." if bad.size > 10 else "")
        allowed = ", ".join(f"{i} {n}" for i, n in enumerate(CAMVID11_CLASSES))
        raise BadFileError(path, f"values outside SegNet's 11-class CamVid table: {shown}; allowed: {allowed}")
    return CAMVID11_LUT[raw], _unmapped_by_name(counts, CAMVID11_LUT, CAMVID11_CLASSES)


def map_camvid32_colors(rgb: np.ndarray, path: Path) -> tuple[np.ndarray, dict[str, int]]:
    """A 32-class colour label map (uint8 H×W×3) -> (Cityscapes label ids, unmapped pixels by
    class). Colours must be exact (see CAMVID32_COLOR_KEY_TO_CLASS for the 64-entry lookup)."""
    key = ((rgb[..., 0] >> 6) << 4) | ((rgb[..., 1] >> 6) << 2) | (rgb[..., 2] >> 6)
    classes = CAMVID32_COLOR_KEY_TO_CLASS[key]
    off_grid = (rgb & 63).any()  # a channel value that is not a multiple of 64: never a CamVid colour
    counts = np.bincount(classes.ravel(), minlength=256)
    if off_grid or counts[COLOR_KEY_BAD]:
        bad_mask = (classes == COLOR_KEY_BAD) | (rgb & 63).any(axis=2)
        raise BadFileError(path, _bad_colours_reason(rgb[bad_mask]))
    ids = CAMVID32_LUT[classes]
    return ids, _unmapped_by_name(counts, CAMVID32_LUT, CAMVID32_NAMES)


def _bad_colours_reason(pixels: np.ndarray) -> str:
    colours, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
    order = np.argsort(-counts)
    shown = ", ".join(f"({c[0]}, {c[1]}, {c[2]}) {n} px" for c, n in zip(colours[order][:10], counts[order][:10],
                                                                          strict=True))
    more = f" (+{len(colours) - 10} more)" if len(colours) > 10 else ""
    return (f"colours not in CamVid's 32-class colour table: {shown}{more}; allowed: the 32 exact colours "
            "of CamVid's label_colors.txt (e.g. Road (128, 64, 128), Sky (128, 128, 128), Void (0, 0, 0))")


# ---- Layout -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CamVidLayout:
    variant: Variant
    splits: tuple[str, ...]  # "train", "val", "test" (SegNet) or "" (32-class release)
    photo_dir: Path | None = None  # 32-class release only
    label_dir: Path | None = None

    def describe(self, root: Path) -> str:
        if self.variant == "segnet":
            lists = [s for s in self.splits if _list_file(root, s).is_file()]
            how = f" + {', '.join(f'{s}.txt' for s in lists)}" if lists else ""
            return f"CamVid SegNet layout, 11 classes ({', '.join(f'{s}/ {s}{ANNOT}/' for s in self.splits)}{how})"
        assert self.photo_dir is not None and self.label_dir is not None
        where = ("photos and *_L.png labels in one folder" if self.photo_dir == self.label_dir else
                 f"photos in {_rel(self.photo_dir, root)}/, *_L.png labels in {_rel(self.label_dir, root)}/")
        return f"CamVid 32-class colour release ({where})"


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root)) or "."
    except ValueError:
        return str(path)


def _list_file(root: Path, split: str) -> Path:
    return root / f"{split}.txt"


def _looks_like_pair_list(path: Path) -> bool:
    """A SegNet list: its first non-empty line is two image paths."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for _, line in zip(range(20), fh, strict=False):
                fields = line.split()
                if fields:
                    return len(fields) == 2 and all(is_image_file(Path(f)) for f in fields)
    except OSError:
        return False
    return False


def _segnet_splits(root: Path) -> list[str]:
    return [s for s in SPLITS
            if ((root / s).is_dir() and (root / f"{s}{ANNOT}").is_dir())
            or (_list_file(root, s).is_file() and _looks_like_pair_list(_list_file(root, s)))]


def _label_stems(folder: Path) -> dict[str, Path]:
    """{photo stem: label path} for the X_L.<ext> files in `folder`."""
    return {p.stem[: -len(COLOR_LABEL_SUFFIX)]: p for p in list_images(folder)
            if p.stem.endswith(COLOR_LABEL_SUFFIX) and len(p.stem) > len(COLOR_LABEL_SUFFIX)}


def _photo_stems(folder: Path) -> dict[str, Path]:
    """{stem: photo path} for the images in `folder` that are not X_L labels. When a stem exists
    in several formats the PNG wins (CamVid's stills are PNGs)."""
    found: dict[str, Path] = {}
    for p in list_images(folder):
        if p.stem.endswith(COLOR_LABEL_SUFFIX):
            continue
        if p.stem not in found or p.suffix.lower() == ".png":
            found[p.stem] = p
    return found


def _colour_release(root: Path) -> tuple[Path, Path] | None:
    """(photo folder, label folder) of a 32-class release at `root`: the folder itself when it holds
    X.png and X_L.png, else a sub-folder of *_L labels whose stems match the photos of another
    sub-folder (or of `root`)."""
    labels_here = _label_stems(root)
    if labels_here and set(labels_here) & set(_photo_stems(root)):
        return root, root
    try:
        subfolders = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                            key=natural_key)[:_MAX_SUBFOLDERS]
    except OSError:
        return None
    label_dirs = [(d, stems) for d in subfolders if (stems := _label_stems(d))]
    for label_dir, stems in label_dirs:
        for photo_dir in [d for d in subfolders if d != label_dir] + [root]:
            if set(stems) & set(_photo_stems(photo_dir)):
                return photo_dir, label_dir
    return None


def find_camvid(root: Path) -> CamVidLayout | None:
    """The CamVid layout at `root`, or None. Folder and file names only; no image is decoded."""
    splits = _segnet_splits(root)
    if splits:
        return CamVidLayout("segnet", tuple(splits))
    found = _colour_release(root)
    if found:
        return CamVidLayout("colour", ("",), photo_dir=found[0], label_dir=found[1])
    return None


def camvid_splits(root: Path) -> list[str]:
    """The splits of the CamVid dataset at `root` ([] when it is not one)."""
    layout = find_camvid(Path(root))
    return list(layout.splits) if layout else []


# ---- Source -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Entry:
    photo: Path
    label: Path
    photo_found: bool
    label_found: bool
    origin: str = ""  # "train.txt line 3" for pairs from a list
    problem: str = ""  # a list line that is not "photo label": the reason (the file is origin's list)


def _resolve(root: Path, text: str) -> Path:
    """A path from a SegNet list: literal (relative to `root` unless absolute); when that does not
    exist, its last two components inside `root` (train/x.png)."""
    literal = Path(text) if Path(text).is_absolute() else root / text
    if literal.is_file():
        return literal
    tail = root.joinpath(*Path(text).parts[-2:])
    return tail if tail.is_file() or Path(text).is_absolute() else literal


def _entries_from_list(root: Path, split: str) -> list[_Entry]:
    list_path = _list_file(root, split)
    try:
        lines = list_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise BadFileError(list_path, f"cannot be read: {exc.strerror or exc}") from None
    entries = []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        origin = f"{list_path.name} line {number}"
        if not fields:
            continue
        if len(fields) != 2:
            entries.append(_Entry(list_path, list_path, False, False, origin,
                                  f"line {number}: expected 'photo label' (two paths), got {line.strip()[:120]!r}"))
            continue
        photo, label = _resolve(root, fields[0]), _resolve(root, fields[1])
        entries.append(_Entry(photo, label, photo.is_file(), label.is_file(), origin))
    return entries


def _entries_by_name(photo_files: dict[str, Path], label_files: dict[str, Path],
                     photo_dir: Path, label_dir: Path, label_name: str) -> list[_Entry]:
    """Pairs by stem; a missing partner keeps the path it should have had (for the message).
    `label_name` turns a stem into the label file name expected."""
    entries = []
    for stem in sorted(set(photo_files) | set(label_files), key=lambda s: natural_key(Path(s))):
        photo = photo_files.get(stem, photo_dir / f"{stem}.png")
        label = label_files.get(stem, label_dir / label_name.format(stem=stem))
        entries.append(_Entry(photo, label, stem in photo_files, stem in label_files))
    return entries


class CamVidSource(FilePairSource):
    """Pairs of one CamVid split: (Cityscapes label ids, photo). `split` "" is the 32-class
    release's single split."""

    def __init__(self, root: str | Path, split: str = "train") -> None:
        self.root = Path(root)
        self.split = split
        layout = find_camvid(self.root)
        if layout is None or split not in layout.splits:
            raise BadFileError(self.root, f"no CamVid split {split or '(no split folder)'!r} here; expected "
                                          + CAMVID_EXPECTED)
        self.layout = layout
        self.variant: Variant = layout.variant
        self.name = f"camvid:{self.root.name}/{split}" if split else f"camvid:{self.root.name}"
        self.entries = self._list_entries()

    def _list_entries(self) -> list[_Entry]:
        if self.variant == "segnet":
            if _list_file(self.root, self.split).is_file():
                return _entries_from_list(self.root, self.split)
            photos = {p.stem: p for p in list_images(self.root / self.split)}
            labels = {p.stem: p for p in list_images(self.root / f"{self.split}{ANNOT}")}
            return _entries_by_name(photos, labels, self.root / self.split, self.root / f"{self.split}{ANNOT}",
                                    "{stem}.png")
        photo_dir, label_dir = self.layout.photo_dir, self.layout.label_dir
        assert photo_dir is not None and label_dir is not None
        return _entries_by_name(_photo_stems(photo_dir), _label_stems(label_dir), photo_dir, label_dir,
                                "{stem}" + COLOR_LABEL_SUFFIX + ".png")

    def __len__(self) -> int:
        return len(self.entries)

    def describe(self, index: int) -> str:
        entry = self.entries[index]
        if entry.problem:
            return entry.origin
        return _rel(entry.photo, self.root)

    def load_pair(self, index: int) -> LoadedPair:
        entry = self.entries[index]
        if entry.problem:
            raise BadFileError(entry.photo, entry.problem)
        listed = f" (listed in {entry.origin})" if entry.origin else ""
        if not entry.photo_found and not entry.label_found:
            raise BadFileError(entry.photo, f"no such file, nor its label map {_rel(entry.label, self.root)}{listed}")
        if not entry.label_found:
            raise BadFileError(entry.photo,
                               f"missing partner file: no label map {_rel(entry.label, self.root)}{listed}")
        if not entry.photo_found:
            raise BadFileError(entry.label, f"missing partner file: no photo {_rel(entry.photo, self.root)}{listed}")
        photo = read_rgb(entry.photo)
        if self.variant == "segnet":
            ids, unmapped = map_camvid11(read_index_map(entry.label), entry.label)
        else:
            ids, unmapped = map_camvid32_colors(read_rgb(entry.label), entry.label)
        if ids.shape != photo.shape[:2]:
            raise BadFileError(entry.label, f"label map is {ids.shape[1]}×{ids.shape[0]} but its photo "
                                            f"{entry.photo.name} is {photo.shape[1]}×{photo.shape[0]}")
        return LoadedPair(labels=ids, photo=photo, snapped=0, files=(entry.photo, entry.label), unmapped=unmapped)


# ---- A CamVid label file opened on its own (the app's "open label map", infer) -----------------

#: Share of pixels with values 1..6 from which an all-≤11 single-channel map is read as CamVid.
#: In SegNet's CamVid those are Building, Pole, Road, Pavement, Tree and SignSymbol (most of every
#: frame, 0.6-0.9 on the 701 frames); in Cityscapes terms they are the void classes ego vehicle,
#: rectification border, out of roi, static, dynamic and ground, which the painting palette never
#: uses and which cover a small border of a Cityscapes ground-truth map (< 0.2).
CAMVID11_VOID_SHARE = 0.3


def looks_like_camvid11(values: np.ndarray, path: str | Path | None = None) -> bool:
    """True when a single-channel label map's raw values are SegNet's 11 CamVid classes rather
    than Cityscapes label ids: every value is 0..11 and values 1..6 (Cityscapes void ids, CamVid's
    building, pole, road, pavement, tree, sign) cover at least CAMVID11_VOID_SHARE of the pixels —
    or any at all when the file sits in a SegNet `*annot/` folder."""
    if values.size == 0:
        return False
    counts = np.bincount(values.ravel(), minlength=256)
    if counts[CAMVID11_UNLABELLED + 1:].any():
        return False
    void_share = counts[1:7].sum() / values.size
    in_annot = path is not None and Path(path).parent.name.endswith(ANNOT)
    return bool(void_share >= CAMVID11_VOID_SHARE or (in_annot and void_share > 0))


def read_label_file(path: str | Path):  # noqa: ANN201 - core.io.imageio.LabelMapRead
    """core.io.imageio.read_label_map, plus CamVid: a single-channel map of SegNet's 11 CamVid class
    indices (looks_like_camvid11) is mapped with the CamVid table instead of being misread as
    Cityscapes ids (sky would become unlabeled, cars sidewalk). Its `kind` is then "camvid11".
    Raises BadFileError."""
    from dataclasses import replace

    from core.io.imageio import read_label_map

    read = read_label_map(path)
    if read.kind == "ids" and looks_like_camvid11(read.ids, path):
        ids, _ = map_camvid11(read.ids, Path(path))
        return replace(read, ids=ids, kind="camvid11")
    return read
