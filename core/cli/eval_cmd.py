"""`roadstudio-cli eval`: how real does a generator's rendering look? (the pix2pix FCN-score)

For every pair of a split of a real dataset (layout detected as for training): the label map is
rendered by the generator (deterministic), then the rendering, the real photo (the ceiling) and
the label map in flat palette colours (the floor) are segmented by a segmenter trained on real
photos only: `--segmenter camvid11` (the default judge, 11 CamVid classes), `city19` (every one of
the 19 brush classes) or a segmenter file. The per-class IoU lists every class the segmenter knows,
and the brush classes it cannot judge are named. Printed side by side: per-pixel accuracy, mean class accuracy, mean
IoU (classes present in the split's ground truth), L1 / PSNR / SSIM against the real photo, the
checkerboard index and generated/real ratios. Details: core.eval.evaluate, docs/evaluation.md.

The table goes to stdout; --json OUT.json also writes every number (per-class IoU and accuracy,
checkerboard index per period) to that file. Nothing is written without --json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from core.cli.infer_cmd import add_checkpoint_args
from core.errors import BadFileError, UserError


class EvalDataError(UserError):
    """The dataset or split cannot be evaluated (synthetic data, missing or empty split)."""


def _size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH such as 240x320, got {text!r}") from None
    if h < 16 or w < 16 or max(h, w) > 4096:
        raise argparse.ArgumentTypeError(f"size {h}x{w} out of range (16..4096 a side)")
    return h, w


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval", help="realism score (FCN-score) of a generator on a real dataset split",
        description="Render every label map of a real dataset split with the generator, segment the "
                    "renderings, the real photos and flat class colours with a segmenter trained on real "
                    "photos, and print per-pixel accuracy, mean class accuracy, mean IoU, L1/PSNR/SSIM "
                    "and a checkerboard index side by side.")
    add_checkpoint_args(p)
    p.add_argument("--data", type=Path, metavar="PATH",
                   help="a dataset folder with real photos (CamVid, Cityscapes, aligned A|B, paired folders)")
    p.add_argument("--painted", type=Path, metavar="DIR",
                   help="instead of --data: a folder of painted label maps (no photos), e.g. "
                        "benchmarks/painted_set; scores the renderings against the painted labels beside "
                        "flat class colours")
    p.add_argument("--split", default="test", help="split to evaluate (default: test)")
    p.add_argument("--direction", choices=("AtoB", "BtoA"), default="BtoA",
                   help="aligned/folders: which half is the label map (default BtoA, as for training)")
    p.add_argument("--json", type=Path, default=None, metavar="OUT.json", help="also write all numbers as JSON")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N pairs of the split")
    p.add_argument("--size", type=_size, default=None, metavar="HxW",
                   help="evaluate at this size (default: the segmenter's working size for each frame's "
                        "aspect, 240x320 for CamVid)")
    p.add_argument("--segmenter", default=None, metavar="camvid11|city19|PATH",
                   help="the judge: camvid11 (default: the bundled segmenter.safetensors, 11 CamVid classes), "
                        "city19 (the bundled segmenter19.safetensors, all 19 brush classes) or a segmenter "
                        "file")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads for torch")
    p.add_argument("--backend", choices=("auto", "eager", "onnxruntime", "aoti"), default="eager",
                   help="generator inference path on CPU (default: eager)")
    p.set_defaults(func=run)


def open_eval_split(path: Path, split: str, direction: str):  # noqa: ANN201 - a PairSource
    from core.data.detect import detect_layout, open_split

    layout = detect_layout(path)  # UserError: no such folder / not a dataset
    if layout.format == "synthetic":
        raise EvalDataError("eval needs real photos; the synthetic streets have none to compare with")
    if split not in layout.splits:
        found = ", ".join(s or "(no split folders)" for s in layout.splits)
        if layout.splits == ("",) and split == "test":
            split = ""  # a folder without split sub-folders: its pairs are the split
        else:
            raise EvalDataError(f"{path}: no split {split!r} (this {layout.format} dataset has: {found})")
    source = open_split(layout, split, direction)  # type: ignore[arg-type]
    if len(source) == 0:
        raise EvalDataError(f"{path}: split {split or '(root)'!r} holds no pairs")
    return layout, split, source


def run(args: argparse.Namespace) -> int:
    from core.eval.evaluate import evaluate_pairs, format_table, iter_pairs

    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, got {args.limit}")
    if args.json is not None and args.json.is_dir():
        raise BadFileError(args.json, "is a folder; --json takes a file name")
    if (args.data is None) == (args.painted is None):
        raise UserError("give either --data DATASET (real photos) or --painted DIR (painted label maps)")
    if args.painted is not None:
        return _run_painted(args)
    layout, split, source = open_eval_split(args.data, args.split, args.direction)
    segmenter, predictor = _judge_and_generator(args)
    total = len(source) if args.limit is None else min(args.limit, len(source))

    def read_pairs():  # noqa: ANN202 - a generator of pairs with a progress bar
        bar = tqdm(iter_pairs(source, args.limit), total=total, desc="eval", unit="pair", file=sys.stderr,
                   dynamic_ncols=True)
        yield from bar

    report = evaluate_pairs(read_pairs(), predictor.predict, segmenter, args.size,
                            dataset=f"{layout.root} ({layout.format})", split=split or "(root)")
    report = type(report)(**{**report.__dict__, **_names(args, segmenter)})
    print(format_table(report))
    print(f"\n{report.pairs} pairs in {report.seconds:.0f} s")
    _write_json(args, report.as_dict())
    return 0


def _judge_and_generator(args: argparse.Namespace) -> tuple[Any, Any]:
    """The segmenter (--segmenter) and the generator's Predictor (--checkpoint), on one device;
    a file that cannot be loaded is a CheckpointError naming it."""
    from core.eval.segmenter import Segmenter, resolve_segmenter
    from core.render.infer import Predictor

    segmenter = Segmenter.load(resolve_segmenter(args.segmenter))
    predictor = Predictor.from_path(args.checkpoint, args.device, threads=args.threads,
                                    reference_netG=args.reference_netG, reference_norm=args.reference_norm,
                                    backend=args.backend, background_build=False)
    segmenter.model.to(predictor.device)
    segmenter.device = predictor.device
    return segmenter, predictor


def _names(args: argparse.Namespace, segmenter: Any) -> dict[str, str]:
    return {"generator": str(args.checkpoint), "segmenter": f"{segmenter.path} ({segmenter.class_set.key})"}


def _write_json(args: argparse.Namespace, data: dict[str, Any]) -> None:
    if args.json is not None:
        from core.io.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(data, indent=2) + "\n")
        print(f"wrote {args.json}")


def _painted_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise EvalDataError(f"{folder}: no such folder of painted label maps")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")
    if not files:
        raise EvalDataError(f"{folder}: holds no .png label maps")
    return files


def _run_painted(args: argparse.Namespace) -> int:
    from core.eval.painted import evaluate_label_maps, format_painted_table
    from core.io.imageio import read_label_map

    files = _painted_files(args.painted)[: args.limit]
    segmenter, predictor = _judge_and_generator(args)

    def read_maps():  # noqa: ANN202 - a generator of label maps with a progress bar
        for path in tqdm(files, desc="eval", unit="map", file=sys.stderr, dynamic_ncols=True):
            yield read_label_map(path).ids  # BadFileError names the file

    report = evaluate_label_maps(read_maps(), predictor.predict, segmenter, args.size, folder=str(args.painted))
    report = type(report)(**{**report.__dict__, **_names(args, segmenter)})
    print(format_painted_table(report))
    print(f"\n{report.maps} label maps in {report.seconds:.0f} s")
    _write_json(args, report.as_dict())
    return 0
