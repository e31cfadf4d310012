"""Photo segmentation latency: a 480×360 photo -> label ids, as `roadstudio-cli segment` does it.

    python -m benchmarks.segmenter_bench [--quick] [--repeats N] [--threads N] [--candidate FILE] [--json PATH]

Rows: the bundled 19-class segmenter (`segmenter19.safetensors`, target ≤ 250 ms on this machine)
and, as the baseline measured in the same run, the 11-class FCN-score judge (`segmenter.safetensors`).
Each repeat is one real CamVid test photo (uint8 480×360, already decoded) through
Segmenter.predict_ids: resize to the working size, forward, logits back to 480×360, argmax, ids.
The two segmenters alternate so machine noise hits both alike; median and p95 of the repeats after
two warm-up calls each; one torch thread unless --threads. `--candidate FILE` adds a row for another
segmenter file (a candidate to bundle), timed in the same rounds. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.common import machine, p95  # noqa: E402
from core.io.atomic import atomic_write_text  # noqa: E402
from core.eval.segmenter import Segmenter, bundled_segmenter_path  # noqa: E402
from core.eval.segnet import count_parameters  # noqa: E402
from core.io.imageio import read_rgb  # noqa: E402

PHOTO = REPO / "../shared/data/camvid/test/0001TP_008550.png"
TARGET_MS = 250.0


@dataclass
class _Row:
    title: str
    segmenter: Segmenter
    path: Path
    times: list[float] = field(default_factory=list)  # ms per call


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="7 repeats instead of 21")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--candidate", type=Path, default=None, help="also time this segmenter file")
    p.add_argument("--json", type=Path, default=REPO / "benchmarks/results/segmenter_bench.json")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    repeats = args.repeats or (7 if args.quick else 21)
    if PHOTO.is_file():
        photo, source = read_rgb(PHOTO), f"CamVid test {PHOTO.name}"
    else:  # no shared data here: a street-coloured stand-in of the same size
        photo = np.random.default_rng(0).integers(0, 256, (360, 480, 3), dtype=np.uint8)
        source = "random 480×360 pixels (CamVid not found)"
    rows: dict[str, _Row] = {}
    for key, title in (("city19", "segmenter19 (19 classes)"), ("camvid11", "segmenter (11 classes, baseline)")):
        path = bundled_segmenter_path(key)
        if path.is_file():
            seg = Segmenter.load(path)
            rows[key] = _Row(title, seg, path)
    if args.candidate is not None:
        rows["candidate"] = _Row(f"candidate {args.candidate.name}", Segmenter.load(args.candidate), args.candidate)
    if not rows:
        print("no bundled segmenter found")
        return 1
    for row in rows.values():
        for _ in range(2):
            row.segmenter.predict_ids(photo)
    for _ in range(repeats):
        for row in rows.values():
            t0 = time.perf_counter()
            ids = row.segmenter.predict_ids(photo)
            row.times.append((time.perf_counter() - t0) * 1000)
            assert ids.shape == photo.shape[:2]
    info = machine()
    base = statistics.median(rows["camvid11"].times) if "camvid11" in rows else None
    print("## Photo segmentation (480×360 photo -> label ids)\n")
    print(f"{source}; {repeats} repeats after 2 warm-up calls, alternating; {args.threads} torch thread(s); "
          f"{info['cpu']}, load average {info['load_average_1min']:.1f}\n")
    print("| segmenter | parameters | file | work size | median ms | p95 ms | × baseline | target |")
    print("|---|---|---|---|---|---|---|---|")
    results: dict[str, Any] = {}
    out = {"machine": info, "repeats": repeats, "photo": source, "rows": results}
    for key, row in rows.items():
        seg = row.segmenter
        med, tail = statistics.median(row.times), p95(row.times)
        h, w = seg.work_size(*photo.shape[:2])
        ratio = f"{med / base:.2f}" if base else "—"
        met = "met" if med <= TARGET_MS else "MISSED"
        target = f"≤ {TARGET_MS:.0f} ms: {met}" if key in ("city19", "candidate") else ""
        size_mb = row.path.stat().st_size / 1e6
        print(f"| {row.title} | {count_parameters(seg.model):,} | {size_mb:.1f} MB | {h}×{w} | {med:.1f} | "
              f"{tail:.1f} | {ratio} | {target} |")
        results[key] = {"median_ms": med, "p95_ms": tail, "times_ms": row.times, "file_mb": size_mb}
    if args.json:
        atomic_write_text(args.json, json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
