"""`python -m benchmarks [--quick] [--only NAME ...] [--write-docs] [--list]`
`python -m benchmarks --gpu [--dry-run] [--write-docs]`: the GPU check alone (benchmarks/gpu_check.py)

Runs every benchmark script in this folder (`*_bench.py`, `bench_*.py`) in its own process
(offscreen Qt, the same Python), prints its markdown output, and records each run in
benchmarks/results/<name>.run.json (stdout, exit code, seconds; scripts may write richer JSON of
their own there). `--quick` is passed to the scripts that accept it. `--write-docs` puts every
script's latest output into docs/performance.md, one section per script, keeping the sections
of scripts not run this time and the hand-written text above the first section. A failing script
is reported and the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

from core.io.atomic import atomic_write_text

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
DOC = REPO / "docs" / "performance.md"
PER_SCRIPT_TIMEOUT_S = 20 * 60

DOC_HEADER = """# Performance

Measured by `python -m benchmarks --write-docs` (or `roadstudio-cli bench --write-docs`); each
section below is the latest output of one benchmark script, with the machine it ran on. Every
figure is a median (and p95 where given) of repeated runs after warm-up; every speed-up is a
ratio against a baseline measured in the same run. Nothing here is asserted by the tests.
Timings on a shared machine vary from run to run; compare ratios within one section.
"""


def discover() -> list[Path]:
    found = {p for pattern in ("*_bench.py", "bench_*.py") for p in HERE.glob(pattern)}
    return sorted(found, key=lambda p: p.stem)


def bench_name(path: Path) -> str:
    stem = path.stem
    if stem.endswith("_bench"):
        return stem[: -len("_bench")]
    return stem[len("bench_"):] if stem.startswith("bench_") else stem


def module_of(path: Path) -> str:
    """benchmarks/x_bench.py runs as `python -m benchmarks.x_bench` (no sys.path preambles)."""
    return f"benchmarks.{path.stem}"


def run_script(path: Path, quick: bool) -> dict[str, object]:
    cmd = [sys.executable, "-m", module_of(path)]
    if quick and "--quick" in path.read_text(encoding="utf-8", errors="replace"):
        cmd.append("--quick")
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=PER_SCRIPT_TIMEOUT_S)
        rc, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        rc, out, err = 124, partial, "timed out"
    return {"name": bench_name(path), "script": path.name, "command": " ".join(cmd[1:]), "rc": rc,
            "seconds": time.perf_counter() - start, "stdout": out, "stderr_tail": err[-4000:],
            "python": platform.python_version(), "when": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def write_docs(runs: list[dict[str, object]]) -> None:
    sections: dict[str, str] = {}
    header = DOC_HEADER
    footer = ""
    if DOC.is_file():
        text = DOC.read_text(encoding="utf-8")
        # hand-written text above the first section and below the last (analysis, targets,
        # measurements of other scripts) is kept as it is
        first = text.find("<!-- bench:")
        header = (text[:first] if first >= 0 else text).rstrip() + "\n"
        matches = list(re.finditer(r"<!-- bench:(\S+) -->\n(.*?)<!-- /bench:\1 -->", text, re.S))
        for m in matches:
            sections[m.group(1)] = m.group(2)
        if matches:
            footer = text[matches[-1].end():].strip()
    for run in runs:
        if run["rc"] == 0 and str(run["stdout"]).strip():
            body = f"## {run['name']}\n\n`python -m benchmarks.{Path(str(run['script'])).stem}` — {run['when']}, " \
                   f"{run['seconds']:.0f} s\n\n{str(run['stdout']).strip()}\n\n"
            sections[str(run["name"])] = body
    parts = [header, ""]
    for name in sorted(sections):
        parts.append(f"<!-- bench:{name} -->\n{sections[name]}<!-- /bench:{name} -->\n")
    if footer:
        parts.append(footer + "\n")
    atomic_write_text(DOC, "\n".join(parts))


def run_gpu_check(dry_run: bool, docs: bool) -> int:
    """The GPU check in its own process, its table printed (and written to the docs: not a dry run's)."""
    path = HERE / "gpu_check.py"
    cmd = [sys.executable, "-m", module_of(path)] + (["--dry-run"] if dry_run else [])
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)  # progress on stderr, live
    run = {"name": "gpu_check", "script": path.name, "command": " ".join(cmd[1:]), "rc": done.returncode,
           "seconds": time.perf_counter() - start, "stdout": done.stdout, "stderr_tail": "",
           "python": platform.python_version(), "when": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RESULTS / "gpu_check.run.json", json.dumps(run, indent=2))
    print(done.stdout.rstrip())
    if docs:
        if "DRY RUN" in done.stdout:
            print("not writing docs/performance.md: a dry run's numbers mean nothing", file=sys.stderr)
        else:
            write_docs([run])
            print(f"wrote {DOC.relative_to(REPO)}", file=sys.stderr)
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Run Road Studio's benchmarks.")
    parser.add_argument("--quick", action="store_true", help="pass --quick to the scripts that accept it")
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME", help="e.g. inference data canvas")
    parser.add_argument("--write-docs", action="store_true", help="update docs/performance.md")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--gpu", action="store_true",
                        help="run only the GPU check (benchmarks/gpu_check.py; ~8 minutes on one GPU)")
    parser.add_argument("--dry-run", action="store_true",
                        help="with --gpu: the same code paths on the CPU with tiny sizes (what the tests run)")
    args = parser.parse_args(argv)
    if args.dry_run and not args.gpu:
        parser.error("--dry-run goes with --gpu")
    if args.gpu:
        return run_gpu_check(args.dry_run, args.write_docs)
    scripts = discover()
    if args.list:
        for path in scripts:
            print(f"{bench_name(path):<20} benchmarks/{path.name}")
        return 0
    if args.only:
        wanted = set(args.only)
        unknown = wanted - {bench_name(p) for p in scripts}
        if unknown:
            print(f"error: unknown benchmark(s): {', '.join(sorted(unknown))} (see --list)", file=sys.stderr)
            return 2
        scripts = [p for p in scripts if bench_name(p) in wanted]
    RESULTS.mkdir(parents=True, exist_ok=True)
    runs = []
    failed = []
    for i, path in enumerate(scripts, 1):
        print(f"== [{i}/{len(scripts)}] {path.name}", file=sys.stderr, flush=True)
        run = run_script(path, args.quick)
        runs.append(run)
        atomic_write_text(RESULTS / f"{run['name']}.run.json", json.dumps(run, indent=2))
        if run["rc"] == 0:
            print(str(run["stdout"]).rstrip() + "\n", flush=True)
        else:
            failed.append(str(run["name"]))
            print(f"!! {path.name} failed (exit {run['rc']}):\n{str(run['stderr_tail'])[-1500:]}\n", flush=True)
    if args.write_docs:
        write_docs(runs)
        print(f"wrote {DOC.relative_to(REPO)}", file=sys.stderr)
    if failed:
        print(f"error: {len(failed)} benchmark(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
