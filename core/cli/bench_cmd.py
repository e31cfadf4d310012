"""`roadstudio-cli bench`: run the benchmark suite of a source checkout (benchmarks/)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from core.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("bench", help="run the speed benchmarks (source checkout only)",
                              description="Run benchmarks/ (inference, data, canvas, training) and print "
                                          "markdown tables; JSON goes to benchmarks/results/.")
    p.add_argument("--quick", action="store_true", help="shorter runs")
    p.add_argument("--only", nargs="+", default=None, metavar="NAME", help="e.g. inference data")
    p.add_argument("--write-docs", action="store_true", help="update docs/performance.md")
    p.add_argument("--list", action="store_true", help="list the benchmarks")
    p.set_defaults(func=run)


def benchmarks_dir() -> Path:
    folder = Path(__file__).resolve().parents[2] / "benchmarks"
    if not (folder / "__main__.py").is_file():
        raise UserError(f"{folder}: no benchmarks folder here; `roadstudio-cli bench` runs from a source "
                        "checkout of Road Studio")
    return folder


def run(args: argparse.Namespace) -> int:
    folder = benchmarks_dir()
    cmd = [sys.executable, "-m", "benchmarks"]
    if args.quick:
        cmd.append("--quick")
    if args.only:
        cmd += ["--only", *args.only]
    if args.write_docs:
        cmd.append("--write-docs")
    if args.list:
        cmd.append("--list")
    return subprocess.call(cmd, cwd=folder.parent)
