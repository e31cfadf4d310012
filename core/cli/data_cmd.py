"""`roadstudio-cli data check PATH`: what is in a dataset folder and which files are bad.
`roadstudio-cli data synth OUT`: write synthetic street scenes as a paired-folders dataset.
`roadstudio-cli data autolabel PHOTOS OUT`: photos -> a paired dataset (core.cli.autolabel_cmd).

check prints the layout, pairs per split, image sizes, class histogram, snapped-pixel share (CamVid:
pixels mapped to unlabeled, by CamVid class) and every bad file with its reason; optionally writes a
preview grid. Exit 0 when at least one valid pair exists, 2 (one line on stderr saying why) when the
folder is not a usable dataset.
"""

from __future__ import annotations

import argparse
import sys
from typing import get_args

from tqdm import tqdm

from core.config import DataFormat, Direction
from core.cli.progress import bar_callback
from core.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    data = subparsers.add_parser("data", help="inspect datasets", description="Inspect datasets.")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    data_sub.required = True
    check = data_sub.add_parser(
        "check", help="check a dataset folder: layout, counts, sizes, classes, bad files",
        description="Decode every pair of a dataset and report layout, pairs per split, image sizes, "
                    "class histogram, snapped-pixel share (CamVid: pixels of CamVid classes mapped to unlabeled) "
                    "and every bad file with its reason.")
    check.add_argument("path", help='dataset folder, or "synthetic" for the built-in street scenes')
    check.add_argument("--format", choices=get_args(DataFormat), default="auto",
                       help="dataset layout (default: detect from the folder)")
    check.add_argument("--direction", choices=get_args(Direction), default="BtoA",
                       help="aligned/folders: BtoA = label map is B (right half / B folder), the pix2pix "
                            "Cityscapes convention; AtoB = label map is A (default: BtoA)")
    check.add_argument("--preview", metavar="OUT.png", help="also write a grid of a few pairs (label | photo)")
    check.add_argument("--max-files", type=int, default=None, metavar="N", help="check at most N pairs")
    check.add_argument("--crop-size", default=None, metavar="HxW",
                       help="also count pairs smaller than this training crop (e.g. 256 or 256x512) as bad "
                            "(pairs under 16 px a side always are)")
    check.add_argument("--json", action="store_true", help="print the report as JSON (for scripts)")
    check.set_defaults(func=run_check)

    synth = data_sub.add_parser(
        "synth", help="write synthetic street scenes as a dataset folder (A/ photos, B/ label-id PNGs)",
        description="Write procedural street scenes as a paired-folders dataset: OUT/A/<i>.png photos, "
                    "OUT/B/<i>.png label-id maps and, with --colour, OUT/B_color/<i>.png colour views. "
                    "Train on it with --data OUT (direction BtoA).")
    synth.add_argument("out", help="output folder (created; existing files with the same names are replaced)")
    synth.add_argument("--count", type=int, default=100, help="number of scenes (default 100)")
    synth.add_argument("--seed", type=int, default=0, help="scene seed (default 0)")
    synth.add_argument("--size", default="256x512", help="HEIGHTxWIDTH (default 256x512)")
    synth.add_argument("--colour", action="store_true", help="also write colour views of the label maps")
    synth.set_defaults(func=run_synth)

    from core.cli.autolabel_cmd import add_parser as add_autolabel

    add_autolabel(data_sub)  # `data autolabel PHOTOS OUT` (issue 19 §5)


def _print_out(text: str) -> None:
    """print() that tolerates a reader going away (`data check ... | head`): no traceback, the
    rest of the output is dropped."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again


def run_check(args: argparse.Namespace) -> int:
    # Imported here: `roadstudio-cli --help` should not pay for torch/torchvision imports.
    from core.data.check import check_dataset, write_preview_grid

    if args.max_files is not None and args.max_files <= 0:
        raise UserError("--max-files must be a positive number")
    bar = tqdm(total=0, unit="pair", desc="checking", file=sys.stderr, leave=False,
               disable=None)  # disable=None: no bar when stderr is not a terminal
    try:
        crop = _parse_size(args.crop_size, "--crop-size", square=True) if args.crop_size else None
        report = check_dataset(args.path, args.format, args.direction, max_files=args.max_files,
                               progress=bar_callback(bar), crop_size=crop)
    finally:
        bar.close()
    if args.json:
        import json

        _print_out(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_out(report.format_text())
    if not report.usable:
        n = report.checked
        reason = f"{n} pair{'' if n == 1 else 's'} checked, all bad" if n else "no pairs found"
        raise UserError(f"{report.root}: not a usable dataset: {reason}")
    if args.preview:
        out = write_preview_grid(report, args.preview)
        # on stderr with --json, so stdout stays one JSON document
        print(f"preview: {out}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _parse_size(text: str, flag: str = "--size", *, square: bool = False) -> tuple[int, int]:
    parts = text.lower().replace("×", "x").split("x")
    if square and len(parts) == 1:
        parts = parts * 2  # "256" = 256x256
    try:
        h, w = (int(v) for v in parts)
    except ValueError:
        raise UserError(f"{flag} must look like 256x512 (HEIGHTxWIDTH), got {text!r}") from None
    if h < 8 or w < 8 or h > 4096 or w > 4096:
        raise UserError(f"{flag} must be between 8 and 4096 pixels a side, got {h}x{w}")
    return h, w


def run_synth(args: argparse.Namespace) -> int:
    from pathlib import Path

    from core.data.synthetic import generate_pair
    from core.io.imageio import write_color_png, write_label_ids_png, write_png

    if args.count <= 0:
        raise UserError("--count must be a positive number")
    size = _parse_size(args.size)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: is a file, not a folder")
    width = len(str(args.count - 1))
    for i in tqdm(range(args.count), unit="scene", desc="writing", file=sys.stderr, disable=None):
        labels, photo = generate_pair(args.seed, i, size)
        name = f"{i:0{width}d}.png"
        write_png(out / "A" / name, photo)
        write_label_ids_png(out / "B" / name, labels)
        if args.colour:
            write_color_png(out / "B_color" / name, labels)
    print(f"wrote {args.count} scenes of {size[0]}x{size[1]} to {out} (A/ photos, B/ label ids)")
    return 0
