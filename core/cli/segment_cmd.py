"""`roadstudio-cli segment PHOTO|DIR --output OUT [--colour]`: label maps out of street photos.

Writes Cityscapes labelIds PNGs (one channel, label ids; `--colour` also the Cityscapes colour
view as NAME_color.png) with provenance chunks naming the segmenter and the photo (`info OUT.png`
prints them). Default segmenter: the bundled 19-class `segmenter19.safetensors` (every brush
class); `--segmenter camvid11|city19|PATH`.

PHOTO: OUT is the output file when it ends in .png, else a folder (OUT/PHOTO_STEM.png).
DIR: every image directly in DIR (not recursive), with a progress bar, into the folder OUT.
Photos as users have them (core.photo_labels.segment): EXIF orientation applied; greyscale, CMYK, 16-bit
converted; photos over --max-side scaled down (a note on stderr). A bad photo (not an image,
truncated, too large) is a named error, one line on stderr: with one PHOTO the command exits 2; in
a folder the other photos are still segmented and the exit code is 2 when any failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from core.errors import BadFileError, UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "segment", help="label maps (Cityscapes labelIds PNGs) out of street photos",
        description="Segment a photo or a folder of photos into Cityscapes labelIds PNGs with provenance "
                    "(segmenter and photo recorded). JPEG/PNG/WebP; EXIF orientation applied; greyscale, "
                    "CMYK and 16-bit photos converted; huge photos scaled down with a note.")
    p.add_argument("input", type=Path, metavar="PHOTO|DIR")
    p.add_argument("--output", "-o", required=True, type=Path, metavar="OUT",
                   help="OUT.png for one photo, else a folder (created)")
    p.add_argument("--colour", "--color", action="store_true", dest="colour",
                   help="also write the colour view NAME_color.png beside each label map")
    p.add_argument("--segmenter", default=None, metavar="camvid11|city19|PATH",
                   help="the segmenter (default: city19, the bundled segmenter19.safetensors: all 19 classes)")
    p.add_argument("--max-side", type=int, default=None, metavar="PX",
                   help="photos with a longer side are scaled down to it first (default 2048)")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads for torch")
    p.set_defaults(func=run)


def output_names(photos: list[Path], out_dir: Path) -> dict[Path, Path]:
    """OUT/STEM.png per photo; a stem shared by two photos (a.jpg, a.png) keeps its suffix."""
    stems: dict[str, int] = {}
    for photo in photos:
        stems[photo.stem] = stems.get(photo.stem, 0) + 1
    return {photo: out_dir / (f"{photo.stem}{'_' + photo.suffix.lstrip('.') if stems[photo.stem] > 1 else ''}.png")
            for photo in photos}


def colour_name(label_path: Path) -> Path:
    return label_path.with_name(f"{label_path.stem}_color.png")


def _check_not_input(out: Path, photo: Path) -> None:
    if out.exists() and out.resolve() == photo.resolve():
        raise UserError(f"{out}: the output would overwrite the photo itself; choose another --output")


def open_segmenter(args: argparse.Namespace):  # noqa: ANN201 - core.photo_labels.segment.PhotoSegmenter
    import torch

    from core.photo_labels.segment import DEFAULT_SEGMENTER, MAX_PHOTO_SIDE, PhotoSegmenter

    if args.threads is not None:
        if args.threads < 1:
            raise UserError(f"--threads must be at least 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    max_side = MAX_PHOTO_SIDE if args.max_side is None else args.max_side
    if max_side < 64:
        raise UserError(f"--max-side must be at least 64 pixels, got {max_side}")
    return PhotoSegmenter(args.segmenter or DEFAULT_SEGMENTER, max_side=max_side)


def run(args: argparse.Namespace) -> int:
    from core.data.files import is_image_file, list_images

    src: Path = args.input
    if not src.exists():
        raise UserError(f"{src}: no such file or folder")
    out: Path = args.output
    if src.is_dir():
        photos = list_images(src)
        if not photos:
            raise UserError(f"{src}: no photos in this folder (looked for .jpg .png .webp .bmp .tif files)")
        if out.exists() and not out.is_dir():
            raise UserError(f"{out}: is a file; the output for a folder of photos is a folder")
        seg = open_segmenter(args)
        return _run_folder(seg, photos, output_names(photos, out), args.colour)
    if not is_image_file(src):
        raise BadFileError(src, "not an image file (expected .jpg, .png, .webp, .bmp or .tif)")
    target = out if out.suffix.lower() == ".png" else out / f"{src.stem}.png"
    _check_not_input(target, src)
    seg = open_segmenter(args)
    result = seg.segment_file(src)  # BadFileError: exit 2, one line
    seg.write(result, target, colour_name(target) if args.colour else None)
    _print_notes(result)
    print(f"wrote {target} ({result.ids.shape[1]}×{result.ids.shape[0]}, {seg.segmenter.name})")
    return 0


def _print_notes(result) -> None:  # noqa: ANN001 - core.photo_labels.segment.SegmentedPhoto
    if any(n.startswith("scaled down") for n in result.notes):
        note = next(n for n in result.notes if n.startswith("scaled down"))
        tqdm.write(f"note: {result.path}: {note}", file=sys.stderr)


def _run_folder(seg, photos: list[Path], names: dict[Path, Path], colour: bool) -> int:  # noqa: ANN001
    failed: list[str] = []
    written = 0
    bar = tqdm(photos, desc="segment", unit="photo", file=sys.stderr, dynamic_ncols=True)
    for photo in bar:
        target = names[photo]
        try:
            _check_not_input(target, photo)
            result = seg.segment_file(photo)
            seg.write(result, target, colour_name(target) if colour else None)
        except UserError as exc:
            failed.append(str(exc))
            tqdm.write(f"error: {exc}", file=sys.stderr)
            continue
        _print_notes(result)
        written += 1
    bar.close()
    out_dir = next(iter(names.values())).parent
    print(f"wrote {written} label map{'' if written == 1 else 's'} to {out_dir} ({seg.segmenter.name})"
          + (f"; {len(failed)} photo{'' if len(failed) == 1 else 's'} failed (listed above)" if failed else ""))
    return 2 if failed else 0
