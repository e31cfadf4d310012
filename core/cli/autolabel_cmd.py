"""`roadstudio-cli data autolabel PHOTOS OUT`: a folder of photos -> a paired dataset, no labelling.

Every photo directly in PHOTOS is segmented (default: the bundled 19-class segmenter) into
OUT/A/NAME (the photo) and OUT/B/NAME.png (its labelIds map with provenance) — the `folders`
layout, direction BtoA — and then the dataset check runs on OUT and prints its report. Train on it
with `roadstudio-cli train --data OUT`. Bad photos are named (one line each on stderr) and
skipped; the exit code is then 2, as it is when no usable pair came out.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from core.cli.progress import bar_callback
from core.errors import UserError


def add_parser(data_sub: argparse._SubParsersAction) -> None:
    p = data_sub.add_parser(
        "autolabel", help="segment a folder of photos into a paired dataset (folders layout), then check it",
        description="Make a training dataset out of photos alone: each photo is segmented into a Cityscapes "
                    "label map by the bundled segmenter; OUT/A holds the photos, OUT/B the label maps "
                    "(folders layout, direction BtoA). The dataset check runs on the result.")
    p.add_argument("photos", type=Path, metavar="PHOTOS", help="a folder of photos (JPEG/PNG/WebP, not recursive)")
    p.add_argument("out", type=Path, metavar="OUT", help="the dataset folder to write (created)")
    p.add_argument("--segmenter", default=None, metavar="camvid11|city19|PATH",
                   help="the segmenter (default: city19, every brush class)")
    p.add_argument("--max-side", type=int, default=None, metavar="PX",
                   help="photos with a longer side are scaled down to it first (default 2048)")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads for torch")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.photo_labels.autolabel import autolabel
    from core.cli.segment_cmd import open_segmenter
    from core.data.check import check_dataset

    if not args.photos.is_dir():
        raise UserError(f"{args.photos}: no such folder" if not args.photos.exists()
                        else f"{args.photos}: is a file; give a folder of photos")
    seg = open_segmenter(args)
    bar = tqdm(total=0, desc="autolabel", unit="photo", file=sys.stderr, dynamic_ncols=True)
    try:
        report = autolabel(args.photos, args.out, seg, bar_callback(bar))
    finally:
        bar.close()
    for photo, reason in report.failed:
        print(f"error: {photo}: {reason.removeprefix(f'{photo}: ')}", file=sys.stderr)
    for photo, note in report.notes:
        if note.startswith("scaled down"):
            print(f"note: {photo}: {note}", file=sys.stderr)
    print(f"autolabel: {len(report.written)} pair{'' if len(report.written) == 1 else 's'} written to {args.out} "
          f"(A/ photos, B/ label maps by {seg.segmenter.name})"
          + (f"; {len(report.failed)} photo{'' if len(report.failed) == 1 else 's'} skipped" if report.failed else ""))
    if not report.written:
        raise UserError(f"{args.photos}: no photo could be segmented ({len(report.failed)} bad)")
    check = check_dataset(args.out, "folders", "BtoA")
    print()
    print(check.format_text())
    if not check.usable:
        raise UserError(f"{args.out}: the dataset check found no usable pair")
    print(f"\ntrain on it: roadstudio-cli train --data {args.out}")
    return 2 if report.failed else 0
