"""Batch inference as a user runs it: whole processes, a folder of label maps in, PNGs out.

    python -m benchmarks.batch_infer_bench [--quick] [--counts 24 200] [--repeats N] [--json PATH]

Same weights (unet_256, ngf 64, BatchNorm statistics drawn away from (0, 1) as after training),
same label-id PNGs at 256×512, each command timed from process start to exit, interleaved
(reference, ours, reference, ours, ...) so machine noise hits both alike:

  reference  a plain script in the style of the pix2pix reference's test.py: import torch, build
             the generator, load a .pth state dict; per file: read the PNG, one-hot with torch,
             forward in eval/no_grad (NCHW, batch 1), convert, write the PNG; one after another
  ours       `python -m core infer --checkpoint W.safetensors --input DIR --output DIR
             --device cpu` with its defaults (core.render.batch_render: batches, reader/writer threads,
             ONNX Runtime only when it pays back; provenance chunks in every PNG)

Before the timed rounds, `ours` runs once with an empty fast-path cache (its "cold" row: a first
job on this machine with these weights); the timed rounds then use the cache it left, as every
later job of a user does. Outputs are compared PNG against PNG: the largest difference in uint8
steps and the share of pixels that differ (float outputs within 1e-3 of each other are at most
one uint8 step apart after rounding; the in-process float differences are in the inference
benchmark). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from benchmarks.common import finish, format_load, machine
from benchmarks.inference_bench import trained_like
from core.weights.checkpoints import save_weights
from core.io.imageio import write_label_ids_png
from core.labels import PALETTE_IDS

REPO = Path(__file__).resolve().parent.parent

SHAPE = (256, 512)
NGF = 64

# The reference-style script. It imports only torch, numpy, Pillow and the model builder (the
# same architecture code the app uses; core.labels no longer pulls in torchvision).
REFERENCE_SCRIPT = textwrap.dedent('''
    import sys
    from pathlib import Path

    import numpy as np
    import torch
    from PIL import Image

    from core.config import GeneratorConfig
    from core.labels import ID_TO_PALETTE_INDEX, NUM_PALETTE_CLASSES
    from core.models import build_generator

    weights, src, dst = (Path(a) for a in sys.argv[1:4])
    net = build_generator(GeneratorConfig(ngf=int(sys.argv[4]), depth=8, norm="batch", input_encoding="onehot"))
    net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    net.eval()
    dst.mkdir(parents=True, exist_ok=True)
    index = torch.from_numpy(ID_TO_PALETTE_INDEX.astype(np.int64))
    for path in sorted(src.glob("*.png")):
        ids = torch.from_numpy(np.array(Image.open(path), dtype=np.int64))
        x = torch.nn.functional.one_hot(index[ids], NUM_PALETTE_CLASSES).permute(2, 0, 1).float()[None]
        with torch.no_grad():
            y = net(x)
        photo = ((y[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
        Image.fromarray(photo).save(dst / (path.stem + ".png"))
''')


def make_inputs(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        # street-like bands of classes with blocky objects: compressible like real label maps
        ids = np.full(SHAPE, 7, np.uint8)
        ids[: SHAPE[0] // 3] = 23
        blocks = rng.choice(PALETTE_IDS, size=(SHAPE[0] // 32, SHAPE[1] // 32))
        middle = slice(SHAPE[0] // 3, 2 * SHAPE[0] // 3)
        ids[middle] = np.kron(blocks, np.ones((32, 32), np.uint8))[middle]
        write_label_ids_png(folder / f"map_{i:04d}_labelIds.png", ids)


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stderr


def compare(a: Path, b: Path) -> tuple[int, float, int]:
    """(largest uint8 difference, share of differing pixel values, files compared)."""
    worst, differing, total, files = 0, 0, 0, 0
    for pa in sorted(a.glob("*.png")):
        x = np.asarray(Image.open(pa).convert("RGB"), dtype=np.int16)
        y = np.asarray(Image.open(b / pa.name).convert("RGB"), dtype=np.int16)
        d = np.abs(x - y)
        worst = max(worst, int(d.max()))
        differing += int((d > 0).sum())
        total += d.size
        files += 1
    return worst, differing / max(1, total), files


def decision(stderr: str) -> str:
    for line in stderr.splitlines():
        if line.startswith("path: "):
            return line[len("path: "):].strip()
    return ""


def bench_count(count: int, tmp: Path, weights_pth: Path, weights_st: Path, repeats: int,
                env: dict[str, str]) -> dict[str, Any]:
    src = tmp / f"maps-{count}"
    make_inputs(src, count)
    ref_cmd = [sys.executable, str(tmp / "reference_infer.py"), str(weights_pth), str(src), str(tmp / f"ref-{count}"),
               str(NGF)]
    ours_cmd = [sys.executable, "-m", "core", "infer", "--checkpoint", str(weights_st), "--input", str(src),
                "--output", str(tmp / f"ours-{count}"), "--device", "cpu"]
    cold_env = dict(env, ROADSTUDIO_CACHE_DIR=str(tmp / f"cache-cold-{count}"))
    print(f"... {count} maps: ours, cold cache", file=sys.stderr, flush=True)
    cold_s, cold_err = run(ours_cmd, cold_env)
    warm_env = dict(env, ROADSTUDIO_CACHE_DIR=str(tmp / f"cache-cold-{count}"))  # what the cold run left
    times: dict[str, list[float]] = {"reference": [], "ours": []}
    decisions: list[str] = []
    for i in range(repeats):
        print(f"... {count} maps: round {i + 1}/{repeats}", file=sys.stderr, flush=True)
        times["reference"].append(run(ref_cmd, env)[0])
        seconds, err = run(ours_cmd, warm_env)
        times["ours"].append(seconds)
        decisions.append(decision(err))
    worst, share, files = compare(tmp / f"ref-{count}", tmp / f"ours-{count}")
    ref = statistics.median(times["reference"])
    return {"count": count, "repeats": repeats, "times_s": times, "cold_s": cold_s,
            "cold_decision": decision(cold_err), "decisions": decisions,
            "reference_s": ref, "ours_s": statistics.median(times["ours"]),
            "speedup": ref / statistics.median(times["ours"]),
            "speedup_best": min(times["reference"]) / min(times["ours"]),
            "cold_speedup": ref / cold_s, "max_diff_steps": worst, "differing_share": share, "files": files}


TARGETS = {24: 1.2, 200: 1.6}


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        f"### Batch inference, whole process (unet_256 ngf {NGF}, {SHAPE[0]}×{SHAPE[1]}, CPU)",
        "",
        f"Machine: {m['cpu']}, {m['logical_cpus']} logical CPUs, torch {m['torch']}, onnxruntime {m['onnxruntime']}, "
        f"Python {m['python']}; load average at start {format_load(m['load_average_1min'])}, at end "
        f"{format_load(result['load_average_end'])} (above the CPU count, other processes competed for the cores).",
        "Each command timed from process start to exit (imports, weights, every file read and written), "
        "reference and ours alternating; medians of the rounds; × = reference / ours.",
        "",
        "| maps | reference s | ours s | × reference (median) | × (best of each) | target | ours cold-cache s (×) "
        "| max diff (uint8 steps) | differing values |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["runs"]:
        target = TARGETS.get(r["count"])
        lines.append(
            f"| {r['count']} | {r['reference_s']:.1f} | {r['ours_s']:.1f} | **{r['speedup']:.2f}** | "
            f"{r['speedup_best']:.2f} | {'≥ ' + format(target, '.1f') if target else ''} | "
            f"{r['cold_s']:.1f} ({r['cold_speedup']:.2f}) | {r['max_diff_steps']} | {r['differing_share']:.2%} |")
    lines += ["", "Paths `infer` chose (its own `path:` line):"]
    for r in result["runs"]:
        lines.append(f"- {r['count']} maps, cold cache: {r['cold_decision'] or 'n/a'}")
        lines.append(f"- {r['count']} maps, later runs: {r['decisions'][-1] if r['decisions'] else 'n/a'}")
    lines += ["", f"{result['runs'][0]['repeats'] if result['runs'] else 0} timed round(s) per count; "
                  f"total {result['seconds']:.0f} s."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one timed round per count")
    parser.add_argument("--counts", type=int, nargs="+", default=[24, 200])
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds per count (default 3, quick 1)")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "batch_infer.json")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    repeats = args.repeats or (1 if args.quick else 3)
    result: dict[str, Any] = {"machine": machine(), "runs": []}
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    with tempfile.TemporaryDirectory(prefix="roadstudio-batchbench-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "reference_infer.py").write_text(REFERENCE_SCRIPT, encoding="utf-8")
        loaded = trained_like(NGF)
        torch.save(loaded.model.state_dict(), tmp / "latest_net_G.pth")
        save_weights(tmp / "weights.safetensors", loaded.model, loaded.config, {"run": "batch bench"})
        del loaded
        for count in args.counts:
            result["runs"].append(bench_count(count, tmp, tmp / "latest_net_G.pth", tmp / "weights.safetensors",
                                              repeats, env))
    finish(result, start, markdown, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
