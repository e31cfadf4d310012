"""One command that proves the GPU paths and prints one table (issue 14).

    python -m benchmarks --gpu [--dry-run] [--write-docs]      (or scripts/gpu_check.sh)
    python -m benchmarks.gpu_check [--dry-run] [--json PATH] [--budget-s 480]

On one CUDA GPU (about 8 minutes), for the paper's unet_256 (ngf 64) + 70×70 PatchGAN:

  training    steps/s at batch 1 and 16 (256×256): the reference-style fp32 step, then with bf16
              autocast, channels_last, torch.compile and fused Adam each alone and all together
              (+ cudnn.benchmark), and core/train/loop.py's own step with its defaults and with
              the options TrainConfig has (bf16, channels_last, compile); interleaved step by
              step; peak GPU memory per batch size
  inference   latency per path at 256×512: reference fp32 NCHW, the app's Predictor (end to end,
              uint8 in and out), its batch of 16 per map, bf16 autocast, torch.compile
  panel       the training panel's worker (offscreen Qt, its own process) training the paper
              preset on CUDA for 60 s: steps/s, peak GPU memory, the longest GUI-thread stall
  torchrun    1 process under torchrun: an NCCL process group with the loop's step on DDP-wrapped
              models (the loop itself wraps only for 2+ processes), and `roadstudio-cli train
              --preset paper` under torchrun for a few steps

Without a GPU it says so and runs the same code paths on the CPU with tiny sizes (`--dry-run`:
ngf 4, batch 1 and 2, 3 s of panel, gloo instead of NCCL, torch.compile with the "eager"
backend so no C++ compiler runs). tests/desktop/test_gpu_check.py runs the dry run, so this
script cannot rot while no GPU is around. Its numbers mean nothing; the table says DRY RUN.
A section that would overrun --budget-s is skipped and says so. Nothing is asserted.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the training benchmark: no spinning OpenMP threads

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import torch

from benchmarks.common import StallMeter, finish, machine, p95
from core.io.atomic import atomic_write_text

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Scale:
    """The sizes of one check: the real one on CUDA, or the CPU dry run."""

    device: str
    dry_run: bool
    ngf: int
    ndf: int
    size: int  # training crop (depth 8 needs 256)
    depth: int  # U-Net depth: 8 is unet_256
    batches: tuple[int, ...]
    warmup: int  # per path; compiled paths compile here
    repeats: int
    infer_shape: tuple[int, int]
    infer_batch: int
    panel_seconds: float
    torchrun_steps: int
    compile_backend: str


FULL = Scale(device="cuda", dry_run=False, ngf=64, ndf=64, size=256, depth=8, batches=(16, 1), warmup=3, repeats=15,
             infer_shape=(256, 512), infer_batch=16, panel_seconds=60.0, torchrun_steps=40,
             compile_backend="inductor")
# The dry run: a depth-5 U-Net on 32×32 crops (same modules, a fraction of the cost) and torch.compile's
# "eager" backend (Dynamo traces, no C++ compiler), so the test suite runs it in well under a minute.
DRY = Scale(device="cpu", dry_run=True, ngf=4, ndf=4, size=32, depth=5, batches=(2, 1), warmup=1, repeats=2,
            infer_shape=(64, 128), infer_batch=2, panel_seconds=3.0, torchrun_steps=3, compile_backend="eager")


@dataclass
class Row:
    section: str
    what: str
    batch: int | None = None
    median_ms: float | None = None
    p95_ms: float | None = None
    rate: str = ""  # steps/s or maps/s, in words
    vs_reference: float | None = None
    gpu_mib: float | None = None
    setup_s: float | None = None
    note: str = ""


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_mib(device: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None


def timed(paths: dict[str, Callable[[], object]], device: torch.device, warmup: int, repeats: int,
          ) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Seconds per call, interleaved round-robin; the warm-up (compiles) time per path too."""
    setup: dict[str, float] = {}
    for name, fn in paths.items():
        sync(device)
        t0 = time.perf_counter()
        for _ in range(warmup):
            fn()
        sync(device)
        setup[name] = time.perf_counter() - t0
    out: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(repeats):
        for name, fn in paths.items():
            if device.type == "cuda":  # a global switch: on only for the path that asks for it
                torch.backends.cudnn.benchmark = "cudnn_benchmark" in name
            sync(device)
            t0 = time.perf_counter()
            fn()
            sync(device)
            out[name].append(time.perf_counter() - t0)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = False
    return out, setup


# ------------------------------------------------------------------------------------ training

