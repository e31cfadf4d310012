"""`roadstudio-cli info`: what a checkpoint holds (architecture, size, model card), or where an
image came from (the provenance chunks Road Studio writes into every PNG it renders)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("info", help="describe a checkpoint, or the provenance of a rendered image",
                              description="Describe a generator checkpoint: kind, architecture, "
                                          "parameters and model card (step, epoch, run, data). Given a "
                                          "PNG rendered by Road Studio: the model, seed and label map it "
                                          "was rendered from.")
    p.add_argument("path", type=Path, metavar="CKPT|IMAGE.png")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--labels-out", type=Path, metavar="LABELS.png",
                   help="IMAGE: write the embedded label map (labelIds PNG) it was rendered from")
    p.add_argument("--verify", type=Path, metavar="CKPT",
                   help="IMAGE: render the embedded label map again with CKPT and compare bit for bit")
    p.set_defaults(func=run)


def describe(path: Path) -> dict[str, Any]:
    from core.weights.checkpoints import load_any_generator
    from core.config import to_dict
    from core.models import count_parameters
    from core.weights.checkpoints import sniff_reference_file

    suffix = path.suffix.lower()
    reference = sniff_reference_file(path) if suffix in (".pt", ".pth") and path.is_file() else None
    if reference is not None:
        netG, norm = reference
        loaded = load_any_generator(path, reference_netG=netG, reference_norm=norm)
        kind = f"reference pix2pix generator ({netG}, {norm} norm; import with `roadstudio-cli import-reference`)"
    else:
        loaded = load_any_generator(path)
        kind = "weights (.safetensors)" if suffix == ".safetensors" else "training checkpoint (.pt)"
    cfg = loaded.config
    return {
        "path": str(path),
        "kind": kind,
        "generator": to_dict(cfg),
        "input_channels": cfg.input_nc,
        "size_multiple": cfg.size_multiple,
        "parameters": count_parameters(loaded.model),
        "card": loaded.card,
    }


IMAGE_SUFFIXES = (".png",)


def run(args: argparse.Namespace) -> int:
    if args.path.suffix.lower() in IMAGE_SUFFIXES:
        return run_image(args)
    info = describe(args.path)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    g = info["generator"]
    arch = "U-Net" if g["arch"] == "unet" else "encoder-decoder (no skips)"
    rows = [
        ("file", info["path"]),
        ("kind", info["kind"]),
        ("arch", arch),
        ("depth", f"{g['depth']} (height and width padded to multiples of {info['size_multiple']})"),
        ("ngf", g["ngf"]),
        ("norm", g["norm"]),
        ("dropout", "yes" if g["dropout"] else "no"),
        ("encoding", f"{g['input_encoding']} ({info['input_channels']} channels)"),
        ("condition", "labels + photo with a hole + mask (photo-edit model)"
         if g.get("condition") == "labels+photo" else "labels"),
        ("params", f"{info['parameters']:,}"),
    ]
    card = {k: v for k, v in (info["card"] or {}).items() if v is not None}
    for key in ("step", "epoch", "run", "data"):
        if key in card:
            rows.append((key, card.pop(key)))
    for key in sorted(card):
        rows.append((key, card[key] if not isinstance(card[key], (dict, list)) else json.dumps(card[key])))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key + ':':<{width + 1}} {value}")
    return 0


def run_image(args: argparse.Namespace) -> int:
    """Print an image's provenance; optionally extract its label map or verify it by re-rendering."""
    import numpy as np

    from core.render import provenance
    from core.errors import UserError
    from core.io.imageio import read_rgb, write_label_ids_png

    record = provenance.read(args.path)
    rows = provenance.format_record(record)
    verified: bool | None = None
    if args.labels_out is not None:
        if record.labels is None:
            raise UserError(f"{args.path}: no embedded label map to write")
        write_label_ids_png(args.labels_out, record.labels)
    if args.verify is not None:
        if (record.get("kind") or "").startswith("edit"):
            raise UserError(f"{args.path}: an edited photo (roadstudio-cli edit) cannot be verified by "
                            f"re-rendering its label map; run `edit` again on the photo "
                            f"{record.get('photo_name')} (SHA-256 {(record.get('photo_sha256') or '')[:12]}…)")
        again = provenance.reproduce(record, args.verify)
        shown = provenance.rendered_part(record, read_rgb(args.path))
        verified = shown.shape == again.shape and bool(np.array_equal(shown, again))
    if args.json:
        out: dict[str, Any] = {"path": str(args.path), **record.fields,
                               "labels_embedded": record.labels is not None}
        if verified is not None:
            out["verified"] = verified
        print(json.dumps(out, indent=2))
    else:
        width = max(len(k) for k, _ in rows) + 1
        print(f"{'file:':<{width + 1}} {args.path}")
        for key, value in rows:
            print(f"{key + ':':<{width + 1}} {value}")
        if args.labels_out is not None:
            print(f"wrote the label map to {args.labels_out}")
        if verified is not None:
            print("verify: bit-exact reproduction" if verified else
                  "verify: the re-rendered image DIFFERS (another device, inference path or library version?)")
    return 0 if verified in (None, True) else 1
