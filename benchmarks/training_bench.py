"""Training speed: the reference-style pix2pix step against ours, bare and end to end, same run.

    python -m benchmarks.training_bench [--quick] [--json PATH]

For unet_256 (depth 8, BatchNorm, colour input) at ngf 64 and 32, batch 1 and 4, 256×256, it times
three paths, interleaved step by step so machine noise hits all of them alike:

  reference   written here as the pix2pix reference code does it: a plain loop on pre-made
              random tensors, Adam(2e-4, (0.5, 0.999)), fake = G(x); D step on the detached fake
              (0.5·(BCE fake + BCE real)); D frozen; G step with GAN + 100·L1; fp32, NCHW
  ours bare   the step core/train/loop.py performs (its own `_Run._optimize`, called on the same
              kind of tensors, plus the one loss sync per step the loop does), with the options
              the loop uses on this device (on CPU: channels_last; bf16 and compile are CUDA-only)
  ours e2e    `core.train.loop.train(...)` on InMemoryPairs of 256×256 pairs: real data loading
              (resize 286 + random crop + flip, encoding), events, metrics.jsonl, TensorBoard,
              a sample grid and a checkpoint inside the timed window, in a temporary run folder.
              A step's time is the time spent inside the training generator from one Step event
              to the next, so the sample / checkpoint writing of step k counts in step k+1

Each figure is the median and p95 of the timed steps after warm-up, and its speed relative to the
reference step of the same run (reference median / path median; > 1 is faster). "e2e mean" also
counts the rare slow steps (checkpoint writing) in steps/s. Peak RSS (getrusage, process-wide, so
it only grows) is recorded after each configuration. On CUDA it also times the reference step
with bf16 autocast, channels_last, fused Adam, cudnn.benchmark and torch.compile, each on its own
and all together, and records torch.cuda.max_memory_allocated per configuration. Nothing is
asserted.
"""

from __future__ import annotations

import os

# Like the app and the tests: idle OpenMP threads sleep instead of spinning (on a shared 2-core
# machine spinning workers steal time from the other process's work). Must precede importing torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import contextlib
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from benchmarks.common import finish, format_load, machine, p95
from core.config import DataConfig, Device, DiscriminatorConfig, GeneratorConfig, RunConfig, TrainConfig
from core.data.base import InMemoryPairs
from core.labels import PALETTE_IDS
from core.models import build_discriminator, build_generator
from core.train import loop
from core.train.distributed import mean_over_ranks
from core.train.events import Failed, Step
from core.train.losses import GANLoss

REPO = Path(__file__).resolve().parent.parent

SIZE = 256


def peak_rss_mib() -> float:
    # ru_maxrss is KiB on Linux (bytes on macOS)
    scale = 1 / (1024 * 1024) if sys.platform == "darwin" else 1 / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ------------------------------------------------------------------------------- reference step

@dataclass(frozen=True)
class Options:
    """Speed options of the reference-style step (all off = the reference as written)."""

    bf16: bool = False
    channels_last: bool = False
    fused_adam: bool = False
    cudnn_benchmark: bool = False
    compile: bool = False

    def label(self) -> str:
        on = [name for name, value in vars(self).items() if value]
        return "reference" if not on else "reference + " + " + ".join(on)


ALL_CUDA_OPTIONS = Options(bf16=True, channels_last=True, fused_adam=True, cudnn_benchmark=True, compile=True)


def models(ngf: int, device: torch.device, depth: int = 8, ndf: int = 64) -> tuple[nn.Module, nn.Module]:
    gcfg = GeneratorConfig(arch="unet", depth=depth, ngf=ngf, norm="batch", input_encoding="color")
    g = build_generator(gcfg).to(device)
    d = build_discriminator(DiscriminatorConfig(n_layers=3, ndf=ndf), gcfg).to(device)
    return g.train(), d.train()


