"""core.io.imageio: every bad image a user can hand us becomes a BadFileError naming the file and a
reason they can act on; good images of every common mode come back in the one canonical form."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.io import imageio
from core.errors import BadFileError
from core.labels import PALETTE_IDS, ids_to_color


def _blocky_ids(h: int = 32, w: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.choice(PALETTE_IDS, size=(h // 8, w // 8))
    return np.kron(coarse, np.ones((8, 8), dtype=np.uint8)).astype(np.uint8)


def _photo(h: int = 32, w: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _png_bytes(array: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buf, format="PNG") if mode else Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def _jpeg_bytes(array: np.ndarray, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _reason(exc_info: pytest.ExceptionInfo[BadFileError]) -> str:
    return exc_info.value.reason


# --- bad inputs -------------------------------------------------------------------------------

def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(BadFileError, match="no such file") as exc:
        imageio.read_rgb(tmp_path / "nope.png")
    assert exc.value.path == tmp_path / "nope.png"


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    for reader in (imageio.read_rgb, imageio.read_label_ids, imageio.read_label_map):
        with pytest.raises(BadFileError, match=r"empty file \(0 bytes\)") as exc:
            reader(path)
        assert str(path) in str(exc.value)


def test_truncated_png(tmp_path: Path) -> None:
    data = _png_bytes(_photo(64, 64))
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadFileError, match="truncated or corrupt image"):
        imageio.read_rgb(path)


def test_truncated_jpeg(tmp_path: Path) -> None:
    data = _jpeg_bytes(_photo(64, 64))
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadFileError, match="truncated or corrupt image"):
        imageio.read_rgb(path)


def test_text_file_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("these are my notes, not a photo\n")
    with pytest.raises(BadFileError, match="not an image file"):
        imageio.read_rgb(path)


def test_folder_instead_of_file(tmp_path: Path) -> None:
    path = tmp_path / "looks_like_a_file.png"
    path.mkdir()
    with pytest.raises(BadFileError, match="is a folder"):
        imageio.read_rgb(path)


def test_decompression_bomb_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(_png_bytes(_photo(40, 50)))
    # Between the limit and twice the limit Pillow only warns; above it raises. Both are errors here.
    for limit in (1500, 600):
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
        with pytest.raises(BadFileError) as exc:
            imageio.read_rgb(path)
        assert _reason(exc) == f"image too large (50×40 pixels, limit {limit})"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="running as root: chmod 000 does not stop root from reading")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.png"
    path.write_bytes(_png_bytes(_photo()))
    path.chmod(0)
    try:
        with pytest.raises(BadFileError, match="permission denied"):
            imageio.read_rgb(path)
    finally:
        path.chmod(0o644)


def test_unreadable_file_reason_from_permission_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root can read anything, so also prove the mapping by making open() itself refuse."""
    path = tmp_path / "locked.png"
    path.write_bytes(_png_bytes(_photo()))
    real_open = open

    def refusing_open(file, *args, **kwargs):
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing_open)
    with pytest.raises(BadFileError, match="cannot be read: permission denied"):
        imageio.read_rgb(path)


def test_float_image_rejected_by_name(tmp_path: Path) -> None:
    path = tmp_path / "float.tif"
    Image.fromarray(np.zeros((8, 8), dtype=np.float32), mode="F").save(path)
    with pytest.raises(BadFileError, match="mode F"):
        imageio.read_rgb(path)


def test_label_ids_outside_table_are_named(tmp_path: Path) -> None:
    ids = _blocky_ids()
    ids[0, 0] = 40
    ids[5, 5] = 200
    path = tmp_path / "bad_labelIds.png"
    path.write_bytes(_png_bytes(ids))
    with pytest.raises(BadFileError, match=r"outside the Cityscapes table \(0\.\.33\): 40, 200"):
        imageio.read_label_ids(path)
    with pytest.raises(BadFileError, match="40, 200"):
        imageio.read_label_map(path)


