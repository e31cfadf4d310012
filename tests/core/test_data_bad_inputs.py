"""Every bad input of issue 3 item 4, at the dataset level: the check (and so training) lists the
file with a named reason, keeps the good pairs, and never crashes. Convertible images (grayscale,
RGBA, palette, 16-bit) are converted."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.data.check import check_dataset
from core.errors import BadFileError, UserError
from core.io.imageio import write_label_ids_png, write_png
from core.labels import ids_to_color
from tests.core.test_data_fixtures import jpeg_bytes, make_aligned, make_folders, pair, save_jpeg


def _reasons(report) -> dict[str, str]:
    return {path.name: reason for path, reason in report.bad_files}


@pytest.fixture
def broken_aligned(tmp_path: Path) -> Path:
    root = make_aligned(tmp_path / "ds", {"train": 3})
    train = root / "train"
    (train / "4.jpg").write_bytes(b"")
    data = (train / "1.jpg").read_bytes()
    (train / "5.jpg").write_bytes(data[: len(data) // 2])
    (train / "6.jpg").write_text("hello, I am a text file\n")
    labels, photo = pair(0, (32, 32))
    both = np.concatenate([photo, ids_to_color(labels)], axis=1)
    save_jpeg(train / "7.jpg", both[:, :63])  # odd width
    wide_labels, wide_photo = pair(1, (32, 64))
    save_jpeg(train / "8.jpg", np.concatenate([wide_photo, ids_to_color(wide_labels)], axis=1))  # 2:1 halves: fine
    save_jpeg(train / "9.jpg", both.transpose(1, 0, 2))  # portrait: wrong aspect
    png = tmp_path / "p.png"
    write_png(png, both)
    raw = png.read_bytes()
    (train / "10.png").write_bytes(raw[: len(raw) * 2 // 3])  # truncated PNG
    (train / "11.jpg").mkdir()  # a folder named like an image
    return root


def test_aligned_bad_files_are_named(broken_aligned: Path) -> None:
    report = check_dataset(broken_aligned)
    reasons = _reasons(report)
    assert reasons == {
        "4.jpg": "empty file (0 bytes)",
        "5.jpg": "truncated or corrupt image",
        "6.jpg": "not an image file",
        "7.jpg": "odd width 63: an aligned image is two equal halves side by side",
        "9.jpg": "wrong aspect 32×64: an aligned image is two halves side by side (usually width = 2 × height)",
        "10.png": "truncated or corrupt image",
        "11.jpg": "is a folder, not an image file",
    }
    assert report.valid_pairs == 4 and report.usable  # 1-3 and the 2:1-halves image 8.jpg
    text = report.format_text()
    for name, reason in reasons.items():
        assert f"{name}: {reason}" in text


def test_decompression_bomb_in_a_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_aligned(tmp_path / "ds", {"train": 2})
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64×32 = 2048 pixels: over twice the limit
    report = check_dataset(root)
    assert set(_reasons(report).values()) == {"image too large (64×32 pixels, limit 1000)"}
    assert not report.usable


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="running as root: chmod 000 does not stop root from reading "
                           "(the reason mapping is tested in test_imageio.py via a refusing open())")
def test_unreadable_file_in_a_dataset(tmp_path: Path) -> None:
    root = make_aligned(tmp_path / "ds", {"train": 2})
    locked = root / "train" / "1.jpg"
    locked.chmod(0)
    try:
        assert _reasons(check_dataset(root)) == {"1.jpg": "cannot be read: permission denied"}
    finally:
        locked.chmod(0o644)


def test_folder_pairs_bad_inputs(tmp_path: Path) -> None:
    root = make_folders(tmp_path / "fo", 3)
    labels, photo = pair(0)
    # A and B of different sizes.
    save_jpeg(root / "A" / "small.jpg", photo[:16, :32])
    write_label_ids_png(root / "B" / "small.png", labels)
    # Missing partners, both ways.
    save_jpeg(root / "A" / "lonely.jpg", photo)
    write_label_ids_png(root / "B" / "orphan.png", labels)
    # Ids outside the Cityscapes table.
    bad = labels.copy()
    bad[0, :3] = [40, 41, 250]
    save_jpeg(root / "A" / "badids.jpg", photo)
    write_png(root / "B" / "badids.png", bad)
    # A photo where the label map should be (wrong direction or wrong file).
    save_jpeg(root / "A" / "photo2.jpg", photo)
    write_png(root / "B" / "photo2.png", photo)
    reasons = _reasons(check_dataset(root))
    assert reasons["small.png"] == "A and B have different sizes: A is 32×16, B is 64×32"
    assert reasons["lonely.jpg"] == "missing partner file: no B/lonely.* with the same name"
    assert reasons["orphan.png"] == "missing partner file: no A/orphan.* with the same name"
    assert reasons["badids.png"] == "label ids outside the Cityscapes table (0..33): 40, 41, 250"
    assert reasons["photo2.png"].startswith("does not look like a label map")
    assert len(reasons) == 5


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16"])
def test_convertible_photo_modes_are_converted(tmp_path: Path, mode: str) -> None:
    root = make_folders(tmp_path / "fo", 1)
    _, photo = pair(0)
    target = root / "A" / "img0.png"
    (root / "A" / "img0.jpg").unlink()
    image = Image.fromarray(photo)
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image.convert("L")).astype(np.uint16) * 257)
    else:
        image = image.convert(mode)
    image.save(target)
    report = check_dataset(root)
    assert report.bad_files == [] and report.valid_pairs == 1


def test_16bit_label_ids_are_read(tmp_path: Path) -> None:
    root = make_folders(tmp_path / "fo", 1)
    labels, _ = pair(0)
    Image.fromarray(labels.astype(np.uint16)).save(root / "B" / "img0.png")
    report = check_dataset(root)
    assert report.valid_pairs == 1


def test_grayscale_label_half_in_aligned_image_is_rejected_by_name(tmp_path: Path) -> None:
    labels, photo = pair(0, (32, 32))
    grey = np.concatenate([photo, ids_to_color(labels)], axis=1).mean(axis=2).astype(np.uint8)
    (tmp_path / "ds").mkdir()
    Image.fromarray(grey).save(tmp_path / "ds" / "1.png")
    reasons = _reasons(check_dataset(tmp_path / "ds"))
    assert reasons == {"1.png": "the right (B) half is not a Cityscapes colour label map (the image is grayscale; "
                                "label maps must be in the Cityscapes colours)"}


def test_empty_folder_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="the folder is empty"):
        check_dataset(tmp_path / "empty")
    with pytest.raises(UserError, match="no such folder"):
        check_dataset(tmp_path / "missing")
    (tmp_path / "onlytrain" / "train").mkdir(parents=True)
    with pytest.raises(UserError, match="not a dataset"):
        check_dataset(tmp_path / "onlytrain")


def test_jpeg_label_noise_is_reported_as_snapped(tmp_path: Path) -> None:
    labels, photo = pair(3, (64, 64))
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "1.jpg").write_bytes(jpeg_bytes(np.concatenate([photo, ids_to_color(labels)], axis=1)))
    report = check_dataset(tmp_path / "ds")
    assert report.valid_pairs == 1 and 0.05 < report.snapped_share < 1.0


def test_reading_a_bad_pair_directly_raises_bad_file_error(broken_aligned: Path) -> None:
    from core.data.aligned import AlignedSource

    source = AlignedSource(broken_aligned, "BtoA", "train")
    names = [source.describe(i) for i in range(len(source))]
    with pytest.raises(BadFileError) as exc:
        source[names.index("train/6.jpg")]
    assert exc.value.path.name == "6.jpg"


def test_cityscapes_label_and_photo_of_different_sizes(tmp_path: Path) -> None:
    from tests.core.test_data_fixtures import make_cityscapes

    root = make_cityscapes(tmp_path / "cs", {"train": 2})
    labels, _ = pair(5)
    write_label_ids_png(root / "gtFine" / "train" / "aachen" / "aachen_000001_000019_gtFine_labelIds.png",
                        labels[:16, :32])
    reasons = _reasons(check_dataset(root))
    assert reasons == {"aachen_000001_000019_gtFine_labelIds.png": "label map is 32×16 but its photo is 64×32"}