def random_batch(batch: int, device: torch.device, seed: int, size: int = SIZE) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, 3, size, size, generator=gen) * 2 - 1
    real = torch.rand(batch, 3, size, size, generator=gen) * 2 - 1
    return x.to(device), real.to(device)


def reference_step(ngf: int, batch: int, device: torch.device, opts: Options = Options(), *, size: int = SIZE,
                   depth: int = 8, ndf: int = 64, compile_backend: str = "inductor") -> Callable[[], None]:
    """The reference pix2pix training step, as its code does it, on fixed random tensors.
    (size, depth, ndf and compile_backend exist for benchmarks/gpu_check.py's CPU dry run.)"""
    torch.manual_seed(0)
    g, d = models(ngf, device, depth, ndf)
    x, real = random_batch(batch, device, seed=1, size=size)
    if opts.channels_last:
        g, d = g.to(memory_format=torch.channels_last), d.to(memory_format=torch.channels_last)
        x, real = x.contiguous(memory_format=torch.channels_last), real.contiguous(memory_format=torch.channels_last)
    fused = {"fused": True} if opts.fused_adam else {}
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999), **fused)
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999), **fused)
    if opts.compile:
        g, d = torch.compile(g, backend=compile_backend), torch.compile(d, backend=compile_backend)  # type: ignore[assignment]
    bce = nn.BCEWithLogitsLoss()
    l1 = nn.L1Loss()

    def autocast() -> contextlib.AbstractContextManager[Any]:
        if opts.bf16:
            return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def set_requires_grad(net: nn.Module, flag: bool) -> None:
        for p in net.parameters():
            p.requires_grad = flag

    def step() -> None:
        with autocast():
            fake = g(x)
        set_requires_grad(d, True)
        opt_d.zero_grad()
        with autocast():
            pred_fake = d(torch.cat((x, fake.detach()), 1)).float()
            pred_real = d(torch.cat((x, real), 1)).float()
        loss_d = 0.5 * (bce(pred_fake, torch.zeros_like(pred_fake)) + bce(pred_real, torch.ones_like(pred_real)))
        loss_d.backward()
        opt_d.step()
        set_requires_grad(d, False)
        opt_g.zero_grad()
        with autocast():
            pred = d(torch.cat((x, fake), 1)).float()
        loss_g = bce(pred, torch.ones_like(pred)) + l1(fake.float(), real) * 100.0
        loss_g.backward()
        opt_g.step()
        loss_g.item()  # the reference logs losses; one sync per step, like ours

    return step


# ------------------------------------------------------------------------------- ours, bare

def ours_bare_step(ngf: int, batch: int, device: torch.device, tcfg: TrainConfig | None = None, *,
                   size: int = SIZE, depth: int = 8, ndf: int = 64, ddp: bool = False) -> Callable[[], None]:
    """core/train/loop.py's own optimisation step (`_Run._optimize`), bound to a minimal run
    object with the models, optimisers and options the loop would set up on this device
    (for `tcfg`, default: TrainConfig's defaults). ddp: wrap the models in DistributedDataParallel
    as the loop does under torchrun (a process group must exist; the loop itself only does it
    for more than one process)."""
    tcfg = tcfg or TrainConfig(device=cast(Device, device.type), batch_size=batch)
    bf16, channels_last, compile_models, _ = loop.cuda_only_options(tcfg, device)
    torch.manual_seed(0)
    g, d = models(ngf, device, depth, ndf)
    x, real = random_batch(batch, device, seed=1, size=size)
    if channels_last:
        g, d = g.to(memory_format=torch.channels_last), d.to(memory_format=torch.channels_last)
        x, real = x.contiguous(memory_format=torch.channels_last), real.contiguous(memory_format=torch.channels_last)
    opt_g, opt_d = loop.make_optimizers(g, d, tcfg, device)  # the loop's (fused Adam on CPU and CUDA)
    run = SimpleNamespace(opt_g=opt_g, opt_d=opt_d, gan_loss=GANLoss(tcfg.gan_mode).to(device),
                          inject_nan_at_step=None, bf16=bf16, device=device, seg=None,
                          cfg=SimpleNamespace(train=tcfg))
    env = SimpleNamespace(distributed=True) if ddp else loop.DistEnv.from_env()
    run.g, run.d = loop.wrap_models(g, d, compile_models=compile_models, env=env, device=device)  # type: ignore[arg-type]
    # The loop's own optimisation step on a stand-in run object (a namespace, hence the arg-type
    # ignores): the step alone, without data loading.
    run._autocast = lambda: loop._Run._autocast(run)  # type: ignore[arg-type]  # noqa: SLF001 - as above
    n = [0]

    def step() -> None:
        n[0] += 1
        _, losses = loop._Run._optimize(run, x, real, step_number=n[0])  # type: ignore[arg-type]  # noqa: SLF001 - as above
        mean_over_ranks(torch.stack(list(losses.values())).detach().float()).tolist()  # the loop's one sync per step

    return step


