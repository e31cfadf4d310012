"""`roadstudio-cli cluster-script`: the exact torchrun and Slurm command lines for a run.

    roadstudio-cli cluster-script runs/demo --nproc-per-node 4            # continue a run on 4 GPUs
    roadstudio-cli cluster-script --config big.toml --run-dir runs/big --nnodes 2 --nproc-per-node 8 --out cluster/

Prints the torchrun line and the sbatch script; with --out DIR also writes DIR/torchrun.sh and
DIR/train.sbatch. Nothing is started. Guide: docs/distributed.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.io.atomic import atomic_write_text
from core.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "cluster-script", help="print/write the torchrun and Slurm command lines for a run",
        description="The torchrun command line and a Slurm sbatch script that train a run on several GPUs "
                    "or machines (docs/distributed.md). A RUN_DIR is continued; --config RUN.toml starts a new run "
                    "in --run-dir that a restarted or requeued job continues.")
    p.add_argument("run", nargs="?", type=Path, metavar="RUN_DIR", help="an existing run folder to continue")
    p.add_argument("--config", type=Path, metavar="RUN.toml", help="start a new run from this configuration")
    p.add_argument("--run-dir", type=Path, metavar="DIR", help="with --config: the run folder (default runs/<name>)")
    p.add_argument("--nproc-per-node", type=int, default=1, metavar="N", help="processes (GPUs) per machine")
    p.add_argument("--nnodes", type=int, default=1, metavar="N", help="machines")
    p.add_argument("--rdzv-endpoint", default="HEAD_NODE_HOSTNAME:29500", metavar="HOST:PORT",
                   help="multi-node rendezvous for the plain torchrun line (Slurm finds its head node itself)")
    p.add_argument("--max-restarts", type=int, default=3, metavar="N",
                   help="torchrun restarts after a failed process (each continues from the last checkpoint)")
    p.add_argument("--time", default="24:00:00", metavar="HH:MM:SS", help="Slurm time limit")
    p.add_argument("--partition", metavar="NAME", help="Slurm partition")
    p.add_argument("--cpus-per-process", type=int, default=8, metavar="N", help="CPU cores per GPU process")
    p.add_argument("--venv", type=Path, metavar="DIR", help="virtual environment the Slurm job activates")
    p.add_argument("--out", type=Path, metavar="DIR", help="also write DIR/torchrun.sh and DIR/train.sbatch")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.train.distributed import cluster_commands  # torch import: only here

    if (args.run is None) == (args.config is None):
        raise UserError("give either a run folder (RUN_DIR) or --config RUN.toml")
    if args.run is not None and args.run_dir is not None:
        raise UserError("--run-dir goes with --config; a RUN_DIR is continued in place")
    cmds = cluster_commands(args.run if args.run is not None else args.config, args.nproc_per_node, args.nnodes,
                            run_dir=args.run_dir, rdzv_endpoint=args.rdzv_endpoint, max_restarts=args.max_restarts,
                            time_limit=args.time, partition=args.partition,
                            cpus_per_process=args.cpus_per_process, venv=args.venv)
    print("# torchrun (run on each machine):")
    print(cmds.torchrun)
    print()
    print("# Slurm (sbatch FILE):")
    print(cmds.slurm_script, end="")
    if args.out is not None:
        torchrun_sh = args.out / "torchrun.sh"
        sbatch = args.out / "train.sbatch"
        atomic_write_text(torchrun_sh, "#!/bin/bash\nset -euo pipefail\n" + cmds.torchrun + "\n")
        atomic_write_text(sbatch, cmds.slurm_script)
        for path in (torchrun_sh, sbatch):
            path.chmod(0o755)
        print(f"wrote {torchrun_sh} and {sbatch}", file=sys.stderr)
    return 0
