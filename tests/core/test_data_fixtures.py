"""Builders for small on-disk datasets in every supported layout (used by the test_data_* files),
and a check that they look like the real thing."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from core.data.synthetic import generate_pair
from core.io.imageio import write_label_ids_png, write_png
from core.labels import ids_to_color

SIZE = (32, 64)  # (H, W) of one pair in the fixtures


def pair(index: int, size: tuple[int, int] = SIZE) -> tuple[np.ndarray, np.ndarray]:
    return generate_pair(7, index, size)


def save_jpeg(path: Path, rgb: np.ndarray, quality: int = 95) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # 4:4:4 chroma: tiny 32-px fixtures would otherwise lose their 1-px poles to chroma subsampling
    # (the realistic 4:2:0 case is fuzzed in test_data_snap.py).
    Image.fromarray(rgb).save(path, format="JPEG", quality=quality, subsampling=0)


def make_aligned(root: Path, splits: dict[str, int], label_right: bool = True, size: tuple[int, int] = (32, 32),
                 ) -> Path:
    """root/<split>/<i>.jpg A|B images (photo left, colour label right when label_right)."""
    k = 0
    for split, count in splits.items():
        for i in range(1, count + 1):
            labels, photo = pair(k, size)
            k += 1
            halves = [photo, ids_to_color(labels)] if label_right else [ids_to_color(labels), photo]
            folder = root / split if split else root
            save_jpeg(folder / f"{i}.jpg", np.concatenate(halves, axis=1))
    return root


def make_cityscapes(root: Path, splits: dict[str, int], city: str = "aachen") -> Path:
    k = 0
    for split, count in splits.items():
        for i in range(count):
            labels, photo = pair(k)
            k += 1
            stem = f"{city}_{i:06d}_000019"
            write_png(root / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png", photo)
            write_label_ids_png(root / "gtFine" / split / city / f"{stem}_gtFine_labelIds.png", labels)
            write_png(root / "gtFine" / split / city / f"{stem}_gtFine_color.png", ids_to_color(labels))
    return root


def make_folders(root: Path, count: int, colour_labels: bool = False, split: str = "") -> Path:
    """root/[split/]A/<i>.jpg photos and B/<i>.png label maps (ids, or colours)."""
    base = root / split if split else root
    for i in range(count):
        labels, photo = pair(i)
        save_jpeg(base / "A" / f"img{i}.jpg", photo)
        if colour_labels:
            write_png(base / "B" / f"img{i}.png", ids_to_color(labels))
        else:
            write_label_ids_png(base / "B" / f"img{i}.png", labels)
    return root


def jpeg_bytes(rgb: np.ndarray, quality: int = 75) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def test_fixture_builders_write_the_documented_layouts(tmp_path: Path) -> None:
    make_aligned(tmp_path / "al", {"train": 2, "val": 1})
    make_cityscapes(tmp_path / "cs", {"train": 2})
    make_folders(tmp_path / "fo", 2)
    assert sorted(p.name for p in (tmp_path / "al" / "train").iterdir()) == ["1.jpg", "2.jpg"]
    with Image.open(tmp_path / "al" / "val" / "1.jpg") as im:
        assert im.size == (64, 32)
    assert len(list((tmp_path / "cs" / "gtFine" / "train" / "aachen").glob("*_gtFine_labelIds.png"))) == 2
    assert sorted(p.name for p in (tmp_path / "fo" / "B").iterdir()) == ["img0.png", "img1.png"]
