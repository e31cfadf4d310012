"""Cityscapes in its official layout:
leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png + gtFine/<split>/<city>/<stem>_gtFine_labelIds.png.

torchvision's `Cityscapes` enumerates the pairs (it knows the file naming); its loading is not used,
because every decode must go through core.io.imageio's named errors. It is only constructed when both
folders exist: otherwise it would try to extract zip archives into the user's folder.
Photos without a label file and label files without a photo are kept as pairs that raise
"missing partner file", so the dataset check lists them.
"""

from __future__ import annotations

from pathlib import Path

from torchvision.datasets import Cityscapes

from core.data.files import FilePairSource, LoadedPair, natural_key
from core.errors import BadFileError
from core.io.imageio import read_label_ids, read_rgb

PHOTO_SUFFIX = "_leftImg8bit.png"
# torchvision's own naming rule (a private helper, called unbound): "_gtFine_labelIds.png".
LABEL_SUFFIX = "_" + Cityscapes._get_target_suffix(None, "gtFine", "semantic")  # noqa: SLF001 - no public API names it
SPLITS = ("train", "val", "test")


def cityscapes_splits(root: Path) -> list[str]:
    """Splits that have a photo or a label folder."""
    return [s for s in SPLITS if (root / "leftImg8bit" / s).is_dir() or (root / "gtFine" / s).is_dir()]


def _listed(folder: Path, suffix: str) -> dict[tuple[str, str], Path]:
    """{(city, stem): path} for files ending in `suffix` one level below `folder`."""
    found: dict[tuple[str, str], Path] = {}
    if not folder.is_dir():
        return found
    for city in folder.iterdir():
        if not city.is_dir():
            continue
        for path in city.iterdir():
            if path.name.endswith(suffix):
                found[(city.name, path.name[: -len(suffix)])] = path
    return found


def _pairs_via_torchvision(root: Path, split: str) -> list[tuple[Path, Path]] | None:
    if not ((root / "leftImg8bit" / split).is_dir() and (root / "gtFine" / split).is_dir()):
        return None
    try:
        tv = Cityscapes(str(root), split=split, mode="fine", target_type="semantic")
    except (OSError, RuntimeError, ValueError):
        return None  # e.g. a stray file among the city folders: fall back to our own listing
    return [(Path(img), Path(tgt[0])) for img, tgt in zip(tv.images, tv.targets, strict=True)
            if img.endswith(PHOTO_SUFFIX)]


class CityscapesSource(FilePairSource):
    def __init__(self, root: str | Path, split: str = "train") -> None:
        self.root = Path(root)
        self.split = split
        self.name = f"cityscapes:{self.root.name}/{split}"
        photos = _listed(self.root / "leftImg8bit" / split, PHOTO_SUFFIX)
        labels = _listed(self.root / "gtFine" / split, LABEL_SUFFIX)
        pairs: dict[tuple[str, str], tuple[Path | None, Path | None]] = {}
        for photo, label in _pairs_via_torchvision(self.root, split) or []:
            pairs[(photo.parent.name, photo.name[: -len(PHOTO_SUFFIX)])] = (photo, label if label.is_file() else None)
        for key, photo in photos.items():
            pairs.setdefault(key, (photo, labels.get(key)))
        for key, label in labels.items():
            if key not in pairs:
                pairs[key] = (None, label)
            elif pairs[key][1] is None:
                pairs[key] = (pairs[key][0], label)
        ordered = sorted(pairs, key=lambda k: (k[0], natural_key(Path(k[1]))))
        self.pairs: list[tuple[Path | None, Path | None]] = [pairs[k] for k in ordered]
        self._stems = ordered

    def __len__(self) -> int:
        return len(self.pairs)

    def describe(self, index: int) -> str:
        city, stem = self._stems[index]
        return f"{self.split}/{city}/{stem}"

    def load_pair(self, index: int) -> LoadedPair:
        photo_path, label_path = self.pairs[index]
        city, stem = self._stems[index]
        if label_path is None:
            assert photo_path is not None  # a pair has at least one of its two files
            expected = self.root / "gtFine" / self.split / city / f"{stem}{LABEL_SUFFIX}"
            raise BadFileError(photo_path,
                               f"missing partner file: no label map {expected.name} in gtFine/{self.split}/{city}")
        if photo_path is None:
            expected = self.root / "leftImg8bit" / self.split / city / f"{stem}{PHOTO_SUFFIX}"
            raise BadFileError(label_path,
                               f"missing partner file: no photo {expected.name} in leftImg8bit/{self.split}/{city}")
        photo = read_rgb(photo_path)
        labels = read_label_ids(label_path)
        if labels.shape != photo.shape[:2]:
            raise BadFileError(label_path, f"label map is {labels.shape[1]}×{labels.shape[0]} but its photo is "
                                           f"{photo.shape[1]}×{photo.shape[0]}")
        return LoadedPair(labels=labels, photo=photo, snapped=0, files=(photo_path, label_path))
