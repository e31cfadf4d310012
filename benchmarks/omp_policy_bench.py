"""OpenMP wait policy and thread count on a busy machine (issue 18 §4): what one core held by
another process costs a training step and an inference, per policy.

    python -m benchmarks.omp_policy_bench [--quick] [--rounds N] [--json PATH]

Each measurement is a fresh Python process (OMP_WAIT_POLICY and OMP_NUM_THREADS are read once,
when libgomp loads) that times, after warm-up, the default-model training step (batch 1, the
loop's `_optimize` as benchmarks/train_step_bench.py runs it) and the default model's
inference at 256×512 (eager PyTorch and ONNX Runtime, the paths `roadstudio-cli infer` uses).
Settings run interleaved, round by round; "busy" rows run beside a `while 1: pass` process at
the same nice level as the measurement, started before and stopped after the measurement.
Ratios are against passive waiting with the default threads on the same machine state (quiet
or busy) in the same round order; medians over rounds. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import os, sys, time, statistics, json
sys.path.insert(0, {repo!r})
import torch
import numpy as np
from benchmarks.train_step_bench import VARIANTS, build_path, preset
from core.render.infer import Predictor
out = {{"threads": torch.get_num_threads()}}
path = build_path(VARIANTS["now (loop)"], preset(1), torch.device("cpu"))
for _ in range(2):
    path.step()
times = []
for _ in range({steps}):
    t0 = time.perf_counter(); path.step(); times.append(time.perf_counter() - t0)
out["train"] = statistics.median(times)
ids = np.full((256, 512), 7, np.uint8); ids[:100] = 23; ids[100:160, 50:200] = 11; ids[170:220, 300:400] = 26
for backend in ("eager", "onnxruntime"):
    p = Predictor.from_path({repo!r} + "/resources/models/default.safetensors", "cpu", backend=backend,
                            background_build=False)
    p.prepare(256, 512, wait=True)
    for _ in range(3):
        p.predict(ids)
    times = []
    for _ in range({infers}):
        t0 = time.perf_counter(); p.predict(ids); times.append(time.perf_counter() - t0)
    out["infer_" + backend] = statistics.median(times)
    p.close()
print(json.dumps(out))
"""

SETTINGS = {  # name -> environment
    "passive, default threads": {"OMP_WAIT_POLICY": "PASSIVE"},
    "unset (before; libgomp spins first)": {},
    "passive, 1 thread": {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"},
}
METRICS = ("train", "infer_eager", "infer_onnxruntime")


def measure(env_extra: dict[str, str], steps: int, infers: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")}
    env.update(env_extra, PYTHONPATH=str(REPO))
    code = CHILD.format(repo=str(REPO), steps=steps, infers=infers)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None, help="default 3 (quick 2)")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "omp_policy.json")
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 3)
    steps, infers = (4, 5) if args.quick else (6, 8)
    sys.path.insert(0, str(REPO))
    start = time.perf_counter()
    results: dict[str, dict[str, list[float]]] = {}
    loads: list[float] = []
    for r in range(rounds):
        for busy in (False, True):
            names = list(SETTINGS)
            names = names[r % len(names):] + names[: r % len(names)]
            for name in names:
                print(f"... round {r + 1}/{rounds} {'busy' if busy else 'quiet'}: {name}", file=sys.stderr, flush=True)
                loads.append(os.getloadavg()[0])
                spinner = (subprocess.Popen([sys.executable, "-c", "while 1: pass"]) if busy else None)
                try:
                    got = measure(SETTINGS[name], steps, infers)
                finally:
                    if spinner is not None:
                        spinner.kill()
                        spinner.wait()
                row = results.setdefault(f"{'busy' if busy else 'quiet'}|{name}", {m: [] for m in METRICS})
                for m in METRICS:
                    row[m].append(got[m])
    medians = {key: {m: statistics.median(v) for m, v in row.items()} for key, row in results.items()}
    lines = [
        "### OpenMP wait policy on a busy machine (default model)",
        "",
        f"{os.cpu_count()} logical CPUs; 1-minute load average during the runs {min(loads):.1f}-{max(loads):.1f} "
        "(other engineers' jobs included). *busy*: beside a `while 1: pass` process at the same nice level. "
        "Train: default-model step, batch 1; infer: default model, 256×512. Medians of "
        f"{rounds} fresh processes per row; × = passive/default threads (same machine state) ÷ row.",
        "",
        "| machine | setting | train s/step | × | infer eager ms | × | infer ONNX Runtime ms | × |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, med in medians.items():
        state, name = key.split("|")
        base = medians[f"{state}|passive, default threads"]
        cells = []
        for m in METRICS:
            scale, fmt = (1, "{:.3f}") if m == "train" else (1000, "{:.0f}")
            cells += [fmt.format(med[m] * scale), f"{base[m] / med[m]:.2f}"]
        lines.append(f"| {state} | {name} | " + " | ".join(cells) + " |")
    busy_cost = {m: medians["busy|passive, default threads"][m] / medians["quiet|passive, default threads"][m]
                 for m in METRICS}
    unset = "unset (before; libgomp spins first)"
    active_cost = {m: medians[f"busy|{unset}"][m] / medians[f"quiet|{unset}"][m] for m in METRICS}
    from core.threads import free_core_threads, physical_cores

    fewest, most = free_core_threads(physical_cores(), max(loads)), free_core_threads(physical_cores(), min(loads))
    lines += ["", f"The CLI now (core/threads.py) picks passive waiting and {most}"
              f"-{fewest} thread(s) at these load averages "
              f"({physical_cores()} physical cores)."]
    lines += ["", "One busy core costs (busy ÷ quiet): passive "
              + ", ".join(f"{m} {v:.2f}×" for m, v in busy_cost.items())
              + "; unset " + ", ".join(f"{m} {v:.2f}×" for m, v in active_cost.items())
              + f". Total {time.perf_counter() - start:.0f} s."]
    text = "\n".join(lines)
    print(text)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    from core.io.atomic import atomic_write_text

    atomic_write_text(args.json, json.dumps({"medians": medians, "raw": results, "loads": loads, "markdown": text},
                                            indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