def training_rows(scale: Scale, deadline: float | None = None) -> list[Row]:
    from benchmarks.training_bench import Options, ours_bare_step, reference_step
    from core.config import Device, TrainConfig

    device = torch.device(scale.device)
    rows: list[Row] = []
    variants = [Options(), Options(bf16=True), Options(channels_last=True), Options(compile=True),
                Options(fused_adam=True),
                Options(bf16=True, channels_last=True, compile=True, fused_adam=True, cudnn_benchmark=True)]
    geometry: dict[str, Any] = {"size": scale.size, "depth": scale.depth, "ndf": scale.ndf}
    for i, batch in enumerate(scale.batches):
        if i and deadline is not None and time.perf_counter() > deadline:
            rows.append(Row("training", f"batch {batch}", batch, note="skipped: the time budget is spent"))
            continue
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        paths: dict[str, Callable[[], object]] = {}
        for opts in variants:
            paths[opts.label()] = reference_step(scale.ngf, batch, device, opts,
                                                 compile_backend=scale.compile_backend, **geometry)
        paths["ours (loop defaults)"] = ours_bare_step(scale.ngf, batch, device, **geometry)
        # compile is measured on the reference step; one more compile here would not fit the budget
        loop_opts = TrainConfig(device=cast(Device, scale.device), bf16=True, channels_last=True)
        paths["ours (--bf16 --channels-last)"] = ours_bare_step(scale.ngf, batch, device, loop_opts, **geometry)
        times, setup = timed(paths, device, scale.warmup, scale.repeats)
        ref = statistics.median(times["reference"])
        for name, values in times.items():
            median = statistics.median(values)
            rows.append(Row("training", name, batch, median * 1000, p95(values) * 1000, f"{1 / median:.2f} steps/s",
                            ref / median, peak_mib(device) if name == "reference" else None, setup[name]))
        del paths
    return rows


# ------------------------------------------------------------------------------------ inference

def inference_rows(scale: Scale) -> list[Row]:

    from benchmarks.inference_bench import sample_ids, trained_like
    from core.render.infer import Predictor
    from core.weights.onnx_export import sample_input

    device = torch.device(scale.device)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    t0 = time.perf_counter()
    loaded = trained_like(scale.ngf, depth=scale.depth)
    predictor = Predictor(loaded, device, backend="eager", background_build=False)
    app_setup = time.perf_counter() - t0
    ref = trained_like(scale.ngf, depth=scale.depth).model.eval().to(device)
    compiled = torch.compile(trained_like(scale.ngf, depth=scale.depth).model.eval().to(device),
                             backend=scale.compile_backend)
    x = sample_input(loaded.config, *scale.infer_shape).to(device)
    ids = sample_ids(scale.infer_shape)
    batch_ids = [ids] * scale.infer_batch

    def bf16() -> torch.Tensor:
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            return ref(x)

    paths: dict[str, Callable[[], object]] = {
        "reference (fp32, NCHW)": lambda: ref(x),
        "app: Predictor.predict (uint8 in/out)": lambda: predictor.predict(ids),
        f"app: Predictor.predict_batch ×{scale.infer_batch}": lambda: predictor.predict_batch(batch_ids),
        "reference + bf16 autocast": bf16,
        "reference + torch.compile": lambda: compiled(x),
    }
    with torch.inference_mode():
        expected = ref(x).float()
        diffs = {"reference + bf16 autocast": float((bf16().float() - expected).abs().max()),
                 "reference + torch.compile": float((compiled(x).float() - expected).abs().max())}
        photo = torch.from_numpy(predictor.predict(ids)).permute(2, 0, 1)[None].float().to(device) / 127.5 - 1
        diffs["app: Predictor.predict (uint8 in/out)"] = float((photo - expected).abs().max())
        times, setup = timed(paths, device, max(2, scale.warmup), scale.repeats * 2)
    setup["app: Predictor.predict (uint8 in/out)"] += app_setup
    base = statistics.median(times["reference (fp32, NCHW)"])
    rows = []
    for name, values in times.items():
        per_map = 1 / scale.infer_batch if "predict_batch" in name else 1.0
        median = statistics.median(values) * per_map
        diff = diffs.get(name)
        rows.append(Row("inference", name + (" (per map)" if per_map != 1.0 else ""),
                        scale.infer_batch if per_map != 1.0 else 1, median * 1000, p95(values) * per_map * 1000,
                        f"{1 / median:.1f} maps/s", base / median,
                        peak_mib(device) if name.startswith("reference (") else None, setup[name],
                        f"max abs diff {diff:.1e}" if diff is not None else ""))
    return rows


# ------------------------------------------------------------------------------------ panel

