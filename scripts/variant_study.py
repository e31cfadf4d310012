#!/usr/bin/env python
"""Score the arms of a variant study on validation data only, and print one markdown table.

    python scripts/variant_study.py runs/study/A_base runs/study/B_rare ... [--step 3000] [--json OUT]
    python scripts/variant_study.py NAME=path/to/weights.safetensors ...

Each arm is a run folder (its step checkpoint `--step`, default: last) or NAME=FILE. Scores:
- `roadstudio-cli eval` on the CamVid *val* split (101 real frames; never the test split, which
  reports once, at the end): the FCN-score of the renderings and its ratio to the real photos;
- `roadstudio-cli eval --painted benchmarks/painted_set` (39 painted scenes): the FCN-score of the
  renderings against the painted labels (no photos: absolute numbers, compare arms with each other).
Where a run also wrote raw (non-averaged) weights beside an EMA checkpoint, both are scored.
Results are cached per checkpoint file in `<out>.cache.json`, so re-running adds only new arms.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CAMVID = REPO.parent / "shared" / "data" / "camvid"
PAINTED = REPO / "benchmarks" / "painted_set"


def _checkpoints(spec: str, step: int | None) -> list[tuple[str, Path]]:
    if "=" in spec:
        name, path = spec.split("=", 1)
        return [(name, Path(path))]
    run = Path(spec)
    ck = run / "checkpoints"
    main = ck / (f"step_{step:07d}.safetensors" if step else "last.safetensors")
    found = [(run.name, main)]
    raw = main.with_name(main.stem + ".raw.safetensors")
    if raw.exists():
        found = [(run.name + " (EMA)", main), (run.name + " (raw)", raw)]
    return found


def _eval(args: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        subprocess.run([sys.executable, "-m", "core", "eval", *args, "--json", str(out)], cwd=REPO, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        return json.loads(out.read_text())


def _key(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def score(path: Path, cache: dict, segmenter: str | None) -> dict:
    key = _key(path) + (f"|{segmenter}" if segmenter else "")
    if key not in cache:
        seg = ["--segmenter", segmenter] if segmenter else []
        val = _eval(["--checkpoint", str(path), "--data", str(CAMVID), "--split", "val", *seg])
        painted = _eval(["--checkpoint", str(path), "--painted", str(PAINTED), *seg])
        g, p = val["results"]["generated"], painted["results"]["generated"]
        cache[key] = {
            "val": {k: g[k] for k in ("pixel_acc", "class_acc", "miou")},
            "val_ratio": val["ratio_generated_to_real"],
            "checkerboard": g["checkerboard"],
            "painted": {k: p[k] for k in ("pixel_acc", "class_acc", "miou")},
            "painted_iou": p["per_class_iou"],
        }
    return cache[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("arms", nargs="+", help="run folders or NAME=weights.safetensors")
    parser.add_argument("--step", type=int, default=None, help="score this step's checkpoint (default: last)")
    parser.add_argument("--json", type=Path, default=REPO / "runs" / "study" / "scores.json")
    parser.add_argument("--segmenter", default=None, help="passed to eval --segmenter")
    args = parser.parse_args()
    cache_path = args.json.with_suffix(".cache.json")
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    rows = []
    for spec in args.arms:
        for name, path in _checkpoints(spec, args.step):
            if not path.exists():
                print(f"skip {name}: no {path}", file=sys.stderr)
                continue
            result = score(path, cache, args.segmenter)
            cache_path.write_text(json.dumps(cache, indent=1))
            rows.append((name, result))
            print(f"scored {name}", file=sys.stderr)
    args.json.write_text(json.dumps(dict(rows), indent=1))
    print("| arm | val pixel acc (/real) | val class acc (/real) | val mIoU (/real) | painted pixel acc | "
          "painted class acc | painted mIoU |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        v, q, p = r["val"], r["val_ratio"], r["painted"]
        print(f"| {name} | {v['pixel_acc']:.3f} ({q['pixel_acc']:.2f}) | {v['class_acc']:.3f} ({q['class_acc']:.2f}) | "
              f"{v['miou']:.3f} ({q['miou']:.2f}) | {p['pixel_acc']:.3f} | {p['class_acc']:.3f} | {p['miou']:.3f} |")


if __name__ == "__main__":
    main()
