"""Training on several sources at once (DataConfig.extra_paths / extra_repeat / exclude) and
multi-scale crops (preprocess="multiscale_crop"), on real tiny on-disk Cityscapes folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.config import DataConfig, RunConfig, load_run_config, save_run_config
from core.data.base import InMemoryPairs
from core.data.loader import PairDataset
from core.data.mixing import ConcatSource, RepeatSource, exclude_pairs
from core.data.registry import open_datasets
from core.data.transforms import joint_transform, multiscale_box
from core.errors import ConfigError, UserError
from tests.core.test_data_fixtures import make_cityscapes


def _pairs(n: int, size: tuple[int, int] = (8, 16), name: str = "mem") -> InMemoryPairs:
    return InMemoryPairs([(np.full(size, i, np.uint8), np.full((*size, 3), i, np.uint8)) for i in range(n)], name)


class _CountingSource:
    """Counts decodes, to see the RepeatSource cache work."""

    def __init__(self, inner: InMemoryPairs) -> None:
        self.inner, self.name, self.loads = inner, inner.name, 0

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        self.loads += 1
        return self.inner[index]

    def describe(self, index: int) -> str:
        return self.inner.describe(index)


def test_concat_and_repeat_index_every_pair_and_describe_the_original() -> None:
    counting = _CountingSource(_pairs(3, name="real"))
    mixed = ConcatSource([_pairs(2, name="syn"), RepeatSource(counting, 4)])
    assert len(mixed) == 2 + 12
    ids = [int(mixed[i][0][0, 0]) for i in range(len(mixed))]
    assert ids == [0, 1] + [0, 1, 2] * 4
    assert mixed.describe(13) == "real #2"
    assert counting.loads == 3  # repeats come from the cache, not a second decode
    with pytest.raises(IndexError):
        mixed[14]


def test_exclude_pairs_by_pattern_on_the_description() -> None:
    kept, dropped = exclude_pairs(_pairs(4, name="cs"), ["*#2"])
    assert dropped == ["cs #2"]
    assert [int(kept[i][0][0, 0]) for i in range(len(kept))] == [0, 1, 3]


def test_multiscale_box_never_upsamples_and_keeps_the_aspect() -> None:
    cfg = DataConfig(preprocess="multiscale_crop", crop_size=(64, 128), crop_scale=(0.25, 1.0))
    rng = np.random.default_rng(0)
    sides = []
    for _ in range(200):
        top, left, h, w = multiscale_box(256, 512, cfg, rng)
        assert 64 <= h <= 256 and 128 <= w <= 512
        assert top + h <= 256 and left + w <= 512
        assert abs(w / h - 2.0) < 0.05
        sides.append(h)
    assert min(sides) < 100 and max(sides) > 220  # really several scales
    # An image the size of the crop is used whole.
    assert multiscale_box(64, 128, cfg, rng) == (0, 0, 64, 128)


def test_multiscale_crop_transform_is_seeded_and_aligned() -> None:
    cfg = DataConfig(preprocess="multiscale_crop", crop_size=(32, 64), load_size=(32, 64), flip=False)
    labels = np.zeros((128, 256), np.uint8)
    labels[:, 128:] = 7  # right half road
    photo = np.zeros((128, 256, 3), np.uint8)
    photo[:, 128:] = 200
    a = joint_transform(labels, photo, cfg, np.random.default_rng([3, 1, 5]), train=True)
    b = joint_transform(labels, photo, cfg, np.random.default_rng([3, 1, 5]), train=True)
    assert a[0].shape == (32, 64) and a[1].shape == (3, 32, 64)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    road = a[0] == 7
    assert torch.all(a[1][0][road] > 100) and torch.all(a[1][0][~road] < 100)  # label and photo moved together
    # Validation: a plain resize of the whole image.
    ids, _ = joint_transform(labels, photo, cfg, np.random.default_rng(0), train=False)
    assert ids.shape == (32, 64) and int((ids == 7).sum()) == 32 * 32


def test_open_datasets_mixes_synthetic_and_a_real_folder_without_the_excluded_frame(tmp_path: Path) -> None:
    root = make_cityscapes(tmp_path / "cs", {"train": 3})
    cfg = DataConfig(path="synthetic", synthetic_count=10, preprocess="multiscale_crop", load_size=(32, 64),
                     crop_size=(32, 64), extra_paths=(str(root),), extra_repeat=5,
                     exclude=("*aachen_000001_*",), val_fraction=0.2)
    train, val, warnings = open_datasets(cfg, seed=0)
    assert warnings == []
    described = [train.describe(i) for i in range(len(train))]
    assert len(train) == 10 + 2 * 5
    assert sum("aachen_000000_000019" in d for d in described) == 5
    assert not any("aachen_000001" in d for d in described)
    assert val is not None and len(val) == 2  # the synthetic validation scenes
    batch = PairDataset(train, cfg, seed=0, train=True)[(0, len(train) - 1)]
    assert batch["labels"].shape == (32, 64) and batch["photo"].shape == (3, 32, 64)


def test_exclude_warns_when_nothing_matches_and_fails_when_nothing_is_left(tmp_path: Path) -> None:
    root = make_cityscapes(tmp_path / "cs", {"train": 2})
    _, _, warnings = open_datasets(DataConfig(path=str(root), exclude=("*nope*",), val_fraction=0.0), seed=0)
    assert warnings == ["exclude pattern '*nope*' matched no pair"]
    with pytest.raises(UserError, match="no training pairs left"):
        open_datasets(DataConfig(path=str(root), exclude=("*aachen*",), val_fraction=0.0), seed=0)


def test_new_data_settings_round_trip_and_are_validated(tmp_path: Path) -> None:
    cfg = RunConfig(data=DataConfig(extra_paths=("a", "b c"), extra_repeat=3, exclude=("*x*",),
                                    preprocess="multiscale_crop", crop_scale=(0.5, 0.75)))
    save_run_config(cfg, tmp_path / "c.toml")
    assert load_run_config(tmp_path / "c.toml") == cfg
    with pytest.raises(ConfigError, match="crop_scale"):
        DataConfig(crop_scale=(0.0, 1.0))
    with pytest.raises(ConfigError, match="extra_repeat"):
        DataConfig(extra_repeat=0)


def test_multiscale_crop_draws_synthetic_scenes_at_load_size_for_crops_at_native_resolution() -> None:
    cfg = DataConfig(path="synthetic", synthetic_count=4, preprocess="multiscale_crop", load_size=(64, 64),
                     crop_size=(32, 32))
    train, _, _ = open_datasets(cfg, seed=0)
    assert train[0][0].shape == (64, 64)
