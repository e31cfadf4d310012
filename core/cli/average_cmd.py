"""`roadstudio-cli average`: one generator from the mean weights of several checkpoints of a run
(core.weights.averaging), written as .safetensors with its card saying what was averaged."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import BadFileError, UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "average", help="average the weights of several checkpoints into one generator",
        description="Average the generator weights of several checkpoints of one run (all of one "
                    "architecture) into one .safetensors generator. A GAN's checkpoints wander around "
                    "the best weights; their mean usually renders more realistic images than any one "
                    "of them (score it with `roadstudio-cli eval`). Give checkpoint files, or a run "
                    "folder with a step range.")
    p.add_argument("checkpoints", nargs="*", type=Path, metavar="CKPT",
                   help="checkpoints to average (.safetensors or .pt)")
    p.add_argument("--run", type=Path, metavar="RUN_DIR",
                   help="average the step checkpoints of this run folder (with --from-step/--to-step)")
    p.add_argument("--from-step", type=int, default=None, metavar="N", help="first step of --run to include")
    p.add_argument("--to-step", type=int, default=None, metavar="N", help="last step of --run to include")
    p.add_argument("--output", required=True, type=Path, metavar="OUT.safetensors")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.weights.averaging import average_generators, run_checkpoints
    from core.weights.checkpoints import save_weights

    if args.output.suffix.lower() != ".safetensors":
        raise BadFileError(args.output, "the output must be a .safetensors file")
    if args.run is not None and args.checkpoints:
        raise UserError("give either checkpoint files or --run, not both")
    if args.run is None and (args.from_step is not None or args.to_step is not None):
        raise UserError("--from-step and --to-step select checkpoints of --run RUN_DIR")
    paths = run_checkpoints(args.run, args.from_step, args.to_step) if args.run is not None else args.checkpoints
    if args.output.resolve() in {Path(p).resolve() for p in paths}:
        raise BadFileError(args.output, "is one of the checkpoints being averaged; choose another output")
    print(f"averaging {len(paths)} checkpoints: {', '.join(Path(p).name for p in paths)}", flush=True)
    averaged = average_generators(paths)
    try:
        save_weights(args.output, averaged.model, averaged.config, averaged.card)
    except OSError as exc:
        raise BadFileError(args.output, f"cannot be written: {exc.strerror or exc}") from None
    steps = averaged.card.get("averaged_steps")
    print(f"wrote {args.output} (mean of {len(paths)} checkpoints" + (f", steps {steps})" if steps else ")"))
    return 0
