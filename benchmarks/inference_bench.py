"""Inference speed: the reference-style path against the app's path, same weights, same run.

    python -m benchmarks.inference_bench [--quick] [--json PATH] [--cache-dir DIR]

For each model (unet_256 at ngf 64 and 32, and the bundled default model when resources/models
has one) and canvas (256×256, 256×512) it times, interleaved round-robin so machine noise hits
all paths alike, each figure a median and p95 of repeated runs after warm-up:

  reference   fp32, NCHW, eval, no_grad, plain PyTorch (what the pix2pix reference code does)
  eager-cl    the same model in channels_last under inference_mode (the app's eager fallback)
  onnxruntime the ONNX graph in ONNX Runtime (CPU EP)
  aoti        the AOTInductor package (BatchNorm folded, inductor freezing), compiled for the size
  app         core.render.infer.Predictor(backend="auto").forward: whatever the app uses
  app end-to-end  Predictor.predict: uint8 label ids in, uint8 photo out (padding, encoding,
              model, conversion); its difference includes the rounding to uint8 (≤ 1/255)

It reports each path's speed-up over the reference (ratio of medians in this run), the max abs
difference of its output to the reference, achieved GFLOP/s (conv/convT FLOPs counted from the
layer shapes: 2·Cin·Cout·k²·positions) and its share of this machine's fp32 convolution ceiling,
measured in the same run on a large 4×4 stride-2 convolution timed between the paths. Weights are the pix2pix init with
BatchNorm statistics drawn away from (0, 1), as after training, so a wrong BatchNorm folding
would show in the difference column. Nothing is asserted. Compiling the AOTInductor packages
takes about a minute per model and size the first time (cached on disk afterwards).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmarks.common import finish, format_load, machine, p95
from core.weights.checkpoints import LoadedGenerator, load_weights
from core.config import GeneratorConfig
from core.render.fast.aoti_runner import AotiRunner, aoti_paths, aoti_unavailable_reason, compile_aoti_package
from core.render.fast.cache import weights_digest
from core.render.fast.ort_runner import build_ort_runner
from core.render.infer import Predictor
from core.models import build_generator
from core.weights.onnx_export import sample_input
from core.io.resources import resource_path

REPO = Path(__file__).resolve().parent.parent


def conv_flops(model: nn.Module, x: torch.Tensor) -> int:
    """Multiply-adds ×2 of every Conv2d / ConvTranspose2d for input x."""
    total = 0

    def hook(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        assert isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))  # hooked on those only (below)
        k = m.kernel_size[0] * m.kernel_size[1]
        if isinstance(m, nn.ConvTranspose2d):
            positions = inputs[0].shape[0] * inputs[0].shape[2] * inputs[0].shape[3]
        else:
            positions = out.shape[0] * out.shape[2] * out.shape[3]
        total += 2 * m.in_channels * m.out_channels * k * positions

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return total


CEILING_FLOPS = 2 * 256 * 512 * 16 * 64 * 64  # the conv below, per call


def ceiling_conv() -> Callable[[], torch.Tensor]:
    """A large fp32 4×4 stride-2 convolution (the U-Net's own kind, 256->512 channels on 128×128,
    channels_last: oneDNN's best layout here): its GFLOP/s is the machine's practical ceiling.
    Timed interleaved with the model paths, so it sees the same machine load."""
    conv = nn.Conv2d(256, 512, 4, 2, 1, bias=False).eval().to(memory_format=torch.channels_last)
    x = torch.randn(1, 256, 128, 128).contiguous(memory_format=torch.channels_last)
    return lambda: conv(x)


def timed(paths: dict[str, Callable[[], object]], warmup: int, repeats: int) -> dict[str, list[float]]:
    """Seconds per call of each path, interleaved round-robin."""
    out: dict[str, list[float]] = {name: [] for name in paths}
    with torch.inference_mode():
        for _ in range(warmup):
            for fn in paths.values():
                fn()
        for _ in range(repeats):
            for name, fn in paths.items():
                t0 = time.perf_counter()
                fn()
                out[name].append(time.perf_counter() - t0)
    return out


def sample_ids(shape: tuple[int, int]) -> np.ndarray:
    """The label map sample_input encodes (blocks of palette classes)."""
    from core.labels import PALETTE_IDS

    rng = np.random.default_rng(0)
    blocks = rng.choice(PALETTE_IDS, size=(shape[0] // 8, shape[1] // 8))
    return np.kron(blocks, np.ones((8, 8), np.uint8)).astype(np.uint8)


def trained_like(ngf: int, seed: int = 0, depth: int = 8) -> LoadedGenerator:
    torch.manual_seed(seed)
    cfg = GeneratorConfig(ngf=ngf, depth=depth, norm="batch", input_encoding="onehot")
    model = build_generator(cfg)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                assert m.running_mean is not None and m.running_var is not None  # track_running_stats
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return LoadedGenerator(model=model.eval(), config=cfg, card={}, path=Path(f"unet_256 ngf {ngf}"))


def models(quick: bool) -> list[tuple[str, Callable[[], LoadedGenerator]]]:
    found: list[tuple[str, Callable[[], LoadedGenerator]]] = []
    default_dir = resource_path("models")
    for path in sorted(default_dir.glob("*.safetensors")) if default_dir.is_dir() else []:
        found.append((f"default ({path.name})", functools.partial(load_weights, path)))
        break
    found.append(("unet_256 ngf 64", lambda: trained_like(64)))
    found.append(("unet_256 ngf 32", lambda: trained_like(32)))
    return found


def bench_one(name: str, make: Callable[[], LoadedGenerator], shape: tuple[int, int], cache_dir: Path,
              warmup: int, repeats: int) -> dict[str, Any]:
    loaded = make()
    ref_model = make().model.eval()  # the same weights, its own copy, NCHW
    cfg = loaded.config
    x = sample_input(cfg, *shape)
    flops = conv_flops(ref_model, x)
    with torch.no_grad():
        expected = ref_model(x)

    cl_model = make().model.eval().to(memory_format=torch.channels_last)
    paths: dict[str, Callable[[], object]] = {
        "reference": lambda: ref_model(x),
        "eager-cl": lambda: cl_model(x.contiguous(memory_format=torch.channels_last)),
    }
    notes: list[str] = []
    build_s: dict[str, float] = {}
    digest = weights_digest(loaded.model)
    try:
        t0 = time.perf_counter()
        ort = build_ort_runner(loaded.model, cfg, digest, cache_dir)
        build_s["onnxruntime"] = time.perf_counter() - t0
        paths["onnxruntime"] = lambda: ort(x)
    except Exception as exc:  # noqa: BLE001 - a path that cannot be built is a note in the table
        notes.append(f"onnxruntime: {type(exc).__name__}: {exc}")
    reason = aoti_unavailable_reason()
    if reason is None:
        try:
            pkg = aoti_paths(cfg, digest, cache_dir, shape).package
            t0 = time.perf_counter()
            if not pkg.is_file():
                compile_aoti_package(loaded.model, cfg, pkg, shape)
            build_s["aoti"] = time.perf_counter() - t0
            aoti = AotiRunner(pkg)
            paths["aoti"] = lambda: aoti(x)
        except Exception as exc:  # noqa: BLE001 - a path that cannot be built is a note in the table
            notes.append(f"aoti: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    else:
        notes.append(f"aoti: {reason}")
    t0 = time.perf_counter()
    predictor = Predictor(loaded, "cpu", backend="auto", cache_dir=cache_dir, background_build=False)
    predictor.prepare(*shape, wait=True)
    build_s["app"] = time.perf_counter() - t0
    predictor.forward(x)
    paths["app"] = lambda: predictor.forward(x)
    ids = sample_ids(shape)
    paths["app end-to-end"] = lambda: predictor.predict(ids)
    app_backend = predictor.last_backend
    notes += [f"app: {n}" for n in predictor.backend_notes]

    paths["ceiling"] = ceiling_conv()
    times = timed(paths, warmup, repeats)
    ceiling = CEILING_FLOPS / statistics.median(times.pop("ceiling")) / 1e9
    paths.pop("ceiling")
    ref_median = statistics.median(times["reference"])
    rows = {}
    with torch.inference_mode():
        for path, values in times.items():
            if path == "app end-to-end":  # label ids -> uint8 photo: compare in [-1, 1] units
                photo = torch.from_numpy(predictor.predict(ids)).permute(2, 0, 1)[None].float() / 127.5 - 1
                diff = float((photo - expected).abs().max())
            else:
                out = paths[path]()
                assert isinstance(out, torch.Tensor)  # every path but the end-to-end one returns a tensor
                diff = float((out.float() - expected).abs().max())
            median = statistics.median(values)
            rows[path] = {
                "median_ms": median * 1000, "p95_ms": p95(values) * 1000,
                "speedup": ref_median / median,
                "max_abs_diff": diff,
                "gflops": flops / median / 1e9, "ceiling_share": flops / median / 1e9 / ceiling,
                "setup_s": build_s.get(path),
            }
    return {"model": name, "height": shape[0], "width": shape[1], "gflop": flops / 1e9, "ceiling_gflops": ceiling,
            "app_backend": app_backend, "paths": rows, "notes": notes, "repeats": repeats}


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "### Inference (batch 1, fp32, CPU)",
        "",
        f"Machine: {m['cpu']}, {m['logical_cpus']} logical CPUs, torch {m['torch']} ({m['torch_threads']} threads, "
        f"{m['isa']}), onnxruntime {m['onnxruntime']}, Python {m['python']}, {m['os']}; "
        f"load average at start {format_load(m['load_average_1min'])}, "
        f"at end {format_load(result.get('load_average_end'))} "
        "(above the CPU count, other processes competed for the cores and timings are inflated).",
        "Convolution ceiling: a fp32 4×4/2 conv 256→512 on 128×128 (channels_last), timed interleaved with "
        "each model's paths, so it sees the same load; 'of ceiling' is GFLOP/s divided by it.",
        "",
        "| model | size | path | median ms | p95 ms | × reference | max abs diff | GFLOP/s | of ceiling | set-up s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["runs"]:
        lines.append(f"| {r['model']} | {r['height']}×{r['width']} | *conv ceiling* | | | | | "
                     f"{r['ceiling_gflops']:.0f} | 100% | |")
        for path, row in r["paths"].items():
            label = f"**app ({r['app_backend']})**" if path == "app" else path
            setup = f"{row['setup_s']:.1f}" if row["setup_s"] is not None else ""
            lines.append(
                f"| {r['model']} | {r['height']}×{r['width']} | {label} | {row['median_ms']:.1f} | {row['p95_ms']:.1f} "
                f"| {row['speedup']:.2f} | {row['max_abs_diff']:.1e} | {row['gflops']:.0f} "
                f"| {row['ceiling_share']:.0%} | {setup} |")
    notes = sorted({n for r in result["runs"] for n in r["notes"]})
    if notes:
        lines += ["", "Notes: " + "; ".join(notes)]
    lines += ["", f"{result['runs'][0]['repeats'] if result['runs'] else 0} timed runs per path after warm-up, "
                  f"interleaved; total {result['seconds']:.0f} s."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="256×256 only, fewer repeats")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per path (default 10, quick 6)")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "inference.json")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where ONNX graphs / AOTInductor packages are cached (default: a temp folder)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    repeats = args.repeats or (6 if args.quick else 10)
    warmup = 2
    shapes = [(256, 256)] if args.quick else [(256, 256), (256, 512)]
    tmp = tempfile.TemporaryDirectory(prefix="roadstudio-bench-") if args.cache_dir is None else None
    cache_dir = Path(tmp.name) if tmp is not None else args.cache_dir
    result: dict[str, Any] = {"machine": machine(), "runs": []}
    for name, make in models(args.quick):
        for shape in shapes:
            print(f"... {name} at {shape[0]}×{shape[1]}", file=sys.stderr, flush=True)
            result["runs"].append(bench_one(name, make, shape, cache_dir, warmup, repeats))
    finish(result, start, markdown, args.json)
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
