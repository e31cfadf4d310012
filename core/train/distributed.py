"""Training on many processes with PyTorch's own stack: `torchrun` starts one process per GPU (or
per CPU slot), each runs the unchanged `roadstudio-cli train`, and this module supplies what
differs when there is more than one of them (docs/distributed.md is the user's guide).

- The process group: NCCL when this rank trains on CUDA, Gloo otherwise, from the torchrun
  environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT or the elastic agent's store).
- DistributedDataParallel for G and D (and SyncBatchNorm when asked). The pix2pix step calls D
  three times: twice through DDP in the D step (fake and real, one backward: DDP all-reduces D's
  gradients once), and once in the G step through the *local* module (`local_module`), because D
  is frozen there: DDP would wait for gradients that never come ("Expected to have finished
  reduction ..."). G runs once through DDP; its backward in the G step all-reduces G's gradients.
  No parameter is ever unused in a DDP backward, so `find_unused_parameters` (a graph walk every
  step) is not needed.
- Agreement between ranks: the step's losses are averaged over ranks (what is logged is the
  global batch's loss, and one rank's NaN makes every rank stop at the same step), and a stop
  request (SIGTERM, Ctrl+C) on any rank stops all of them at the same step boundary.
- A world-size independent resume position (`rescale_consumed`, `planned_total_steps`).
- Auto-resume after a torchrun restart (`start_mode`) and the command lines for a cluster
  (`cluster_commands`, also `roadstudio-cli cluster-script`).
"""

from __future__ import annotations

import math
import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from core.io.atomic import atomic_write_text
from core.config import RunConfig, dumps_toml, load_run_config, to_dict
from core.errors import ConfigError, UserError
from core.train.dist_env import DistEnv
from core.train.peer_watch import PeerWatch, connect_store, peer_timeout_s

#: Test hook: the highest rank dies (os._exit(1)) just before this optimizer step, on the first
#: torchrun attempt only, so `--max-restarts` has something to restart.
CRASH_ENV = "ROADSTUDIO_CRASH_AT_STEP"
#: torchrun sets this to the number of times it has restarted the workers of this job.
RESTART_COUNT_ENV = "TORCHELASTIC_RESTART_COUNT"
#: torchrun's job id (the rendezvous id; a random one with --standalone); the same for restarts.
RUN_ID_ENV = "TORCHELASTIC_RUN_ID"
#: Rank 0 writes the torchrun job id of a new run here, so a restart of *that* job resumes it and
#: nothing else does.
LAUNCH_FILE = "torchrun_job.txt"
# Long enough for rank 0 to check a large dataset or write a big checkpoint while the other
# ranks wait in a collective; short enough that a hung job still dies the same day. A dead or
# frozen peer is noticed much sooner by the heartbeats of core.train.peer_watch.
PROCESS_GROUP_TIMEOUT = timedelta(minutes=30)
#: Overrides PROCESS_GROUP_TIMEOUT (seconds), e.g. for a job whose rank 0 needs longer alone.
PROCESS_GROUP_TIMEOUT_ENV = "ROADSTUDIO_DIST_TIMEOUT_S"

_peer_watch: PeerWatch | None = None


