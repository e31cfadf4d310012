"""What training opens: `open_datasets(cfg, seed)` -> (train source, validation source or None,
warnings).

The folder is detected (or the configured format checked), every pair is validated with the same
code as `roadstudio-cli data check` (core.data.check), bad pairs are left out with one warning each
naming the file and the reason, and a validation set is chosen: the val/ split where the dataset has
one, else a seeded `val_fraction` holdout of the training pairs. Synthetic streets use a separate
index range for validation. Nothing is cached on disk.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.config import DataConfig
from core.data.base import PairSource, SubsetSource
from core.data.check import DatasetReport, scan_source
from core.data.detect import SYNTHETIC, detect_layout, open_split
from core.data.synthetic import SyntheticStreets
from core.errors import UserError

#: Synthetic validation pairs come from indices far above any training index.
SYNTHETIC_VAL_FIRST_INDEX = 1 << 40
MAX_SYNTHETIC_VAL = 64


def _synthetic_size(cfg: DataConfig) -> tuple[int, int]:
    """Generate at the size the transforms want first, so no resize is wasted."""
    return cfg.load_size if cfg.preprocess == "resize_and_crop" else cfg.crop_size


def _synthetic(cfg: DataConfig, seed: int) -> tuple[PairSource, PairSource | None, list[str]]:
    size = _synthetic_size(cfg)
    train = SyntheticStreets(cfg.synthetic_count, seed, size, name="synthetic")
    val_count = min(MAX_SYNTHETIC_VAL, max(1, round(cfg.synthetic_count * cfg.val_fraction)))
    val = (SyntheticStreets(val_count, seed, size, first_index=SYNTHETIC_VAL_FIRST_INDEX, name="synthetic-val")
           if cfg.val_fraction > 0 else None)
    return train, val, []


def _pick_train_split(splits: tuple[str, ...]) -> str | None:
    for name in ("train", ""):
        if name in splits:
            return name
    others = [s for s in splits if s not in ("val", "test")]
    return others[0] if others else None


def open_datasets(cfg: DataConfig, seed: int,
                  progress: Callable[[int, int], None] | None = None,
                  ) -> tuple[PairSource, PairSource | None, list[str]]:
    """Training and validation sources for `cfg`, plus one warning per skipped file.
    Raises UserError when the folder is not a dataset or no valid training pair remains.
    `progress(done, total)` follows the validation pass (every pair is decoded once)."""
    if cfg.format == SYNTHETIC or (cfg.format == "auto" and cfg.path == SYNTHETIC):
        return _synthetic(cfg, seed)
    layout = detect_layout(cfg.path, cfg.format)
    train_split = _pick_train_split(layout.splits)
    use_val_split = "val" in layout.splits and train_split is not None
    if train_split is None:  # only val/ and/or test/: train on what there is
        train_split = "val" if "val" in layout.splits else layout.splits[0]
    wanted = [train_split] + (["val"] if use_val_split else [])
    sources = {split: open_split(layout, split, cfg.direction) for split in wanted}
    total = sum(len(s) for s in sources.values())
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    report = DatasetReport(root=layout.root, layout=layout.format, direction=cfg.direction)
    for split, source in sources.items():
        scan_source(source, report, split, progress=tick)
    warnings = [f"skipped {path}: {reason}" for path, reason in report.bad_files]

    train_report = report.splits[train_split]
    if train_report.valid == 0:
        first = f" (first: {report.bad_files[0][0]}: {report.bad_files[0][1]})" if report.bad_files else ""
        where = f"{train_split}/" if train_split else "the folder"
        raise UserError(f"{layout.root}: no usable training pairs in {where}: {train_report.pairs} found, "
                        f"all bad{first}")
    train_source = sources[train_split]
    train: PairSource = SubsetSource(train_source, train_report.valid_indices, name=train_source.name)
    val: PairSource | None = None
    if use_val_split and report.splits["val"].valid > 0:
        val_source = sources["val"]
        val = SubsetSource(val_source, report.splits["val"].valid_indices, name=val_source.name)
    elif cfg.val_fraction > 0 and train_report.valid >= 2:
        order = np.random.default_rng([abs(seed), 0x7A1]).permutation(train_report.valid_indices).tolist()
        n_val = min(len(order) - 1, max(1, round(len(order) * cfg.val_fraction)))
        val = SubsetSource(train_source, sorted(order[:n_val]), name=f"{train_source.name} (held out)")
        train = SubsetSource(train_source, sorted(order[n_val:]), name=train_source.name)
    return train, val, warnings
