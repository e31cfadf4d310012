"""Training speed at the default-model size (issue 18 §4): today's eager step against each speed
lever, interleaved step by step in one process.

    python -m benchmarks.train_step_bench [--quick] [--batches 1 4] [--variants NAME ...] [--json PATH]

The models and step are the `default-model` preset's (core/train/presets.py): U-Net depth 7, ngf 16,
resize decoder, onehot input; two-scale PatchGAN ndf 32 with feature matching; 128×128 crops.
Every variant runs core/train/loop.py's own `_Run._optimize` on the same pre-made batch (random
blocky label maps, onehot-encoded, and a random photo), with its own copy of the models
(same seed) and its own optimisers, plus the loop's one loss sync per step. Paths are interleaved
step by step (variant order rotated every round), so machine noise hits all of them alike.

  eager (before)   the loop before issue 18: Adam's default (one tensor at a time on CPU),
                   channels_last only at batch >= 2, no compile, the process's thread count
  fused adam       Adam(fused=True): one C++ kernel over all parameters
  foreach adam     Adam(foreach=True): multi-tensor ops
  compile          torch.compile (inductor, C++ on CPU) of G and D, eager Adam
  ...              combinations and the other levers (channels_last, flush_denormal, threads)
  now (loop)       what the loop uses now on this device for the preset (core/train/device.py)

Compile warm-up (the first steps, which trace and compile) is timed separately and reported
with the number of steps the speed-up needs to pay it back. Each figure is a median over the
timed steps; "× eager" = eager median / variant median in this run. The load average is sampled
before and after. Nothing is asserted.
"""

from __future__ import annotations

import os

# Like the CLI: idle OpenMP threads sleep instead of spinning (a spinning team steals the other
# variants' and other processes' time on a shared machine). Must precede importing torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.common import machine, p95  # noqa: E402
from core.io.atomic import atomic_write_text  # noqa: E402
from core.config import RunConfig  # noqa: E402
from core.models.encoding import encode_labels  # noqa: E402
from core.labels import PALETTE_IDS  # noqa: E402
from core.models import build_discriminator, build_generator, count_parameters  # noqa: E402
from core.train.presets import preset_config  # noqa: E402
from core.train import loop  # noqa: E402
from core.train.device import cuda_only_options  # noqa: E402
from core.train.losses import GANLoss  # noqa: E402


@dataclass(frozen=True)
class Variant:
    name: str
    adam: str = "default"  # default | foreach | fused
    compile: bool = False
    channels_last: bool | None = None  # None: as before issue 18 (CPU: batch >= 2)
    flush_denormal: bool = False
    threads: int | None = None  # None: the process's thread count
    bf16: bool = False  # bf16 autocast (oneDNN uses AVX512-BF16 / AMX where the CPU has them)
    loop_now: bool = False  # take adam / compile / channels_last from the loop's current choice


VARIANTS = {v.name: v for v in (
    Variant("eager (before)"),
    Variant("fused adam", adam="fused"),
    Variant("foreach adam", adam="foreach"),
    Variant("channels_last", channels_last=True),
    Variant("NCHW", channels_last=False),
    Variant("flush denormal", flush_denormal=True),
    Variant("1 thread", threads=1),
    Variant("fused + channels_last", adam="fused", channels_last=True),
    Variant("fused + channels_last + 1 thread", adam="fused", channels_last=True, threads=1),
    Variant("bf16", bf16=True),
    Variant("bf16 + fused + channels_last", bf16=True, adam="fused", channels_last=True),
    Variant("compile", compile=True),
    Variant("compile + fused adam", compile=True, adam="fused"),
    Variant("compile + fused + NCHW", compile=True, adam="fused", channels_last=False),
    Variant("compile + fused + channels_last", compile=True, adam="fused", channels_last=True),
    Variant("now (loop)", loop_now=True),
)}
QUICK = ("eager (before)", "fused adam", "compile + fused adam", "now (loop)")


def preset(batch: int) -> RunConfig:
    cfg = preset_config("default-model")
    return cfg.replace(train=replace(cfg.train, batch_size=batch, device="cpu"))


