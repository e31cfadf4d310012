"""Each dataset source yields (uint8 H×W label ids, uint8 H×W×3 photo) pairs from its layout, the
real shared Cityscapes samples load correctly, and the format is detected from the folder."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from core.data.aligned import AlignedSource
from core.data.base import PairSource
from core.data.cityscapes import CityscapesSource
from core.data.detect import detect_layout, open_split
from core.data.folders import FolderPairsSource
from core.data.synthetic import SyntheticStreets
from core.errors import UserError
from core.labels import ids_to_color, ids_to_palette_index
from tests.core.test_data_fixtures import make_aligned, make_cityscapes, make_folders, pair

ROAD, BUILDING, CAR = 7, 11, 26


def _assert_pair(labels: np.ndarray, photo: np.ndarray) -> None:
    assert labels.dtype == np.uint8 and labels.ndim == 2
    assert photo.dtype == np.uint8 and photo.shape == labels.shape + (3,)


def test_aligned_source_bto_a_takes_the_label_from_the_right(tmp_path: Path) -> None:
    root = make_aligned(tmp_path / "ds", {"train": 3})
    source = AlignedSource(root, "BtoA", "train")
    assert isinstance(source, PairSource)
    assert len(source) == 3 and source.describe(0) == "train/1.jpg"
    labels, photo = source[0]
    _assert_pair(labels, photo)
    want_labels, want_photo = pair(0, (32, 32))
    # JPEG'd colour map snapped back. Compared as palette classes: a colour map cannot tell the
    # black classes apart ("ego vehicle" comes back as "unlabeled"), and the model never does either.
    assert (ids_to_palette_index(labels) == ids_to_palette_index(want_labels)).mean() > 0.97
    assert np.abs(photo.astype(int) - want_photo).mean() < 12  # the photo half, not the label half
    assert source.load_pair(0).snapped > 0


def test_aligned_source_ato_b_takes_the_label_from_the_left(tmp_path: Path) -> None:
    root = make_aligned(tmp_path / "ds", {"": 2}, label_right=False)
    source = AlignedSource(root, "AtoB", "")
    labels, _ = source[1]
    assert (ids_to_palette_index(labels) == ids_to_palette_index(pair(1, (32, 32))[0])).mean() > 0.97


def test_aligned_source_in_wrong_direction_says_so(tmp_path: Path) -> None:
    from core.errors import BadFileError

    root = make_aligned(tmp_path / "ds", {"train": 1})
    with pytest.raises(BadFileError, match=r"the left \(A\) half is not a Cityscapes colour label map, "
                                            r"the right half is: try direction BtoA"):
        AlignedSource(root, "AtoB", "train")[0]


def test_cityscapes_source(tmp_path: Path) -> None:
    root = make_cityscapes(tmp_path / "cs", {"train": 2, "val": 1})
    source = CityscapesSource(root, "train")
    assert len(source) == 2
    assert source.describe(1) == "train/aachen/aachen_000001_000019"
    labels, photo = source[1]
    _assert_pair(labels, photo)
    np.testing.assert_array_equal(labels, pair(1)[0])  # id PNGs are exact
    np.testing.assert_array_equal(photo, pair(1)[1])
    assert len(CityscapesSource(root, "val")) == 1


@pytest.mark.parametrize("colour", [False, True])
def test_folder_pairs_source(tmp_path: Path, colour: bool) -> None:
    root = make_folders(tmp_path / "fo", 3, colour_labels=colour)
    source = FolderPairsSource(root, "BtoA")
    assert len(source) == 3 and source.describe(2) == "A/img2.jpg"
    labels, photo = source[2]
    _assert_pair(labels, photo)
    np.testing.assert_array_equal(ids_to_palette_index(labels), ids_to_palette_index(pair(2)[0]))
    if not colour:
        np.testing.assert_array_equal(labels, pair(2)[0])  # id PNGs are exact


def test_folder_pairs_ato_b_reads_labels_from_a(tmp_path: Path) -> None:
    root = tmp_path / "fo"
    make_folders(root, 2)
    (root / "A").rename(root / "tmp")
    (root / "B").rename(root / "A")
    (root / "tmp").rename(root / "B")
    labels, _ = FolderPairsSource(root, "AtoB")[0]
    np.testing.assert_array_equal(labels, pair(0)[0])


def test_synthetic_source() -> None:
    source = SyntheticStreets(5, seed=3, size=(32, 48))
    assert len(source) == 5 and source.describe(2) == "synthetic #2 (seed 3)"
    labels, photo = source[4]
    _assert_pair(labels, photo)
    assert labels.shape == (32, 48)
    with pytest.raises(IndexError):
        source[5]


def test_sources_pickle_for_dataloader_workers(tmp_path: Path) -> None:
    """Workers receive the source by pickling: paths, not open files."""
    sources: list[PairSource] = [AlignedSource(make_aligned(tmp_path / "al", {"train": 1}), "BtoA", "train"),
               CityscapesSource(make_cityscapes(tmp_path / "cs", {"train": 1})),
               FolderPairsSource(make_folders(tmp_path / "fo", 1)), SyntheticStreets(2, 0, (16, 16))]
    for source in sources:
        clone: PairSource = pickle.loads(pickle.dumps(source))
        np.testing.assert_array_equal(clone[0][0], source[0][0])


# --- detection -----------------------------------------------------------------------------

def test_detects_each_layout(tmp_path: Path) -> None:
    assert detect_layout(make_aligned(tmp_path / "a", {"train": 1, "val": 1})).format == "aligned"
    assert detect_layout(tmp_path / "a").splits == ("train", "val")
    flat = detect_layout(make_aligned(tmp_path / "flat", {"": 2}))
    assert (flat.format, flat.splits) == ("aligned", ("",))
    assert detect_layout(make_cityscapes(tmp_path / "c", {"train": 1})).format == "cityscapes"
    assert detect_layout(make_folders(tmp_path / "f", 1)).format == "folders"
    split_folders = detect_layout(make_folders(tmp_path / "fs", 1, split="train"))
    assert (split_folders.format, split_folders.splits) == ("folders", ("train",))
    assert detect_layout("synthetic").format == "synthetic"


def test_format_override(tmp_path: Path) -> None:
    root = make_folders(tmp_path / "f", 1)
    with pytest.raises(UserError, match="not a Cityscapes folder"):
        detect_layout(root, "cityscapes")
    layout = detect_layout(root / "A", "aligned")  # a folder of plain images can be forced to aligned
    assert layout.format == "aligned"
    assert len(open_split(layout, "", "BtoA")) == 1


def test_missing_path_empty_folder_and_non_dataset(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such folder"):
        detect_layout(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="the folder is empty; expected aligned"):
        detect_layout(tmp_path / "empty")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readme.txt").write_text("hi")
    with pytest.raises(UserError, match="not a dataset .*paired folders A/ and B/"):
        detect_layout(tmp_path / "docs")
    with pytest.raises(UserError, match="is a file, not a dataset folder"):
        detect_layout(tmp_path / "docs" / "readme.txt")


# --- the real shared samples ---------------------------------------------------------------

@pytest.mark.shared_data
def test_real_cityscapes_samples(shared_data: Path) -> None:
    root = shared_data / "cityscapes-mini"
    layout = detect_layout(root)
    assert (layout.format, layout.splits) == ("cityscapes", ("train",))
    source = open_split(layout, "train")
    assert len(source) == 8
    labels, photo = source[0]
    assert labels.shape == (1024, 2048) and photo.shape == (1024, 2048, 3)
    assert {ROAD, BUILDING, CAR} <= set(np.unique(labels).tolist())
    # The official colour image agrees with the ids we read.
    from core.io.imageio import read_rgb
    colour = read_rgb(root / "gtFine" / "train" / "aachen" / "aachen_000000_000019_gtFine_color.png")
    assert (ids_to_color(labels) == colour).all(axis=2).mean() > 0.99


@pytest.mark.shared_data
def test_real_aligned_samples(shared_data: Path) -> None:
    root = shared_data / "cityscapes-mini-aligned"
    layout = detect_layout(root)
    assert layout.format == "aligned"
    source = open_split(layout, layout.splits[0], "BtoA")
    assert len(source) == 8
    labels, photo = source[0]
    assert labels.shape == (256, 256) and photo.shape == (256, 256, 3)
    assert {ROAD, BUILDING, CAR} <= set(np.unique(labels).tolist())
    # Road is the most common class in the bottom half of a street scene.
    bottom = labels[128:]
    assert np.bincount(bottom.ravel()).argmax() == ROAD
    # The photo half is a photo: many colours, unlike the snapped label half.
    assert len(np.unique(photo.reshape(-1, 3), axis=0)) > 5000


def test_the_folder_above_datasets_names_them(tmp_path: Path) -> None:
    make_aligned(tmp_path / "data" / "streets", {"train": 1})
    make_cityscapes(tmp_path / "data" / "cs", {"train": 1})
    with pytest.raises(UserError, match=r"not a dataset itself, but it holds 2: .*cs, .*streets"):
        detect_layout(tmp_path / "data")