def panel_config(scale: Scale) -> Any:
    from core.config import DataConfig, DiscriminatorConfig, GeneratorConfig, RunConfig, TrainConfig
    from core.train.presets import PRESETS

    if not scale.dry_run:
        cfg = PRESETS["paper"].build()
        return cfg.replace(name="gpu-check-panel", train=_replace(cfg.train, device="cuda", sample_every=100,
                                                                   checkpoint_every=100_000))
    return RunConfig(name="gpu-check-panel", generator=GeneratorConfig(depth=3, ngf=4, dropout=False),
                     discriminator=DiscriminatorConfig(ndf=4, n_layers=2),
                     data=DataConfig(path="synthetic", format="synthetic", load_size=(36, 36), crop_size=(32, 32),
                                     synthetic_count=64, val_fraction=0.0),
                     train=TrainConfig(batch_size=2, epochs=100_000, epochs_decay=0, sample_every=5,
                                       checkpoint_every=100_000, device="cpu"))


def _replace(obj: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(obj, **changes)


def panel_child(scale: Scale, out: Path) -> int:
    """In its own process (offscreen Qt): the panel trains for scale.panel_seconds, then stops."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from core.train.events import Step
    from core.train.loop import train
    from desktop.training import TrainingPanel

    app = QApplication.instance() or QApplication([])
    device = torch.device(scale.device)
    step_times: list[float] = []

    def timed_train(*args: Any, **kwargs: Any) -> Iterator[Any]:  # the worker's event generator
        for event in train(*args, **kwargs):
            if isinstance(event, Step):
                step_times.append(time.perf_counter())
            yield event

    with tempfile.TemporaryDirectory(prefix="roadstudio-gpucheck-panel-") as tmp:
        panel = TrainingPanel(Path(tmp), train_fn=timed_train)
        panel.resize(1200, 900)
        panel.show()
        ids = np.full((256, 512), 7, np.uint8)
        ids[:90] = 23
        ids[150:190, 260:360] = 26
        panel.set_canvas_labels(ids)
        # Counted while steps flow (model build and CUDA start-up are not GUI stalls).
        meter = StallMeter(5, counting=lambda: len(step_times) > 1)
        meter.start()
        cfg = panel_config(scale)
        # Launch a config directly, as the form's Start button does (the form is tested elsewhere).
        panel._launch(cfg, Path(tmp) / cfg.name, resume=False)  # noqa: SLF001 - no public 'start this config'
        started = time.perf_counter()
        first: float | None = None
        while panel.is_running:
            app.processEvents()
            time.sleep(0.001)
            if first is None and step_times:
                first = time.perf_counter()
            if first is not None and time.perf_counter() - first >= scale.panel_seconds:
                panel.stop_run()
                break
            if first is None and time.perf_counter() - started > 600:
                break
        timed_steps = [t for t in step_times if first is not None and t <= first + scale.panel_seconds]
        while panel.is_running:
            app.processEvents()
            time.sleep(0.005)
        meter.stop()
        panel.shutdown()
        rate = (len(timed_steps) - 1) / (timed_steps[-1] - timed_steps[0]) if len(timed_steps) > 1 else 0.0
        longest = meter.longest_ms
        result = {"steps": len(timed_steps), "steps_per_s": rate,
                  "longest_stall_ms": round(longest) if longest is not None else None,
                  "gpu_mib": peak_mib(device), "startup_s": (first - started) if first else None,
                  "batch": cfg.train.batch_size}
    atomic_write_text(out, json.dumps(result))
    return 0


def panel_rows(scale: Scale, tmp: Path) -> list[Row]:
    out = tmp / "panel.json"
    cmd = [sys.executable, "-m", "benchmarks.gpu_check", "--panel-child", str(out)]
    if scale.dry_run:
        cmd.append("--dry-run")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])))
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=scale.panel_seconds + 600)
    if done.returncode != 0 or not out.is_file():
        return [Row("panel", "training panel worker", note=f"FAILED (exit {done.returncode}): "
                    + done.stderr.strip().splitlines()[-1][:300] if done.stderr.strip() else "no output")]
    r = json.loads(out.read_text())
    stall = f"longest GUI stall {r['longest_stall_ms']} ms" if r["longest_stall_ms"] is not None else "no GUI ticks"
    return [Row("panel", f"training panel worker, {'tiny dry-run config' if scale.dry_run else 'paper preset'}, "
                f"{scale.panel_seconds:.0f} s", r["batch"], None, None, f"{r['steps_per_s']:.2f} steps/s", None,
                r["gpu_mib"], r["startup_s"], f"{stall}; {r['steps']} steps")]


# ------------------------------------------------------------------------------------ torchrun

def ddp_child(scale: Scale, out: Path) -> int:
    """Under torchrun (1 process): an NCCL (gloo on CPU) group and the loop's step on DDP models."""
    import torch.distributed as dist

    from benchmarks.training_bench import ours_bare_step

    device = torch.device(scale.device, int(os.environ.get("LOCAL_RANK", "0"))) if scale.device == "cuda" \
        else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo", device_id=device
                            if device.type == "cuda" else None)
    try:
        step = ours_bare_step(scale.ngf, scale.batches[0], device, size=scale.size, depth=scale.depth,
                              ndf=scale.ndf, ddp=True)
        times, setup = timed({"ddp": step}, device, scale.warmup, max(3, scale.torchrun_steps // 2))
        result = {"backend": dist.get_backend(), "world_size": dist.get_world_size(),
                  "median_s": statistics.median(times["ddp"]), "p95_s": p95(times["ddp"]),
                  "setup_s": setup["ddp"], "gpu_mib": peak_mib(device), "batch": scale.batches[0]}
    finally:
        dist.destroy_process_group()
    atomic_write_text(out, json.dumps(result))
    return 0


def _torchrun_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TORCHELASTIC_",)) and k not in
           ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "GROUP_RANK")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def torchrun_rows(scale: Scale, tmp: Path) -> list[Row]:
    rows: list[Row] = []
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=1"]
    out = tmp / "ddp.json"
    cmd = launcher + ["-m", "benchmarks.gpu_check", "--ddp-child", str(out)] + (["--dry-run"] if scale.dry_run else [])
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=_torchrun_env(), capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - t0
    if done.returncode == 0 and out.is_file():
        r = json.loads(out.read_text())
        rows.append(Row("torchrun", f"1 process, {r['backend']} group, loop step on DDP models", r["batch"],
                        r["median_s"] * 1000, r["p95_s"] * 1000, f"{1 / r['median_s']:.2f} steps/s", None, r["gpu_mib"],
                        r["setup_s"], f"world size {r['world_size']}; whole launch {wall:.0f} s"))
    else:
        rows.append(Row("torchrun", "1 process, process group + DDP",
                        note=f"FAILED (exit {done.returncode}): {done.stderr.strip()[-300:]}"))
    run_dir = tmp / "torchrun-train"
    if scale.dry_run:
        args = ["--data", "synthetic", "--depth", "3", "--ngf", "4", "--ndf", "4", "--d-layers", "2",
                "--crop-size", "32", "--load-size", "36", "--synthetic-count", "16", "--no-dropout",
                "--device", "cpu"]
    else:
        args = ["--preset", "paper", "--data", "synthetic", "--device", "cuda"]
    steps = scale.torchrun_steps
    cmd = launcher + ["-m", "core", "train", *args, "--run-dir", str(run_dir), "--max-steps", str(steps),
                      "--checkpoint-every", str(steps), "--sample-every", str(steps)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=_torchrun_env(), capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - t0
    metrics = run_dir / "metrics.jsonl"
    if done.returncode == 0 and metrics.is_file():
        events = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
        step_s = [e["step_time"] + e["data_time"] for e in events if e.get("kind") == "step"][1:]
        median = statistics.median(step_s) if step_s else float("nan")
        finished = [e for e in events if e.get("kind") == "finished"]
        what = f"1 process, roadstudio-cli train {'(tiny)' if scale.dry_run else '--preset paper'}"
        rows.append(Row("torchrun", what,
                        None, median * 1000, p95(step_s) * 1000 if step_s else None, f"{1 / median:.2f} steps/s",
                        None, None, None, f"{len(step_s) + 1} steps, finished: "
                        f"{finished[-1]['reason'] if finished else 'no'}; whole launch {wall:.0f} s"))
    else:
        rows.append(Row("torchrun", "1 process, roadstudio-cli train",
                        note=f"FAILED (exit {done.returncode}): {done.stderr.strip()[-300:]}"))
    return rows


# ------------------------------------------------------------------------------------ the table

def _fmt(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    scale = result["scale"]
    dry = " — DRY RUN on the CPU (tiny sizes; the numbers mean nothing)" if scale["dry_run"] else ""
    title = "### GPU check" + dry
    lines = [title, ""]
    if result.get("no_gpu_note"):
        lines += [result["no_gpu_note"], ""]
    lines += [
        f"Machine: {m['gpu'] or 'no GPU'}; {m['cpu']}, {m['logical_cpus']} logical CPUs, torch {m['torch']}, "
        f"Python {m['python']}; load average at start {m['load_average_1min']}.",
        f"Training: unet_256 ngf {scale['ngf']} + 70×70 PatchGAN ndf {scale['ndf']}, {scale['size']}×{scale['size']}, "
        f"{scale['repeats']} timed steps per path after {scale['warmup']} warm-up steps (set-up s = the warm-up, "
        f"compiles included), interleaved. Inference: {scale['infer_shape'][0]}×{scale['infer_shape'][1]}. "
        "× = reference-style fp32 median / row median, within one section and batch size.",
        "",
        "| section | what | batch | median ms | p95 ms | rate | × reference | peak GPU MiB | set-up s | notes |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in result["rows"]:
        lines.append(f"| {r['section']} | {r['what']} | {'' if r['batch'] is None else r['batch']} | "
                     f"{_fmt(r['median_ms'], '.1f')} | {_fmt(r['p95_ms'], '.1f')} | {r['rate']} | "
                     f"{_fmt(r['vs_reference'], '.2f')} | {_fmt(r['gpu_mib'], '.0f')} | {_fmt(r['setup_s'], '.1f')} | "
                     f"{r['note']} |")
    for note in result.get("skipped", []):
        lines.append(f"\nSkipped: {note}")
    big = [r for r in result["rows"] if r["section"] == "training" and r["batch"] == max(scale["batches"])
           and r["vs_reference"] is not None]
    if big and not scale["dry_run"]:
        best = max(big, key=lambda r: r["vs_reference"])
        lines += ["", f"Target ≥ 3× the reference-style fp32 step at batch {max(scale['batches'])}: best "
                      f"{best['vs_reference']:.2f}× ({best['what']}) — "
                      f"{'met' if best['vs_reference'] >= 3 else 'not met'}."]
    lines += ["", f"Total {result['seconds']:.0f} s (budget {result['budget_s']:.0f} s)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="the same code paths on the CPU, tiny sizes")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "gpu_check.json")
    parser.add_argument("--budget-s", type=float, default=480.0,
                        help="skip sections that would end later (default 480)")
    parser.add_argument("--only", nargs="+", choices=("training", "inference", "panel", "torchrun"), default=None)
    parser.add_argument("--panel-child", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--ddp-child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    no_gpu_note = ""
    if not args.dry_run and not torch.cuda.is_available():
        no_gpu_note = (f"No CUDA GPU here (torch {torch.__version__}, CUDA build {torch.version.cuda or 'none'}): "
                       "ran the dry run instead, the same code paths on the CPU with tiny sizes.")
        print(no_gpu_note, file=sys.stderr)
    scale = DRY if args.dry_run or no_gpu_note else FULL
    if args.panel_child is not None:
        return panel_child(scale, args.panel_child)
    if args.ddp_child is not None:
        return ddp_child(scale, args.ddp_child)
    start = time.perf_counter()
    result: dict[str, Any] = {"machine": machine(), "scale": asdict(scale), "rows": [], "skipped": [],
                              "budget_s": args.budget_s, "no_gpu_note": no_gpu_note}
    # rough shares of the budget each section needs on the GPU, to skip rather than overrun
    # The quick proofs first, training (its compiles take minutes on a GPU) last, batch 16 (the
    # target's) before batch 1. Shares: rough parts of the budget a section needs, to skip it
    # rather than overrun.
    deadline = start + args.budget_s if not scale.dry_run else None
    sections: list[tuple[str, float, Callable[[Path], list[Row]]]] = [
        ("inference", 0.05, lambda tmp: inference_rows(scale)),
        ("torchrun", 0.1, lambda tmp: torchrun_rows(scale, tmp)),
        ("panel", 0.2, lambda tmp: panel_rows(scale, tmp)),
        ("training", 0.4, lambda tmp: training_rows(scale, deadline)),
    ]
    with tempfile.TemporaryDirectory(prefix="roadstudio-gpucheck-") as tmp:
        for name, share, run in sections:
            if args.only and name not in args.only:
                continue
            elapsed = time.perf_counter() - start
            if not scale.dry_run and elapsed + share * args.budget_s > args.budget_s:
                result["skipped"].append(f"{name} (would end after the {args.budget_s:.0f} s budget; "
                                         f"{elapsed:.0f} s used)")
                continue
            print(f"... {name} (at {time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
            try:
                result["rows"] += [asdict(r) for r in run(Path(tmp))]
            except Exception as exc:  # noqa: BLE001 - one failing section must not hide the others
                result["rows"].append(asdict(Row(name, "section failed", note=f"{type(exc).__name__}: {exc}"[:300])))
    finish(result, start, markdown, args.json)
    failed = [r for r in result["rows"] if "FAILED" in r["note"] or r["what"] == "section failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
