"""CamVid as a dataset source: SegNet's 11-class layout and the original 32-class colour release,
their mapping to Cityscapes label ids, detection, the data check, training and mixing.

Fixtures are tiny CamVid-shaped folders written here; only test_shared_camvid_* reads the real
copy in ../shared/data/camvid (and skips when it is absent)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.config import DataConfig
from core.data.camvid import CamVidSource, camvid_splits
from core.data.camvid_classes import (
    CAMVID11_CLASSES,
    CAMVID11_COVERED_LABEL_IDS,
    CAMVID11_TO_LABEL_ID,
    CAMVID32_CLASSES,
    CAMVID32_TO_LABEL_ID,
)
from core.data.check import check_dataset
from core.data.detect import detect_layout, open_split
from core.data.registry import open_datasets
from core.errors import BadFileError, UserError
from core.labels import PALETTE_IDS, class_by_id
from core.train.events import Finished, Step
from core.train.loop import train
from tests.core.test_data_fixtures import make_aligned
from tests.core.train_helpers import tiny_config

H, W = 24, 32
SHARED_CAMVID = Path(__file__).resolve().parents[3] / "shared" / "data" / "camvid"

# Written out again here (not imported) so the test checks the table, not itself:
# SegNet class index -> Cityscapes class name.
EXPECTED_11 = {0: "sky", 1: "building", 2: "pole", 3: "road", 4: "sidewalk", 5: "vegetation",
               6: "traffic sign", 7: "fence", 8: "car", 9: "person", 10: "rider", 11: "unlabeled"}
# 32-class colour -> Cityscapes class name.
EXPECTED_32 = {
    (64, 128, 64): "unlabeled", (192, 0, 128): "building", (0, 128, 192): "rider", (0, 128, 64): "unlabeled",
    (128, 0, 0): "building", (64, 0, 128): "car", (64, 0, 192): "unlabeled", (192, 128, 64): "person",
    (192, 192, 128): "pole", (64, 64, 128): "fence", (128, 0, 192): "road", (192, 0, 64): "road",
    (128, 128, 64): "unlabeled", (192, 0, 192): "motorcycle", (128, 64, 64): "unlabeled",
    (64, 192, 128): "unlabeled", (64, 64, 0): "person", (128, 64, 128): "road", (128, 128, 192): "road",
    (0, 0, 192): "sidewalk", (192, 128, 128): "traffic sign", (128, 128, 128): "sky", (64, 128, 192): "car",
    (0, 0, 64): "unlabeled", (0, 64, 64): "traffic light", (192, 64, 128): "train", (128, 128, 0): "vegetation",
    (192, 128, 192): "truck", (64, 0, 64): "unlabeled", (192, 192, 0): "vegetation", (0, 0, 0): "unlabeled",
    (64, 192, 0): "wall",
}


# ---- Fixture builders ---------------------------------------------------------------------------

def _photo(seed: int, size: tuple[int, int] = (H, W)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def _indices(seed: int, size: tuple[int, int] = (H, W)) -> np.ndarray:
    """SegNet class indices with every class 0..11 present (one stripe each, then random)."""
    rng = np.random.default_rng(1000 + seed)
    values = rng.integers(0, 12, size, dtype=np.uint8)
    values[0, :12] = np.arange(12, dtype=np.uint8)
    return values


def _save(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format="PNG")


def make_segnet(root: Path, counts: dict[str, int] | None = None, lists: str = "mixed") -> Path:
    """root/<split>/ + <split>annot/ PNG pairs. lists: "mixed" = train.txt with absolute SegNet
    paths, val.txt relative, no test.txt; "none" = no list files."""
    counts = counts or {"train": 3, "val": 3, "test": 3}
    k = 0
    for split, n in counts.items():
        lines = []
        for i in range(n):
            name = f"0001TP_{i:06d}.png"
            _save(root / split / name, _photo(k))
            _save(root / f"{split}annot" / name, _indices(k))
            k += 1
            prefix = "/SegNet/CamVid/" if split == "train" else ""
            lines.append(f"{prefix}{split}/{name} {prefix}{split}annot/{name}")
        if lists == "mixed" and split in ("train", "val"):
            (root / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return root


def _colour_label(seed: int) -> np.ndarray:
    """A 32-class colour label map using every colour (first row), then random classes."""
    colours = np.array([c.color for c in CAMVID32_CLASSES], np.uint8)
    classes = np.random.default_rng(2000 + seed).integers(0, 32, (H, W))
    classes[0, :32] = np.arange(32)
    return colours[classes]


def make_colour_release(root: Path, count: int = 3, two_folders: bool = False) -> Path:
    photos = root / "701_StillsRaw_full" if two_folders else root
    labels = root / "LabeledApproved_full" if two_folders else root
    for i in range(count):
        _save(photos / f"0006R0_f{i:05d}.png", _photo(i))
        _save(labels / f"0006R0_f{i:05d}_L.png", _colour_label(i))
    return root


# ---- The tables ---------------------------------------------------------------------------------

def test_tables_map_to_the_twenty_model_classes_only() -> None:
    assert len(CAMVID11_CLASSES) == 12 and len(CAMVID32_CLASSES) == 32
    assert {k: class_by_id(v).name for k, v in CAMVID11_TO_LABEL_ID.items()} == EXPECTED_11
    assert {c.color: class_by_id(c.label_id).name for c in CAMVID32_CLASSES} == EXPECTED_32
    assert CAMVID32_TO_LABEL_ID["Truck_Bus"] == class_by_id(27).id  # truck, the documented choice
    allowed = set(PALETTE_IDS.tolist())
    assert set(CAMVID11_TO_LABEL_ID.values()) <= allowed and set(CAMVID32_TO_LABEL_ID.values()) <= allowed
    assert 0 not in CAMVID11_COVERED_LABEL_IDS and len(CAMVID11_COVERED_LABEL_IDS) == 11


# ---- SegNet layout ------------------------------------------------------------------------------

def test_segnet_pairs_map_every_class_exactly(tmp_path: Path) -> None:
    root = make_segnet(tmp_path / "camvid")
    source = CamVidSource(root, "train")
    assert len(source) == 3 and source.describe(0) == "train/0001TP_000000.png"
    for index in range(3):
        labels, photo = source[index]
        raw = _indices(index)
        assert labels.dtype == np.uint8 and labels.shape == (H, W)
        np.testing.assert_array_equal(photo, _photo(index))
        expected = np.vectorize(lambda v: {n: c.id for n, c in _by_name().items()}[EXPECTED_11[v]])(raw)
        np.testing.assert_array_equal(labels, expected.astype(np.uint8))
    pair = source.load_pair(0)
    assert pair.unmapped == {"Unlabelled": int((_indices(0) == 11).sum())}


def _by_name() -> dict:
    return {class_by_id(int(i)).name: class_by_id(int(i)) for i in PALETTE_IDS}


def test_list_paths_resolve_literally_or_by_their_last_two_components(tmp_path: Path) -> None:
    root = make_segnet(tmp_path / "camvid")
    assert "/SegNet/CamVid/" in (root / "train.txt").read_text()  # absolute SegNet paths ...
    assert CamVidSource(root, "train").load_pair(1).files == (root / "train/0001TP_000001.png",
                                                             root / "trainannot/0001TP_000001.png")
    # A list decides the pairs and their order; a listed file that is missing is a named error.
    (root / "val.txt").write_text("val/0001TP_000002.png valannot/0001TP_000002.png\n"
                                  "val/nope.png valannot/nope.png\nonly-one-field.png\n")
    val = CamVidSource(root, "val")
    assert len(val) == 3 and val.describe(0) == "val/0001TP_000002.png"
    with pytest.raises(BadFileError, match=r"nope\.png.*listed in val\.txt line 2"):
        val.load_pair(1)
    with pytest.raises(BadFileError, match="line 3: expected 'photo label'") as exc:
        val.load_pair(2)
    assert exc.value.path == root / "val.txt"


def test_values_outside_the_11_class_table_name_the_file(tmp_path: Path) -> None:
    root = make_segnet(tmp_path / "camvid")
    bad = _indices(0)
    bad[5, 5], bad[6, 6] = 12, 255
    bad[7, 7] = 30  # a valid Cityscapes id (trailer), but not a SegNet CamVid class
    label = root / "trainannot" / "0001TP_000000.png"
    _save(label, bad)
    with pytest.raises(BadFileError) as exc:
        CamVidSource(root, "train")[0]
    assert exc.value.path == label
    assert "12 (1 px), 30 (1 px), 255 (1 px)" in exc.value.reason and "11 Unlabelled" in exc.value.reason


def test_size_mismatch_missing_partner_and_unreadable_files_are_named(tmp_path: Path) -> None:
    root = make_segnet(tmp_path / "camvid", lists="none")
    _save(root / "trainannot" / "0001TP_000000.png", _indices(0, (H, W + 2)))
    (root / "trainannot" / "0001TP_000001.png").write_bytes(b"not a png")
    (root / "train" / "0001TP_000009.png").write_bytes((root / "train" / "0001TP_000002.png").read_bytes())
    source = CamVidSource(root, "train")
    assert len(source) == 4
    with pytest.raises(BadFileError, match="label map is 34×24 but its photo 0001TP_000000.png is 32×24"):
        source[0]
    with pytest.raises(BadFileError, match="not an image file"):
        source[1]
    with pytest.raises(BadFileError, match="missing partner file: no label map trainannot/0001TP_000009.png"):
        source[3]
    report = check_dataset(root)
    assert report.splits["train"].valid_indices == [2] and len(report.bad_files) == 3


def test_a_colour_png_in_annot_is_refused_by_name(tmp_path: Path) -> None:
    root = make_segnet(tmp_path / "camvid")
    label = root / "trainannot" / "0001TP_000000.png"
    _save(label, _colour_label(0))
    with pytest.raises(BadFileError, match="is a colour image, not a map of class indices") as exc:
        CamVidSource(root, "train")[0]
    assert exc.value.path == label


# ---- 32-class colour release --------------------------------------------------------------------

@pytest.mark.parametrize("two_folders", [False, True])
def test_colour_release_maps_every_colour_exactly(tmp_path: Path, two_folders: bool) -> None:
    root = make_colour_release(tmp_path / "cv32", two_folders=two_folders)
    layout = detect_layout(root)
    assert (layout.format, layout.splits) == ("camvid", ("",)) and "32-class" in layout.detail
    source = open_split(layout, "")
    assert isinstance(source, CamVidSource) and len(source) == 3
    ids_by_name = {n: c.id for n, c in _by_name().items()}
    for index in range(3):
        labels, photo = source[index]
        np.testing.assert_array_equal(photo, _photo(index))
        colours = _colour_label(index)
        expected = np.array([[ids_by_name[EXPECTED_32[(int(r), int(g), int(b))]] for r, g, b in row]
                             for row in colours], np.uint8)
        np.testing.assert_array_equal(labels, expected)
    unmapped = source.load_pair(0).unmapped
    assert set(unmapped) == {"Animal", "Bridge", "CartLuggagePram", "Misc_Text", "OtherMoving", "ParkingBlock",
                             "TrafficCone", "Tunnel", "Void"}
    colours = _colour_label(0)
    assert unmapped["Void"] == int((colours == 0).all(axis=2).sum())


def test_a_colour_outside_the_32_class_table_is_not_snapped(tmp_path: Path) -> None:
    root = make_colour_release(tmp_path / "cv32")
    label = root / "0006R0_f00001_L.png"
    colours = _colour_label(1)
    colours[3, 3] = (128, 64, 129)  # one off Road: no snapping for lossless PNGs
    colours[4, 4] = (255, 255, 255)  # on no grid at all
    _save(label, colours)
    with pytest.raises(BadFileError) as exc:
        CamVidSource(root, "")[1]
    assert exc.value.path == label
    assert "(128, 64, 129) 1 px" in exc.value.reason and "(255, 255, 255) 1 px" in exc.value.reason


# ---- Detection ----------------------------------------------------------------------------------

@pytest.mark.parametrize("lists", ["mixed", "none"])
def test_segnet_folders_are_camvid_not_aligned(tmp_path: Path, lists: str) -> None:
    root = make_segnet(tmp_path / "camvid", lists=lists)
    layout = detect_layout(root)
    assert (layout.format, layout.splits) == ("camvid", ("train", "val", "test"))
    assert "SegNet" in layout.detail
    assert isinstance(open_split(layout, "val"), CamVidSource)
    assert camvid_splits(root) == ["train", "val", "test"]
    # Forced aligned still means aligned (the user's choice); forced camvid on a non-CamVid folder fails.
    assert detect_layout(root, "aligned").format == "aligned"
    aligned = make_aligned(tmp_path / "al", {"train": 2})
    assert detect_layout(aligned).format == "aligned" and camvid_splits(aligned) == []
    with pytest.raises(UserError, match="not a CamVid folder: expected CamVid: SegNet layout"):
        detect_layout(aligned, "camvid")


def test_lists_alone_are_enough_to_detect(tmp_path: Path) -> None:
    root = make_segnet(tmp_path / "camvid", {"train": 2})
    (root / "trainannot").rename(root / "labels")
    (root / "train.txt").write_text("train/0001TP_000000.png labels/0001TP_000000.png\n")
    layout = detect_layout(root)
    assert (layout.format, layout.splits) == ("camvid", ("train",))
    assert len(open_split(layout, "train")) == 1


# ---- Data check ---------------------------------------------------------------------------------

def test_data_check_reports_layout_counts_and_unmapped_pixels(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = make_segnet(tmp_path / "camvid")
    report = check_dataset(root)
    assert report.layout == "camvid"
    assert {k: (v.pairs, v.valid) for k, v in report.splits.items()} == {"train": (3, 3), "val": (3, 3),
                                                                         "test": (3, 3)}
    unlabelled = sum(int((_indices(k) == 11).sum()) for k in range(9))
    assert report.unmapped_pixels == {"Unlabelled": unlabelled} and report.label_pixels == 9 * H * W
    text = report.format_text()
    assert f"mapped to unlabeled: {unlabelled} px ({unlabelled / (9 * H * W):.2%}), by class: Unlabelled" in text
    assert "CamVid SegNet layout, 11 classes" in text

    preview = tmp_path / "preview.png"
    assert main(["data", "check", str(root), "--format", "camvid", "--json", "--preview", str(preview)]) == 0
    out = capsys.readouterr()
    data = json.loads(out.out)  # the preview line goes to stderr, so stdout stays one JSON document
    assert preview.is_file() and f"preview: {preview}" in out.err
    assert data["layout"] == "camvid" and data["splits"]["test"] == {"pairs": 3, "checked": 3, "valid": 3}
    assert data["mapped_to_unlabeled"] == {"pixels": unlabelled, "share": unlabelled / (9 * H * W),
                                           "by_class": {"Unlabelled": unlabelled}}


def test_data_check_of_the_colour_release_counts_by_class(tmp_path: Path) -> None:
    root = make_colour_release(tmp_path / "cv32", two_folders=True)
    report = check_dataset(root)
    colours = np.stack([_colour_label(i) for i in range(3)])
    void = int((colours == 0).all(axis=3).sum())
    assert report.unmapped_pixels["Void"] == void and report.valid_pairs == 3
    assert "photos in 701_StillsRaw_full/, *_L.png labels in LabeledApproved_full/" in report.format_text()


# ---- Training and mixing ------------------------------------------------------------------------

def test_train_split_trains_and_val_split_validates(tmp_path: Path) -> None:
    root = make_segnet(tmp_path / "camvid")
    train_source, val_source, warnings = open_datasets(DataConfig(path=str(root)), seed=0)
    assert warnings == [] and len(train_source) == 3
    assert val_source is not None and len(val_source) == 3 and val_source.name.endswith("/val")


@pytest.mark.usefixtures("one_torch_thread")
def test_two_training_steps_on_camvid(tmp_path: Path) -> None:
    root = make_segnet(tmp_path / "camvid")
    base = tiny_config(size=16, depth=4)
    cfg = dataclasses.replace(
        base,
        data=DataConfig(path=str(root), format="camvid", load_size=(20, 20), crop_size=(16, 16)),
        train=dataclasses.replace(base.train, max_steps=2, checkpoint_every=2, sample_every=2),
    )
    events = list(train(cfg, tmp_path / "run"))
    assert isinstance(events[-1], Finished), events[-1]
    assert [e.step for e in events if isinstance(e, Step)] == [1, 2]


def test_camvid_as_an_extra_path_is_mixed_in(tmp_path: Path) -> None:
    root = make_segnet(tmp_path / "camvid")
    cfg = DataConfig(path="synthetic", synthetic_count=4, load_size=(H, W), crop_size=(H, W), preprocess="resize",
                     extra_paths=(str(root),), extra_repeat=2, exclude=("train/0001TP_000001.png",),
                     val_fraction=0.25)
    train_source, val_source, warnings = open_datasets(cfg, seed=0)
    assert warnings == []
    described = [train_source.describe(i) for i in range(len(train_source))]
    assert len(train_source) == 4 + 2 * 2
    assert described.count("train/0001TP_000000.png") == 2 and "train/0001TP_000001.png" not in described
    labels, _ = train_source[len(train_source) - 1]
    assert set(np.unique(labels).tolist()) <= set(CAMVID11_TO_LABEL_ID.values())
    assert val_source is not None and len(val_source) == 1 + 3  # synthetic holdout + CamVid's val/


# ---- The real copy ------------------------------------------------------------------------------

def test_shared_camvid_has_701_pairs_by_split() -> None:
    if not SHARED_CAMVID.is_dir():
        pytest.skip(f"{SHARED_CAMVID} is absent (the real CamVid copy lives outside the repo)")
    layout = detect_layout(SHARED_CAMVID)
    assert layout.format == "camvid"
    counts = {split: len(open_split(layout, split)) for split in layout.splits}
    assert counts == {"train": 367, "val": 101, "test": 233}
    labels, photo = open_split(layout, "val")[0]
    assert labels.shape == (360, 480) and photo.shape == (360, 480, 3)
    assert set(np.unique(labels).tolist()) <= set(CAMVID11_TO_LABEL_ID.values())


def test_train_and_val_splits_train_together_for_a_final_model(tmp_path: Path) -> None:
    root = make_segnet(tmp_path / "camvid")
    cfg = DataConfig(path=str(root), train_splits=("train", "val"), val_fraction=0.2)
    train_source, val_source, warnings = open_datasets(cfg, seed=0)
    assert warnings == [] and val_source is not None and (len(train_source), len(val_source)) == (5, 1)
    names = {s.describe(i) for s in (train_source, val_source) for i in range(len(s))}
    assert names == {f"{split}/0001TP_{i:06d}.png" for split in ("train", "val") for i in range(3)}
