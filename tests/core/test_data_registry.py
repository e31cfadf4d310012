"""open_datasets: what training gets — valid pairs only (one warning per skipped file), a
validation split chosen sensibly, and a clear UserError when nothing usable remains."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import DataConfig
from core.data.registry import SYNTHETIC_VAL_FIRST_INDEX, open_datasets
from core.errors import UserError
from tests.core.test_data_fixtures import make_aligned, make_cityscapes


def test_synthetic_train_and_a_separate_validation_range() -> None:
    cfg = DataConfig(path="synthetic", synthetic_count=20, val_fraction=0.1, load_size=(40, 72), crop_size=(32, 64))
    train, val, warnings = open_datasets(cfg, seed=5)
    assert len(train) == 20 and warnings == []
    assert val is not None and len(val) == 2
    assert train[0][0].shape == (40, 72)  # generated at the load size: no wasted resize
    assert val.describe(0) == f"synthetic #{SYNTHETIC_VAL_FIRST_INDEX} (seed 5)"
    assert train.describe(19) == "synthetic #19 (seed 5)"


def test_val_split_is_used_where_it_exists(tmp_path: Path) -> None:
    root = make_aligned(tmp_path / "ds", {"train": 4, "val": 2})
    train, val, warnings = open_datasets(DataConfig(path=str(root)), seed=0)
    assert val is not None and (len(train), len(val)) == (4, 2) and warnings == []
    assert val.describe(0) == "val/1.jpg"


def test_seeded_holdout_without_a_val_split(tmp_path: Path) -> None:
    root = make_aligned(tmp_path / "ds", {"": 10})
    cfg = DataConfig(path=str(root), val_fraction=0.2)
    train, val, _ = open_datasets(cfg, seed=1)
    assert val is not None
    names_train = {train.describe(i) for i in range(len(train))}
    names_val = {val.describe(i) for i in range(len(val))}
    assert len(names_val) == 2 and len(names_train) == 8 and not names_train & names_val
    again_train, again_val, _ = open_datasets(cfg, seed=1)
    assert again_val is not None
    assert {again_val.describe(i) for i in range(len(again_val))} == names_val  # same seed, same split
    others = [open_datasets(cfg, seed=s)[1] for s in range(2, 8)]
    other = {v.describe(i) for v in others if v is not None for i in range(2)}
    assert other != names_val  # other seeds pick other pairs
    _, no_val, _ = open_datasets(DataConfig(path=str(root), val_fraction=0.0), seed=1)
    assert no_val is None


def test_bad_files_are_skipped_with_one_warning_each(tmp_path: Path) -> None:
    root = make_cityscapes(tmp_path / "cs", {"train": 3})
    city = root / "gtFine" / "train" / "aachen"
    (city / "aachen_000001_000019_gtFine_labelIds.png").write_bytes(b"")
    (root / "leftImg8bit" / "train" / "aachen" / "aachen_000002_000019_leftImg8bit.png").unlink()
    train, val, warnings = open_datasets(DataConfig(path=str(root), val_fraction=0.0), seed=0)
    assert len(train) == 1 and val is None
    assert len(warnings) == 2
    assert any("aachen_000001_000019_gtFine_labelIds.png: empty file (0 bytes)" in w for w in warnings)
    assert any("aachen_000002_000019_gtFine_labelIds.png: missing partner file" in w for w in warnings)
    assert all(w.startswith("skipped ") for w in warnings)


def test_refuses_when_nothing_valid_remains(tmp_path: Path) -> None:
    root = tmp_path / "ds" / "train"
    root.mkdir(parents=True)
    (root / "1.jpg").write_text("not an image")
    (root / "2.jpg").write_bytes(b"")
    with pytest.raises(UserError, match=r"no usable training pairs in train/: 2 found, all bad "
                                           r"\(first: .*1.jpg: not an image file\)"):
        open_datasets(DataConfig(path=str(tmp_path / "ds")), seed=0)


def test_refuses_a_folder_that_is_not_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such folder"):
        open_datasets(DataConfig(path=str(tmp_path / "missing")), seed=0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="empty"):
        open_datasets(DataConfig(path=str(tmp_path / "empty")), seed=0)


@pytest.mark.shared_data
def test_real_datasets_open_for_training(shared_data: Path) -> None:
    for name in ("cityscapes-mini", "cityscapes-mini-aligned"):
        train, val, warnings = open_datasets(DataConfig(path=str(shared_data / name)), seed=0)
        assert val is not None and len(train) == 7 and len(val) == 1 and warnings == []
