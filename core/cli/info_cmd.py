"""`roadstudio-cli info`: what a checkpoint holds (architecture, size, model card)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("info", help="describe a checkpoint",
                              description="Describe a generator checkpoint: kind, architecture, "
                                          "parameters and model card (step, epoch, run, data).")
    p.add_argument("path", type=Path, metavar="CKPT")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=run)


def describe(path: Path) -> dict[str, Any]:
    from core.checkpoints import load_any_generator
    from core.config import to_dict
    from core.models import count_parameters
    from core.reference_import import sniff_reference_file

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


def run(args: argparse.Namespace) -> int:
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
