"""The dataset check: decode every pair once, collect what a user needs to know about the data
(layout, pairs per split, image sizes, class histogram, snapped-pixel share; for CamVid, the pixels
of CamVid classes that the mapping sent to "unlabeled") and every bad file with its reason.
`roadstudio-cli data check`, the GUI and training (core.data.registry) all use it, so they agree on
which pairs are usable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from core.config import DataFormat, Direction
from core.data.base import PairSource
from core.data.detect import SYNTHETIC, Layout, detect_layout, open_split
from core.data.files import LoadedPair
from core.data.synthetic import SyntheticStreets
from core.errors import BadFileError
from core.io.imageio import write_png
from core.labels import NUM_PALETTE_CLASSES, PALETTE, ids_to_color, ids_to_palette_index

#: progress(done, total): called after each pair. Raise from it to abort (the GUI's cancel).
Progress = Callable[[int, int], None]

_HISTOGRAM_SIDE = 512  # labels are subsampled to about this size for the class histogram
SYNTHETIC_CHECK_COUNT = 16  # pairs generated when checking "synthetic"
#: A pair smaller than this (either side) is a bad file: nothing can be learned from it, and the
#: transforms would blow it up to hundreds of pixels of blur (a 2×2 thumbnail, a broken export).
MIN_PAIR_SIDE = 16
#: Files of each size kept in the report, to name the minority sizes.
_SIZE_EXAMPLES = 5


@dataclass
class SplitReport:
    pairs: int  # pairs found (files or file pairs)
    checked: int = 0
    valid_indices: list[int] = field(default_factory=list)

    @property
    def valid(self) -> int:
        return len(self.valid_indices)


@dataclass
class DatasetReport:
    root: Path
    layout: DataFormat  # "aligned" | "cityscapes" | "folders" | "camvid" | "synthetic"
    direction: Direction
    layout_detail: str = ""  # e.g. "CamVid SegNet layout, 11 classes (...)"
    splits: dict[str, SplitReport] = field(default_factory=dict)
    sizes: Counter = field(default_factory=Counter)  # (height, width) of pairs -> count
    class_pixels: np.ndarray = field(default_factory=lambda: np.zeros(NUM_PALETTE_CLASSES, np.int64))
    snapped_pixels: int = 0
    label_pixels: int = 0
    bad_files: list[tuple[Path, str]] = field(default_factory=list)
    # Source classes mapped to "unlabeled" (CamVid class name -> pixels); full resolution, not sampled.
    unmapped_pixels: Counter = field(default_factory=Counter)
    # (height, width) -> the first few pairs (as the source describes them) of that size.
    size_examples: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    # When set (`data check --crop-size`), pairs smaller than the crop are bad files too.
    crop_size: tuple[int, int] | None = None

    @property
    def minority_sizes(self) -> list[tuple[tuple[int, int], int, list[str]]]:
        """(size, count, first files) for every size but the most common one. Mixed sizes are
        fine (pairs are resized), but a few odd ones out are often a mistake worth a look."""
        if len(self.sizes) < 2:
            return []
        return [(size, n, self.size_examples.get(size, [])) for size, n in self.sizes.most_common()[1:]]

    @property
    def unmapped_share(self) -> float:
        return sum(self.unmapped_pixels.values()) / self.label_pixels if self.label_pixels else 0.0

    @property
    def total_pairs(self) -> int:
        return sum(s.pairs for s in self.splits.values())

    @property
    def checked(self) -> int:
        return sum(s.checked for s in self.splits.values())

    @property
    def valid_pairs(self) -> int:
        return sum(s.valid for s in self.splits.values())

    @property
    def snapped_share(self) -> float:
        return self.snapped_pixels / self.label_pixels if self.label_pixels else 0.0

    @property
    def histogram(self) -> dict[str, float]:
        """Pixel share per palette class (ids outside the palette count as "unlabeled")."""
        total = int(self.class_pixels.sum())
        return {c.name: (int(n) / total if total else 0.0) for c, n in zip(PALETTE, self.class_pixels, strict=True)}

    @property
    def usable(self) -> bool:
        return self.valid_pairs > 0

    def to_dict(self) -> dict:
        """The report as plain JSON-able data (`roadstudio-cli data check --json`)."""
        out = {
            "root": str(self.root),
            "layout": self.layout,
            "layout_detail": self.layout_detail,
            "direction": self.direction,
            "splits": {name: {"pairs": r.pairs, "checked": r.checked, "valid": r.valid}
                       for name, r in self.splits.items()},
            "valid_pairs": self.valid_pairs,
            "checked": self.checked,
            "sizes": [{"height": h, "width": w, "count": n} for (h, w), n in self.sizes.most_common()],
            "minority_sizes": [{"height": h, "width": w, "count": n, "files": files}
                               for (h, w), n, files in self.minority_sizes],
            "histogram": self.histogram,
            "snapped_share": self.snapped_share,
            "bad_files": [{"path": str(path), "reason": reason} for path, reason in self.bad_files],
        }
        if self.layout == "camvid":
            out["mapped_to_unlabeled"] = {
                "pixels": sum(self.unmapped_pixels.values()),
                "share": self.unmapped_share,
                "by_class": dict(self.unmapped_pixels.most_common()),
            }
        return out

    def format_text(self) -> str:
        """The report as the CLI prints it."""
        lines = [f"dataset:   {self.root}", f"layout:    {self.layout}"
                 + (f" (direction {self.direction})" if self.layout in ("aligned", "folders") else "")
                 + (f": {self.layout_detail}" if self.layout_detail else "")]
        for name, split in self.splits.items():
            checked = f", {split.checked} checked" if split.checked != split.pairs else ""
            lines.append(f"  {name or '(no split folder)':<18} {split.pairs:6d} pairs{checked}, {split.valid} valid")
        lines.append(f"valid pairs: {self.valid_pairs} of {self.checked} checked")
        if self.sizes:
            sizes = ", ".join(f"{w}×{h}: {n}" for (h, w), n in self.sizes.most_common(8))
            more = f" (+{len(self.sizes) - 8} more sizes)" if len(self.sizes) > 8 else ""
            lines.append(f"pair sizes (W×H): {sizes}{more}")
            for (h, w), n, files in self.minority_sizes[:8]:
                shown = ", ".join(files) + (", ..." if n > len(files) else "")
                lines.append(f"  minority size {w}×{h}: {n} pair{'' if n == 1 else 's'} ({shown})")
        if self.class_pixels.sum():
            lines.append("class histogram (pixel share):")
            for name, share in sorted(self.histogram.items(), key=lambda kv: -kv[1]):
                if share > 0:
                    lines.append(f"  {name:<14} {share:6.1%}  {'#' * round(share * 40)}")
            lines.append(f"snapped label pixels: {self.snapped_share:.1%}"
                         + (" (colour label maps, e.g. JPEG noise, snapped to the palette)"
                            if self.snapped_pixels else ""))
        if self.layout == "camvid" and self.label_pixels:
            lines.append(self._unmapped_line())
        if self.bad_files:
            lines.append(f"bad files: {len(self.bad_files)}")
            for path, reason in self.bad_files:
                lines.append(f"  {path}: {reason}")
        else:
            lines.append("bad files: none")
        return "\n".join(lines)


    def _unmapped_line(self) -> str:
        total = sum(self.unmapped_pixels.values())
        line = f"mapped to unlabeled: {total} px ({self.unmapped_share:.2%})"
        if total:
            line += ", by class: " + ", ".join(f"{name} {n} px ({n / self.label_pixels:.2%})"
                                               for name, n in self.unmapped_pixels.most_common())
        return line


def _load(source: PairSource, index: int) -> LoadedPair:
    loader = getattr(source, "load_pair", None)
    if loader is not None:
        return loader(index)
    labels, photo = source[index]
    return LoadedPair(labels=labels, photo=photo, snapped=0, files=())


def too_small_reason(shape: tuple[int, int], crop_size: tuple[int, int] | None = None) -> str | None:
    """Why a pair of `shape` (H, W) is too small to train on, or None."""
    h, w = shape
    if min(h, w) < MIN_PAIR_SIDE:
        return f"too small to train on: {w}×{h} pixels (at least {MIN_PAIR_SIDE} px a side)"
    if crop_size is not None and (h < crop_size[0] or w < crop_size[1]):
        return (f"too small to train on: {w}×{h} pixels, smaller than the crop size "
                f"{crop_size[1]}×{crop_size[0]}")
    return None


def _record(report: DatasetReport, pair: LoadedPair, where: str) -> np.ndarray:
    """Adds the pair to the report; returns its sampled palette-class pixel counts."""
    h, w = pair.labels.shape
    report.sizes[(h, w)] += 1
    examples = report.size_examples.setdefault((h, w), [])
    if len(examples) < _SIZE_EXAMPLES:
        examples.append(where)
    step = max(1, max(h, w) // _HISTOGRAM_SIDE)
    sample = ids_to_palette_index(pair.labels[::step, ::step])
    counts = np.bincount(sample.ravel(), minlength=NUM_PALETTE_CLASSES)[:NUM_PALETTE_CLASSES]
    report.class_pixels += counts
    report.snapped_pixels += pair.snapped
    report.label_pixels += h * w
    report.unmapped_pixels.update(pair.unmapped)
    return counts


def scan_source(source: PairSource, report: DatasetReport, split: str, *, limit: int | None = None,
                progress: Callable[[], None] | None = None,
                pair_pixels: dict[str, np.ndarray] | None = None) -> SplitReport:
    """Decode pairs of `source` (the first `limit`), adding them to `report`; a pair that raises
    BadFileError is listed with its reason and left out of the split's valid indices.
    `pair_pixels`, when given, receives each valid pair's sampled palette-class pixel counts keyed
    by its description (what rare-class sampling needs, without decoding the pairs again)."""
    split_report = SplitReport(pairs=len(source))
    report.splits[split] = split_report
    count = len(source) if limit is None else min(limit, len(source))
    for index in range(count):
        try:
            pair = _load(source, index)
        except BadFileError as exc:
            report.bad_files.append((exc.path, exc.reason))
        else:
            small = too_small_reason(pair.labels.shape, report.crop_size)
            if pair.labels.shape != pair.photo.shape[:2]:
                report.bad_files.append((Path(source.describe(index)), "label map and photo differ in size"))
            elif small is not None:
                report.bad_files.append((Path(source.describe(index)), small))
            else:
                where = source.describe(index)
                counts = _record(report, pair, where)
                if pair_pixels is not None:
                    pair_pixels[where] = counts
                split_report.valid_indices.append(index)
        split_report.checked += 1
        if progress is not None:
            progress()
    return split_report


def split_sources(layout: Layout, direction: Direction, synthetic_count: int = SYNTHETIC_CHECK_COUNT,
                  seed: int = 0, size: tuple[int, int] = (256, 512)) -> dict[str, PairSource]:
    if layout.format == SYNTHETIC:
        return {"train": SyntheticStreets(synthetic_count, seed, size)}
    return {split: open_split(layout, split, direction) for split in layout.splits}


def check_dataset(path: str | Path,
                  format: DataFormat = "auto",  # noqa: A002 - the setting's own name (data.format, --format)
                  direction: Direction = "BtoA",
                  max_files: int | None = None, progress: Progress | None = None,
                  crop_size: tuple[int, int] | None = None) -> DatasetReport:
    """Check every pair of the dataset at `path` (at most `max_files` pairs in all).
    Raises UserError when `path` is not a dataset at all; a dataset whose pairs are all bad comes
    back as a report with `usable` False. Pairs under MIN_PAIR_SIDE (and under `crop_size`, when
    given) are bad files."""
    layout = detect_layout(path, format)
    sources = split_sources(layout, direction)
    report = DatasetReport(root=layout.root, layout=layout.format, direction=direction,
                           layout_detail=layout.detail, crop_size=crop_size)
    total = sum(len(s) for s in sources.values())
    if max_files is not None:
        total = min(total, max_files)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    for split, source in sources.items():
        remaining = None if max_files is None else max(0, max_files - done)
        scan_source(source, report, split, limit=remaining, progress=tick)
    return report


def write_preview_grid(report_or_source: DatasetReport | PairSource, out_png: str | Path, n: int = 8,
                       row_height: int = 128) -> Path:
    """A PNG with up to `n` rows of (label colours | photo), for a quick look at a dataset."""
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    if isinstance(report_or_source, DatasetReport):
        report = report_or_source
        layout = detect_layout(report.root if report.layout != SYNTHETIC else SYNTHETIC, report.layout)
        sources = split_sources(layout, report.direction)
        picks = [(sources[s], i) for s, r in report.splits.items() for i in r.valid_indices]
    else:
        picks = [(report_or_source, i) for i in range(len(report_or_source))]
    if len(picks) > n:  # spread the rows over the whole dataset
        picks = [picks[int(k * len(picks) / n)] for k in range(n)]
    for source, index in picks:
        try:
            pairs.append(source[index])
        except BadFileError:
            continue
    if not pairs:
        raise BadFileError(out_png, "no valid pairs to preview")
    rows = []
    for labels, photo in pairs:
        h, w = labels.shape
        width = max(1, round(w * row_height / h))
        color = Image.fromarray(ids_to_color(labels)).resize((width, row_height), Image.Resampling.NEAREST)
        image = Image.fromarray(photo).resize((width, row_height), Image.Resampling.BILINEAR)
        rows.append(np.concatenate([np.asarray(color), np.full((row_height, 4, 3), 255, np.uint8),
                                    np.asarray(image)], axis=1))
    grid_w = max(r.shape[1] for r in rows)
    grid = np.full((len(rows) * (row_height + 4) - 4, grid_w, 3), 255, np.uint8)
    for k, row in enumerate(rows):
        grid[k * (row_height + 4): k * (row_height + 4) + row_height, : row.shape[1]] = row
    write_png(out_png, grid)
    return Path(out_png)