def test_label_ids_16bit_above_255_are_named(tmp_path: Path) -> None:
    ids = _blocky_ids().astype(np.uint16)
    ids[0, 0] = 1000
    path = tmp_path / "wide_labelIds.png"
    Image.fromarray(ids).save(path)
    with pytest.raises(BadFileError, match="1000"):
        imageio.read_label_ids(path)


def test_colour_image_is_not_a_label_id_map(tmp_path: Path) -> None:
    path = tmp_path / "color.png"
    imageio.write_color_png(path, _blocky_ids())
    with pytest.raises(BadFileError, match="colour image, not a label-id map"):
        imageio.read_label_ids(path)


def test_label_map_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.png"
    imageio.write_label_ids_png(path, _blocky_ids(32, 64))
    monkeypatch.setattr(imageio, "MAX_LABEL_MAP_SIDE", 48)
    with pytest.raises(BadFileError, match=r"label map too large \(64×32, limit 48 px a side\)"):
        imageio.read_label_map(path)


def test_photo_is_not_a_label_map(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    imageio.write_png(path, _photo(32, 48))
    with pytest.raises(BadFileError, match="does not look like a label map"):
        imageio.read_label_map(path)


# --- conversions of good images ---------------------------------------------------------------

def test_rgb_round_trip(tmp_path: Path) -> None:
    photo = _photo()
    path = tmp_path / "p.png"
    imageio.write_png(path, photo)
    out = imageio.read_rgb(path)
    assert out.dtype == np.uint8 and out.shape == (32, 64, 3)
    np.testing.assert_array_equal(out, photo)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "LA", "1", "CMYK"])
def test_other_modes_become_rgb(tmp_path: Path, mode: str) -> None:
    photo = _photo(16, 24)
    path = tmp_path / f"img_{mode}.{'jpg' if mode == 'CMYK' else 'png'}"
    Image.fromarray(photo).convert(mode).save(path)
    out = imageio.read_rgb(path)
    assert out.shape == (16, 24, 3) and out.dtype == np.uint8
    if mode == "RGBA":
        np.testing.assert_array_equal(out, photo)  # alpha dropped, colours kept
    if mode == "L":
        np.testing.assert_array_equal(out[..., 0], np.asarray(Image.fromarray(photo).convert("L")))


def test_palette_with_transparency_becomes_rgb_without_warning(tmp_path: Path) -> None:
    image = Image.fromarray(_photo(8, 8)).convert("P")
    path = tmp_path / "pt.png"
    image.save(path, transparency=0)
    assert imageio.read_rgb(path).shape == (8, 8, 3)  # warnings are errors in this test run


