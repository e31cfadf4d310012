"""Train on your own photos, no labelling (issue 19 §5): a folder of photos -> a paired dataset.

    OUT/A/NAME.jpg|png   the photo (the file itself when it needed no change; else the upright,
                         converted, scaled photo as PNG, so A and B always have one size)
    OUT/B/NAME.png       its label map (Cityscapes labelIds) made by the segmenter, with provenance

That is the `folders` layout, direction BtoA (core.data.folders), so `roadstudio-cli train --data
OUT` reads it as is. The dataset check (core.data.check) runs on the result. A bad photo is
skipped and reported (path and reason); the others are still labelled.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.render import provenance
from core.io.atomic import atomic_path
from core.data.files import list_images
from core.errors import UserError
from core.photo_labels.segment import PhotoSegmenter

#: Photo formats copied byte for byte when nothing had to change (any other is written as PNG).
COPIED_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


@dataclass
class AutolabelReport:
    out: Path
    written: list[str] = field(default_factory=list)  # NAMEs of the pairs written
    failed: list[tuple[Path, str]] = field(default_factory=list)  # (photo, reason)
    notes: list[tuple[Path, str]] = field(default_factory=list)  # (photo, what was done to it)


def pair_names(photos: list[Path]) -> dict[Path, str]:
    """NAME per photo: its stem, or stem_ext when two photos share a stem (a.jpg, a.png)."""
    counts: dict[str, int] = {}
    for p in photos:
        counts[p.stem] = counts.get(p.stem, 0) + 1
    return {p: p.stem if counts[p.stem] == 1 else f"{p.stem}_{p.suffix.lstrip('.').lower()}" for p in photos}


def autolabel(photos_dir: str | Path, out: str | Path, segmenter: PhotoSegmenter,
              progress: Callable[[int, int], None] | None = None) -> AutolabelReport:
    """Segment every photo directly in `photos_dir` into the folders dataset `out`."""
    src, dst = Path(photos_dir), Path(out)
    if not src.is_dir():
        raise UserError(f"{src}: no such folder" if not src.exists() else f"{src}: is a file; give a folder of photos")
    if dst.exists() and not dst.is_dir():
        raise UserError(f"{dst}: is a file; the dataset is written to a folder")
    if dst.resolve() == src.resolve():
        raise UserError(f"{dst}: the dataset must go to another folder than the photos")
    photos = list_images(src)
    if not photos:
        raise UserError(f"{src}: no photos in this folder (looked for .jpg .png .webp .bmp .tif files)")
    report = AutolabelReport(out=dst)
    names = pair_names(photos)
    for done, photo in enumerate(photos, start=1):
        try:
            result = segmenter.segment_file(photo)
        except UserError as exc:  # BadFileError: named, skipped
            report.failed.append((photo, str(exc)))
        else:
            name = names[photo]
            copy = result.unchanged and photo.suffix.lower() in COPIED_SUFFIXES
            a_path = dst / "A" / (f"{name}{photo.suffix.lower()}" if copy else f"{name}.png")
            for stale in (dst / "A").glob(f"{name}.*") if (dst / "A").is_dir() else ():
                if stale != a_path and stale.suffix.lower() in COPIED_SUFFIXES:
                    stale.unlink()  # an earlier run's photo of this NAME in another format: one A per B
            if copy:
                with atomic_path(a_path) as tmp:
                    shutil.copyfile(photo, tmp)
            else:
                provenance.write_png(a_path, result.photo, None)
            provenance.write_png(dst / "B" / f"{name}.png", result.ids, segmenter.record(result, kind="autolabel"))
            report.written.append(name)
            report.notes += [(photo, n) for n in result.notes]
        if progress is not None:
            progress(done, len(photos))
    return report
