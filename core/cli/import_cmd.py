"""`roadstudio-cli import-reference`: a reference pix2pix latest_net_G.pth as Road Studio weights."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import BadFileError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "import-reference", help="import a generator trained with the reference pix2pix code",
        description="Convert a latest_net_G.pth saved by junyanz/pytorch-CycleGAN-and-pix2pix (U-Net "
                    "generator) into a .safetensors file Road Studio opens. Such models take colour "
                    "label maps (the Cityscapes pix2pix models do).")
    p.add_argument("path", type=Path, metavar="NET_G.pth")
    p.add_argument("--netG", required=True, choices=("unet_256", "unet_128"))
    p.add_argument("--norm", required=True, choices=("batch", "instance"))
    p.add_argument("--output", required=True, type=Path, metavar="OUT.safetensors")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.weights.checkpoints import save_weights
    from core.models import count_parameters
    from core.weights.checkpoints import import_reference_generator

    if args.output.suffix.lower() != ".safetensors":
        raise BadFileError(args.output, "the output must be a .safetensors file")
    loaded = import_reference_generator(args.path, args.netG, args.norm)
    save_weights(args.output, loaded.model, loaded.config, loaded.card)
    cfg = loaded.config
    print(f"wrote {args.output}: {args.netG}, ngf {cfg.ngf}, {cfg.norm} norm, colour input, "
          f"{count_parameters(loaded.model):,} parameters")
    return 0