def test_16bit_grayscale_photo_is_scaled(tmp_path: Path) -> None:
    values = np.array([[0, 257, 65535, 32896]], dtype=np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    with Image.open(path) as check:
        assert check.mode.startswith("I")
    out = imageio.read_rgb(path)
    np.testing.assert_array_equal(out[0, :, 0], [0, 1, 255, 128])
    np.testing.assert_array_equal(out[..., 0], out[..., 2])


def test_label_ids_from_l_p_and_16bit(tmp_path: Path) -> None:
    ids = _blocky_ids()
    Image.fromarray(ids).save(tmp_path / "l.png")
    as_p = Image.fromarray(ids).convert("P")
    as_p.putdata(ids.ravel().tolist())  # raw indices = ids, with a grey palette
    as_p.save(tmp_path / "p.png")
    Image.fromarray(ids.astype(np.uint16)).save(tmp_path / "i16.png")
    for name in ("l.png", "p.png", "i16.png"):
        np.testing.assert_array_equal(imageio.read_label_ids(tmp_path / name), ids)
        read = imageio.read_label_map(tmp_path / name)
        assert read.kind == "ids" and read.snapped == 0
        np.testing.assert_array_equal(read.ids, ids)


def test_write_label_ids_and_colour_png(tmp_path: Path) -> None:
    ids = _blocky_ids()
    imageio.write_label_ids_png(tmp_path / "x_labelIds.png", ids)
    imageio.write_color_png(tmp_path / "x_color.png", ids)
    with Image.open(tmp_path / "x_labelIds.png") as check:
        assert check.mode == "L"
    np.testing.assert_array_equal(imageio.read_label_ids(tmp_path / "x_labelIds.png"), ids)
    np.testing.assert_array_equal(imageio.read_rgb(tmp_path / "x_color.png"), ids_to_color(ids))
    colour = imageio.read_label_map(tmp_path / "x_color.png")
    assert colour.kind == "color" and colour.snapped == 0
    np.testing.assert_array_equal(colour.ids, ids)
    with pytest.raises(ValueError):
        imageio.write_label_ids_png(tmp_path / "bad.png", np.full((4, 4), 99, np.uint8))
    assert not (tmp_path / "bad.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x_color.png", "x_labelIds.png"]  # no temp files


def test_colour_palette_png_is_snapped(tmp_path: Path) -> None:
    ids = _blocky_ids()
    Image.fromarray(ids_to_color(ids)).convert("P", palette=Image.Palette.ADAPTIVE, colors=32).save(tmp_path / "c.png")
    read = imageio.read_label_map(tmp_path / "c.png")
    assert read.kind == "color"
    np.testing.assert_array_equal(read.ids, ids)


def test_aligned_image_gives_its_label_half_either_side(tmp_path: Path) -> None:
    ids = _blocky_ids(64, 64)
    photo = _photo(64, 64)
    for side in ("left", "right"):
        halves = [ids_to_color(ids), photo] if side == "left" else [photo, ids_to_color(ids)]
        path = tmp_path / f"ab_{side}.jpg"
        path.write_bytes(_jpeg_bytes(np.concatenate(halves, axis=1), quality=95))
        read = imageio.read_label_map(path)
        assert read.kind == "aligned" and read.ids.shape == (64, 64)
        assert (read.ids == ids).mean() > 0.99
        assert read.snapped > 0  # JPEG noise was snapped away and reported


def test_colour_map_with_w_equal_2h_is_not_split(tmp_path: Path) -> None:
    """The default canvas is 256×512, so a colour label map is also W = 2H: decided by content."""
    ids = _blocky_ids(64, 128)
    path = tmp_path / "canvas.jpg"
    path.write_bytes(_jpeg_bytes(ids_to_color(ids), quality=90))
    read = imageio.read_label_map(path)
    assert read.kind == "color" and read.ids.shape == (64, 128)
    assert (read.ids == ids).mean() > 0.99


@pytest.mark.shared_data
def test_real_aligned_jpeg_is_recognised(shared_data: Path) -> None:
    read = imageio.read_label_map(shared_data / "cityscapes-mini-aligned" / "train" / "1.jpg")
    assert read.kind == "aligned" and read.ids.shape == (256, 256)
    assert {7, 11, 26} <= set(np.unique(read.ids).tolist())  # road, building, car


def test_readers_return_writable_arrays(tmp_path: Path) -> None:
    """Pillow hands out read-only arrays; callers (canvas documents, torch.from_numpy) need to write."""
    ids = _blocky_ids()
    imageio.write_label_ids_png(tmp_path / "ids.png", ids)
    imageio.write_color_png(tmp_path / "c.png", ids)
    for array in (imageio.read_label_ids(tmp_path / "ids.png"), imageio.read_label_map(tmp_path / "ids.png").ids,
                  imageio.read_label_map(tmp_path / "c.png").ids, imageio.read_rgb(tmp_path / "c.png")):
        assert array.flags.writeable and array.flags.c_contiguous


def test_photo_is_turned_upright_by_exif_orientation(tmp_path: Path) -> None:
    photo = _photo(16, 24)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display", as phones write it
    path = tmp_path / "phone.jpg"
    Image.fromarray(photo).save(path, quality=95, exif=exif.tobytes())
    with Image.open(path) as raw:
        stored = np.asarray(raw.convert("RGB"))
    out = imageio.read_rgb(path)
    assert out.shape == (24, 16, 3)  # displayed upright: width and height swapped
    np.testing.assert_array_equal(out, np.rot90(stored, k=-1))