def process_group_timeout(environ: Mapping[str, str] | None = None) -> timedelta:
    raw = (os.environ if environ is None else environ).get(PROCESS_GROUP_TIMEOUT_ENV)
    try:
        seconds = float(raw) if raw else 0.0
    except ValueError:
        raise ConfigError(f"{PROCESS_GROUP_TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    return timedelta(seconds=seconds) if seconds > 0 else PROCESS_GROUP_TIMEOUT


# ------------------------------------------------------------------------------ process group


def backend_for(device: torch.device) -> str:
    """NCCL for CUDA tensors, Gloo for CPU tensors (NCCL cannot reduce CPU tensors, Gloo is
    slow on GPUs)."""
    return "nccl" if device.type == "cuda" else "gloo"


def init_process_group(env: DistEnv, device: torch.device) -> bool:
    """Join torchrun's process group when there is more than one process. Returns True when this
    call created the group (the caller destroys it at the end). Ends with a barrier: once it
    returns, every rank has passed its own start-up checks (e.g. "this run folder already holds a
    run"), so rank 0 may start writing files."""
    if not env.distributed:
        return False
    if not dist.is_available():
        raise ConfigError(f"WORLD_SIZE={env.world_size}, but this PyTorch build has no torch.distributed")
    if dist.is_initialized():
        return False  # the caller's group (e.g. a script that set one up itself)
    if not (os.environ.get("MASTER_ADDR") and os.environ.get("MASTER_PORT")):
        raise ConfigError(f"WORLD_SIZE={env.world_size} but MASTER_ADDR / MASTER_PORT are not set: start several "
                          "processes with torchrun (docs/distributed.md), or unset WORLD_SIZE for one process")
    if device.type == "mps":
        raise ConfigError("torchrun with Apple MPS is not supported by PyTorch's distributed backends; "
                          "use --device cpu")
    # torchrun keeps one key-value store for all restarts of a job, and the process group's keys
    # (each rank's address, NCCL's unique id) have the same names in every attempt: a restarted
    # rank could read the dead attempt's values and hang connecting to them. A prefix per attempt
    # keeps every attempt to its own keys.
    timeout = process_group_timeout()
    store, rank, world_size = next(dist.rendezvous("env://", timeout=timeout))
    attempt = f"roadstudio/attempt_{os.environ.get(RESTART_COUNT_ENV, '0')}"
    store = dist.PrefixStore(attempt, store)
    if device.type == "cuda":
        torch.cuda.set_device(device)  # before NCCL: each rank owns cuda:LOCAL_RANK
        dist.init_process_group(backend="nccl", store=store, rank=rank, world_size=world_size,
                                timeout=timeout, device_id=device)
    else:
        dist.init_process_group(backend="gloo", store=store, rank=rank, world_size=world_size,
                                timeout=timeout)
    barrier(device)
    _start_peer_watch(f"{attempt}/peers/", rank, world_size)
    return True


def _start_peer_watch(prefix: str, rank: int, world_size: int) -> None:
    global _peer_watch
    timeout_s = peer_timeout_s()
    _peer_watch = PeerWatch(connect_store(prefix, timeout_s), rank, world_size, timeout_s)
    _peer_watch.start()


def explain_failure(exc: BaseException) -> str | None:
    """For a collective that failed (a RuntimeError from Gloo / NCCL / DDP) in a distributed run:
    the one-line message naming the lost rank, once the heartbeats tell (None otherwise)."""
    if _peer_watch is None or not isinstance(exc, RuntimeError):
        return None
    return _peer_watch.explain()


def destroy_process_group() -> None:
    global _peer_watch
    if _peer_watch is not None:
        _peer_watch.stop()  # first: a rank that ends normally is not a lost peer
        _peer_watch = None
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier(device: torch.device) -> None:
    if not (dist.is_available() and dist.is_initialized()):
        return
    if device.type == "cuda":
        dist.barrier(device_ids=[device.index if device.index is not None else torch.cuda.current_device()])
    else:
        dist.barrier()


# ------------------------------------------------------------------------------------- models


def wrap_ddp(model: torch.nn.Module, device: torch.device, *, sync_bn: bool) -> torch.nn.Module:
    """DistributedDataParallel around `model` (already on `device`, optimizer already built:
    SyncBatchNorm conversion keeps the very same Parameter objects, so the optimizer stays valid
    and state_dict keys do not change). DDP broadcasts rank 0's parameters and buffers now, so
    every rank starts from the same weights, and rank 0's buffers again before each forward
    (BatchNorm running statistics follow rank 0 unless sync_bn)."""
    if sync_bn:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    if device.type == "cuda":
        return DistributedDataParallel(model, device_ids=[device.index], output_device=device.index)
    return DistributedDataParallel(model)


def sync_bn_usable(asked: bool, env: DistEnv, device: torch.device) -> tuple[bool, list[str]]:
    """SyncBatchNorm only means something with several processes, and PyTorch implements it for
    GPUs only (on CPU its forward raises)."""
    if not asked or not env.distributed:
        return False, []
    if device.type != "cuda":
        return False, [f"sync_bn is only supported on CUDA; ignored on {device.type} "
                       "(each process normalises with its own batch)"]
    return True, []


def local_module(model: torch.nn.Module) -> torch.nn.Module:
    """The module under DDP (still compiled, if it was): for calls whose backward must not go
    through DDP's gradient reducer, such as the frozen D in the G step."""
    return model.module if isinstance(model, DistributedDataParallel) else model


# ---------------------------------------------------------------------------------- agreement


def _group_active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def mean_over_ranks(values: torch.Tensor) -> torch.Tensor:
    """Average a small tensor over all ranks (identity in a single process). Used for the step's
    losses: equal shard sizes make it the loss of the global batch, and a NaN anywhere reaches
    every rank, so all of them stop at the same step."""
    if not _group_active():
        return values
    reduced = values.clone()
    dist.all_reduce(reduced, op=dist.ReduceOp.SUM)
    return reduced / dist.get_world_size()


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when `flag` is True on at least one (identity in a single process)."""
    if not _group_active():
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def crash_for_test(step_number: int, env: DistEnv, environ: Mapping[str, str] | None = None) -> None:
    """Test hook (CRASH_ENV): kill the highest rank before `step_number`, first attempt only."""
    e = os.environ if environ is None else environ
    at = e.get(CRASH_ENV)
    if (at and int(at) == step_number and env.rank == env.world_size - 1
            and e.get(RESTART_COUNT_ENV, "0") == "0"):
        sys.stderr.write(f"{CRASH_ENV}: rank {env.rank} exits before step {step_number}\n")
        sys.stderr.flush()
        os._exit(1)


# ------------------------------------------------------------------------------ resume position


def rescale_consumed(consumed: int, saved_world: int, world: int, length: int) -> int:
    """Samples of the current epoch each of `world` ranks skips, when a checkpoint written by
    `saved_world` ranks that had each used `consumed` samples of the epoch is resumed.

    The epoch's order is one seeded permutation (padded to a multiple of the world size); rank r
    takes positions r, r + world, ... So `consumed × saved_world` leading positions are done, and
    with the new world size rank r continues at position start × world + r. When that does not
    divide, it rounds down: up to world - 1 samples of that epoch are seen a second time, none is
    skipped. A finished epoch stays finished."""
    if saved_world == world:
        return consumed
    per_rank = math.ceil(length / world)
    done = min(consumed * saved_world, length)
    if done >= length:
        return per_rank
    return done // world


def planned_total_steps(step: int, epoch: int, consumed: int, per_rank: int, batch_size: int,
                        total_epochs: int) -> int:
    """Optimizer steps at the end of the run, counted from the resume position: the steps left
    in this epoch plus whole epochs after it. With an unchanged world size this equals
    steps_per_epoch × total_epochs; after a world-size change the steps already done were of a
    different size, so the plan has to be counted forward from here."""
    steps_per_epoch = math.ceil(per_rank / batch_size)
    this_epoch = math.ceil(max(0, per_rank - consumed) / batch_size)
    return step + this_epoch + steps_per_epoch * max(0, total_epochs - epoch - 1)


# -------------------------------------------------------------------------- run config, restarts


def run_config_text(cfg: RunConfig) -> str:
    """config.toml with the effective batch size and learning rate written as a header comment
    (they follow from world_size, train.batch_size and train.lr; comments keep the file loadable
    by every reader that knows only the settings)."""
    t = cfg.train
    header = [
        "# Road Studio run configuration",
        f"# effective batch size per optimizer step: {cfg.effective_batch_size} "
        f"(train.batch_size {t.batch_size} x world_size {cfg.world_size} processes)",
        f"# learning rate: {t.lr:g} (train.lr, used as written: not scaled with the world size)",
    ]
    return "\n".join(header) + "\n" + dumps_toml(to_dict(cfg))


def write_run_config(cfg: RunConfig, path: Path) -> None:
    atomic_write_text(path, run_config_text(cfg))


def torchrun_job_id(environ: Mapping[str, str] | None = None) -> str | None:
    e = os.environ if environ is None else environ
    return e.get(RUN_ID_ENV) if RESTART_COUNT_ENV in e else None


def record_launch(run_dir: Path, environ: Mapping[str, str] | None = None) -> None:
    """Rank 0 of a new run started by torchrun notes the torchrun job id in the run folder."""
    job = torchrun_job_id(environ)
    if job is not None and DistEnv.from_env(environ).is_main:
        atomic_write_text(run_dir / LAUNCH_FILE, job + "\n")


def is_restart_of(run_dir: Path, environ: Mapping[str, str] | None = None) -> bool:
    """True when torchrun restarted the workers of the job that started the run in `run_dir`."""
    e = os.environ if environ is None else environ
    job = torchrun_job_id(e)
    try:
        restarts = int(e.get(RESTART_COUNT_ENV, "0"))
    except ValueError:
        return False
    if job is None or restarts < 1:
        return False
    try:
        return (run_dir / LAUNCH_FILE).read_text(encoding="utf-8").strip() == job
    except OSError:
        return False


def start_mode(run_dir: Path, *, resume_if_exists: bool, environ: Mapping[str, str] | None = None) -> str:
    """How `roadstudio-cli train --run-dir DIR` starts: "new" when DIR holds no run yet;
    "resume" when it does and either --resume-if-exists was given (Slurm requeues, re-submitted
    jobs) or this process is a torchrun restart (--max-restarts) of the job that started it.
    Otherwise the folder is someone else's run: a UserError, as before."""
    if not (run_dir / "config.toml").exists():
        return "new"
    if resume_if_exists or is_restart_of(run_dir, environ):
        return "resume"
    raise UserError(f"{run_dir} already holds a run; continue it with `roadstudio-cli train --resume {run_dir}` "
                    "(or --resume-if-exists) or choose another --run-dir")


# ------------------------------------------------------------------------- cluster commands


@dataclass(frozen=True)
class ClusterCommands:
    """The exact command lines to run a training on a cluster (see `cluster_commands`)."""

    torchrun: str  # one shell command line; run it on every node (nnodes > 1: same line on each)
    slurm_script: str  # a complete sbatch script (text), submitted with `sbatch FILE`
    train_args: tuple[str, ...]  # the `roadstudio-cli train` arguments both use


def _q(value: str | Path) -> str:
    return shlex.quote(str(value))


def cluster_commands(run_dir_or_cfg: str | Path | RunConfig, nproc_per_node: int = 1, nnodes: int = 1, *,
                     run_dir: str | Path | None = None, config_path: str | Path | None = None,
                     rdzv_endpoint: str = "HEAD_NODE_HOSTNAME:29500", rdzv_port: int = 29500,
                     max_restarts: int = 3, job_name: str | None = None, time_limit: str = "24:00:00",
                     partition: str | None = None, cpus_per_process: int = 8,
                     venv: str | Path | None = None) -> ClusterCommands:
    """torchrun and Slurm command lines for a run (no files are written; Qt-free, for the
    training panel and `roadstudio-cli cluster-script`).

    run_dir_or_cfg:
      - a run folder (holds config.toml): the commands continue it (`train --resume DIR`; on any
        number of processes; a run folder with a config but no checkpoint starts at step 0);
      - a RUN.toml file: the commands start a new run from it in `run_dir` (default runs/<name>),
        with --resume-if-exists so a restarted or requeued job continues instead of failing;
      - a RunConfig: as a RUN.toml that the caller saves at `config_path` (required).
    nproc_per_node: processes (GPUs) per machine; nnodes: machines. Paths are made absolute (the
    cluster is assumed to see the same file system). rdzv_endpoint is used for a plain multi-node
    torchrun line; the Slurm script finds the head node itself.
    """
    if nproc_per_node < 1 or nnodes < 1:
        raise ConfigError("nproc_per_node and nnodes must be at least 1")
    if max_restarts < 0:
        raise ConfigError("max_restarts must be >= 0")
    name, train_args = _train_args(run_dir_or_cfg, run_dir, config_path)
    job = job_name or f"roadstudio-{name}"
    restarts = f"--max-restarts={max_restarts}"
    if nnodes == 1:
        launcher = ["torchrun", "--standalone", f"--nproc-per-node={nproc_per_node}", restarts]
    else:
        launcher = ["torchrun", f"--nnodes={nnodes}", f"--nproc-per-node={nproc_per_node}",
                    "--rdzv-backend=c10d", f"--rdzv-endpoint={rdzv_endpoint}", f"--rdzv-id={job}", restarts]
    # `-m core` is `roadstudio-cli` run by the Python that torchrun itself runs under.
    torchrun = " ".join([*launcher, "-m", "core", "train", *(_q(a) for a in train_args)])
    slurm = _slurm_script(job, train_args, nproc_per_node, nnodes, max_restarts, time_limit, partition,
                          cpus_per_process, rdzv_port, venv)
    return ClusterCommands(torchrun=torchrun, slurm_script=slurm, train_args=tuple(train_args))


def _train_args(source: str | Path | RunConfig, run_dir: str | Path | None,
                config_path: str | Path | None) -> tuple[str, list[str]]:
    if isinstance(source, RunConfig):
        if config_path is None:
            raise ConfigError("cluster_commands needs config_path: where the RunConfig is saved for the cluster")
        cfg, toml = source, Path(config_path).absolute()
    else:
        path = Path(source)
        if path.is_dir():
            if not (path / "config.toml").is_file():
                raise UserError(f"{path} is not a Road Studio run folder (no config.toml)")
            cfg = load_run_config(path / "config.toml")
            return cfg.name, ["--resume", str(path.absolute())]
        if not path.is_file():
            raise UserError(f"{path}: no such run folder or config file")
        cfg, toml = load_run_config(path), path.absolute()
    target = Path(run_dir) if run_dir is not None else Path("runs") / cfg.name
    return cfg.name, ["--config", str(toml), "--run-dir", str(target.absolute()), "--resume-if-exists"]


def _slurm_script(job: str, train_args: list[str], nproc: int, nnodes: int, max_restarts: int, time_limit: str,
                  partition: str | None, cpus_per_process: int, port: int, venv: str | Path | None) -> str:
    args = " ".join(_q(a) for a in train_args)
    log_dir = "slurm-logs"
    partition_line = f"#SBATCH --partition={partition}\n" if partition else ""
    activate = (f"source {_q(Path(venv) / 'bin' / 'activate')}" if venv is not None
                else "# source /path/to/venv/bin/activate   # the environment roadstudio is installed in")
    return f"""#!/bin/bash
# Road Studio: pix2pix training on {nnodes} node(s) x {nproc} GPU(s) with torchrun (docs/distributed.md).
# Submit with: mkdir -p {log_dir} && sbatch THIS_FILE
#SBATCH --job-name={job}
#SBATCH --nodes={nnodes}
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node={nproc}
#SBATCH --cpus-per-task={cpus_per_process * nproc}
#SBATCH --time={time_limit}
#SBATCH --output={log_dir}/%x-%j.out
#SBATCH --requeue
{partition_line}
set -euo pipefail
{activate}

# One torchrun per node (srun starts one task per node); torchrun starts one process per GPU.
# The first node of the allocation hosts the c10d rendezvous.
head_node=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
export OMP_NUM_THREADS={cpus_per_process}

# --resume-if-exists / --resume: a requeued job or a torchrun restart continues from the last
# checkpoint instead of starting over.
srun torchrun \\
    --nnodes="$SLURM_NNODES" --nproc-per-node={nproc} \\
    --rdzv-backend=c10d --rdzv-endpoint="$head_node:{port}" --rdzv-id="$SLURM_JOB_ID" \\
    --max-restarts={max_restarts} \\
    -m core train {args}
"""


__all__ = [
    "CRASH_ENV", "ClusterCommands", "any_rank", "backend_for", "barrier", "cluster_commands", "crash_for_test",
    "destroy_process_group", "explain_failure", "init_process_group", "process_group_timeout", "is_restart_of",
    "local_module", "mean_over_ranks",
    "planned_total_steps", "record_launch", "rescale_consumed", "run_config_text", "start_mode",
    "sync_bn_usable", "wrap_ddp", "write_run_config",
]
