"""`python -m core.render.fast.aoti_build WEIGHTS.safetensors OUT.pt2`: compile an AOTInductor
package in its own process, check it against eager, publish it atomically (see aoti_runner)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    # the app terminates an unfinished build when the model is unloaded: clean up on SIGTERM too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(prog="python -m core.render.fast.aoti_build")
    parser.add_argument("weights", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument("--lock", type=Path, default=None)
    parser.add_argument("--height", type=int, required=True)
    parser.add_argument("--width", type=int, required=True)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    tmp = args.out.with_name(f".{args.out.name}.{os.getpid()}.tmp.pt2")
    try:
        from core.weights.checkpoints import load_weights
        from core.render.fast.aoti_runner import AotiRunner, compile_aoti_package
        from core.weights.onnx_export import sample_input

        loaded = load_weights(args.weights)
        shape = (args.height, args.width)
        compile_aoti_package(loaded.model, loaded.config, tmp, shape)
        runner = AotiRunner(tmp)
        import torch

        x = sample_input(loaded.config, *shape)
        with torch.inference_mode():
            worst = float((runner(x) - loaded.model(x)).abs().max())
        if not worst <= args.tolerance:
            message = f"AOTInductor package differs from eager by {worst:.3g} (limit {args.tolerance:g}); not published"
            args.out.with_suffix(".rejected").write_text(message + "\n", encoding="utf-8")
            print(message, flush=True)
            return 1
        os.replace(tmp, args.out)
        print(f"published {args.out} (max abs diff {worst:.3g}, {time.perf_counter() - start:.1f} s)", flush=True)
        return 0
    finally:
        tmp.unlink(missing_ok=True)
        args.weights.unlink(missing_ok=True)
        if args.lock is not None:
            args.lock.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