def batch_tensors(cfg: RunConfig, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Blocky label maps (palette classes on 8 px blocks) onehot-encoded, and a random photo."""
    rng = np.random.default_rng(seed)
    n, (h, w) = cfg.train.batch_size, cfg.data.crop_size
    blocks = rng.choice(PALETTE_IDS, size=(n, h // 8, w // 8)).astype(np.uint8)
    ids = np.kron(blocks, np.ones((1, 8, 8), np.uint8))
    x = encode_labels(ids, cfg.generator.input_encoding)
    real = torch.from_numpy(rng.uniform(-1, 1, size=(n, 3, h, w)).astype(np.float32))
    return x, real


@dataclass
class PathSpec:
    variant: Variant
    step: Callable[[], None]
    threads: int
    flush_denormal: bool
    warmup_times: list[float]
    times: list[float]
    compiled: bool = False


def build_path(variant: Variant, cfg: RunConfig, device: torch.device) -> PathSpec:
    tcfg = cfg.train
    adam, compile_models = variant.adam, variant.compile
    # Before issue 18 the CPU used channels_last from batch 2 on (core/train/device.py then).
    channels_last_before = tcfg.channels_last or tcfg.batch_size >= 2
    channels_last = channels_last_before if variant.channels_last is None else variant.channels_last
    if variant.loop_now:
        _, channels_last, compile_models, _ = cuda_only_options(tcfg, device)
        adam = "loop"
    torch.manual_seed(0)
    g = build_generator(cfg.generator).to(device).train()
    d = build_discriminator(cfg.discriminator, cfg.generator).to(device).train()
    x, real = batch_tensors(cfg)
    if channels_last:
        g, d = g.to(memory_format=torch.channels_last), d.to(memory_format=torch.channels_last)
        x, real = x.contiguous(memory_format=torch.channels_last), real.contiguous(memory_format=torch.channels_last)
    if adam == "loop":
        opt_g, opt_d = loop.make_optimizers(g, d, tcfg, device)
    else:
        kwargs = {"fused": {"fused": True}, "foreach": {"foreach": True}}.get(adam, {})
        opt_g = torch.optim.Adam(g.parameters(), lr=tcfg.lr, betas=(tcfg.beta1, tcfg.beta2), **kwargs)
        opt_d = torch.optim.Adam(d.parameters(), lr=tcfg.lr, betas=(tcfg.beta1, tcfg.beta2), **kwargs)
    run = SimpleNamespace(opt_g=opt_g, opt_d=opt_d, gan_loss=GANLoss(tcfg.gan_mode).to(device),
                          inject_nan_at_step=None, bf16=variant.bf16, cfg=cfg, device=device, seg=None)
    run.g, run.d = loop.wrap_models(g, d, compile_models=compile_models, env=loop.DistEnv.from_env(),
                                    device=device)
    run._autocast = lambda: loop._Run._autocast(run)  # type: ignore[arg-type]  # noqa: SLF001 - times the loop's own step, not a copy of it
    n = [0]

    def step() -> None:
        n[0] += 1
        _, losses = loop._Run._optimize(run, x, real, step_number=n[0])  # type: ignore[arg-type]  # noqa: SLF001 - times the loop's own step, not a copy of it
        torch.stack(list(losses.values())).detach().float().tolist()  # the loop's one sync per step

    return PathSpec(variant, step, variant.threads or torch.get_num_threads(), variant.flush_denormal, [], [],
                 compiled=compile_models)


def bench_batch(batch: int, names: list[str], warmup: int, repeats: int, compile_warmup: int) -> dict[str, Any]:
    device = torch.device("cpu")
    cfg = preset(batch)
    default_threads = torch.get_num_threads()
    paths = [build_path(VARIANTS[name], cfg, device) for name in names]

    def timed(path: PathSpec) -> float:
        torch.set_num_threads(path.threads)
        torch.set_flush_denormal(path.flush_denormal)
        t0 = time.perf_counter()
        path.step()
        elapsed = time.perf_counter() - t0
        torch.set_num_threads(default_threads)
        torch.set_flush_denormal(False)
        return elapsed

    # Warm-up one path at a time: a compiling path's first steps take tens of seconds, which
    # must not fall into the others' timed steps.
    for path in paths:
        rounds = compile_warmup if path.compiled else warmup
        for _ in range(rounds):
            path.warmup_times.append(timed(path))
    load_start = os.getloadavg()[0]
    for i in range(repeats):
        order = paths[i % len(paths):] + paths[: i % len(paths)]
        for path in order:
            path.times.append(timed(path))
    load_end = os.getloadavg()[0]
    base = statistics.median(paths[0].times)
    rows = {}
    for path in paths:
        med = statistics.median(path.times)
        saved = base - med
        extra = sum(path.warmup_times) - med * len(path.warmup_times)
        rows[path.variant.name] = {
            "median_s": med, "p95_s": p95(path.times), "vs_eager": base / med, "times_s": path.times,
            "warmup_s": path.warmup_times, "warmup_extra_s": extra,
            "compiled": path.compiled,
            "payback_steps": (extra / saved if saved > 0 else None) if path.compiled else None,
        }
    return {"batch": batch, "threads": default_threads, "repeats": repeats, "rows": rows,
            "load_start": load_start, "load_end": load_end,
            "generator_params": count_parameters(build_generator(cfg.generator)),
            "discriminator_params": count_parameters(build_discriminator(cfg.discriminator, cfg.generator))}


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "### Training step at the default-model size (issue 18)",
        "",
        f"Machine: {m['cpu']}, {m['logical_cpus']} logical CPUs, torch {m['torch']} ({m['torch_threads']} threads, "
        f"{m['isa']}, OMP_WAIT_POLICY={m['omp_wait_policy']}), Python {m['python']}. Preset `default-model`: "
        "U-Net depth 7 ngf 16 (resize decoder, onehot), 2-scale PatchGAN ndf 32 + feature matching, 128×128, "
        "the loop's own `_optimize`, variants interleaved step by step.",
        "",
        "| batch | variant | median s/step | p95 s | × eager (before) | compile warm-up s | pays back after |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for run in result["runs"]:
        for name, row in run["rows"].items():
            warm = f"{sum(row['warmup_s']):.0f}" if row["compiled"] else ""
            pay = ("" if not row["compiled"] else "never" if row["payback_steps"] is None
                   else f"{row['payback_steps']:.0f} steps")
            label = f"**{name}**" if name == "now (loop)" else name
            lines.append(f"| {run['batch']} | {label} | {row['median_s']:.3f} | {row['p95_s']:.3f} | "
                         f"{row['vs_eager']:.2f} | {warm} | {pay} |")
    lines += ["", "Load average (1 min) per batch size, before / after the timed steps: " + "; ".join(
        f"batch {r['batch']}: {r['load_start']:.2f} / {r['load_end']:.2f}" for r in result["runs"])
        + f". {result['runs'][0]['repeats'] if result['runs'] else 0} timed steps per variant; "
        f"total {result['seconds']:.0f} s."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="four variants, fewer steps")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=None)
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per variant (default 15, quick 8)")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "train_step.json")
    args = parser.parse_args(argv)
    names = args.variants or (list(QUICK) if args.quick else list(VARIANTS))
    if names[0] != "eager (before)":
        names = ["eager (before)"] + [n for n in names if n != "eager (before)"]
    repeats = args.repeats or (8 if args.quick else 15)
    start = time.perf_counter()
    result: dict[str, Any] = {"machine": machine(), "runs": []}
    for batch in args.batches:
        print(f"... batch {batch}: {', '.join(names)}", file=sys.stderr, flush=True)
        result["runs"].append(bench_batch(batch, names, warmup=2, repeats=repeats, compile_warmup=3))
        for name, row in result["runs"][-1]["rows"].items():  # partial results survive an interrupted run
            print(f"    batch {batch} {name}: {row['median_s']:.3f} s, {row['vs_eager']:.2f}×", file=sys.stderr,
                  flush=True)
    result["seconds"] = time.perf_counter() - start
    text = markdown(result)
    print(text)
    result["markdown"] = text
    args.json.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.json, json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
