"""DataConfig.train_splits: a final model trains on several splits of one dataset together
(train + val), validated on a seeded holdout of them; an extra dataset keeps its own train split."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import DataConfig
from core.data.registry import open_datasets
from core.errors import ConfigError, UserError
from tests.core.test_data_fixtures import make_aligned, make_cityscapes


def _names(source) -> set[str]:
    return {source.describe(i) for i in range(len(source))}


def test_train_and_val_train_together_with_a_seeded_holdout(tmp_path: Path) -> None:
    root = make_aligned(tmp_path / "d", {"train": 6, "val": 4, "test": 3})
    usual, usual_val, _ = open_datasets(DataConfig(path=str(root)), seed=0)
    assert usual_val is not None and (len(usual), len(usual_val)) == (6, 4)

    cfg = DataConfig(path=str(root), train_splits=("train", "val"), val_fraction=0.2)
    train, val, warnings = open_datasets(cfg, seed=0)
    assert val is not None and warnings == [] and (len(train), len(val)) == (8, 2)
    every = _names(train) | _names(val)
    assert every == _names(usual) | _names(usual_val)  # all of train/ and val/, nothing of test/
    assert not _names(train) & _names(val)
    again_train, again_val, _ = open_datasets(cfg, seed=0)
    assert _names(again_val) == _names(val)  # seeded: the same holdout every time

    train, val, _ = open_datasets(DataConfig(path=str(root), train_splits=("train", "val"), val_fraction=0.0), seed=0)
    assert len(train) == 10 and val is None


def test_an_unknown_split_is_a_named_error_and_duplicates_are_refused(tmp_path: Path) -> None:
    root = make_aligned(tmp_path / "d", {"train": 2, "val": 2})
    with pytest.raises(UserError, match=r"no split 'extra'.*train, val"):
        open_datasets(DataConfig(path=str(root), train_splits=("train", "extra")), seed=0)
    with pytest.raises(ConfigError, match="twice"):
        DataConfig(train_splits=("train", "train"))


def test_extra_data_keeps_its_own_train_split(tmp_path: Path) -> None:
    root = make_aligned(tmp_path / "d", {"train": 3, "val": 2})
    extra = make_cityscapes(tmp_path / "cs", {"train": 2})
    cfg = DataConfig(path=str(root), train_splits=("train", "val"), val_fraction=0.0,
                     extra_paths=(str(extra),), extra_repeat=2)
    train, val, _ = open_datasets(cfg, seed=0)
    assert len(train) == 5 + 2 * 2 and val is None
