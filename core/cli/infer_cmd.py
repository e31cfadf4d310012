"""`roadstudio-cli infer`: render photos from label maps with a trained generator.

Reads label-id PNGs (`*_labelIds.png`) and colour label maps (snapped to the palette; JPEG
noise is fine) one at a time or a whole folder, and writes RGB PNGs of the same size, each with
its provenance (core.render.provenance: checkpoint SHA-256, seed, label map) in PNG text chunks.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from core.errors import BadFileError, UserError

if TYPE_CHECKING:
    import numpy as np

    from core.render import provenance
    from core.render.batch_render import Rendered
    from core.io.imageio import LabelMapRead
    from core.render.infer import Predictor

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
                   help="inference path on CPU (default: eager for one file; for a folder, eager, switching "
                        "to ONNX Runtime when its set-up pays back over the maps left; aoti compiles a "
                        "package, about a minute)")
    p.add_argument("--batch-size", type=int, default=None, metavar="N",
                   help="label maps per model call for a folder (default: 4 at 256×512, fewer for larger maps)")
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
    from core.render.infer import Predictor

    pairs = _inputs_and_outputs(args.input, args.output)
    if args.batch_size is not None and args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}")
    single = len(pairs) == 1 and not args.input.is_dir()
    # One file: eager beats paying for an export. A folder: eager, and core.render.batch_render switches
    # to ONNX Runtime when the set-up pays back over the maps left. Never a background compile:
    # this process ends before it would be used.
    backend = args.backend or "eager"
    predictor = Predictor.from_path(args.checkpoint, args.device, threads=args.threads,
                                    reference_netG=args.reference_netG, reference_norm=args.reference_norm,
                                    backend=backend, background_build=False)
    if single:
        return _run_one(predictor, *pairs[0], args)
    return _run_folder(predictor, pairs, args, plan=args.backend is None)


def _stamp(predictor: Predictor, args: argparse.Namespace) -> provenance.ModelStamp:
    from core.render import provenance

    return provenance.ModelStamp.for_file(args.checkpoint, step=predictor.card.get("step"),
                                          input_encoding=predictor.config.input_encoding)


def _write(dst: Path, photo: np.ndarray, ids: np.ndarray, src: Path, stamp: provenance.ModelStamp,
           predictor: Predictor, backend: str, args: argparse.Namespace) -> None:
    from core.render import provenance

    record = provenance.Provenance(kind="infer", model=stamp, labels=ids, variation=args.variation,
                                   device=str(predictor.device), backend=backend, extra={"source": src.name})
    try:
        provenance.write_png(dst, photo, record)
    except OSError as exc:
        raise BadFileError(dst, f"cannot be written: {exc.strerror or exc}") from None


def _run_one(predictor: Predictor, src: Path, dst: Path, args: argparse.Namespace) -> int:
    from core.data.camvid import read_label_file as read_label_map  # CamVid label files too

    label_map = read_label_map(src)
    photo = predictor.predict(label_map.ids, variation=args.variation)
    _write(dst, photo, label_map.ids, src, _stamp(predictor, args), predictor, predictor.last_backend, args)
    h, w = label_map.ids.shape
    latency_ms = (predictor.last_latency_s or 0.0) * 1000
    print(f"wrote {dst} ({w}×{h}, {latency_ms:.0f} ms on {predictor.device}{_snap_note(label_map)})")
    return 0


def _snap_note(label_map: LabelMapRead) -> str:
    if label_map.kind == "ids":
        return ""
    return f", {label_map.kind} label map, {label_map.snapped_share:.1%} of pixels snapped"


def _run_folder(predictor: Predictor, pairs: list[tuple[Path, Path]], args: argparse.Namespace, *,
                plan: bool) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from core.render.batch_render import JobReport, render_many
    from core.data.camvid import read_label_file as read_label_map  # CamVid label files too

    notes: dict[Path, str] = {}
    # The checkpoint's SHA-256 for the provenance chunks (~0.5 s for 200 MB): hashed beside the
    # first batches instead of before them (hashlib releases the GIL).
    hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="infer-stamp")
    stamp_future = hasher.submit(_stamp, predictor, args)
    hasher.shutdown(wait=False)

    def load(pair: tuple[Path, Path]) -> np.ndarray:  # in core.render.batch_render's reader thread
        label_map = read_label_map(pair[0])
        if label_map.kind != "ids":
            notes[pair[0]] = _snap_note(label_map)
        return label_map.ids

    def save(r: Rendered[tuple[Path, Path]]) -> None:  # in its writer pool
        assert r.photo is not None and r.ids is not None
        _write(r.item[1], r.photo, r.ids, r.item[0], stamp_future.result(), predictor, r.backend, args)

    report = JobReport()
    failed: list[str] = []
    bar = tqdm(total=len(pairs), desc="infer", unit="map", file=sys.stderr, dynamic_ncols=True)
    start = time.perf_counter()
    with bar:
        for result in render_many(predictor, pairs, load, save, batch_size=args.batch_size,
                                  variation=args.variation, plan=plan, report=report):
            bar.update(1)
            src, dst = result.item
            if result.error is not None:
                if result.ids is not None or not isinstance(result.error, BadFileError):
                    raise result.error  # a photo that cannot be written (disk full...) stops the job
                failed.append(src.name)
                tqdm.write(f"skipped {result.error}", file=sys.stderr)
                continue
            bar.set_postfix_str(f"{result.backend}, batch {report.batch_size}")
    seconds = time.perf_counter() - start
    done = len(pairs) - len(failed)
    print(f"wrote {done} photo(s) to {args.output} in {seconds:.1f} s on {predictor.device} "
          f"({report.backend}, batch {report.batch_size})")
    if report.decision:
        print(f"path: {report.decision}", file=sys.stderr)
    snapped = len(notes)
    if snapped:
        print(f"{snapped} colour label map(s) snapped to the palette", file=sys.stderr)
    if failed:
        shown = ", ".join(failed[:5]) + (" ..." if len(failed) > 5 else "")
        raise UserError(f"{len(failed)} of {len(pairs)} label maps could not be read: {shown}")
    return 0
