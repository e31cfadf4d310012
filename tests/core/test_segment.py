"""Label maps out of real photos (issue 19): the 19-class segmenter file, `roadstudio-cli segment`
(shapes, class ids, provenance, EXIF orientation, converted modes, scaling, named errors) and
`roadstudio-cli data autolabel` -> data check -> a short training run. CamVid label files opened
directly are read with the CamVid table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from core.render import provenance
from core.cli import main
from core.data.camvid import looks_like_camvid11, read_label_file
from core.data.camvid_classes import CAMVID11_LUT
from core.errors import CheckpointError
from core.eval.classes import CAMVID11, CITY19
from core.eval.segnet import ContextSegNet, SegNetConfig
from core.eval.segmenter import Segmenter, bundled_segmenter_path, save_segmenter
from core.io.imageio import read_index_map, read_photo, read_rgb
from core.labels import PALETTE_IDS
from core.photo_labels.segment import PhotoSegmenter

from .train_helpers import one_torch_thread

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
CAMVID = SHARED / "camvid"
TEST_PHOTOS = ("0001TP_008550", "0001TP_008580", "Seq05VD_f00000", "Seq05VD_f00030")

pytestmark = [pytest.mark.usefixtures(one_torch_thread.__name__),
              pytest.mark.skipif(not (CAMVID / "test").is_dir(), reason="../shared/data/camvid is not present")]


def _camvid_photo(stem: str) -> Path:
    path = CAMVID / "test" / f"{stem}.png"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path


@pytest.fixture(scope="module")
def seg19(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny, untrained 19-class segmenter file (real network, real file format)."""
    torch.manual_seed(0)
    model = ContextSegNet(SegNetConfig(num_classes=19, width=4, work_area=32 * 48, arch="context")).eval()
    return save_segmenter(tmp_path_factory.mktemp("seg") / "seg19.safetensors", model, {"note": "test"}, CITY19)


def test_city19_segmenter_file_round_trip(seg19: Path) -> None:
    loaded = Segmenter.load(seg19)
    assert loaded.class_set is CITY19 and loaded.config.arch == "context"
    photo = read_rgb(_camvid_photo(TEST_PHOTOS[0]))
    ids = loaded.predict_ids(photo)
    assert ids.shape == photo.shape[:2] and ids.dtype == np.uint8
    assert set(np.unique(ids).tolist()) <= set(CITY19.ids)
    # the class list in the file must fit the network
    with pytest.raises(ValueError, match="class set camvid11"):
        save_segmenter(seg19.parent / "x.safetensors", loaded.model, {}, CAMVID11)


def test_bundled_segmenter19_reads_a_real_photo() -> None:
    path = bundled_segmenter_path("city19")
    if not path.is_file():
        pytest.skip("resources/models/segmenter19.safetensors is not installed")
    seg = Segmenter.load(path)
    assert seg.class_set is CITY19
    stem = TEST_PHOTOS[0]
    photo = read_rgb(_camvid_photo(stem))
    truth = CAMVID11.ids_to_classes(CAMVID11_LUT[read_index_map(CAMVID / "testannot" / f"{stem}.png")])
    predicted = CAMVID11.ids_to_classes(seg.predict_ids(photo))  # 19 classes folded onto CamVid's 11
    keep = truth != 255
    assert (predicted[keep] == truth[keep]).mean() > 0.75  # the bundled one scores ~0.9 on CamVid test


def _segment(*args: str) -> int:
    return main(["segment", *args])


