"""`roadstudio-cli infer`: render photos from label maps with a trained generator.

Reads label-id PNGs (`*_labelIds.png`) and colour label maps (snapped to the palette; JPEG
noise is fine) one at a time or a whole folder, and writes RGB PNGs of the same size, each with
its provenance (core.provenance: checkpoint SHA-256, seed, label map) in PNG text chunks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from core.errors import BadFileError, UserError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def add_checkpoint_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, type=Path, metavar="CKPT",
                        help="generator weights (.safetensors), a training checkpoint (.pt), "
                             "or a reference pix2pix latest_net_G.pth with --reference-netG")
    parser.add_argument("--reference-netG", choices=("unet_256", "unet_128"), default=None,
                        help="CKPT is a reference pix2pix generator of this architecture")
    parser.add_argument("--reference-norm", choices=("batch", "instance"), default="batch",
                        help="norm layer of a reference pix2pix generator (default: batch)")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("infer", help="render photos from label maps",
                              description="Render RGB photos from label maps (label-id PNGs or colour "
                                          "label maps) with a trained generator.")
    add_checkpoint_args(p)
    p.add_argument("--input", required=True, type=Path, metavar="LABEL.png|DIR",
                   help="a label map, or a folder of them")
    p.add_argument("--output", required=True, type=Path, metavar="OUT.png|DIR",
                   help="the photo to write (.png), or a folder for a folder of inputs")
    p.add_argument("--variation", type=int, default=None, metavar="SEED",
                   help="dropout noise with this seed (default: deterministic output)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads for torch")
    p.add_argument("--backend", choices=("auto", "eager", "onnxruntime", "aoti"), default=None,
                   help="inference path on CPU (default: eager for one file, auto for a folder: ONNX "
                        "Runtime, or a cached AOTInductor package; aoti compiles one, about a minute)")
    p.set_defaults(func=run)


def _inputs_and_outputs(src: Path, dst: Path) -> list[tuple[Path, Path]]:
    if not src.exists():
        raise BadFileError(src, "no such file or folder")
    if src.is_dir():
        files = sorted(p for p in src.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise BadFileError(src, f"the folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
        if dst.exists() and not dst.is_dir():
            raise BadFileError(dst, "is a file; a folder of inputs needs an output folder")
        pairs = [(f, dst / f"{f.stem}.png") for f in files]
        seen: dict[Path, Path] = {}
        for f, out in pairs:
            if out in seen:
                raise BadFileError(f, f"would overwrite the output of {seen[out].name} ({out.name})")
            seen[out] = f
        return pairs
    if dst.is_dir():
        return [(src, dst / f"{src.stem}.png")]
    if dst.suffix.lower() != ".png":
        raise BadFileError(dst, "the output must be a .png file (or an existing folder)")
    return [(src, dst)]


def run(args: argparse.Namespace) -> int:
    from core import provenance
    from core.imageio import read_label_map
    from core.infer import Predictor

    pairs = _inputs_and_outputs(args.input, args.output)
    # One file: eager beats paying for an export. A folder: the export pays for itself. Never a
    # background compile: this process ends before it would be used.
    backend = args.backend or ("auto" if args.input.is_dir() else "eager")
    predictor = Predictor.from_path(args.checkpoint, args.device, threads=args.threads,
                                    reference_netG=args.reference_netG, reference_norm=args.reference_norm,
                                    backend=backend, background_build=False)
    stamp = provenance.ModelStamp.for_file(args.checkpoint, step=predictor.card.get("step"),
                                           input_encoding=predictor.config.input_encoding)
    failed: list[str] = []
    single = len(pairs) == 1 and not args.input.is_dir()
    bar = tqdm(pairs, desc="infer", unit="map", disable=single, file=sys.stderr, dynamic_ncols=True)
    for src, dst in bar:
        try:
            label_map = read_label_map(src)
        except BadFileError as exc:
            if single:
                raise
            failed.append(src.name)
            tqdm.write(f"skipped {exc}", file=sys.stderr)
            continue
        photo = predictor.predict(label_map.ids, variation=args.variation)
        record = provenance.Provenance(kind="infer", model=stamp, labels=label_map.ids, variation=args.variation,
                                       device=str(predictor.device), backend=predictor.last_backend,
                                       extra={"source": src.name})
        try:
            provenance.write_png(dst, photo, record)
        except OSError as exc:
            raise BadFileError(dst, f"cannot be written: {exc.strerror or exc}") from None
        note = ""
        if label_map.kind != "ids":
            note = f", {label_map.kind} label map, {label_map.snapped_share:.1%} of pixels snapped"
        h, w = label_map.ids.shape
        latency_ms = (predictor.last_latency_s or 0.0) * 1000
        if single:
            print(f"wrote {dst} ({w}×{h}, {latency_ms:.0f} ms on {predictor.device}{note})")
        else:
            bar.set_postfix_str(f"{latency_ms:.0f} ms")
    if not single:
        print(f"wrote {len(pairs) - len(failed)} photo(s) to {args.output}")
    if failed:
        shown = ", ".join(failed[:5]) + (" ..." if len(failed) > 5 else "")
        raise UserError(f"{len(failed)} of {len(pairs)} label maps could not be read: {shown}")
    return 0
