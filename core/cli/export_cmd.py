"""`roadstudio-cli export-onnx`: a generator as an ONNX graph, verified with ONNX Runtime."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import BadFileError


def register(subparsers: argparse._SubParsersAction) -> None:
    from core.cli.infer_cmd import add_checkpoint_args

    p = subparsers.add_parser("export-onnx", help="export a generator to ONNX (checked against torch)",
                              description="Export a generator to ONNX with dynamic batch/height/width, "
                                          "then check that ONNX Runtime matches torch within 1e-4. "
                                          "Needs: pip install 'roadstudio[onnx]'.")
    add_checkpoint_args(p)
    p.add_argument("--output", required=True, type=Path, metavar="MODEL.onnx")
    p.add_argument("--height", type=int, default=None, help="example/check height (default 256)")
    p.add_argument("--width", type=int, default=None, help="example/check width (default 256)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.weights.checkpoints import load_any_generator
    from core.weights.onnx_export import check_export_size, export_onnx, require_onnx

    if args.output.suffix.lower() != ".onnx":
        raise BadFileError(args.output, "the output must be a .onnx file")
    require_onnx()  # before the (slow) model load
    loaded = load_any_generator(args.checkpoint, reference_netG=args.reference_netG,
                                reference_norm=args.reference_norm)
    default = max(256, loaded.config.size_multiple)
    height = args.height or default
    width = args.width or default
    check_export_size(loaded.config, height, width)
    print(f"exporting {args.checkpoint.name} at {height}×{width} ...", flush=True)
    report = export_onnx(loaded, args.output, height, width)
    print(f"wrote {report.path} ({report.size_bytes / 1e6:.1f} MB, opset {report.opset}, height/width "
          f"any multiple of {loaded.config.size_multiple}); ONNX Runtime matches torch within "
          f"{report.max_abs_diff:.1g} at {height}×{width} ({report.seconds:.1f} s)")
    return 0