def test_segment_one_photo_writes_label_ids_with_provenance(seg19: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    photo = _camvid_photo(TEST_PHOTOS[1])
    out = tmp_path / "out" / "labels.png"
    assert _segment(str(photo), "--output", str(out), "--colour", "--segmenter", str(seg19)) == 0
    assert "wrote" in capsys.readouterr().out
    with Image.open(out) as im:
        assert im.mode == "L" and im.size == (480, 360)
        ids = np.asarray(im)
    assert set(np.unique(ids).tolist()) <= set(CITY19.ids)
    record = provenance.read(out)
    assert record.get("kind") == "segment" and record.get("segmenter_classes") == "city19"
    assert record.get("segmenter_sha256") == provenance.file_sha256(seg19)
    assert record.get("photo_sha256") == provenance.file_sha256(photo) and record.get("photo_size") == "480x360"
    with Image.open(out.with_name("labels_color.png")) as im:
        assert im.mode == "RGB" and im.size == (480, 360)


def test_segment_folder_names_bad_photos_and_exits_2(seg19: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(_camvid_photo(TEST_PHOTOS[0]), photos / "good.png")
    (photos / "notes.jpg").write_text("not a photo at all\n")
    Image.open(photos / "good.png").convert("RGB").save(photos / "whole.jpg", quality=90)
    data = (photos / "whole.jpg").read_bytes()
    (photos / "cut.jpg").write_bytes(data[: len(data) // 3])
    out = tmp_path / "labels"
    assert _segment(str(photos), "--output", str(out), "--segmenter", str(seg19)) == 2
    err = capsys.readouterr().err
    assert f"error: {photos / 'notes.jpg'}: not an image file" in err
    assert f"error: {photos / 'cut.jpg'}: truncated or corrupt image" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["good.png", "whole.png"]


@pytest.mark.parametrize("name, content, reason", [
    ("notes.jpg", b"plain text, not a JPEG", "not an image file"),
    ("cut.jpg", None, "truncated or corrupt image"),
])
def test_segment_bad_single_photo_is_one_line_exit_2(seg19: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     name: str, content: bytes | None, reason: str) -> None:
    path = tmp_path / name
    if content is None:
        Image.open(_camvid_photo(TEST_PHOTOS[0])).convert("RGB").save(tmp_path / "w.jpg", quality=90)
        data = (tmp_path / "w.jpg").read_bytes()
        content = data[: len(data) // 2]
    path.write_bytes(content)
    assert _segment(str(path), "--output", str(tmp_path / "o.png"), "--segmenter", str(seg19)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {path}: {reason}"]
    assert not (tmp_path / "o.png").exists()


def test_exif_orientation_is_applied(seg19: Path, tmp_path: Path) -> None:
    upright = read_rgb(_camvid_photo(TEST_PHOTOS[2]))[:96, :160]  # 160 wide, 96 tall
    # Stored rotated: orientation 6 says "rotate 90° clockwise to display", so store it rotated
    # 90° counter-clockwise (96 wide, 160 tall), as a phone held upright does.
    stored = np.ascontiguousarray(np.rot90(upright, k=1))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.png"
    Image.fromarray(stored).save(path, exif=exif)
    read = read_photo(path)
    assert read.orientation == 6 and "EXIF orientation 6 applied" in read.notes
    np.testing.assert_array_equal(read.rgb, upright)
    out = tmp_path / "phone_labels.png"
    assert _segment(str(path), "--output", str(out), "--segmenter", str(seg19)) == 0
    labels = np.asarray(Image.open(out))
    assert labels.shape == (96, 160)  # the upright photo's shape, not the stored one
    np.testing.assert_array_equal(labels, PhotoSegmenter(seg19).segment_rgb(upright))


@pytest.mark.parametrize("mode", ["L", "CMYK", "I;16"])
def test_greyscale_cmyk_and_16_bit_photos_are_converted(seg19: Path, tmp_path: Path, mode: str) -> None:
    rgb = read_rgb(_camvid_photo(TEST_PHOTOS[3]))[:64, :96]
    image = Image.fromarray(rgb)
    if mode == "I;16":
        grey = np.asarray(image.convert("L")).astype(np.uint16) * 257
        image = Image.fromarray(grey.astype("<u2"))  # 16-bit greyscale (mode I;16)
        assert image.mode == "I;16"
        path = tmp_path / "photo16.png"
    else:
        image = image.convert(mode)
        path = tmp_path / f"photo_{mode}.{'jpg' if mode == 'CMYK' else 'png'}"
    image.save(path)
    result = PhotoSegmenter(seg19).segment_file(path)
    assert result.photo.shape == (64, 96, 3) and result.ids.shape == (64, 96)
    assert any("converted to RGB" in n for n in result.notes) and not result.unchanged


def test_huge_photo_is_scaled_down_with_a_note(seg19: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "small.png"
    assert _segment(str(_camvid_photo(TEST_PHOTOS[0])), "--output", str(out), "--segmenter", str(seg19),
                    "--max-side", "128") == 0
    assert np.asarray(Image.open(out)).shape == (96, 128)
    assert "scaled down from 480×360 to 128×96" in capsys.readouterr().err
    assert provenance.read(out).get("photo_size") == "480x360"


def test_segment_user_errors(seg19: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _segment(str(tmp_path / "missing.jpg"), "--output", str(tmp_path / "o")) == 2
    assert "no such file or folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert _segment(str(tmp_path / "empty"), "--output", str(tmp_path / "o")) == 2
    assert "no photos in this folder" in capsys.readouterr().err
    assert _segment(str(_camvid_photo(TEST_PHOTOS[0])), "--output", str(tmp_path / "o.png"),
                    "--segmenter", str(tmp_path / "none.safetensors")) == 2
    assert "no such segmenter file" in capsys.readouterr().err


# ----------------------------------------------------------------------- CamVid label files


def test_camvid_label_file_is_read_with_the_camvid_table(tmp_path: Path) -> None:
    src = CAMVID / "testannot" / f"{TEST_PHOTOS[0]}.png"
    raw = read_index_map(src)
    for path in (src, shutil.copy(src, tmp_path / "labels.png")):  # in its annot folder and on its own
        read = read_label_file(path)
        assert read.kind == "camvid11"
        np.testing.assert_array_equal(read.ids, CAMVID11_LUT[raw])
    assert (read.ids == 23).any() and (read.ids == 26).any()  # sky and car, not unlabeled and sidewalk


def test_cityscapes_and_painted_label_maps_are_not_mistaken_for_camvid(tmp_path: Path) -> None:
    for path in sorted((SHARED / "cityscapes-mini" / "gtFine").rglob("*_labelIds.png"))[:3]:
        assert read_label_file(path).kind == "ids"
    painted = np.full((40, 60), 7, np.uint8)  # road below a building: every value <= 11, still Cityscapes
    painted[:20] = 11
    Image.fromarray(painted).save(tmp_path / "painted.png")
    assert not looks_like_camvid11(painted) and read_label_file(tmp_path / "painted.png").kind == "ids"


def test_every_camvid_label_file_is_detected() -> None:
    files = sorted(CAMVID.glob("*annot/*.png"))
    assert len(files) > 600
    assert all(looks_like_camvid11(read_index_map(f)) for f in files[::5])


# ----------------------------------------------------------------------- autolabel


def _segmenter_for_autolabel(seg19: Path) -> str:
    bundled = bundled_segmenter_path("city19")
    return "city19" if bundled.is_file() else str(seg19)


def test_autolabel_check_and_a_short_training_run(seg19: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    suffixes = (".jpg", ".webp", ".png", ".png")
    for stem, suffix in zip(TEST_PHOTOS, suffixes, strict=True):  # 4 real photos, downscaled to 96×128
        image = Image.open(_camvid_photo(stem)).convert("RGB").resize((128, 96), Image.Resampling.LANCZOS)
        options: dict[str, Any] = {"quality": 92} if suffix != ".png" else {}
        image.save(photos / f"{stem}{suffix}", **options)
    dataset = tmp_path / "dataset"
    assert main(["data", "autolabel", str(photos), str(dataset), "--segmenter", _segmenter_for_autolabel(seg19)]) == 0
    out = capsys.readouterr().out
    assert "autolabel: 4 pairs written" in out and "valid pairs: 4 of 4" in out
    for stem, suffix in zip(TEST_PHOTOS, suffixes, strict=True):  # unchanged photos are copied as they are
        assert (dataset / "A" / f"{stem}{suffix}").read_bytes() == (photos / f"{stem}{suffix}").read_bytes()
    for stem in TEST_PHOTOS:
        ids = np.asarray(Image.open(dataset / "B" / f"{stem}.png"))
        assert ids.shape == (96, 128) and set(np.unique(ids).tolist()) <= set(PALETTE_IDS.tolist())
        assert provenance.read(dataset / "B" / f"{stem}.png").get("kind") == "autolabel"
    assert main(["data", "check", str(dataset), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["layout"] == "folders" and not report["bad_files"]
    run = tmp_path / "run"
    code = main(["train", "--data", str(dataset), "--run-dir", str(run), "--max-steps", "2", "--netG", "unet_128",
                 "--depth", "4", "--ngf", "4", "--ndf", "4", "--d-layers", "2", "--crop-size", "32",
                 "--load-size", "36", "--batch-size", "2", "--device", "cpu", "--val-fraction", "0.25"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "finished (max_steps) at step 2" in err and (run / "checkpoints" / "last.safetensors").is_file()


def test_autolabel_skips_bad_photos_by_name(seg19: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.open(_camvid_photo(TEST_PHOTOS[0])).convert("RGB").resize((128, 96)).save(photos / "a.png")
    (photos / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    assert main(["data", "autolabel", str(photos), str(tmp_path / "ds"), "--segmenter", str(seg19)]) == 2
    captured = capsys.readouterr()
    assert f"error: {photos / 'b.jpg'}:" in captured.err and "1 photo skipped" in captured.out
    assert sorted(p.name for p in (tmp_path / "ds" / "B").iterdir()) == ["a.png"]
    with pytest.raises(CheckpointError):
        Segmenter.load(tmp_path / "ds" / "B" / "a.png")  # a label map is no segmenter: named error
