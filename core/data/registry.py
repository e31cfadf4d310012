"""What training opens: `open_datasets(cfg, seed)` -> (train source, validation source or None,
warnings).

The folder is detected (or the configured format checked), every pair is validated with the same
code as `roadstudio-cli data check` (core.data.check), bad pairs are left out with one warning each
naming the file and the reason, and a validation set is chosen: the val/ split where the dataset has
one, else a seeded `val_fraction` holdout of the training pairs. Synthetic streets use a separate
index range for validation. Nothing is cached on disk.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable

import numpy as np

from core.config import DataConfig
from core.data.base import PairSource, SubsetSource
from core.data.check import DatasetReport, scan_source
from core.data.detect import SYNTHETIC, Layout, detect_layout, open_split
from core.data.mixing import ConcatSource, RepeatSource, exclude_pairs
from core.data.rare import apply_rare_sampling
from core.data.synthetic import SyntheticStreets
from core.errors import UserError

#: Synthetic validation pairs come from indices far above any training index.
SYNTHETIC_VAL_FIRST_INDEX = 1 << 40
MAX_SYNTHETIC_VAL = 64


def _synthetic_size(cfg: DataConfig) -> tuple[int, int]:
    """Generate at the size the transforms want first, so no resize is wasted."""
    return cfg.load_size if cfg.preprocess in ("resize_and_crop", "multiscale_crop") else cfg.crop_size


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
    """Training and validation sources for `cfg`, plus one warning per skipped file (and one
    note on rare-class sampling when it is on).
    Raises UserError when the folder is not a dataset or no valid training pair remains.
    `progress(done, total)` follows the validation pass (every pair is decoded once).
    With cfg.extra_paths / cfg.exclude the sources are mixed (see _open_mixed); cfg.holdout moves
    matching training pairs to validation; cfg.rare_threshold repeats frames with rare classes
    (core.data.rare)."""
    pair_pixels: dict[str, np.ndarray] = {}
    train, val, warnings = _open_any(cfg, seed, progress, pair_pixels)
    if cfg.holdout:
        train, val, holdout_warnings = _hold_out_patterns(train, val, cfg.holdout)
        warnings += holdout_warnings
    if cfg.rare_threshold > 0:
        if not pair_pixels:
            warnings.append("rare-class sampling is off: this source has no scanned label maps (synthetic)")
        else:
            train, info = apply_rare_sampling(train, pair_pixels, cfg.rare_threshold, cfg.rare_max_repeat)
            warnings.append(info.summary())
    return train, val, warnings


def _hold_out_patterns(train: PairSource, val: PairSource | None, patterns: tuple[str, ...]
                       ) -> tuple[PairSource, PairSource | None, list[str]]:
    """Training pairs whose description matches a pattern move to validation (whole clips)."""
    kept, moved = exclude_pairs(train, patterns)
    if not moved:
        return train, val, [f"holdout patterns {', '.join(map(repr, patterns))} matched no training pair"]
    if len(kept) == 0:
        raise UserError("no training pairs left after holding out " + ", ".join(map(repr, patterns)))
    moved_set = set(moved)
    held = SubsetSource(train, [i for i in range(len(train)) if train.describe(i) in moved_set],
                        name=f"{train.name} (held out by pattern)")
    new_val: PairSource = held if val is None else ConcatSource([val, held])
    return kept, new_val, []


def _open_any(cfg: DataConfig, seed: int, progress: Callable[[int, int], None] | None,
              pair_pixels: dict[str, np.ndarray]) -> tuple[PairSource, PairSource | None, list[str]]:
    if cfg.extra_paths or cfg.exclude:
        return _open_mixed(cfg, seed, progress, pair_pixels)
    if cfg.format == SYNTHETIC or (cfg.format == "auto" and cfg.path == SYNTHETIC):
        return _synthetic(cfg, seed)
    layout = detect_layout(cfg.path, cfg.format)
    if cfg.train_splits:
        return _open_splits_together(cfg, layout, seed, progress, pair_pixels)
    train_split = _pick_train_split(layout.splits)
    use_val_split = "val" in layout.splits and train_split is not None
    if train_split is None:  # only val/ and/or test/: train on what there is
        train_split = "val" if "val" in layout.splits else layout.splits[0]
    wanted = [train_split] + (["val"] if use_val_split else [])
    sources, report, warnings = _open_and_scan(layout, wanted, cfg, progress, pair_pixels)

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
        train, val = _hold_out(train_source, train_report.valid_indices, cfg.val_fraction, seed)
    return train, val, warnings


def _open_and_scan(layout: Layout, splits: list[str], cfg: DataConfig, progress: Callable[[int, int], None] | None,
                   pair_pixels: dict[str, np.ndarray] | None = None,
                   ) -> tuple[dict[str, PairSource], DatasetReport, list[str]]:
    """Open `splits` of `layout` and validate every pair once (the data check's code), with one
    progress count over all of them; returns the sources, the report and one warning per bad file."""
    sources = {split: open_split(layout, split, cfg.direction) for split in splits}
    total, done = sum(len(s) for s in sources.values()), 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    report = DatasetReport(root=layout.root, layout=layout.format, direction=cfg.direction)
    for split, source in sources.items():
        scan_source(source, report, split, progress=tick, pair_pixels=pair_pixels)
    return sources, report, [f"skipped {path}: {reason}" for path, reason in report.bad_files]


def _hold_out(source: PairSource, valid: list[int], fraction: float, seed: int) -> tuple[PairSource, PairSource]:
    """A seeded `fraction` of the valid pairs for validation (at least one), the rest for training."""
    order = np.random.default_rng([abs(seed), 0x7A1]).permutation(valid).tolist()
    n_val = min(len(order) - 1, max(1, round(len(order) * fraction)))
    return (SubsetSource(source, sorted(order[n_val:]), name=source.name),
            SubsetSource(source, sorted(order[:n_val]), name=f"{source.name} (held out)"))


def _open_splits_together(cfg: DataConfig, layout: Layout, seed: int, progress: Callable[[int, int], None] | None,
                          pair_pixels: dict[str, np.ndarray],
                          ) -> tuple[PairSource, PairSource | None, list[str]]:
    """cfg.train_splits of one dataset trained on as one set (a final model on train + val); the
    validation pairs are a seeded val_fraction holdout of them (none when val_fraction is 0)."""
    missing = [s for s in cfg.train_splits if s not in layout.splits]
    if missing:
        have = ", ".join(s or "(no split folders)" for s in layout.splits)
        raise UserError(f"{layout.root}: no split {', '.join(map(repr, missing))} to train on; it has: {have}")
    sources, report, warnings = _open_and_scan(layout, list(cfg.train_splits), cfg, progress, pair_pixels)
    parts = [SubsetSource(sources[s], report.splits[s].valid_indices, name=sources[s].name) for s in cfg.train_splits]
    combined: PairSource = parts[0] if len(parts) == 1 else ConcatSource(parts)
    if len(combined) == 0:
        raise UserError(f"{layout.root}: no usable training pairs in {', '.join(cfg.train_splits)}")
    if cfg.val_fraction > 0 and len(combined) >= 2:
        train, val = _hold_out(combined, list(range(len(combined))), cfg.val_fraction, seed)
        return train, val, warnings
    return combined, None, warnings


def _open_mixed(cfg: DataConfig, seed: int, progress: Callable[[int, int], None] | None,
                pair_pixels: dict[str, np.ndarray]) -> tuple[PairSource, PairSource | None, list[str]]:
    """`path` as usual, plus each of `extra_paths` (auto-detected, no holdout of their own: a val/
    split of theirs joins validation) with its training pairs repeated `extra_repeat` times; then
    every pair matching an `exclude` pattern is dropped from training and validation."""
    single = dataclasses.replace(cfg, extra_paths=(), exclude=(), extra_repeats=())
    train, val, warnings = _open_any(single, seed, progress, pair_pixels)
    trains: list[PairSource] = [train]
    vals: list[PairSource] = [val] if val is not None else []
    repeats = cfg.extra_repeats or (cfg.extra_repeat,) * len(cfg.extra_paths)
    for extra, repeat in zip(cfg.extra_paths, repeats, strict=True):
        # train_splits names splits of `path`; an extra dataset trains on its own train split
        extra_cfg = dataclasses.replace(single, path=extra, format="auto", val_fraction=0.0, train_splits=())
        extra_train, extra_val, extra_warnings = _open_any(extra_cfg, seed, progress, pair_pixels)
        warnings += extra_warnings
        trains.append(RepeatSource(extra_train, repeat))
        if extra_val is not None:
            vals.append(extra_val)
    matched: set[str] = set()
    kept_trains: list[PairSource] = []
    kept_vals: list[PairSource] = []
    for group, kept in ((trains, kept_trains), (vals, kept_vals)):
        for source in group:
            source, dropped = exclude_pairs(source, cfg.exclude)
            matched.update(p for p in cfg.exclude for d in dropped if fnmatch.fnmatchcase(d, p))
            kept.append(source)
    warnings += [f"exclude pattern {p!r} matched no pair" for p in cfg.exclude if p not in matched]
    mixed_train: PairSource = kept_trains[0] if len(kept_trains) == 1 else ConcatSource(kept_trains)
    if len(mixed_train) == 0:
        raise UserError("no training pairs left after excluding " + ", ".join(map(repr, cfg.exclude)))
    mixed_val: PairSource | None = None
    if kept_vals:
        mixed_val = kept_vals[0] if len(kept_vals) == 1 else ConcatSource(kept_vals)
        if len(mixed_val) == 0:
            mixed_val = None
    return mixed_train, mixed_val, warnings
