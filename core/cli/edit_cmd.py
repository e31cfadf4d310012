"""`roadstudio-cli edit PHOTO --labels EDITED.png --output OUT.png`: change a photo only where its
labels were changed (issue 19 §4; core.edit).

The photo is segmented (core.photo_labels.segment, the bundled 19-class segmenter unless --segmenter says
otherwise); the edited region is where EDITED differs from that segmentation, dilated by a few
pixels; the renderer repaints it ("clone", the default: the photo's own pixels of each painted
class moved in from where the photo shows that class, the default model's rendering where it
shows none; "photo-edit": the bundled photo-edit model, conditioned on the labels and the photo
around the region; "paste": the label-only default model's rendering pasted in) and blends the
seam. Outside the region OUT is the photo, bit for bit.

OUT.png carries provenance chunks (`roadstudio-cli info OUT.png`): the photo's name and SHA-256,
the model's and the segmenter's names and SHA-256, the renderer, the edited label map (embedded)
and the SHA-256 of the photo's own segmentation. --before-after writes photo | edited side by side
with the same record. EDITED is best made by `roadstudio-cli segment PHOTO` and then painting on its
output; it may be a labelIds PNG, a colour label map or a CamVid label file.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from core.edit.names import DEFAULT_RENDERER, RENDERERS
from core.errors import BadFileError, UserError

if TYPE_CHECKING:
    import numpy as np

    from core.render import provenance
    from core.edit.editor import EditResult, PhotoEditor
    from core.photo_labels.segment import PhotoSegmenter


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "edit", help="change a photo only where its label map was changed",
        description="Edit a street photo through its label map: the region where EDITED differs from the "
                    "photo's own segmentation is repainted (and a few pixels around it, with a blended seam); "
                    "everything else stays the photo, bit for bit.")
    p.add_argument("photo", type=Path, metavar="PHOTO")
    p.add_argument("--labels", required=True, type=Path, metavar="EDITED.png",
                   help="the edited label map, the photo's size (labelIds PNG, colour label map or CamVid labels)")
    p.add_argument("--output", "-o", required=True, type=Path, metavar="OUT.png", help="the edited photo (.png)")
    p.add_argument("--renderer", choices=RENDERERS, default=DEFAULT_RENDERER,
                   help="clone (default): the photo's own pixels of each painted class, copied from the nearest "
                        "place that shows it (the default model where the photo shows none); photo-edit: the "
                        "photo-edit model continues the photo into the region; paste: the label-only model's "
                        "rendering pasted in")
    p.add_argument("--model", type=Path, default=None, metavar="M",
                   help="the renderer's generator (default: the bundled photo_edit.safetensors, or "
                        "default.safetensors for paste and clone)")
    p.add_argument("--before-after", type=Path, default=None, metavar="BA.png",
                   help="also write photo | edited side by side")
    p.add_argument("--segmenter", default=None, metavar="camvid11|city19|PATH",
                   help="the segmenter that reads the photo's own labels (default: city19)")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads for torch")
    p.set_defaults(func=run)


def _png_target(path: Path, flag: str) -> None:
    if path.suffix.lower() != ".png":
        raise BadFileError(path, f"{flag} must be a .png file (the provenance lives in PNG text chunks)")
    if path.is_dir():
        raise BadFileError(path, f"{flag} is a folder; give a .png file name")


def run(args: argparse.Namespace) -> int:
    from core.data.camvid import read_label_file
    from core.edit.editor import PhotoEditor
    from core.photo_labels.segment import DEFAULT_SEGMENTER, MAX_PHOTO_SIDE, PhotoSegmenter, load_photo

    _png_target(args.output, "--output")
    if args.before_after is not None:
        _png_target(args.before_after, "--before-after")
    for out in (args.output, args.before_after):
        if out is not None and out.exists() and out.resolve() in (args.photo.resolve(), args.labels.resolve()):
            raise UserError(f"{out}: the output would overwrite an input; choose another file name")
    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads must be at least 1, got {args.threads}")
    photo, size, notes, _ = load_photo(args.photo, MAX_PHOTO_SIDE)  # BadFileError names the photo
    edited = read_label_file(args.labels).ids  # BadFileError names the label file
    h, w = photo.shape[:2]
    if edited.shape != (h, w):
        scaled = f" (scaled down from {size[0]}×{size[1]})" if (w, h) != size else ""
        raise BadFileError(args.labels, f"the label map is {edited.shape[1]}×{edited.shape[0]}, the photo "
                                        f"{args.photo.name} is {w}×{h}{scaled}; they must be the same size "
                                        f"(make it with `roadstudio-cli segment {args.photo.name}`)")
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    editor = PhotoEditor.load(args.renderer, args.model, backend="eager")
    segmenter = PhotoSegmenter(args.segmenter or DEFAULT_SEGMENTER)
    original = segmenter.segment_rgb(photo)
    result = editor.render(photo, original, edited)
    record = _record(args, editor, segmenter, result, original, edited, notes)
    _write(args.output, result.image, record)
    if args.before_after is not None:
        import numpy as np

        from core.edit.record import before_after_record

        _write(args.before_after, np.concatenate([photo, result.image], axis=1), before_after_record(record))
    if not result.changed:
        print(f"note: {args.labels} does not differ from the photo's own segmentation; {args.output} is the photo")
    share = result.region.mean()
    print(f"wrote {args.output} ({w}×{h}, {int(result.mask.sum())} px relabelled, {share:.1%} of the photo "
          f"repainted, {args.renderer}, {result.latency_s * 1000:.0f} ms)")
    return 0


def _record(args: argparse.Namespace, editor: PhotoEditor, segmenter: PhotoSegmenter, result: EditResult,
            original: np.ndarray, edited: np.ndarray, notes: tuple[str, ...]) -> provenance.Provenance:
    from core.edit.record import edit_record
    from core.render import provenance

    predictor = editor.predictor
    stamp = provenance.ModelStamp.for_file(editor.model_path, step=predictor.card.get("step"),
                                           input_encoding=predictor.config.input_encoding)
    seg = segmenter.segmenter
    return edit_record(model=stamp, renderer=result.renderer, edited_pixels=int(result.mask.sum()),
                       repainted_pixels=int(result.region.sum()), photo_name=args.photo.name,
                       photo_sha256=provenance.file_sha256(args.photo),
                       segmenter_name=seg.path.name if seg.path else "", segmenter_sha256=segmenter.sha256,
                       original_ids=original, edited_ids=edited, device=str(predictor.device),
                       backend=result.backend or predictor.last_backend, notes=notes,
                       edited_labels_name=args.labels.name)


def _write(path: Path, image: np.ndarray, record: provenance.Provenance) -> None:
    from core.render import provenance

    try:
        provenance.write_png(path, image, record)
    except OSError as exc:
        raise BadFileError(path, f"cannot be written: {exc.strerror or exc}") from None