# ------------------------------------------------------------------------------- ours, end to end

def street_pairs(count: int, seed: int = 0) -> InMemoryPairs:
    """Blocky label maps (palette classes on 16 px blocks) and noisy photos, 256×256 uint8."""
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        blocks = rng.choice(PALETTE_IDS, size=(SIZE // 16, SIZE // 16)).astype(np.uint8)
        labels = np.kron(blocks, np.ones((16, 16), np.uint8))
        photo = rng.integers(0, 256, size=(SIZE, SIZE, 3), dtype=np.uint8)
        pairs.append((labels, photo))
    return InMemoryPairs(pairs, name="bench pairs")


@dataclass
class EndToEnd:
    """A train() run pulled one Step at a time; times the work inside the generator."""

    ngf: int
    batch: int
    device: torch.device
    total_steps: int
    sample_every: int
    checkpoint_every: int
    run_dir: Path
    step_times: list[float] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=dict)
    data_times: list[float] = field(default_factory=list)  # the loop's own Step.data_time
    compute_times: list[float] = field(default_factory=list)  # the loop's own Step.step_time

    def start(self) -> Generator[float, None, None]:
        cfg = RunConfig(
            name="training-bench",
            generator=GeneratorConfig(arch="unet", depth=8, ngf=self.ngf, norm="batch", input_encoding="color"),
            discriminator=DiscriminatorConfig(n_layers=3, ndf=64),
            data=DataConfig(path="in-memory", load_size=(286, 286), crop_size=(SIZE, SIZE)),
            train=TrainConfig(batch_size=self.batch, epochs=1000, epochs_decay=0, max_steps=self.total_steps + 1,
                              device=cast(Device, self.device.type), sample_every=self.sample_every,
                              checkpoint_every=self.checkpoint_every))
        source = street_pairs(16)  # several epochs in the window: epoch boundaries are timed too
        gen = loop.train(cfg, self.run_dir, sources=(source, None))
        return self._steps(gen)

    def _steps(self, gen: Iterator[Any]) -> Generator[float, None, None]:
        try:
            while True:
                t0 = time.perf_counter()
                for event in gen:
                    self.events[type(event).__name__] = self.events.get(type(event).__name__, 0) + 1
                    if isinstance(event, Failed):
                        raise RuntimeError(f"training failed: {event.message}")
                    if isinstance(event, Step):
                        self.data_times.append(event.data_time)
                        self.compute_times.append(event.step_time)
                        break
                else:
                    return
                yield time.perf_counter() - t0
        finally:
            if isinstance(gen, Generator):  # loop.train is one; its annotation says Iterator
                gen.close()  # closes the sinks (metrics.jsonl, TensorBoard); no final checkpoint


# ------------------------------------------------------------------------------- one configuration

def bench_config(ngf: int, batch: int, device: torch.device, warmup: int, repeats: int,
                 tmp: Path) -> dict[str, Any]:
    paths: dict[str, Callable[[], None]] = {
        "reference": reference_step(ngf, batch, device),
        "ours bare": ours_bare_step(ngf, batch, device),
    }
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = False
        variants = [Options(bf16=True), Options(channels_last=True), Options(fused_adam=True),
                    Options(compile=True), ALL_CUDA_OPTIONS]
        for opts in variants:
            paths[opts.label()] = reference_step(ngf, batch, device, opts)
    # e2e: its warm-up steps, then the timed ones; a sample grid and a checkpoint fall inside
    # the timed window (their writing is timed in the step after them)
    e2e_warmup = warmup + 1
    total = e2e_warmup + repeats
    sample_at = e2e_warmup + max(1, repeats // 3)
    checkpoint_at = e2e_warmup + max(2, (2 * repeats) // 3)
    e2e = EndToEnd(ngf, batch, device, total, sample_every=sample_at, checkpoint_every=checkpoint_at,
                   run_dir=tmp / f"run-ngf{ngf}-b{batch}")
    e2e_steps = e2e.start()
    times: dict[str, list[float]] = {name: [] for name in paths}
    times["ours e2e"] = []
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for _ in range(e2e_warmup):
        next(e2e_steps)
    for i in range(warmup + repeats):
        for name, fn in paths.items():
            # cudnn.benchmark is a global switch: on only for the paths that ask for it
            if device.type == "cuda":
                torch.backends.cudnn.benchmark = "cudnn_benchmark" in name
            sync(device)
            t0 = time.perf_counter()
            fn()
            sync(device)
            if i >= warmup:
                times[name].append(time.perf_counter() - t0)
        if i >= warmup:
            times["ours e2e"].append(next(e2e_steps))
    e2e_steps.close()
    timed_steps = slice(e2e_warmup, None)
    e2e_data_s = statistics.median(e2e.data_times[timed_steps])
    e2e_compute_s = statistics.median(e2e.compute_times[timed_steps])
    ref = statistics.median(times["reference"])
    rows = {}
    for name, values in times.items():
        median = statistics.median(values)
        rows[name] = {"median_s": median, "p95_s": p95(values), "mean_s": statistics.fmean(values),
                      "steps_per_s": 1 / median, "steps_per_s_mean": 1 / statistics.fmean(values),
                      "vs_reference": ref / median, "samples_per_s": batch / median, "times_s": values}
    files = sorted(str(p.relative_to(e2e.run_dir)) for p in e2e.run_dir.rglob("*") if p.is_file())
    return {"ngf": ngf, "batch": batch, "size": SIZE, "device": str(device), "repeats": repeats, "warmup": warmup,
            "paths": rows, "e2e_data_time_median_s": e2e_data_s, "e2e_compute_time_median_s": e2e_compute_s,
            "e2e_events": e2e.events, "e2e_files": files,
            "e2e_sample_at_step": sample_at, "e2e_checkpoint_at_step": checkpoint_at,
            "peak_rss_mib": peak_rss_mib(),
            "cuda_max_memory_allocated_mib": (torch.cuda.max_memory_allocated(device) / 2**20
                                              if device.type == "cuda" else None)}


def loop_speed_options(device: torch.device) -> str:
    """Which of the loop's speed options it uses on this device with the default TrainConfig,
    at batch 1 and 4 (channels_last on the CPU depends on the batch size)."""
    text = []
    for batch in (1, 4):
        used = loop.cuda_only_options(TrainConfig(batch_size=batch), device)[:3]
        on = [name for name, flag in zip(("bf16", "channels_last", "compile"), used, strict=True) if flag]
        text.append(f"batch {batch}: {', '.join(on) or 'none'}")
    return "; ".join(text)


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "### Training step (pix2pix, unet_256 + 70×70 PatchGAN, 256×256, fp32)",
        "",
        f"Machine: {m['cpu']}, {m['logical_cpus']} logical CPUs, torch {m['torch']} ({m['torch_threads']} threads, "
        f"{m['isa']}, OMP_WAIT_POLICY={m['omp_wait_policy']}), GPU: {m['gpu'] or 'none'}, Python {m['python']}, "
        f"{m['os']}; load average at start {format_load(m['load_average_1min'])}, "
        f"at end {format_load(result.get('load_average_end'))} "
        "(above the CPU count, other processes competed for the cores and timings are inflated).",
        "Paths are interleaved step by step. *reference*: the reference code's step on pre-made tensors; "
        "*ours bare*: core/train/loop.py's `_optimize` on the same tensors; *ours e2e*: `core.train.loop.train` "
        "with data loading, events, metrics.jsonl, TensorBoard, one sample grid and one checkpoint in the window.",
        "",
        "| ngf | batch | path | median s/step | p95 s | steps/s (median) | steps/s (mean) | × reference "
        "| peak RSS MiB |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["runs"]:
        mem = f"{r['peak_rss_mib']:.0f}"
        if r["cuda_max_memory_allocated_mib"] is not None:
            mem += f" (CUDA {r['cuda_max_memory_allocated_mib']:.0f})"
        for i, (path, row) in enumerate(r["paths"].items()):
            label = f"**{path}**" if path == "ours e2e" else path
            lines.append(
                f"| {r['ngf']} | {r['batch']} | {label} | {row['median_s']:.3f} | {row['p95_s']:.3f} | "
                f"{row['steps_per_s']:.2f} | {row['steps_per_s_mean']:.2f} | {row['vs_reference']:.2f} | "
                f"{mem if i == 0 else ''} |")
    first = result["runs"][0] if result["runs"] else {}
    lines += ["", "Inside ours e2e, per the loop's own Step events (median): " + "; ".join(
        f"ngf {r['ngf']} batch {r['batch']}: data {1000 * r['e2e_data_time_median_s']:.0f} ms, "
        f"compute {1000 * r['e2e_compute_time_median_s']:.0f} ms" for r in result["runs"]) + "."]
    ratios = [(r["ngf"], r["batch"], r["paths"]["ours e2e"]["vs_reference"]) for r in result["runs"]]
    short = [f"ngf {n} batch {b}: {v:.2f}×" for n, b, v in ratios if v < 1.0]
    options = result.get("loop_speed_options", "n/a")
    lines += ["", f"Speed options the loop applies here (core/train/device.py): {options}; "
              "the reference step runs as the reference code does (fp32, NCHW), and *ours e2e* adds data loading "
              "and bookkeeping to *ours bare*."]
    lines += ["", "Target (issues 8 and 14), ours end to end ≥ 1.0× the bare reference-style step (medians): "
              + ("met in every configuration." if not short else
                 f"met in {len(ratios) - len(short)} of {len(ratios)}; short in " + ", ".join(short) + ".")]
    lines += ["", f"{first.get('repeats', 0)} timed steps per path after {first.get('warmup', 0)} warm-up steps "
                  f"(e2e: one more); peak RSS is process-wide and cumulative (the row's configuration and "
                  f"everything before it); total {result['seconds']:.0f} s."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="ngf 32 only, fewer steps (about 2 minutes on 2 cores)")
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per path (default 10, quick 8)")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "training.json")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    repeats = args.repeats or (8 if args.quick else 10)
    warmup = 2
    ngfs = [32] if args.quick else [32, 64]
    result: dict[str, Any] = {"machine": machine(), "runs": [], "loop_speed_options": loop_speed_options(device)}
    with tempfile.TemporaryDirectory(prefix="roadstudio-trainbench-") as tmp:
        for batch in (1, 4):  # batch 1 first, so the cumulative peak RSS reads per batch size
            for ngf in ngfs:
                print(f"... ngf {ngf}, batch {batch}", file=sys.stderr, flush=True)
                result["runs"].append(bench_config(ngf, batch, device, warmup, repeats, Path(tmp)))
    finish(result, start, markdown, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
