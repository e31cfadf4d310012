"""`roadstudio-cli data check PATH`: what is in a dataset folder and which files are bad.

Prints the layout, pairs per split, image sizes, class histogram, snapped-pixel share and every bad
file with its reason; optionally writes a preview grid. Exit 0 when at least one valid pair exists,
2 (one line on stderr saying why) when the folder is not a usable dataset.
"""

from __future__ import annotations

import argparse
import sys
from typing import get_args

from tqdm import tqdm

from core.config import DataFormat, Direction
from core.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    data = subparsers.add_parser("data", help="inspect datasets", description="Inspect datasets.")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    data_sub.required = True
    check = data_sub.add_parser(
        "check", help="check a dataset folder: layout, counts, sizes, classes, bad files",
        description="Decode every pair of a dataset and report layout, pairs per split, image sizes, "
                    "class histogram, snapped-pixel share and every bad file with its reason.")
    check.add_argument("path", help='dataset folder, or "synthetic" for the built-in street scenes')
    check.add_argument("--format", choices=get_args(DataFormat), default="auto",
                       help="dataset layout (default: detect from the folder)")
    check.add_argument("--direction", choices=get_args(Direction), default="BtoA",
                       help="aligned/folders: BtoA = label map is B (right half / B folder), the pix2pix "
                            "Cityscapes convention; AtoB = label map is A (default: BtoA)")
    check.add_argument("--preview", metavar="OUT.png", help="also write a grid of a few pairs (label | photo)")
    check.add_argument("--max-files", type=int, default=None, metavar="N", help="check at most N pairs")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    # Imported here: `roadstudio-cli --help` should not pay for torch/torchvision imports.
    from core.data.check import check_dataset, write_preview_grid

    if args.max_files is not None and args.max_files <= 0:
        raise UserError("--max-files must be a positive number")
    bar = tqdm(total=0, unit="pair", desc="checking", file=sys.stderr, leave=False,
               disable=None)  # disable=None: no bar when stderr is not a terminal

    def progress(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
            bar.refresh()
        bar.update(done - bar.n)

    try:
        report = check_dataset(args.path, args.format, args.direction, max_files=args.max_files, progress=progress)
    finally:
        bar.close()
    print(report.format_text())
    if not report.usable:
        n = report.checked
        reason = f"{n} pair{'' if n == 1 else 's'} checked, all bad" if n else "no pairs found"
        raise UserError(f"{report.root}: not a usable dataset: {reason}")
    if args.preview:
        out = write_preview_grid(report, args.preview)
        print(f"preview: {out}")
    return 0
